//! Small statistics for the mining and driver analyses: histograms, densities, box plots,
//! Pearson correlation with its p-value, and weighted moments.
//!
//! Every accumulator here is mergeable ([`crate::accum::Accumulator`]): fill partials per tile or
//! row, merge in a fixed order, finish. NaN values are skipped everywhere.
//!
//! ```
//! use rsei_core::accum::Accumulator;
//! use rsei_core::stats::{BoxStats, Pearson};
//! let b = BoxStats::from_values(&[1.0, 2.0, 3.0, 4.0, 100.0]).unwrap();
//! assert_eq!((b.q1, b.median, b.q3), (2.0, 3.0, 4.0));
//! assert_eq!(b.outliers, vec![100.0]);
//! let mut p = Pearson::default();
//! p.update_slices(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 1.0, 4.0, 3.0, 5.0]).unwrap();
//! let r = p.finish().unwrap();
//! assert!((r.r - 0.8).abs() < 1e-12 && (r.p_value - 0.104_088_038_661_827_82).abs() < 1e-12);
//! ```

// `!(a > b)` comparisons are NaN-aware on purpose.
#![allow(clippy::neg_cmp_op_on_partial_ord, clippy::excessive_precision)]

use serde::{Deserialize, Serialize};

use crate::accum::Accumulator;
use crate::error::{CoreError, Result};

// ---------------------------------------------------------------------------------------------
// Histogram and densities
// ---------------------------------------------------------------------------------------------

/// A fixed-bin histogram on [lo, hi]: bin k holds [lo + k·w, lo + (k+1)·w), the last bin also
/// holds `hi`. Values outside are counted in `below` / `above`; NaN is skipped.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Lower edge.
    pub lo: f64,
    /// Upper edge.
    pub hi: f64,
    /// Counts per bin.
    pub counts: Vec<u64>,
    /// Values < lo.
    pub below: u64,
    /// Values > hi.
    pub above: u64,
}

impl Histogram {
    /// An empty histogram with `bins` equal bins on [lo, hi] (finite, lo < hi, bins ≥ 1).
    pub fn new(lo: f64, hi: f64, bins: usize) -> Result<Self> {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) || bins == 0 {
            return Err(CoreError::InvalidOption { name: "histogram".into(), reason: format!("need finite lo < hi and at least one bin, got [{lo}, {hi}] with {bins} bins") });
        }
        Ok(Self { lo, hi, counts: vec![0; bins], below: 0, above: 0 })
    }
    /// Number of bins.
    pub fn bins(&self) -> usize {
        self.counts.len()
    }
    /// Bin width.
    pub fn bin_width(&self) -> f64 {
        (self.hi - self.lo) / self.bins() as f64
    }
    /// Bin index of a value inside [lo, hi] (`None` outside or NaN).
    #[inline]
    pub fn bin_of(&self, v: f64) -> Option<usize> {
        if !(v >= self.lo && v <= self.hi) || self.counts.is_empty() {
            return None;
        }
        let k = ((v - self.lo) / (self.hi - self.lo) * self.bins() as f64) as usize;
        Some(k.min(self.bins() - 1))
    }
    /// Adds one value.
    #[inline]
    pub fn update(&mut self, v: f64) {
        if v.is_nan() || self.counts.is_empty() {
            return;
        }
        match self.bin_of(v) {
            Some(k) => self.counts[k] += 1,
            None if v < self.lo => self.below += 1,
            None => self.above += 1,
        }
    }
    /// Adds a slice of values.
    pub fn update_slice(&mut self, vs: &[f32]) {
        for &v in vs {
            self.update(f64::from(v));
        }
    }
    /// Values inside [lo, hi].
    pub fn count_inside(&self) -> u64 {
        self.counts.iter().sum()
    }
    /// Centres of the bins.
    pub fn centres(&self) -> Vec<f64> {
        let w = self.bin_width();
        (0..self.bins()).map(|k| self.lo + (k as f64 + 0.5) * w).collect()
    }
    /// Merges another histogram; fails unless both have the same edges. An empty default side adopts the other.
    pub fn try_merge(&mut self, o: &Self) -> Result<()> {
        if o.counts.is_empty() {
            return Ok(());
        }
        if self.counts.is_empty() {
            *self = o.clone();
            return Ok(());
        }
        if self.lo != o.lo || self.hi != o.hi || self.bins() != o.bins() {
            return Err(CoreError::InvalidOption {
                name: "histogram merge".into(),
                reason: format!("edges differ: [{}, {}]×{} vs [{}, {}]×{}", self.lo, self.hi, self.bins(), o.lo, o.hi, o.bins()),
            });
        }
        for (a, b) in self.counts.iter_mut().zip(&o.counts) {
            *a += b;
        }
        self.below += o.below;
        self.above += o.above;
        Ok(())
    }
}

