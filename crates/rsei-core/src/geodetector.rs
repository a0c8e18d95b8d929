//! # Geographical detector: factor, interaction, risk and ecological detectors, optimal discretisation
//!
//! The geographical detector (Wang et al. 2010; Wang, Zhang & Fu 2016; Wang & Xu 2017) measures how
//! much of the variance of a response `Y` (RSEI) is explained by a stratification of the study area
//! by a factor `X` (a driver, categorical or discretised into classes):
//!
//! ```text
//! q = 1 − Σ_h N_h σ²_h / (N σ²) = 1 − SSW / SST
//! ```
//!
//! with `L` strata `h`, `N_h` cells and variance `σ²_h` in stratum `h`, `N` cells and variance `σ²`
//! in all. `q ∈ [0, 1]`; it is the η² of a one-way analysis of variance.
//!
//! | detector | what | function |
//! |---|---|---|
//! | factor | `q`, and its significance by the noncentral F test of Wang, Zhang & Fu (2016) | [`factor_detector`] |
//! | interaction | `q` of the overlay `X1 ∩ X2` against `q(X1)`, `q(X2)`: five [`InteractionKind`]s | [`interaction_detector`] |
//! | risk | stratum means and Welch t tests between every two strata | [`risk_detector`] |
//! | ecological | F test of `SSW(X1)` against `SSW(X2)` | [`ecological_detector`] |
//! | discretisation | equal, quantile, natural (Jenks–Fisher), geometric, standard-deviation breaks | [`breaks`], [`classify`] |
//! | optimal discretisation | method × number of classes with the largest `q` (OPGD, Song et al. 2020) | [`optimal_discretization`] |
//! | all at once | complete cases, discretisation and the four detectors for a set of drivers | [`geodetector`] |
//!
//! ## Significance of q (factor detector)
//! As in R `geodetector` (Wang & Xu), `GD` and `gdverse`:
//!
//! ```text
//! F = (N − L)/(L − 1) · q/(1 − q)  ~  F_nc(L − 1, N − L, λ)
//! λ = (Σ_h μ_h² − (Σ_h √N_h μ_h)² / N) / σ²        (σ² = SST/N, the population variance)
//! p = 1 − F_nc(F; L − 1, N − L, λ)
//! ```
//!
//! The noncentral F survival function is computed here ([`noncentral_f_sf`]) as the Poisson mixture
//! `Σ_j e^{−λ/2}(λ/2)^j/j! · I_{1−x}(d2/2, d1/2 + j)`, `x = d1 F/(d1 F + d2)`, summed outwards from
//! the Poisson mode with the three-term recurrences of the regularised incomplete beta function
//! ([`beta_inc`], continued fraction with a Loader-type saddle-point prefactor); it agrees with
//! `scipy.stats.ncf.sf` (Boost) to about 1e-12 relative (tests).
//!
//! ## Strata with a single cell
//! R `geodetector` and `GD` keep a stratum with one cell: its within variance is 0 (R's `var` of one
//! value is `NA`, dropped by `na.rm`), it counts in `N` and `L` and adds `μ_h²` and `√1·μ_h` to λ.
//! That is [`SingletonRule::Keep`], the default. `gdverse` and the PyPI `geodetector` package drop
//! such strata and recompute `N`, `L` and `SST` on the remaining cells: [`SingletonRule::Drop`].
//! The two agree whenever every stratum has at least two cells. The optimal discretisation never
//! produces such strata (a candidate with a class of fewer than two cells is not admissible, as in
//! `GD::optidisc`); overlays of two factors in the interaction detector often do.
//!
//! ## Interaction types (Wang & Xu 2017; the order of tests of R `GD::gdinteract`)
//! | type | criterion |
//! |---|---|
//! | nonlinear-weaken | `q12 < min(q1, q2)` |
//! | uni-weaken | `min(q1, q2) ≤ q12 ≤ max(q1, q2)` |
//! | independent | `q12 = q1 + q2` (within [`INDEPENDENCE_TOLERANCE`]) |
//! | bi-enhance | `max(q1, q2) < q12 < q1 + q2` |
//! | nonlinear-enhance | `q12 > q1 + q2` |
//!
//! ## Ecological detector
//! `F = N_1 (N_2 − 1) SSW_1 / (N_2 (N_1 − 1) SSW_2)` with `(N_1 − 1, N_2 − 1)` degrees of freedom
//! (Wang et al. 2010). On one set of complete cases (and with [`SingletonRule::Keep`]) `N_1 = N_2 = N`
//! and `F = SSW_1/SSW_2 = (1 − q1)/(1 − q2)`. Both the one-sided `P(F' > F)` (R `geodetector`,
//! `gdverse`) and the two-sided `2·min(P(F' > F), P(F' < F))` (PyPI `geodetector`) are reported;
//! significance uses the two-sided one: the question is whether the two factors *differ*, and the
//! answer must not depend on which factor is named first.
//!
//! ## Risk detector
//! Welch's t test between every two strata with at least two cells each (unrounded Welch–Satterthwaite
//! degrees of freedom, as R `t.test`, `GD::gdrisk` and `scipy.stats.ttest_ind(equal_var=False)`);
//! a pair whose standard error is 0 has no test (`None`) and is not significant.
//!
//! ## Missing values and errors
//! `NaN` is nodata. The low-level detectors take class labels (`u32`, [`NO_CLASS`] = missing) and use
//! the cells where the response is not `NaN` and the label is not missing; [`geodetector`] uses the
//! cells where the response and every factor are valid (METHOD §6). Errors, never panics: lengths
//! that differ, fewer than two complete cases, a factor with a single class, a constant response,
//! as many strata as cells.
//!
//! ```
//! use rsei_core::geodetector::{factor_detector, GdOptions};
//! let y = [1.0, 1.2, 0.9, 3.0, 3.1, 2.8, 5.0, 5.2];
//! let x = [0u32, 0, 0, 1, 1, 1, 2, 2];
//! let f = factor_detector(&y, &x, &GdOptions::default()).unwrap();
//! assert!(f.q > 0.98 && f.p_value < 1e-3);
//! ```
//!
//! References: Wang J.F., Li X.H., Christakos G. et al. (2010) IJGIS 24(1):107–127; Wang J.F.,
//! Zhang T.L., Fu B.J. (2016) Ecological Indicators 67:250–256; Wang J.F., Xu C.D. (2017) Acta
//! Geographica Sinica 72(1):116–134; Song Y., Wang J., Ge Y., Xu C. (2020) GIScience & Remote
//! Sensing 57(5):593–610; Fisher W.D. (1958) JASA 53:789–798; Jenks G.F. (1967).

// NaN-aware tests (`!(x > 0.0)` is true for NaN) are intended.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::stats::{ln_gamma, quantile_type7};

/// Missing class label.
pub const NO_CLASS: u32 = u32::MAX;

/// Absolute tolerance on `|q12 − (q1 + q2)|` under which an interaction is "independent".
pub const INDEPENDENCE_TOLERANCE: f64 = 1e-10;

// =============================================================================================
// Special functions
// =============================================================================================

