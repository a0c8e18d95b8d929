//! Trend analysis of RSEI time series: the Mann–Kendall test (Mann 1945, Kendall 1975) with tie
//! correction, the Theil–Sen slope (Sen 1968), the Hamed–Rao (1998) variance correction for
//! autocorrelation, Benjamini–Hochberg (1995) false-discovery-rate control, and all of them per
//! pixel over a stack of yearly layers.
//!
//! Conventions, the same as pymannkendall 1.4.3 (`original_test`, `hamed_rao_modification_test`,
//! `sens_slope`), against which `tests/trend_reference.rs` checks every number:
//! - a series is one value per time step (year); `NaN` (and ±∞) is a missing value. Times are the
//!   positions 0, 1, …, n − 1 in the series, so a missing year must stay in the series as `NaN`;
//! - S = Σ_{i<j} sign(x_j − x_i) over the valid values in time order;
//! - var(S) = [n(n−1)(2n+5) − Σ_g t_g(t_g−1)(2t_g+5)] / 18 over the tie groups g of the valid values;
//! - Z = (S − 1)/√var(S) for S > 0, (S + 1)/√var(S) for S < 0, 0 for S = 0 (continuity correction);
//! - p = 2·(1 − Φ(|Z|)), two-sided, computed as the upper tail `erfc(|Z|/√2)` (W. J. Cody's rational
//!   approximations), so small p keep their relative precision (pymannkendall subtracts from 1 and
//!   loses ~1e-16 absolute);
//! - trend at level α: increasing / decreasing when |Z| > Φ⁻¹(1 − α/2), else no trend;
//! - Kendall's τ = S / (n(n−1)/2) (pymannkendall's definition; no tie correction in the denominator);
//! - Sen slope = median of (x_j − x_i)/(t_j − t_i) over all valid pairs i < j, in value units per time
//!   step (per year for yearly layers); intercept = median(x) − median(t)·slope (Conover 1980).
//!
//! A test needs at least [`MIN_YEARS`] valid values and a non-constant series; anything else is an
//! error (series API) or a pixel counted as "not tested" (stack API) — never a silent `NaN` in a table.
//!
//! ```
//! use rsei_core::trend::{mann_kendall, MkOptions, Trend};
//! let r = mann_kendall(&[0.41, 0.44, f64::NAN, 0.43, 0.47, 0.46], &MkOptions::default()).unwrap();
//! assert_eq!((r.n, r.s), (5, 6));
//! assert_eq!(r.trend, Trend::NoTrend);
//! ```

// Coefficients are printed with all the digits of their sources; `!(a > b)` comparisons are
// NaN-aware on purpose.
#![allow(clippy::excessive_precision, clippy::neg_cmp_op_on_partial_ord)]

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Fewest valid values (years) a Mann–Kendall test accepts.
pub const MIN_YEARS: usize = 4;

/// Errors of the trend analysis.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum TrendError {
    /// A series has fewer valid (finite) values than the test needs.
    #[error("a trend test needs at least {min} valid values (years), the series has {got}")]
    TooFewValues {
        /// Valid values in the series.
        got: usize,
        /// The minimum asked for.
        min: usize,
    },
    /// Every valid value of a series is the same: S = 0 and var(S) = 0, there is nothing to test.
    #[error("the series is constant ({value}) over all {n} valid values; it has no trend to test")]
    Constant {
        /// The value.
        value: f64,
        /// Valid values in the series.
        n: usize,
    },
    /// A stack has fewer layers than a test needs valid years.
    #[error("a trend map needs at least {min} layers (years), got {got}")]
    TooFewLayers {
        /// Layers given.
        got: usize,
        /// The minimum asked for.
        min: usize,
    },
    /// The layers of a stack do not all have the same number of cells.
    #[error("layer {layer} has {got} cells, layer 0 has {expected}: all layers must cover the same grid")]
    LayerLength {
        /// Index of the first layer that differs from layer 0.
        layer: usize,
        /// Its length.
        got: usize,
        /// Length of layer 0.
        expected: usize,
    },
    /// No pixel of a stack could be tested.
    #[error(
        "no pixel could be tested: of {pixels} pixels, {no_data} have no data, {insufficient} fewer than {min} valid years, \
         {constant} a constant series, {degenerate} a non-positive corrected variance"
    )]
    NoTestablePixels {
        /// Pixels in the stack.
        pixels: u64,
        /// Pixels without any valid value.
        no_data: u64,
        /// Pixels with 1 to `min` − 1 valid values.
        insufficient: u64,
        /// Pixels whose valid values are all equal.
        constant: u64,
        /// Pixels whose Hamed–Rao corrected variance is not positive.
        degenerate: u64,
        /// Minimum valid years asked for.
        min: usize,
    },
    /// The Hamed–Rao correction factor n/n* came out non-positive (strong negative autocorrelation
    /// estimates at many lags), so var(S) would be ≤ 0 and Z undefined.
    #[error("the Hamed-Rao correction factor is {factor} (not positive), so the corrected var(S) is undefined; use fewer lags or no correction")]
    NonPositiveVariance {
        /// The correction factor n/n*.
        factor: f64,
    },
    /// A p-value given to [`benjamini_hochberg`] lies outside [0, 1].
    #[error("p-value {value} at position {index} is outside [0, 1]")]
    InvalidPValue {
        /// Position in the input.
        index: usize,
        /// The value.
        value: f64,
    },
    /// An option has a value outside its allowed range.
    #[error("invalid option {name}: {reason}")]
    InvalidOption {
        /// Option name.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
}

// ---------------------------------------------------------------------------------------------
// Normal distribution
// ---------------------------------------------------------------------------------------------

// W. J. Cody (1969), "Rational Chebyshev approximations for the error function", Math. Comp. 23,
// 631–637; the coefficients and interval splits of his CALERF routine (SPECFUN, 1990).
const ERF_A: [f64; 5] = [3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03, 1.85777706184603153e-1];
const ERF_B: [f64; 4] = [2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03];
const ERF_C: [f64; 9] = [
    5.64188496988670089e-1,
    8.88314979438837594e00,
    6.61191906371416295e01,
    2.98635138197400131e02,
    8.81952221241769090e02,
    1.71204761263407058e03,
    2.05107837782607147e03,
    1.23033935479799725e03,
    2.15311535474403846e-8,
];
const ERF_D: [f64; 8] = [
    1.57449261107098347e01,
    1.17693950891312499e02,
    5.37181101862009858e02,
    1.62138957456669019e03,
    3.29079923573345963e03,
    4.36261909014324716e03,
    3.43936767414372164e03,
    1.23033935480374942e03,
];
const ERF_P: [f64; 6] = [3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2];
const ERF_Q: [f64; 5] = [2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1, 6.05183413124413191e-2, 2.33520497626869185e-3];
/// 1/√π.
const SQRPI: f64 = 5.6418958354775628695e-1;