impl Accumulator for Histogram {
    type Output = Histogram;
    /// See [`Histogram::try_merge`]; merging histograms with different edges is a programming
    /// error (edges are fixed by the code that creates them) and panics.
    fn merge(&mut self, o: &Self) {
        if let Err(e) = self.try_merge(o) {
            panic!("{e}");
        }
    }
    fn finish(&self) -> Self::Output {
        self.clone()
    }
}

/// Probability density per bin: `count / (n_inside · width)` (integrates to 1 over [lo, hi]);
/// all zeros when the histogram is empty.
pub fn density_from_histogram(h: &Histogram) -> Vec<f64> {
    let n = h.count_inside();
    let w = h.bin_width();
    h.counts.iter().map(|&c| if n == 0 { 0.0 } else { c as f64 / (n as f64 * w) }).collect()
}

/// `m` evenly spaced points from 0 to 1 inclusive (the usual grid for RSEI densities).
pub fn grid_0_1(m: usize) -> Vec<f64> {
    match m {
        0 => Vec::new(),
        1 => vec![0.5],
        _ => (0..m).map(|i| i as f64 / (m - 1) as f64).collect(),
    }
}

/// Silverman's rule of thumb (as R's `bw.nrd0`): `h = 0.9 · min(sd, IQR/1.34) · n^(−1/5)`, with
/// `sd` the sample standard deviation and IQR from type-7 quantiles; when that minimum is 0 it
/// falls back to `sd`, then to `|x₁|`, then to 1. NaN skipped; `None` with fewer than 2 values.
pub fn silverman_bandwidth(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.len() < 2 {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let sd = (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0)).sqrt();
    let iqr = quantile_type7(&v, 0.75) - quantile_type7(&v, 0.25);
    let mut lo = sd.min(iqr / 1.34);
    if lo == 0.0 {
        lo = if sd > 0.0 { sd } else if v[0] != 0.0 { v[0].abs() } else { 1.0 };
    }
    Some(0.9 * lo * n.powf(-0.2))
}

const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// Gaussian kernel density estimate at the `grid` points: `f(x) = 1/(n·h) Σ φ((x − xᵢ)/h)`.
/// Exact (O(n·m)); NaN values skipped; all zeros when no value; `h` must be > 0.
pub fn gaussian_kde(values: &[f32], grid: &[f64], bandwidth: f64) -> Result<Vec<f64>> {
    check_bandwidth(bandwidth)?;
    let xs: Vec<f64> = values.iter().filter(|v| !v.is_nan()).map(|&v| f64::from(v)).collect();
    Ok(kde_weighted(xs.iter().map(|&x| (x, 1.0)), xs.len() as f64, grid, bandwidth))
}

/// Binned Gaussian KDE: the histogram's bin centres weighted by their counts (an approximation of
/// [`gaussian_kde`] whose error is bounded by the bin width; use bins much narrower than `h`).
/// Values outside the histogram range are ignored.
pub fn kde_from_histogram(h: &Histogram, grid: &[f64], bandwidth: f64) -> Result<Vec<f64>> {
    check_bandwidth(bandwidth)?;
    let n = h.count_inside() as f64;
    let centres = h.centres();
    Ok(kde_weighted(centres.into_iter().zip(h.counts.iter().map(|&c| c as f64)).filter(|&(_, w)| w > 0.0), n, grid, bandwidth))
}

fn check_bandwidth(h: f64) -> Result<()> {
    if !(h > 0.0 && h.is_finite()) {
        return Err(CoreError::InvalidOption { name: "kde bandwidth".into(), reason: format!("must be finite and > 0, got {h}") });
    }
    Ok(())
}

