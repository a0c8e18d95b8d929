//! The pixels of a driver analysis: complete cases, per-driver summaries, constant drivers and
//! Pearson's r per driver (METHOD §6–7).
//!
//! A pixel enters the analysis only where it is inside the study area and RSEI and every driver
//! are valid (not `NaN`): [`complete_cases`] lists those pixels in row-major order, and every
//! statistic after it (Pearson, the forest's sample, the predicted map) uses that same list.
//! Pearson's r of each driver with RSEI is accumulated in that row-major order (one pass,
//! single-threaded), so it is the same whatever the number of threads.
//!
//! ```
//! use rsei_core::drivers::{complete_cases, pearson_by_driver};
//! // 5 pixels; driver a = 2·rsei (r = 1), driver b has a NaN at pixel 4, pixel 0 is outside
//! let rsei = [0.1f32, 0.2, 0.3, 0.4, 0.5];
//! let a = [0.2f32, 0.4, 0.6, 0.8, 1.0];
//! let b = [5.0f32, 3.0, 4.0, 1.0, f32::NAN];
//! let inside = [false, true, true, true, true];
//! let rows = complete_cases(&[&a, &b], &rsei, Some(&inside)).unwrap();
//! assert_eq!(rows, vec![1, 2, 3]);
//! let r = pearson_by_driver(&[&a, &b], &rsei, &rows);
//! assert!((r[0].as_ref().unwrap().r - 1.0).abs() < 1e-6);
//! assert_eq!(r[1].as_ref().unwrap().n, 3);
//! ```

use serde::{Deserialize, Serialize};

use crate::accum::Accumulator;
use crate::error::{CoreError, Result};
use crate::stats::{Pearson, PearsonResult, PearsonUndefined};

/// Row-major indices of the pixels inside the area (`inside`, `None` = everywhere) where the
/// response and every layer are not `NaN`.
///
/// Errors: a layer or mask whose length differs from the response's.
pub fn complete_cases(layers: &[&[f32]], response: &[f32], inside: Option<&[bool]>) -> Result<Vec<usize>> {
    let n = response.len();
    for (k, l) in layers.iter().enumerate() {
        if l.len() != n {
            return Err(CoreError::InvalidOption { name: format!("driver layer {k}"), reason: format!("{} cells, the response has {n}", l.len()) });
        }
    }
    if let Some(m) = inside {
        if m.len() != n {
            return Err(CoreError::InvalidOption { name: "study-area mask".into(), reason: format!("{} cells, the response has {n}", m.len()) });
        }
    }
    Ok((0..n)
        .filter(|&i| inside.map_or(true, |m| m[i]) && !response[i].is_nan() && layers.iter().all(|l| !l[i].is_nan()))
        .collect())
}

/// Valid cells, range and mean of a layer over the cells of a mask.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerSummary {
    /// Cells of the mask.
    pub cells: usize,
    /// Of those, cells with a value (not `NaN`).
    pub valid: usize,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
}

impl LayerSummary {
    /// Summary of `values` over the cells where `mask` is true (`None` = all cells); the mean is
    /// summed in row-major order.
    pub fn of(values: &[f32], mask: Option<&[bool]>) -> Self {
        let (mut cells, mut valid, mut sum) = (0usize, 0usize, 0f64);
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for (i, &v) in values.iter().enumerate() {
            if mask.is_some_and(|m| !m.get(i).copied().unwrap_or(false)) {
                continue;
            }
            cells += 1;
            if v.is_nan() {
                continue;
            }
            valid += 1;
            let v = f64::from(v);
            sum += v;
            lo = lo.min(v);
            hi = hi.max(v);
        }
        let some = valid > 0;
        LayerSummary {
            cells,
            valid,
            min: some.then_some(lo),
            max: some.then_some(hi),
            mean: some.then(|| sum / valid as f64),
        }
    }
}

/// The value of a layer when it is the same on every listed pixel (`None` when it varies or
/// there is no pixel).
///
/// ```
/// use rsei_core::drivers::constant_value;
/// assert_eq!(constant_value(&[3.0, 3.0, 9.0], &[0, 1]), Some(3.0));
/// assert_eq!(constant_value(&[3.0, 3.0, 9.0], &[0, 2]), None);
/// ```
pub fn constant_value(values: &[f32], rows: &[usize]) -> Option<f32> {
    let first = values[*rows.first()?];
    rows.iter().all(|&i| values[i] == first).then_some(first)
}

/// Pearson's r (with n and the two-sided p-value) of each layer against the response over the
/// pixels `rows`, accumulated in the order of `rows`. A layer or response that is constant, or
/// fewer than 3 pixels, gives the reason instead (see [`PearsonUndefined`]).
pub fn pearson_by_driver(layers: &[&[f32]], response: &[f32], rows: &[usize]) -> Vec<std::result::Result<PearsonResult, PearsonUndefined>> {
    layers
        .iter()
        .map(|l| {
            let mut p = Pearson::default();
            for &i in rows {
                p.update(f64::from(l[i]), f64::from(response[i]));
            }
            p.finish()
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::needless_range_loop, clippy::nonminimal_bool)]
mod tests {
    use super::*;

    #[test]
    fn pearson_by_hand() {
        // x = (1, 2, 3, 4), y = (2, 1, 4, 3): x̄ = 2.5, ȳ = 2.5;
        // Σ(x − x̄)(y − ȳ) = (−1.5)(−0.5) + (−0.5)(−1.5) + (0.5)(1.5) + (1.5)(0.5) = 3
        // Σ(x − x̄)² = Σ(y − ȳ)² = 5 ⇒ r = 3/5 = 0.6
        let x = [1.0f32, 2.0, 3.0, 4.0];
        let y = [2.0f32, 1.0, 4.0, 3.0];
        let rows = complete_cases(&[&x], &y, None).unwrap();
        let r = pearson_by_driver(&[&x, &[7.0; 4]], &y, &rows);
        assert!((r[0].as_ref().unwrap().r - 0.6).abs() < 1e-12);
        assert!(matches!(r[1], Err(PearsonUndefined::ZeroVariance { variable: "x", .. })));
    }

    #[test]
    fn summaries_and_errors() {
        let v = [1.0f32, f32::NAN, 3.0, 8.0];
        let s = LayerSummary::of(&v, Some(&[true, true, true, false]));
        assert_eq!((s.cells, s.valid, s.min, s.max, s.mean), (3, 2, Some(1.0), Some(3.0), Some(2.0)));
        let e = LayerSummary::of(&[f32::NAN], None);
        assert_eq!((e.cells, e.valid, e.mean), (1, 0, None));
        assert!(complete_cases(&[&[1.0]], &[1.0, 2.0], None).is_err());
        assert!(complete_cases(&[], &[1.0, 2.0], Some(&[true])).is_err());
        assert_eq!(constant_value(&[1.0], &[]), None);
    }
}
