//! The geographical detector against the PyPI `geodetector` 0.2.0 package on its example table
//! `disease.csv`, the q values its documentation publishes, the R definitions computed directly
//! (single-cell strata kept), and scipy's distributions. Expected values:
//! `tests/reference/geodetector/make_reference.py` → `expected.json`.

use rsei_core::geodetector::{
    beta_inc, breaks, f_cdf_sf, geodetector, natural_breaks_all, noncentral_f_sf, optimal_discretization, student_t_two_sided, Factor,
    FactorKind, GdOptions, GeoDetectorReport, InteractionKind, Method, OptimalOptions, SingletonRule,
};
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/geodetector");

fn expected() -> Value {
    let s = std::fs::read_to_string(format!("{DIR}/expected.json")).expect("expected.json");
    serde_json::from_str(&s).expect("json")
}

/// (incidence, type, region, level) columns of disease.csv.
fn disease() -> (Vec<f64>, [Vec<f64>; 3]) {
    let s = std::fs::read_to_string(format!("{DIR}/disease.csv")).expect("disease.csv");
    let s = s.trim_start_matches('\u{feff}');
    let mut lines = s.lines();
    assert_eq!(lines.next().map(str::trim), Some("incidence,type,region,level"));
    let (mut y, mut t, mut r, mut l) = (vec![], vec![], vec![], vec![]);
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let v: Vec<f64> = line.trim().split(',').map(|x| x.parse().expect("number")).collect();
        y.push(v[0]);
        t.push(v[1]);
        r.push(v[2]);
        l.push(v[3]);
    }
    assert_eq!(y.len(), 185);
    (y, [t, r, l])
}

const NAMES: [&str; 3] = ["type", "region", "level"];

fn run(rule: SingletonRule) -> GeoDetectorReport {
    let (y, x) = disease();
    let factors: Vec<Factor> = NAMES.iter().zip(&x).map(|(n, v)| Factor::categorical(n, v)).collect();
    geodetector(&y, &factors, &GdOptions { singletons: rule, alpha: 0.05 }).expect("geodetector")
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("number")
}

fn close(got: f64, want: f64, rel: f64, what: &str) {
    let tol = rel * want.abs().max(1e-300);
    assert!((got - want).abs() <= tol, "{what}: got {got:e}, want {want:e} (rel tol {rel:e})");
}

#[test]
fn published_q_values_of_the_package_documentation() {
    let e = expected();
    let rep = run(SingletonRule::Keep);
    for fr in &rep.factors {
        let p = &e["published"][fr.name.as_str()];
        // published to 4 decimals (q) and 6 decimals (p)
        assert!((fr.factor.q - f(&p["q"])).abs() <= 0.5e-4, "{}: q {}", fr.name, fr.factor.q);
        assert!((fr.factor.p_value - f(&p["p"])).abs() <= 0.5e-6, "{}: p {}", fr.name, fr.factor.p_value);
    }
    assert_eq!(rep.n, 185);
}

#[test]
fn factor_detector_matches_package_and_r_definition() {
    let e = expected();
    for rule in [SingletonRule::Keep, SingletonRule::Drop] {
        let rep = run(rule);
        for fr in &rep.factors {
            let p = &e["package"]["factor"][fr.name.as_str()];
            close(fr.factor.q, f(&p["q"]), 1e-12, "q");
            close(fr.factor.p_value, f(&p["p"]), 1e-9, "p");
            let r = &e["r_definition"]["factor"][fr.name.as_str()];
            close(fr.factor.lambda, f(&r["lam"]), 1e-11, "lambda");
            close(fr.factor.f_stat, f(&r["f"]), 1e-11, "F");
            assert_eq!(fr.factor.df1, f(&r["df1"]));
            assert_eq!(fr.factor.df2, f(&r["df2"]));
            close(fr.factor.p_value, f(&r["p"]), 1e-9, "p (scipy ncf.sf)");
            assert_eq!(fr.factor.n_singletons, 0);
        }
        assert!(!rep.factors[0].factor.significant && rep.factors[1].factor.significant && rep.factors[2].factor.significant);
    }
}

