//! Synthetic driver rasters for the demo scene (**all synthetic**, tagged `SYNTHETIC=yes`).
//!
//! Each driver is made as a field on the scene's 500 m sinusoidal grid from what the scene shows —
//! elevation, its land cover (urban and barren cells), its mines — and then warped by GDAL to a
//! CRS and resolution of its own, as real driver products come:
//!
//! | file | driver | grid | made from |
//! |---|---|---|---|
//! | `dem_30s.tif` | DEM (m) | EPSG:4326, 0.008333° (30″) | the scene's elevation (bilinear) |
//! | `prec_2019_MM.tif` × 12 | monthly precipitation (mm) | EPSG:4326, 0.05° | a monsoon cycle × (1 + 0.0009·elevation): rises with elevation (average) |
//! | `gdp_2019.tif` | GDP (10⁴ yuan/km²) | EPSG:32650 (UTM 50N), 1 km | urban share around each cell, a little from mining (average) |
//! | `ntl_2019.tif` | night-time light (nW/cm²/sr) | EPSG:4326, 15″ | urban share, mines lit faintly (average) |
//! | `elec_2019.tif` | electricity consumption (10⁴ kWh/km²) | EPSG:3857, 1 km | urban share and mining (average) |
//! | `co2_2019.tif` | CO₂ emissions (t/km²) | EPSG:4326, 0.1° | urban share and mining (average) |
//! | `pm25_2019.tif` | PM2.5 (µg/m³) | EPSG:4326, 0.01° | higher near mines and towns, lower in the mountains (average) |
//! | `barrier.geojson` | a coastline-like barrier line | lon/lat | a line across the south of the second city |
//!
//! "Urban share" is the percentage of urban cells (IGBP 13) of the scene's land cover in a 4.5 km
//! window; "mining" is `exp(−d / 3 km)` of the distance `d` to the nearest mine cell. Every field
//! carries a small deterministic noise from the seed, so the same seed gives the same files.

use std::path::{Path, PathBuf};

use crate::error::{Context, Result};
use rsei_core::drivers::{aligned_grid, distance_to_sources, moving_window_share};
use rsei_core::zonal::{self, PixelRule};
use rsei_core::{Crs, Grid, Raster};
use rsei_io::warp::{transform_bounds, warp_raster, Resampling};
use rsei_io::{write_raster, Compression, RasterFormat, WriteOptions};

use super::archive::{SYNTHETIC_NOTE, SYNTHETIC_TAG};
use super::scene::Scene;

/// The year the demo's driver rasters describe.
pub const DRIVER_YEAR: i32 = 2019;

/// Where the generated files are.
#[derive(Clone, Debug)]
pub struct DemoDrivers {
    /// Folder of the driver rasters.
    pub dir: PathBuf,
    /// The synthetic DEM.
    pub dem: PathBuf,
    /// Twelve monthly precipitation rasters, January first.
    pub precipitation: Vec<PathBuf>,
    /// (name, file) of the single-file drivers: GDP, NTL, Elec, CO2, PM2.5.
    pub rasters: Vec<(String, PathBuf)>,
    /// The coastline barrier (GeoJSON line).
    pub barrier: PathBuf,
}

