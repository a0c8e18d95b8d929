//! `rsei_core::trend` against pymannkendall 1.4.3, scipy and statsmodels, from
//! `tests/reference/trend/trend_expected.json` (made by `trend_reference.py` beside it; every input
//! is written literally in the script or drawn from a fixed generator).
//!
//! Tolerances: S exactly; var(S), τ, slope, intercept, Z and q to 1e-12 relative; p to 1e-12
//! relative against `2·norm.sf(|z|)` (q against BH of those, and against
//! BH of pymannkendall's p to 1e-9 relative + m·1e-15 absolute) and to 1e-9 relative + 1e-15 absolute against pymannkendall's
//! `2·(1 − norm.cdf(|z|))` (which cancels for small p); the normal functions to 1e-12 relative.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use rsei_core::trend::{
    benjamini_hochberg, mann_kendall, normal_cdf, normal_quantile, normal_sf, sens_slope, trend_stack, HamedRaoLag, MkOptions, MkResult, Significance, StackOptions, CLASS_DEGRADATION,
    CLASS_IMPROVEMENT, CLASS_NOT_SIGNIFICANT, CLASS_NOT_TESTED,
};
use serde_json::Value;

fn reference() -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference/trend/trend_expected.json");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap()
}

/// A JSON number, `null` = NaN.
fn num(v: &Value) -> f64 {
    if v.is_null() {
        f64::NAN
    } else {
        v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
    }
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(num).collect()
}

#[track_caller]
fn assert_rel(got: f64, want: f64, rel: f64, what: &str) {
    let ok = got == want || (got - want).abs() <= rel * want.abs();
    assert!(ok, "{what}: got {got:e}, want {want:e} (relative error {:e})", ((got - want) / want).abs());
}

/// p against pymannkendall's own value (which is computed as 1 − cdf and cancels for small p).
#[track_caller]
fn assert_p_pymk(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() <= 1e-9 * want.abs() + 1e-15, "{what}: got {got:e}, pymannkendall {want:e}");
}

#[track_caller]
fn check_mk(r: &MkResult, e: &Value, what: &str) {
    assert_eq!(r.s as f64, num(&e["s"]), "{what}: S");
    assert_rel(r.var_s, num(&e["var_s"]), 1e-12, &format!("{what}: var_s"));
    assert_rel(r.z, num(&e["z"]), 1e-12, &format!("{what}: z"));
    assert_rel(r.tau, num(&e["tau"]), 1e-12, &format!("{what}: tau"));
    assert_rel(r.slope, num(&e["slope"]), 1e-12, &format!("{what}: slope"));
    assert_rel(r.intercept, num(&e["intercept"]), 1e-12, &format!("{what}: intercept"));
    assert_rel(r.p, num(&e["p_sf"]), 1e-12, &format!("{what}: p (norm.sf)"));
    assert_p_pymk(r.p, num(&e["p"]), &format!("{what}: p"));
    assert_eq!(r.h, e["h"].as_bool().unwrap(), "{what}: h");
    assert_eq!(r.trend.as_str(), e["trend"].as_str().unwrap(), "{what}: trend");
}

#[test]
fn series_original_test_and_sen_slope() {
    let r = reference();
    let series = r["series"].as_array().unwrap();
    assert_eq!(series.len(), 8);
    for s in series {
        let name = s["name"].as_str().unwrap();
        let x = nums(&s["values"]);
        let m = mann_kendall(&x, &MkOptions::default()).unwrap();
        check_mk(&m, &s["original"], name);
        assert_eq!(m.n, x.iter().filter(|v| v.is_finite()).count());
        assert_eq!(m.var_s, m.var_s_uncorrected);
        let sen = sens_slope(&x).unwrap();
        assert_rel(sen.slope, num(&s["sens_slope"]["slope"]), 1e-12, &format!("{name}: sens_slope"));
        assert_rel(sen.intercept, num(&s["sens_slope"]["intercept"]), 1e-12, &format!("{name}: sens intercept"));
    }
}

