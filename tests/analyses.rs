//! The analyses beyond the source study (comparable time series, trend, change, geographical
//! detector, spatial autocorrelation) on the outputs of `rsei demo`, made once per test process.
//! Every number is checked against an independent computation in the test (a pooled
//! `rsei compute`, brute-force Sen slopes, hand-counted transfer matrices, q from its definition,
//! Moran's I by a double loop) or against the core function on the very pixels; bad inputs give
//! errors that name the area, file, year or factor.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rsei_core::Raster;
use rsei_pipeline::analyses::autocorrelation::{self, AutocorrelationOptions, AutocorrelationRequest};
use rsei_pipeline::analyses::change::{self, ChangeOptions, ChangeRequest};
use rsei_pipeline::analyses::common::RseiSource;
use rsei_pipeline::analyses::geodetector::{self, GeodetectorOptions, GeodetectorRequest};
use rsei_pipeline::analyses::timeseries::{self, TimeSeriesOptions, TimeSeriesRequest};
use rsei_pipeline::analyses::trend::{self, TrendOptions, TrendRequest};
use rsei_pipeline::area::{load_areas, AreaSource, StudyArea};
use rsei_pipeline::progress::Silent;
use serde_json::Value;

mod common;
use common::*;

/// The demo (synthetic archive, study of both cities 2018–2022) run once: its folder.
fn demo() -> &'static Path {
    static F: OnceLock<PathBuf> = OnceLock::new();
    F.get_or_init(|| {
        remove_stale_fixtures("rsei-analyses-fixture-");
        let root = std::env::temp_dir().join(format!("rsei-analyses-fixture-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let o = rsei(&["--quiet", "demo", "--out", &root.display().to_string()]);
        assert!(o.status.success(), "rsei demo failed: {}", text(&o));
        root
    })
}

fn results() -> PathBuf {
    demo().join("results")
}

fn area(name: &str) -> StudyArea {
    let src = AreaSource { name_field: Some("name_en".into()), ..AreaSource::file(demo().join("data/vectors/city.geojson")) };
    load_areas(&src).unwrap().into_iter().find(|a| a.name == name).unwrap()
}

/// The pooled time series of Demo City computed again by the library, into a folder of its own
/// (the demo study wrote its own into `Demo_City/timeseries`, which the trend and change tests read).
fn pooled() -> &'static timeseries::TimeSeriesSummary {
    static F: OnceLock<timeseries::TimeSeriesSummary> = OnceLock::new();
    F.get_or_init(|| {
        let req = TimeSeriesRequest { rsei_dir: results(), area: area("Demo City"), area_file: None, years: None, options: TimeSeriesOptions::default(), out_dir: Some(demo().join("ts-check")) };
        timeseries::run(&req, &Silent).unwrap()
    })
}