const LN_2PI: f64 = 1.837_877_066_409_345_5;
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// Error of Stirling's formula: `ln Γ(n + 1) − (n + ½) ln n + n − ln √(2π)` (Loader 2000).
fn stirlerr(n: f64) -> f64 {
    const S0: f64 = 1.0 / 12.0;
    const S1: f64 = 1.0 / 360.0;
    const S2: f64 = 1.0 / 1260.0;
    const S3: f64 = 1.0 / 1680.0;
    const S4: f64 = 1.0 / 1188.0;
    if n <= 15.0 {
        return ln_gamma(n + 1.0) - (n + 0.5) * n.ln() + n - LN_SQRT_2PI;
    }
    let nn = n * n;
    if n > 500.0 {
        (S0 - S1 / nn) / n
    } else if n > 80.0 {
        (S0 - (S1 - S2 / nn) / nn) / n
    } else if n > 35.0 {
        (S0 - (S1 - (S2 - S3 / nn) / nn) / nn) / n
    } else {
        (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n
    }
}

/// Deviance term `x ln(x/m) + m − x`, by a series where `x ≈ m` (Loader 2000).
fn bd0(x: f64, m: f64) -> f64 {
    if (x - m).abs() < 0.1 * (x + m) {
        let v = (x - m) / (x + m);
        let v2 = v * v;
        let mut s = (x - m) * v;
        let mut ej = 2.0 * x * v;
        for j in 1..1000 {
            ej *= v2;
            let s1 = s + ej / (2 * j + 1) as f64;
            if s1 == s {
                return s1;
            }
            s = s1;
        }
        s
    } else {
        x * (x / m).ln() + m - x
    }
}

/// `Γ(n+1)/(Γ(x+1)Γ(n−x+1)) p^x q^(n−x)` for real `0 < x < n` (saddle-point form, no cancellation).
fn dbinom_raw(x: f64, n: f64, p: f64, q: f64) -> f64 {
    let lc = stirlerr(n) - stirlerr(x) - stirlerr(n - x) - bd0(x, n * p) - bd0(n - x, n * q);
    let lf = LN_2PI + x.ln() + (-x / n).ln_1p();
    (lc - 0.5 * lf).exp()
}

/// `x^a (1 − x)^b / B(a, b)`, with `y = 1 − x` given separately.
fn beta_front(a: f64, b: f64, x: f64, y: f64) -> f64 {
    a * b / (a + b) * dbinom_raw(a, a + b, x, y)
}

/// Continued fraction of the incomplete beta function (modified Lentz), converging for
/// `x < (a + 1)/(a + b + 2)`.
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPS: f64 = 1e-16;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..200_000u32 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        for aa in [m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))] {
            d = 1.0 + aa * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + aa / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// Regularised incomplete beta function and its complement: `(I_x(a, b), 1 − I_x(a, b))` for
/// `a, b > 0`, `0 ≤ x ≤ 1`, with `y = 1 − x` passed separately so that tails near `x = 1` keep
/// their precision.
///
/// `I_x(a,b) = x^a y^b / (a B(a,b)) · CF(a, b, x)` with the continued fraction of Numerical
/// Recipes §6.4 (Lentz's method); where it converges slowly the symmetry `I_x(a,b) = 1 − I_y(b,a)`
/// is used. The prefactor `x^a y^b / B(a,b)` is evaluated in saddle-point form (Loader's `stirlerr`
/// and `bd0`, as R's `dbinom_raw`), so it stays accurate for large `a`, `b`. `(NaN, NaN)` for
/// arguments outside the domain.
pub fn beta_inc(a: f64, b: f64, x: f64, y: f64) -> (f64, f64) {
    if !(a > 0.0 && b > 0.0) || x.is_nan() || y.is_nan() {
        return (f64::NAN, f64::NAN);
    }
    if x <= 0.0 {
        return (0.0, 1.0);
    }
    if y <= 0.0 {
        return (1.0, 0.0);
    }
    let front = beta_front(a, b, x, y);
    if x < (a + 1.0) / (a + b + 2.0) {
        let p = (front * beta_cf(a, b, x) / a).clamp(0.0, 1.0);
        (p, 1.0 - p)
    } else {
        let q = (front * beta_cf(b, a, y) / b).clamp(0.0, 1.0);
        (1.0 - q, q)
    }
}

/// Poisson probability `e^{−μ} μ^k / k!` in saddle-point form (R's `dpois_raw`).
fn dpois(k: f64, mu: f64) -> f64 {
    if k == 0.0 {
        return (-mu).exp();
    }
    (-stirlerr(k) - bd0(k, mu)).exp() / (2.0 * std::f64::consts::PI * k).sqrt()
}

/// Central F distribution: `(P(F' ≤ f), P(F' > f))` for `F' ~ F(d1, d2)`,
/// `P(F' ≤ f) = I_x(d1/2, d2/2)`, `x = d1 f/(d1 f + d2)`.
pub fn f_cdf_sf(f: f64, d1: f64, d2: f64) -> (f64, f64) {
    if f.is_nan() || !(d1 > 0.0 && d2 > 0.0) {
        return (f64::NAN, f64::NAN);
    }
    if f <= 0.0 {
        return (0.0, 1.0);
    }
    if f.is_infinite() {
        return (1.0, 0.0);
    }
    let den = d1 * f + d2;
    beta_inc(0.5 * d1, 0.5 * d2, d1 * f / den, d2 / den)
}

/// Survival function of the noncentral F distribution, `P(F' > f)` for `F' ~ F_nc(d1, d2, λ)`.
///
/// Poisson mixture of central tails, `Σ_j w_j Q_j` with `w_j = e^{−λ/2}(λ/2)^j/j!` and
/// `Q_j = I_{1−x}(d2/2, d1/2 + j)`, `x = d1 f/(d1 f + d2)`. The sum starts at the Poisson mode
/// `j0 = ⌊λ/2⌋` (one continued fraction) and runs both ways with the recurrence
/// `Q_{j+1} = Q_j + T_j`, `T_j = x^{a+j}(1−x)^b/((a+j)B(a+j,b))`, `T_{j+1} = T_j x(a+b+j)/(a+j+1)`
/// (`a = d1/2`, `b = d2/2`), until the remaining Poisson mass cannot change the sum in double
/// precision. All terms are positive, so small p-values keep their relative precision (unlike
/// `1 − CDF`). `NaN` for invalid parameters; 1 for `f ≤ 0`; 0 for `f = ∞`.
pub fn noncentral_f_sf(f: f64, d1: f64, d2: f64, lambda: f64) -> f64 {
    if f.is_nan() || !(d1 > 0.0 && d2 > 0.0) || !(lambda >= 0.0) || lambda.is_infinite() {
        return f64::NAN;
    }
    if f <= 0.0 {
        return 1.0;
    }
    if f.is_infinite() {
        return 0.0;
    }
    let den = d1 * f + d2;
    let (x, y) = (d1 * f / den, d2 / den);
    let (a, b) = (0.5 * d1, 0.5 * d2);
    let mu = 0.5 * lambda;
    if mu == 0.0 {
        return beta_inc(a, b, x, y).1;
    }
    let k0 = mu.floor();
    let w0 = dpois(k0, mu);
    let q0 = beta_inc(a + k0, b, x, y).1;
    let t0 = beta_front(a + k0, b, x, y) / (a + k0);
    let mut sum = w0 * q0;
    // forward: j = k0 + 1, k0 + 2, …
    let (mut j, mut w, mut q, mut t) = (k0, w0, q0, t0);
    let max_steps = 1000.0 + 60.0 * mu.sqrt();
    let mut steps = 0.0;
    loop {
        q = (q + t).min(1.0);
        t *= x * (a + b + j) / (a + j + 1.0);
        j += 1.0;
        w *= mu / j;
        sum += w * q;
        steps += 1.0;
        // remaining mass Σ_{i>j} w_i ≤ w·r/(1 − r), r = μ/(j + 1), bounds the rest (Q ≤ 1)
        let r = mu / (j + 1.0);
        if (r < 1.0 && w * r / (1.0 - r) <= 1e-17 * sum) || w == 0.0 || steps > max_steps {
            break;
        }
    }
    // backward: j = k0 − 1, …, 0
    let (mut j, mut w, mut q, mut t) = (k0, w0, q0, t0);
    while j > 0.0 {
        t *= (a + j) / (x * (a + b + j - 1.0));
        q -= t;
        w *= j / mu;
        j -= 1.0;
        if q <= 0.0 {
            break;
        }
        let term = w * q;
        sum += term;
        if term <= 1e-17 * sum {
            break;
        }
    }
    sum.clamp(0.0, 1.0)
}

/// Two-sided p-value of Student's t: `P(|T'| ≥ |t|) = I_{ν/(ν+t²)}(ν/2, ½)` for `T' ~ t(ν)`.
pub fn student_t_two_sided(t: f64, df: f64) -> f64 {
    if t.is_nan() || !(df > 0.0) {
        return f64::NAN;
    }
    if t.is_infinite() {
        return 0.0;
    }
    let t2 = t * t;
    beta_inc(0.5 * df, 0.5, df / (df + t2), t2 / (df + t2)).0
}

// =============================================================================================
// Options, labels, values
// =============================================================================================

/// How strata with a single cell enter `q`, its F test and the ecological detector (module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SingletonRule {
    /// R `geodetector`, `GD`: within variance 0, counted in `N`, `L` and λ.
    #[default]
    Keep,
    /// `gdverse`, PyPI `geodetector`: dropped; `N`, `L`, `SST` recomputed without them.
    Drop,
}

/// Options of the detectors.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GdOptions {
    /// Strata with a single cell.
    pub singletons: SingletonRule,
    /// Significance level of the tests (`p < alpha` is significant). Default 0.05.
    pub alpha: f64,
}

impl Default for GdOptions {
    fn default() -> Self {
        GdOptions { singletons: SingletonRule::Keep, alpha: 0.05 }
    }
}

/// A borrowed column of values, `f32` (rasters) or `f64`; `NaN` = nodata.
#[derive(Clone, Copy, Debug)]
pub enum Values<'a> {
    /// Single-precision values (driver rasters).
    F32(&'a [f32]),
    /// Double-precision values.
    F64(&'a [f64]),
}

impl Values<'_> {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Values::F32(v) => v.len(),
            Values::F64(v) => v.len(),
        }
    }
    /// Whether there is no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Value `i` as `f64`.
    pub fn get(&self, i: usize) -> f64 {
        match self {
            Values::F32(v) => f64::from(v[i]),
            Values::F64(v) => v[i],
        }
    }
}

