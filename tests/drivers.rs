//! Tests of the driver analysis: conformance of the derived drivers with GDAL's tools
//! (`conformance/drivers/`), and the `rsei drivers` command end to end on a small synthetic case.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rsei_core::drivers::{distance_to_sources, slope_degrees};
use rsei_core::zonal::{self, PixelRule};
use rsei_core::{Crs, Raster};
use rsei_io::plain::read_plain;
use rsei_io::vector::{read_polygons, VectorOptions};

mod common;
use common::*;

fn conformance() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance").join("drivers")
}

/// Cell-for-cell comparison: the same nodata cells and values within `tol` (absolute + relative).
fn assert_same(what: &str, ours: &Raster<f32>, expected: &Raster<f32>, abs: f64, rel: f64) -> f64 {
    assert_eq!(ours.shape(), expected.shape(), "{what}: shape");
    let mut worst = 0f64;
    for (i, (&a, &b)) in ours.data().iter().zip(expected.data()).enumerate() {
        assert_eq!(a.is_nan(), b.is_nan(), "{what}: cell {i}: ours {a}, expected {b}");
        if a.is_nan() {
            continue;
        }
        let d = (f64::from(a) - f64::from(b)).abs();
        assert!(d <= abs + rel * f64::from(b).abs(), "{what}: cell {i}: ours {a}, expected {b}");
        worst = worst.max(d);
    }
    worst
}

/// Whether a GDAL command-line tool is installed (`--version` prints the version; some tools then
/// exit with 1 for the missing arguments, so only the output is checked).
fn gdal_tool(name: &str) -> bool {
    Command::new(name).arg("--version").output().map(|o| String::from_utf8_lossy(&o.stdout).contains("GDAL")).unwrap_or(false)
}

#[test]
fn slope_equals_gdaldem() {
    let dir = conformance();
    let dem = read_plain(&dir.join("dem.tif"), 1).unwrap();
    assert_eq!(dem.count_valid(), 36 * 44 - 5, "the DEM has 5 nodata cells");
    let ours = slope_degrees(&dem).unwrap();
    // the committed expected raster (gdaldem slope, GDAL 3.6.2)
    let expected = read_plain(&dir.join("slope_gdaldem.tif"), 1).unwrap();
    let worst = assert_same("slope vs slope_gdaldem.tif", &ours, &expected, 1e-4, 0.0);
    println!("slope: max |ours − gdaldem| = {worst:e}° over {} cells", expected.count_valid());
    // nodata: the outer ring, and every cell whose window touches a nodata cell:
    // (34 × 42 interior) − (4 × 4 around the 2 × 2 hole) − (3 × 3 around the single cell) = 1403
    assert_eq!(expected.count_valid(), 34 * 42 - 16 - 9);
    // and the installed gdaldem, if any, on the same DEM
    if gdal_tool("gdaldem") {
        let tmp = TempDir::new("gdaldem");
        let out = tmp.path().join("slope.tif");
        let st = Command::new("gdaldem").args(["slope", "-q"]).arg(dir.join("dem.tif")).arg(&out).status().unwrap();
        assert!(st.success());
        let live = read_plain(&out, 1).unwrap();
        assert_same("slope vs gdaldem (run now)", &ours, &live, 1e-4, 0.0);
    } else {
        println!("gdaldem not installed: compared with the committed conformance/drivers/slope_gdaldem.tif only");
    }
}

#[test]
fn mine_distance_equals_gdal_proximity() {
    let dir = conformance();
    let burn = read_plain(&dir.join("mines_burn.tif"), 1).unwrap();
    let grid = burn.grid().clone();
    assert_eq!(grid.shape(), (60, 70));
    let crs = Crs::new("EPSG:32650");
    let mines = read_polygons(&dir.join("mines.geojson"), &VectorOptions::new(crs)).unwrap();
    assert_eq!(mines.features.len(), 9);
    // mine cells by the pixel-centre rule equal gdal_rasterize's burn, cell for cell
    let grid = grid.with_crs(mines.crs.clone());
    let mut sources = vec![false; grid.len()];
    let mut without_centre = 0;
    for f in &mines.features {
        let c = zonal::coverage(&grid, &f.geometry, PixelRule::Centre).unwrap();
        let cells: Vec<_> = c.iter().flat_map(|c| c.iter().collect::<Vec<_>>()).collect();
        if cells.is_empty() {
            without_centre += 1;
        }
        for (r, col, _) in cells {
            sources[grid.index(r, col)] = true;
        }
    }
    assert_eq!(without_centre, 2, "the tiny mine and the 0.6 km² one hold no cell centre");
    let burned: Vec<bool> = burn.data().iter().map(|&v| v == 1.0).collect();
    assert_eq!(sources, burned, "mine cells differ from gdal_rasterize");
    // distances: exact EDT vs gdal_proximity.py -distunits GEO
    let ours = distance_to_sources(&grid, &sources).unwrap();
    let expected = read_plain(&dir.join("proximity_gdal.tif"), 1).unwrap();
    let worst = assert_same("DisM vs proximity_gdal.tif", &ours, &expected, 1e-3, 1e-6);
    println!("DisM: max |ours − gdal_proximity| = {worst:e} m; largest distance {} m", expected.data().iter().fold(0f32, |a, &b| a.max(b)));
    assert!(expected.data().iter().any(|&d| d > 20_000.0), "the test covers long distances");
}