/// exp(−y²)·r with y² split as ysq² + (y − ysq)(y + ysq), ysq = y rounded down to 1/16 (Cody's
/// device against the rounding error of y² for large y).
#[inline]
fn exp_neg_sq(y: f64, r: f64) -> f64 {
    let ysq = (y * 16.0).trunc() / 16.0;
    let del = (y - ysq) * (y + ysq);
    (-ysq * ysq).exp() * (-del).exp() * r
}

/// The complementary error function erfc(x) = 1 − erf(x), to about one unit in the last place over
/// the whole double range (W. J. Cody 1969, routine CALERF). `NaN` gives `NaN`.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    let y = x.abs();
    if y <= 0.46875 {
        let ysq = if y > 1.11e-16 { y * y } else { 0.0 };
        let (mut num, mut den) = (ERF_A[4] * ysq, ysq);
        for i in 0..3 {
            num = (num + ERF_A[i]) * ysq;
            den = (den + ERF_B[i]) * ysq;
        }
        return 1.0 - x * (num + ERF_A[3]) / (den + ERF_B[3]);
    }
    let r = if y <= 4.0 {
        let (mut num, mut den) = (ERF_C[8] * y, y);
        for i in 0..7 {
            num = (num + ERF_C[i]) * y;
            den = (den + ERF_D[i]) * y;
        }
        exp_neg_sq(y, (num + ERF_C[7]) / (den + ERF_D[7]))
    } else if y >= 26.543 {
        0.0
    } else {
        let ysq = 1.0 / (y * y);
        let (mut num, mut den) = (ERF_P[5] * ysq, ysq);
        for i in 0..4 {
            num = (num + ERF_P[i]) * ysq;
            den = (den + ERF_Q[i]) * ysq;
        }
        let r = ysq * (num + ERF_P[4]) / (den + ERF_Q[4]);
        exp_neg_sq(y, (SQRPI - r) / y)
    };
    if x < 0.0 {
        2.0 - r
    } else {
        r
    }
}

/// Upper tail Q(z) = P(Z > z) = 1 − Φ(z) of the standard normal distribution, accurate in relative
/// terms also far in the tail (`erfc(z/√2)/2`).
pub fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z * std::f64::consts::FRAC_1_SQRT_2)
}

/// Standard normal distribution function Φ(z) = P(Z ≤ z).
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z * std::f64::consts::FRAC_1_SQRT_2)
}

/// Two-sided p-value 2·(1 − Φ(|z|)) of a standard normal statistic (`erfc(|z|/√2)`); 1 at z = 0.
pub fn two_sided_p(z: f64) -> f64 {
    erfc(z.abs() * std::f64::consts::FRAC_1_SQRT_2)
}

/// Quantile Φ⁻¹(p) of the standard normal distribution (M. J. Wichura 1988, algorithm AS 241
/// PPND16, relative accuracy about 1e-16). `p` = 0 gives −∞, 1 gives +∞, outside [0, 1] or `NaN`
/// gives `NaN`.
pub fn normal_quantile(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        let num = ((((((2.5090809287301226727e3 * r + 3.3430575583588128105e4) * r + 6.7265770927008700853e4) * r + 4.5921953931549871457e4) * r + 1.3731693765509461125e4) * r
            + 1.9715909503065514427e3)
            * r
            + 1.3314166789178437745e2)
            * r
            + 3.3871328727963666080e0;
        let den = ((((((5.2264952788528545610e3 * r + 2.8729085735721942674e4) * r + 3.9307895800092710610e4) * r + 2.1213794301586595867e4) * r + 5.3941960214247511077e3) * r
            + 6.8718700749205790830e2)
            * r
            + 4.2313330701600911252e1)
            * r
            + 1.0;
        return q * num / den;
    }
    let r = if q < 0.0 { p } else { 1.0 - p };
    let r = (-r.ln()).sqrt();
    let v = if r <= 5.0 {
        let r = r - 1.6;
        let num = ((((((7.74545014278341407640e-4 * r + 2.27238449892691845833e-2) * r + 2.41780725177450611770e-1) * r + 1.27045825245236838258e0) * r + 3.64784832476320460504e0) * r
            + 5.76949722146069140550e0)
            * r
            + 4.63033784615654529590e0)
            * r
            + 1.42343711074968357734e0;
        let den = ((((((1.05075007164441684324e-9 * r + 5.47593808499534494600e-4) * r + 1.51986665636164571966e-2) * r + 1.48103976427480074590e-1) * r + 6.89767334985100004550e-1) * r
            + 1.67638483018380384940e0)
            * r
            + 2.05319162663775882187e0)
            * r
            + 1.0;
        num / den
    } else {
        let r = r - 5.0;
        let num = ((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 1.24266094738807843860e-3) * r + 2.65321895265761230930e-2) * r + 2.96560571828504891230e-1) * r
            + 1.78482653991729133580e0)
            * r
            + 5.46378491116411436990e0)
            * r
            + 6.65790464350110377720e0;
        let den = ((((((2.04426310338993978564e-15 * r + 1.42151175831644588870e-7) * r + 1.84631831751005468180e-5) * r + 7.86869131145613259100e-4) * r + 1.48753612908506148525e-2) * r
            + 1.36929880922735805310e-1)
            * r
            + 5.99832206555887937690e-1)
            * r
            + 1.0;
        num / den
    };
    if q < 0.0 {
        -v
    } else {
        v
    }
}

// ---------------------------------------------------------------------------------------------
// Options and results
// ---------------------------------------------------------------------------------------------

/// Which lags of the autocorrelation function enter the Hamed–Rao correction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HamedRaoLag {
    /// Every lag 1 … n − 1 (pymannkendall's `lag=None`, its default).
    All,
    /// Lags 1 … k only (pymannkendall's `lag=k`; Hamed & Rao suggest k = 3). Lags beyond n − 1 do
    /// not exist and are ignored.
    First(usize),
}

/// Options of the Mann–Kendall test.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MkOptions {
    /// Significance level α of the two-sided test (default 0.05), in (0, 1). Also sets the band
    /// ±Φ⁻¹(1 − α/2)/√n inside which the Hamed–Rao correction treats an autocorrelation as zero.
    pub alpha: f64,
    /// Hamed–Rao (1998) variance correction for serial correlation; `None` (default) = the
    /// original test.
    pub hamed_rao: Option<HamedRaoLag>,
    /// Fewest valid values for a test (default and minimum [`MIN_YEARS`]).
    pub min_valid: usize,
}

impl Default for MkOptions {
    fn default() -> Self {
        Self { alpha: 0.05, hamed_rao: None, min_valid: MIN_YEARS }
    }
}

impl MkOptions {
    fn validate(&self) -> Result<(), TrendError> {
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(TrendError::InvalidOption { name: "alpha", reason: format!("must lie in (0, 1), got {}", self.alpha) });
        }
        if self.min_valid < MIN_YEARS {
            return Err(TrendError::InvalidOption { name: "min_valid", reason: format!("must be at least {MIN_YEARS}, got {}", self.min_valid) });
        }
        if self.hamed_rao == Some(HamedRaoLag::First(0)) {
            return Err(TrendError::InvalidOption { name: "hamed_rao", reason: "lag count must be at least 1".into() });
        }
        Ok(())
    }
}