fn kde_weighted(points: impl Iterator<Item = (f64, f64)> + Clone, n: f64, grid: &[f64], h: f64) -> Vec<f64> {
    if n == 0.0 {
        return vec![0.0; grid.len()];
    }
    grid.iter()
        .map(|&g| {
            let s: f64 = points.clone().map(|(x, w)| {
                let u = (g - x) / h;
                w * (-0.5 * u * u).exp()
            }).sum();
            s * INV_SQRT_2PI / (n * h)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Quantiles and box plots
// ---------------------------------------------------------------------------------------------

/// Quantile of **sorted** finite values by R's default (type 7): `h = (n − 1)·p`,
/// `Q = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])` (0-based). NaN for an empty slice.
pub fn quantile_type7(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Box-plot statistics: quartiles by type-7 quantiles, whiskers at the most extreme values within
/// 1.5·IQR of the quartiles, outliers beyond them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoxStats {
    /// Number of values (NaN skipped).
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Smallest value.
    pub min: f64,
    /// First quartile.
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub q3: f64,
    /// Largest value.
    pub max: f64,
    /// Smallest value ≥ q1 − 1.5·IQR.
    pub lower_whisker: f64,
    /// Largest value ≤ q3 + 1.5·IQR.
    pub upper_whisker: f64,
    /// Values outside the whiskers, ascending.
    pub outliers: Vec<f64>,
}

impl BoxStats {
    /// Statistics of the non-NaN values; `None` when there is none.
    pub fn from_values(values: &[f64]) -> Option<BoxStats> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let (q1, median, q3) = (quantile_type7(&v, 0.25), quantile_type7(&v, 0.5), quantile_type7(&v, 0.75));
        let iqr = q3 - q1;
        let (lf, uf) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
        let lower_whisker = v.iter().copied().find(|&x| x >= lf).unwrap_or(v[0]);
        let upper_whisker = v.iter().rev().copied().find(|&x| x <= uf).unwrap_or(v[n - 1]);
        let outliers = v.iter().copied().filter(|&x| x < lf || x > uf).collect();
        Some(BoxStats { n, mean: v.iter().sum::<f64>() / n as f64, min: v[0], q1, median, q3, max: v[n - 1], lower_whisker, upper_whisker, outliers })
    }
    /// [`BoxStats::from_values`] for f32 values.
    pub fn from_f32(values: &[f32]) -> Option<BoxStats> {
        Self::from_values(&values.iter().map(|&v| f64::from(v)).collect::<Vec<_>>())
    }
}

// ---------------------------------------------------------------------------------------------
// Pearson correlation
// ---------------------------------------------------------------------------------------------

/// Mergeable co-moments of pairs (x, y) for Pearson's r; pairs with a non-finite member are skipped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pearson {
    n: u64,
    mx: f64,
    my: f64,
    cxx: f64,
    cyy: f64,
    cxy: f64,
}

/// Pearson's r with its two-sided p-value (Student's t with n − 2 degrees of freedom).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PearsonResult {
    /// Correlation coefficient.
    pub r: f64,
    /// Number of pairs.
    pub n: u64,
    /// Two-sided p-value of H0: r = 0.
    pub p_value: f64,
}

/// Why r is undefined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PearsonUndefined {
    /// Fewer than 3 pairs (no degrees of freedom for the test).
    TooFewPairs {
        /// Pairs seen.
        n: u64,
    },
    /// One variable does not vary.
    ZeroVariance {
        /// `"x"` or `"y"`.
        variable: &'static str,
        /// Pairs seen.
        n: u64,
    },
}

impl std::fmt::Display for PearsonUndefined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PearsonUndefined::TooFewPairs { n } => write!(f, "correlation undefined: {n} valid pairs, at least 3 needed"),
            PearsonUndefined::ZeroVariance { variable, n } => write!(f, "correlation undefined: {variable} is constant over {n} valid pairs"),
        }
    }
}

