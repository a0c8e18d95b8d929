//! Real Landsat Collection 2 scenes: the test data of eodatasets3 0.30.5 (Geoscience Australia,
//! Apache-2.0), USGS products whose every band was reduced to 60 × 60 cells (about 4 km) with the
//! metadata of the full scene kept. `scripts/fetch-test-data.py` takes them from the package's
//! source distribution on PyPI (checked against its SHA-256) into `.test-data/landsat-c2/` (not
//! committed); the first test to need them runs it.
//!
//! - LC08_L2SP_098084_20210503 (Landsat 8 OLI, 73 % cloud): scale and offset against the MTL,
//!   QA counts against a direct bit decode, a full RSEI run checked cell by cell against the DN;
//! - LT05_L2SP_090084_19980308 and LE07_L2SP_090084_20210331 (same path/row): a TM → ETM+
//!   series with its sensor-change warning and the SLC-off note, checked cell by cell;
//! - LC08_L1TP_090084_20160121 (Level-1): refused, naming the level.

use std::path::{Path, PathBuf};

use rsei_core::sensor::{landsat_rejection, Role, SensorQaReport, SensorQaRules};
use rsei_core::Grid;
use rsei_io::scenes::{scan_scenes, QaLayer, Scene, SceneBand};

mod common;
use common::*;

const L8: &str = "LC08_L2SP_098084_20210503_20210508_02_T1";
const L7: &str = "LE07_L2SP_090084_20210331_20210426_02_T1";
const L5: &str = "LT05_L2SP_090084_19980308_20200909_02_T1";
const L8_L1: &str = "LC08_L1TP_090084_20160121_20200907_02_T1";

/// The folder of the real scenes, fetched on first use (one fetch for all the tests at once).
fn real_scenes() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".test-data");
    let dest = root.join("landsat-c2");
    if dest.join("COMPLETE").exists() {
        return dest;
    }
    std::fs::create_dir_all(&root).unwrap();
    let lock = std::fs::File::create(root.join(".fetch.lock")).unwrap();
    lock.lock().unwrap();
    if !dest.join("COMPLETE").exists() {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/fetch-test-data.py");
        let o = std::process::Command::new("python3").arg(&script).arg(&root).output().expect("python3 runs scripts/fetch-test-data.py");
        assert!(o.status.success(), "fetching the real Landsat scenes from PyPI failed: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    }
    dest
}

fn scene(id: &str) -> Scene {
    let inv = scan_scenes(&real_scenes().join(id)).unwrap();
    assert_eq!(inv.scenes.len(), 1, "{id}: {:?}", inv.rejected);
    inv.scenes.into_iter().next().unwrap()
}

/// A number of the MTL text, read here by hand (`NAME = value`).
fn mtl_number(scene_dir: &Path, name: &str) -> f64 {
    let mtl = std::fs::read_dir(scene_dir).unwrap().flatten().map(|e| e.path()).find(|p| p.to_string_lossy().ends_with("_MTL.txt")).unwrap();
    let text = std::fs::read_to_string(mtl).unwrap();
    let line = text.lines().find(|l| l.trim_start().starts_with(&format!("{name} ="))).unwrap_or_else(|| panic!("{name} in the MTL"));
    line.split('=').nth(1).unwrap().trim().trim_matches('"').parse().unwrap()
}

/// The raw DN of a band of a scene and its grid.
fn raw(name: &str) -> (Grid, Vec<u32>) {
    let b = SceneBand::open(name).unwrap();
    let g = b.grid().clone();
    let v = b.read_raw(g.full_window()).unwrap();
    (g, v)
}

/// The USGS Collection 2 QA decode written out from the product guides (LSDS-1618/1619):
/// QA_PIXEL bit 0 fill, 1 dilated cloud, 2 cirrus (OLI only), 3 cloud, 4 cloud shadow, 5 snow;
/// QA_RADSAT bit n−1 = band n saturated (OLI: bands 2–7 used, bit 11 terrain occlusion; TM/ETM+:
/// bands 1–5 and 7 used, bit 9 dropped pixel). Returns fill, cloud, shadow, snow, saturated or clear.
fn direct_decode(qa: u32, radsat: u32, oli: bool) -> &'static str {
    let cloud_bits = if oli { 0b1110 } else { 0b1010 };
    let radsat_bits = if oli { 0b111_1110 | 1 << 11 } else { 0b101_1111 | 1 << 9 };
    if qa & 1 != 0 {
        "fill"
    } else if qa & cloud_bits != 0 {
        "cloud"
    } else if qa & 16 != 0 {
        "shadow"
    } else if qa & 32 != 0 {
        "snow"
    } else if radsat & radsat_bits != 0 {
        "saturated"
    } else {
        "clear"
    }
}