impl<'a> From<&'a [f32]> for Values<'a> {
    fn from(v: &'a [f32]) -> Self {
        Values::F32(v)
    }
}
impl<'a> From<&'a [f64]> for Values<'a> {
    fn from(v: &'a [f64]) -> Self {
        Values::F64(v)
    }
}
impl<'a> From<&'a Vec<f32>> for Values<'a> {
    fn from(v: &'a Vec<f32>) -> Self {
        Values::F32(v)
    }
}
impl<'a> From<&'a Vec<f64>> for Values<'a> {
    fn from(v: &'a Vec<f64>) -> Self {
        Values::F64(v)
    }
}

fn opt_err(name: &str, reason: String) -> CoreError {
    CoreError::InvalidOption { name: name.to_string(), reason }
}

/// Complete cases of a response and one or more label columns: `(y, dense labels per column,
/// codes per column)`. Labels are renumbered 0..L in ascending order of the original label.
/// Complete cases: response values, dense labels per column, original labels per column.
type CompleteCases = (Vec<f64>, Vec<Vec<u32>>, Vec<Vec<u32>>);

fn complete_labels<T: Copy + Into<f64>>(y: &[T], cols: &[&[u32]], what: &str) -> Result<CompleteCases> {
    for (k, c) in cols.iter().enumerate() {
        if c.len() != y.len() {
            return Err(opt_err(what, format!("labels of factor {} have {} cells, the response has {}", k + 1, c.len(), y.len())));
        }
    }
    let rows: Vec<usize> = (0..y.len())
        .filter(|&i| {
            let v: f64 = y[i].into();
            !v.is_nan() && cols.iter().all(|c| c[i] != NO_CLASS)
        })
        .collect();
    if rows.len() < 2 {
        return Err(CoreError::NoValidPixels(format!(
            "{what}: {} complete case(s) (response not NaN and every label present) of {} cells; at least 2 are needed",
            rows.len(),
            y.len()
        )));
    }
    let mut yy = Vec::with_capacity(rows.len());
    for &i in &rows {
        let v: f64 = y[i].into();
        if v.is_infinite() {
            return Err(opt_err(what, format!("the response is infinite at cell {i}")));
        }
        yy.push(v);
    }
    let mut dense = Vec::new();
    let mut codes = Vec::new();
    for c in cols {
        let keys: Vec<u64> = rows.iter().map(|&i| u64::from(c[i])).collect();
        let (d, k) = densify(&keys);
        dense.push(d);
        codes.push(k.into_iter().map(|k| k as u32).collect());
    }
    Ok((yy, dense, codes))
}

/// Dense labels `0..L` (ascending key order) and the sorted distinct keys.
fn densify(keys: &[u64]) -> (Vec<u32>, Vec<u64>) {
    let mut distinct = keys.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let dense = keys.iter().map(|k| distinct.partition_point(|d| d < k) as u32).collect();
    (dense, distinct)
}

/// Order-preserving key of a finite `f64` (−0 and +0 are one key).
fn f64_key(v: f64) -> u64 {
    let b = (v + 0.0).to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

// =============================================================================================
// Per-stratum statistics
// =============================================================================================

/// Counts, means and within sums of squares of the strata (two passes, sequential order).
struct Strata {
    n: Vec<usize>,
    mean: Vec<f64>,
    ss: Vec<f64>,
}

fn strata_stats(y: &[f64], lab: &[u32], l: usize) -> Strata {
    let mut n = vec![0usize; l];
    let mut sum = vec![0.0f64; l];
    for (&v, &h) in y.iter().zip(lab) {
        n[h as usize] += 1;
        sum[h as usize] += v;
    }
    let mean: Vec<f64> = sum.iter().zip(&n).map(|(s, &c)| if c > 0 { s / c as f64 } else { 0.0 }).collect();
    let mut ss = vec![0.0f64; l];
    for (&v, &h) in y.iter().zip(lab) {
        let d = v - mean[h as usize];
        ss[h as usize] += d * d;
    }
    Strata { n, mean, ss }
}

/// Which strata take part under a rule (Drop: those with ≥ 2 cells; Keep: non-empty ones).
fn included(st: &Strata, rule: SingletonRule) -> Vec<bool> {
    st.n.iter().map(|&c| if rule == SingletonRule::Drop { c >= 2 } else { c >= 1 }).collect()
}

/// Sum of squares about the mean over the cells of the included strata.
fn sst_of(y: &[f64], lab: &[u32], inc: &[bool]) -> (usize, f64) {
    let (mut n, mut s) = (0usize, 0.0f64);
    for (&v, &h) in y.iter().zip(lab) {
        if inc[h as usize] {
            n += 1;
            s += v;
        }
    }
    if n == 0 {
        return (0, 0.0);
    }
    let m = s / n as f64;
    let mut ss = 0.0;
    for (&v, &h) in y.iter().zip(lab) {
        if inc[h as usize] {
            ss += (v - m) * (v - m);
        }
    }
    (n, ss)
}

// =============================================================================================
// Factor detector
// =============================================================================================

/// Result of the factor detector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FactorResult {
    /// `q = 1 − SSW/SST`, in [0, 1].
    pub q: f64,
    /// `F = (N − L)/(L − 1) · q/(1 − q)` (`∞` when `q = 1`).
    pub f_stat: f64,
    /// `L − 1`.
    pub df1: f64,
    /// `N − L`.
    pub df2: f64,
    /// Noncentrality `λ = (Σ μ_h² − (Σ √N_h μ_h)²/N)/σ²`.
    pub lambda: f64,
    /// `P(F' > F)`, `F' ~ F_nc(L − 1, N − L, λ)`.
    pub p_value: f64,
    /// `p_value < alpha`.
    pub significant: bool,
    /// Cells `N` that entered `q` (complete cases; without single-cell strata under `Drop`).
    pub n: usize,
    /// Strata `L` that entered `q`.
    pub n_strata: usize,
    /// Strata with a single cell among the complete cases (kept or dropped by the rule).
    pub n_singletons: usize,
}

fn factor_core(y: &[f64], lab: &[u32], l: usize, opts: &GdOptions, what: &str) -> Result<FactorResult> {
    let st = strata_stats(y, lab, l);
    let n_singletons = st.n.iter().filter(|&&c| c == 1).count();
    let inc = included(&st, opts.singletons);
    let big_l = inc.iter().filter(|&&b| b).count();
    if big_l < 2 {
        let reason = if l < 2 {
            format!("has a single class over its {} complete cases; the q statistic needs at least two classes", y.len())
        } else {
            format!("has {big_l} class(es) with at least two cells ({l} classes, {n_singletons} of a single cell); at least two are needed when single-cell strata are dropped")
        };
        return Err(opt_err(what, reason));
    }
    let (n, sst) = sst_of(y, lab, &inc);
    if !(sst > 0.0) {
        return Err(opt_err(what, format!("the response is constant over the {n} complete cases; q is undefined")));
    }
    if n <= big_l {
        return Err(opt_err(what, format!("has {big_l} strata for {n} cells; the F test needs more cells than strata")));
    }
    let ssw: f64 = (0..l).filter(|&h| inc[h]).map(|h| st.ss[h]).sum();
    let q = (1.0 - ssw / sst).clamp(0.0, 1.0);
    let df1 = (big_l - 1) as f64;
    let df2 = (n - big_l) as f64;
    let f_stat = if q >= 1.0 { f64::INFINITY } else { df2 / df1 * q / (1.0 - q) };
    let sigma2 = sst / n as f64;
    let (mut m1, mut m2) = (0.0f64, 0.0f64);
    for h in (0..l).filter(|&h| inc[h]) {
        m1 += st.mean[h] * st.mean[h];
        m2 += (st.n[h] as f64).sqrt() * st.mean[h];
    }
    let lambda = ((m1 - m2 * m2 / n as f64) / sigma2).max(0.0);
    let p_value = if f_stat.is_infinite() { 0.0 } else { noncentral_f_sf(f_stat, df1, df2, lambda) };
    Ok(FactorResult { q, f_stat, df1, df2, lambda, p_value, significant: p_value < opts.alpha, n, n_strata: big_l, n_singletons })
}

/// Factor detector: `q` of the stratification `labels` of `y` and its noncentral F test
/// (module docs). Cells where `y` is `NaN` or the label is [`NO_CLASS`] are left out.
///
/// Errors: lengths differ, fewer than 2 complete cases, a single class, a constant response,
/// as many strata as cells.
pub fn factor_detector<T: Copy + Into<f64>>(y: &[T], labels: &[u32], opts: &GdOptions) -> Result<FactorResult> {
    let (yy, dense, codes) = complete_labels(y, &[labels], "factor")?;
    factor_core(&yy, &dense[0], codes[0].len(), opts, "factor")
}