/// Direction of a trend at the chosen significance level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    /// Z > 0 and significant.
    Increasing,
    /// Z < 0 and significant.
    Decreasing,
    /// Not significant.
    NoTrend,
}

impl Trend {
    /// pymannkendall's spelling: `increasing`, `decreasing`, `no trend`.
    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Increasing => "increasing",
            Trend::Decreasing => "decreasing",
            Trend::NoTrend => "no trend",
        }
    }
}

/// Everything [`mann_kendall`] reports for one series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MkResult {
    /// Valid values used.
    pub n: usize,
    /// Mann–Kendall score S.
    pub s: i64,
    /// var(S) used for Z: tie-corrected, times the Hamed–Rao factor when that correction is on.
    pub var_s: f64,
    /// Tie-corrected var(S) of the original test.
    pub var_s_uncorrected: f64,
    /// Hamed–Rao factor n/n* (`None` for the original test).
    pub hamed_rao_factor: Option<f64>,
    /// Standardised statistic Z (continuity corrected).
    pub z: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// Kendall's τ = S / (n(n−1)/2).
    pub tau: f64,
    /// Sen slope, value units per time step.
    pub slope: f64,
    /// Intercept of the Kendall–Theil line at time 0: median(x) − median(t)·slope.
    pub intercept: f64,
    /// |Z| > Φ⁻¹(1 − α/2).
    pub h: bool,
    /// Direction at level α.
    pub trend: Trend,
}

/// Theil–Sen slope and Conover intercept of one series ([`sens_slope`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SenSlope {
    /// Median pairwise slope, value units per time step.
    pub slope: f64,
    /// median(x) − median(t)·slope.
    pub intercept: f64,
    /// Valid values used.
    pub n: usize,
}

// ---------------------------------------------------------------------------------------------
// Kernel (shared by the series and the stack API; buffers reused between calls)
// ---------------------------------------------------------------------------------------------

/// Reusable buffers for one series at a time.
#[derive(Default)]
struct Work {
    /// Valid values in time order.
    v: Vec<f64>,
    /// Their time indices.
    t: Vec<f64>,
    /// Sorted copy of `v`.
    sorted: Vec<f64>,
    /// Pairwise slopes.
    slopes: Vec<f64>,
    /// Detrended values / ranks (Hamed–Rao).
    det: Vec<f64>,
    /// Order of the detrended values (Hamed–Rao).
    order: Vec<u32>,
}

impl Work {
    fn with_capacity(n: usize) -> Self {
        Self {
            v: Vec::with_capacity(n),
            t: Vec::with_capacity(n),
            sorted: Vec::with_capacity(n),
            slopes: Vec::with_capacity(n * n.saturating_sub(1) / 2),
            det: Vec::with_capacity(n),
            order: Vec::with_capacity(n),
        }
    }
}

/// Options resolved once: critical value of Z and the Hamed–Rao setting.
#[derive(Clone, Copy)]
struct Prepared {
    alpha: f64,
    z_crit: f64,
    hamed_rao: Option<HamedRaoLag>,
    min_valid: usize,
}

impl Prepared {
    fn new(o: &MkOptions) -> Result<Self, TrendError> {
        o.validate()?;
        Ok(Self { alpha: o.alpha, z_crit: normal_quantile(1.0 - o.alpha / 2.0), hamed_rao: o.hamed_rao, min_valid: o.min_valid })
    }
}

/// Result of the kernel on the valid values in `Work::v`.
#[derive(Clone, Copy, Debug)]
struct Core {
    n: usize,
    s: i64,
    var_s: f64,
    var_s_uncorrected: f64,
    factor: Option<f64>,
    z: f64,
    p: f64,
    tau: f64,
    slope: f64,
    intercept: f64,
}

/// Why the kernel did not produce a test.
#[derive(Clone, Copy, Debug)]
enum Skip {
    Insufficient(usize),
    Constant(f64, usize),
    Degenerate { factor: f64, slope: f64 },
}

/// Median of a sorted slice (mean of the two middle values for an even length; the slice is not empty).
#[inline]
fn median_sorted(x: &[f64]) -> f64 {
    let m = x.len();
    if m % 2 == 1 {
        x[m / 2]
    } else {
        (x[m / 2 - 1] + x[m / 2]) / 2.0
    }
}

/// Median of an unsorted slice of non-NaN values, reordering it (`select_nth_unstable`; not empty).
#[inline]
fn median_select(x: &mut [f64]) -> f64 {
    let m = x.len();
    let k = m / 2;
    let (lo, hi, _) = x.select_nth_unstable_by(k, f64::total_cmp);
    let hi = *hi;
    if m % 2 == 1 {
        hi
    } else {
        let below = lo.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (below + hi) / 2.0
    }
}

/// Sen slope of the valid values in `w.v` at times `w.t` (n ≥ 2), median of the pairwise slopes.
fn sen_slope_kernel(w: &mut Work) -> f64 {
    let n = w.v.len();
    let m = n * (n - 1) / 2;
    w.slopes.clear();
    w.slopes.resize(m, 0.0);
    let mut k = 0;
    for i in 0..n - 1 {
        let (vi, ti) = (w.v[i], w.t[i]);
        let len = n - 1 - i;
        for ((d, &vj), &tj) in w.slopes[k..k + len].iter_mut().zip(&w.v[i + 1..]).zip(&w.t[i + 1..]) {
            *d = (vj - vi) / (tj - ti);
        }
        k += len;
    }
    median_select(&mut w.slopes)
}

/// The test on the valid values in `w.v` (times `w.t`).
fn kernel(w: &mut Work, o: &Prepared) -> Result<Core, Skip> {
    let n = w.v.len();
    if n < o.min_valid {
        return Err(Skip::Insufficient(n));
    }
    // sorted copy: ties, constant check, median of the values
    w.sorted.clear();
    w.sorted.extend_from_slice(&w.v);
    w.sorted.sort_unstable_by(f64::total_cmp);
    if w.sorted[0] == w.sorted[n - 1] {
        return Err(Skip::Constant(w.sorted[0], n));
    }
    let mut ties: i64 = 0;
    let mut run = 1i64;
    for k in 1..=n {
        if k < n && w.sorted[k] == w.sorted[k - 1] {
            run += 1;
        } else {
            ties += run * (run - 1) * (2 * run + 5);
            run = 1;
        }
    }
    // S over all pairs
    let mut s: i64 = 0;
    for i in 0..n - 1 {
        let vi = w.v[i];
        let si: i32 = w.v[i + 1..].iter().map(|&vj| i32::from(vj > vi) - i32::from(vj < vi)).sum();
        s += i64::from(si);
    }
    let ni = n as i64;
    let var_s_uncorrected = (ni * (ni - 1) * (2 * ni + 5) - ties) as f64 / 18.0;
    let nf = n as f64;
    let tau = s as f64 / (0.5 * nf * (nf - 1.0));
    let slope = sen_slope_kernel(w);
    let intercept = median_sorted(&w.sorted) - median_sorted(&w.t) * slope;
    let (var_s, factor) = match o.hamed_rao {
        None => (var_s_uncorrected, None),
        Some(lag) => {
            let f = hamed_rao_factor(w, slope, lag, o.alpha);
            let v = var_s_uncorrected * f;
            if !(v > 0.0) || !v.is_finite() {
                return Err(Skip::Degenerate { factor: f, slope });
            }
            (v, Some(f))
        }
    };
    let sf = s as f64;
    let z = if s > 0 {
        (sf - 1.0) / var_s.sqrt()
    } else if s < 0 {
        (sf + 1.0) / var_s.sqrt()
    } else {
        0.0
    };
    let p = two_sided_p(z);
    Ok(Core { n, s, var_s, var_s_uncorrected, factor, z, p, tau, slope, intercept })
}