// ---------------------------------------------------------------------------------------------
// End to end
// ---------------------------------------------------------------------------------------------

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Uniform in [0, 1) from a hash of (key, i).
fn hash01(key: u64, i: usize) -> f64 {
    (splitmix(key ^ splitmix(i as u64)) >> 11) as f64 / (1u64 << 53) as f64
}

/// Mine squares (lon, lat of the centre), about 1.3 × 1.3 km.
const MINES: [(f64, f64); 5] = [(116.70, 39.55), (116.86, 39.66), (116.78, 39.49), (117.10, 39.52), (117.26, 39.65)];

/// Km from (lon, lat) to the nearest mine centre (equirectangular at 39.6° N), minus the mine's half width.
fn dist_mine_km(lon: f64, lat: f64) -> f64 {
    MINES
        .iter()
        .map(|&(a, b)| (((lon - a) * 85.7).powi(2) + ((lat - b) * 111.2).powi(2)).sqrt() - 0.65)
        .fold(f64::INFINITY, f64::min)
        .max(0.0)
}

/// Elevation (m): mountains north of 39.6° N.
fn elevation(lon: f64, lat: f64) -> f64 {
    120.0 + 900.0 / (1.0 + (-(lat - 39.6) / 0.04).exp()) + 40.0 * (lon * 60.0).sin()
}

/// The synthetic case shared by the end-to-end tests: two square areas "A" and "B" near 117° E,
/// 39.6° N; RSEI (sinusoidal 500 m, as `rsei compute` writes it) = 0.1 + 0.5·(1 − e^(−d/3 km)) +
/// 0.3·elevation/1000 + noise, d = distance to the mines; a DEM in lon/lat; mines; a GDP raster
/// peaking at each area's centre in UTM; a pure-noise driver; a constant driver.
struct Case {
    root: PathBuf,
}

