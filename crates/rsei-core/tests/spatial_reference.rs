//! Spatial weights, global Moran's I and LISA against PySAL (esda 2.9.0, libpysal 4.14.1) on two
//! fixed 12 × 15 rasters with nodata cells, queen contiguity and a distance band. Expected
//! values: `tests/reference/spatial/make_reference.py` → `expected.json`.
//!
//! Analytic quantities are asserted to ~1e-10; permutation p-values cannot follow numpy's
//! generator, so they are asserted statistically (within Monte Carlo error of esda's, with 9999
//! permutations each) and for determinism across thread counts.

use rsei_core::spatial::{fdr_threshold, lisa, moran, valid_cells, GridWeights, LisaOptions, MoranOptions, Quadrant};
use serde_json::Value;

fn expected() -> Value {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/spatial/expected.json");
    serde_json::from_str(&std::fs::read_to_string(p).expect("expected.json")).expect("json")
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("number")
}

fn fs(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(f).collect()
}

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!((got - want).abs() <= tol * want.abs().max(1.0), "{what}: got {got:e}, want {want:e}");
}

fn raster(e: &Value, name: &str) -> Vec<f32> {
    e["rasters"][name].as_array().expect("raster").iter().map(|v| v.as_f64().map_or(f32::NAN, |x| x as f32)).collect()
}

fn weights_for(e: &Value, case: &Value) -> (Vec<f32>, GridWeights) {
    let (rows, cols) = (e["rows"].as_u64().expect("rows") as usize, e["cols"].as_u64().expect("cols") as usize);
    let v = raster(e, case["raster"].as_str().expect("raster"));
    let valid = valid_cells(&v);
    let w = match case["weights"].as_str().expect("weights") {
        "queen" => GridWeights::queen(rows, cols, &valid),
        _ => GridWeights::distance_band(rows, cols, &valid, 2100.0, 1000.0, 800.0),
    }
    .expect("weights");
    (v, w)
}

fn cases(e: &Value) -> &Vec<Value> {
    e["cases"].as_array().expect("cases")
}

#[test]
fn weights_and_global_moran_match_pysal() {
    let e = expected();
    for c in cases(&e) {
        let what = format!("{} {}", c["raster"], c["weights"]);
        let (v, w) = weights_for(&e, c);
        assert_eq!(w.n() as u64, c["n"].as_u64().expect("n"), "{what}");
        let card: Vec<f64> = w.cardinalities().iter().map(|&k| f64::from(k)).collect();
        assert_eq!(card, fs(&c["cardinalities"]), "{what}");
        let (s0, s1, s2) = w.moments();
        close(s0, f(&c["s0"]), 1e-13, "S0");
        close(s1, f(&c["s1"]), 1e-13, "S1");
        close(s2, f(&c["s2"]), 1e-13, "S2");
        let m = moran(&v, &w, &MoranOptions { permutations: 0, seed: 0 }).expect("moran");
        close(m.i, f(&c["I"]), 1e-12, &format!("{what} I"));
        close(m.expected, f(&c["EI"]), 1e-15, "EI");
        close(m.variance_norm, f(&c["VI_norm"]), 1e-11, "VI_norm");
        close(m.z_norm, f(&c["z_norm"]), 1e-10, "z_norm");
        close(m.p_norm, f(&c["p_norm"]), 1e-10, "p_norm");
        close(m.variance_rand, f(&c["VI_rand"]), 1e-11, "VI_rand");
        close(m.z_rand, f(&c["z_rand"]), 1e-10, "z_rand");
        close(m.p_rand, f(&c["p_rand"]), 1e-10, "p_rand");
        assert_eq!(m.p_sim, None);
    }
}

#[test]
fn local_moran_matches_pysal() {
    let e = expected();
    for c in cases(&e) {
        let (v, w) = weights_for(&e, c);
        let l = lisa(&v, &w, &LisaOptions { permutations: 0, ..Default::default() }).expect("lisa");
        for (i, (&got, want)) in l.is.iter().zip(fs(&c["Is"])).enumerate() {
            close(got, want, 1e-11, &format!("Is[{i}]"));
        }
        let q: Vec<u64> = l.quadrant.iter().map(|q| u64::from(q.code())).collect();
        let want_q: Vec<u64> = c["q"].as_array().expect("q").iter().map(|x| x.as_u64().expect("q")).collect();
        assert_eq!(q, want_q);
        for (got, want) in l.expected.iter().zip(fs(&c["EIc"])) {
            close(*got, want, 1e-11, "EIc");
        }
        for (got, want) in l.variance.iter().zip(fs(&c["VIc"])) {
            close(*got, want, 1e-11, "VIc");
        }
        // without permutations nothing is significant
        assert!(l.significant.iter().all(|s| !s));
        // esda.fdr on esda's p-values
        assert_eq!(fdr_threshold(&fs(&c["local_p_sim"]), 0.05), f(&c["fdr_cut"]));
    }
}

