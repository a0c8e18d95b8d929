//! Landsat Collection 2 Level-2 and Sentinel-2 L2A: profiles from metadata (a real MTL and real
//! S2 product metadata, `tests/data/sensors/`), and scenes in the exact product layouts, made here
//! and labelled SYNTHETIC (`tests/synthetic_scenes`): decoding against the product formulas
//! written out by hand, QA counts against a direct bit decode, full RSEI runs, and the errors.
//!
//! Real Landsat Collection 2 pixels are tested in `tests/landsat_real.rs` (downsampled USGS
//! scenes fetched from PyPI); no real Sentinel-2 pixels are available from the package
//! registries this project's CI can reach (see tests/data/sensors/README.md).

use std::path::{Path, PathBuf};

use rsei_core::sensor::{Role, SensorProfile};
use rsei_core::{Grid, Window};
use rsei_io::scenes::{parse_mtl_txt, parse_s2_metadata, scan_scenes, SceneBand};

mod common;
mod synthetic_scenes;
use common::*;
use synthetic_scenes as syn;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/sensors").join(name)
}

/// The scene grid used by the Landsat tests (UTM 50N, 30 m).
fn l_grid() -> Grid {
    syn::scene_grid(440_010.0, 4_400_010.0, 30.0, syn::ROWS, syn::COLS)
}

fn read_f32(path: &Path, grid: &Grid) -> Vec<f32> {
    rsei_io::warp::warp_to_grid(path.to_str().unwrap(), 1, grid, rsei_io::warp::Resampling::Nearest, None).unwrap().into_data()
}

fn compute(data: &Path, area: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut a = vec!["--quiet", "compute", "--data", data.to_str().unwrap(), "--area", area.to_str().unwrap(), "--out", out.to_str().unwrap()];
    a.extend_from_slice(extra);
    rsei(&a)
}

#[test]
fn real_metadata_choose_the_profiles_and_agree_with_their_constants() {
    // a real Landsat 8 C2 L2SP MTL: OLI profile, and the file's own Level-2 scale and offset
    // equal the constants of the product guide the profile holds
    let m = parse_mtl_txt(&std::fs::read_to_string(fixture("LC08_L2SP_224078_20200127_20200823_02_T1_MTL.txt")).unwrap()).unwrap();
    assert_eq!((m.spacecraft_id.as_str(), m.sensor_id.as_str(), m.collection_number.as_str(), m.processing_level.as_str()), ("LANDSAT_8", "OLI_TIRS", "02", "L2SP"));
    assert_eq!((m.reflectance_mult, m.reflectance_add), (Some(2.75e-5), Some(-0.2)));
    assert_eq!((m.temperature_mult, m.temperature_add), (Some(0.00341802), Some(149.0)));
    let p = SensorProfile::from_landsat(&m).unwrap();
    assert_eq!((p.id, p.level.as_str(), p.band(Role::Nir).unwrap().name, p.band(Role::Thermal).unwrap().name), ("landsat-oli-c2l2", "L2SP", "SR_B5", "ST_B10"));
    assert_eq!((p.reflectance.scale, p.reflectance.offset), (2.75e-5, -0.2));
    // the same file claiming other Level-2 constants is refused
    let mut bad = m.clone();
    bad.reflectance_mult = Some(2.0e-5);
    assert!(SensorProfile::from_landsat(&bad).unwrap_err().to_string().contains("REFLECTANCE_MULT_BAND"));
    // real S2 L2A metadata of baseline 04.00: offset −1000 from the file
    let s = parse_s2_metadata(&std::fs::read_to_string(fixture("MTD_MSIL2A_N0400_trimmed.xml")).unwrap()).unwrap();
    assert_eq!((s.processing_baseline.as_str(), s.boa_add_offsets.len(), s.quantification), ("04.00", 13, Some(10000.0)));
    let p = SensorProfile::from_sentinel2(&s).unwrap();
    assert_eq!(p.id, "sentinel2-msi-l2a");
    // DN 3500 → (3500 − 1000) / 10000 = 0.25
    assert_eq!(p.reflectance_of(3500), 0.25);
}

