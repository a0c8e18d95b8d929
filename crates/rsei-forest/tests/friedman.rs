//! Integration tests of rsei-forest on Friedman #1 (regenerated bit for bit from numpy's
//! `RandomState`): numpy conformance of the generator, accuracy against scikit-learn and ranger,
//! determinism across thread counts, importance ranking, batch prediction, serialisation.

mod support;

use std::sync::OnceLock;

use rsei_forest::{metrics, Dataset, FitResult, Forest, ForestParams};
use support::{friedman_train_test, make_friedman1, RandomState};

const NUMPY_VALUES: &str = include_str!("../conformance/numpy_randomstate_values.txt");
const REFERENCE_JSON: &str = include_str!("../conformance/friedman_reference.json");

/// Values printed by `conformance/numpy_randomstate.py` after the given label.
fn numpy_line(label: &str) -> Vec<String> {
    let line = NUMPY_VALUES
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("label {label} missing from numpy_randomstate_values.txt"));
    line[label.len()..].split_whitespace().map(str::to_string).collect()
}

fn numpy_f64(label: &str) -> Vec<f64> {
    numpy_line(label).iter().map(|v| v.parse().expect("numpy value")).collect()
}

#[test]
fn random_state_matches_numpy() {
    let raw: Vec<u32> = numpy_line("raw_u32 seed=0 first5:").iter().map(|v| v.parse().expect("u32")).collect();
    let mut rs = RandomState::new(0);
    let ours: Vec<u32> = (0..5).map(|_| rs.next_u32()).collect();
    assert_eq!(ours, raw);

    let mut rs = RandomState::new(0);
    let ours: Vec<f64> = (0..5).map(|_| rs.random_sample()).collect();
    assert_eq!(ours, numpy_f64("random_sample seed=0 first5:"));

    let mut rs = RandomState::new(12345);
    let ours: Vec<f64> = (0..3).map(|_| rs.random_sample()).collect();
    assert_eq!(ours, numpy_f64("random_sample seed=12345 first3:"));

    let mut rs = RandomState::new(0);
    let ours: Vec<f64> = (0..5).map(|_| rs.standard_normal()).collect();
    assert_eq!(ours, numpy_f64("standard_normal seed=0 first5:"));
}

#[test]
fn make_friedman1_matches_scikit_learn() {
    let (x, y) = make_friedman1(14_300, 10, 1.0, 0);
    let row = |i: usize| -> Vec<f64> { x.iter().map(|c| c[i]).collect() };
    assert_eq!(row(0), numpy_f64("friedman X[0,:]:"));
    assert_eq!(row(14_299), numpy_f64("friedman X[14299,:]:"));
    assert_eq!(y[..3].to_vec(), numpy_f64("friedman y[0:3]:"));
    assert_eq!(vec![y[9_999]], numpy_f64("friedman y[9999]:"));
    assert_eq!(vec![y[14_299]], numpy_f64("friedman y[14299]:"));
    // numpy sums pairwise, we sum in order: equal to rounding.
    let sum: f64 = y.iter().sum();
    let np_sum = numpy_f64("friedman sum(y):")[0];
    assert!((sum - np_sum).abs() < 1e-9 * np_sum.abs(), "{sum} vs {np_sum}");
}

/// The 1000-tree forest of the conformance comparison, fitted once for several tests.
fn conformance_fit() -> &'static (Dataset, Dataset, FitResult) {
    static FIT: OnceLock<(Dataset, Dataset, FitResult)> = OnceLock::new();
    FIT.get_or_init(|| {
        let (train, test) = friedman_train_test();
        let params = ForestParams { ntree: 1000, mtry: Some(3), nodesize: 5, seed: 42, importance: true, ..Default::default() };
        let fit = Forest::fit(&train, &params).expect("Friedman fit");
        (train, test, fit)
    })
}

/// Minimal reader for the reference JSON (`"tool": { ... "key": value ... }`).
fn reference(tool: &str, key: &str) -> f64 {
    let v: serde_json::Value = serde_json::from_str(REFERENCE_JSON).expect("friedman_reference.json parses");
    v[tool][key].as_f64().unwrap_or_else(|| panic!("{tool}.{key} missing from friedman_reference.json"))
}

#[test]
fn accuracy_matches_scikit_learn_and_ranger() {
    // Units: R² and % Var explained both as fractions (0..1); tolerance 0.01 on each.
    let (_, test, fit) = conformance_fit();
    let yhat = fit.forest.compile().predict_columns(&test.x).expect("predict");
    let m = metrics(&test.y, &yhat).expect("metrics");
    let oob_frac = fit.var_explained_pct / 100.0;
    for tool in ["sklearn", "ranger"] {
        let r2 = reference(tool, "valid_r2");
        let var_expl = reference(tool, "oob_var_explained_frac");
        assert!((m.r2 - r2).abs() <= 0.01, "validation R² {:.4} vs {tool} {r2:.4}", m.r2);
        assert!((oob_frac - var_expl).abs() <= 0.01, "OOB % Var explained {oob_frac:.4} vs {tool} {var_expl:.4}");
    }
    // And absolute sanity: Friedman #1 with noise sd 1 (var(y) ≈ 24) is about 90 % explainable.
    assert!(m.r2 > 0.88 && m.r2 < 0.93, "{}", m.r2);
}