fn raster(p: &Path) -> Raster<f32> {
    rsei_io::plain::read_plain(p, 1).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// A copy of the demo results of one area with only `years` (a folder of its own).
fn copy_years(dst: &Path, years: &[i32]) -> PathBuf {
    let out = dst.join("results");
    for y in years {
        copy_dir(&results().join("Demo_City").join(y.to_string()), &out.join("Demo_City").join(y.to_string()));
    }
    out
}

#[test]
fn pooled_time_series_matches_the_pooled_compute_and_the_per_year_models() {
    let s = pooled();
    assert_eq!(s.years, vec![2018, 2019, 2020, 2021, 2022]);
    // the pooled model of `rsei compute --pooled` on the same data: same loadings, same bytes
    let t = TempDir::new("pooled-compute");
    let d = demo().join("data");
    let o = rsei(&[
        "--quiet",
        "compute",
        "--data",
        &d.join("modis").display().to_string(),
        "--area",
        &d.join("vectors/city.geojson").display().to_string(),
        "--name-field",
        "name_en",
        "--where",
        "name_en = 'Demo City'",
        "--years",
        "2018-2022",
        "--landcover",
        &d.join("landcover/MCD12Q1.A2020001.synthetic.061_LC_Type1.tif").display().to_string(),
        "--water-classes",
        "17,11",
        "--pooled",
        "--out",
        &t.path().display().to_string(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    // the pooled compute adds the drift and the sign check (without rasters: it wrote the pooled RSEI)
    assert!(text(&o).contains("Demo City: angle of each year's own PC1 to the pooled one: 2018 "), "{}", text(&o));
    let cs = json(&t.path().join("Demo_City/timeseries/summary.json"));
    // both sides through the same text and parser (serde_json parses floats exactly only with its
    // `float_roundtrip` feature, which depends on the packages a build selects)
    let ts_drift: serde_json::Value = serde_json::from_str(&serde_json::to_string(&s.drift).unwrap()).unwrap();
    assert_eq!(cs["drift"], ts_drift);
    assert!(!t.path().join("Demo_City/timeseries/rsei_2018.tif").exists());
    for y in 2018..=2022 {
        let sj = json(&t.path().join(format!("Demo_City/{y}/summary.json")));
        let pc1: Vec<f64> = sj["model"]["pc1"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert_eq!(pc1, s.model.pc1.to_vec(), "{y}: pooled loadings");
        assert_eq!(sj["model"]["n_pixels"].as_u64().unwrap(), s.model.n_pixels);
        let ours = raster(&results().join(format!("Demo_City/timeseries/rsei_{y}.tif")));
        let theirs = raster(&t.path().join(format!("Demo_City/{y}/rsei.tif")));
        assert_eq!(bits(ours.data()), bits(theirs.data()), "{y}: pooled RSEI");
        let g_ours = raster(&results().join(format!("Demo_City/timeseries/grade_{y}.tif")));
        let g_theirs = raster(&t.path().join(format!("Demo_City/{y}/grade.tif")));
        assert_eq!(bits(g_ours.data()), bits(g_theirs.data()), "{y}: pooled grades");
    }
    // each year's own loadings are those of the per-year run of the demo
    for r in &s.drift {
        let sj = json(&results().join(format!("Demo_City/{}/summary.json", r.year)));
        let pc1: Vec<f64> = sj["model"]["pc1"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert_eq!(r.own.to_vec(), pc1, "{}: own loadings", r.year);
        assert_eq!(r.n_pixels, sj["n_pixels"].as_u64().unwrap());
        // the angle and the largest difference, from the two vectors
        let dot: f64 = (0..4).map(|k| r.own[k] * r.pooled[k]).sum();
        assert!((r.angle_deg - dot.acos().to_degrees()).abs() < 1e-9);
        let mx = (0..4).map(|k| (r.own[k] - r.pooled[k]).abs()).fold(0.0, f64::max);
        assert_eq!(r.max_abs_diff, mx);
        assert!(r.sign_ok, "{:?}", r.sign_notes);
    }
    // the study unit of the demo wrote the same files
    for f in s.files.iter().filter(|f| !f.ends_with(".json") || f.as_str() == "drift.json") {
        let (a, b) = (std::fs::read(demo().join("ts-check").join(f)).unwrap(), std::fs::read(results().join("Demo_City/timeseries").join(f)).unwrap());
        assert!(a == b, "{f} differs between the library call and the study unit");
    }
    // the tables say the same
    let drift = std::fs::read_to_string(results().join("Demo_City/timeseries/drift.csv")).unwrap();
    assert_eq!(drift.lines().count(), 6, "{drift}");
    assert!(!drift.contains("NaN"));
    let m = json(&results().join("Demo_City/timeseries/manifest.json"));
    assert!(m["outputs"].as_array().unwrap().iter().any(|o| o["file"] == "drift.csv"));
    assert_eq!(m["inputs"].as_array().unwrap().len(), 26, "4 indicators and water × 5 years, and the area file");
}

#[test]
fn time_series_with_fixed_bounds_uses_them() {
    let t = TempDir::new("ts-fixed");
    let fixed = rsei_core::model::Normalisation::Fixed { ndvi: [-0.2, 1.0], wet: [-0.6, 0.2], ndbsi: [-0.6, 0.6], lst: [0.0, 50.0] };
    let req = TimeSeriesRequest {
        rsei_dir: results(),
        area: area("Second City"),
        area_file: None,
        years: Some(vec![2019, 2021]),
        options: TimeSeriesOptions { normalisation: fixed, rasters: false, ..Default::default() },
        out_dir: Some(t.path().join("ts")),
    };
    let s = timeseries::run(&req, &Silent).unwrap();
    assert_eq!(s.years, vec![2019, 2021]);
    assert_eq!(s.model.normalisation, fixed);
    assert_eq!((s.model.bounds[3].lo, s.model.bounds[3].hi), (0.0, 50.0));
    assert!(!t.path().join("ts/rsei_2019.tif").exists());
    let b = std::fs::read_to_string(t.path().join("ts/pooled_bounds.csv")).unwrap();
    assert!(b.contains("LST,0.00000000,50.00000000,true"), "{b}");
    // one year only: refused, naming the area
    let e = timeseries::run(&TimeSeriesRequest { years: Some(vec![2019]), ..req.clone() }, &Silent).unwrap_err();
    assert!(e.to_string().contains("Second City") && e.to_string().contains("at least 2 years"), "{e}");
    // bad bounds: refused before any work
    let bad = rsei_core::model::Normalisation::Fixed { ndvi: [1.0, -0.2], wet: [-0.6, 0.2], ndbsi: [-0.6, 0.6], lst: [0.0, 50.0] };
    let e = timeseries::run(&TimeSeriesRequest { options: TimeSeriesOptions { normalisation: bad, ..Default::default() }, ..req }, &Silent).unwrap_err();
    assert!(e.to_string().contains("normalisation.fixed.ndvi"), "{e}");
    assert!(e.is_usage());
}

/// Sen slope by brute force: median of the pairwise slopes.
fn sen_brute(v: &[(f64, f64)]) -> f64 {
    let mut s = Vec::new();
    for i in 0..v.len() {
        for j in i + 1..v.len() {
            s.push((v[j].1 - v[i].1) / (v[j].0 - v[i].0));
        }
    }
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}

#[test]
fn trend_numbers_are_those_of_each_pixel_series() {
    let _ = pooled();
    for source in [RseiSource::PerYear, RseiSource::Pooled] {
        let t = TempDir::new(&format!("trend-{}", source.name()));
        let out = t.path().join("trend");
        let req = TrendRequest { rsei_dir: results(), area: area("Demo City"), area_file: None, years: None, options: TrendOptions { source, ..Default::default() }, out_dir: Some(out.clone()) };
        let s = trend::run(&req, &Silent).unwrap();
        let layers: Vec<Raster<f32>> = (2018..=2022).map(|y| raster(&source.rsei_path(&results().join("Demo_City"), y))).collect();
        let slope = raster(&out.join("sen_slope.tif"));
        let p = raster(&out.join("p_value.tif"));
        let z = raster(&out.join("mk_z.tif"));
        let class = raster(&out.join("class.tif"));
        let n = slope.data().len();
        let mut tested = Vec::new();
        let mut checked = 0;
        for i in 0..n {
            let vals: Vec<f64> = layers.iter().map(|l| f64::from(l.data()[i])).collect();
            let pts: Vec<(f64, f64)> = vals.iter().enumerate().filter(|(_, v)| v.is_finite()).map(|(k, v)| (k as f64, *v)).collect();
            if pts.len() < 4 {
                assert!(slope.data()[i].is_nan() && p.data()[i].is_nan());
                continue;
            }
            // S by its definition, Sen slope by brute force
            let mut s_stat = 0i64;
            for a in 0..pts.len() {
                for b in a + 1..pts.len() {
                    s_stat += (pts[b].1 - pts[a].1).partial_cmp(&0.0).map_or(0, |o| o as i64);
                }
            }
            let r = rsei_core::trend::mann_kendall(&vals, &rsei_core::trend::MkOptions::default()).unwrap();
            assert_eq!(r.s, s_stat);
            assert_eq!(slope.data()[i], sen_brute(&pts) as f32, "pixel {i}");
            assert_eq!(p.data()[i], r.p as f32);
            assert_eq!(z.data()[i], r.z as f32);
            tested.push((i, r.p, r.z));
            checked += 1;
        }
        assert_eq!(checked as u64, s.pixels.tested);
        // classes: Benjamini–Hochberg over the tested pixels at q = 0.05
        let q = rsei_core::trend::benjamini_hochberg(&tested.iter().map(|x| x.1).collect::<Vec<_>>()).unwrap();
        let mut counts = [0u64; 4];
        for ((i, _, zz), qq) in tested.iter().zip(&q) {
            let want = if *qq > 0.05 { 2.0 } else if *zz > 0.0 { 3.0 } else { 1.0 };
            assert_eq!(class.data()[*i], want, "pixel {i}");
            counts[want as usize] += 1;
        }
        assert_eq!((counts[1], counts[2], counts[3]), (s.pixels.degradation, s.pixels.not_significant, s.pixels.improvement));
        // the area series: the yearly means of summary.json (per-year) or of the pooled rasters
        for (k, &(y, _, m)) in s.series.iter().enumerate() {
            assert_eq!(y, 2018 + k as i32);
            if source == RseiSource::PerYear {
                let sj = json(&results().join(format!("Demo_City/{y}/summary.json")));
                assert!((m - sj["rsei_mean"].as_f64().unwrap()).abs() < 1e-9);
            }
        }
        let means: Vec<f64> = s.series.iter().map(|x| x.2).collect();
        let r = rsei_core::trend::mann_kendall(&means, &rsei_core::trend::MkOptions::default()).unwrap();
        assert_eq!(s.series_trend.test.as_ref().unwrap(), &r);
        // tables
        let classes = std::fs::read_to_string(out.join("classes.csv")).unwrap();
        assert!(classes.contains(&format!("not significant,2,\"tested, no significant trend\",{},", s.pixels.not_significant)), "{classes}");
        let st = std::fs::read_to_string(out.join("series_trend.csv")).unwrap();
        assert!(st.contains("tested") && !st.contains("NaN"), "{st}");
        assert!(out.join("map_class.svg").is_file() && out.join("fig_series.png").is_file());
    }
}

#[test]
fn trend_refuses_too_few_years_and_constant_or_empty_series() {
    let t = TempDir::new("trend-bad");
    let dc = area("Demo City");
    // three years
    let out = copy_years(&t.path().join("three"), &[2018, 2019, 2020]);
    let req = TrendRequest { rsei_dir: out, area: dc.clone(), area_file: None, years: None, options: TrendOptions::default(), out_dir: None };
    let e = trend::run(&req, &Silent).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("\"Demo City\"") && msg.contains("at least 4 years") && msg.contains("found 3 (2018\u{2013}2020)"), "{msg}");
    assert!(e.is_usage());
    // four years, every one the same raster: every pixel constant
    let out = copy_years(&t.path().join("const"), &[2018, 2019, 2020, 2021]);
    for y in 2019..=2021 {
        std::fs::copy(out.join("Demo_City/2018/rsei.tif"), out.join(format!("Demo_City/{y}/rsei.tif"))).unwrap();
    }
    let req = TrendRequest { rsei_dir: out.clone(), ..req };
    let e = trend::run(&req, &Silent).unwrap_err().to_string();
    assert!(e.contains("Demo City") && e.contains("no pixel could be tested") && e.contains("a constant series"), "{e}");
    // the area's mean series alone constant is reported in the table, not as NaN: not reachable
    // without constant pixels, so check the empty case instead: every year without RSEI
    let out = copy_years(&t.path().join("empty"), &[2018, 2019, 2020, 2021]);
    let g = raster(&out.join("Demo_City/2018/rsei.tif"));
    for y in 2018..=2021 {
        let p = out.join(format!("Demo_City/{y}/rsei.tif"));
        std::fs::remove_file(&p).unwrap();
        rsei_io::write_raster(&p, &Raster::new(g.grid().clone(), vec![f32::NAN; g.data().len()]).unwrap(), &rsei_io::WriteOptions::continuous()).unwrap();
    }
    let e = trend::run(&TrendRequest { rsei_dir: out, ..req }, &Silent).unwrap_err().to_string();
    assert!(e.contains("no pixel could be tested") && e.contains("no data"), "{e}");
    // a pooled source that was never computed
    let out = copy_years(&t.path().join("nopool"), &[2018, 2019, 2020, 2021]);
    let e = trend::run(&TrendRequest { rsei_dir: out, area: dc, area_file: None, years: None, options: TrendOptions { source: RseiSource::Pooled, ..Default::default() }, out_dir: None }, &Silent).unwrap_err().to_string();
    assert!(e.contains("rsei timeseries"), "{e}");
    // options
    let e = TrendOptions { min_years: 3, ..Default::default() }.validate().unwrap_err().to_string();
    assert!(e.contains("min_years"), "{e}");
}

#[test]
fn change_matrix_and_difference_add_up() {
    let _ = pooled();
    for source in [RseiSource::PerYear, RseiSource::Pooled] {
        let t = TempDir::new(&format!("change-{}", source.name()));
        let out = t.path().join("change");
        let opts = ChangeOptions { source, from: Some(2018), to: Some(2021), tolerance: 0.02 };
        let req = ChangeRequest { rsei_dir: results(), area: area("Demo City"), area_file: None, options: opts, out_dir: Some(out.clone()) };
        let s = change::run(&req, &Silent).unwrap();
        let dir = results().join("Demo_City");
        let (g0, g1) = (raster(&source.grade_path(&dir, 2018)), raster(&source.grade_path(&dir, 2021)));
        let (r0, r1) = (raster(&source.rsei_path(&dir, 2018)), raster(&source.rsei_path(&dir, 2021)));
        // the matrix counted cell by cell
        let mut counts = [[0u64; 5]; 5];
        for (a, b) in g0.data().iter().zip(g1.data()) {
            if a.is_finite() && b.is_finite() {
                counts[*a as usize - 1][*b as usize - 1] += 1;
            }
        }
        assert_eq!(s.transfer.counts, counts);
        let km2 = g0.grid().cell_area() / 1e6;
        assert_eq!(s.transfer.area_km2[4][3], counts[4][3] as f64 * km2);
        let imp: u64 = (0..5).flat_map(|f| (f + 1..5).map(move |t| (f, t))).map(|(f, t)| counts[f][t]).sum();
        assert_eq!(s.transfer.improved, imp);
        // the difference raster is later − earlier, cell by cell
        let d = raster(&out.join("difference_2018_2021.tif"));
        let mut inc = 0;
        for ((x, a), b) in d.data().iter().zip(r0.data()).zip(r1.data()) {
            if a.is_finite() && b.is_finite() {
                assert_eq!(*x, b - a);
                inc += usize::from(f64::from(b - a) > 0.02);
            } else {
                assert!(x.is_nan());
            }
        }
        assert_eq!(inc as u64, s.difference.increased);
        let gc = raster(&out.join("grade_change_2018_2021.tif"));
        for ((c, a), b) in gc.data().iter().zip(g0.data()).zip(g1.data()) {
            if a.is_finite() && b.is_finite() {
                assert_eq!(*c, b - a);
            }
        }
        // the long table has 25 rows whose km² add up to the cells graded in both years
        let rows: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(out.join("transfer_matrix.json")).unwrap()).unwrap();
        assert_eq!(rows.len(), 25);
        let cells: u64 = rows.iter().map(|r| r["cells"].as_u64().unwrap()).sum();
        assert_eq!(cells, s.transfer.n);
        let svg = std::fs::read_to_string(out.join("fig_transfer.svg")).unwrap();
        assert!(svg.contains("2018") && svg.contains("Excellent"));
    }
}

#[test]
fn change_refuses_bad_years() {
    let dc = area("Demo City");
    let req = |o: ChangeOptions| ChangeRequest { rsei_dir: results(), area: dc.clone(), area_file: None, options: o, out_dir: Some(std::env::temp_dir().join("rsei-never-written")) };
    let e = change::run(&req(ChangeOptions { from: Some(2019), to: Some(2019), ..Default::default() }), &Silent).unwrap_err().to_string();
    assert!(e.contains("must come before"), "{e}");
    let e = change::run(&req(ChangeOptions { from: Some(2017), to: Some(2019), ..Default::default() }), &Silent).unwrap_err().to_string();
    assert!(e.contains("2017/rsei.tif not found") && e.contains("2018"), "{e}");
    let e = change::run(&req(ChangeOptions { to: Some(2018), ..Default::default() }), &Silent).unwrap_err().to_string();
    assert!(e.contains("two different years"), "{e}");
    assert!(!std::env::temp_dir().join("rsei-never-written").exists());
}

#[test]
fn geodetector_q_by_hand_and_bad_factors() {
    let t = TempDir::new("gd");
    let out = t.path().join("gd");
    let req = GeodetectorRequest { rsei_dir: results(), area: area("Second City"), options: GeodetectorOptions::default(), out_dir: Some(out.clone()) };
    let s = geodetector::run(&req, &Silent).unwrap();
    let dir = results().join("Second_City/drivers");
    let y = raster(&dir.join("rsei.tif"));
    let names: Vec<String> = json(&dir.join("summary.json"))["drivers"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap().to_string()).collect();
    let layers: Vec<Raster<f32>> = (1..=names.len()).map(|b| rsei_io::plain::read_plain(&dir.join("stack.tif"), b).unwrap()).collect();
    let rows: Vec<usize> = (0..y.data().len()).filter(|&i| y.data()[i].is_finite() && layers.iter().all(|l| l.data()[i].is_finite())).collect();
    assert_eq!(rows.len(), s.n);
    let yy: Vec<f64> = rows.iter().map(|&i| f64::from(y.data()[i])).collect();
    let mean = yy.iter().sum::<f64>() / yy.len() as f64;
    let sst: f64 = yy.iter().map(|v| (v - mean).powi(2)).sum();
    for f in &s.report.factors {
        let j = names.iter().position(|n| *n == f.name).unwrap();
        let d = f.discretization.as_ref().unwrap();
        // q = 1 − SSW/SST over the classes x ≤ b1 < x ≤ b2 …
        let mut groups: std::collections::BTreeMap<usize, Vec<f64>> = Default::default();
        for (&i, &v) in rows.iter().zip(&yy) {
            let x = f64::from(layers[j].data()[i]);
            groups.entry(d.breaks.iter().filter(|&&b| b < x).count()).or_default().push(v);
        }
        let ssw: f64 = groups.values().map(|g| {
            let m = g.iter().sum::<f64>() / g.len() as f64;
            g.iter().map(|v| (v - m).powi(2)).sum::<f64>()
        }).sum();
        assert!((f.factor.q - (1.0 - ssw / sst)).abs() < 1e-9, "{}: {} vs {}", f.name, f.factor.q, 1.0 - ssw / sst);
        assert_eq!(groups.len(), f.factor.n_strata);
        // the chosen discretisation has the largest q of its candidates
        let best = f.candidates.as_ref().unwrap().iter().filter_map(|c| c.q).fold(0.0, f64::max);
        assert_eq!(best, f.factor.q);
    }
    assert_eq!(s.report.pairs.len(), names.len() * (names.len() - 1) / 2);
    let cases = std::fs::read_to_string(out.join("complete_cases.csv")).unwrap();
    assert_eq!(cases.lines().count(), s.n + 1);
    let factor = std::fs::read_to_string(out.join("factor.csv")).unwrap();
    assert!(!factor.contains("NaN"), "{factor}");

    // bad factors: unknown, constant, all NaN, named explicitly
    let e = geodetector::run(&GeodetectorRequest { options: GeodetectorOptions { factors: Some(vec!["GDPP".into()]), ..Default::default() }, ..req.clone() }, &Silent).unwrap_err().to_string();
    assert!(e.contains("factor \"GDPP\" is not a driver") && e.contains("GDP"), "{e}");
    let fake = t.path().join("fake");
    let fd = fake.join("Second_City/drivers");
    std::fs::create_dir_all(&fd).unwrap();
    let g = y.grid().clone();
    let flat = vec![3.0f32; g.len()];
    let nan = vec![f32::NAN; g.len()];
    rsei_io::write_bands(&fd.join("stack.tif"), &g, &[("DEM", layers[0].data()), ("Flat", &flat[..]), ("Empty", &nan[..])], &rsei_io::WriteOptions::continuous()).unwrap();
    std::fs::copy(dir.join("rsei.tif"), fd.join("rsei.tif")).unwrap();
    std::fs::write(fd.join("summary.json"), r#"{"year": 2019, "drivers": [{"name": "DEM"}, {"name": "Flat"}, {"name": "Empty"}]}"#).unwrap();
    let fr = |f: Option<Vec<String>>| GeodetectorRequest { rsei_dir: fake.clone(), area: area("Second City"), options: GeodetectorOptions { factors: f, ..Default::default() }, out_dir: Some(t.path().join("fake-out")) };
    let e = geodetector::run(&fr(Some(vec!["DEM".into(), "Flat".into()])), &Silent).unwrap_err();
    assert!(e.to_string().contains("factor Flat") && e.to_string().contains("single class"), "{e}");
    assert!(e.is_usage());
    let e = geodetector::run(&fr(Some(vec!["Empty".into()])), &Silent).unwrap_err().to_string();
    assert!(e.contains("factor Empty") && e.contains("all NaN"), "{e}");
    // by default, constant and empty drivers are left out with a note
    let s = geodetector::run(&fr(None), &Silent).unwrap();
    assert_eq!(s.factors, vec!["DEM".to_string()]);
    assert_eq!(s.left_out.len(), 2);
    assert!(s.notes.iter().any(|n| n.contains("Flat is constant")), "{:?}", s.notes);
    // no driver analysis at all
    let e = geodetector::run(&GeodetectorRequest { rsei_dir: fake, area: area("Demo City"), options: GeodetectorOptions::default(), out_dir: None }, &Silent).unwrap_err().to_string();
    assert!(e.contains("Demo City"), "{e}");
}

#[test]
fn autocorrelation_grid_equals_the_driver_grid_and_moran_by_hand() {
    let t = TempDir::new("ac");
    let out = t.path().join("ac");
    let opts = AutocorrelationOptions { years: Some(vec![2019, 2022]), permutations: 99, ..Default::default() };
    let req = AutocorrelationRequest { rsei_dir: results(), area: area("Demo City"), area_file: None, options: opts, out_dir: Some(out.clone()) };
    let s = autocorrelation::run(&req, &Silent).unwrap();
    // RSEI of the driver year on the grid: the bytes of the driver analysis's rsei.tif values
    let ours = raster(&out.join("rsei_1km_2019.tif"));
    let drivers = raster(&results().join("Demo_City/drivers/rsei.tif"));
    assert!(ours.grid().check_same(drivers.grid()).is_ok());
    assert_eq!(bits(ours.data()), bits(drivers.data()));
    // Moran's I with queen weights by its definition
    let (rows, cols) = (ours.grid().rows(), ours.grid().cols());
    let v = ours.data();
    let ok = |r: isize, c: isize| r >= 0 && c >= 0 && (r as usize) < rows && (c as usize) < cols && v[r as usize * cols + c as usize].is_finite();
    let cells: Vec<usize> = (0..v.len()).filter(|&i| v[i].is_finite()).collect();
    let n = cells.len() as f64;
    let mean = cells.iter().map(|&i| f64::from(v[i])).sum::<f64>() / n;
    let (mut num, mut den, mut s0) = (0.0, 0.0, 0.0);
    for &i in &cells {
        let (r, c) = ((i / cols) as isize, (i % cols) as isize);
        let zi = f64::from(v[i]) - mean;
        den += zi * zi;
        let nb: Vec<usize> = (-1..=1).flat_map(|dr| (-1..=1).map(move |dc| (dr, dc))).filter(|&(dr, dc)| (dr, dc) != (0, 0) && ok(r + dr, c + dc)).map(|(dr, dc)| (r + dr) as usize * cols + (c + dc) as usize).collect();
        if nb.is_empty() {
            continue;
        }
        s0 += 1.0;
        for j in &nb {
            num += zi * (f64::from(v[*j]) - mean) / nb.len() as f64;
        }
    }
    let i_hand = n / s0 * num / den;
    let m = s.moran.iter().find(|m| m.year == 2019 && m.weights == "queen").unwrap();
    assert!((m.result.i - i_hand).abs() < 1e-10, "{} vs {i_hand}", m.result.i);
    assert_eq!(m.result.n, cells.len());
    assert!(m.result.i > 0.5 && m.result.p_sim == Some(0.01), "{:?}", m.result);
    // the distance band of 2 km on 1 km cells: 12 neighbours
    assert_eq!(s.distance_band_neighbours, 12);
    // LISA counts are those of the cluster raster
    let lisa = raster(&out.join("lisa_2022.tif"));
    let mut counts = [0usize; 5];
    for x in lisa.data().iter().filter(|x| x.is_finite()) {
        counts[*x as usize] += 1;
    }
    assert_eq!(counts, s.lisa.iter().find(|l| l.year == 2022).unwrap().counts);
    let moran_csv = std::fs::read_to_string(out.join("moran.csv")).unwrap();
    assert_eq!(moran_csv.lines().count(), 1 + 2 * 2);
    // same seed, same result at one thread
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| autocorrelation::run(&AutocorrelationRequest { out_dir: Some(t.path().join("ac1")), ..req.clone() }, &Silent).unwrap());
    assert_eq!(serde_json::to_string(&one.lisa).unwrap(), serde_json::to_string(&s.lisa).unwrap());
    assert_eq!(std::fs::read(t.path().join("ac1/lisa_2022.tif")).unwrap(), std::fs::read(out.join("lisa_2022.tif")).unwrap());
}

#[test]
fn autocorrelation_refuses_an_empty_year() {
    let t = TempDir::new("ac-bad");
    let out = copy_years(t.path(), &[2019]);
    let p = out.join("Demo_City/2019/rsei.tif");
    let g = raster(&p);
    std::fs::remove_file(&p).unwrap();
    rsei_io::write_raster(&p, &Raster::new(g.grid().clone(), vec![f32::NAN; g.data().len()]).unwrap(), &rsei_io::WriteOptions::continuous()).unwrap();
    let req = AutocorrelationRequest { rsei_dir: out, area: area("Demo City"), area_file: None, options: AutocorrelationOptions::default(), out_dir: None };
    let e = autocorrelation::run(&req, &Silent).unwrap_err();
    assert!(e.to_string().contains("Demo City") && e.to_string().contains("0 valid cell(s)") && e.to_string().contains("2019"), "{e}");
    assert!(e.is_usage());
}

#[test]
fn cli_commands_run_and_name_bad_inputs() {
    let t = TempDir::new("cli");
    let r = results().display().to_string();
    let a = demo().join("data/vectors/city.geojson").display().to_string();
    let base = |cmd: &str| -> Vec<String> { ["--quiet", cmd, "--rsei", &r, "--area", &a, "--name-field", "name_en", "--where", "name_en = 'Second City'"].iter().map(|s| s.to_string()).collect() };
    let run = |mut v: Vec<String>, extra: &[&str]| {
        v.extend(extra.iter().map(|s| s.to_string()));
        rsei(&v.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let out = t.path().join("change").display().to_string();
    let o = run(base("change"), &["--from", "2019", "--to", "2022", "--tolerance", "0.01", "--out", &out]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("Second City 2019 → 2022 (per-year PCA RSEI)"), "{}", text(&o));
    let m = json(&t.path().join("change/manifest.json"));
    assert_eq!(m["options"]["tolerance"], 0.01);
    assert_eq!(m["years"], serde_json::json!([2019, 2022]));
    assert!(t.path().join("change/difference_2019_2022.tif").is_file());
    let out = t.path().join("trend").display().to_string();
    let o = run(base("trend"), &["--years", "2019-2021", "--out", &out]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(stderr(&o).contains("at least 4 years") && stderr(&o).contains("Second City"), "{}", stderr(&o));
    let o = run(base("trend"), &["--significance", "bonferroni"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--significance"), "{}", stderr(&o));
    let o = run(base("geodetector"), &["--factors", "GDP,XYZ", "--out", &out]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("factor \"XYZ\" is not a driver"), "{}", stderr(&o));
    let o = run(base("autocorrelation"), &["--distance-band", "300", "--out", &out]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("distance_band_m"), "{}", stderr(&o));
    let o = run(base("timeseries"), &["--normalisation", "fixed:0:1:0:1", "--out", &out]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("normalisation"), "{}", stderr(&o));
    assert!(!t.path().join("trend").exists(), "nothing written by a refused command");
}

/// The analysis folders of the demo study, per area.
const FOLDERS: [&str; 5] = ["timeseries", "trend", "change", "geodetector", "autocorrelation"];

#[test]
fn the_demo_study_runs_the_analyses_as_units_and_reuses_them() {
    // every analysis of both areas, with a study key in its manifest and every listed output there
    for a in ["Demo_City", "Second_City"] {
        for f in FOLDERS {
            let dir = results().join(a).join(f);
            let m = json(&dir.join("manifest.json"));
            assert_eq!(m["unit"]["parts"]["kind"], f, "{a}/{f}");
            assert_eq!(m["unit"]["key"].as_str().unwrap().len(), 64);
            for o in m["outputs"].as_array().unwrap() {
                let p = dir.join(o["file"].as_str().unwrap());
                assert_eq!(std::fs::metadata(&p).unwrap().len(), o["bytes"].as_u64().unwrap(), "{}", p.display());
            }
            assert!(!m.to_string().contains(&results().display().to_string()), "{a}/{f}: paths inside the output are relative");
        }
        // the demo's trend and change read the pooled RSEI
        assert_eq!(json(&results().join(a).join("trend/summary.json"))["source"], "pooled");
        assert_eq!(json(&results().join(a).join("change/summary.json"))["source"], "pooled");
    }
    // a copy of the demo: everything reused; an option of [change] recomputes the change units only;
    // a missing output recomputes its unit
    let t = TempDir::new("study");
    copy_dir(&demo().join("data"), &t.path().join("data"));
    copy_dir(&results(), &t.path().join("results"));
    let study = t.path().join("study.toml");
    std::fs::copy(demo().join("study.toml"), &study).unwrap();
    let run = || {
        let o = rsei(&["run", &study.display().to_string()]);
        assert!(o.status.success(), "{}", text(&o));
        text(&o)
    };
    let log = run();
    assert!(log.contains("26 unit(s): 26 reused, 0 to compute"), "{log}");
    let text0 = std::fs::read_to_string(&study).unwrap();
    std::fs::write(&study, text0.replace("[change]\nsource = \"pooled\"", "[change]\nsource = \"pooled\"\ntolerance = 0.1")).unwrap();
    std::fs::remove_file(t.path().join("results/Second_City/geodetector/fig_q.svg")).unwrap();
    let log = run();
    assert!(log.contains("compute  Demo City change (options changed)") && log.contains("compute  Second City change (options changed)"), "{log}");
    assert!(log.contains("compute  Second City geodetector (outputs missing)"), "{log}");
    assert!(log.contains("26 unit(s): 23 reused, 3 to compute"), "{log}");
    assert_eq!(json(&t.path().join("results/Demo_City/change/summary.json"))["difference"]["tolerance"], 0.1);
    assert!(t.path().join("results/Second_City/geodetector/fig_q.svg").is_file());
}

#[test]
fn the_demo_report_shows_the_analyses() {
    let html = std::fs::read_to_string(results().join("report.html")).unwrap();
    for a in ["demo-city", "second-city"] {
        for s in ["beyond", "timeseries", "trend", "change", "geodetector", "autocorrelation"] {
            assert!(html.contains(&format!("id=\"{a}-{s}\"")), "{a}-{s} missing");
        }
        for f in ["timeseries", "trend", "change", "gd", "autocorrelation"] {
            assert!(html.contains(&format!("id=\"fig-{a}-{f}\"")), "figure fig-{a}-{f} missing");
        }
    }
    assert!(html.contains("id=\"methods-beyond\""));
    assert!(!html.contains(">??<"), "unresolved cross-reference");
    // the numbers shown are those of the summaries
    let ts = json(&results().join("Demo_City/timeseries/summary.json"));
    let angle = format!("at most {:.2}\u{b0}", ts["max_angle_deg"].as_f64().unwrap());
    assert!(html.contains(&angle), "{angle}");
    let gd = json(&results().join("Second_City/geodetector/summary.json"));
    let top = gd["report"]["factors"].as_array().unwrap().iter().max_by(|a, b| a["factor"]["q"].as_f64().unwrap().total_cmp(&b["factor"]["q"].as_f64().unwrap())).unwrap();
    let q = format!("{} (q = {:.3})", top["name"].as_str().unwrap(), top["factor"]["q"].as_f64().unwrap());
    assert!(html.contains(&q), "{q}");
    let ch = json(&results().join("Demo_City/change/summary.json"));
    let imp = format!("{:.1} % of the {:.1} km\u{b2}", 100.0 * ch["transfer"]["share_improved"].as_f64().unwrap(), ch["transfer"]["total_area_km2"].as_f64().unwrap());
    assert!(html.contains(&imp), "{imp}");
    for r in ["Mann, H.B. (1945)", "Wang, J.F.; Xu, C.D. (2017)", "Anselin, L. (1995)", "Zheng, Z.; Wu, Z."] {
        assert!(html.contains(r), "reference {r}");
    }
    // a missing analysis leaves its part out; a summary that cannot be read is an error naming it
    let t = TempDir::new("report");
    let out = t.path().join("results");
    copy_dir(&results(), &out);
    std::fs::remove_dir_all(out.join("Second_City/change")).unwrap();
    let p = rsei_pipeline::report_html::write_report(&out, &rsei_pipeline::ReportOptions::default()).unwrap();
    let html = std::fs::read_to_string(p).unwrap();
    assert!(!html.contains("id=\"second-city-change\"") && html.contains("id=\"demo-city-change\"") && html.contains("id=\"second-city-trend\""));
    std::fs::write(out.join("Demo_City/trend/summary.json"), "{\"area\": 3}").unwrap();
    let e = rsei_pipeline::report_html::write_report(&out, &rsei_pipeline::ReportOptions::default()).unwrap_err().to_string();
    assert!(e.contains("Demo_City/trend/summary.json") && e.contains("unexpected content"), "{e}");
}

#[test]
fn the_documentation_names_every_key_of_the_analyses() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/STUDY.md")).unwrap();
    let keys = |v: Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    let all = [
        keys(serde_json::to_value(TimeSeriesOptions::default()).unwrap()),
        keys(serde_json::to_value(TrendOptions::default()).unwrap()),
        keys(serde_json::to_value(ChangeOptions::default()).unwrap()),
        keys(serde_json::to_value(GeodetectorOptions::default()).unwrap()),
        keys(serde_json::to_value(AutocorrelationOptions::default()).unwrap()),
    ];
    let missing: Vec<&String> = all.iter().flatten().filter(|k| !doc.contains(&format!("`{k}`"))).collect();
    assert!(missing.is_empty(), "docs/STUDY.md does not document {missing:?}");
    for s in ["[timeseries]", "[trend]", "[change]", "[geodetector]", "[autocorrelation]"] {
        assert!(doc.contains(&format!("`{s}`")), "{s}");
    }
}