/// Hamed & Rao (1998) factor n/n* = 1 + 2/(n(n−1)(n−2)) · Σ_k (n−k)(n−k−1)(n−k−2)·ρ_k over the lags k
/// whose autocorrelation ρ_k of the ranks of the detrended series lies outside ±Φ⁻¹(1−α/2)/√n.
///
/// The detrended value at time t is x_t − (t + 1)·slope (pymannkendall's `x − arange(1, n+1)·slope`
/// for a complete series); ranks are average ranks for ties; the autocorrelation is the biased
/// estimator (divisor n) of pymannkendall's `__acf`, over the valid values in time order.
/// When all detrended values are equal (a perfectly linear series) the autocorrelation is 0/0:
/// the factor is then 1 (pymannkendall returns NaN).
fn hamed_rao_factor(w: &mut Work, slope: f64, lag: HamedRaoLag, alpha: f64) -> f64 {
    let n = w.v.len();
    w.det.clear();
    w.det.extend(w.v.iter().zip(&w.t).map(|(&x, &t)| x - (t + 1.0) * slope));
    w.order.clear();
    w.order.extend(0..n as u32);
    {
        let det = &w.det;
        w.order.sort_unstable_by(|&a, &b| det[a as usize].total_cmp(&det[b as usize]));
    }
    // average ranks, written into `sorted` (free again after the medians) by original position
    w.sorted.clear();
    w.sorted.resize(n, 0.0);
    let mut a = 0;
    while a < n {
        let mut b = a;
        while b + 1 < n && w.det[w.order[b + 1] as usize] == w.det[w.order[a] as usize] {
            b += 1;
        }
        let rank = 0.5 * ((b + 1) as f64 + a as f64 + 1.0);
        for &o in &w.order[a..=b] {
            w.sorted[o as usize] = rank;
        }
        a = b + 1;
    }
    let nf = n as f64;
    let mean = w.sorted.iter().sum::<f64>() / nf;
    for r in w.sorted.iter_mut() {
        *r -= mean;
    }
    let y = &w.sorted;
    let acov0 = y.iter().map(|&a| a * a).sum::<f64>() / nf;
    if acov0 == 0.0 {
        return 1.0;
    }
    let max_lag = match lag {
        HamedRaoLag::All => n - 1,
        HamedRaoLag::First(k) => k.min(n - 1),
    };
    let bound = normal_quantile(1.0 - alpha / 2.0) / nf.sqrt();
    let ni = n as i64;
    let mut sni = 0.0;
    for k in 1..=max_lag {
        let acov = y[..n - k].iter().zip(&y[k..]).map(|(&a, &b)| a * b).sum::<f64>() / nf;
        let rho = acov / acov0;
        if !(rho <= bound && rho >= -bound) {
            let ki = k as i64;
            sni += ((ni - ki) * (ni - ki - 1) * (ni - ki - 2)) as f64 * rho;
        }
    }
    1.0 + (2.0 / (ni * (ni - 1) * (ni - 2)) as f64) * sni
}