#[test]
fn inc_mse_ranks_informative_predictors_first() {
    let (_, _, fit) = conformance_fit();
    let ranking = fit.ranking_by_inc_mse();
    let mut top5 = ranking[..5].to_vec();
    top5.sort_unstable();
    assert_eq!(top5, vec![0, 1, 2, 3, 4], "ranking {ranking:?}");
    for v in &fit.importance[5..] {
        let p = v.permutation.expect("importance on");
        // Noise predictors: %IncMSE near zero (|z| small) and far below the informative ones.
        assert!(p.inc_mse.abs() < 10.0, "{} {}", v.name, p.inc_mse);
    }
    for v in &fit.importance[..5] {
        assert!(v.permutation.expect("importance on").inc_mse > 50.0, "{}", v.name);
        assert!(v.inc_node_purity > fit.importance[5..].iter().map(|w| w.inc_node_purity).fold(0.0, f64::max));
    }
}

#[test]
fn same_seed_same_forest_at_one_and_two_threads() {
    let (train, _) = friedman_train_test();
    let fit_with = |threads: usize| {
        let params = ForestParams { ntree: 120, mtry: Some(3), seed: 7, threads: Some(threads), ..Default::default() };
        Forest::fit(&train, &params).expect("fit")
    };
    let a = fit_with(1);
    let b = fit_with(2);
    // (assert! rather than assert_eq!: a failure would print two whole forests)
    assert!(a.forest.trees() == b.forest.trees(), "trees differ between 1 and 2 threads");
    // Bit-identical numbers (compare the bits so that NaN == NaN).
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.oob_predictions), bits(&b.oob_predictions));
    assert_eq!(a.oob_mse.to_bits(), b.oob_mse.to_bits());
    assert_eq!(a.importance, b.importance);
    // A different seed gives a different forest.
    let c = Forest::fit(&train, &ForestParams { ntree: 120, mtry: Some(3), seed: 8, threads: Some(2), ..Default::default() })
        .expect("fit");
    assert!(a.forest.trees() != c.forest.trees());
}

#[test]
fn batch_predictors_equal_plain_prediction() {
    let (train, test) = friedman_train_test();
    let fit = Forest::fit(&train, &ForestParams { ntree: 60, mtry: Some(3), seed: 3, importance: false, ..Default::default() })
        .expect("fit");
    // Rows from the test set, plus values outside the training range, ±inf, exact split points
    // and NaN rows.
    let mut cols = test.x.clone();
    let split_points: Vec<f64> = fit.forest.trees()[0].nodes().iter().filter(|n| !n.is_leaf()).map(|n| n.value).take(50).collect();
    for (k, &v) in split_points.iter().enumerate() {
        for (j, c) in cols.iter_mut().enumerate() {
            c.push(if j == k % 10 { v } else { c[k] });
        }
    }
    for extra in [-5.0, 7.5, f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
        for (j, c) in cols.iter_mut().enumerate() {
            c.push(if j == 3 { extra } else { 0.5 });
        }
    }
    let plain = fit.forest.predict_columns(&cols).expect("plain");
    let fast = fit.forest.compile().predict_columns(&cols).expect("compiled");
    let portable = fit.forest.compile_portable().predict_columns(&cols).expect("portable");
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&fast), bits(&plain));
    assert_eq!(bits(&portable), bits(&plain));
    assert!(plain.last().expect("rows").is_nan());
    assert!(plain[..plain.len() - 1].iter().all(|v| v.is_finite()));

    // Many rows (several blocks) at 1 and 2 threads: identical.
    let (big, _) = make_friedman1(70_000, 10, 1.0, 9);
    let compiled = fit.forest.compile();
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool").install(|| compiled.predict_columns(&big))
    };
    let one = run(1).expect("predict");
    assert_eq!(bits(&one), bits(&run(2).expect("predict")));
    // every row, so that a row put in the wrong place by the batch predictor's reordering shows
    assert_eq!(bits(&one), bits(&fit.forest.predict_columns(&big).expect("plain")));
    let portable = fit.forest.compile_portable();
    let portable_two = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("pool").install(|| portable.predict_columns(&big));
    assert_eq!(bits(&one), bits(&portable_two.expect("portable")));
}

#[test]
fn forest_round_trips_through_json() {
    let (train, test) = friedman_train_test();
    let fit = Forest::fit(&train, &ForestParams { ntree: 10, seed: 1, ..Default::default() }).expect("fit");
    let text = serde_json::to_string(&fit.forest).expect("serialise");
    let back: Forest = serde_json::from_str(&text).expect("deserialise");
    assert!(back == fit.forest, "forest changed through JSON");
    assert_eq!(back.predict_columns(&test.x).expect("p"), fit.forest.predict_columns(&test.x).expect("p"));
}