// =============================================================================================
// Interaction detector
// =============================================================================================

/// The five interaction types of Wang & Xu (2017).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InteractionKind {
    /// `q12 < min(q1, q2)`.
    NonlinearWeaken,
    /// `min(q1, q2) ≤ q12 ≤ max(q1, q2)`.
    UniWeaken,
    /// `max(q1, q2) < q12 < q1 + q2`.
    BiEnhance,
    /// `q12 = q1 + q2`.
    Independent,
    /// `q12 > q1 + q2`.
    NonlinearEnhance,
}

impl InteractionKind {
    /// Classification of `q12` against `q1`, `q2` (criteria in the module docs).
    pub fn classify(q1: f64, q2: f64, q12: f64) -> InteractionKind {
        let (lo, hi) = (q1.min(q2), q1.max(q2));
        let sum = q1 + q2;
        if q12 < lo {
            InteractionKind::NonlinearWeaken
        } else if q12 <= hi {
            InteractionKind::UniWeaken
        } else if (q12 - sum).abs() <= INDEPENDENCE_TOLERANCE {
            InteractionKind::Independent
        } else if q12 < sum {
            InteractionKind::BiEnhance
        } else {
            InteractionKind::NonlinearEnhance
        }
    }
    /// The label used by R `GD`/`geodetector` ("Enhance, bi-", …).
    pub fn label(self) -> &'static str {
        match self {
            InteractionKind::NonlinearWeaken => "Weaken, nonlinear",
            InteractionKind::UniWeaken => "Weaken, uni-",
            InteractionKind::BiEnhance => "Enhance, bi-",
            InteractionKind::Independent => "Independent",
            InteractionKind::NonlinearEnhance => "Enhance, nonlinear",
        }
    }
}

/// Result of the interaction detector for two factors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InteractionResult {
    /// `q` of the first factor on the common complete cases.
    pub q1: f64,
    /// `q` of the second factor on the common complete cases.
    pub q2: f64,
    /// `q` of the overlay (every non-empty pair of classes is a stratum).
    pub q12: f64,
    /// Full factor detector of the overlay (p-value, strata, singletons).
    pub overlay: FactorResult,
    /// Interaction type.
    pub kind: InteractionKind,
}

fn interaction_core(y: &[f64], a: &[u32], la: usize, b: &[u32], lb: usize, opts: &GdOptions, what: &str) -> Result<InteractionResult> {
    let f1 = factor_core(y, a, la, opts, what)?;
    let f2 = factor_core(y, b, lb, opts, what)?;
    let keys: Vec<u64> = a.iter().zip(b).map(|(&x, &z)| (u64::from(x) << 32) | u64::from(z)).collect();
    let (ab, codes) = densify(&keys);
    let overlay = factor_core(y, &ab, codes.len(), opts, what)?;
    let kind = InteractionKind::classify(f1.q, f2.q, overlay.q);
    Ok(InteractionResult { q1: f1.q, q2: f2.q, q12: overlay.q, overlay, kind })
}

/// Interaction detector: `q` of each factor and of their overlay `a ∩ b`, on the cells where `y`
/// and both labels are present, and the [`InteractionKind`].
pub fn interaction_detector<T: Copy + Into<f64>>(y: &[T], a: &[u32], b: &[u32], opts: &GdOptions) -> Result<InteractionResult> {
    let (yy, dense, codes) = complete_labels(y, &[a, b], "interaction")?;
    interaction_core(&yy, &dense[0], codes[0].len(), &dense[1], codes[1].len(), opts, "interaction")
}

// =============================================================================================
// Risk detector
// =============================================================================================

/// Mean of the response in one stratum.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StratumSummary {
    /// The stratum's label (as given; for [`geodetector`] the class index).
    pub label: u32,
    /// Its code: the label itself, the category value, or the class index of a discretisation.
    pub code: f64,
    /// Cells.
    pub n: usize,
    /// Mean of the response.
    pub mean: f64,
    /// Sample variance (`n − 1` denominator); `None` for a single cell.
    pub variance: Option<f64>,
}

/// Welch t test between two strata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RiskPair {
    /// Label of the first stratum (the smaller one).
    pub a: u32,
    /// Label of the second stratum.
    pub b: u32,
    /// `mean_a − mean_b`.
    pub mean_difference: f64,
    /// `t = (mean_a − mean_b)/√(s²_a/n_a + s²_b/n_b)`; `None` when the standard error is 0.
    pub t: Option<f64>,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: Option<f64>,
    /// Two-sided p-value.
    pub p_value: Option<f64>,
    /// `p_value < alpha`.
    pub significant: bool,
}

/// Result of the risk detector for one factor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RiskResult {
    /// Strata in ascending label order.
    pub strata: Vec<StratumSummary>,
    /// Every pair of strata with at least two cells each, in (a, b) lexicographic order.
    pub pairs: Vec<RiskPair>,
}

fn risk_core(y: &[f64], lab: &[u32], codes: &[f64], labels: &[u32], alpha: f64) -> RiskResult {
    let l = codes.len();
    let st = strata_stats(y, lab, l);
    let strata: Vec<StratumSummary> = (0..l)
        .map(|h| StratumSummary {
            label: labels[h],
            code: codes[h],
            n: st.n[h],
            mean: st.mean[h],
            variance: if st.n[h] >= 2 { Some(st.ss[h] / (st.n[h] - 1) as f64) } else { None },
        })
        .collect();
    let mut pairs = Vec::new();
    for i in 0..l {
        for j in i + 1..l {
            let (Some(vi), Some(vj)) = (strata[i].variance, strata[j].variance) else { continue };
            let (ni, nj) = (st.n[i] as f64, st.n[j] as f64);
            let diff = st.mean[i] - st.mean[j];
            let (ei, ej) = (vi / ni, vj / nj);
            let se2 = ei + ej;
            let (t, df, p) = if se2 > 0.0 {
                let t = diff / se2.sqrt();
                let df = se2 * se2 / (ei * ei / (ni - 1.0) + ej * ej / (nj - 1.0));
                (Some(t), Some(df), Some(student_t_two_sided(t, df)))
            } else {
                (None, None, None)
            };
            pairs.push(RiskPair {
                a: labels[i],
                b: labels[j],
                mean_difference: diff,
                t,
                df,
                p_value: p,
                significant: p.is_some_and(|p| p < alpha),
            });
        }
    }
    RiskResult { strata, pairs }
}

/// Risk detector: mean of `y` per stratum and Welch t tests between every two strata with at
/// least two cells each (module docs).
pub fn risk_detector<T: Copy + Into<f64>>(y: &[T], labels: &[u32], opts: &GdOptions) -> Result<RiskResult> {
    let (yy, dense, codes) = complete_labels(y, &[labels], "risk")?;
    let c: Vec<f64> = codes[0].iter().map(|&c| f64::from(c)).collect();
    Ok(risk_core(&yy, &dense[0], &c, &codes[0], opts.alpha))
}

// =============================================================================================
// Ecological detector
// =============================================================================================

/// Result of the ecological detector for two factors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EcologicalResult {
    /// `F = N_1 (N_2 − 1) SSW_1 / (N_2 (N_1 − 1) SSW_2)` (1 when both SSW are 0, `∞` when only SSW_2 is).
    pub f_stat: f64,
    /// `N_1 − 1`.
    pub df1: f64,
    /// `N_2 − 1`.
    pub df2: f64,
    /// One-sided `P(F' > F)` (R `geodetector`, `gdverse`).
    pub p_upper: f64,
    /// Two-sided `min(1, 2·min(P(F' > F), P(F' < F)))` (PyPI `geodetector`).
    pub p_two_sided: f64,
    /// `p_two_sided < alpha`.
    pub significant: bool,
}

fn ssw_n(y: &[f64], lab: &[u32], l: usize, rule: SingletonRule) -> (f64, usize) {
    let st = strata_stats(y, lab, l);
    let inc = included(&st, rule);
    let n = (0..l).filter(|&h| inc[h]).map(|h| st.n[h]).sum();
    let ssw = (0..l).filter(|&h| inc[h]).map(|h| st.ss[h]).sum();
    (ssw, n)
}