impl Case {
    fn p(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
}

fn write_f32(path: &Path, grid: rsei_core::Grid, values: Vec<f32>) {
    let o = rsei_io::WriteOptions::continuous().with_format(rsei_io::RasterFormat::GTiff);
    rsei_io::write_raster(path, &Raster::new(grid, values).unwrap(), &o).unwrap();
}

/// A raster in `crs` at `res` over lon 116.45..117.55, lat 39.35..39.85, valued by `f(lon, lat, i)`.
fn lonlat_raster(path: &Path, crs: &str, res: f64, f: impl Fn(f64, f64, usize) -> f64) {
    let crs = rsei_io::crs::normalize_crs(&Crs::new(crs)).unwrap();
    let b = rsei_io::warp::transform_bounds(&rsei_core::Bounds::new(116.45, 39.35, 117.55, 39.85), &Crs::new("EPSG:4326"), &crs).unwrap();
    let grid = rsei_core::drivers::aligned_grid(&b, &crs, res).unwrap();
    let centres: Vec<(f64, f64)> = (0..grid.len()).map(|i| grid.cell_center(i / grid.cols(), i % grid.cols())).collect();
    let ll = rsei_io::crs::reproject_points(&centres, &crs, &Crs::new("EPSG:4326")).unwrap();
    let v = ll.iter().enumerate().map(|(i, &(lon, lat))| f(lon, lat, i) as f32).collect();
    write_f32(path, grid, v);
}

fn square(lon0: f64, lat0: f64, lon1: f64, lat1: f64) -> String {
    format!("[[[{lon0},{lat0}],[{lon1},{lat0}],[{lon1},{lat1}],[{lon0},{lat1}],[{lon0},{lat0}]]]")
}

fn case() -> &'static Case {
    static CASE: std::sync::OnceLock<Case> = std::sync::OnceLock::new();
    CASE.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("rsei-drivers-case-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let c = Case { root };
        let areas = format!(
            r#"{{"type":"FeatureCollection","features":[
{{"type":"Feature","properties":{{"name_en":"A"}},"geometry":{{"type":"Polygon","coordinates":{}}}}},
{{"type":"Feature","properties":{{"name_en":"B"}},"geometry":{{"type":"Polygon","coordinates":{}}}}}]}}"#,
            square(116.62, 39.44, 116.95, 39.72),
            square(117.02, 39.44, 117.35, 39.72)
        );
        std::fs::write(c.p("areas.geojson"), areas).unwrap();
        let mines: Vec<String> = MINES
            .iter()
            .map(|&(a, b)| format!(r#"{{"type":"Feature","properties":{{}},"geometry":{{"type":"Polygon","coordinates":{}}}}}"#, square(a - 0.0076, b - 0.0058, a + 0.0076, b + 0.0058)))
            .collect();
        std::fs::write(c.p("mines.geojson"), format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, mines.join(","))).unwrap();
        // RSEI on the MODIS sinusoidal grid, 500 m, for both areas
        let rsei = |lon: f64, lat: f64, i: usize| -> f64 {
            (0.1 + 0.5 * (1.0 - (-dist_mine_km(lon, lat) / 3.0).exp()) + 0.3 * elevation(lon, lat) / 1000.0 + 0.04 * (hash01(7, i) - 0.5)).clamp(0.0, 1.0)
        };
        let tmp = c.p("rsei_all.tif");
        lonlat_raster(&tmp, "+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs", 463.312_716_527_7, rsei);
        for a in ["A", "B"] {
            let d = c.p("rsei").join(a).join("2019");
            std::fs::create_dir_all(&d).unwrap();
            std::fs::copy(&tmp, d.join("rsei.tif")).unwrap();
        }
        lonlat_raster(&c.p("dem.tif"), "EPSG:4326", 0.004, |lon, lat, _| elevation(lon, lat));
        lonlat_raster(&c.p("gdp.tif"), "EPSG:32650", 1000.0, |lon, lat, _| {
            let d = |a: f64, b: f64| (((lon - a) * 85.7).powi(2) + ((lat - b) * 111.2).powi(2)).sqrt();
            800.0 * (-d(116.78, 39.58).min(d(117.18, 39.58)) / 6.0).exp() + 50.0
        });
        lonlat_raster(&c.p("noise.tif"), "EPSG:4326", 0.01, |_, _, i| hash01(99, i));
        lonlat_raster(&c.p("const.tif"), "EPSG:4326", 0.02, |_, _, _| 7.0);
        // a driver with NaN over the north-west of area A, and one far away
        lonlat_raster(&c.p("holes.tif"), "EPSG:4326", 0.01, |lon, lat, i| if lon < 116.7 && lat > 39.65 { f64::NAN } else { hash01(5, i) * 10.0 });
        lonlat_raster(&c.p("west.tif"), "EPSG:4326", 0.01, |lon, _, _| if lon < 116.78 { 1.0 + lon } else { f64::NAN });
        lonlat_raster(&c.p("east.tif"), "EPSG:4326", 0.01, |lon, _, _| if lon > 116.80 { 1.0 + lon } else { f64::NAN });
        let far = rsei_core::Grid::new(10, 10, rsei_core::GeoTransform::new(10.0, 0.1, 10.0, -0.1), Crs::new("EPSG:4326"));
        write_f32(&c.p("far.tif"), far, vec![1.0; 100]);
        c
    })
}

fn drivers_args(out: &Path, extra: &[&str]) -> Vec<String> {
    let c = case();
    let s = |p: PathBuf| p.display().to_string();
    let mut v = vec![
        "drivers".to_string(),
        "--rsei".into(),
        s(c.p("rsei")),
        "--area".into(),
        s(c.p("areas.geojson")),
        "--years".into(),
        "2019".into(),
        "--dem".into(),
        s(c.p("dem.tif")),
        "--mines".into(),
        s(c.p("mines.geojson")),
        "--driver".into(),
        format!("GDP={}", s(c.p("gdp.tif"))),
        "--driver".into(),
        format!("Noise={}:nearest", s(c.p("noise.tif"))),
        "--ntree".into(),
        "200".into(),
        "--out".into(),
        s(out.to_path_buf()),
    ];
    v.extend(extra.iter().map(|x| x.to_string()));
    v
}