/// MODIS sphere radius (m), as the scene uses.
const R_EARTH: f64 = 6_371_007.181;

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Uniform noise in [−1, 1) from a hash of (seed, driver, cell).
fn noise(seed: u64, driver: u64, i: usize) -> f32 {
    let h = splitmix(seed ^ splitmix(driver ^ splitmix(i as u64)));
    ((h >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32
}

/// Local ground coordinates (km east, km north of the scene centre) → lon/lat degrees, the
/// scene's own equirectangular layout.
fn lonlat_of_km(scene: &Scene, u: f64, v: f64) -> (f64, f64) {
    let lat0 = scene.center.1 / R_EARTH;
    let lon0 = scene.center.0 / (R_EARTH * lat0.cos());
    ((lon0 + u * 1000.0 / (R_EARTH * lat0.cos())).to_degrees(), (lat0 + v * 1000.0 / R_EARTH).to_degrees())
}

/// The fields every driver is made from, on the scene grid.
struct Base {
    elevation: Vec<f32>,
    /// % urban cells within 4.5 km.
    urban_pct: Vec<f32>,
    /// exp(−d / 3 km) of the distance to the nearest mine cell.
    mining: Vec<f32>,
}

fn base(scene: &Scene) -> Result<Base> {
    let g = &scene.grid;
    let lc = scene.landcover(DRIVER_YEAR);
    let urban: Vec<f32> = lc.iter().map(|&c| if c == 13 { 1.0 } else { 0.0 }).collect();
    let urban_pct: Vec<f32> = moving_window_share(g.rows(), g.cols(), &urban, &rsei_core::drivers::SquareWindow::new(9.0, 1.0)?)?.iter().map(|&v| v as f32).collect();
    let mut sources = vec![false; g.len()];
    for m in &scene.mines {
        let mp = geo_types::MultiPolygon(vec![geo_types::Polygon::new(geo_types::LineString::from(m.ring.clone()), vec![])]);
        if let Some(c) = zonal::coverage(g, &mp, PixelRule::Coverage)? {
            for (r, col, w) in c.iter() {
                if w > 0.25 {
                    sources[g.index(r, col)] = true;
                }
            }
        }
    }
    let d = distance_to_sources(g, &sources)?;
    let mining = d.data().iter().map(|&m| (-(m / 3000.0)).exp()).collect();
    Ok(Base { elevation: scene.elevation_m.clone(), urban_pct, mining })
}

/// The grid in `crs` at `res` covering the scene.
fn target_grid(scene: &Scene, crs: &str, res: f64) -> Result<Grid> {
    let crs = rsei_io::crs::normalize_crs(&Crs::new(crs))?;
    let b = transform_bounds(&scene.grid.bounds(), scene.grid.crs(), &crs)?;
    Ok(aligned_grid(&b, &crs, res)?)
}

/// How a synthetic driver is published: CRS, cell size, resampling from the scene grid, label, unit.
struct Product<'a> {
    crs: &'a str,
    res: f64,
    resampling: Resampling,
    what: &'a str,
    unit: &'a str,
}

fn write(scene: &Scene, path: &Path, field: Vec<f32>, p: &Product<'_>) -> Result<()> {
    let (what, unit) = (p.what, p.unit);
    let target = target_grid(scene, p.crs, p.res)?;
    let src = Raster::new(scene.grid.clone(), field)?;
    let out = warp_raster(&src, &target, p.resampling).with_context(|| format!("warping the synthetic {what}"))?;
    let mut o = WriteOptions::continuous()
        .with_format(RasterFormat::GTiff)
        .with_compression(Compression::Deflate, Some(6))
        .with_tag(SYNTHETIC_TAG, SYNTHETIC_NOTE)
        .with_tag("DRIVER", what)
        .with_tag("YEAR", DRIVER_YEAR.to_string());
    o.block_size = 128;
    o.band.description = Some(format!("{what} (SYNTHETIC)"));
    o.band.unit = Some(unit.into());
    write_raster(path, &out, &o).with_context(|| format!("writing {}", path.display()))
}

/// Writes the synthetic driver rasters of the scene of `seed` into `dir` (see the module
/// documentation).
pub fn generate(dir: &Path, seed: u64) -> Result<DemoDrivers> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let scene = Scene::new(seed);
    let b = base(&scene)?;
    let n = scene.grid.len();
    let seed = seed ^ 0xD21_7E25;
    // DEM: the scene's elevation
    let dem = dir.join("dem_30s.tif");
    write(&scene, &dem, b.elevation.clone(), &Product { crs: "EPSG:4326", res: 1.0 / 120.0, resampling: Resampling::Bilinear, what: "elevation", unit: "m" })?;
    // precipitation: a monsoon cycle (mm per month at sea level), rising 0.09 % per metre of elevation
    let cycle = [4.0f32, 6.0, 11.0, 24.0, 38.0, 72.0, 152.0, 131.0, 52.0, 24.0, 10.0, 4.0];
    let mut precipitation = Vec::new();
    for (m, &mm) in cycle.iter().enumerate() {
        let f: Vec<f32> = (0..n).map(|i| (mm * (1.0 + 0.0009 * b.elevation[i]) * (1.0 + 0.08 * noise(seed, 100 + m as u64, i))).max(0.0)).collect();
        let p = dir.join(format!("prec_{DRIVER_YEAR}_{:02}.tif", m + 1));
        let what = format!("precipitation, month {}", m + 1);
        write(&scene, &p, f, &Product { crs: "EPSG:4326", res: 0.05, resampling: Resampling::Average, what: &what, unit: "mm" })?;
        precipitation.push(p);
    }
    let field = |f: &dyn Fn(usize) -> f32| -> Vec<f32> { (0..n).map(f).collect() };
    let u = &b.urban_pct;
    let mi = &b.mining;
    let avg = |crs: &'static str, res: f64, what: &'static str, unit: &'static str| Product { crs, res, resampling: Resampling::Average, what, unit };
    let specs: Vec<(&str, &str, Vec<f32>, Product<'_>)> = vec![
        ("GDP", "gdp", field(&|i| (180.0 + 95.0 * u[i] + 900.0 * mi[i]) * (1.0 + 0.1 * noise(seed, 1, i))), avg("EPSG:32650", 1000.0, "GDP", "1e4 yuan/km2")),
        ("NTL", "ntl", field(&|i| (0.4 + 0.9 * u[i] + 6.0 * mi[i]) * (1.0 + 0.15 * noise(seed, 2, i))), avg("EPSG:4326", 1.0 / 240.0, "night-time light", "nW/cm2/sr")),
        ("Elec", "elec", field(&|i| (60.0 + 40.0 * u[i] + 1200.0 * mi[i]) * (1.0 + 0.1 * noise(seed, 3, i))), avg("EPSG:3857", 1000.0, "electricity consumption", "1e4 kWh/km2")),
        ("CO2", "co2", field(&|i| (150.0 + 20.0 * u[i] + 2500.0 * mi[i]) * (1.0 + 0.05 * noise(seed, 4, i))), avg("EPSG:4326", 0.1, "CO2 emissions", "t/km2")),
        (
            "PM2.5",
            "pm25",
            field(&|i| 48.0 + 22.0 * mi[i] + 0.12 * u[i] - 0.012 * b.elevation[i] + 1.5 * noise(seed, 5, i)),
            avg("EPSG:4326", 0.01, "PM2.5", "ug/m3"),
        ),
    ];
    let mut rasters = Vec::new();
    for (name, stem, values, product) in specs {
        let p = dir.join(format!("{stem}_{DRIVER_YEAR}.tif"));
        write(&scene, &p, values, &product)?;
        rasters.push((name.to_string(), p));
    }
    // a coastline-like barrier line across the south of the second city
    let line: Vec<(f64, f64)> = [(10.0, -27.0), (20.0, -19.0), (27.0, -16.0), (36.0, -18.5), (48.0, -14.0)].iter().map(|&(u, v)| lonlat_of_km(&scene, u, v)).collect();
    let coords: Vec<String> = line.iter().map(|(lon, lat)| format!("[{lon:.7},{lat:.7}]")).collect();
    let barrier = dir.join("barrier.geojson");
    let json = format!(
        "{{\"type\":\"FeatureCollection\",\"name\":\"barrier\",\"features\":[{{\"type\":\"Feature\",\"properties\":{{\"name\":\"synthetic coastline\",\"note\":\"SYNTHETIC\"}},\"geometry\":{{\"type\":\"LineString\",\"coordinates\":[{}]}}}}]}}\n",
        coords.join(",")
    );
    rsei_core::fsutil::write_atomic(&barrier, json.as_bytes()).with_context(|| format!("writing {}", barrier.display()))?;
    let readme = format!(
        "SYNTHETIC DRIVER RASTERS generated by `rsei demo` (seed {}) for {DRIVER_YEAR}. Not real data.\n\n\
         dem_30s.tif          elevation (m), EPSG:4326 at 30 arc-seconds\n\
         prec_{DRIVER_YEAR}_MM.tif     monthly precipitation (mm), EPSG:4326 at 0.05 degrees, rising with elevation\n\
         gdp_{DRIVER_YEAR}.tif         GDP, UTM 50N at 1 km; ntl_{DRIVER_YEAR}.tif night-time light, EPSG:4326 at 15 arc-seconds\n\
         elec_{DRIVER_YEAR}.tif        electricity, EPSG:3857 at 1 km; co2_{DRIVER_YEAR}.tif CO2, EPSG:4326 at 0.1 degrees\n\
         pm25_{DRIVER_YEAR}.tif        PM2.5, EPSG:4326 at 0.01 degrees, higher near mines and towns\n\
         barrier.geojson      a coastline-like barrier line for the distance to mines\n",
        seed ^ 0xD21_7E25
    );
    rsei_core::fsutil::write_atomic(&dir.join("README.txt"), readme.as_bytes())?;
    Ok(DemoDrivers { dir: dir.to_path_buf(), dem, precipitation, rasters, barrier })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn plausible_relations() {
        let dir = std::env::temp_dir().join(format!("rsei-demo-drivers-{}", std::process::id()));
        let d = generate(&dir, 42).unwrap();
        assert_eq!(d.precipitation.len(), 12);
        // different CRSs and resolutions
        let grids: Vec<Grid> = d.rasters.iter().map(|(_, p)| rsei_io::plain::raster_grid(p).unwrap()).collect();
        assert!(grids.iter().any(|g| g.crs().as_str().contains("+proj=utm")));
        assert!(grids.iter().any(|g| g.crs().as_str().contains("+proj=merc")));
        assert!(grids.iter().any(|g| g.crs().as_str().contains("+proj=longlat")));
        // every raster is tagged synthetic (GDAL keeps dataset metadata as plain XML in a TIFF tag)
        for p in d.precipitation.iter().chain(d.rasters.iter().map(|(_, p)| p)).chain([&d.dem]) {
            let bytes = std::fs::read(p).unwrap();
            let tag = format!("<Item name=\"{SYNTHETIC_TAG}\">{SYNTHETIC_NOTE}</Item>");
            assert!(bytes.windows(tag.len()).any(|w| w == tag.as_bytes()), "{} is not tagged", p.display());
        }
        // precipitation rises with elevation: on a common grid, r(annual precipitation, DEM) > 0.8
        let g = target_grid(&Scene::new(42), "EPSG:32650", 2000.0).unwrap();
        let dem = rsei_io::warp::warp_to_grid(&d.dem.to_string_lossy(), 1, &g, Resampling::Average, None).unwrap();
        let mut annual = vec![0f32; g.len()];
        for p in &d.precipitation {
            let m = rsei_io::warp::warp_to_grid(&p.to_string_lossy(), 1, &g, Resampling::Bilinear, None).unwrap();
            annual.iter_mut().zip(m.data()).for_each(|(a, b)| *a += b);
        }
        let rows: Vec<usize> = (0..g.len()).filter(|&i| !annual[i].is_nan() && !dem.data()[i].is_nan()).collect();
        let r = rsei_core::drivers::pearson_by_driver(&[dem.data()], &annual, &rows);
        assert!(r[0].as_ref().unwrap().r > 0.8, "{:?}", r[0]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