#[test]
fn series_hamed_rao() {
    let r = reference();
    let opts = MkOptions { hamed_rao: Some(HamedRaoLag::All), ..Default::default() };
    let mut compared = 0;
    for s in r["series"].as_array().unwrap() {
        let name = s["name"].as_str().unwrap();
        let x = nums(&s["values"]);
        if !s["hamed_rao"].is_null() {
            let m = mann_kendall(&x, &opts).unwrap();
            check_mk(&m, &s["hamed_rao"], &format!("{name} (Hamed-Rao)"));
            assert_rel(m.hamed_rao_factor.unwrap(), num(&s["hamed_rao_factor"]), 1e-12, &format!("{name}: factor"));
            assert_rel(m.var_s_uncorrected, num(&s["original"]["var_s"]), 1e-15, name);
            compared += 1;
        }
        if !s["hamed_rao_time_index"].is_null() {
            // series with gaps: the variant documented in rsei_core::trend
            let e = &s["hamed_rao_time_index"];
            assert_eq!(e["status"], "tested");
            let m = mann_kendall(&x, &opts).unwrap();
            assert_rel(m.var_s, num(&e["var_s"]), 1e-12, &format!("{name}: var_s"));
            assert_rel(m.z, num(&e["z"]), 1e-12, &format!("{name}: z"));
            assert_rel(m.p, num(&e["p_sf"]), 1e-12, &format!("{name}: p"));
            assert_p_pymk(m.p, num(&e["p"]), name);
            assert_rel(m.hamed_rao_factor.unwrap(), num(&e["factor"]), 1e-12, &format!("{name}: factor"));
            assert_eq!(m.trend.as_str(), e["trend"].as_str().unwrap());
            compared += 1;
        }
    }
    assert_eq!(compared, 7);
}

#[test]
fn normal_distribution_matches_scipy() {
    let r = reference();
    for e in r["normal"]["sf"].as_array().unwrap() {
        let z = num(&e["z"]);
        assert_rel(normal_sf(z), num(&e["sf"]), 1e-12, &format!("sf({z})"));
        assert_rel(normal_cdf(z), num(&e["cdf"]), 1e-12, &format!("cdf({z})"));
    }
    for e in r["normal"]["ppf"].as_array().unwrap() {
        let p = num(&e["p"]);
        assert_rel(normal_quantile(p), num(&e["z"]), 1e-12, &format!("ppf({p})"));
    }
}

#[test]
fn benjamini_hochberg_matches_statsmodels() {
    let r = reference();
    let bh = &r["bh"];
    let p = nums(&bh["p"]);
    let want = nums(&bh["q"]);
    let level = num(&bh["level"]);
    let q = benjamini_hochberg(&p).unwrap();
    assert_eq!(q.len(), want.len());
    for (i, ((&g, &w), rej)) in q.iter().zip(&want).zip(bh["reject"].as_array().unwrap()).enumerate() {
        if w.is_nan() {
            assert!(g.is_nan(), "q[{i}] should be NaN");
            continue;
        }
        assert_rel(g, w, 1e-12, &format!("q[{i}]"));
        assert_eq!(g <= level, rej.as_bool().unwrap(), "reject[{i}]");
    }
}

/// Layers of a stack from JSON (`null` = NaN), as `f32`.
fn layers(v: &Value) -> Vec<Vec<f32>> {
    v.as_array().unwrap().iter().map(|l| nums(l).into_iter().map(|x| x as f32).collect()).collect()
}

/// Checks a stack run without Hamed–Rao against the expected per-pixel entries and BH.
fn check_stack(stack: &Value, what: &str) {
    let ls = layers(&stack["layers"]);
    let refs: Vec<&[f32]> = ls.iter().map(Vec::as_slice).collect();
    let expected = stack["expected"].as_array().unwrap();
    let min = stack["min_years"].as_u64().unwrap() as usize;
    let opts = StackOptions { mk: MkOptions { min_valid: min, ..Default::default() }, significance: Significance::Fdr { q: 0.05 } };
    let r = trend_stack(&refs, &opts).unwrap();
    let raw = trend_stack(&refs, &StackOptions { significance: Significance::Raw, ..opts }).unwrap();
    assert_eq!(r.slope.len(), expected.len());
    let (mut tested, mut no_data, mut insufficient, mut constant) = (0, 0, 0, 0);
    for (k, e) in expected.iter().enumerate() {
        let w = format!("{what} pixel {k}");
        assert_eq!(u64::from(r.n_valid[k]), e["n"].as_u64().unwrap(), "{w}: n");
        match e["status"].as_str().unwrap() {
            "tested" => {
                tested += 1;
                assert_rel(r.slope[k], num(&e["slope"]), 1e-12, &format!("{w}: slope"));
                assert_rel(r.z[k], num(&e["z"]), 1e-12, &format!("{w}: z"));
                assert_rel(r.tau[k], num(&e["tau"]), 1e-12, &format!("{w}: tau"));
                assert_rel(r.p[k], num(&e["p_sf"]), 1e-12, &format!("{w}: p"));
                assert_p_pymk(r.p[k], num(&e["p"]), &w);
                assert_rel(r.q[k], num(&e["q_sf"]), 1e-12, &format!("{w}: q (from norm.sf p)"));
                // pymannkendall's absolute p error (~1e-16) grows by up to m/j in q
                let (gq, wq) = (r.q[k], num(&e["q"]));
                assert!((gq - wq).abs() <= 1e-9 * wq + expected.len() as f64 * 1e-15, "{w}: q {gq:e}, from pymannkendall p {wq:e}");
                let z = num(&e["z"]);
                let fdr = if !e["bh_reject"].as_bool().unwrap() {
                    CLASS_NOT_SIGNIFICANT
                } else if z > 0.0 {
                    CLASS_IMPROVEMENT
                } else {
                    CLASS_DEGRADATION
                };
                assert_eq!(r.class[k], fdr, "{w}: FDR class");
                let per_pixel = match e["trend"].as_str().unwrap() {
                    "increasing" => CLASS_IMPROVEMENT,
                    "decreasing" => CLASS_DEGRADATION,
                    _ => CLASS_NOT_SIGNIFICANT,
                };
                assert_eq!(raw.class[k], per_pixel, "{w}: raw class");
                // the series API gives the same numbers on the pixel's values
                let x: Vec<f64> = ls.iter().map(|l| f64::from(l[k])).collect();
                let m = mann_kendall(&x, &opts.mk).unwrap();
                assert_eq!((m.slope, m.p, m.z, m.tau), (r.slope[k], r.p[k], r.z[k], r.tau[k]), "{w}");
            }
            other => {
                match other {
                    "no_data" => no_data += 1,
                    "insufficient" => insufficient += 1,
                    "constant" => constant += 1,
                    s => panic!("{w}: unknown status {s}"),
                }
                assert_eq!(r.class[k], CLASS_NOT_TESTED, "{w}");
                assert!(r.slope[k].is_nan() && r.p[k].is_nan() && r.q[k].is_nan() && r.z[k].is_nan() && r.tau[k].is_nan(), "{w}");
            }
        }
    }
    let s = r.summary;
    assert_eq!((s.tested, s.no_data, s.insufficient, s.constant, s.degenerate), (tested, no_data, insufficient, constant, 0), "{what}");
    assert_eq!(s.improvement + s.not_significant + s.degradation, s.tested);
    assert_eq!(s.tested + s.not_tested(), s.pixels);
}