#[test]
fn interaction_detector_package_drops_singletons_r_keeps_them() {
    let e = expected();
    let drop = run(SingletonRule::Drop);
    for (pr, want) in drop.pairs.iter().zip(e["package"]["interaction"].as_array().expect("array")) {
        assert_eq!((pr.a.as_str(), pr.b.as_str()), (want["a"].as_str().expect("a"), want["b"].as_str().expect("b")));
        close(pr.interaction.q1, f(&want["q1"]), 1e-12, "q1");
        close(pr.interaction.q2, f(&want["q2"]), 1e-12, "q2");
        close(pr.interaction.q12, f(&want["q12"]), 1e-12, "q12 (singletons dropped)");
        let kinds = [
            InteractionKind::NonlinearWeaken,
            InteractionKind::UniWeaken,
            InteractionKind::BiEnhance,
            InteractionKind::Independent,
            InteractionKind::NonlinearEnhance,
        ];
        assert_eq!(pr.interaction.kind, kinds[want["type"].as_u64().expect("type") as usize]);
    }
    let keep = run(SingletonRule::Keep);
    for (pr, want) in keep.pairs.iter().zip(e["r_definition"]["interaction"].as_array().expect("array")) {
        close(pr.interaction.q12, f(&want["q12"]), 1e-12, "q12 (singletons kept)");
        close(pr.interaction.overlay.lambda, f(&want["lam12"]), 1e-11, "lambda12");
        assert!((pr.interaction.overlay.p_value - f(&want["p12"])).abs() < 1e-12, "p12 {}", pr.interaction.overlay.p_value);
        assert_eq!(pr.interaction.overlay.n_singletons as u64, want["singletons"].as_u64().expect("n"));
        assert_eq!(pr.interaction.kind, InteractionKind::BiEnhance);
    }
}

#[test]
fn ecological_detector_matches_package_two_sided_and_r_one_sided() {
    let e = expected();
    let rep = run(SingletonRule::Keep);
    for (i, pr) in rep.pairs.iter().enumerate() {
        let p = &e["package"]["ecological"][i];
        close(pr.ecological.f_stat, f(&p["f"]), 1e-12, "F");
        close(pr.ecological.p_two_sided, f(&p["p"]), 1e-9, "two-sided p");
        let r = &e["r_definition"]["ecological"][i];
        close(pr.ecological.p_upper, f(&r["p_upper"]), 1e-9, "one-sided p");
        assert_eq!((pr.ecological.df1, pr.ecological.df2), (184.0, 184.0));
    }
    let sig: Vec<bool> = rep.pairs.iter().map(|p| p.ecological.significant).collect();
    assert_eq!(sig, vec![true, true, false]);
}

#[test]
fn risk_detector_matches_package_welch_tests() {
    let e = expected();
    let rep = run(SingletonRule::Keep);
    for fr in &rep.factors {
        let want = e["package"]["risk"][fr.name.as_str()].as_array().expect("array");
        assert_eq!(fr.risk.pairs.len(), want.len(), "{}", fr.name);
        for (got, w) in fr.risk.pairs.iter().zip(want) {
            let code = |l: u32| fr.codes[l as usize];
            assert_eq!((code(got.a), code(got.b)), (f(&w["s1"]), f(&w["s2"])));
            close(got.t.expect("t"), f(&w["t"]), 1e-11, "t");
            close(got.p_value.expect("p"), f(&w["p"]), 1e-8, "p");
            assert_eq!(got.significant, f(&w["p"]) < 0.05);
        }
    }
}

#[test]
fn distributions_match_scipy() {
    let e = expected();
    for g in e["ncf"].as_array().expect("array") {
        let got = noncentral_f_sf(f(&g["f"]), f(&g["d1"]), f(&g["d2"]), f(&g["lam"]));
        close(got, f(&g["sf"]), 1e-12, &format!("ncf.sf {g}"));
    }
    for g in e["f"].as_array().expect("array") {
        let (cdf, sf) = f_cdf_sf(f(&g["f"]), f(&g["d1"]), f(&g["d2"]));
        close(cdf, f(&g["cdf"]), 1e-12, "f.cdf");
        close(sf, f(&g["sf"]), 1e-12, "f.sf");
    }
    for g in e["t"].as_array().expect("array") {
        close(student_t_two_sided(f(&g["t"]), f(&g["df"])), f(&g["p"]), 1e-12, "t p");
    }
    let (p, q) = beta_inc(3.0, 4.0, 0.25, 0.75);
    assert!((p + q - 1.0).abs() < 1e-15);
}