#[test]
fn real_products_get_their_profile_from_the_mtl_and_level1_is_refused() {
    let inv = scan_scenes(&real_scenes()).unwrap();
    let ids: Vec<(&str, &str, bool)> = inv.scenes.iter().map(|s| (s.id.as_str(), s.profile.id, s.profile.slc_off)).collect();
    assert_eq!(ids, vec![(L5, "landsat-tm-c2l2", false), (L7, "landsat-etm-c2l2", true), (L8, "landsat-oli-c2l2", false)]);
    for s in &inv.scenes {
        assert_eq!(s.profile.level, "L2SP", "{}", s.id);
        assert!(s.bands.contains_key(&Role::Thermal) && s.qa.contains_key(&QaLayer::QaPixel) && s.qa.contains_key(&QaLayer::QaRadsat), "{}", s.id);
    }
    assert_eq!(inv.rejected.len(), 1, "{:?}", inv.rejected);
    let r = &inv.rejected[0];
    assert!(r.path.to_string_lossy().contains(L8_L1) && r.reason.contains("L1TP") && r.reason.contains("Level-1"), "{r:?}");
}

#[test]
fn real_landsat8_scale_offset_and_qa_counts_equal_the_mtl_and_a_direct_bit_decode() {
    let s = scene(L8);
    let dir = real_scenes().join(L8);
    let p = &s.profile;
    // the MTL's own Level-2 factors are the profile's
    for b in 1..=7 {
        assert_eq!(mtl_number(&dir, &format!("REFLECTANCE_MULT_BAND_{b}")), p.reflectance.scale);
        assert_eq!(mtl_number(&dir, &format!("REFLECTANCE_ADD_BAND_{b}")), p.reflectance.offset);
    }
    let (k_mult, k_add) = (mtl_number(&dir, "TEMPERATURE_MULT_BAND_ST_B10"), mtl_number(&dir, "TEMPERATURE_ADD_BAND_ST_B10"));
    assert_eq!((k_mult, k_add), (0.00341802, 149.0));
    // every DN of the red, NIR and thermal bands decodes as the product formula says
    let (lo, hi) = (mtl_number(&dir, "QUANTIZE_CAL_MIN_BAND_4") as u32, mtl_number(&dir, "QUANTIZE_CAL_MAX_BAND_4") as u32);
    assert_eq!((lo, hi), (1, 65535));
    let mut decoded = 0;
    for role in [Role::Red, Role::Nir] {
        let (_, dn) = raw(&s.bands[&role]);
        for &d in &dn {
            let v = p.reflectance_of(d);
            // valid surface reflectance: DN 7273–43636 (−0.0 to 1.0 after scaling); 0 is fill
            if (7273..=43636).contains(&d) {
                let want = (f64::from(d) * 2.75e-5 - 0.2) as f32;
                assert!((v - want).abs() <= f32::EPSILON, "DN {d}: {v} vs {want}");
                decoded += 1;
            } else {
                assert!(v.is_nan(), "DN {d} outside the valid range gives no reflectance: {v}");
            }
        }
    }
    assert!(decoded > 2000, "{decoded} valid DN");
    let (_, st) = raw(&s.bands[&Role::Thermal]);
    for &d in st.iter().filter(|&&d| d != 0) {
        let want = (f64::from(d) * k_mult + k_add - 273.15) as f32;
        assert!((p.lst_celsius_of(d) - want).abs() < 1e-4, "ST DN {d}");
    }
    assert!(p.lst_celsius_of(0).is_nan(), "ST fill");

    // QA counts of the pipeline's decoder = the direct decode of the product guide
    let (_, qa) = raw(&s.qa[&QaLayer::QaPixel]);
    let (_, rs) = raw(&s.qa[&QaLayer::QaRadsat]);
    let mut ours = SensorQaReport::default();
    let mut direct = std::collections::BTreeMap::<&str, u64>::new();
    for i in 0..qa.len() {
        ours.record(landsat_rejection(qa[i] as u16, rs[i] as u16, &p.qa, &SensorQaRules::default()), false);
        *direct.entry(direct_decode(qa[i], rs[i], true)).or_default() += 1;
    }
    let get = |k: &str| direct.get(k).copied().unwrap_or(0);
    println!("QA of {L8}: {ours:?} / direct {direct:?}");
    assert_eq!(ours.total, 3600);
    assert_eq!((ours.fill, ours.cloud, ours.shadow, ours.snow, ours.saturated, ours.valid), (get("fill"), get("cloud"), get("shadow"), get("snow"), get("saturated"), get("clear")));
    // the scene is mostly cloud (MTL CLOUD_COVER 72.57 %, without the dilation): every class shows
    assert!(ours.fill > 1000 && ours.cloud > 1500 && ours.shadow > 50 && ours.valid > 100, "{ours:?}");
    let cloud_share = ours.cloud as f64 / (ours.total - ours.fill) as f64;
    assert!(cloud_share > mtl_number(&dir, "CLOUD_COVER") / 100.0, "clouds plus their dilation cover more than the MTL's cloud cover: {cloud_share}");
}