impl Pearson {
    /// Adds one pair (skipped unless both are finite).
    #[inline]
    pub fn update(&mut self, x: f64, y: f64) {
        if !(x.is_finite() && y.is_finite()) {
            return;
        }
        self.n += 1;
        let n = self.n as f64;
        let dx = x - self.mx;
        let dy = y - self.my;
        self.mx += dx / n;
        self.my += dy / n;
        self.cxx += dx * (x - self.mx);
        self.cyy += dy * (y - self.my);
        self.cxy += dx * (y - self.my);
    }
    /// Adds pairs from two slices of the same length.
    pub fn update_slices(&mut self, x: &[f32], y: &[f32]) -> Result<()> {
        if x.len() != y.len() {
            return Err(CoreError::InvalidOption { name: "pearson".into(), reason: format!("x has {} values, y has {}", x.len(), y.len()) });
        }
        for (&a, &b) in x.iter().zip(y) {
            self.update(f64::from(a), f64::from(b));
        }
        Ok(())
    }
    /// Number of pairs.
    pub fn count(&self) -> u64 {
        self.n
    }
}

impl Accumulator for Pearson {
    type Output = std::result::Result<PearsonResult, PearsonUndefined>;
    fn merge(&mut self, o: &Self) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        let (na, nb) = (self.n as f64, o.n as f64);
        let n = na + nb;
        let (dx, dy) = (o.mx - self.mx, o.my - self.my);
        let f = na * nb / n;
        self.cxx += o.cxx + dx * dx * f;
        self.cyy += o.cyy + dy * dy * f;
        self.cxy += o.cxy + dx * dy * f;
        self.mx += dx * nb / n;
        self.my += dy * nb / n;
        self.n += o.n;
    }
    /// r = Σ(x − x̄)(y − ȳ) / √(Σ(x − x̄)² Σ(y − ȳ)²) and p = I_{df/(df + t²)}(df/2, 1/2) with
    /// t² = r²·df/(1 − r²), df = n − 2 (so p = 0 for |r| = 1).
    fn finish(&self) -> Self::Output {
        let n = self.n;
        if n < 3 {
            return Err(PearsonUndefined::TooFewPairs { n });
        }
        if !(self.cxx > 0.0) {
            return Err(PearsonUndefined::ZeroVariance { variable: "x", n });
        }
        if !(self.cyy > 0.0) {
            return Err(PearsonUndefined::ZeroVariance { variable: "y", n });
        }
        let r = (self.cxy / (self.cxx.sqrt() * self.cyy.sqrt())).clamp(-1.0, 1.0);
        let df = (n - 2) as f64;
        let one_minus = (1.0 - r * r).max(0.0);
        let p_value = if one_minus == 0.0 {
            0.0
        } else {
            // x = df/(df + t²) with t² = r² df/(1 − r²)  ⇒  x = 1 − r²
            regularized_incomplete_beta(0.5 * df, 0.5, one_minus)
        };
        Ok(PearsonResult { r, n, p_value })
    }
}

/// ln Γ(x) for x > 0 (Lanczos approximation, g = 7, 9 coefficients; relative error ~1e-15).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_571_6e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // reflection: Γ(x)Γ(1 − x) = π / sin(πx)
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, &c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Regularised incomplete beta function I_x(a, b) for a, b > 0 and 0 ≤ x ≤ 1, by the continued
/// fraction of Numerical Recipes (`betai`/`betacf`, modified Lentz), using the symmetry
/// I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges faster.
pub fn regularized_incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(a, b, x) / a
    } else {
        1.0 - front * beta_cf(b, a, 1.0 - x) / b
    }
}

