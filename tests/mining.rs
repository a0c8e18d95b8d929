//! End-to-end tests of the mining analysis (`rsei mining`) on a small synthetic archive: RSEI is
//! computed once (target years 2019 and 2020) and shared by the tests; every test writes its own
//! outputs in its own temporary folder.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use serde_json::Value;

mod common;
use common::*;

/// The synthetic archive (seasons 2018–2021) and the RSEI computed from it for 2019 and 2020:
/// (archive folder, compute output folder).
fn fixture() -> &'static (PathBuf, PathBuf) {
    static F: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    F.get_or_init(|| {
        remove_stale_fixtures("rsei-mining-fixture-");
        let root = std::env::temp_dir().join(format!("rsei-mining-fixture-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let data = root.join("data");
        rsei_pipeline::demo::archive::generate_years(&data, 42, 2018, 2021).expect("generating the synthetic archive");
        let out = root.join("rsei");
        let o = rsei(&[
            "--quiet",
            "compute",
            "--data",
            &data.join("modis").display().to_string(),
            "--area",
            &data.join("vectors/city.geojson").display().to_string(),
            "--years",
            "2019-2020",
            "--out",
            &out.display().to_string(),
            "--landcover",
            &data.join("landcover/MCD12Q1.A2020001.synthetic.061_LC_Type1.tif").display().to_string(),
            "--water-classes",
            "17,11",
            "--where",
            DEMO_CITY,
            "--no-overviews",
        ]);
        assert!(o.status.success(), "compute failed: {}", stderr(&o));
        (data, out)
    })
}

fn data_dir() -> &'static Path {
    &fixture().0
}

fn rsei_dir() -> &'static Path {
    &fixture().1
}

const MINES_WHERE: &str = "\"Mine Type\" = 'mine boundary'";
/// The study area of these tests (the synthetic scene may hold further cities).
const DEMO_CITY: &str = "name_en = 'Demo City'";

/// `rsei [global] mining --rsei R --area city --mines M [extra] --out OUT`.
fn run_mining(global: &[&str], rsei_out: &Path, mines: &Path, out: &Path, extra: &[&str]) -> Output {
    let city = data_dir().join("vectors/city.geojson").display().to_string();
    let (r, m, o) = (rsei_out.display().to_string(), mines.display().to_string(), out.display().to_string());
    let mut args: Vec<&str> = global.to_vec();
    args.extend(["--quiet", "mining", "--rsei", &r, "--area", &city, "--where", DEMO_CITY, "--mines", &m, "--out", &o]);
    args.extend(extra);
    rsei(&args)
}

fn demo_mines() -> PathBuf {
    data_dir().join("vectors/mines.geojson")
}