/// Copies the finite values of a series and their positions into the work buffers.
fn load_series(w: &mut Work, values: &[f64]) {
    w.v.clear();
    w.t.clear();
    for (i, &x) in values.iter().enumerate() {
        if x.is_finite() {
            w.v.push(x);
            w.t.push(i as f64);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Series API
// ---------------------------------------------------------------------------------------------

/// Mann–Kendall trend test (Mann 1945; Kendall 1975) of one series with tie correction, optional
/// Hamed–Rao (1998) autocorrelation correction, and the Sen (1968) slope — e.g. the yearly mean
/// RSEI of a study area. `values[t]` is the value in year t (`NaN` or ±∞ = missing; the time axis
/// keeps the gap). Matches pymannkendall 1.4.3 `original_test` / `hamed_rao_modification_test`
/// (see the module documentation for the formulas).
///
/// Hamed–Rao with missing values: the series is detrended by the time index (x_t − (t+1)·slope)
/// where pymannkendall uses the position among the valid values (x_i − (i+1)·slope); ranks and
/// autocorrelations are then taken over the valid values in order, as in pymannkendall. Without
/// gaps both are the same. For a perfectly linear series the factor is 1 (pymannkendall: NaN).
///
/// Errors: fewer than `opts.min_valid` valid values ([`TrendError::TooFewValues`]), a constant
/// series ([`TrendError::Constant`]), a non-positive corrected variance
/// ([`TrendError::NonPositiveVariance`]), invalid options.
pub fn mann_kendall(values: &[f64], opts: &MkOptions) -> Result<MkResult, TrendError> {
    let o = Prepared::new(opts)?;
    let mut w = Work::with_capacity(values.len());
    load_series(&mut w, values);
    match kernel(&mut w, &o) {
        Ok(c) => {
            let h = c.z.abs() > o.z_crit;
            let trend = if !h {
                Trend::NoTrend
            } else if c.z > 0.0 {
                Trend::Increasing
            } else {
                Trend::Decreasing
            };
            Ok(MkResult {
                n: c.n,
                s: c.s,
                var_s: c.var_s,
                var_s_uncorrected: c.var_s_uncorrected,
                hamed_rao_factor: c.factor,
                z: c.z,
                p: c.p,
                tau: c.tau,
                slope: c.slope,
                intercept: c.intercept,
                h,
                trend,
            })
        }
        Err(Skip::Insufficient(got)) => Err(TrendError::TooFewValues { got, min: o.min_valid }),
        Err(Skip::Constant(value, n)) => Err(TrendError::Constant { value, n }),
        Err(Skip::Degenerate { factor, .. }) => Err(TrendError::NonPositiveVariance { factor }),
    }
}

/// Theil–Sen slope (Sen 1968) of one series: the median of (x_j − x_i)/(j − i) over all pairs of
/// valid values, in value units per time step, and the intercept median(x) − median(t)·slope
/// (Conover 1980; pymannkendall `sens_slope`). `NaN`/±∞ are missing. Needs at least two valid
/// values ([`TrendError::TooFewValues`]); a constant series has slope 0.
pub fn sens_slope(values: &[f64]) -> Result<SenSlope, TrendError> {
    let mut w = Work::with_capacity(values.len());
    load_series(&mut w, values);
    let n = w.v.len();
    if n < 2 {
        return Err(TrendError::TooFewValues { got: n, min: 2 });
    }
    let slope = sen_slope_kernel(&mut w);
    w.sorted.clear();
    w.sorted.extend_from_slice(&w.v);
    w.sorted.sort_unstable_by(f64::total_cmp);
    Ok(SenSlope { slope, intercept: median_sorted(&w.sorted) - median_sorted(&w.t) * slope, n })
}

// ---------------------------------------------------------------------------------------------
// Benjamini–Hochberg
// ---------------------------------------------------------------------------------------------

/// q-values over pairs (p, position) sorted by p: q_(i) = min_{j ≥ i} p_(j)·m/j, capped at 1,
/// computed as statsmodels' `fdr_bh` does (p / (j/m), running minimum from the top). Returns q in
/// the same (sorted) order.
fn bh_sorted_in_place(sorted_p: &mut [f64]) {
    let m = sorted_p.len() as f64;
    let mut running = f64::INFINITY;
    for (i, p) in sorted_p.iter_mut().enumerate().rev() {
        let raw = *p / ((i + 1) as f64 / m);
        running = running.min(raw);
        *p = running.min(1.0);
    }
}

/// Benjamini & Hochberg (1995) adjusted p-values (q-values) controlling the false discovery rate:
/// q_(i) = min_{j ≥ i} min(1, p_(j)·m/j) over the m non-`NaN` p-values sorted ascending. `NaN`
/// stays `NaN` and is not counted in m. Reject at FDR level α where q ≤ α (statsmodels
/// `multipletests(method="fdr_bh")`).
///
/// Errors: a p-value outside [0, 1] ([`TrendError::InvalidPValue`]).
pub fn benjamini_hochberg(p: &[f64]) -> Result<Vec<f64>, TrendError> {
    let mut idx: Vec<(f64, usize)> = Vec::with_capacity(p.len());
    for (i, &v) in p.iter().enumerate() {
        if v.is_nan() {
            continue;
        }
        if !(0.0..=1.0).contains(&v) {
            return Err(TrendError::InvalidPValue { index: i, value: v });
        }
        idx.push((v, i));
    }
    // q is the same for tied p whatever their order, so an unstable sort is deterministic here
    idx.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut q: Vec<f64> = idx.iter().map(|x| x.0).collect();
    bh_sorted_in_place(&mut q);
    let mut out = vec![f64::NAN; p.len()];
    for (&(_, i), &qi) in idx.iter().zip(&q) {
        out[i] = qi;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Per-pixel stack
// ---------------------------------------------------------------------------------------------

/// Class code of a pixel that was not tested (no data, too few valid years, constant, or a
/// non-positive Hamed–Rao variance).
pub const CLASS_NOT_TESTED: u8 = 0;
/// Class code: significant decrease of RSEI (degradation).
pub const CLASS_DEGRADATION: u8 = 1;
/// Class code: tested, not significant.
pub const CLASS_NOT_SIGNIFICANT: u8 = 2;
/// Class code: significant increase of RSEI (improvement).
pub const CLASS_IMPROVEMENT: u8 = 3;

/// How per-pixel significance is decided.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Significance {
    /// Benjamini–Hochberg across all tested pixels: significant where q ≤ `q` (false discovery rate
    /// level, e.g. 0.05).
    Fdr {
        /// FDR level in (0, 1).
        q: f64,
    },
    /// Each pixel on its own at the test's α: significant where |Z| > Φ⁻¹(1 − α/2) (no
    /// multiple-testing control; with millions of pixels about α of the trendless ones come out
    /// "significant").
    Raw,
}

/// Options of [`trend_stack`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct StackOptions {
    /// Test options (α, Hamed–Rao, fewest valid years).
    pub mk: MkOptions,
    /// Significance rule for the class map (default FDR at 0.05).
    pub significance: Significance,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self { mk: MkOptions::default(), significance: Significance::Fdr { q: 0.05 } }
    }
}

/// Pixel counts of a trend map; every pixel is in exactly one of no_data, insufficient, constant,
/// degenerate, improvement, not_significant, degradation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrendSummary {
    /// Pixels in the stack.
    pub pixels: u64,
    /// Layers (years) in the stack.
    pub layers: usize,
    /// Pixels tested (improvement + not_significant + degradation); the m of the FDR control.
    pub tested: u64,
    /// Not tested: no valid value in any layer.
    pub no_data: u64,
    /// Not tested: 1 to min_valid − 1 valid values.
    pub insufficient: u64,
    /// Not tested: all valid values equal.
    pub constant: u64,
    /// Not tested: Hamed–Rao corrected var(S) not positive (their slope is still given).
    pub degenerate: u64,
    /// Significant increase (class 3).
    pub improvement: u64,
    /// Tested, not significant (class 2).
    pub not_significant: u64,
    /// Significant decrease (class 1).
    pub degradation: u64,
}

impl TrendSummary {
    /// Pixels not tested (class 0).
    pub fn not_tested(&self) -> u64 {
        self.no_data + self.insufficient + self.constant + self.degenerate
    }
    /// Area (km²) of a pixel count for a cell area in km².
    pub fn area_km2(count: u64, cell_area_km2: f64) -> f64 {
        count as f64 * cell_area_km2
    }
}

/// Per-pixel results of [`trend_stack`], each vector one value per pixel in the order of the layers.
#[derive(Clone, Debug, PartialEq)]
pub struct PixelTrends {
    /// Sen slope (value units per layer step, e.g. RSEI per year); `NaN` where not enough data or
    /// constant (a degenerate Hamed–Rao pixel keeps its slope).
    pub slope: Vec<f64>,
    /// Two-sided p-value; `NaN` where not tested.
    pub p: Vec<f64>,
    /// Benjamini–Hochberg q-value over the tested pixels; `NaN` where not tested.
    pub q: Vec<f64>,
    /// Mann–Kendall Z; `NaN` where not tested.
    pub z: Vec<f64>,
    /// Kendall's τ; `NaN` where not tested.
    pub tau: Vec<f64>,
    /// Valid (finite) values per pixel.
    pub n_valid: Vec<u16>,
    /// [`CLASS_NOT_TESTED`], [`CLASS_DEGRADATION`], [`CLASS_NOT_SIGNIFICANT`], [`CLASS_IMPROVEMENT`].
    pub class: Vec<u8>,
    /// Counts per outcome.
    pub summary: TrendSummary,
}

/// Pixels per parallel work item (fixed, so the partition does not depend on the thread count).
const CHUNK: usize = 4096;

/// Status of a pixel after the kernel, before the significance rule.
const ST_TESTED: u8 = 0;
const ST_NO_DATA: u8 = 1;
const ST_INSUFFICIENT: u8 = 2;
const ST_CONSTANT: u8 = 3;
const ST_DEGENERATE: u8 = 4;

struct OutChunk<'a> {
    slope: &'a mut [f64],
    p: &'a mut [f64],
    z: &'a mut [f64],
    tau: &'a mut [f64],
    n_valid: &'a mut [u16],
    status: &'a mut [u8],
}