/// Continued fraction for the incomplete beta function (modified Lentz's method).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const MAX_ITER: usize = 10_000;
    const EPS: f64 = 1e-16;
    const FPMIN: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < FPMIN {
        d = FPMIN;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=MAX_ITER {
        let m = m as f64;
        let m2 = 2.0 * m;
        // even step
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < FPMIN {
            d = FPMIN;
        }
        c = 1.0 + aa / c;
        if c.abs() < FPMIN {
            c = FPMIN;
        }
        d = 1.0 / d;
        h *= d * c;
        // odd step
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < FPMIN {
            d = FPMIN;
        }
        c = 1.0 + aa / c;
        if c.abs() < FPMIN {
            c = FPMIN;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

// ---------------------------------------------------------------------------------------------
// Weighted moments
// ---------------------------------------------------------------------------------------------

/// Weighted mean and standard deviation (weights = coverage fractions), mergeable. Population form:
/// `mean = Σwx/Σw`, `var = Σw(x − mean)²/Σw` (as exactextract's `stdev`). Values that are NaN and
/// weights that are not finite and > 0 are skipped. Incremental update by West (1979), merge by Chan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WeightedMoments {
    n: u64,
    sum_w: f64,
    mean: f64,
    m2: f64,
}

impl WeightedMoments {
    /// Adds value `x` with weight `w`.
    #[inline]
    pub fn update(&mut self, x: f64, w: f64) {
        if x.is_nan() || !(w > 0.0 && w.is_finite()) {
            return;
        }
        self.n += 1;
        self.sum_w += w;
        let d = x - self.mean;
        self.mean += d * w / self.sum_w;
        self.m2 += w * d * (x - self.mean);
    }
    /// Adds values with their weights (same length).
    pub fn update_slices(&mut self, x: &[f32], w: &[f32]) -> Result<()> {
        if x.len() != w.len() {
            return Err(CoreError::InvalidOption { name: "weighted moments".into(), reason: format!("{} values but {} weights", x.len(), w.len()) });
        }
        for (&a, &b) in x.iter().zip(w) {
            self.update(f64::from(a), f64::from(b));
        }
        Ok(())
    }
    /// Number of values with positive weight.
    pub fn count(&self) -> u64 {
        self.n
    }
    /// Σw.
    pub fn sum_weights(&self) -> f64 {
        self.sum_w
    }
    /// Weighted mean; `None` when nothing was added.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then_some(self.mean)
    }
    /// Weighted population variance.
    pub fn variance(&self) -> Option<f64> {
        (self.n > 0).then(|| (self.m2 / self.sum_w).max(0.0))
    }
    /// Weighted population standard deviation.
    pub fn std(&self) -> Option<f64> {
        self.variance().map(f64::sqrt)
    }
}

impl Accumulator for WeightedMoments {
    /// (count, Σw, mean, std).
    type Output = (u64, f64, Option<f64>, Option<f64>);
    fn merge(&mut self, o: &Self) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        let w = self.sum_w + o.sum_w;
        let d = o.mean - self.mean;
        self.m2 += o.m2 + d * d * self.sum_w * o.sum_w / w;
        self.mean += d * o.sum_w / w;
        self.sum_w = w;
        self.n += o.n;
    }
    fn finish(&self) -> Self::Output {
        (self.n, self.sum_w, self.mean(), self.std())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::needless_range_loop)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn histogram_edges_and_merge() {
        // [0, 1] in 4 bins of 0.25: 0 → bin 0, 0.25 → bin 1, 0.99 → bin 3, 1.0 → bin 3 (last bin holds hi)
        let mut h = Histogram::new(0.0, 1.0, 4).unwrap();
        h.update_slice(&[0.0, 0.25, 0.5, 0.99, 1.0, -0.1, 1.5, f32::NAN]);
        assert_eq!(h.counts, vec![1, 1, 1, 2]);
        assert_eq!((h.below, h.above), (1, 1));
        assert_eq!(h.count_inside(), 5);
        assert_eq!(h.centres(), vec![0.125, 0.375, 0.625, 0.875]);
        // density: count / (5 · 0.25): bin 3 → 2/1.25 = 1.6
        assert_eq!(density_from_histogram(&h), vec![0.8, 0.8, 0.8, 1.6]);
        let mut g = Histogram::new(0.0, 1.0, 4).unwrap();
        g.update(0.1);
        g.merge(&h);
        assert_eq!(g.counts, vec![2, 1, 1, 2]);
        assert!(g.try_merge(&Histogram::new(0.0, 2.0, 4).unwrap()).is_err());
        let mut d = Histogram::default();
        d.merge(&h);
        assert_eq!(d, h);
        assert!(Histogram::new(1.0, 1.0, 4).is_err() && Histogram::new(0.0, 1.0, 0).is_err() && Histogram::new(0.0, f64::NAN, 3).is_err());
        assert_eq!(density_from_histogram(&Histogram::new(0.0, 1.0, 2).unwrap()), vec![0.0, 0.0]);
    }

    #[test]
    fn silverman_and_kde_by_hand() {
        // 1..5: sd = √2.5 = 1.5811388; type-7 q1 = 2, q3 = 4, IQR/1.34 = 1.4925373;
        // h = 0.9 · 1.4925373 · 5^−0.2 = 0.9 · 1.4925373 · 0.7247797 = 0.9735845 (R: bw.nrd0(1:5) = 0.9736)
        let h = silverman_bandwidth(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert!((h - 0.973_584_5).abs() < 1e-6, "{h}");
        // constant values: IQR = sd = 0 → |x1| = 2 → 0.9 · 2 · 3^−0.2 = 1.8 · 0.8027416 = 1.4449349
        assert!((silverman_bandwidth(&[2.0, 2.0, 2.0]).unwrap() - 1.444_934_9).abs() < 1e-6);
        assert_eq!(silverman_bandwidth(&[1.0]), None);
        // one point at 0.5 with h = 0.1: f(0.5) = 1/(0.1 √(2π)) = 3.9894228; f(0.6) = that · e^−0.5 = 2.4197072
        let f = gaussian_kde(&[0.5], &[0.5, 0.6], 0.1).unwrap();
        assert!((f[0] - 3.989_422_8).abs() < 1e-6 && (f[1] - 2.419_707_2).abs() < 1e-6);
        // density integrates to ≈ 1 (trapezoid on a wide grid)
        let vals: Vec<f32> = (0..50).map(|i| 0.3 + 0.4 * (i as f32 / 49.0)).collect();
        let grid: Vec<f64> = (0..=2000).map(|i| -0.5 + 2.0 * i as f64 / 2000.0).collect();
        let f = gaussian_kde(&vals, &grid, 0.05).unwrap();
        let integral: f64 = f.windows(2).map(|w| 0.5 * (w[0] + w[1]) * 0.001).sum();
        assert!((integral - 1.0).abs() < 1e-6, "{integral}");
        // binned KDE approaches the exact one when bins are fine
        let mut hist = Histogram::new(0.0, 1.0, 10_000).unwrap();
        hist.update_slice(&vals);
        let g = grid_0_1(11);
        assert_eq!(g[10], 1.0);
        let exact = gaussian_kde(&vals, &g, 0.05).unwrap();
        let binned = kde_from_histogram(&hist, &g, 0.05).unwrap();
        for (a, b) in exact.iter().zip(&binned) {
            assert!((a - b).abs() < 1e-2 * a.max(1e-3), "{a} vs {b}");
        }
        assert!(gaussian_kde(&vals, &g, 0.0).is_err());
        assert_eq!(gaussian_kde(&[f32::NAN], &g, 0.1).unwrap(), vec![0.0; 11]);
    }

    #[test]
    fn quantiles_type7_by_hand() {
        let v = [1.0, 2.0, 4.0, 7.0];
        // h = 3p: p = 0.25 → h = 0.75 → 1 + 0.75·(2 − 1) = 1.75; p = 0.5 → h = 1.5 → 2 + 0.5·2 = 3;
        // p = 0.75 → h = 2.25 → 4 + 0.25·3 = 4.75
        assert_eq!(quantile_type7(&v, 0.25), 1.75);
        assert_eq!(quantile_type7(&v, 0.5), 3.0);
        assert_eq!(quantile_type7(&v, 0.75), 4.75);
        assert_eq!(quantile_type7(&v, 0.0), 1.0);
        assert_eq!(quantile_type7(&v, 1.0), 7.0);
        assert!(quantile_type7(&[], 0.5).is_nan());
    }

    #[test]
    fn box_stats_by_hand() {
        // values 1, 2, 3, 4, 5, 6, 7, 8, 30, −20 (n = 10), sorted −20 1 2 3 4 5 6 7 8 30
        // q1: h = 9·0.25 = 2.25 → 2 + 0.25·1 = 2.25; median: h = 4.5 → 4 + 0.5 = 4.5; q3: h = 6.75 → 6 + 0.75 = 6.75
        // IQR = 4.5; fences 2.25 − 6.75 = −4.5 and 6.75 + 6.75 = 13.5
        // whiskers: smallest ≥ −4.5 is 1, largest ≤ 13.5 is 8; outliers −20 and 30
        let b = BoxStats::from_values(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 30.0, -20.0, f64::NAN]).unwrap();
        assert_eq!(b.n, 10);
        assert_eq!((b.min, b.q1, b.median, b.q3, b.max), (-20.0, 2.25, 4.5, 6.75, 30.0));
        assert_eq!((b.lower_whisker, b.upper_whisker), (1.0, 8.0));
        assert_eq!(b.outliers, vec![-20.0, 30.0]);
        // mean = (36 + 30 − 20)/10 = 4.6
        assert!((b.mean - 4.6).abs() < 1e-12);
        // one value: every statistic is that value, no outlier
        let one = BoxStats::from_f32(&[0.4]).unwrap();
        assert_eq!((one.q1, one.median, one.q3, one.lower_whisker, one.upper_whisker), (0.4f32 as f64, 0.4f32 as f64, 0.4f32 as f64, 0.4f32 as f64, 0.4f32 as f64));
        assert!(one.outliers.is_empty());
        assert!(BoxStats::from_values(&[f64::NAN]).is_none());
    }

    /// Expected values from scipy 1.x:
    /// ```python
    /// from scipy.stats import pearsonr
    /// pearsonr([1,2,3,4,5,6,7,8,9,10], [2.1,3.9,6.2,7.8,10.1,12.2,13.8,16.1,18.0,20.2])
    ///   # (0.9996697883603307, 5.1996662290963514e-14)
    /// pearsonr([1,2,3,4,5], [2,1,4,3,5])                    # (0.8, 0.10408803866182782)
    /// pearsonr([0.5,1.5,2.0,3.5,4.0,5.5,6.0], [3,1,4,1,5,9,2])  # (0.397821728203139, 0.3767852969806521)
    /// pearsonr([1,2,3], [1,3,2])                            # (0.5, 0.6666666666666666)
    /// x = list(range(30)); y = [(-1)**i*0.5*i + 0.05*i*i for i in x]
    /// pearsonr(x, y)                                        # (0.8075468230751822, 6.913449893902177e-08)
    /// from scipy.special import betainc
    /// betainc(2.5, 0.5, 0.3), betainc(10, 0.5, 0.9), betainc(0.5, 0.5, 0.5)
    ///   # 0.018927124071945658, 0.15164090963470994, 0.5000000000000001
    /// ```
    #[test]
    fn pearson_against_scipy() {
        let cases: Vec<(Vec<f64>, Vec<f64>, f64, f64)> = vec![
            ((1..=10).map(f64::from).collect(), vec![2.1, 3.9, 6.2, 7.8, 10.1, 12.2, 13.8, 16.1, 18.0, 20.2], 0.999_669_788_360_330_7, 5.199_666_229_096_351_4e-14),
            (vec![1., 2., 3., 4., 5.], vec![2., 1., 4., 3., 5.], 0.8, 0.104_088_038_661_827_82),
            (vec![0.5, 1.5, 2.0, 3.5, 4.0, 5.5, 6.0], vec![3., 1., 4., 1., 5., 9., 2.], 0.397_821_728_203_139, 0.376_785_296_980_652_1),
            (vec![1., 2., 3.], vec![1., 3., 2.], 0.5, 0.666_666_666_666_666_6),
            ((0..30).map(f64::from).collect(), (0..30).map(|i| (-1f64).powi(i) * 0.5 * f64::from(i) + 0.05 * f64::from(i * i)).collect(), 0.807_546_823_075_182_2, 6.913_449_893_902_177e-8),
        ];
        for (x, y, r, p) in cases {
            let mut acc = Pearson::default();
            for (a, b) in x.iter().zip(&y) {
                acc.update(*a, *b);
            }
            let res = acc.finish().unwrap();
            assert!((res.r - r).abs() < 1e-12, "r {} vs {r}", res.r);
            assert!((res.p_value - p).abs() <= 1e-9 * p, "p {} vs {p}", res.p_value);
            assert_eq!(res.n, x.len() as u64);
        }
        assert!((regularized_incomplete_beta(2.5, 0.5, 0.3) - 0.018_927_124_071_945_658).abs() < 1e-14);
        assert!((regularized_incomplete_beta(10.0, 0.5, 0.9) - 0.151_640_909_634_709_94).abs() < 1e-13);
        assert!((regularized_incomplete_beta(0.5, 0.5, 0.5) - 0.5).abs() < 1e-14);
        // ln Γ: Γ(5) = 24, Γ(0.5) = √π
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-13);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-13);
    }

    #[test]
    fn pearson_edge_cases() {
        let mut p = Pearson::default();
        p.update(1.0, 2.0);
        p.update(2.0, 3.0);
        assert_eq!(p.finish(), Err(PearsonUndefined::TooFewPairs { n: 2 }));
        p.update(f64::NAN, 1.0); // skipped
        assert_eq!(p.count(), 2);
        let mut c = Pearson::default();
        c.update_slices(&[1.0, 1.0, 1.0, 1.0], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(c.finish(), Err(PearsonUndefined::ZeroVariance { variable: "x", n: 4 }));
        assert_eq!(c.finish().unwrap_err().to_string(), "correlation undefined: x is constant over 4 valid pairs");
        let mut c = Pearson::default();
        c.update_slices(&[1.0, 2.0, 3.0], &[5.0, 5.0, 5.0]).unwrap();
        assert!(matches!(c.finish(), Err(PearsonUndefined::ZeroVariance { variable: "y", .. })));
        // perfect correlation: r = −1 (to rounding), p ≈ 0
        let mut c = Pearson::default();
        c.update_slices(&[1.0, 2.0, 3.0, 4.0], &[8.0, 6.0, 4.0, 2.0]).unwrap();
        let r = c.finish().unwrap();
        assert!((r.r + 1.0).abs() < 1e-15 && r.p_value < 1e-14, "{r:?}");
        assert!(c.update_slices(&[1.0], &[]).is_err());
    }

    #[test]
    fn weighted_moments_by_hand() {
        // values 1, 2, 4 with weights 1, 0.5, 0.5: Σw = 2, mean = (1 + 1 + 2)/2 = 2
        // var = (1·1 + 0.5·0 + 0.5·4)/2 = 1.5
        let mut w = WeightedMoments::default();
        w.update_slices(&[1.0, 2.0, 4.0, f32::NAN, 9.0], &[1.0, 0.5, 0.5, 1.0, 0.0]).unwrap();
        assert_eq!(w.count(), 3);
        assert_eq!(w.sum_weights(), 2.0);
        assert!((w.mean().unwrap() - 2.0).abs() < 1e-15);
        assert!((w.variance().unwrap() - 1.5).abs() < 1e-15);
        assert_eq!(WeightedMoments::default().mean(), None);
        // unit weights give the population variance: 1..4 → mean 2.5, var 1.25
        let mut u = WeightedMoments::default();
        for x in 1..=4 {
            u.update(f64::from(x), 1.0);
        }
        assert!((u.variance().unwrap() - 1.25).abs() < 1e-15);
    }

    proptest! {
        #[test]
        fn merges_equal_whole(xs in proptest::collection::vec(-100.0f64..100.0, 3..200), ws in proptest::collection::vec(0.01f64..1.0, 200), cut in any::<usize>()) {
            let n = xs.len();
            let cut = cut % (n + 1);
            let ys: Vec<f64> = xs.iter().enumerate().map(|(i, x)| 0.3 * x + ((i * 7919) % 13) as f64).collect();
            let (mut pa, mut pb, mut pw) = (Pearson::default(), Pearson::default(), Pearson::default());
            let (mut wa, mut wb, mut ww) = (WeightedMoments::default(), WeightedMoments::default(), WeightedMoments::default());
            for i in 0..n {
                pw.update(xs[i], ys[i]);
                ww.update(xs[i], ws[i]);
                if i < cut { pa.update(xs[i], ys[i]); wa.update(xs[i], ws[i]); } else { pb.update(xs[i], ys[i]); wb.update(xs[i], ws[i]); }
            }
            pa.merge(&pb);
            wa.merge(&wb);
            let rel = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
            if let (Ok(a), Ok(b)) = (pa.finish(), pw.finish()) {
                prop_assert!(rel(a.r, b.r), "{} vs {}", a.r, b.r);
                prop_assert_eq!(a.n, b.n);
            }
            prop_assert!(rel(wa.mean().unwrap(), ww.mean().unwrap()));
            prop_assert!(rel(wa.variance().unwrap(), ww.variance().unwrap()));
            // histograms merge exactly
            let mut h1 = Histogram::new(-100.0, 100.0, 17).unwrap();
            let mut h2 = h1.clone();
            let mut hw = h1.clone();
            for (i, &x) in xs.iter().enumerate() { hw.update(x); if i < cut { h1.update(x) } else { h2.update(x) } }
            h1.merge(&h2);
            prop_assert_eq!(h1, hw);
        }
    }
}