fn ecological_core(y: &[f64], a: &[u32], la: usize, b: &[u32], lb: usize, opts: &GdOptions, what: &str) -> Result<EcologicalResult> {
    let (s1, n1) = ssw_n(y, a, la, opts.singletons);
    let (s2, n2) = ssw_n(y, b, lb, opts.singletons);
    if n1 < 2 || n2 < 2 {
        return Err(opt_err(what, format!("the ecological detector needs at least 2 cells per factor in strata it uses ({n1} and {n2})")));
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let (df1, df2) = (n1f - 1.0, n2f - 1.0);
    let (f_stat, p_upper, p_two) = if s2 == 0.0 && s1 == 0.0 {
        (1.0, 1.0, 1.0)
    } else if s2 == 0.0 {
        (f64::INFINITY, 0.0, 0.0)
    } else {
        let f = n1f * df2 * s1 / (n2f * df1 * s2);
        let (cdf, sf) = f_cdf_sf(f, df1, df2);
        (f, sf, (2.0 * cdf.min(sf)).min(1.0))
    };
    Ok(EcologicalResult { f_stat, df1, df2, p_upper, p_two_sided: p_two, significant: p_two < opts.alpha })
}

/// Ecological detector: F test of the within sums of squares of two stratifications of `y`, on
/// the cells where `y` and both labels are present (module docs).
pub fn ecological_detector<T: Copy + Into<f64>>(y: &[T], a: &[u32], b: &[u32], opts: &GdOptions) -> Result<EcologicalResult> {
    let (yy, dense, codes) = complete_labels(y, &[a, b], "ecological")?;
    ecological_core(&yy, &dense[0], codes[0].len(), &dense[1], codes[1].len(), opts, "ecological")
}

// =============================================================================================
// Discretisation
// =============================================================================================

/// Discretisation methods of a continuous factor (R `GD::disc`, `gdverse`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Equal intervals: `min + j (max − min)/k`.
    Equal,
    /// Quantiles: R type-7 quantiles at `j/k`.
    Quantile,
    /// Natural breaks (Jenks): classes minimising the within sum of squares, exact (Fisher 1958).
    Natural,
    /// Geometric intervals: `min · r^j`, `r = (max/min)^(1/k)` (R `GD`), shifted for `min ≤ 0`.
    Geometric,
    /// Standard deviation: `k` classes of width `s` (`s/2` from 7 classes) centred on the mean.
    StdDev,
}

impl Method {
    /// The default methods of [`OptimalOptions`].
    pub const DEFAULT: [Method; 4] = [Method::Equal, Method::Quantile, Method::Natural, Method::Geometric];
    /// Lower-case name (`"equal"`, `"quantile"`, `"natural"`, `"geometric"`, `"sd"`).
    pub fn name(self) -> &'static str {
        match self {
            Method::Equal => "equal",
            Method::Quantile => "quantile",
            Method::Natural => "natural",
            Method::Geometric => "geometric",
            Method::StdDev => "sd",
        }
    }
    /// Parses a name of [`Method::name`] (also `"jenks"`, `"stdev"`).
    pub fn parse(s: &str) -> Option<Method> {
        match s.to_ascii_lowercase().as_str() {
            "equal" => Some(Method::Equal),
            "quantile" => Some(Method::Quantile),
            "natural" | "jenks" => Some(Method::Natural),
            "geometric" => Some(Method::Geometric),
            "sd" | "stdev" | "stddev" => Some(Method::StdDev),
            _ => None,
        }
    }
}

/// Above this many distinct values natural breaks are computed on a deterministic sample.
pub const NATURAL_MAX_VALUES: usize = 100_000;

/// Class breaks of a continuous factor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Discretization {
    /// Method.
    pub method: Method,
    /// Number of classes asked for.
    pub k: usize,
    /// Interior breaks, ascending (at most `k − 1`; fewer when some coincide). Class `c` holds
    /// `breaks[c−1] < x ≤ breaks[c]` (right-closed, as R `GD::stra`).
    pub breaks: Vec<f64>,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl Discretization {
    /// Number of classes the breaks define (`breaks.len() + 1`).
    pub fn n_classes(&self) -> usize {
        self.breaks.len() + 1
    }
}

/// Class of every value for interior `breaks` (ascending): the number of breaks strictly below
/// the value, so `x ≤ b_1` is class 0. `NaN` → [`NO_CLASS`].
pub fn classify<T: Copy + Into<f64>>(values: &[T], breaks: &[f64]) -> Vec<u32> {
    values
        .iter()
        .map(|&v| {
            let v: f64 = v.into();
            if v.is_nan() {
                NO_CLASS
            } else {
                breaks.partition_point(|&b| b < v) as u32
            }
        })
        .collect()
}

fn classify_f64(values: &[f64], breaks: &[f64]) -> Vec<u32> {
    values.iter().map(|&v| breaks.partition_point(|&b| b < v) as u32).collect()
}

/// Natural breaks for every number of classes 1..=k_max on sorted values: `out[k]` holds the
/// `k − 1` interior breaks (class maxima), or fewer if there are fewer distinct values.
///
/// Exact Fisher (1958) dynamic programme on the distinct values weighted by their counts, with the
/// divide-and-conquer speed-up that the monotonicity of optimal split points in one-dimensional
/// least squares allows (O(k m log m) for m distinct values; same optimum as the O(k m²) table).
/// Ties between equal costs go to the leftmost split. Above `max_values` distinct values the
/// programme runs on a deterministic sample of `max_values` order statistics of the sorted data,
/// at ranks `⌊(i + ½) n / max_values⌋`: no random numbers, same breaks on every run.
pub fn natural_breaks_all(sorted: &[f64], k_max: usize, max_values: usize) -> Vec<Vec<f64>> {
    let mut out = vec![Vec::new(); k_max + 1];
    if sorted.is_empty() || k_max == 0 {
        return out;
    }
    let mut vals: Vec<f64> = Vec::new();
    let mut wts: Vec<f64> = Vec::new();
    let push = |v: f64, vals: &mut Vec<f64>, wts: &mut Vec<f64>| {
        if vals.last() == Some(&v) {
            if let Some(w) = wts.last_mut() {
                *w += 1.0;
            }
        } else {
            vals.push(v);
            wts.push(1.0);
        }
    };
    for &v in sorted {
        push(v, &mut vals, &mut wts);
    }
    if vals.len() > max_values.max(2) {
        let n = sorted.len();
        let m = max_values.max(2);
        vals.clear();
        wts.clear();
        for i in 0..m {
            let r = (((i as f64 + 0.5) * n as f64 / m as f64) as usize).min(n - 1);
            push(sorted[r], &mut vals, &mut wts);
        }
    }
    let m = vals.len();
    // centred prefix sums
    let wsum: f64 = wts.iter().sum();
    let centre = vals.iter().zip(&wts).map(|(v, w)| v * w).sum::<f64>() / wsum;
    let mut pw = vec![0.0f64; m + 1];
    let mut p1 = vec![0.0f64; m + 1];
    let mut p2 = vec![0.0f64; m + 1];
    for i in 0..m {
        let d = vals[i] - centre;
        pw[i + 1] = pw[i] + wts[i];
        p1[i + 1] = p1[i] + wts[i] * d;
        p2[i + 1] = p2[i] + wts[i] * d * d;
    }
    let cost = |j: usize, i: usize| -> f64 {
        let w = pw[i] - pw[j];
        let s = p1[i] - p1[j];
        (p2[i] - p2[j] - s * s / w).max(0.0)
    };
    let kk = k_max.min(m);
    // dp[i] = best cost of items [0, i) in c classes; arg[c][i] = start of the last class
    let mut prev: Vec<f64> = (0..=m).map(|i| if i == 0 { f64::INFINITY } else { cost(0, i) }).collect();
    let mut args: Vec<Vec<u32>> = vec![Vec::new(); kk + 1];
    for (c, arg_c) in args.iter_mut().enumerate().take(kk + 1).skip(2) {
        let mut cur = vec![f64::INFINITY; m + 1];
        let mut arg = vec![0u32; m + 1];
        // i in c..=m, j in c-1..=i-1
        let mut stack = vec![(c, m, c - 1, m - 1)];
        while let Some((lo, hi, olo, ohi)) = stack.pop() {
            if lo > hi {
                continue;
            }
            let mid = (lo + hi) / 2;
            let mut best = f64::INFINITY;
            let mut best_j = olo;
            let jhi = ohi.min(mid - 1);
            for (j, &pj) in prev.iter().enumerate().take(jhi + 1).skip(olo) {
                let v = pj + cost(j, mid);
                if v < best {
                    best = v;
                    best_j = j;
                }
            }
            cur[mid] = best;
            arg[mid] = best_j as u32;
            if mid > lo {
                stack.push((lo, mid - 1, olo, best_j));
            }
            stack.push((mid + 1, hi, best_j, ohi));
        }
        prev = cur;
        *arg_c = arg;
    }
    for (k, o) in out.iter_mut().enumerate().skip(1) {
        let kc = k.min(kk);
        let mut br = Vec::with_capacity(kc.saturating_sub(1));
        let mut i = m;
        for arg_c in args.iter().take(kc + 1).skip(2).rev() {
            let j = arg_c[i] as usize;
            br.push(vals[j - 1]);
            i = j;
        }
        br.reverse();
        *o = br;
    }
    out
}