fn run_chunk(layers: &[&[f32]], start: usize, out: OutChunk<'_>, o: &Prepared) -> [u64; 5] {
    let mut w = Work::with_capacity(layers.len());
    let mut counts = [0u64; 5];
    for local in 0..out.slope.len() {
        let k = start + local;
        w.v.clear();
        w.t.clear();
        for (l, layer) in layers.iter().enumerate() {
            let x = layer[k];
            if x.is_finite() {
                w.v.push(f64::from(x));
                w.t.push(l as f64);
            }
        }
        let n = w.v.len();
        out.n_valid[local] = n as u16;
        let (status, slope, p, z, tau) = if n == 0 {
            (ST_NO_DATA, f64::NAN, f64::NAN, f64::NAN, f64::NAN)
        } else {
            match kernel(&mut w, o) {
                Ok(c) => (ST_TESTED, c.slope, c.p, c.z, c.tau),
                Err(Skip::Insufficient(_)) => (ST_INSUFFICIENT, f64::NAN, f64::NAN, f64::NAN, f64::NAN),
                Err(Skip::Constant(..)) => (ST_CONSTANT, f64::NAN, f64::NAN, f64::NAN, f64::NAN),
                Err(Skip::Degenerate { slope, .. }) => (ST_DEGENERATE, slope, f64::NAN, f64::NAN, f64::NAN),
            }
        };
        counts[status as usize] += 1;
        out.status[local] = status;
        out.slope[local] = slope;
        out.p[local] = p;
        out.z[local] = z;
        out.tau[local] = tau;
    }
    counts
}