/// (features, point features) of a GeoJSON file, counted from its text.
fn feature_counts(p: &Path) -> (usize, usize) {
    let v = json(p);
    let feats = v["features"].as_array().unwrap();
    (feats.len(), feats.iter().filter(|f| f["geometry"]["type"] == "Point").count())
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

const TABLES: [&str; 8] =
    ["mines_vs_city", "distributions", "rings", "rings_profile", "trend", "mines", "size_class_boxplots", "latitude_profile"];
const FIGURES: [&str; 6] = ["fig_density", "fig_means", "fig_distance", "fig_size_classes", "fig_latitude", "map_rsei_mines"];

#[test]
fn end_to_end_outputs_are_complete_plausible_and_thread_invariant() {
    let t = TempDir::new("e2e");
    let (a, b) = (t.path().join("t1"), t.path().join("t2"));
    let extra = ["--mines-where", MINES_WHERE, "--mine-id-field", "id", "--mine-name-field", "Mine Name"];
    let oa = run_mining(&["--threads", "1"], rsei_dir(), &demo_mines(), &a, &extra);
    assert!(oa.status.success(), "{}", stderr(&oa));
    let ob = run_mining(&["--threads", "2"], rsei_dir(), &demo_mines(), &b, &extra);
    assert!(ob.status.success(), "{}", stderr(&ob));

    // every table (CSV + JSON), figure (SVG + PNG), the summary and the manifest; nothing else
    let mut want: Vec<String> = Vec::new();
    for s in TABLES {
        want.push(format!("{s}.csv"));
        want.push(format!("{s}.json"));
    }
    for s in FIGURES {
        want.push(format!("{s}.png"));
        want.push(format!("{s}.svg"));
    }
    want.extend(["summary.json".to_string(), "manifest.json".to_string()]);
    want.sort();
    assert_eq!(files_in(&a), want);
    let mut known = rsei_pipeline::mining::known_outputs();
    known.push("manifest.json".into());
    known.sort();
    assert_eq!(known, want);
    for s in FIGURES {
        let png = std::fs::read(a.join(format!("{s}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{s}.png");
        let svg = std::fs::read_to_string(a.join(format!("{s}.svg"))).unwrap();
        assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"), "{s}.svg");
    }

    // byte-identical at one and two threads
    for name in &want {
        let (x, y) = (std::fs::read(a.join(name)).unwrap(), std::fs::read(b.join(name)).unwrap());
        assert!(x == y, "{name} differs between --threads 1 and --threads 2");
    }

    // mines vs city: mines degrade RSEI by construction of the synthetic city
    let mvc = json(&a.join("mines_vs_city.json"));
    let rows = mvc.as_array().unwrap();
    assert_eq!(rows.iter().map(|r| r["year"].as_i64().unwrap()).collect::<Vec<_>>(), vec![2019, 2020]);
    for r in rows {
        let (m, c) = (f(&r["mines_mean"]), f(&r["city_mean"]));
        assert!(m + 0.2 < c, "mines {m} vs city {c}");
        assert!((f(&r["abs_diff"]) - (c - m)).abs() < 2e-6, "{r}");
        assert!(r["mines_n"].as_i64().unwrap() > 10);
        // the city is the area RSEI was computed on (same polygon, same centre rule): the same cells
        // and the same mean as the compute run's own summary
        let year = r["year"].as_i64().unwrap();
        let s = json(&rsei_dir().join(format!("Demo_City/{year}/summary.json")));
        assert_eq!(r["city_n"].as_i64(), s["n_pixels"].as_i64(), "{year}");
        assert!((c - f(&s["rsei_mean"])).abs() < 1e-6, "{year}: {c} vs {}", s["rsei_mean"]);
    }

    // rings: ring 0 is the mines zone; the profile rises away from the mines near them
    let rings = json(&a.join("rings.json"));
    for r in rows {
        let year = r["year"].as_i64().unwrap();
        let r0 = rings.as_array().unwrap().iter().find(|x| x["ring"] == 0 && x["year"].as_i64() == Some(year)).unwrap();
        assert_eq!(r0["n"], r["mines_n"], "{year}");
        assert!((f(&r0["mean"]) - f(&r["mines_mean"])).abs() < 1e-6);
    }
    let prof = json(&a.join("rings_profile.json"));
    let means: Vec<f64> = prof.as_array().unwrap().iter().take(5).map(|r| f(&r["multi_year_mean"])).collect();
    assert!(means.windows(2).all(|w| w[0] < w[1]), "first five ring means must rise: {means:?}");
    assert_eq!((f(&prof[0]["distance"]), f(&prof[1]["distance"])), (0.0, 1.0));
    // multi-year mean of ring 1 = mean of its two yearly means (by hand from rings.json)
    let r1: Vec<f64> = rings.as_array().unwrap().iter().filter(|x| x["ring"] == 1).map(|x| f(&x["mean"])).collect();
    assert_eq!(r1.len(), 2);
    assert!((f(&prof[1]["multi_year_mean"]) - (r1[0] + r1[1]) / 2.0).abs() < 2e-6);

    // trend and summary
    let trend = json(&a.join("trend.json"));
    assert_eq!(trend[0]["degree"], 3);
    assert!(f(&trend[0]["r2"]) > 0.5, "{trend}");
    let summary = json(&a.join("summary.json"));
    let peak = f(&summary["peak_distance_km"]);
    assert!(peak >= 3.0, "the profile peaks away from the mines, got {peak} km");
    let n_mines = summary["mines_in_area"].as_u64().unwrap() as usize;
    assert!(n_mines >= 5, "{n_mines} mines");
    assert_eq!(summary["years"], serde_json::json!([2019, 2020]));
    let notes: Vec<&str> = summary["notes"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    let (total, points) = feature_counts(&demo_mines());
    assert!(points > 0);
    let skipped = format!("{points} of {total} feature(s) skipped by the filter");
    assert!(notes.iter().any(|n| n.contains(&skipped) && n.contains(&format!("({points} point)"))), "{notes:?}");
    assert!(stderr(&oa).contains(&skipped), "notes are printed: {}", stderr(&oa));

    // mines table: ten mines, every default size class present; a mean for both years in every
    // mine larger than a cell (0.215 km²) — smaller ones may hold no cell centre
    let mines = json(&a.join("mines.json"));
    let mines = mines.as_array().unwrap();
    assert_eq!(mines.len(), n_mines);
    assert!(mines.iter().all(|m| f(&m["area"]) > 0.0 && !m["name"].as_str().unwrap().is_empty()));
    let without: Vec<&Value> = mines.iter().filter(|m| !m["mean_2019"].is_number()).collect();
    assert!(mines.iter().filter(|m| f(&m["area"]) >= 0.25).all(|m| m["mean_2019"].is_number() && m["mean_2020"].is_number()));
    if !without.is_empty() {
        let note = notes.iter().find(|n| n.contains("without any RSEI value")).expect("a note names the mines without cells");
        assert!(without.iter().all(|m| note.contains(&format!("{} (", m["id"].as_str().unwrap()))), "{note}");
    }
    let classes: std::collections::BTreeSet<&str> = mines.iter().map(|m| m["size_class"].as_str().unwrap()).collect();
    assert_eq!(classes.len(), 5, "{classes:?}");
    let boxes = json(&a.join("size_class_boxplots.json"));
    assert_eq!(boxes.as_array().unwrap().len(), 10); // 5 classes × 2 years
    let n_mines_2019: i64 = boxes.as_array().unwrap().iter().filter(|b| b["year"] == 2019).map(|b| b["n_mines"].as_i64().unwrap()).sum();
    assert_eq!(n_mines_2019 as usize, n_mines - without.len());

    // latitude profile: bands of 0.05° with the mine counts adding up to the mines (by centroid)
    let lat = json(&a.join("latitude_profile.json"));
    let lat = lat.as_array().unwrap();
    assert!(lat.len() >= 4);
    assert!(lat.iter().all(|l| (f(&l["lat_north"]) - f(&l["lat_south"]) - 0.05).abs() < 1e-9));
    let counted: i64 = lat.iter().filter(|l| l["year"] == 2019).map(|l| l["mines"].as_i64().unwrap()).sum();
    assert!((n_mines as i64 - 2..=n_mines as i64).contains(&counted), "mines counted in the bands of the city: {counted}");
    // distributions: 50 bins and 101 KDE points per year and zone
    let d = json(&a.join("distributions.json"));
    let d = d.as_array().unwrap();
    assert_eq!(d.iter().filter(|r| r["kind"] == "histogram").count(), 2 * 2 * 50);
    assert_eq!(d.iter().filter(|r| r["kind"] == "kde").count(), 2 * 2 * 101);

    // manifest: inputs with checksums, options, version, and every output with its checksum
    let m = json(&a.join("manifest.json"));
    assert!(m["software"].as_str().unwrap().starts_with("rsei "));
    assert_eq!(m["options"]["ring_step_km"], 1.0);
    assert_eq!(m["options"]["rule"], "centre");
    assert_eq!(m["mines"]["filter"], MINES_WHERE);
    let inputs = m["inputs"].as_array().unwrap();
    for y in [2019, 2020] {
        for file in ["rsei.tif", "water.tif"] {
            let p = rsei_dir().join(format!("Demo_City/{y}/{file}"));
            let i = inputs.iter().find(|i| i["path"] == p.display().to_string()).unwrap_or_else(|| panic!("{} not in the manifest", p.display()));
            assert_eq!(i["sha256"], rsei_io::sha256_file(&p).unwrap());
        }
    }
    assert!(inputs.iter().any(|i| i["path"] == demo_mines().display().to_string()));
    assert!(inputs.iter().any(|i| i["path"].as_str().unwrap().ends_with("city.geojson")));
    let outputs = m["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), want.len() - 1, "every file but the manifest itself");
    for o in outputs {
        let p = a.join(o["file"].as_str().unwrap());
        assert_eq!(o["sha256"], rsei_io::sha256_file(&p).unwrap(), "{}", p.display());
    }
}

#[test]
fn both_pixel_rules_give_close_but_different_means() {
    let t = TempDir::new("rules");
    let mut means = Vec::new();
    for rule in ["centre", "coverage"] {
        let out = t.path().join(rule);
        let o = run_mining(&[], rsei_dir(), &demo_mines(), &out, &["--mines-where", MINES_WHERE, "--rule", rule, "--years", "2020"]);
        assert!(o.status.success(), "{rule}: {}", stderr(&o));
        let r = json(&out.join("mines_vs_city.json"));
        assert_eq!(json(&out.join("manifest.json"))["options"]["rule"], rule);
        means.push((f(&r[0]["mines_mean"]), f(&r[0]["city_mean"]), f(&r[0]["mines_weighted_n"])));
    }
    let ((mc, cc, wc), (mx, cx, wx)) = (means[0], means[1]);
    // mines: partial cells at the mine edges (higher RSEI than the pit centres) weigh in under the
    // coverage rule
    assert!((mc - mx).abs() > 1e-4 && (mc - mx).abs() < 0.05, "mines: centre {mc}, coverage {mx}");
    // the weighted cell count under coverage is the mines' area in cells (not an integer)
    assert!(wx.fract() != 0.0 && (wx - wc).abs() / wc < 0.5, "weighted n: centre {wc}, coverage {wx}");
    // city: only edge cells weigh differently
    assert!((cc - cx).abs() < 0.01, "city: centre {cc}, coverage {cx}");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The first mine's outer ring (lon, lat) from the demo layer.
fn first_mine_ring() -> Vec<(f64, f64)> {
    let v = json(&demo_mines());
    v["features"][0]["geometry"]["coordinates"][0].as_array().unwrap().iter().map(|p| (f(&p[0]), f(&p[1]))).collect()
}

fn assert_input_error(o: &Output, out: &Path, needles: &[&str]) {
    assert_eq!(o.status.code(), Some(2), "{}", stderr(o));
    let e = stderr(o);
    for n in needles {
        assert!(e.contains(n), "{n:?} not in: {e}");
    }
    assert!(!e.contains("panicked"), "{e}");
    assert!(!out.exists(), "no output may be written: {:?}", std::fs::read_dir(out).map(|d| d.count()));
}

#[test]
fn bad_mine_layers_are_clear_errors_or_warnings() {
    let t = TempDir::new("bad-mines");
    let out = t.path().join("out");

    // an empty layer
    let p = write(t.path(), "empty.geojson", r#"{"type":"FeatureCollection","features":[]}"#);
    let o = run_mining(&[], rsei_dir(), &p, &out, &[]);
    assert_input_error(&o, &out, &["mine layer", "empty.geojson", "no feature"]);

    // a layer whose only mine lies far outside the study area
    let p = write(
        t.path(),
        "far.geojson",
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":7},
           "geometry":{"type":"Polygon","coordinates":[[[10,10],[10.01,10],[10.01,10.01],[10,10.01],[10,10]]]}}]}"#,
    );
    let o = run_mining(&[], rsei_dir(), &p, &out, &[]);
    assert_input_error(&o, &out, &["none of the 1 mine polygon(s) lies inside the study area \"Demo City\""]);

    // a layer without CRS (CSV with a WKT column): refused, unless the CRS is stated
    let ring = first_mine_ring();
    let wkt: Vec<String> = ring.iter().map(|(x, y)| format!("{x} {y}")).collect();
    let p = write(t.path(), "nocrs.csv", &format!("id,WKT\n1,\"POLYGON(({}))\"\n", wkt.join(",")));
    let o = run_mining(&[], rsei_dir(), &p, &out, &[]);
    assert_input_error(&o, &out, &["nocrs.csv", "has no CRS"]);
    let o = run_mining(&[], rsei_dir(), &p, &out, &["--mines-crs", "EPSG:4326"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("assumed"), "{}", stderr(&o));
    std::fs::remove_dir_all(&out).unwrap();

    // a self-intersecting (bow-tie) mine over the first mine: repaired with a warning, analysed
    let (x0, x1) = ring.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (y0, y1) = ring.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let p = write(
        t.path(),
        "bowtie.geojson",
        &format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"name":"Bow"}},
               "geometry":{{"type":"Polygon","coordinates":[[[{x0},{y0}],[{x1},{y1}],[{x1},{y0}],[{x0},{y1}],[{x0},{y0}]]]}}}}]}}"#
        ),
    );
    let o = run_mining(&[], rsei_dir(), &p, &out, &["--mine-name-field", "name", "--years", "2019"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("(Bow)") && stderr(&o).contains("repaired"), "{}", stderr(&o));
    let s = json(&out.join("summary.json"));
    assert!(s["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("repaired")), "{s}");
    assert_eq!(s["mines_in_area"], 1);
    assert!(out.join("manifest.json").is_file());
}

#[test]
fn mismatched_year_grids_and_missing_results_are_clear_errors() {
    let t = TempDir::new("grids");
    let rdir = t.path().join("rsei");
    for y in ["2019", "2020"] {
        copy_dir(&rsei_dir().join("Demo_City").join(y), &rdir.join("Demo_City").join(y));
    }
    // 2020 shifted by one cell to the east
    let p20 = rdir.join("Demo_City/2020/rsei.tif");
    let r = rsei_io::plain::read_plain(&p20, 1).unwrap();
    let g = r.grid();
    let gt = g.transform();
    let shifted = rsei_core::Grid::new(g.rows(), g.cols(), rsei_core::GeoTransform::new(gt.x0 + gt.dx, gt.dx, gt.y0, gt.dy), g.crs().clone());
    let moved = rsei_core::Raster::new(shifted, r.data().to_vec()).unwrap();
    rsei_io::write_raster(&p20, &moved, &rsei_io::WriteOptions::default()).unwrap();
    let out = t.path().join("out");
    let o = run_mining(&[], &rdir, &demo_mines(), &out, &["--mines-where", MINES_WHERE]);
    assert_input_error(&o, &out, &["2019/rsei.tif", "2020/rsei.tif", "not on the same grid"]);
    // the same year alone is fine … except that its water mask is now on another grid
    let o = run_mining(&[], &rdir, &demo_mines(), &out, &["--mines-where", MINES_WHERE, "--years", "2020"]);
    assert_input_error(&o, &out, &["2020/rsei.tif", "2020/water.tif", "not on the same grid"]);

    // a year that was not computed, and an RSEI folder without the area
    let o = run_mining(&[], rsei_dir(), &demo_mines(), &out, &["--years", "2018"]);
    assert_input_error(&o, &out, &["year 2018", "not found", "years available: 2019, 2020"]);
    let empty = t.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = run_mining(&[], &empty, &demo_mines(), &out, &[]);
    assert_input_error(&o, &out, &["no RSEI results for study area \"Demo City\"", "Demo_City"]);

    // bad options exit with code 2 before anything is read
    for (flag, value) in [("--rule", "nearest"), ("--ring-step-km", "0"), ("--size-breaks", "1,0.5"), ("--lat-band", "0"), ("--equal-area-crs", "EPSG:999999")] {
        let o = run_mining(&[], rsei_dir(), &demo_mines(), &out, &[flag, value]);
        assert_input_error(&o, &out, &[flag.trim_start_matches("--").split('-').next().unwrap()]);
    }
}

#[test]
fn the_demo_step_skips_the_points_with_a_note() {
    let (data, rdir) = fixture();
    let t = TempDir::new("demo");
    // the demo step analyses every city of data/vectors/city.geojson and writes into
    // <results>/<city>/mining: give it a copy holding the test's city only
    let d = t.path().join("data/vectors");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(demo_mines(), d.join("mines.geojson")).unwrap();
    let mut cities = json(&data.join("vectors/city.geojson"));
    let feats: Vec<Value> = cities["features"].as_array().unwrap().iter().filter(|f| f["properties"]["name_en"] == "Demo City").cloned().collect();
    assert_eq!(feats.len(), 1);
    cities["features"] = Value::Array(feats);
    std::fs::write(d.join("city.geojson"), serde_json::to_vec(&cities).unwrap()).unwrap();
    let results = t.path().join("results");
    for y in ["2019", "2020"] {
        copy_dir(&rdir.join("Demo_City").join(y), &results.join("Demo_City").join(y));
    }
    let all = rsei_pipeline::mining::demo(&t.path().join("data"), &results, &rsei_pipeline::progress::Silent).unwrap();
    assert_eq!(all.len(), 1);
    let s = &all[0];
    let (total, points) = feature_counts(&demo_mines());
    let skipped = format!("{points} of {total} feature(s) skipped");
    assert!(s.notes.iter().any(|n| n.contains(&skipped) && n.contains("point)")), "{:?}", s.notes);
    assert!(s.mines_in_area >= 5);
    let last = s.per_year.last().unwrap();
    assert!(last.mines_mean.unwrap() < last.city_mean.unwrap());
    assert!(s.peak_distance_km.unwrap() > 0.0);
    assert!(results.join("Demo_City/mining/manifest.json").is_file());
}

#[test]
fn several_study_areas_get_one_output_folder_each() {
    let t = TempDir::new("areas");
    // an area file with the test city twice under two names, and RSEI results for both names
    let mut cities = json(&data_dir().join("vectors/city.geojson"));
    let demo = cities["features"].as_array().unwrap().iter().find(|f| f["properties"]["name_en"] == "Demo City").cloned().unwrap();
    let mut copy = demo.clone();
    copy["properties"]["name_en"] = Value::from("Copy City");
    cities["features"] = Value::Array(vec![demo, copy]);
    let area = t.path().join("two.geojson");
    std::fs::write(&area, serde_json::to_vec(&cities).unwrap()).unwrap();
    let rdir = t.path().join("rsei");
    for (slug, y) in [("Demo_City", "2019"), ("Copy_City", "2019")] {
        copy_dir(&rsei_dir().join("Demo_City").join(y), &rdir.join(slug).join(y));
    }
    let mining = |area: &Path, out: &Path| {
        rsei(&[
            "--quiet",
            "mining",
            "--rsei",
            &rdir.display().to_string(),
            "--area",
            &area.display().to_string(),
            "--mines",
            &demo_mines().display().to_string(),
            "--mines-where",
            MINES_WHERE,
            "--out",
            &out.display().to_string(),
        ])
    };
    let out = t.path().join("out");
    let o = mining(&area, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(files_in(&out), vec!["Copy_City".to_string(), "Demo_City".to_string()]);
    // the same polygon and the same rasters give the same numbers under both names
    let a = std::fs::read(out.join("Demo_City/mines_vs_city.json")).unwrap();
    let b = std::fs::read(out.join("Copy_City/mines_vs_city.json")).unwrap();
    assert_eq!(a, b);
    assert_eq!(json(&out.join("Copy_City/summary.json"))["area"], "Copy City");
    // a third area that cannot be analysed (no RSEI results): the others are still done, the
    // command fails at the end naming it
    let mut three = cities.clone();
    let mut ghost = three["features"][0].clone();
    ghost["properties"]["name_en"] = Value::from("Ghost City");
    three["features"].as_array_mut().unwrap().push(ghost);
    let area3 = t.path().join("three.geojson");
    std::fs::write(&area3, serde_json::to_vec(&three).unwrap()).unwrap();
    let out3 = t.path().join("out3");
    let o = mining(&area3, &out3);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("failed for 1 of 3 study areas") && stderr(&o).contains("\"Ghost City\""), "{}", stderr(&o));
    assert!(stderr(&o).contains("Ghost_City"), "the missing folder is named: {}", stderr(&o));
    assert_eq!(files_in(&out3), vec!["Copy_City".to_string(), "Demo_City".to_string()]);
    assert_eq!(std::fs::read(out3.join("Demo_City/mines_vs_city.json")).unwrap(), a);
    // without --out, each area's results go beside its RSEI
    let o = rsei(&[
        "--quiet",
        "mining",
        "--rsei",
        &rdir.display().to_string(),
        "--area",
        &area.display().to_string(),
        "--where",
        "name_en = 'Copy City'",
        "--mines",
        &demo_mines().display().to_string(),
        "--mines-where",
        MINES_WHERE,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(rdir.join("Copy_City/mining/manifest.json").is_file());
    assert!(!rdir.join("Demo_City/mining").exists());
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("Copy City") && stdout.contains("2019"), "{stdout}");
}

fn shared_vectors() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/vectors");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("SKIPPED: ../shared/data/vectors is not present (real test data)");
        None
    }
}

/// Real polygons: the Tangshan boundary (self-intersecting: repaired) and the Global Energy
/// Monitor mine boundaries, over an RSEI raster made here on Tangshan's MODIS grid.
#[test]
fn real_city_and_mine_boundaries_of_tangshan() {
    use rsei_pipeline::area::{load_areas, AreaSource};
    use rsei_io::vector::FeatureFilter;
    let Some(vectors) = shared_vectors() else { return };
    let t = TempDir::new("tangshan");
    let cities = vectors.join("seven_cities.geojson");
    let mut src = AreaSource::file(&cities);
    src.filter = Some(FeatureFilter::Where("name_en = 'Tangshan'".into()));
    src.name_field = Some("name_en".into());
    let areas = load_areas(&src).unwrap();
    assert_eq!(areas.len(), 1);
    let sg = rsei_pipeline::run::study_grid(&areas[0], rsei_core::zonal::PixelRule::Centre).unwrap();
    // a deterministic pattern inside the city, nodata outside; land everywhere
    let values: Vec<f32> = sg.inside.iter().enumerate().map(|(i, &inside)| if inside { ((i * 7919) % 1000) as f32 / 999.0 } else { f32::NAN }).collect();
    let water: Vec<u8> = sg.inside.iter().map(|&inside| if inside { 0 } else { 255 }).collect();
    let year = t.path().join("rsei/Tangshan/2019");
    let r = rsei_core::Raster::new(sg.grid.clone(), values.clone()).unwrap();
    rsei_io::write_raster(&year.join("rsei.tif"), &r, &rsei_io::WriteOptions::default()).unwrap();
    let mut wo = rsei_io::WriteOptions::classes();
    wo.nodata = Some(255.0);
    rsei_io::write_raster(&year.join("water.tif"), &rsei_core::Raster::new(sg.grid.clone(), water).unwrap(), &wo).unwrap();

    let out = t.path().join("out");
    let o = rsei(&[
        "--quiet",
        "mining",
        "--rsei",
        &t.path().join("rsei").display().to_string(),
        "--area",
        &cities.display().to_string(),
        "--where",
        "name_en = 'Tangshan'",
        "--mines",
        &vectors.join("tangshan_mines.geojson").display().to_string(),
        "--mine-name-field",
        "Mine Name",
        "--ring-max-km",
        "10",
        "--out",
        &out.display().to_string(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = json(&out.join("summary.json"));
    assert_eq!(s["mines_in_area"], 4);
    let notes: Vec<&str> = s["notes"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    // SOURCES.md: 4 boundaries and 9 points; the DataV boundary of Tangshan self-intersects
    assert!(notes.iter().any(|n| n.contains("9 point feature(s) skipped")), "{notes:?}");
    assert!(notes.iter().any(|n| n.starts_with("study area") && n.contains("MakeValid")), "{notes:?}");

    // the city zone is exactly the cells RSEI was written on: same count, same mean
    let valid: Vec<f64> = values.iter().filter(|v| v.is_finite()).map(|&v| f64::from(v)).collect();
    let mvc = json(&out.join("mines_vs_city.json"));
    assert_eq!(mvc[0]["city_n"].as_u64().unwrap() as usize, valid.len());
    let want = valid.iter().sum::<f64>() / valid.len() as f64;
    assert!((f(&mvc[0]["city_mean"]) - want).abs() < 1e-6, "{} vs {want}", mvc[0]["city_mean"]);

    // ring 0 (the four disjoint mines, all inside the city) has the mines' total area (22–93 km²
    // each), and about area / cell area cells (centre rule; MODIS cell 463.31 m → 0.214659 km²)
    let mines = json(&out.join("mines.json"));
    let total: f64 = mines.as_array().unwrap().iter().map(|m| f(&m["area"])).sum();
    assert!((100.0..4.0 * 93.0).contains(&total), "{total} km²");
    let prof = json(&out.join("rings_profile.json"));
    assert_eq!(prof.as_array().unwrap().len(), 11);
    assert!((f(&prof[0]["ring_area"]) - total).abs() / total < 1e-3, "{} vs {total}", prof[0]["ring_area"]);
    let rings = json(&out.join("rings.json"));
    let cells0 = rings[0]["n"].as_u64().unwrap() as f64;
    let expected = total / (463.312_716_527_5f64.powi(2) / 1e6);
    assert!((cells0 - expected).abs() / expected < 0.03, "{cells0} cells vs {expected}");
    // ring k is a 1 km band around ~ 4 mines: its area grows with k
    let areas_k: Vec<f64> = prof.as_array().unwrap()[1..].iter().map(|r| f(&r["ring_area"])).collect();
    assert!(areas_k.windows(2).all(|w| w[1] > w[0]), "{areas_k:?}");
}