/// Breaks of `method` with `k` classes on sorted finite values (`natural` from a precomputed table).
fn breaks_sorted(sorted: &[f64], method: Method, k: usize, natural: Option<&[Vec<f64>]>) -> Vec<f64> {
    let n = sorted.len();
    let (min, max) = (sorted[0], sorted[n - 1]);
    let mut b: Vec<f64> = match method {
        Method::Equal => {
            let w = (max - min) / k as f64;
            (1..k).map(|j| min + j as f64 * w).collect()
        }
        Method::Quantile => (1..k).map(|j| quantile_type7(sorted, j as f64 / k as f64)).collect(),
        Method::Natural => match natural {
            Some(t) if k < t.len() => t[k].clone(),
            _ => natural_breaks_all(sorted, k, NATURAL_MAX_VALUES).pop().unwrap_or_default(),
        },
        Method::Geometric => {
            if min > 0.0 || max < 0.0 {
                // R GD: min · (max/min)^(j/k) (for all-negative data the ratio is in (0, 1))
                let r = (max / min).powf(1.0 / k as f64);
                (1..k).map(|j| min * r.powi(j as i32)).collect()
            } else {
                // min ≤ 0 ≤ max: shift so that the minimum is 1 (R GD shifts by 1 when min = 0)
                let s = 1.0 - min;
                let r = (max + s).powf(1.0 / k as f64);
                (1..k).map(|j| r.powi(j as i32) - s).collect()
            }
        }
        Method::StdDev => {
            let mean = sorted.iter().sum::<f64>() / n as f64;
            let var = sorted.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n.max(2) - 1) as f64;
            let w = if k <= 6 { var.sqrt() } else { 0.5 * var.sqrt() };
            (1..k).map(|j| mean + (j as f64 - 0.5 * k as f64) * w).collect()
        }
    };
    b.retain(|v| v.is_finite());
    b.dedup();
    b
}

fn finite_sorted(values: Values<'_>, what: &str) -> Result<Vec<f64>> {
    let mut v = Vec::with_capacity(values.len());
    for i in 0..values.len() {
        let x = values.get(i);
        if x.is_nan() {
            continue;
        }
        if x.is_infinite() {
            return Err(opt_err(what, format!("infinite value at cell {i}")));
        }
        v.push(x);
    }
    if v.is_empty() {
        return Err(CoreError::NoValidPixels(format!("{what}: all {} values are NaN", values.len())));
    }
    v.sort_unstable_by(f64::total_cmp);
    Ok(v)
}

/// Breaks of a continuous factor by `method` with `k ≥ 2` classes, from its non-`NaN` values.
///
/// Errors: `k < 2`, all values `NaN`, an infinite value, a constant factor.
pub fn breaks<'a>(values: impl Into<Values<'a>>, method: Method, k: usize) -> Result<Discretization> {
    if k < 2 {
        return Err(opt_err("k", format!("{k} classes; at least 2 are needed")));
    }
    let sorted = finite_sorted(values.into(), "factor")?;
    let (min, max) = (sorted[0], sorted[sorted.len() - 1]);
    if min == max {
        return Err(opt_err("factor", format!("is constant ({min}) over its {} valid values: a single class", sorted.len())));
    }
    Ok(Discretization { method, k, breaks: breaks_sorted(&sorted, method, k, None), min, max })
}

// =============================================================================================
// Optimal discretisation
// =============================================================================================

/// Options of [`optimal_discretization`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimalOptions {
    /// Methods tried, in this order. Default [`Method::DEFAULT`] (equal, quantile, natural, geometric).
    pub methods: Vec<Method>,
    /// Smallest number of classes tried. Default 3.
    pub k_min: usize,
    /// Largest number of classes tried. Default 8.
    pub k_max: usize,
    /// A candidate is admissible when each of its `k` classes holds at least this many cells
    /// (R `GD::optidisc`: 2). Default 2.
    pub min_class_cells: usize,
    /// Distinct values above which natural breaks use a deterministic sample. Default [`NATURAL_MAX_VALUES`].
    pub natural_max_values: usize,
}

impl Default for OptimalOptions {
    fn default() -> Self {
        OptimalOptions { methods: Method::DEFAULT.to_vec(), k_min: 3, k_max: 8, min_class_cells: 2, natural_max_values: NATURAL_MAX_VALUES }
    }
}

/// One (method, k) candidate of the optimal discretisation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Method.
    pub method: Method,
    /// Number of classes.
    pub k: usize,
    /// `q`, or `None` when the candidate is not admissible (fewer than `k` classes, or a class
    /// with fewer than `min_class_cells` cells).
    pub q: Option<f64>,
}

/// Result of [`optimal_discretization`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimalDiscretization {
    /// The discretisation with the largest `q` (first in method order, then ascending `k`, on ties).
    pub best: Discretization,
    /// Its `q`.
    pub q: f64,
    /// Every candidate, methods in the given order, `k` ascending within a method.
    pub candidates: Vec<Candidate>,
}

fn q_of(y: &[f64], lab: &[u32], l: usize) -> Option<f64> {
    let st = strata_stats(y, lab, l);
    let n = y.len() as f64;
    let mean = y.iter().sum::<f64>() / n;
    let sst: f64 = y.iter().map(|v| (v - mean) * (v - mean)).sum();
    if !(sst > 0.0) {
        return None;
    }
    Some((1.0 - st.ss.iter().sum::<f64>() / sst).clamp(0.0, 1.0))
}

fn optimal_core(y: &[f64], x: &[f64], opts: &OptimalOptions, what: &str) -> Result<OptimalDiscretization> {
    if opts.k_min < 2 || opts.k_max < opts.k_min {
        return Err(opt_err("optimal discretisation", format!("k range {}..={} (need 2 ≤ k_min ≤ k_max)", opts.k_min, opts.k_max)));
    }
    if opts.methods.is_empty() {
        return Err(opt_err("optimal discretisation", "no method to try".into()));
    }
    let mut sorted = x.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let (min, max) = (sorted[0], sorted[sorted.len() - 1]);
    if min == max {
        return Err(opt_err(what, format!("is constant ({min}) over its {} complete cases: a single class", x.len())));
    }
    let natural = if opts.methods.contains(&Method::Natural) { Some(natural_breaks_all(&sorted, opts.k_max, opts.natural_max_values)) } else { None };
    let combos: Vec<(Method, usize)> = opts.methods.iter().flat_map(|&m| (opts.k_min..=opts.k_max).map(move |k| (m, k))).collect();
    let evaluated: Vec<(Vec<f64>, Option<f64>)> = combos
        .par_iter()
        .map(|&(m, k)| {
            let b = breaks_sorted(&sorted, m, k, natural.as_deref());
            if b.len() + 1 != k {
                return (b, None);
            }
            let lab = classify_f64(x, &b);
            let mut counts = vec![0usize; k];
            for &c in &lab {
                counts[c as usize] += 1;
            }
            if counts.iter().any(|&c| c < opts.min_class_cells.max(1)) {
                return (b, None);
            }
            let q = q_of(y, &lab, k);
            (b, q)
        })
        .collect();
    let mut best: Option<(usize, f64)> = None;
    for (i, (_, q)) in evaluated.iter().enumerate() {
        if let Some(q) = *q {
            if best.map_or(true, |(_, bq)| q > bq) {
                best = Some((i, q));
            }
        }
    }
    let candidates = combos.iter().zip(&evaluated).map(|(&(method, k), (_, q))| Candidate { method, k, q: *q }).collect();
    let Some((bi, q)) = best else {
        return Err(opt_err(
            what,
            format!(
                "no admissible discretisation: every candidate ({} methods × k {}..={}) leaves a class with fewer than {} cells",
                opts.methods.len(),
                opts.k_min,
                opts.k_max,
                opts.min_class_cells
            ),
        ));
    };
    let (method, k) = combos[bi];
    Ok(OptimalDiscretization { best: Discretization { method, k, breaks: evaluated[bi].0.clone(), min, max }, q, candidates })
}

/// Optimal discretisation of a continuous factor `x` for the response `y` (OPGD; R `GD::optidisc`,
/// `gdverse::opgd`): every method × `k` of `opts` is tried on the cells where both are valid, and
/// the admissible candidate with the largest `q` wins. Candidates are evaluated in parallel
/// (rayon) and chosen in a fixed order, so the result does not depend on the number of threads.
///
/// Errors: lengths differ, fewer than 2 complete cases, a constant factor, a bad `k` range, no
/// admissible candidate.
pub fn optimal_discretization<'a, 'b>(y: impl Into<Values<'a>>, x: impl Into<Values<'b>>, opts: &OptimalOptions) -> Result<OptimalDiscretization> {
    let (y, x) = (y.into(), x.into());
    if y.len() != x.len() {
        return Err(opt_err("factor", format!("{} cells, the response has {}", x.len(), y.len())));
    }
    let mut yy = Vec::new();
    let mut xx = Vec::new();
    for i in 0..y.len() {
        let (a, b) = (y.get(i), x.get(i));
        if a.is_nan() || b.is_nan() {
            continue;
        }
        if a.is_infinite() || b.is_infinite() {
            return Err(opt_err("factor", format!("infinite value at cell {i}")));
        }
        yy.push(a);
        xx.push(b);
    }
    if yy.len() < 2 {
        return Err(CoreError::NoValidPixels(format!("optimal discretisation: {} complete case(s) of {} cells; at least 2 are needed", yy.len(), y.len())));
    }
    optimal_core(&yy, &xx, opts, "factor")
}