/// Mann–Kendall test and Sen slope for every pixel of a stack of yearly layers (e.g. RSEI
/// 2001–2022), then significance classes after Benjamini–Hochberg FDR control across the tested
/// pixels (or per pixel, [`Significance::Raw`]).
///
/// `layers[t][k]` is pixel k in year t; all layers have the same length (same grid, row-major as a
/// [`crate::Raster`]). A missing year must be given as a layer of `NaN` so the time axis keeps its
/// spacing; a flat layer-major buffer can be passed as `buf.chunks_exact(pixels).collect::<Vec<_>>()`.
/// `NaN`/±∞ are missing values. Each pixel's numbers are those of [`mann_kendall`] on its series
/// (computed in `f64`); pixels with fewer than `min_valid` valid values or a constant series are
/// not tested (class 0, `NaN` slope, p, q, z, τ) and counted in the summary by reason.
///
/// Parallel over fixed chunks of pixels with rayon; the results are bit-identical whatever the
/// number of threads.
///
/// Errors: fewer layers than `min_valid` ([`TrendError::TooFewLayers`]), layers of different
/// lengths ([`TrendError::LayerLength`]), more than 65 535 layers, no testable pixel
/// ([`TrendError::NoTestablePixels`]), invalid options.
pub fn trend_stack(layers: &[&[f32]], opts: &StackOptions) -> Result<PixelTrends, TrendError> {
    let o = Prepared::new(&opts.mk)?;
    if let Significance::Fdr { q } = opts.significance {
        if !(q > 0.0 && q < 1.0) {
            return Err(TrendError::InvalidOption { name: "significance", reason: format!("FDR level must lie in (0, 1), got {q}") });
        }
    }
    if layers.len() < o.min_valid {
        return Err(TrendError::TooFewLayers { got: layers.len(), min: o.min_valid });
    }
    if layers.len() > usize::from(u16::MAX) {
        return Err(TrendError::InvalidOption { name: "layers", reason: format!("at most {} layers, got {}", u16::MAX, layers.len()) });
    }
    let npix = layers[0].len();
    if let Some((layer, l)) = layers.iter().enumerate().find(|(_, l)| l.len() != npix) {
        return Err(TrendError::LayerLength { layer, got: l.len(), expected: npix });
    }

    let mut slope = vec![f64::NAN; npix];
    let mut p = vec![f64::NAN; npix];
    let mut z = vec![f64::NAN; npix];
    let mut tau = vec![f64::NAN; npix];
    let mut n_valid = vec![0u16; npix];
    let mut status = vec![0u8; npix];
    let chunks: Vec<OutChunk<'_>> = slope
        .chunks_mut(CHUNK)
        .zip(p.chunks_mut(CHUNK))
        .zip(z.chunks_mut(CHUNK))
        .zip(tau.chunks_mut(CHUNK))
        .zip(n_valid.chunks_mut(CHUNK))
        .zip(status.chunks_mut(CHUNK))
        .map(|(((((slope, p), z), tau), n_valid), status)| OutChunk { slope, p, z, tau, n_valid, status })
        .collect();
    let counts = chunks.into_par_iter().enumerate().map(|(ci, c)| run_chunk(layers, ci * CHUNK, c, &o)).reduce(
        || [0u64; 5],
        |mut a, b| {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
            a
        },
    );
    let mut summary = TrendSummary {
        pixels: npix as u64,
        layers: layers.len(),
        tested: counts[ST_TESTED as usize],
        no_data: counts[ST_NO_DATA as usize],
        insufficient: counts[ST_INSUFFICIENT as usize],
        constant: counts[ST_CONSTANT as usize],
        degenerate: counts[ST_DEGENERATE as usize],
        ..Default::default()
    };
    if summary.tested == 0 {
        return Err(TrendError::NoTestablePixels {
            pixels: summary.pixels,
            no_data: summary.no_data,
            insufficient: summary.insufficient,
            constant: summary.constant,
            degenerate: summary.degenerate,
            min: o.min_valid,
        });
    }

    // Benjamini–Hochberg over the tested pixels (q is the same for tied p whatever their order,
    // so the parallel unstable sort gives the same bits at any thread count)
    let mut order: Vec<(f64, usize)> = status.iter().zip(&p).enumerate().filter(|(_, (&st, _))| st == ST_TESTED).map(|(k, (_, &pk))| (pk, k)).collect();
    order.par_sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut qs: Vec<f64> = order.iter().map(|x| x.0).collect();
    bh_sorted_in_place(&mut qs);
    let mut q = vec![f64::NAN; npix];
    for (&(_, k), &qk) in order.iter().zip(&qs) {
        q[k] = qk;
    }
    drop(order);
    drop(qs);

    let mut class = vec![CLASS_NOT_TESTED; npix];
    let sig = opts.significance;
    let z_crit = o.z_crit;
    let class_counts = class
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map(|(ci, c)| {
            let mut n = [0u64; 4];
            for (local, cl) in c.iter_mut().enumerate() {
                let k = ci * CHUNK + local;
                if status[k] != ST_TESTED {
                    continue;
                }
                let significant = match sig {
                    Significance::Fdr { q: level } => q[k] <= level,
                    Significance::Raw => z[k].abs() > z_crit,
                };
                *cl = if !significant {
                    CLASS_NOT_SIGNIFICANT
                } else if z[k] > 0.0 {
                    CLASS_IMPROVEMENT
                } else {
                    CLASS_DEGRADATION
                };
                n[*cl as usize] += 1;
            }
            n
        })
        .reduce(
            || [0u64; 4],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        );
    summary.degradation = class_counts[CLASS_DEGRADATION as usize];
    summary.not_significant = class_counts[CLASS_NOT_SIGNIFICANT as usize];
    summary.improvement = class_counts[CLASS_IMPROVEMENT as usize];
    Ok(PixelTrends { slope, p, q, z, tau, n_valid, class, summary })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        a == b || (a - b).abs() <= rel * b.abs().max(a.abs())
    }

    #[test]
    fn hand_computed_five_values() {
        // x = [1, 3, 2, 5, 5] at t = 0..4
        // pairs (i<j): sign(x_j − x_i)
        //   i=0: 3>1 +, 2>1 +, 5>1 +, 5>1 +        → +4
        //   i=1: 2<3 −, 5>3 +, 5>3 +               → +1
        //   i=2: 5>2 +, 5>2 +                      → +2
        //   i=3: 5=5 0                             →  0      S = 7
        // ties: one group of 2 (the 5s): var(S) = [5·4·15 − 2·1·9]/18 = (300 − 18)/18 = 15.666…
        // Z = (7 − 1)/√15.666… = 1.51587…, p = 2(1 − Φ(1.51587)) = 0.12955…
        // τ = 7/10 = 0.7
        // slopes (x_j − x_i)/(j − i): 2, 0.5, 4/3, 1 | −1, 1, 2/3 | 3, 1.5 | 0
        //   sorted: −1, 0, 0.5, 2/3, 1, 1, 4/3, 1.5, 2, 3 → median (1 + 1)/2 = 1
        // intercept = median(x) − median(t)·slope = 3 − 2·1 = 1
        let r = mann_kendall(&[1.0, 3.0, 2.0, 5.0, 5.0], &MkOptions::default()).unwrap();
        assert_eq!(r.s, 7);
        assert!(close(r.var_s, 282.0 / 18.0, 1e-15));
        assert!(close(r.z, 6.0 / (282.0f64 / 18.0).sqrt(), 1e-15));
        assert!(close(r.tau, 0.7, 1e-15));
        assert_eq!(r.slope, 1.0);
        assert_eq!(r.intercept, 1.0);
        assert_eq!(r.trend, Trend::NoTrend);
        assert!((r.p - 0.129_553).abs() < 1e-5, "{}", r.p);
        assert!(r.hamed_rao_factor.is_none());
    }

    #[test]
    fn gaps_keep_the_time_axis() {
        // x = [1, NaN, 2, 4] at t = 0, 2, 3: slopes (2−1)/2 = 0.5, (4−1)/3 = 1, (4−2)/1 = 2 → 1
        // intercept = median(1, 2, 4) − median(0, 2, 3)·1 = 2 − 2 = 0
        let s = sens_slope(&[1.0, f64::NAN, 2.0, 4.0]).unwrap();
        assert_eq!((s.slope, s.intercept, s.n), (1.0, 0.0, 3));
        // four valid values with a gap: S over the valid values only
        let r = mann_kendall(&[1.0, f64::NAN, 2.0, 4.0, 3.0], &MkOptions::default()).unwrap();
        assert_eq!((r.n, r.s), (4, 4)); // + + + | + + | −
    }

    #[test]
    fn bad_series_are_errors_with_clear_messages() {
        let o = MkOptions::default();
        let e = mann_kendall(&[1.0, f64::NAN, 2.0, 3.0], &o).unwrap_err();
        assert_eq!(e, TrendError::TooFewValues { got: 3, min: 4 });
        assert!(e.to_string().contains("at least 4 valid values"), "{e}");
        let e = mann_kendall(&[f64::NAN; 10], &o).unwrap_err();
        assert_eq!(e, TrendError::TooFewValues { got: 0, min: 4 });
        let e = mann_kendall(&[0.5, 0.5, f64::NAN, 0.5, 0.5], &o).unwrap_err();
        assert_eq!(e, TrendError::Constant { value: 0.5, n: 4 });
        assert!(e.to_string().contains("constant"), "{e}");
        assert!(mann_kendall(&[], &o).is_err());
        assert!(sens_slope(&[1.0]).is_err());
        assert_eq!(sens_slope(&[2.0, 2.0, 2.0]).unwrap().slope, 0.0);
        for bad in [MkOptions { alpha: 0.0, ..o }, MkOptions { alpha: f64::NAN, ..o }, MkOptions { min_valid: 3, ..o }, MkOptions { hamed_rao: Some(HamedRaoLag::First(0)), ..o }] {
            assert!(matches!(mann_kendall(&[1.0, 2.0, 3.0, 4.0], &bad), Err(TrendError::InvalidOption { .. })));
        }
        // infinities are missing values, not numbers
        let r = mann_kendall(&[1.0, f64::INFINITY, 2.0, 3.0, 4.0], &o).unwrap();
        assert_eq!(r.n, 4);
    }

    #[test]
    fn hamed_rao_linear_series_is_uncorrected() {
        let x: Vec<f64> = (0..10).map(f64::from).collect();
        let o = MkOptions { hamed_rao: Some(HamedRaoLag::All), ..Default::default() };
        let r = mann_kendall(&x, &o).unwrap();
        let plain = mann_kendall(&x, &MkOptions::default()).unwrap();
        assert_eq!(r.hamed_rao_factor, Some(1.0));
        assert_eq!((r.var_s, r.z, r.p), (plain.var_s, plain.z, plain.p));
    }

    #[test]
    fn hamed_rao_first_lags_and_huge_lag() {
        let x = [0.4, 0.408, 0.4039, 0.3881, 0.3828, 0.3675, 0.3749, 0.4074, 0.4003, 0.3914, 0.4059, 0.4164];
        let all = mann_kendall(&x, &MkOptions { hamed_rao: Some(HamedRaoLag::All), ..Default::default() }).unwrap();
        let many = mann_kendall(&x, &MkOptions { hamed_rao: Some(HamedRaoLag::First(1000)), ..Default::default() }).unwrap();
        assert_eq!(all, many);
        let one = mann_kendall(&x, &MkOptions { hamed_rao: Some(HamedRaoLag::First(1)), ..Default::default() }).unwrap();
        assert_eq!(one.s, all.s);
        assert_eq!(one.var_s_uncorrected, all.var_s_uncorrected);
    }

    #[test]
    fn normal_functions() {
        assert_eq!(erfc(0.0), 1.0);
        assert_eq!(two_sided_p(0.0), 1.0);
        assert!(erfc(f64::NAN).is_nan());
        assert_eq!(erfc(30.0), 0.0);
        assert_eq!(erfc(-30.0), 2.0);
        assert!(close(normal_cdf(1.959_963_984_540_054), 0.975, 1e-15));
        assert!(close(normal_quantile(0.975), 1.959_963_984_540_054, 1e-15));
        assert!(normal_quantile(-0.1).is_nan() && normal_quantile(f64::NAN).is_nan());
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(normal_quantile(0.5), 0.0);
        for p in [1e-12, 0.01, 0.3, 0.7, 0.99] {
            assert!(close(normal_cdf(normal_quantile(p)), p, 1e-13), "{p}");
        }
    }

    #[test]
    fn bh_hand_computed() {
        // p = 0.01, 0.04, 0.03, NaN, m = 3: sorted 0.01, 0.03, 0.04 → raw 0.03, 0.045, 0.04 →
        // running minimum from the top: 0.03, 0.04, 0.04
        let q = benjamini_hochberg(&[0.01, 0.04, 0.03, f64::NAN]).unwrap();
        assert!(close(q[0], 0.03, 1e-15) && close(q[1], 0.04, 1e-15) && close(q[2], 0.04, 1e-15) && q[3].is_nan(), "{q:?}");
        assert!(benjamini_hochberg(&[]).unwrap().is_empty());
        assert_eq!(benjamini_hochberg(&[0.1, 1.5]).unwrap_err(), TrendError::InvalidPValue { index: 1, value: 1.5 });
        assert!(benjamini_hochberg(&[-0.0001]).is_err());
    }

    fn stack_case() -> Vec<Vec<f32>> {
        // pixel 0 rising, 1 falling, 2 no data, 3 constant, 4 three values, 5 noise
        let series: [[f32; 6]; 6] = [
            [0.1, 0.2, 0.3, 0.35, 0.5, 0.6],
            [0.9, 0.7, 0.8, 0.6, 0.5, 0.4],
            [f32::NAN; 6],
            [0.5, 0.5, f32::NAN, 0.5, 0.5, 0.5],
            [0.1, f32::NAN, 0.2, f32::NAN, f32::NAN, 0.3],
            [0.5, 0.4, 0.6, 0.45, 0.55, 0.5],
        ];
        (0..6).map(|t| series.iter().map(|s| s[t]).collect()).collect()
    }

    #[test]
    fn stack_counts_and_classes() {
        let layers = stack_case();
        let refs: Vec<&[f32]> = layers.iter().map(Vec::as_slice).collect();
        let r = trend_stack(&refs, &StackOptions { significance: Significance::Raw, ..Default::default() }).unwrap();
        let s = r.summary;
        assert_eq!((s.pixels, s.tested, s.no_data, s.constant, s.insufficient, s.degenerate), (6, 3, 1, 1, 1, 0));
        assert_eq!(s.tested + s.not_tested(), s.pixels);
        assert_eq!(s.improvement + s.degradation + s.not_significant, s.tested);
        assert_eq!(r.n_valid, vec![6, 6, 0, 5, 3, 6]);
        assert_eq!(r.class[2..5], [CLASS_NOT_TESTED; 3]);
        assert_eq!(r.class[5], CLASS_NOT_SIGNIFICANT);
        assert_eq!(r.class[0], CLASS_IMPROVEMENT, "{:?}", r.p);
        assert_eq!(r.class[1], CLASS_DEGRADATION, "{:?}", r.p);
        for k in 2..5 {
            assert!(r.slope[k].is_nan() && r.p[k].is_nan() && r.q[k].is_nan() && r.z[k].is_nan() && r.tau[k].is_nan());
        }
        // each pixel equals the series API on its values
        for k in [0usize, 1, 5] {
            let x: Vec<f64> = layers.iter().map(|l| f64::from(l[k])).collect();
            let m = mann_kendall(&x, &MkOptions::default()).unwrap();
            assert_eq!((r.slope[k], r.p[k], r.z[k], r.tau[k]), (m.slope, m.p, m.z, m.tau));
        }
    }

    #[test]
    fn stack_errors() {
        let layers = stack_case();
        let refs: Vec<&[f32]> = layers.iter().map(Vec::as_slice).collect();
        let o = StackOptions::default();
        assert_eq!(trend_stack(&refs[..3], &o).unwrap_err(), TrendError::TooFewLayers { got: 3, min: 4 });
        let short = [0.1f32; 5];
        let mut bad = refs.clone();
        bad[4] = &short;
        assert_eq!(trend_stack(&bad, &o).unwrap_err(), TrendError::LayerLength { layer: 4, got: 5, expected: 6 });
        let nodata: Vec<Vec<f32>> = layers.iter().map(|l| vec![l[2], l[3], l[4]]).collect();
        let nd: Vec<&[f32]> = nodata.iter().map(Vec::as_slice).collect();
        let e = trend_stack(&nd, &o).unwrap_err();
        assert!(matches!(e, TrendError::NoTestablePixels { pixels: 3, no_data: 1, insufficient: 1, constant: 1, degenerate: 0, min: 4 }), "{e}");
        assert!(e.to_string().starts_with("no pixel could be tested"), "{e}");
        assert!(trend_stack(&refs, &StackOptions { significance: Significance::Fdr { q: 1.0 }, ..o }).is_err());
        let empty: Vec<&[f32]> = vec![&[]; 5];
        assert!(matches!(trend_stack(&empty, &o), Err(TrendError::NoTestablePixels { pixels: 0, .. })));
    }

    #[test]
    fn stack_is_thread_count_invariant() {
        // 3 chunks and a bit, with ties, gaps and some trendless pixels
        let npix = 3 * CHUNK + 77;
        let t_n = 12;
        let mut state = 12345u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            state >> 33
        };
        let layers: Vec<Vec<f32>> = {
            let mut l = vec![vec![0f32; npix]; t_n];
            for k in 0..npix {
                let drift = (next() % 5) as f32 - 2.0;
                for (t, layer) in l.iter_mut().enumerate() {
                    let u = next();
                    layer[k] = if u % 11 == 0 { f32::NAN } else { ((drift * t as f32) + (u % 17) as f32) / 64.0 };
                }
            }
            l
        };
        let refs: Vec<&[f32]> = layers.iter().map(Vec::as_slice).collect();
        let o = StackOptions { mk: MkOptions { hamed_rao: Some(HamedRaoLag::All), ..Default::default() }, ..Default::default() };
        let run = |threads: usize| rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| trend_stack(&refs, &o).unwrap());
        let a = run(1);
        for threads in [2, 3, 7] {
            let b = run(threads);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a.slope), bits(&b.slope));
            assert_eq!(bits(&a.p), bits(&b.p));
            assert_eq!(bits(&a.q), bits(&b.q));
            assert_eq!(bits(&a.z), bits(&b.z));
            assert_eq!(bits(&a.tau), bits(&b.tau));
            assert_eq!(a.class, b.class);
            assert_eq!(a.n_valid, b.n_valid);
            assert_eq!(a.summary, b.summary);
        }
        assert!(a.summary.tested > 0 && a.summary.improvement > 0 && a.summary.degradation > 0);
    }
}