/// An area file: the rectangle `[x0, x1] × [y0, y1]` of `epsg` (edges on the 500 m cells of
/// the run, so every cell is clearly inside or outside).
fn rectangle(path: &Path, epsg: u32, x0: f64, y0: f64, x1: f64, y1: f64) {
    let gj = format!(
        r#"{{"type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"urn:ogc:def:crs:EPSG::{epsg}"}}}},"features":[{{"type":"Feature","properties":{{"name":"Real Scene Area"}},"geometry":{{"type":"Polygon","coordinates":[[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y1}],[{x0},{y0}]]]}}}}]}}"#
    );
    std::fs::write(path, gj).unwrap();
}

fn read_f32(path: &Path, grid: &Grid) -> Vec<f32> {
    rsei_io::warp::warp_to_grid(path.to_str().unwrap(), 1, grid, rsei_io::warp::Resampling::Nearest, None).unwrap().into_data()
}

/// Checks a year of a one-scene run cell by cell against the scene's DN: the observation count
/// is 1 exactly where the direct QA decode is clear and every reflective DN valid, and there NDVI
/// and LST are the product formulas of the DN. Returns (inside cells, valid cells).
fn check_cells(year: &Path, s: &Scene, oli: bool) -> (u64, u64) {
    let water_band = SceneBand::open(year.join("water.tif").to_str().unwrap()).unwrap();
    let sg = water_band.grid().clone();
    let water = water_band.read_raw(sg.full_window()).unwrap();
    let counts = SceneBand::open(year.join("obs_count.tif").to_str().unwrap()).unwrap().read_raw(sg.full_window()).unwrap();
    let ndvi = read_f32(&year.join("ndvi.tif"), &sg);
    let lst = read_f32(&year.join("lst_celsius.tif"), &sg);
    let rsei = read_f32(&year.join("rsei.tif"), &sg);
    let (g, red) = raw(&s.bands[&Role::Red]);
    let refl: Vec<Vec<u32>> = Role::REFLECTIVE.iter().map(|r| raw(&s.bands[r]).1).collect();
    let nir = raw(&s.bands[&Role::Nir]).1;
    let st = raw(&s.bands[&Role::Thermal]).1;
    let qa = raw(&s.qa[&QaLayer::QaPixel]).1;
    let rs = raw(&s.qa[&QaLayer::QaRadsat]).1;
    let t = *g.transform();
    let (mut inside, mut valid, mut checked) = (0u64, 0u64, 0u64);
    for i in 0..sg.len() {
        if water[i] == 255 {
            continue;
        }
        inside += 1;
        let (x, y) = sg.cell_center(i / sg.cols(), i % sg.cols());
        // the scene cell under the centre (skipped when the centre lies on a scene cell's edge)
        let (fc, fr) = ((x - t.x0) / t.dx, (y - t.y0) / t.dy);
        if (fc - fc.round()).abs() * t.dx.abs() < 1.0 || (fr - fr.round()).abs() * t.dy.abs() < 1.0 {
            continue;
        }
        let Some((r, c)) = g.cell_at(x, y) else { panic!("the area lies inside the scene") };
        let k = g.index(r, c);
        let ok = direct_decode(qa[k], rs[k], oli) == "clear" && refl.iter().all(|b| (7273..=43636).contains(&b[k]));
        checked += 1;
        assert_eq!(counts[i], u32::from(ok), "observations at cell {i} (scene cell {r},{c}: QA {} RADSAT {})", qa[k], rs[k]);
        if ok {
            valid += 1;
            let rho = |d: u32| f64::from(d) * 2.75e-5 - 0.2;
            let want = (rho(nir[k]) - rho(red[k])) / (rho(nir[k]) + rho(red[k]));
            assert!((f64::from(ndvi[i]) - want).abs() < 1e-6, "NDVI at cell {i}: {} vs {want}", ndvi[i]);
            let k_lst = f64::from(st[k]) * 0.00341802 + 149.0 - 273.15;
            assert!((f64::from(lst[i]) - k_lst).abs() < 1e-4, "LST at cell {i}: {} vs {k_lst}", lst[i]);
            if water[i] == 0 {
                assert!((0.0..=1.0).contains(&rsei[i]), "RSEI at a valid land cell: {}", rsei[i]);
            }
        } else {
            assert!(ndvi[i].is_nan() && rsei[i].is_nan(), "no NDVI nor RSEI without a valid observation (cell {i})");
        }
    }
    assert!(checked as f64 > 0.95 * inside as f64, "{checked} of {inside} cells checked");
    (inside, valid)
}