// =============================================================================================
// All detectors at once
// =============================================================================================

/// How a factor is turned into strata by [`geodetector`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorKind {
    /// Every distinct value is a class (land cover, zones).
    Categorical,
    /// A fixed method and number of classes.
    Fixed {
        /// Method.
        method: Method,
        /// Number of classes.
        k: usize,
    },
    /// Given interior breaks (ascending).
    Breaks(Vec<f64>),
    /// The optimal discretisation.
    Optimal(OptimalOptions),
}

/// One factor of [`geodetector`].
#[derive(Clone, Debug)]
pub struct Factor<'a> {
    /// Name (used in reports and error messages).
    pub name: String,
    /// Values, one per cell (`NaN` = nodata).
    pub values: Values<'a>,
    /// How the values become strata.
    pub kind: FactorKind,
}

impl<'a> Factor<'a> {
    /// A categorical factor.
    pub fn categorical(name: &str, values: impl Into<Values<'a>>) -> Self {
        Factor { name: name.into(), values: values.into(), kind: FactorKind::Categorical }
    }
    /// A continuous factor with the default optimal discretisation.
    pub fn optimal(name: &str, values: impl Into<Values<'a>>) -> Self {
        Factor { name: name.into(), values: values.into(), kind: FactorKind::Optimal(OptimalOptions::default()) }
    }
}

/// Strata of one factor in a [`GeoDetectorReport`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FactorReport {
    /// Name.
    pub name: String,
    /// Codes of the classes, by label: the category values, or 0..k for a discretisation.
    pub codes: Vec<f64>,
    /// Cells per class.
    pub counts: Vec<usize>,
    /// The discretisation used (`None` for a categorical factor).
    pub discretization: Option<Discretization>,
    /// The candidates of an optimal discretisation.
    pub candidates: Option<Vec<Candidate>>,
    /// Factor detector.
    pub factor: FactorResult,
    /// Risk detector.
    pub risk: RiskResult,
}

/// Interaction and ecological detectors of two factors of a [`GeoDetectorReport`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairReport {
    /// Name of the first factor.
    pub a: String,
    /// Name of the second factor.
    pub b: String,
    /// Interaction detector.
    pub interaction: InteractionResult,
    /// Ecological detector.
    pub ecological: EcologicalResult,
}

/// Everything [`geodetector`] computes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GeoDetectorReport {
    /// Complete cases (response and every factor valid).
    pub n: usize,
    /// Cells given.
    pub cells: usize,
    /// Factors, in the given order.
    pub factors: Vec<FactorReport>,
    /// Every pair of factors (i < j), in lexicographic order.
    pub pairs: Vec<PairReport>,
}

struct Prepared {
    lab: Vec<u32>,
    codes: Vec<f64>,
    disc: Option<Discretization>,
    candidates: Option<Vec<Candidate>>,
}

fn prepare_factor(y: &[f64], x: &[f64], f: &Factor<'_>) -> Result<Prepared> {
    let what = format!("factor {}", f.name);
    let single = |v: f64| opt_err(&what, format!("has a single class ({v}) over the {} complete cases; the q statistic needs at least two", x.len()));
    match &f.kind {
        FactorKind::Categorical => {
            let keys: Vec<u64> = x.iter().map(|&v| f64_key(v)).collect();
            let (lab, distinct) = densify(&keys);
            let mut codes = Vec::with_capacity(distinct.len());
            let mut seen = vec![false; distinct.len()];
            for (&l, &v) in lab.iter().zip(x) {
                if !seen[l as usize] {
                    seen[l as usize] = true;
                    codes.push((l, v + 0.0));
                }
            }
            codes.sort_by_key(|c| c.0);
            if distinct.len() < 2 {
                return Err(single(x[0]));
            }
            Ok(Prepared { lab, codes: codes.into_iter().map(|c| c.1).collect(), disc: None, candidates: None })
        }
        FactorKind::Fixed { .. } | FactorKind::Breaks(_) => {
            let mut sorted = x.to_vec();
            sorted.sort_unstable_by(f64::total_cmp);
            let (min, max) = (sorted[0], sorted[sorted.len() - 1]);
            let d = match &f.kind {
                FactorKind::Fixed { method, k } => {
                    if *k < 2 {
                        return Err(opt_err(&what, format!("{k} classes asked for; at least 2 are needed")));
                    }
                    if min == max {
                        return Err(single(min));
                    }
                    Discretization { method: *method, k: *k, breaks: breaks_sorted(&sorted, *method, *k, None), min, max }
                }
                FactorKind::Breaks(b) => {
                    if b.iter().any(|v| !v.is_finite()) || b.windows(2).any(|w| !(w[0] < w[1])) {
                        return Err(opt_err(&what, "breaks must be finite and strictly ascending".into()));
                    }
                    Discretization { method: Method::Equal, k: b.len() + 1, breaks: b.clone(), min, max }
                }
                _ => unreachable!("matched above"),
            };
            let raw = classify_f64(x, &d.breaks);
            let keys: Vec<u64> = raw.iter().map(|&c| u64::from(c)).collect();
            let (lab, distinct) = densify(&keys);
            if distinct.len() < 2 {
                return Err(opt_err(&what, format!("all {} complete cases fall in one class of the breaks {:?}", x.len(), d.breaks)));
            }
            Ok(Prepared { lab, codes: distinct.iter().map(|&c| c as f64).collect(), disc: Some(d), candidates: None })
        }
        FactorKind::Optimal(o) => {
            let r = optimal_core(y, x, o, &what)?;
            let lab = classify_f64(x, &r.best.breaks);
            let k = r.best.n_classes();
            Ok(Prepared { lab, codes: (0..k).map(|c| c as f64).collect(), disc: Some(r.best), candidates: Some(r.candidates) })
        }
    }
}

/// The geographical detector on a response and a set of factors: complete cases (response and
/// every factor not `NaN`, METHOD §6), strata of each factor ([`FactorKind`]), the factor and risk
/// detectors per factor and the interaction and ecological detectors per pair. Factors and pairs
/// run in parallel; results do not depend on the number of threads.
///
/// Errors (naming the factor): lengths differ, an infinite value, fewer than 2 complete cases, a
/// factor with a single class, a constant response, no admissible discretisation.
pub fn geodetector<'a>(y: impl Into<Values<'a>>, factors: &[Factor<'_>], opts: &GdOptions) -> Result<GeoDetectorReport> {
    let y = y.into();
    let cells = y.len();
    if factors.is_empty() {
        return Err(opt_err("factors", "no factor given".into()));
    }
    for f in factors {
        if f.values.len() != cells {
            return Err(opt_err(&format!("factor {}", f.name), format!("{} cells, the response has {cells}", f.values.len())));
        }
    }
    let mut rows = Vec::new();
    for i in 0..cells {
        let v = y.get(i);
        if v.is_infinite() {
            return Err(opt_err("response", format!("infinite value at cell {i}")));
        }
        if v.is_nan() {
            continue;
        }
        let mut ok = true;
        for f in factors {
            let x = f.values.get(i);
            if x.is_infinite() {
                return Err(opt_err(&format!("factor {}", f.name), format!("infinite value at cell {i}")));
            }
            ok &= !x.is_nan();
        }
        if ok {
            rows.push(i);
        }
    }
    if rows.len() < 2 {
        let mut parts = vec![format!("response {} valid", (0..cells).filter(|&i| !y.get(i).is_nan()).count())];
        for f in factors {
            parts.push(format!("{} {} valid", f.name, (0..cells).filter(|&i| !f.values.get(i).is_nan()).count()));
        }
        return Err(CoreError::NoValidPixels(format!(
            "geodetector: {} complete case(s) of {cells} cells ({}); at least 2 are needed",
            rows.len(),
            parts.join(", ")
        )));
    }
    let yy: Vec<f64> = rows.iter().map(|&i| y.get(i)).collect();
    let prepared: Vec<Prepared> = factors
        .par_iter()
        .map(|f| {
            let x: Vec<f64> = rows.iter().map(|&i| f.values.get(i)).collect();
            prepare_factor(&yy, &x, f)
        })
        .collect::<Result<_>>()?;
    let reports: Vec<FactorReport> = factors
        .par_iter()
        .zip(prepared.par_iter())
        .map(|(f, p)| {
            let what = format!("factor {}", f.name);
            let l = p.codes.len();
            let factor = factor_core(&yy, &p.lab, l, opts, &what)?;
            let labels: Vec<u32> = (0..l as u32).collect();
            let risk = risk_core(&yy, &p.lab, &p.codes, &labels, opts.alpha);
            let mut counts = vec![0usize; l];
            for &c in &p.lab {
                counts[c as usize] += 1;
            }
            Ok(FactorReport { name: f.name.clone(), codes: p.codes.clone(), counts, discretization: p.disc.clone(), candidates: p.candidates.clone(), factor, risk })
        })
        .collect::<Result<_>>()?;
    let pair_idx: Vec<(usize, usize)> = (0..factors.len()).flat_map(|i| (i + 1..factors.len()).map(move |j| (i, j))).collect();
    let pairs: Vec<PairReport> = pair_idx
        .par_iter()
        .map(|&(i, j)| {
            let what = format!("factors {} × {}", factors[i].name, factors[j].name);
            let (pa, pb) = (&prepared[i], &prepared[j]);
            let interaction = interaction_core(&yy, &pa.lab, pa.codes.len(), &pb.lab, pb.codes.len(), opts, &what)?;
            let ecological = ecological_core(&yy, &pa.lab, pa.codes.len(), &pb.lab, pb.codes.len(), opts, &what)?;
            Ok(PairReport { a: factors[i].name.clone(), b: factors[j].name.clone(), interaction, ecological })
        })
        .collect::<Result<_>>()?;
    Ok(GeoDetectorReport { n: rows.len(), cells, factors: reports, pairs })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::needless_range_loop)]
