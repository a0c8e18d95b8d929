//! Train/validation split and validation metrics (method eqs. 5–7).

use crate::error::{ForestError, Result};
use crate::rng::Xoshiro256StarStar;

/// Validation metrics of predictions against observations.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Metrics {
    /// `R² = 1 − SS_res / SS_tot`, `SS_res = Σ(yᵢ − ŷᵢ)²`, `SS_tot = Σ(yᵢ − ȳ)²` (a fraction, ≤ 1,
    /// negative when the predictions are worse than the mean).
    pub r2: f64,
    /// `RMSE = √(SS_res / n)`, response units.
    pub rmse: f64,
    /// `MAE = Σ|yᵢ − ŷᵢ| / n`, response units.
    pub mae: f64,
    /// Number of pairs.
    pub n: usize,
}

/// R², RMSE and MAE of `predicted` against `observed`.
///
/// Errors on different lengths, empty input, a non-finite value (naming which and where) or
/// constant observations (R² undefined).
///
/// ```
/// use rsei_forest::metrics;
/// // y = (1, 2, 3), ŷ = (1, 2, 4): SS_res = 1, ȳ = 2, SS_tot = 2 ⇒ R² = 0.5;
/// // RMSE = √(1/3), MAE = 1/3.
/// let m = metrics(&[1.0, 2.0, 3.0], &[1.0, 2.0, 4.0]).unwrap();
/// assert_eq!(m.r2, 0.5);
/// assert!((m.rmse - (1.0f64 / 3.0).sqrt()).abs() < 1e-15);
/// assert!((m.mae - 1.0 / 3.0).abs() < 1e-15);
/// ```
pub fn metrics(observed: &[f64], predicted: &[f64]) -> Result<Metrics> {
    if observed.len() != predicted.len() {
        return Err(ForestError::MetricsLength { observed: observed.len(), predicted: predicted.len() });
    }
    if observed.is_empty() {
        return Err(ForestError::MetricsEmpty);
    }
    for (which, v) in [("observed", observed), ("predicted", predicted)] {
        if let Some((index, &value)) = v.iter().enumerate().find(|(_, x)| !x.is_finite()) {
            return Err(ForestError::MetricsNonFinite { which, index, value });
        }
    }
    let n = observed.len();
    let mean = observed.iter().sum::<f64>() / n as f64;
    let (mut ss_res, mut ss_tot, mut abs) = (0.0, 0.0, 0.0);
    for (&y, &yhat) in observed.iter().zip(predicted) {
        let r = y - yhat;
        ss_res += r * r;
        abs += r.abs();
        ss_tot += (y - mean) * (y - mean);
    }
    if ss_tot == 0.0 {
        return Err(ForestError::MetricsConstantObserved { n });
    }
    Ok(Metrics { r2: 1.0 - ss_res / ss_tot, rmse: (ss_res / n as f64).sqrt(), mae: abs / n as f64, n })
}

/// Seeded random split of `0..n` into a training part of `round(fraction·n)` rows and a
/// validation part with the rest; both returned in increasing order.
///
/// The permutation is a Fisher–Yates shuffle driven by [`Xoshiro256StarStar`] seeded with `seed`,
/// so the split depends only on `(n, fraction, seed)`.
///
/// ```
/// use rsei_forest::train_validation_split;
/// let (train, valid) = train_validation_split(10, 0.7, 42).unwrap();
/// assert_eq!((train.len(), valid.len()), (7, 3));
/// let mut all: Vec<usize> = train.iter().chain(&valid).copied().collect();
/// all.sort();
/// assert_eq!(all, (0..10).collect::<Vec<_>>());
/// ```
pub fn train_validation_split(n: usize, fraction: f64, seed: u64) -> Result<(Vec<usize>, Vec<usize>)> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(ForestError::InvalidFraction { fraction });
    }
    let n_train = (fraction * n as f64).round() as usize;
    if n_train == 0 || n_train >= n {
        return Err(ForestError::EmptySplitPart { n, fraction });
    }
    let mut idx: Vec<usize> = (0..n).collect();
    let mut rng = Xoshiro256StarStar::seed_from_u64(seed);
    for last in (1..n).rev() {
        let k = rng.below(last + 1);
        idx.swap(last, k);
    }
    let mut train = idx[..n_train].to_vec();
    let mut valid = idx[n_train..].to_vec();
    train.sort_unstable();
    valid.sort_unstable();
    Ok((train, valid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_by_hand() {
        // y = (2, 4, 6, 8), ŷ = (3, 4, 5, 10): residuals (−1, 0, 1, −2)
        // SS_res = 1 + 0 + 1 + 4 = 6; ȳ = 5, SS_tot = 9 + 1 + 1 + 9 = 20 ⇒ R² = 1 − 6/20 = 0.7
        // RMSE = √(6/4) = √1.5; MAE = (1 + 0 + 1 + 2)/4 = 1
        let m = metrics(&[2.0, 4.0, 6.0, 8.0], &[3.0, 4.0, 5.0, 10.0]).unwrap();
        assert!((m.r2 - 0.7).abs() < 1e-15);
        assert!((m.rmse - 1.5f64.sqrt()).abs() < 1e-15);
        assert_eq!(m.mae, 1.0);
        assert_eq!(m.n, 4);
    }

    #[test]
    fn metrics_errors() {
        assert_eq!(metrics(&[1.0], &[1.0, 2.0]).unwrap_err(),
                   ForestError::MetricsLength { observed: 1, predicted: 2 });
        assert_eq!(metrics(&[], &[]).unwrap_err(), ForestError::MetricsEmpty);
        assert!(matches!(metrics(&[1.0, 2.0], &[1.0, f64::NAN]).unwrap_err(),
                         ForestError::MetricsNonFinite { which: "predicted", index: 1, .. }));
        assert_eq!(metrics(&[3.0, 3.0], &[1.0, 2.0]).unwrap_err(), ForestError::MetricsConstantObserved { n: 2 });
    }

    #[test]
    fn split_is_seeded_and_complete() {
        let (a, b) = train_validation_split(1000, 0.7, 5).unwrap();
        assert_eq!((a.len(), b.len()), (700, 300));
        let (a2, b2) = train_validation_split(1000, 0.7, 5).unwrap();
        assert_eq!((&a, &b), (&a2, &b2));
        let (a3, _) = train_validation_split(1000, 0.7, 6).unwrap();
        assert_ne!(a, a3);
        let mut all: Vec<usize> = a.iter().chain(&b).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        // Not just the first 700 rows.
        assert!(a.iter().any(|&i| i >= 700));
    }

    #[test]
    fn split_errors() {
        assert!(matches!(train_validation_split(10, 1.0, 1), Err(ForestError::InvalidFraction { .. })));
        assert!(matches!(train_validation_split(10, f64::NAN, 1), Err(ForestError::InvalidFraction { .. })));
        assert!(matches!(train_validation_split(1, 0.7, 1), Err(ForestError::EmptySplitPart { .. })));
    }
}
