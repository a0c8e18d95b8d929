//! Conformance of the numeric core against independent implementations, from small expected files
//! in `tests/data` made by the Python scripts beside them:
//! - QA decoding and indicators on every distinct QA pair / every 10th pixel of the real MOD09A1
//!   subset in `shared/data` (`make_mod09_real.py`: GDAL extraction, numpy bit decoding, float64 indicators);
//! - the RSEI model against numpy (`make_rsei_numpy.py`: `np.cov`, `np.linalg.eigh`).

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use rsei_core::indicators::{compute_indicators, IndicatorsOut, WetnessCoefficients};
use rsei_core::model::{compute_rsei, RseiOptions};
use rsei_core::qa::{Mod09Rules, ReflectanceRange};

fn data(name: &str) -> Vec<Vec<String>> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    text.lines().skip(1).filter(|l| !l.is_empty()).map(|l| l.split(',').map(str::to_string).collect()).collect()
}

fn f(s: &str) -> f64 {
    s.parse().unwrap()
}

#[test]
fn real_mod09_qa_matches_independent_decoding() {
    let rules = Mod09Rules::default();
    let checker = rules.compile().unwrap();
    let (mut total, mut valid) = (0u64, 0u64);
    let rows = data("mod09_real_qa.csv");
    assert_eq!(rows.len(), 43);
    for r in rows {
        let (qc, state, count, expect): (u32, u16, u64, bool) = (r[0].parse().unwrap(), r[1].parse().unwrap(), r[2].parse().unwrap(), r[3] == "1");
        assert_eq!(rules.is_valid(qc, state), expect, "qc {qc} state {state}: {:?}", rules.check(qc, state));
        assert_eq!(checker.check(qc, state).is_valid(), expect);
        total += count;
        valid += u64::from(expect) * count;
    }
    // 66 × 73 cells, 4125 valid under the METHOD defaults (numpy decoding)
    assert_eq!((total, valid), (4818, 4125));
}

#[test]
fn real_mod09_indicators_match_float64() {
    let rows = data("mod09_real_pixels.csv");
    let n = rows.len();
    // scaled the way a reader does it: DN (i16) as f32 × 0.0001
    let bands: Vec<Vec<f32>> = (0..7).map(|k| rows.iter().map(|r| f32::from(r[k].parse::<i16>().unwrap()) * 1e-4).collect()).collect();
    let (mut wet, mut nd, mut mn, mut nv) = (vec![0f32; n], vec![0f32; n], vec![0f32; n], vec![0f32; n]);
    let b: [&[f32]; 7] = std::array::from_fn(|k| bands[k].as_slice());
    compute_indicators(b, &WetnessCoefficients::MODIS, IndicatorsOut { wet: &mut wet, ndbsi: &mut nd, mndwi: &mut mn, ndvi: Some(&mut nv) }).unwrap();
    let range = ReflectanceRange::default();
    let mut compared = 0;
    for (i, r) in rows.iter().enumerate() {
        let rho: [f32; 7] = std::array::from_fn(|k| bands[k][i]);
        if !range.all_valid(&rho) {
            continue;
        }
        for (got, col) in [(wet[i], 7), (nd[i], 8), (mn[i], 9), (nv[i], 10)] {
            let e = f(&r[col]);
            assert!(got.is_nan() == e.is_nan(), "pixel {i} column {col}: {got} vs {e}");
            if !e.is_nan() {
                assert!((f64::from(got) - e).abs() <= 2e-6 * e.abs().max(1.0), "pixel {i} column {col}: {got} vs {e}");
            }
        }
        compared += 1;
    }
    assert!(compared > 400, "only {compared} pixels in range");
}

#[test]
fn rsei_matches_numpy() {
    let model: std::collections::HashMap<String, f64> = data("rsei_numpy_model.csv").into_iter().map(|r| (r[0].clone(), f(&r[1]))).collect();
    let rows = data("rsei_numpy_inputs.csv");
    let col = |k: usize| -> Vec<f32> { rows.iter().map(|r| f(&r[k]) as f32).collect() };
    let (ndvi, wet, ndbsi, lst) = (col(0), col(1), col(2), col(3));
    let usable: Vec<bool> = rows.iter().map(|r| r[4] == "1").collect();
    let out = compute_rsei([&ndvi, &wet, &ndbsi, &lst], Some(&usable), model["rows"] as usize, model["cols"] as usize, &RseiOptions::default()).unwrap();
    let m = &out.model;
    assert_eq!(m.n_pixels, model["n"] as u64);
    for k in 0..4 {
        assert!((m.pc1[k] - model[&format!("pc1_{k}")]).abs() < 1e-9, "pc1[{k}] {} vs {}", m.pc1[k], model[&format!("pc1_{k}")]);
        let ev = model[&format!("eigenvalue_{k}")];
        assert!((m.eigenvalues[k] - ev).abs() < 1e-9 * model["eigenvalue_0"], "λ{k} {} vs {ev}", m.eigenvalues[k]);
        assert!((m.means[k] - model[&format!("mean_{k}")]).abs() < 1e-12);
    }
    assert!((m.pc1_contribution - model["contribution"]).abs() < 1e-9);
    for (i, r) in rows.iter().enumerate() {
        let e = f(&r[5]);
        let got = out.rsei[i];
        assert_eq!(got.is_nan(), e.is_nan(), "pixel {i}");
        if !e.is_nan() {
            // RSEI0 is computed in f32 (numpy: float64)
            assert!((f64::from(got) - e).abs() < 2e-6, "pixel {i}: {got} vs {e}");
        }
    }
}