#[test]
fn pixel_stack_matches_per_pixel_reference() {
    let r = reference();
    let px = &r["pixels"];
    assert_eq!(px["layers"].as_array().unwrap().len(), 8);
    check_stack(px, "pixels");
}

#[test]
fn random_stack_matches_per_pixel_reference() {
    let r = reference();
    check_stack(&r["pixels_random"], "pixels_random");
}

#[test]
fn random_stack_hamed_rao() {
    let r = reference();
    let stack = &r["pixels_random"];
    let ls = layers(&stack["layers"]);
    let refs: Vec<&[f32]> = ls.iter().map(Vec::as_slice).collect();
    let opts = StackOptions { mk: MkOptions { hamed_rao: Some(HamedRaoLag::All), ..Default::default() }, significance: Significance::Raw };
    let out = trend_stack(&refs, &opts).unwrap();
    let (mut tested, mut degenerate) = (0, 0);
    for (k, e) in stack["expected"].as_array().unwrap().iter().enumerate() {
        if e["status"] != "tested" {
            assert_eq!(out.class[k], CLASS_NOT_TESTED);
            continue;
        }
        let hr = &e["hamed_rao"];
        let w = format!("pixels_random pixel {k} (Hamed-Rao)");
        // the slope does not depend on the correction
        assert_rel(out.slope[k], num(&e["slope"]), 1e-12, &w);
        match hr["status"].as_str().unwrap() {
            "tested" => {
                tested += 1;
                assert_rel(out.z[k], num(&hr["z"]), 1e-12, &format!("{w}: z"));
                assert_rel(out.p[k], num(&hr["p_sf"]), 1e-12, &format!("{w}: p"));
                assert_p_pymk(out.p[k], num(&hr["p"]), &w);
                let cls = match hr["trend"].as_str().unwrap() {
                    "increasing" => CLASS_IMPROVEMENT,
                    "decreasing" => CLASS_DEGRADATION,
                    _ => CLASS_NOT_SIGNIFICANT,
                };
                assert_eq!(out.class[k], cls, "{w}: class");
            }
            "degenerate" => {
                degenerate += 1;
                assert_eq!(out.class[k], CLASS_NOT_TESTED, "{w}");
                assert!(out.p[k].is_nan() && out.q[k].is_nan() && out.z[k].is_nan(), "{w}");
                let x: Vec<f64> = ls.iter().map(|l| f64::from(l[k])).collect();
                let err = mann_kendall(&x, &opts.mk).unwrap_err();
                assert!(err.to_string().contains("Hamed-Rao correction factor"), "{err}");
            }
            s => panic!("{w}: unknown status {s}"),
        }
    }
    assert!(degenerate > 0, "the reference should exercise a non-positive corrected variance");
    assert_eq!((out.summary.tested, out.summary.degenerate), (tested, degenerate));
}