#[test]
fn permutation_p_values_agree_with_esda_statistically() {
    let e = expected();
    for c in cases(&e) {
        let what = format!("{} {}", c["raster"], c["weights"]);
        let (v, w) = weights_for(&e, c);
        // global: 9999 permutations each; Monte Carlo sd of a difference ≤ √(2·0.25/9999) ≈ 0.007
        let m = moran(&v, &w, &MoranOptions { permutations: 9999, seed: 2024 }).expect("moran");
        let p = m.p_sim.expect("p_sim");
        let pe = f(&c["p_sim"]);
        assert!((p - pe).abs() <= 4.0 * (2.0 * pe.max(1e-4) * (1.0 - pe) / 9999.0).sqrt() + 2e-4, "{what}: {p} vs esda {pe}");
        close(m.mean_sim.expect("mean"), m.expected, 0.01, "mean of permuted I ≈ E[I]");
        close(m.sd_sim.expect("sd").powi(2), m.variance_rand, 0.08, "variance of permuted I ≈ Var_R");
        // local: every cell within 0.03 of esda's p (≈ 4 Monte Carlo sd at p = 0.5)
        let l = lisa(&v, &w, &LisaOptions { permutations: 9999, seed: 2024, ..Default::default() }).expect("lisa");
        let pe = fs(&c["local_p_sim"]);
        let worst = l.p_sim.iter().zip(&pe).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(worst <= 0.03, "{what}: largest |p − p_esda| = {worst}");
        let agree = l.p_sim.iter().zip(&pe).filter(|(a, b)| (**a < 0.05) == (**b < 0.05)).count();
        assert!(agree as f64 >= 0.95 * pe.len() as f64, "{what}: significance agrees on {agree} of {} cells", pe.len());
    }
}

#[test]
fn clustered_pattern_is_significant_random_one_is_not() {
    let e = expected();
    for c in cases(&e) {
        let (v, w) = weights_for(&e, c);
        let m = moran(&v, &w, &MoranOptions::default()).expect("moran");
        let l = lisa(&v, &w, &LisaOptions { fdr: true, ..Default::default() }).expect("lisa");
        let counts = l.cluster_counts();
        match (c["raster"].as_str(), c["weights"].as_str()) {
            (Some("clustered"), _) => {
                assert!(m.i > 0.7 && m.p_sim.expect("p") <= 0.002, "{:?}", m);
                assert!(counts[1] > 5 && counts[3] > 5, "HH and LL clusters expected: {counts:?}");
                assert!(l.threshold < 0.05 && l.threshold > 0.001);
            }
            (Some("random"), Some("queen")) => {
                assert!(m.p_sim.expect("p") > 0.05 && m.z_norm.abs() < 1.0, "{:?}", m);
                // with FDR control hardly any cell of a random field stays significant
                assert!(counts[0] >= l.is.len() - 3, "{counts:?}");
            }
            _ => {}
        }
    }
}

#[test]
fn identical_with_one_and_two_threads() {
    let e = expected();
    for c in cases(&e) {
        let (v, w) = weights_for(&e, c);
        let go = |t: usize| {
            rayon::ThreadPoolBuilder::new().num_threads(t).build().expect("pool").install(|| {
                let m = moran(&v, &w, &MoranOptions { permutations: 999, seed: 5 }).expect("moran");
                let l = lisa(&v, &w, &LisaOptions { permutations: 999, seed: 5, alpha: 0.05, fdr: true }).expect("lisa");
                (m, l)
            })
        };
        let (a, b) = (go(1), go(2));
        assert_eq!(a.0.p_sim.map(f64::to_bits), b.0.p_sim.map(f64::to_bits));
        assert_eq!(a.0.mean_sim.map(f64::to_bits), b.0.mean_sim.map(f64::to_bits));
        assert_eq!(a.0, b.0);
        assert_eq!(a.1, b.1);
        assert_eq!(serde_json::to_string(&a.1).expect("json"), serde_json::to_string(&b.1).expect("json"));
        // another seed gives other draws
        let other = lisa(&v, &w, &LisaOptions { permutations: 999, seed: 6, ..Default::default() }).expect("lisa");
        assert_ne!(other.p_sim, a.1.p_sim);
    }
}

#[test]
fn cluster_raster_keeps_nodata() {
    let e = expected();
    let c = &cases(&e)[0];
    let (v, w) = weights_for(&e, c);
    let l = lisa(&v, &w, &LisaOptions::default()).expect("lisa");
    let map = l.cluster_raster(&w);
    assert_eq!(map.len(), v.len());
    for (m, x) in map.iter().zip(&v) {
        assert_eq!(m.is_nan(), x.is_nan());
    }
    let hh = l.quadrant.iter().zip(&l.significant).filter(|(q, s)| **q == Quadrant::HH && **s).count();
    assert_eq!(map.iter().filter(|&&m| m == 1.0).count(), hh);
}
