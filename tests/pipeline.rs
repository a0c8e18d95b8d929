//! End-to-end tests of the RSEI pipeline and the command line, on a small synthetic archive
//! (generated once per test run) and on the real MODIS files in `../shared/data`.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use rsei_pipeline::archive::Archive;
use rsei_pipeline::area::{load_areas, AreaSource};
use rsei_pipeline::compute::{StudyGrid, YearJob};
use rsei_pipeline::options::RseiRunOptions;
use rsei_pipeline::progress::Silent;

mod common;
use common::*;

/// The synthetic archive shared by the tests: seasons 2018–2020 (target year 2019).
fn archive_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let p = std::env::temp_dir().join(format!("rsei-test-archive-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        rsei_pipeline::demo::archive::generate_years(&p, 42, 2018, 2020).expect("generating the synthetic archive");
        p
    })
}

fn compute_args(out: &Path, extra: &[&str]) -> Vec<String> {
    let a = archive_dir();
    let mut v: Vec<String> = vec![
        "--quiet".into(),
        "compute".into(),
        "--data".into(),
        a.join("modis").display().to_string(),
        "--area".into(),
        a.join("vectors/city.geojson").display().to_string(),
        "--years".into(),
        "2019".into(),
        "--out".into(),
        out.display().to_string(),
        "--landcover".into(),
        a.join("landcover/MCD12Q1.A2020001.synthetic.061_LC_Type1.tif").display().to_string(),
        "--water-classes".into(),
        "17,11".into(),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn run_compute(out: &Path, extra: &[&str]) -> Output {
    let args = compute_args(out, extra);
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
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn compute_writes_every_output_and_a_plausible_rsei() {
    let t = TempDir::new("e2e");
    let o = run_compute(t.path(), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let year = t.path().join("Demo_City/2019");
    for f in [
        "rsei.tif", "ndvi.tif", "wet.tif", "ndbsi.tif", "lst_celsius.tif", "mndwi.tif", "grade.tif", "water.tif", "obs_count.tif",
        "rsei_map.png", "summary.json", "manifest.json",
    ] {
        assert!(year.join(f).is_file(), "missing {f}");
    }
    for f in ["pca_table.csv", "pca_table.json", "rsei_summary.csv", "rsei_summary.json"] {
        assert!(t.path().join(f).is_file(), "missing {f}");
        assert!(t.path().join("Demo_City").join(f).is_file(), "missing area {f}");
    }
    // no temporary file is left behind
    assert!(files_under(t.path()).iter().all(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.')));

    let s = json(&year.join("summary.json"));
    let mean = s["rsei_mean"].as_f64().unwrap();
    assert!((0.2..0.95).contains(&mean), "mean RSEI {mean}");
    let pc1: Vec<f64> = s["model"]["pc1"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    // greenness and wetness good, dryness and heat bad: the scene is built that way
    assert!(pc1[0] > 0.0 && pc1[1] > 0.0 && pc1[2] < 0.0 && pc1[3] < 0.0, "{pc1:?}");
    let contribution = s["model"]["pc1_contribution"].as_f64().unwrap();
    assert!(contribution > 0.5, "{contribution}");
    // grade shares sum to one; QA rejected cloudy observations
    let share: f64 = s["grades"]["grades"].as_array().unwrap().iter().map(|g| g["share"].as_f64().unwrap()).sum();
    assert!((share - 1.0).abs() < 1e-9);
    let qa09 = &s["qa"][0];
    assert_eq!(qa09["product"], "MOD09A1");
    assert!(qa09["report"]["valid"].as_u64().unwrap() < qa09["report"]["total"].as_u64().unwrap());
    assert!(s["n_water"].as_u64().unwrap() > 0, "the lake and river must be found");

    // the manifest lists the inputs with checksums and the outputs
    let m = json(&year.join("manifest.json"));
    let inputs = m["provenance"]["inputs"].as_array().unwrap();
    assert!(inputs.len() > 100);
    assert!(inputs.iter().all(|i| i["sha256"].as_str().unwrap().len() == 64));
    assert_eq!(m["provenance"]["options"]["composite"]["years_before"], 1);
    assert!(m["outputs"].as_array().unwrap().iter().any(|o| o["file"] == "rsei.tif"));

    // RSEI raster: values in [0, 1], nodata outside
    let r = rsei_io::plain::read_plain(&year.join("rsei.tif"), 1).unwrap();
    let vals: Vec<f32> = r.data().iter().copied().filter(|v| v.is_finite()).collect();
    assert_eq!(vals.len() as u64, s["n_pixels"].as_u64().unwrap());
    assert!(vals.iter().all(|&v| (0.0..=1.0).contains(&v)));
    assert!(vals.iter().any(|&v| v == 0.0) && vals.iter().any(|&v| v == 1.0));

    // the PCA table has one row per city of the scene for the year, with the loadings; each city
    // has its own folder and its own table
    let csv = std::fs::read_to_string(t.path().join("pca_table.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(rows[0].starts_with("Demo City,2019,") && rows[1].starts_with("Second City,2019,"), "{csv}");
    let own = std::fs::read_to_string(t.path().join("Demo_City/pca_table.csv")).unwrap();
    assert_eq!(own.lines().count(), 2);
    assert!(t.path().join("Second_City/2019/rsei.tif").is_file());
}

#[test]
fn outputs_are_identical_at_one_and_two_threads() {
    let a = TempDir::new("t1");
    let b = TempDir::new("t2");
    let args_a = compute_args(a.path(), &[]);
    let args_b = compute_args(b.path(), &[]);
    let mut ra: Vec<&str> = vec!["--threads", "1"];
    ra.extend(args_a.iter().map(String::as_str));
    let mut rb: Vec<&str> = vec!["--threads", "2"];
    rb.extend(args_b.iter().map(String::as_str));
    let (oa, ob) = (rsei(&ra), rsei(&rb));
    assert!(oa.status.success() && ob.status.success(), "{}{}", stderr(&oa), stderr(&ob));
    let fa = files_under(a.path());
    let fb = files_under(b.path());
    assert_eq!(fa.len(), fb.len());
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(x.strip_prefix(a.path()).unwrap(), y.strip_prefix(b.path()).unwrap());
        let name = x.file_name().unwrap().to_string_lossy();
        if name == "manifest.json" || name == "summary.json" {
            // these name the output folder, which differs; compare without it
            let strip = |p: &Path, root: &Path| std::fs::read_to_string(p).unwrap().replace(&root.display().to_string(), "OUT");
            assert_eq!(strip(x, a.path()), strip(y, b.path()), "{name}");
        } else {
            assert!(std::fs::read(x).unwrap() == std::fs::read(y).unwrap(), "{} differs between 1 and 2 threads", x.display());
        }
    }
}

#[test]
fn strip_height_does_not_change_the_indicators() {
    let a = archive_dir();
    let archive = Archive::scan(&[a.join("modis")]).unwrap();
    let areas = load_areas(&AreaSource::file(a.join("vectors/city.geojson"))).unwrap();
    let opts = RseiRunOptions::default();
    let study: StudyGrid = rsei_pipeline::run::study_grid(&areas[0], opts.clip_rule).unwrap();
    let cols = study.grid.cols();
    let rows_1km = study.grid_1km.rows();
    let mut results = Vec::new();
    // one strip for everything, then strips of a third and of a fifth of the rows (uneven last strips)
    for strip_cells in [usize::MAX / 8, 4 * cols * rows_1km.div_ceil(3), 4 * cols * rows_1km.div_ceil(5)] {
        let job = YearJob { archive: &archive, study: &study, landcover: None, year: 2019, strip_cells };
        results.push(job.run(&opts, &Silent).unwrap());
    }
    for r in &results[1..] {
        for (a, b) in [(&results[0].ndvi, &r.ndvi), (&results[0].wet, &r.wet), (&results[0].ndbsi, &r.ndbsi), (&results[0].lst_celsius, &r.lst_celsius)] {
            assert!(a.iter().zip(b.iter()).all(|(x, y)| x.to_bits() == y.to_bits()));
        }
        assert_eq!(results[0].count_mod09, r.count_mod09);
        assert_eq!(results[0].count_mod11, r.count_mod11);
        assert_eq!(results[0].water, r.water);
    }
    // and with bilinear LST, whose strips need a margin row
    let mut o2 = opts.clone();
    o2.lst_resample = rsei_core::indicators::Resample::Bilinear;
    let whole = YearJob { archive: &archive, study: &study, landcover: None, year: 2019, strip_cells: usize::MAX / 8 }.run(&o2, &Silent).unwrap();
    let strips = YearJob { archive: &archive, study: &study, landcover: None, year: 2019, strip_cells: 4 * cols * rows_1km.div_ceil(4) }.run(&o2, &Silent).unwrap();
    assert!(whole.lst_celsius.iter().zip(&strips.lst_celsius).all(|(x, y)| x.to_bits() == y.to_bits()));
    assert!(whole.lst_celsius.iter().zip(&results[0].lst_celsius).any(|(x, y)| x.is_finite() && x != y), "bilinear must differ from nearest");
}

#[test]
fn a_study_area_outside_the_data_is_a_clear_error_and_writes_nothing() {
    let t = TempDir::new("outside");
    let poly = t.path().join("far.geojson");
    std::fs::write(
        &poly,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"Far Away"},"geometry":{"type":"Polygon","coordinates":[[[10,45],[10.3,45],[10.3,45.3],[10,45.3],[10,45]]]}}]}"#,
    )
    .unwrap();
    let out = t.path().join("out");
    let a = archive_dir();
    let o = rsei(&[
        "--quiet",
        "compute",
        "--data",
        &a.join("modis").display().to_string(),
        "--area",
        &poly.display().to_string(),
        "--years",
        "2019",
        "--out",
        &out.display().to_string(),
    ]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("no MOD09A1 granule") && e.contains("Far Away"), "{e}");
    assert!(!out.join("Far_Away/2019/manifest.json").exists());
}

#[test]
fn a_year_without_data_is_a_clear_error() {
    let t = TempDir::new("noyear");
    let args = compute_args(t.path(), &[]);
    let mut refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let i = refs.iter().position(|&a| a == "2019").unwrap();
    refs[i] = "2012";
    let o = rsei(&refs);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("no MOD09A1 granule for 2012") && e.contains("seasons 2011..2013"), "{e}");
}

#[test]
fn bad_arguments_exit_with_code_2() {
    let t = TempDir::new("badargs");
    for (flag, value, needle) in [
        ("--season", "June:Sept", "MM-DD"),
        ("--normalisation", "zscore", "percentile:LO:HI"),
        ("--reducer", "mode", "expected one of"),
        ("--clip", "touch", "expected one of"),
    ] {
        let o = run_compute(t.path(), &[flag, value]);
        assert_eq!(o.status.code(), Some(2), "{flag} {value}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{flag}: {}", stderr(&o));
    }
    // before Landsat 4 TM (1982), the first year rsei reads
    let o = rsei(&["compute", "--data", "/nonexistent", "--area", "/nonexistent.geojson", "--years", "1975", "--out", "/tmp/x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("1975") && stderr(&o).contains("1982"), "{}", stderr(&o));
    // an options file that is missing, or holds a value of the wrong type, is named; nothing is written
    let missing = t.path().join("missing.toml");
    let bad = t.path().join("bad.toml");
    std::fs::write(&bad, "[composite]\nyears_before = \"one\"\n").unwrap();
    for (file, needle) in [(&missing, "reading options file"), (&bad, "invalid type: string \"one\"")] {
        let out = t.path().join("out");
        let o = run_compute(&out, &["--options", &file.display().to_string()]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(&file.display().to_string()) && stderr(&o).contains(needle), "{}", stderr(&o));
        assert!(!out.exists(), "nothing is written");
    }
}

#[test]
fn median_and_index_first_options_run_and_stay_close_to_the_default() {
    let t = TempDir::new("variants");
    let base = TempDir::new("variants-base");
    assert!(run_compute(base.path(), &[]).status.success());
    let m0 = json(&base.path().join("Demo_City/2019/summary.json"))["indicator_means"].clone();
    for extra in [vec!["--reducer", "median"], vec!["--order", "index-then-composite"], vec!["--ndvi", "mod09a1"]] {
        let o = run_compute(t.path(), &extra);
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
        let m = json(&t.path().join("Demo_City/2019/summary.json"))["indicator_means"].clone();
        for k in 0..4 {
            let (a, b) = (m0[k].as_f64().unwrap(), m[k].as_f64().unwrap());
            // different but close: the same scene seen through a different reducer or order
            assert!((a - b).abs() < 0.1 * a.abs().max(1.0), "{extra:?} indicator {k}: {a} vs {b}");
        }
    }
}

#[test]
fn pooled_pca_uses_one_model_for_all_years() {
    let t = TempDir::new("pooled");
    // seasons 2018–2020 hold data for target years 2019 (full window) and, with a zero-year window, 2018–2020
    let o = run_compute(t.path(), &["--pooled", "--window", "0:0"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let args = compute_args(t.path(), &["--pooled", "--window", "0:0"]);
    let mut refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let i = refs.iter().position(|&a| a == "2019").unwrap();
    refs[i] = "2018-2020";
    let o = rsei(&refs);
    assert!(o.status.success(), "{}", stderr(&o));
    let loads: Vec<serde_json::Value> =
        (2018..=2020).map(|y| json(&t.path().join(format!("Demo_City/{y}/summary.json")))["model"]["pc1"].clone()).collect();
    assert_eq!(loads[0], loads[1]);
    assert_eq!(loads[1], loads[2]);
    let ranges: Vec<serde_json::Value> =
        (2018..=2020).map(|y| json(&t.path().join(format!("Demo_City/{y}/summary.json")))["rsei0_range"].clone()).collect();
    assert_eq!(ranges[0], ranges[2], "pooled RSEI is rescaled with the range over all years");
}

#[test]
fn bring_your_own_indicators_reproduces_the_modis_rsei() {
    let t = TempDir::new("byo");
    assert!(run_compute(t.path(), &[]).status.success());
    let y = t.path().join("Demo_City/2019");
    // validity: the pixels that entered the model (finite RSEI)
    let r = rsei_io::plain::read_plain(&y.join("rsei.tif"), 1).unwrap();
    let valid: Vec<u8> = r.data().iter().map(|v| u8::from(v.is_finite())).collect();
    let vpath = t.path().join("valid.tif");
    rsei_io::write_raster(&vpath, &rsei_core::Raster::new(r.grid().clone(), valid).unwrap(), &rsei_io::WriteOptions::classes()).unwrap();
    let out = t.path().join("byo");
    let p = |f: &str| y.join(f).display().to_string();
    let o = rsei(&[
        "indicators", "--ndvi", &p("ndvi.tif"), "--wet", &p("wet.tif"), "--ndbsi", &p("ndbsi.tif"), "--lst", &p("lst_celsius.tif"), "--valid",
        &vpath.display().to_string(), "--out", &out.display().to_string(), "--name", "Demo City", "--year", "2019",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mine = rsei_io::plain::read_plain(&out.join("rsei.tif"), 1).unwrap();
    assert_eq!(mine.data().len(), r.data().len());
    assert!(mine.data().iter().zip(r.data()).all(|(a, b)| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())));
    let a = json(&y.join("summary.json"));
    let b = json(&out.join("summary.json"));
    assert_eq!(a["model"]["pc1"], b["model"]["pc1"]);
    assert!(out.join("manifest.json").is_file() && out.join("pca_table.csv").is_file() && out.join("rsei_map.png").is_file());
}

#[test]
fn bring_your_own_indicators_refuses_mismatched_grids_naming_the_files() {
    let t = TempDir::new("byo-bad");
    let g = rsei_core::Grid::new(4, 5, rsei_core::GeoTransform::new(500000.0, 30.0, 4000000.0, -30.0), rsei_core::Crs::new("EPSG:32650"));
    let vals: Vec<f32> = (0..20).map(|v| v as f32 / 20.0).collect();
    let w = |name: &str, grid: &rsei_core::Grid| {
        let p = t.path().join(name);
        rsei_io::write_raster(&p, &rsei_core::Raster::new(grid.clone(), vals.clone()).unwrap(), &rsei_io::WriteOptions::continuous()).unwrap();
        p.display().to_string()
    };
    let (a, b, c) = (w("ndvi.tif", &g), w("wet.tif", &g), w("ndbsi.tif", &g));
    let other = g.clone().with_crs(rsei_core::Crs::new("EPSG:32651"));
    let d = w("lst.tif", &other);
    let out = t.path().join("out").display().to_string();
    let o = rsei(&["indicators", "--ndvi", &a, "--wet", &b, "--ndbsi", &c, "--lst", &d, "--out", &out]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("ndvi.tif") && e.contains("lst.tif") && e.contains("CRS"), "{e}");
    // a constant indicator cannot be normalised
    let (c2, d2) = {
        let p = t.path().join("const.tif");
        rsei_io::write_raster(&p, &rsei_core::Raster::new(g.clone(), vec![0.3f32; 20]).unwrap(), &rsei_io::WriteOptions::continuous()).unwrap();
        (p.display().to_string(), w("lst2.tif", &g))
    };
    let o = rsei(&["indicators", "--ndvi", &a, "--wet", &b, "--ndbsi", &c2, "--lst", &d2, "--out", &out]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("NDBSI is constant"), "{}", stderr(&o));
}

#[test]
fn scan_lists_granules_and_every_unusable_file() {
    let t = TempDir::new("scan");
    let a = archive_dir();
    // a few real per-layer files, a truncated copy, and a stray file
    let src = a.join("modis/MOD11A2");
    let mut n = 0;
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        if p.to_string_lossy().contains("A2019177") {
            std::fs::copy(&p, t.path().join(p.file_name().unwrap())).unwrap();
            n += 1;
        }
    }
    assert_eq!(n, 4, "two layers × two tiles");
    let bytes = std::fs::read(src.join(std::fs::read_dir(&src).unwrap().next().unwrap().unwrap().file_name())).unwrap();
    std::fs::write(t.path().join("MOD11A2.A2019185.h27v05.061.2019194000000_LST_Day_1km.tif"), &bytes[..bytes.len() / 3]).unwrap();
    std::fs::write(t.path().join("notes.txt"), "field notes").unwrap();
    let o = rsei(&["scan", &t.path().display().to_string()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.contains("MOD11A2") && s.contains("h26v05") && s.contains("h27v05") && s.contains("2019-177"), "{s}");
    assert!(s.contains("notes.txt") && s.contains("MOD11A2.A2019185"), "{s}");
}

// ---------------------------------------------------------------- real MODIS data

fn shared_data() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("SKIPPED: ../shared/data is not present");
        None
    }
}

/// Indicators from the real MOD09A1 granule at three pixels equal the formulas applied by hand to
/// the raw values `gdallocationinfo` prints:
/// ```text
/// F=MOD09A1.A2017193.h18v04.006.2017202035302.hdf; G=MOD_Grid_500m_Surface_Reflectance_463
/// gdallocationinfo -valonly "HDF4_EOS:EOS_GRID:\"$F\":$G:sur_refl_bNN" COL ROW      (NN = 01..07)
///   col 0,  row 0 : 485 3345 220 560 3464 1905 920
///   col 14, row 10: 195 1972  61 276 2000 1177 497
///   col 26, row 2 : 239 3544  98 407 3218 1720 549
/// ```
/// By hand (ρ = DN × 0.0001), e.g. col 0 row 0: NDVI = (0.3345 − 0.0485)/(0.3345 + 0.0485) = 0.746736;
/// WET = 0.1147·0.0485 + 0.2489·0.3345 + 0.2408·0.0220 + 0.3132·0.0560 − 0.3122·0.3464 − 0.6416·0.1905
/// − 0.5087·0.0920 = −0.165514; SI = ((0.1905 + 0.0485) − (0.3345 + 0.0220))/(… + …) = −0.197313;
/// IBI = (2·0.1905/(0.1905 + 0.3345) − (0.3345/(0.3345 + 0.0485) + 0.0560/(0.0560 + 0.1905)))/(… + …)
/// = −0.205247; NDBSI = (SI + IBI)/2 = −0.201280; MNDWI = (0.0560 − 0.1905)/(0.0560 + 0.1905) = −0.545639.
#[test]
fn real_mod09a1_indicators_at_three_pixels_match_hand_computation() {
    use rsei_core::indicators::{compute_indicators, IndicatorsOut, WetnessCoefficients};
    use rsei_io::products::Layer;
    let Some(d) = shared_data() else { return };
    let f = d.join("modis/MOD09A1.A2017193.h18v04.006.2017202035302.hdf");
    let bands: Vec<Vec<f32>> = (1..=7u8)
        .map(|b| {
            let r = rsei_io::LayerReader::open_file(&f, Some(Layer::reflectance_band(b).unwrap())).unwrap();
            r.read_f32(r.grid().full_window()).unwrap()
        })
        .collect();
    let n = bands[0].len();
    assert_eq!(n, 66 * 73);
    let (mut wet, mut ndbsi, mut mndwi, mut ndvi) = (vec![0f32; n], vec![0f32; n], vec![0f32; n], vec![0f32; n]);
    let refs: [&[f32]; 7] = std::array::from_fn(|k| bands[k].as_slice());
    compute_indicators(refs, &WetnessCoefficients::MODIS, IndicatorsOut { wet: &mut wet, ndbsi: &mut ndbsi, mndwi: &mut mndwi, ndvi: Some(&mut ndvi) }).unwrap();
    // (row, col) → expected (NDVI, WET, NDBSI, MNDWI), computed by hand as above
    let expected = [
        ((0usize, 0usize), [0.746736, -0.165514, -0.201280, -0.545639]),
        ((10, 14), [0.820028, -0.101806, -0.192442, -0.620096]),
        ((2, 26), [0.873645, -0.132690, -0.283452, -0.617301]),
    ];
    for ((r, c), e) in expected {
        let i = r * 66 + c;
        let got = [ndvi[i], wet[i], ndbsi[i], mndwi[i]];
        for k in 0..4 {
            assert!((f64::from(got[k]) - e[k]).abs() < 2e-6, "pixel ({r}, {c}) indicator {k}: {} vs {}", got[k], e[k]);
        }
    }
}

/// The share of QA-valid pixels of the real MOD09A1 granule under the default rules, against an
/// independent decoding of the bit fields written out here.
#[test]
fn real_mod09a1_qa_valid_share() {
    use rsei_io::products::Layer;
    let Some(d) = shared_data() else { return };
    let f = d.join("modis/MOD09A1.A2017193.h18v04.006.2017202035302.hdf");
    let read = |l: Layer| {
        let r = rsei_io::LayerReader::open_file(&f, Some(l)).unwrap();
        r.read_raw_u32(r.grid().full_window()).unwrap()
    };
    let qc = read(Layer::SurReflQc);
    let state = read(Layer::SurReflState);
    let bands: Vec<Vec<f32>> = (1..=7u8)
        .map(|b| {
            let r = rsei_io::LayerReader::open_file(&f, Some(Layer::reflectance_band(b).unwrap())).unwrap();
            r.read_f32(r.grid().full_window()).unwrap()
        })
        .collect();
    let n = qc.len();
    // independent decoding (METHOD §1 defaults)
    let mut by_hand = 0usize;
    for i in 0..n {
        let s = state[i];
        let q = qc[i];
        let cloud = s & 0b11;
        let ok = s != 0xFFFF
            && q != u32::MAX
            && (cloud == 0 || cloud == 3)
            && (s >> 2) & 1 == 0
            && (s >> 8) & 0b11 <= 1
            && (s >> 10) & 1 == 0
            && (s >> 13) & 1 == 0
            && (s >> 15) & 1 == 0
            && (q & 0b11) <= 1
            && bands.iter().all(|b| b[i].is_finite() && (-0.01..=1.6).contains(&b[i]));
        by_hand += usize::from(ok);
    }
    let rules = rsei_core::qa::Mod09Rules::default();
    let state16: Vec<u16> = state.iter().map(|&s| s as u16).collect();
    let mut valid = vec![false; n];
    rules.validity_mask(&qc, &state16, &mut valid).unwrap();
    let refs: [&[f32]; 7] = std::array::from_fn(|k| bands[k].as_slice());
    rsei_core::qa::ReflectanceRange::default().and_mask(refs, &mut valid, None).unwrap();
    let ours = valid.iter().filter(|&&v| v).count();
    assert_eq!(ours, by_hand);
    let share = ours as f64 / n as f64;
    // a mostly clear alpine scene (the granule's own metadata: 6 % cloudy, 1 % shadow)
    assert!((0.5..0.99).contains(&share), "valid share {share}");
    eprintln!("QA-valid share of the real MOD09A1 subset: {ours}/{n} = {share:.4}");
}