#[test]
fn breaks_match_mapclassify_and_candidates_match_package_q() {
    let e = expected();
    let b = &e["breaks"];
    let x: Vec<f64> = b["x"].as_array().expect("x").iter().map(f).collect();
    let y: Vec<f64> = b["y"].as_array().expect("y").iter().map(f).collect();
    let mut sorted = x.clone();
    sorted.sort_by(f64::total_cmp);
    let table = natural_breaks_all(&sorted, 8, 100_000);
    for (k, natural_k) in table.iter().enumerate().skip(3) {
        let ks = k.to_string();
        let want = |m: &str| -> Vec<f64> { b[m][ks.as_str()].as_array().expect("breaks").iter().map(f).collect() };
        assert_eq!(natural_k, &want("natural"), "natural k={k}");
        for (m, name) in [(Method::Equal, "equal"), (Method::Quantile, "quantile"), (Method::Natural, "natural")] {
            let d = breaks(&x, m, k).expect("breaks");
            let w = want(name);
            assert_eq!(d.breaks.len(), w.len(), "{name} k={k}");
            for (g, w) in d.breaks.iter().zip(&w) {
                close(*g, *w, 1e-13, &format!("{name} k={k}"));
            }
        }
    }
    let opts = OptimalOptions { methods: vec![Method::Natural, Method::Equal, Method::Quantile], ..OptimalOptions::default() };
    let opt = optimal_discretization(&y, &x, &opts).expect("optimal");
    let mut best = (f64::NEG_INFINITY, String::new());
    for c in b["candidates"].as_array().expect("candidates") {
        let (m, k) = (Method::parse(c["method"].as_str().expect("m")).expect("method"), c["k"].as_u64().expect("k") as usize);
        let mine = opt.candidates.iter().find(|x| x.method == m && x.k == k).expect("candidate");
        if c["min_count"].as_u64().expect("count") >= 2 {
            close(mine.q.expect("admissible"), f(&c["q"]), 1e-12, &format!("q {m:?} k={k}"));
            if f(&c["q"]) > best.0 {
                best = (f(&c["q"]), format!("{m:?}{k}"));
            }
        } else {
            // GD::optidisc rule: a class with fewer than two cells makes the candidate inadmissible
            assert_eq!(mine.q, None, "{m:?} k={k}");
        }
    }
    assert_eq!(format!("{:?}{}", opt.best.method, opt.best.k), best.1);
    close(opt.q, best.0, 1e-15, "best q");
}

#[test]
fn report_is_identical_with_one_and_two_threads() {
    let e = expected();
    let x: Vec<f64> = e["breaks"]["x"].as_array().expect("x").iter().map(f).collect();
    let y: Vec<f64> = e["breaks"]["y"].as_array().expect("y").iter().map(f).collect();
    let x2: Vec<f32> = x.iter().map(|v| (v * 1.7 + (v * 13.0).sin()) as f32).collect();
    let cat: Vec<f32> = (0..x.len()).map(|i| (i % 4) as f32).collect();
    let factors = vec![
        Factor::optimal("x", &x),
        Factor { name: "x2".into(), values: (&x2).into(), kind: FactorKind::Fixed { method: Method::Natural, k: 5 } },
        Factor::categorical("c", &cat),
    ];
    let go = |t: usize| {
        rayon::ThreadPoolBuilder::new().num_threads(t).build().expect("pool").install(|| geodetector(&y, &factors, &GdOptions::default()).expect("report"))
    };
    let (a, b) = (go(1), go(2));
    assert_eq!(a, b);
    assert_eq!(a.pairs.len(), 3);
    assert_eq!(serde_json::to_string(&a).expect("json"), serde_json::to_string(&b).expect("json"));
}

#[test]
fn bad_input_gives_clear_messages() {
    let (y, x) = disease();
    let one = vec![3.0f64; y.len()];
    let e = geodetector(&y, &[Factor::categorical("type", &x[0]), Factor::categorical("soil", &one)], &GdOptions::default()).expect_err("an error").to_string();
    assert!(e.contains("factor soil") && e.contains("single class"), "{e}");
    let nan = vec![f64::NAN; y.len()];
    let e = geodetector(&y, &[Factor::optimal("dem", &nan)], &GdOptions::default()).expect_err("an error").to_string();
    assert!(e.contains("0 complete case") && e.contains("dem 0 valid"), "{e}");
    let short = vec![1.0f64; 10];
    let e = geodetector(&y, &[Factor::categorical("short", &short)], &GdOptions::default()).expect_err("an error").to_string();
    assert!(e.contains("factor short") && e.contains("10 cells"), "{e}");
    let e = optimal_discretization(&y, &one, &OptimalOptions::default()).expect_err("an error").to_string();
    assert!(e.contains("constant") && e.contains("single class"), "{e}");
}