fn run_drivers(threads: &str, out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<String> = vec!["--threads".into(), threads.into()];
    args.extend(drivers_args(out, extra));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    rsei(&refs)
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn drivers_command_end_to_end_and_thread_invariance() {
    let t = TempDir::new("e2e");
    let (a, b) = (t.path().join("t1"), t.path().join("t2"));
    let o1 = run_drivers("1", &a, &["--driver", &format!("Const={}", case().p("const.tif").display())]);
    assert!(o1.status.success(), "{}", text(&o1));
    let out = text(&o1);
    // the constant driver: a warning naming it, kept out of the forest
    assert!(out.contains("driver Const is constant (7)") && out.contains("kept out of the random forest"), "{out}");

    // every output is there
    let run = a.join("drivers");
    for f in ["driver_ranking.csv", "driver_ranking.json", "pearson_matrix.csv", "pearson.csv", "importance.csv", "rf_metrics.csv", "fig_correlation.svg", "fig_correlation.png", "fig_ranking.svg", "fig_ranking.png", "manifest.json"] {
        assert!(run.join(f).is_file(), "missing {f}");
    }
    for area in ["A", "B"] {
        let d = a.join(area).join("drivers");
        for f in [
            "stack.tif", "rsei.tif", "predicted.tif", "residual.tif", "drivers.csv", "pearson.csv", "pearson.json", "importance.csv", "importance.json", "rf_metrics.csv",
            "rf_metrics.json", "fig_importance.svg", "fig_importance.png", "fig_validation.svg", "fig_validation.png", "map_predicted.png", "map_residual.png",
            "summary.json", "manifest.json",
        ] {
            assert!(d.join(f).is_file(), "{area}: missing {f}");
        }
        // the stack holds one band per driver, named, on the 1 km Albers grid
        let stack_grid = rsei_io::plain::raster_grid(&d.join("stack.tif")).unwrap();
        assert!(stack_grid.crs().as_str().contains("+proj=aea") && stack_grid.cell_size() == (1000.0, 1000.0));
        assert_eq!(stack_grid.transform().x0 % 1000.0, 0.0, "origin on multiples of the cell size");
        let s = json(&d.join("summary.json"));
        let names: Vec<&str> = s["drivers"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["DEM", "Slope", "GDP", "Noise", "Const", "DisM", "MineA"]);
        for (k, n) in names.iter().enumerate() {
            let band = read_plain(&d.join("stack.tif"), k + 1).unwrap();
            assert!(band.count_valid() > 0, "band {n}");
        }
        // residual = observed − predicted
        let (o, p, r) = (read_plain(&d.join("rsei.tif"), 1).unwrap(), read_plain(&d.join("predicted.tif"), 1).unwrap(), read_plain(&d.join("residual.tif"), 1).unwrap());
        let mut checked = 0;
        for i in 0..o.data().len() {
            if !r.data()[i].is_nan() {
                assert!((r.data()[i] - (o.data()[i] - p.data()[i])).abs() < 1e-6);
                checked += 1;
            }
        }
        assert_eq!(checked, s["n_pixels"].as_u64().unwrap() as usize);
        // the forest explains the synthetic RSEI well
        let f = &s["forest"];
        assert!(f["var_explained_pct"].as_f64().unwrap() > 70.0 && f["r2"].as_f64().unwrap() > 0.7, "{f}");
        assert_eq!(f["ntree"], 200);
        // manifest: inputs with checksums, every output listed
        let m = json(&d.join("manifest.json"));
        let inputs = m["inputs"].as_array().unwrap();
        for must in ["rsei.tif", "dem.tif", "gdp.tif", "noise.tif", "const.tif", "mines.geojson", "areas.geojson"] {
            let i = inputs.iter().find(|x| x["path"].as_str().unwrap().ends_with(must)).unwrap_or_else(|| panic!("{area}: {must} not in the manifest"));
            assert_eq!(i["sha256"].as_str().unwrap().len(), 64);
        }
        let listed: Vec<String> = m["outputs"].as_array().unwrap().iter().map(|x| x["file"].as_str().unwrap().to_string()).collect();
        let present: Vec<String> = files_under(&d).iter().map(|p| p.display().to_string()).filter(|p| p != "manifest.json").collect();
        let mut l = listed.clone();
        l.sort();
        assert_eq!(l, present, "{area}: manifest outputs");
        assert_eq!(m["options"]["ntree"], 200);
        assert!(m["software"].as_str().unwrap().starts_with("rsei "));
    }
    let m = json(&run.join("manifest.json"));
    // rsei.tif of A and of B, dem, gdp, noise, const, mines, areas: each once
    assert_eq!(m["inputs"].as_array().unwrap().len(), 8, "{m}");

    // ranking: the distance to mines and the DEM made RSEI; noise and the constant did not
    let ranking = json(&run.join("driver_ranking.json"));
    let order: Vec<&str> = ranking.as_array().unwrap().iter().map(|r| r["driver"].as_str().unwrap()).collect();
    assert!(order[..3].contains(&"DisM") && order[..3].contains(&"DEM"), "{order:?}");
    assert!(order.iter().position(|&d| d == "Noise").unwrap() >= 3, "{order:?}");
    assert_eq!(*order.last().unwrap(), "Const");
    assert!(ranking.as_array().unwrap().last().unwrap()["mean_rank"].is_null());
    // Pearson: RSEI rises away from the mines
    let pm = std::fs::read_to_string(run.join("pearson_matrix.csv")).unwrap();
    let header: Vec<&str> = pm.lines().next().unwrap().split(',').collect();
    let k = header.iter().position(|&h| h == "DisM").unwrap();
    for line in pm.lines().skip(1) {
        let r: f64 = line.split(',').nth(k).unwrap().parse().unwrap();
        assert!(r > 0.3, "{line}");
    }

    // same seed ⇒ byte-identical outputs at 1 and 2 threads
    let o2 = run_drivers("2", &b, &["--driver", &format!("Const={}", case().p("const.tif").display())]);
    assert!(o2.status.success(), "{}", text(&o2));
    let (fa, fb) = (files_under(&a), files_under(&b));
    assert_eq!(fa, fb);
    for f in &fa {
        assert!(std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(), "{} differs between 1 and 2 threads", f.display());
    }
}

#[test]
fn bad_driver_inputs_are_named() {
    let t = TempDir::new("bad");
    let c = case();
    // a driver that does not overlap the study area: exit code 2, naming the driver and the file
    let o = run_drivers("2", &t.path().join("far"), &["--driver", &format!("Far={}", c.p("far.tif").display())]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("Far") && text(&o).contains("far.tif") && text(&o).contains("does not overlap"), "{}", text(&o));
    // NaNs inside the area: a note naming the driver and the count; the cells leave the sample
    let o = run_drivers("2", &t.path().join("holes"), &["--driver", &format!("Holes={}", c.p("holes.tif").display())]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("driver Holes") && text(&o).contains("have no value"), "{}", text(&o));
    let s = json(&t.path().join("holes").join("A").join("drivers").join("summary.json"));
    let holes = s["drivers"].as_array().unwrap().iter().find(|d| d["name"] == "Holes").unwrap().clone();
    assert!(holes["valid_inside"].as_u64() < holes["cells_inside"].as_u64());
    assert!(s["n_pixels"].as_u64().unwrap() <= holes["valid_inside"].as_u64().unwrap());
    // fewer samples than nodesize
    let o = run_drivers("2", &t.path().join("nodesize"), &["--nodesize", "100000"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("nodesize 100000") && text(&o).contains("\"A\""), "{}", text(&o));
    // a year without RSEI
    let mut args = drivers_args(&t.path().join("year"), &[]);
    let k = args.iter().position(|a| a == "2019").unwrap();
    args[k] = "2020".into();
    let o = rsei(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("2020") && text(&o).contains("rsei.tif") && text(&o).contains("2019"), "{}", text(&o));
    // no pixel where every driver is valid: West has values only west of 116.78° E, East only east
    // of 116.80° E, and area A spans both
    let o = run_drivers(
        "2",
        &t.path().join("disjoint"),
        &["--driver", &format!("West={}", c.p("west.tif").display()), "--driver", &format!("East={}", c.p("east.tif").display())],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no pixel where RSEI and every driver are valid") && text(&o).contains("\"A\""), "{}", text(&o));
    // usage errors: a derived driver's name taken, several years
    let o = rsei(&["drivers", "--rsei", "x", "--area", "y", "--years", "2019", "--driver", "Slope=a.tif", "--dem", "d.tif"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("Slope") && text(&o).contains("--dem"), "{}", text(&o));
    let o = rsei(&["drivers", "--rsei", "x", "--area", "y", "--years", "2018-2019", "--dem", "d.tif"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("one year"), "{}", text(&o));
    // nothing written for failed runs
    assert!(!t.path().join("far").join("drivers").join("manifest.json").exists());
}