mod tests {
    use super::*;

    #[test]
    fn beta_inc_known_values() {
        // scipy.special.betainc
        let (p, q) = beta_inc(2.5, 0.5, 0.3, 0.7);
        assert!((p - 0.018_927_124_071_945_658).abs() < 1e-15 && (p + q - 1.0).abs() < 1e-15);
        assert!((beta_inc(10.0, 0.5, 0.9, 0.1).0 - 0.151_640_909_634_709_94).abs() < 1e-14);
        assert!((beta_inc(0.5, 0.5, 0.5, 0.5).0 - 0.5).abs() < 1e-15);
        assert_eq!(beta_inc(1.0, 1.0, 0.0, 1.0), (0.0, 1.0));
        assert!(beta_inc(-1.0, 1.0, 0.5, 0.5).0.is_nan());
    }

    #[test]
    fn noncentral_reduces_to_central() {
        let (_, sf) = f_cdf_sf(2.0, 3.0, 40.0);
        assert!((noncentral_f_sf(2.0, 3.0, 40.0, 0.0) - sf).abs() < 1e-15);
        // tiny λ is continuous in λ
        assert!((noncentral_f_sf(2.0, 3.0, 40.0, 1e-12) - sf).abs() < 1e-11);
        assert_eq!(noncentral_f_sf(0.0, 3.0, 40.0, 2.0), 1.0);
        assert_eq!(noncentral_f_sf(f64::INFINITY, 3.0, 40.0, 2.0), 0.0);
        assert!(noncentral_f_sf(1.0, 0.0, 40.0, 2.0).is_nan());
    }

    #[test]
    fn interaction_kinds() {
        use InteractionKind::*;
        assert_eq!(InteractionKind::classify(0.3, 0.4, 0.2), NonlinearWeaken);
        assert_eq!(InteractionKind::classify(0.3, 0.4, 0.35), UniWeaken);
        assert_eq!(InteractionKind::classify(0.3, 0.4, 0.4), UniWeaken);
        assert_eq!(InteractionKind::classify(0.3, 0.4, 0.5), BiEnhance);
        assert_eq!(InteractionKind::classify(0.3, 0.4, 0.7), Independent);
        assert_eq!(InteractionKind::classify(0.3, 0.4, 0.8), NonlinearEnhance);
    }

    #[test]
    fn singleton_rules_differ_only_with_singletons() {
        let y = [1.0, 2.0, 1.5, 4.0, 4.2, 3.9, 9.0];
        let x = [0u32, 0, 0, 1, 1, 1, 2];
        let keep = factor_detector(&y, &x, &GdOptions::default()).unwrap();
        let drop = factor_detector(&y, &x, &GdOptions { singletons: SingletonRule::Drop, alpha: 0.05 }).unwrap();
        assert_eq!((keep.n, keep.n_strata, keep.n_singletons), (7, 3, 1));
        assert_eq!((drop.n, drop.n_strata), (6, 2));
        assert!(keep.q > drop.q);
        let x2 = [0u32, 0, 0, 1, 1, 1, 1];
        let a = factor_detector(&y, &x2, &GdOptions::default()).unwrap();
        let b = factor_detector(&y, &x2, &GdOptions { singletons: SingletonRule::Drop, alpha: 0.05 }).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn bad_inputs_give_errors() {
        let y = [1.0, 2.0, 3.0];
        let e = factor_detector(&y, &[0, 0, 0], &GdOptions::default()).unwrap_err();
        assert!(e.to_string().contains("single class"), "{e}");
        assert!(factor_detector(&y, &[0, 1], &GdOptions::default()).is_err());
        let nan = [f64::NAN; 3];
        let e = factor_detector(&nan, &[0, 1, 1], &GdOptions::default()).unwrap_err();
        assert!(matches!(e, CoreError::NoValidPixels(_)), "{e}");
        let e = factor_detector(&[2.0, 2.0, 2.0, 2.0], &[0, 0, 1, 1], &GdOptions::default()).unwrap_err();
        assert!(e.to_string().contains("constant"), "{e}");
        let e = factor_detector(&[1.0, 2.0, 3.0], &[0, 1, 2], &GdOptions::default()).unwrap_err();
        assert!(e.to_string().contains("more cells than strata"), "{e}");
        assert!(breaks(&[1.0f64, 1.0, 1.0][..], Method::Equal, 3).is_err());
        assert!(breaks(&[f64::NAN, f64::NAN][..], Method::Equal, 3).is_err());
        let x = [f32::NAN; 4];
        let y4 = [1.0f32, 2.0, 3.0, 4.0];
        let e = geodetector(&y4[..], &[Factor::optimal("dem", &x[..])], &GdOptions::default()).unwrap_err();
        assert!(e.to_string().contains("dem 0 valid"), "{e}");
        let one = [5.0f32; 4];
        let e = geodetector(&y4[..], &[Factor::categorical("lulc", &one[..])], &GdOptions::default()).unwrap_err();
        assert!(e.to_string().contains("factor lulc has a single class") || e.to_string().contains("lulc"), "{e}");
    }

    #[test]
    fn jenks_matches_brute_force() {
        // small sets: compare the DP with exhaustive search over all splits
        let vals = [1.0, 1.5, 2.0, 7.0, 7.2, 7.9, 12.0, 13.5, 13.6, 20.0, 21.0, 1.5];
        let mut s = vals.to_vec();
        s.sort_by(f64::total_cmp);
        let table = natural_breaks_all(&s, 4, 1000);
        let sse = |b: &[f64]| {
            let lab = classify_f64(&s, b);
            let st = strata_stats(&s, &lab, b.len() + 1);
            st.ss.iter().sum::<f64>()
        };
        for k in 2..=4usize {
            let distinct: Vec<f64> = {
                let mut d = s.clone();
                d.dedup();
                d
            };
            let m = distinct.len();
            let mut best = f64::INFINITY;
            // choose k-1 break positions among m-1
            let mut idx: Vec<usize> = (0..k - 1).collect();
            loop {
                let b: Vec<f64> = idx.iter().map(|&i| distinct[i]).collect();
                best = best.min(sse(&b));
                // next combination
                let mut i = k - 1;
                let mut done = true;
                while i > 0 {
                    i -= 1;
                    if idx[i] < m - 1 - (k - 1 - i) {
                        idx[i] += 1;
                        for j in i + 1..k - 1 {
                            idx[j] = idx[j - 1] + 1;
                        }
                        done = false;
                        break;
                    }
                }
                if done {
                    break;
                }
            }
            assert!((sse(&table[k]) - best).abs() < 1e-9, "k={k}: {:?}", table[k]);
        }
    }

    #[test]
    fn optimal_is_thread_independent() {
        let n = 3000;
        let x: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1000) as f64 / 10.0).collect();
        let y: Vec<f64> = x.iter().enumerate().map(|(i, v)| (v / 20.0).floor() + ((i * 31) % 17) as f64 / 17.0).collect();
        let run = |t| rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap().install(|| optimal_discretization(&y, &x, &OptimalOptions::default()).unwrap());
        let a = run(1);
        let b = run(2);
        assert_eq!(a, b);
        assert!(a.q > 0.8);
        assert_eq!(a.candidates.len(), 4 * 6);
    }
}