/// Three Landsat 8 scenes of summer 2019 with clouds and shadows in different places.
fn three_l8(dir: &Path) -> Vec<syn::LandsatSpec> {
    let specs = vec![
        syn::LandsatSpec::l8("2019-06-10", (20, 20, 50, 60), (60, 20, 75, 60)),
        syn::LandsatSpec::l8("2019-07-12", (90, 100, 130, 150), (130, 100, 140, 150)),
        syn::LandsatSpec::l8("2019-08-13", (10, 120, 25, 155), (140, 10, 150, 40)),
    ];
    for s in &specs {
        syn::write_landsat(dir, &l_grid(), s);
    }
    specs
}

#[test]
fn landsat_scenes_decode_mask_and_give_a_full_rsei() {
    let t = TempDir::new("l8");
    let data = t.path().join("data");
    let specs = three_l8(&data);
    let g = l_grid();
    let area = t.path().join("area.geojson");
    syn::area_geojson(&area, &g, 8, 8, 152, 152);
    let out = t.path().join("out");
    let o = compute(&data, &area, &out, &["--years", "2019"]);
    assert!(o.status.success(), "{}", text(&o));
    let year = out.join("Scene_Town/2019");
    let s = json(&year.join("summary.json"));
    let sensor = &s["sensor"];
    assert_eq!(sensor["profiles"], serde_json::json!(["landsat-oli-c2l2"]));
    assert_eq!(sensor["platforms"], serde_json::json!(["LANDSAT_8"]));
    assert_eq!(sensor["scenes"], 3);
    assert!(sensor["wetness"].as_str().unwrap().starts_with("Crist 1985"), "{sensor}");
    assert_eq!(sensor["cell_size_m"], 30.0);
    assert!(s["model"]["pc1"][0].as_f64().unwrap() > 0.0, "NDVI loads positively: {}", s["model"]["pc1"]);

    // the study grid and the inside mask, from water.tif (255 outside the area)
    let water = SceneBand::open(year.join("water.tif").to_str().unwrap()).unwrap();
    let sg = water.grid().clone();
    let wmask = water.read_raw(sg.full_window()).unwrap();
    assert_eq!(sg.cell_size(), (30.0, 30.0));
    // scene cell under each study cell (same lattice: an offset)
    let to_scene = |i: usize| -> Option<(usize, usize)> {
        let (x, y) = sg.cell_center(i / sg.cols(), i % sg.cols());
        g.cell_at(x, y)
    };

    // QA counts against a direct decode of the words written (C2 bits, METHOD of the profile):
    // fill bit 0; cloud bits 3, 1, 2; shadow 4; snow 5; saturated QA_RADSAT bits 1–6 (bands 2–7) or 11
    let (mut total, mut fill, mut cloud, mut shadow, mut sat, mut valid) = (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    for spec in &specs {
        for i in 0..sg.len() {
            if wmask[i] == 255 {
                continue;
            }
            let (r, c) = to_scene(i).expect("the area lies inside the scene");
            let q = syn::qa_pixel(spec, r, c);
            let rs = syn::qa_radsat(r, c);
            total += 1;
            if q & 1 != 0 {
                fill += 1;
            } else if q & (8 | 2 | 4) != 0 {
                cloud += 1;
            } else if q & 16 != 0 {
                shadow += 1;
            } else if rs & 0b111_1110 != 0 || rs & (1 << 11) != 0 {
                sat += 1;
            } else {
                valid += 1;
            }
        }
    }
    let qa = &sensor["qa"];
    println!("QA: {qa}");
    assert_eq!(qa["total"], total);
    assert_eq!(qa["fill"], fill);
    assert_eq!(qa["cloud"], cloud);
    assert_eq!(qa["shadow"], shadow);
    assert_eq!(qa["saturated"], sat);
    assert!(sat == 6, "the two band-4 cells in three scenes (band 1 is not used): {sat}");
    assert_eq!(qa["valid"], valid);
    assert_eq!(qa["out_of_range"], 0);

    // indicators at a vegetation cell clear in every scene, by hand from the DN with the
    // product formulas (ρ = DN × 2.75e-5 − 0.2; K = DN × 0.00341802 + 149)
    let ndvi = read_f32(&year.join("ndvi.tif"), &sg);
    let wet = read_f32(&year.join("wet.tif"), &sg);
    let lst = read_f32(&year.join("lst_celsius.tif"), &sg);
    let (sr, sc) = (80usize, 30usize);
    assert_eq!(syn::cover(sr, sc), syn::Cover::Vegetation);
    let i = (0..sg.len()).find(|&i| to_scene(i) == Some((sr, sc))).unwrap();
    let rho: Vec<f64> = syn::reflectance(sr, sc).iter().map(|&v| f64::from(syn::sr_dn(v)) * 2.75e-5 - 0.2).collect();
    let (b, gr, r, n, s1, s2) = (rho[0], rho[1], rho[2], rho[3], rho[4], rho[5]);
    let ndvi_hand = (n - r) / (n + r);
    // Crist (1985) TM reflectance-factor wetness: the set for surface reflectance
    let wet_hand = 0.0315 * b + 0.2021 * gr + 0.3102 * r + 0.1594 * n - 0.6806 * s1 - 0.6109 * s2;
    let lst_hand = f64::from(syn::st_dn(syn::kelvin(sr, sc))) * 0.00341802 + 149.0 - 273.15;
    assert!((f64::from(ndvi[i]) - ndvi_hand).abs() < 1e-6, "NDVI {} vs {ndvi_hand}", ndvi[i]);
    assert!((f64::from(wet[i]) - wet_hand).abs() < 1e-5, "WET {} vs {wet_hand}", wet[i]);
    assert!((f64::from(lst[i]) - lst_hand).abs() < 1e-4, "LST {} vs {lst_hand}", lst[i]);
    // the TOA set (Baig et al. 2014) would give another value: the test can tell them apart
    let wet_toa = 0.1511 * b + 0.1973 * gr + 0.3283 * r + 0.3407 * n - 0.7117 * s1 - 0.4559 * s2;
    assert!((wet_toa - wet_hand).abs() > 1e-3);

    // observation counts: 3 at the clear cell, 2 under the first scene's cloud, 0 in the fill margin
    let counts = SceneBand::open(year.join("obs_count.tif").to_str().unwrap()).unwrap().read_raw(sg.full_window()).unwrap();
    assert_eq!(counts[i], 3);
    let j = (0..sg.len()).find(|&i| to_scene(i) == Some((30, 30))).unwrap();
    assert_eq!(counts[j], 2);
    // the lake is water, outside the RSEI
    let k = (0..sg.len()).find(|&i| to_scene(i) == Some((110, 50))).unwrap();
    assert_eq!(wmask[k], 1);
    assert!(read_f32(&year.join("rsei.tif"), &sg)[k].is_nan());
    // the manifest lists the scene files it read
    let m = std::fs::read_to_string(year.join("manifest.json")).unwrap();
    assert!(m.contains("_SR_B5.TIF") && m.contains("_QA_PIXEL.TIF") && m.contains("_MTL.txt"));
    assert_eq!(json(&year.join("manifest.json"))["sensor"]["profiles"], serde_json::json!(["landsat-oli-c2l2"]));
    // every raster names the sensor
    let info = std::process::Command::new("gdalinfo").arg(year.join("rsei.tif")).output();
    if let Ok(info) = info {
        let t = String::from_utf8_lossy(&info.stdout);
        assert!(t.contains("SENSOR=landsat-oli-c2l2 (L2SP)"), "{t}");
    }
}

#[test]
fn unsupported_products_and_missing_bands_are_refused_naming_the_file() {
    let t = TempDir::new("bad");
    let g = l_grid();
    let none = (0, 0, 0, 0);
    let mut c1 = syn::LandsatSpec::l8("2019-07-01", none, none);
    c1.collection = "01";
    let mut l1 = syn::LandsatSpec::l8("2019-07-02", none, none);
    l1.level = "L1TP";
    let mut miss = syn::LandsatSpec::l8("2019-07-03", none, none);
    miss.omit = Some("SR_B6");
    for s in [&c1, &l1, &miss] {
        syn::write_landsat(t.path(), &g, s);
    }
    syn::write_s2(t.path(), &syn::scene_grid(440_040.0, 4_400_040.0, 10.0, 30, 30), "2019-07-04", "01.07");
    let inv = scan_scenes(t.path()).unwrap();
    assert!(inv.scenes.is_empty());
    let reason = |needle: &str| -> String {
        inv.rejected.iter().find(|r| r.path.to_string_lossy().contains(needle)).map(|r| format!("{}: {}", r.path.display(), r.reason)).unwrap_or_else(|| panic!("{needle} not rejected: {:?}", inv.rejected))
    };
    let e = reason(&c1.product_id());
    assert!(e.contains("Collection 1") && e.contains("_MTL.txt"), "{e}");
    let e = reason(&l1.product_id());
    assert!(e.contains("L1TP") && e.contains("Level-1"), "{e}");
    let e = reason(&miss.product_id());
    assert!(e.contains("missing band(s) SR_B6"), "{e}");
    let e = reason("N0107");
    assert!(e.contains("before baseline 02.00") && e.contains("MTD_MSIL2A.xml"), "{e}");
    // a compute over them fails and lists why
    let area = t.path().join("area.geojson");
    syn::area_geojson(&area, &g, 8, 8, 152, 152);
    let o = compute(t.path(), &area, &t.path().join("out"), &["--years", "2019"]);
    assert!(!o.status.success());
    let msg = text(&o);
    assert!(msg.contains("no usable Landsat or Sentinel-2 scene") && msg.contains("Collection 1") && msg.contains("SR_B6"), "{msg}");
}

#[test]
fn landsat_and_sentinel2_in_one_composite_are_refused_unless_landsat_gives_the_heat() {
    let t = TempDir::new("mixed");
    let g = l_grid();
    syn::write_landsat(t.path(), &g, &syn::LandsatSpec::l8("2019-07-12", (0, 0, 0, 0), (0, 0, 0, 0)));
    let g10 = syn::scene_grid(440_040.0, 4_400_040.0, 10.0, 300, 300);
    syn::write_s2(t.path(), &g10, "2019-07-20", "04.00");
    let area = t.path().join("area.geojson");
    syn::area_geojson(&area, &g, 8, 8, 100, 100);
    let o = compute(t.path(), &area, &t.path().join("out"), &["--years", "2019"]);
    assert!(!o.status.success());
    let msg = text(&o);
    assert!(msg.contains("mixed product levels") && msg.contains("sentinel2-msi-l2a") && msg.contains("landsat-oli-c2l2"), "{msg}");
    // the explicit choice: Sentinel-2 reflectance, heat from the matched Landsat L2SP scene
    let out = t.path().join("out-heat");
    let o = compute(t.path(), &area, &out, &["--years", "2019", "--s2-heat", "landsat"]);
    assert!(o.status.success(), "{}", text(&o));
    let year = out.join("Scene_Town/2019");
    let s = json(&year.join("summary.json"));
    assert_eq!(s["sensor"]["profiles"], serde_json::json!(["sentinel2-msi-l2a"]));
    assert!(s["sensor"]["heat"].as_str().unwrap().contains("Landsat C2 L2SP"), "{}", s["sensor"]);
    // LST of a 20 m cell = the ST of the Landsat cell under its centre, by hand
    let sg = SceneBand::open(year.join("water.tif").to_str().unwrap()).unwrap().grid().clone();
    let lst = read_f32(&year.join("lst_celsius.tif"), &sg);
    let (r, c) = (40, 40);
    let (x, y) = sg.cell_center(r, c);
    let (lr, lc) = g.cell_at(x, y).unwrap();
    let hand = f64::from(syn::st_dn(syn::kelvin(lr, lc))) * 0.00341802 + 149.0 - 273.15;
    assert!((f64::from(lst[sg.index(r, c)]) - hand).abs() < 1e-4, "{} vs {hand}", lst[sg.index(r, c)]);
    let o = compute(t.path(), &area, &t.path().join("out-bad"), &["--years", "2019", "--s2-heat", "thermal"]);
    assert!(!o.status.success() && text(&o).contains("mod11a2 or landsat"), "{}", text(&o));
}

#[test]
fn landsat7_slc_off_gaps_are_invalid_and_a_sensor_change_is_reported() {
    let t = TempDir::new("l7");
    let g = l_grid();
    let none = (0, 0, 0, 0);
    let l7 = syn::LandsatSpec { spacecraft: "LANDSAT_7", sensor: "ETM", slc_stripes: true, ..syn::LandsatSpec::l8("2012-07-10", none, none) };
    syn::write_landsat(t.path(), &g, &l7);
    syn::write_landsat(t.path(), &g, &syn::LandsatSpec::l8("2014-07-16", none, none));
    let area = t.path().join("area.geojson");
    syn::area_geojson(&area, &g, 8, 8, 152, 152);
    let out = t.path().join("out");
    let o = compute(t.path(), &area, &out, &["--years", "2012,2014", "--window", "0:0"]);
    assert!(o.status.success(), "{}", text(&o));
    let s12 = json(&out.join("Scene_Town/2012/summary.json"));
    assert_eq!(s12["sensor"]["profiles"], serde_json::json!(["landsat-etm-c2l2"]));
    let w12 = s12["warnings"].to_string();
    assert!(w12.contains("SLC-off"), "{w12}");
    // every striped row of the area is fill: 3 rows in 20, counted by the QA report
    let sg_band = SceneBand::open(out.join("Scene_Town/2012/obs_count.tif").to_str().unwrap()).unwrap();
    let sg = sg_band.grid().clone();
    let counts = sg_band.read_raw(sg.full_window()).unwrap();
    let wmask = SceneBand::open(out.join("Scene_Town/2012/water.tif").to_str().unwrap()).unwrap().read_raw(sg.full_window()).unwrap();
    let mut stripe_cells = 0u64;
    for i in 0..sg.len() {
        let (x, y) = sg.cell_center(i / sg.cols(), i % sg.cols());
        let (r, _) = g.cell_at(x, y).unwrap();
        if r % 20 < 3 {
            if wmask[i] != 255 {
                stripe_cells += 1;
            }
            assert_eq!(counts[i], 0, "a gap cell has no valid observation");
        }
    }
    assert_eq!(s12["sensor"]["qa"]["fill"], stripe_cells);
    // 2014 is Landsat 8: the series changes sensor, said in the summary and on the terminal
    let s14 = json(&out.join("Scene_Town/2014/summary.json"));
    let w14 = s14["warnings"].to_string();
    assert!(w14.contains("changes sensor") && w14.contains("landsat-etm-c2l2") && w14.contains("landsat-oli-c2l2"), "{w14}");
    assert!(text(&o).contains("changes sensor"));
}

#[test]
fn tarballs_and_stac_asset_names_are_read_like_folders() {
    let t = TempDir::new("layouts");
    let g = l_grid();
    let spec = syn::LandsatSpec::l8("2019-07-12", (20, 20, 40, 40), (0, 0, 0, 0));
    let mtl = syn::write_landsat(&t.path().join("usgs"), &g, &spec);
    let folder = mtl.parent().unwrap();
    // USGS tarball (the files at the top of the archive, as USGS ships them)
    let tars = t.path().join("tar");
    std::fs::create_dir_all(&tars).unwrap();
    let tar = tars.join(format!("{}.tar", spec.product_id()));
    let ok = std::process::Command::new("tar").arg("-cf").arg(&tar).arg("-C").arg(folder).arg(".").status().map(|s| s.success()).unwrap_or(false);
    if !ok {
        println!("SKIPPED (tarball part): no tar command");
    } else {
        let inv = scan_scenes(&tars).unwrap();
        assert_eq!(inv.scenes.len(), 1, "{:?}", inv.rejected);
        let s = &inv.scenes[0];
        assert_eq!((s.id.as_str(), s.profile.id), (spec.product_id().as_str(), "landsat-oli-c2l2"));
        assert!(s.bands[&Role::Red].starts_with("/vsitar/"), "{}", s.bands[&Role::Red]);
        let a = SceneBand::open(&s.bands[&Role::Red]).unwrap().read_raw(Window::new(0, 0, 20, 20)).unwrap();
        let b = SceneBand::open(folder.join(format!("{}_SR_B4.TIF", spec.product_id())).to_str().unwrap()).unwrap().read_raw(Window::new(0, 0, 20, 20)).unwrap();
        assert_eq!(a, b);
        assert_eq!(s.files, vec![tar.clone()]);
    }
    // per-band COGs named by STAC asset keys, with the mtl.txt asset
    let stac = t.path().join("stac").join(spec.product_id());
    std::fs::create_dir_all(&stac).unwrap();
    for (band, key) in [("SR_B2", "blue"), ("SR_B3", "green"), ("SR_B4", "red"), ("SR_B5", "nir08"), ("SR_B6", "swir16"), ("SR_B7", "swir22"), ("ST_B10", "lwir11"), ("QA_PIXEL", "qa_pixel"), ("QA_RADSAT", "qa_radsat")] {
        std::fs::copy(folder.join(format!("{}_{band}.TIF", spec.product_id())), stac.join(format!("{key}.tif"))).unwrap();
    }
    std::fs::copy(&mtl, stac.join("mtl.txt")).unwrap();
    let inv = scan_scenes(&t.path().join("stac")).unwrap();
    assert_eq!(inv.scenes.len(), 1, "{:?}", inv.rejected);
    let s = &inv.scenes[0];
    assert!(s.bands[&Role::Nir].ends_with("nir08.tif") && s.bands[&Role::Thermal].ends_with("lwir11.tif"), "{:?}", s.bands);
    assert_eq!(s.profile.id, "landsat-oli-c2l2");
}

#[test]
fn sentinel2_safe_with_its_offset_and_modis_heat() {
    let t = TempDir::new("s2");
    // MOD11A2 of the synthetic MODIS archive (2019) gives the heat; the S2 tile sits at its centre
    let arch = t.path().join("archive");
    rsei_pipeline::demo::archive::generate_years(&arch, 42, 2019, 2019).expect("synthetic archive");
    let data = t.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut centre = None;
    for e in std::fs::read_dir(arch.join("modis/MOD11A2")).unwrap().flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.contains("h27v05") {
            std::fs::copy(e.path(), data.join(&n)).unwrap();
            if centre.is_none() {
                let r = rsei_io::LayerReader::open_file(&e.path(), None).unwrap();
                let b = r.grid().bounds();
                centre = Some(rsei_io::crs::reproject_points(&[((b.xmin + b.xmax) / 2.0, (b.ymin + b.ymax) / 2.0)], r.grid().crs(), &rsei_core::Crs::new("EPSG:32650")).unwrap()[0]);
            }
        }
    }
    let (cx, cy) = centre.expect("MOD11A2 h27v05 files");
    let (x0, y0) = ((cx / 60.0).round() * 60.0, (cy / 60.0).round() * 60.0);
    let g10 = syn::scene_grid(x0, y0, 10.0, 300, 300);
    let safe = syn::write_s2(&data, &g10, "2019-07-20", "04.00");
    let area = t.path().join("area.geojson");
    syn::area_geojson(&area, &g10, 15, 15, 285, 285);
    let out = t.path().join("out");
    let o = compute(&data, &area, &out, &["--years", "2019"]);
    assert!(o.status.success(), "{}", text(&o));
    let year = out.join("Scene_Town/2019");
    let s = json(&year.join("summary.json"));
    assert_eq!(s["sensor"]["profiles"], serde_json::json!(["sentinel2-msi-l2a"]));
    assert_eq!(s["sensor"]["levels"], serde_json::json!(["L2A baseline 04.00"]));
    assert!(s["sensor"]["heat"].as_str().unwrap().contains("MOD11A2"), "{}", s["sensor"]);
    assert_eq!(s["sensor"]["cell_size_m"], 20.0);
    // clouds (SCL 9) in the first 30 rows of 10 m
    assert!(s["sensor"]["qa"]["cloud"].as_u64().unwrap() > 0);
    let m = std::fs::read_to_string(year.join("manifest.json")).unwrap();
    assert!(m.contains("MOD11A2") && m.contains(".jp2"), "manifest lists the S2 bands and the MOD11A2 granules");
    // NDVI at a 20 m cell whose four 10 m cells hold one value, by hand: ρ = (DN − 1000) / 10000
    let water = SceneBand::open(year.join("water.tif").to_str().unwrap()).unwrap();
    let sg = water.grid().clone();
    let ndvi = read_f32(&year.join("ndvi.tif"), &sg);
    let (r10, c10) = (150usize, 60usize); // rows 150, 151 and columns 60, 61: 30 m block (50, 20)
    assert_eq!((r10 / 3, (r10 + 1) / 3, c10 / 3, (c10 + 1) / 3), (50, 50, 20, 20));
    let (x, y) = g10.cell_center(r10, c10);
    let (x, y) = (x + 5.0, y - 5.0); // the corner shared by the four 10 m cells: a 20 m cell centre
    let (sr, sc) = sg.cell_at(x, y).unwrap();
    let rho = syn::reflectance(50, 20);
    let dn = |v: f64| ((v * 10000.0) + 1000.0).round();
    let (red, nir) = ((dn(rho[2]) - 1000.0) / 10000.0, (dn(rho[3]) - 1000.0) / 10000.0);
    let hand = (nir - red) / (nir + red);
    let got = f64::from(ndvi[sg.index(sr, sc)]);
    assert!((got - hand).abs() < 1e-6, "NDVI {got} vs {hand} (without the offset: {})", (rho[3] - rho[2]) / (rho[3] + rho[2]));
    assert!(safe.join("MTD_MSIL2A.xml").exists());
    // without MOD11A2 the run says where heat must come from
    for e in std::fs::read_dir(&data).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("MOD11A2") {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    let o = compute(&data, &area, &t.path().join("out2"), &["--years", "2019"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("no thermal band") && text(&o).contains("MOD11A2"), "{}", text(&o));
}