#[test]
fn real_landsat8_gives_a_full_rsei_checked_cell_by_cell_against_the_dn() {
    let t = TempDir::new("real-l8");
    let s = scene(L8);
    let area = t.path().join("area.geojson");
    // the clearest 95 km square of the scene (Yorke Peninsula and Spencer Gulf), UTM 53 with the
    // USGS southern-hemisphere northings
    rectangle(&area, 32653, 670_000.0, -3_875_000.0, 765_000.0, -3_780_000.0);
    let out = t.path().join("out");
    let data = real_scenes();
    let o = rsei(&[
        "compute", "--data", data.to_str().unwrap(), "--area", area.to_str().unwrap(), "--out", out.to_str().unwrap(), "--years", "2021", "--season", "05-01:05-31", "--window", "0:0",
        "--crs", "EPSG:32653", "--resolution", "500",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    // the Level-1 product beside it is named and left out
    assert!(text(&o).contains(L8_L1) && text(&o).contains("Level-1"), "{}", text(&o));
    let year = out.join("Real_Scene_Area/2021");
    let sum = json(&year.join("summary.json"));
    let sensor = &sum["sensor"];
    assert_eq!(sensor["profiles"], serde_json::json!(["landsat-oli-c2l2"]));
    assert_eq!(sensor["levels"], serde_json::json!(["L2SP"]));
    assert_eq!(sensor["scenes"], 1);
    let (inside, valid) = check_cells(&year, &s, true);
    assert_eq!(sensor["qa"]["total"], inside);
    assert_eq!(sensor["qa"]["valid"], valid);
    assert!(valid > 5000, "{valid} valid cells of {inside}");
    assert!(sum["n_pixels"].as_u64().unwrap() > 1000, "{}", sum["n_pixels"]);
    let pc1 = &sum["model"]["pc1"];
    assert!(pc1[0].as_f64().unwrap() > 0.0, "NDVI raises RSEI: {pc1}");
    assert!(pc1[3].as_f64().unwrap() < 0.0, "heat lowers RSEI: {pc1}");
    let contribution = sum["model"]["pc1_contribution"].as_f64().or(sum["model"]["contribution"].as_f64());
    if let Some(c) = contribution {
        assert!(c > 0.25 && c <= 1.0, "PC1 contribution {c}");
    }
}

#[test]
fn real_landsat5_then_7_series_reports_the_sensor_change_and_slc_off() {
    let t = TempDir::new("real-l57");
    let area = t.path().join("area.geojson");
    // a 100 km square west of Canberra (UTM 55, USGS southern-hemisphere northings)
    rectangle(&area, 32655, 660_000.0, -3_860_000.0, 760_000.0, -3_760_000.0);
    let out = t.path().join("out");
    let data = real_scenes();
    let o = rsei(&[
        "compute", "--data", data.to_str().unwrap(), "--area", area.to_str().unwrap(), "--out", out.to_str().unwrap(), "--years", "1998,2021", "--season", "03-01:04-30", "--window", "0:0",
        "--crs", "EPSG:32655", "--resolution", "500",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let s98 = json(&out.join("Real_Scene_Area/1998/summary.json"));
    let s21 = json(&out.join("Real_Scene_Area/2021/summary.json"));
    assert_eq!(s98["sensor"]["profiles"], serde_json::json!(["landsat-tm-c2l2"]));
    assert_eq!(s21["sensor"]["profiles"], serde_json::json!(["landsat-etm-c2l2"]));
    assert!(s98["sensor"]["wetness"].as_str().unwrap().starts_with("Crist 1985"), "{}", s98["sensor"]["wetness"]);
    let w21 = s21["warnings"].to_string();
    assert!(w21.contains("SLC-off") && w21.contains("changes sensor") && w21.contains("landsat-tm-c2l2"), "{w21}");
    assert!(text(&o).contains("changes sensor"), "{}", text(&o));
    for (year, id, sum) in [(1998, L5, &s98), (2021, L7, &s21)] {
        let (inside, valid) = check_cells(&out.join(format!("Real_Scene_Area/{year}")), &scene(id), false);
        assert_eq!(sum["sensor"]["qa"]["total"], inside, "{year}");
        assert_eq!(sum["sensor"]["qa"]["valid"], valid, "{year}");
        assert!(valid > 20_000, "{year}: {valid} valid cells of {inside}");
    }
}
