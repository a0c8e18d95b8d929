//! The RSEI model (METHOD §4): normalisation, covariance PCA, PC1 orientation, RSEI, grades.
//!
//! Indicators are always given in the order of [`Indicator::ALL`]: **NDVI, WET, NDBSI, LST**.
//! A pixel *enters* the model only where the caller's mask says it is usable (valid QA, not water)
//! **and** all four indicators are finite.
//!
//! ## Passes (all mergeable, row by row)
//! ```text
//! min–max (default)      pass 1: RseiStats (min, max, co-moments of raw values) ──fit──▶ RseiModel
//! percentile (option)    pass 1: RseiStats ─▶ pass 2: IndicatorHistograms ─▶ bounds
//!                        ─▶ pass 3: NormalisedStats (co-moments of clipped NI) ──fit──▶ RseiModel
//! then                   RSEI0 pass (model.rsei0) + MinMax of RSEI0 ─▶ rescale ─▶ GradeTable
//! ```
//! Min–max normalisation `NI = (I − Imin)/(Imax − Imin)` is linear, so the covariance of the
//! normalised indicators is `cov(Ii, Ij)/(rangeᵢ·rangeⱼ)` and one pass is enough. Co-moments are
//! accumulated per grid row (one pass, shifted by the row's first entering pixel, summed in fixed
//! SIMD lanes) and rows are merged in row order (Chan et al.), so the statistics are bit-identical
//! whatever the strip height or thread count.
//!
//! ## Fit
//! Covariance is the **sample** covariance (divide by n − 1) of the normalised indicators over the
//! entering pixels; eigenvalues come from a cyclic Jacobi eigen-decomposition (deterministic),
//! sorted descending, eigenvectors of unit length. PC1 is oriented so that
//! loading(NDVI) + loading(WET) > 0, flipping the **whole** vector (recorded in
//! [`RseiModel::flipped`]). `RSEI0 = PC1 · (NI − mean(NI))`, `RSEI = (RSEI0 − min)/(max − min)`.
//!
//! ```
//! use rsei_core::model::{compute_rsei, RseiOptions};
//! // NDVI, WET rise together, NDBSI falls, LST is independent (hand-worked in the tests: PC1 = (1, 1, −1, 0)/√3)
//! let ndvi = [0.0f32, 1.0, 0.0, 1.0];
//! let wet = [0.0f32, 1.0, 0.0, 1.0];
//! let ndbsi = [1.0f32, 0.0, 1.0, 0.0];
//! let lst = [0.0f32, 0.0, 1.0, 1.0];
//! let out = compute_rsei([&ndvi, &wet, &ndbsi, &lst], None, 2, 2, &RseiOptions::default()).unwrap();
//! assert!((out.model.pc1_contribution - 0.75).abs() < 1e-12);
//! assert_eq!(out.rsei, vec![0.0, 1.0, 0.0, 1.0]);
//! ```

// 4×4 matrix code indexes by (i, j) on purpose; `!(a > b)` comparisons are NaN-aware on purpose.
#![allow(clippy::needless_range_loop, clippy::neg_cmp_op_on_partial_ord)]

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::accum::{Accumulator, MinMax};
use crate::error::{CoreError, Result};

/// The four RSEI indicators, in the order used everywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Indicator {
    /// Greenness.
    Ndvi = 0,
    /// Wetness.
    Wet = 1,
    /// Dryness.
    Ndbsi = 2,
    /// Heat (°C).
    Lst = 3,
}

impl Indicator {
    /// NDVI, WET, NDBSI, LST.
    pub const ALL: [Indicator; 4] = [Indicator::Ndvi, Indicator::Wet, Indicator::Ndbsi, Indicator::Lst];
    /// The indicator's name as printed in tables.
    pub const fn name(self) -> &'static str {
        INDICATOR_NAMES[self as usize]
    }
}

/// The four indicator rasters of one area, in [`Indicator::ALL`] order (NDVI, WET, NDBSI, LST),
/// as equally long row-major slices — the input of every pass in this module.
pub type IndicatorSet<'a> = [&'a [f32]; 4];

/// Names of the indicators in [`Indicator::ALL`] order.
pub const INDICATOR_NAMES: [&str; 4] = ["NDVI", "WET", "NDBSI", "LST"];

/// Count, means and co-moment matrix `Σ (xᵢ − x̄ᵢ)(xⱼ − x̄ⱼ)` of four variables; mergeable (Chan et al.).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CoMoments4 {
    /// Number of observations.
    pub n: u64,
    /// Means.
    pub mean: [f64; 4],
    /// Co-moments (symmetric).
    pub c: [[f64; 4]; 4],
}

impl CoMoments4 {
    /// Sample covariance (divide by n − 1); `None` for n < 2.
    pub fn covariance_sample(&self) -> Option<[[f64; 4]; 4]> {
        (self.n >= 2).then(|| {
            let d = (self.n - 1) as f64;
            let mut m = self.c;
            for row in &mut m {
                for v in row.iter_mut() {
                    *v /= d;
                }
            }
            m
        })
    }
}

impl Accumulator for CoMoments4 {
    type Output = CoMoments4;
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
        let mut d = [0f64; 4];
        for k in 0..4 {
            d[k] = o.mean[k] - self.mean[k];
        }
        let f = na * nb / n;
        for i in 0..4 {
            for j in 0..4 {
                self.c[i][j] += o.c[i][j] + d[i] * d[j] * f;
            }
        }
        for k in 0..4 {
            self.mean[k] += d[k] * nb / n;
        }
        self.n += o.n;
    }
    fn finish(&self) -> Self::Output {
        *self
    }
}

fn check_len(what: &str, expected: usize, got: usize) -> Result<()> {
    if expected != got {
        return Err(CoreError::InvalidOption { name: what.into(), reason: format!("has {got} values, expected {expected}") });
    }
    Ok(())
}

fn check_inputs(ind: &[&[f32]; 4], usable: Option<&[bool]>, cols: usize) -> Result<usize> {
    let n = ind[0].len();
    for (k, v) in ind.iter().enumerate() {
        check_len(INDICATOR_NAMES[k], n, v.len())?;
    }
    if let Some(m) = usable {
        check_len("pixel mask", n, m.len())?;
    }
    if cols == 0 && n > 0 || cols > 0 && n % cols != 0 {
        return Err(CoreError::InvalidOption { name: "cols".into(), reason: format!("{n} values are not whole rows of {cols} columns") });
    }
    Ok(n)
}

/// Per-pixel transform applied before the co-moments: identity (raw values) or clipped normalisation.
#[derive(Clone, Copy)]
struct Transform {
    lo: [f32; 4],
    inv: [f32; 4],
}

impl Transform {
    const IDENTITY: Transform = Transform { lo: [0.0; 4], inv: [1.0; 4] };
    #[inline(always)]
    fn apply<const NORM: bool>(&self, k: usize, x: f32) -> f32 {
        if NORM {
            ((x - self.lo[k]) * self.inv[k]).clamp(0.0, 1.0)
        } else {
            x
        }
    }
}

/// Number of independent accumulator lanes in the row kernels. Lane `j` takes the pixels
/// `i ≡ j (mod LANES)` (counted from the row kernel's start) and lanes are summed in lane order at
/// the end of the row: a fixed order (deterministic) that lets the compiler use SIMD registers.
const LANES: usize = 4;

/// Pixels per block of the co-moment kernel (a multiple of [`LANES`]); the shifted values of one
/// block (4 × BLOCK f64 = 8 KiB) stay in L1 while the ten products are summed.
const BLOCK: usize = 256;

/// Min, max and co-moments of one row.
type RowPartial = ([f64; 4], [f64; 4], CoMoments4);

/// `acc[j] += Σ a[i]·b[i]` over the pixels of lane `j`.
#[inline(always)]
fn lane_dot(a: &[f64; BLOCK], b: &[f64; BLOCK], acc: &mut [f64; LANES]) {
    for (a4, b4) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        for j in 0..LANES {
            acc[j] += a4[j] * b4[j];
        }
    }
}

/// `acc[j] += Σ a[i]` over the pixels of lane `j`.
#[inline(always)]
fn lane_sum(a: &[f64; BLOCK], acc: &mut [f64; LANES]) {
    for a4 in a.chunks_exact(LANES) {
        for j in 0..LANES {
            acc[j] += a4[j];
        }
    }
}

/// Lane-wise min and max of `d`. Excluded pixels hold `d = 0`, which never changes the result:
/// the shift K is the value of an included pixel, so min(d) ≤ 0 ≤ max(d) over the included ones.
#[inline(always)]
fn lane_min_max(d: &[f64; BLOCK], lo: &mut [f64; LANES], hi: &mut [f64; LANES]) {
    for d4 in d.chunks_exact(LANES) {
        for j in 0..LANES {
            lo[j] = if d4[j] < lo[j] { d4[j] } else { lo[j] };
            hi[j] = if d4[j] > hi[j] { d4[j] } else { hi[j] };
        }
    }
}

/// Min/max and co-moments of one row in one pass over its values, by the shifted-data algorithm:
/// with K the (transformed) values of the row's first entering pixel and `d = x − K` (exact in f64),
/// `mean = K + Σd/n` and `C = Σ dᵢdⱼ − Σdᵢ Σdⱼ / n`. The row is processed in blocks of [`BLOCK`]
/// pixels whose shifted values are then summed lane by lane. The result depends only on the row.
#[inline(always)]
fn row_partial<const NORM: bool>(ind: [&[f32]; 4], usable: Option<&[bool]>, t: Transform) -> RowPartial {
    const ALL: [bool; BLOCK] = [true; BLOCK];
    let n = ind[0].len();
    let (a, b, c, e) = (&ind[0][..n], &ind[1][..n], &ind[2][..n], &ind[3][..n]);
    let finite = |i: usize| -> bool { a[i].is_finite() & b[i].is_finite() & c[i].is_finite() & e[i].is_finite() };
    let first = match usable {
        Some(m) => {
            let m = &m[..n];
            (0..n).find(|&i| m[i] && finite(i))
        }
        None => (0..n).find(|&i| finite(i)),
    };
    let Some(first) = first else { return ([f64::INFINITY; 4], [f64::NEG_INFINITY; 4], CoMoments4::default()) };
    let k: [f64; 4] = [t.apply::<NORM>(0, a[first]), t.apply::<NORM>(1, b[first]), t.apply::<NORM>(2, c[first]), t.apply::<NORM>(3, e[first])].map(f64::from);
    let mut cnt = 0u64;
    let mut s = [[0f64; LANES]; 4];
    let mut q = [[0f64; LANES]; 10];
    let mut lo = [[f64::INFINITY; LANES]; 4];
    let mut hi = [[f64::NEG_INFINITY; LANES]; 4];
    let mut d = [[0f64; BLOCK]; 4];
    let mut pos = first - first % LANES;
    while pos < n {
        let len = BLOCK.min(n - pos);
        let m: &[bool] = match usable {
            Some(m) => &m[pos..pos + len],
            None => &ALL[..len],
        };
        let x = [&a[pos..pos + len], &b[pos..pos + len], &c[pos..pos + len], &e[pos..pos + len]];
        for i in 0..len {
            let v = [x[0][i], x[1][i], x[2][i], x[3][i]];
            let ok = m[i] & v[0].is_finite() & v[1].is_finite() & v[2].is_finite() & v[3].is_finite();
            cnt += u64::from(ok);
            for w in 0..4 {
                // excluded pixels contribute exact zeros
                d[w][i] = if ok { f64::from(t.apply::<NORM>(w, v[w])) - k[w] } else { 0.0 };
            }
        }
        if len < BLOCK {
            for dw in d.iter_mut() {
                dw[len..].fill(0.0);
            }
        }
        let mut idx = 0;
        for v in 0..4 {
            lane_sum(&d[v], &mut s[v]);
            lane_min_max(&d[v], &mut lo[v], &mut hi[v]);
            for w in v..4 {
                lane_dot(&d[v], &d[w], &mut q[idx]);
                idx += 1;
            }
        }
        pos += len;
    }
    let nf = cnt as f64;
    let sum = |l: &[f64; LANES]| l.iter().fold(0.0, |acc, v| acc + v);
    let s: [f64; 4] = std::array::from_fn(|v| sum(&s[v]));
    let mut mo = CoMoments4 { n: cnt, ..Default::default() };
    let mut idx = 0;
    for i in 0..4 {
        for j in i..4 {
            let cij = sum(&q[idx]) - s[i] * s[j] / nf;
            mo.c[i][j] = cij;
            mo.c[j][i] = cij;
            idx += 1;
        }
    }
    for v in 0..4 {
        mo.mean[v] = k[v] + s[v] / nf;
    }
    // x = K + d exactly (d was exact), so min/max are the f32 values themselves
    let mn = std::array::from_fn(|v| k[v] + lo[v].iter().fold(f64::INFINITY, |x, &y| x.min(y)));
    let mx = std::array::from_fn(|v| k[v] + hi[v].iter().fold(f64::NEG_INFINITY, |x, &y| x.max(y)));
    (mn, mx, mo)
}

/// Row partials of a block of whole rows, computed in parallel and returned in row order.
fn row_partials<const NORM: bool>(ind: [&[f32]; 4], usable: Option<&[bool]>, cols: usize, t: Transform) -> Vec<([f64; 4], [f64; 4], CoMoments4)> {
    let n = ind[0].len();
    if n == 0 || cols == 0 {
        return Vec::new();
    }
    (0..n / cols)
        .into_par_iter()
        .map(|r| {
            let s = r * cols..(r + 1) * cols;
            row_partial::<NORM>([&ind[0][s.clone()], &ind[1][s.clone()], &ind[2][s.clone()], &ind[3][s.clone()]], usable.map(|m| &m[s.clone()]), t)
        })
        .collect()
}

/// Pass 1: per-indicator min/max and the co-moments of the raw indicator values over the entering
/// pixels. Mergeable; [`RseiStats::update_rows`] folds one partial per grid row in row order.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RseiStats {
    /// Smallest value of each indicator (+∞ when empty).
    pub min: [f64; 4],
    /// Largest value of each indicator (−∞ when empty).
    pub max: [f64; 4],
    /// Count, means and co-moments of the raw values.
    pub moments: CoMoments4,
}

impl Default for RseiStats {
    fn default() -> Self {
        Self { min: [f64::INFINITY; 4], max: [f64::NEG_INFINITY; 4], moments: CoMoments4::default() }
    }
}

impl RseiStats {
    /// Statistics of one row (or any run of pixels, taken as one block).
    pub fn from_row(ind: [&[f32]; 4], usable: Option<&[bool]>) -> Result<Self> {
        check_inputs(&ind, usable, ind[0].len().max(1))?;
        let (min, max, moments) = row_partial::<false>(ind, usable, Transform::IDENTITY);
        Ok(Self { min, max, moments })
    }

    /// Adds a strip of whole rows of `cols` cells: one partial per row (computed in parallel), merged
    /// into `self` in row order. Feeding a raster strip by strip, with any strip heights, gives
    /// bit-identical statistics.
    pub fn update_rows(&mut self, ind: [&[f32]; 4], usable: Option<&[bool]>, cols: usize) -> Result<()> {
        check_inputs(&ind, usable, cols)?;
        for (min, max, moments) in row_partials::<false>(ind, usable, cols, Transform::IDENTITY) {
            self.merge(&RseiStats { min, max, moments });
        }
        Ok(())
    }

    /// Number of entering pixels.
    pub fn count(&self) -> u64 {
        self.moments.n
    }
}

impl Accumulator for RseiStats {
    type Output = RseiStats;
    fn merge(&mut self, o: &Self) {
        for k in 0..4 {
            self.min[k] = self.min[k].min(o.min[k]);
            self.max[k] = self.max[k].max(o.max[k]);
        }
        self.moments.merge(&o.moments);
    }
    fn finish(&self) -> Self::Output {
        *self
    }
}

/// Normalisation bounds of one indicator: `NI = (I − lo)/(hi − lo)`, clipped to [0, 1] when `clipped`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NormBounds {
    /// Value mapped to 0.
    pub lo: f64,
    /// Value mapped to 1.
    pub hi: f64,
    /// Resolution of the bounds (histogram bin width for percentile bounds; 0 = exact min/max).
    pub resolution: f64,
    /// Whether normalised values are clipped to [0, 1] (percentile bounds).
    pub clipped: bool,
}

/// Pass 2 of percentile normalisation: a fine fixed-bin histogram of each indicator between its
/// min and max (from pass 1). Counts are integers, so merging is exact in any order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IndicatorHistograms {
    /// Lower edge per indicator.
    pub lo: [f64; 4],
    /// Upper edge per indicator.
    pub hi: [f64; 4],
    /// Bins per indicator.
    pub bins: usize,
    /// Counts, `4 × bins`, indicator-major.
    pub counts: Vec<u64>,
    /// Entering pixels counted.
    pub n: u64,
}

impl IndicatorHistograms {
    /// Empty histograms spanning the min..max of each indicator in `stats`, `bins` bins each.
    pub fn new(stats: &RseiStats, bins: usize) -> Result<Self> {
        if !(2..=1 << 24).contains(&bins) {
            return Err(CoreError::InvalidOption { name: "histogram_bins".into(), reason: format!("{bins} is outside 2..=16777216") });
        }
        check_fittable(stats)?;
        Ok(Self { lo: stats.min, hi: stats.max, bins, counts: vec![0; 4 * bins], n: 0 })
    }

    /// Adds a strip of pixels (same entering rule as [`RseiStats`]). Values outside lo..hi (which
    /// cannot happen with the pass-1 bounds) go to the end bins.
    pub fn update(&mut self, ind: [&[f32]; 4], usable: Option<&[bool]>) -> Result<()> {
        let n = check_inputs(&ind, usable, ind[0].len().max(1))?;
        if self.bins == 0 {
            return Err(CoreError::InvalidOption { name: "histogram".into(), reason: "not initialised (use IndicatorHistograms::new)".into() });
        }
        let chunk = 1 << 16;
        let bins = self.bins;
        let (lo, hi) = (self.lo, self.hi);
        let parts: Vec<(u64, Vec<u64>)> = (0..n.div_ceil(chunk))
            .into_par_iter()
            .map(|c| {
                let s = c * chunk..((c + 1) * chunk).min(n);
                let mut counts = vec![0u64; 4 * bins];
                let mut cnt = 0u64;
                let scale: [f64; 4] = std::array::from_fn(|k| bins as f64 / (hi[k] - lo[k]));
                for i in s {
                    if usable.is_some_and(|m| !m[i]) || !ind.iter().all(|v| v[i].is_finite()) {
                        continue;
                    }
                    cnt += 1;
                    for k in 0..4 {
                        let b = ((f64::from(ind[k][i]) - lo[k]) * scale[k]).floor();
                        let b = if b < 0.0 { 0 } else { (b as usize).min(bins - 1) };
                        counts[k * bins + b] += 1;
                    }
                }
                (cnt, counts)
            })
            .collect();
        for (cnt, counts) in parts {
            self.n += cnt;
            for (a, b) in self.counts.iter_mut().zip(counts) {
                *a += b;
            }
        }
        Ok(())
    }

    /// Percentile bounds (percentages, e.g. 1 and 99). For the lower percentile p the bound is the
    /// *lower* edge of the bin holding the value of rank ⌈p·n/100⌉ (at least 1); for the upper one
    /// the *upper* edge of the bin holding rank ⌈p·n/100⌉. The true percentile therefore lies within
    /// one bin width (`resolution`) inside the bound, and the clipping range never cuts more than asked.
    pub fn percentile_bounds(&self, lo_pct: f64, hi_pct: f64) -> Result<[NormBounds; 4]> {
        check_percentiles(lo_pct, hi_pct)?;
        if self.n == 0 {
            return Err(CoreError::NoValidPixels("the percentile histogram holds no pixel".into()));
        }
        let rank = |p: f64| -> u64 { ((p / 100.0 * self.n as f64).ceil() as u64).clamp(1, self.n) };
        let (rl, rh) = (rank(lo_pct), rank(hi_pct));
        let mut out = [NormBounds { lo: 0.0, hi: 1.0, resolution: 0.0, clipped: true }; 4];
        for (k, o) in out.iter_mut().enumerate() {
            let h = &self.counts[k * self.bins..(k + 1) * self.bins];
            let w = (self.hi[k] - self.lo[k]) / self.bins as f64;
            let find = |r: u64| -> usize {
                let mut cum = 0u64;
                for (b, &c) in h.iter().enumerate() {
                    cum += c;
                    if cum >= r {
                        return b;
                    }
                }
                self.bins - 1
            };
            let (bl, bh) = (find(rl), find(rh));
            let lo = self.lo[k] + bl as f64 * w;
            let hi = if bh + 1 == self.bins { self.hi[k] } else { self.lo[k] + (bh + 1) as f64 * w };
            *o = NormBounds { lo, hi, resolution: w, clipped: true };
        }
        Ok(out)
    }
}

impl Accumulator for IndicatorHistograms {
    type Output = IndicatorHistograms;
    /// Adds counts; an empty (default) side adopts the other's bins. Merging histograms with
    /// different bins is a programming error and panics.
    fn merge(&mut self, o: &Self) {
        if o.bins == 0 {
            return;
        }
        if self.bins == 0 {
            *self = o.clone();
            return;
        }
        assert!(self.bins == o.bins && self.lo == o.lo && self.hi == o.hi, "merging indicator histograms with different bins");
        for (a, b) in self.counts.iter_mut().zip(&o.counts) {
            *a += b;
        }
        self.n += o.n;
    }
    fn finish(&self) -> Self::Output {
        self.clone()
    }
}

/// Pass 3 of percentile normalisation: co-moments of the clipped normalised indicators, with
/// fixed bounds. Mergeable like [`RseiStats`] (one partial per row, merged in row order).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NormalisedStats {
    /// The bounds the values were normalised with.
    pub bounds: [NormBounds; 4],
    /// Co-moments of the normalised values.
    pub moments: CoMoments4,
}

impl NormalisedStats {
    /// Empty statistics for the given bounds.
    pub fn new(bounds: [NormBounds; 4]) -> Self {
        Self { bounds, moments: CoMoments4::default() }
    }
    fn transform(&self) -> Transform {
        Transform { lo: self.bounds.map(|b| b.lo as f32), inv: self.bounds.map(|b| (1.0 / (b.hi - b.lo)) as f32) }
    }
    /// Adds a strip of whole rows of `cols` cells (row partials merged in row order).
    pub fn update_rows(&mut self, ind: [&[f32]; 4], usable: Option<&[bool]>, cols: usize) -> Result<()> {
        check_inputs(&ind, usable, cols)?;
        for (_, _, m) in row_partials::<true>(ind, usable, cols, self.transform()) {
            self.moments.merge(&m);
        }
        Ok(())
    }
    /// Merges another partial with the same bounds.
    pub fn merge(&mut self, o: &Self) {
        self.moments.merge(&o.moments);
    }
}

/// How indicators are normalised before the PCA.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalisation {
    /// `(I − min)/(max − min)` over the entering pixels (METHOD default, paper Eq. 1).
    #[default]
    MinMax,
    /// Clip to the `lo`-th and `hi`-th percentiles (in %, e.g. 1 and 99), then scale to [0, 1].
    Percentile {
        /// Lower percentile (%).
        lo: f64,
        /// Upper percentile (%).
        hi: f64,
    },
    /// Fixed bounds `[lo, hi]` per indicator, the same for every area and year (values outside are
    /// clipped to [0, 1] after scaling): normalised indicators on one scale across years and areas
    /// (e.g. NDVI `[-0.2, 1]`, LST `[0, 50]` °C). Fitted with the normalised-covariance pass.
    Fixed {
        /// NDVI `[lo, hi]`.
        ndvi: [f64; 2],
        /// WET `[lo, hi]`.
        wet: [f64; 2],
        /// NDBSI `[lo, hi]`.
        ndbsi: [f64; 2],
        /// LST `[lo, hi]` (°C).
        lst: [f64; 2],
    },
}

impl Normalisation {
    /// The bounds of [`Normalisation::Fixed`] as [`NormBounds`] (clipped, exact), `None` for the
    /// other normalisations. Errors: a bound that is not finite, or `lo ≥ hi`, naming the indicator.
    pub fn fixed_bounds(&self) -> Result<Option<[NormBounds; 4]>> {
        let Normalisation::Fixed { ndvi, wet, ndbsi, lst } = *self else { return Ok(None) };
        let all = [ndvi, wet, ndbsi, lst];
        for (k, b) in all.iter().enumerate() {
            if !(b[0].is_finite() && b[1].is_finite() && b[0] < b[1]) {
                return Err(CoreError::InvalidOption {
                    name: format!("normalisation.fixed.{}", INDICATOR_NAMES[k].to_ascii_lowercase()),
                    reason: format!("bounds [{}, {}] must be finite with lo < hi", b[0], b[1]),
                });
            }
        }
        Ok(Some(all.map(|b| NormBounds { lo: b[0], hi: b[1], resolution: 0.0, clipped: true })))
    }

    /// Checks the parameters (percentiles in order, fixed bounds finite and increasing).
    pub fn validate(&self) -> Result<()> {
        match *self {
            Normalisation::MinMax => Ok(()),
            Normalisation::Percentile { lo, hi } => check_percentiles(lo, hi),
            Normalisation::Fixed { .. } => self.fixed_bounds().map(|_| ()),
        }
    }

    /// Whether the fit needs the normalised-covariance pass ([`NormalisedStats`]).
    pub fn needs_normalised_pass(&self) -> bool {
        !matches!(self, Normalisation::MinMax)
    }
}

/// Options of the RSEI model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RseiOptions {
    /// Normalisation (default min–max).
    pub normalisation: Normalisation,
    /// One PCA over all years (true) or one per year (false, default, the paper's choice). The
    /// pipeline implements pooling by merging every year's statistics before [`fit`]; the flag is
    /// recorded in the model.
    pub pooled: bool,
    /// Bins per indicator of the percentile histogram (default 65536).
    pub histogram_bins: usize,
}

impl Default for RseiOptions {
    fn default() -> Self {
        Self { normalisation: Normalisation::MinMax, pooled: false, histogram_bins: 1 << 16 }
    }
}

fn check_percentiles(lo: f64, hi: f64) -> Result<()> {
    if !(lo >= 0.0 && hi <= 100.0 && lo < hi) {
        return Err(CoreError::InvalidOption { name: "normalisation.percentile".into(), reason: format!("need 0 ≤ lo < hi ≤ 100, got lo = {lo}, hi = {hi}") });
    }
    Ok(())
}

fn check_fittable(stats: &RseiStats) -> Result<()> {
    let n = stats.count();
    if n == 0 {
        return Err(CoreError::NoValidPixels("no pixel has all four indicators (NDVI, WET, NDBSI, LST) valid outside water".into()));
    }
    for k in 0..4 {
        if stats.min[k] >= stats.max[k] {
            return Err(CoreError::ConstantIndicator { name: INDICATOR_NAMES[k].into(), value: stats.min[k], n });
        }
    }
    Ok(())
}

/// A fitted RSEI model: normalisation bounds, PCA and the oriented PC1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RseiModel {
    /// The normalisation used.
    pub normalisation: Normalisation,
    /// Whether the model was fitted on pooled statistics of several years.
    pub pooled: bool,
    /// Normalisation bounds per indicator (NDVI, WET, NDBSI, LST).
    pub bounds: [NormBounds; 4],
    /// Number of pixels the model was fitted on.
    pub n_pixels: u64,
    /// Means of the normalised indicators.
    pub means: [f64; 4],
    /// Sample covariance matrix of the normalised indicators.
    pub covariance: [[f64; 4]; 4],
    /// Eigenvalues, descending.
    pub eigenvalues: [f64; 4],
    /// Unit eigenvectors, `eigenvectors[k]` belongs to `eigenvalues[k]` (PC1 oriented; the others
    /// with their largest component positive).
    pub eigenvectors: [[f64; 4]; 4],
    /// PC1 loadings after orientation (= `eigenvectors[0]`).
    pub pc1: [f64; 4],
    /// Whether the whole PC1 vector was flipped to make loading(NDVI) + loading(WET) > 0.
    pub flipped: bool,
    /// λ1 / Σλ.
    pub pc1_contribution: f64,
    /// Warnings (NDBSI or LST loading positively, tied eigenvalues, undetermined orientation).
    pub warnings: Vec<String>,
}

/// Eigen-decomposition of a symmetric 4×4 matrix by cyclic Jacobi rotations. Returns eigenvalues
/// sorted descending and unit eigenvectors (`vecs[k]` for `vals[k]`). Deterministic: a fixed sweep
/// order and stopping rule.
pub fn jacobi_eigen(a: [[f64; 4]; 4]) -> ([f64; 4], [[f64; 4]; 4]) {
    let mut a = a;
    let mut v = [[0f64; 4]; 4];
    for (i, row) in v.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    let scale: f64 = a.iter().flatten().map(|x| x * x).sum::<f64>().sqrt();
    for _sweep in 0..64 {
        let off: f64 = (0..4).flat_map(|i| (0..4).filter(move |&j| j != i).map(move |j| (i, j))).map(|(i, j)| a[i][j] * a[i][j]).sum::<f64>().sqrt();
        if off <= 1e-15 * scale || off == 0.0 {
            break;
        }
        for p in 0..3 {
            for q in p + 1..4 {
                if a[p][q] == 0.0 {
                    continue;
                }
                // rotation angle that zeroes a[p][q] (Numerical Recipes / Golub & Van Loan)
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..4 {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..4 {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vp, vq) = (row[p], row[q]);
                    row[p] = c * vp - s * vq;
                    row[q] = s * vp + c * vq;
                }
            }
        }
    }
    let mut idx = [0usize, 1, 2, 3];
    idx.sort_by(|&i, &j| a[j][j].total_cmp(&a[i][i]));
    let vals = idx.map(|i| a[i][i]);
    let vecs = idx.map(|i| {
        let col = [v[0][i], v[1][i], v[2][i], v[3][i]];
        let norm = col.iter().map(|x| x * x).sum::<f64>().sqrt();
        col.map(|x| x / norm)
    });
    (vals, vecs)
}

/// Fits the model from pass-1 statistics (min–max) or, for percentile normalisation, from pass-1
/// statistics plus the normalised co-moments of pass 3 ([`NormalisedStats`], bounds from
/// [`IndicatorHistograms::percentile_bounds`]).
///
/// Errors: [`CoreError::NoValidPixels`] when no pixel entered, [`CoreError::ConstantIndicator`] when
/// an indicator (or its clipped normalised values) does not vary, [`CoreError::InvalidOption`] when
/// percentile normalisation is asked without its passes.
pub fn fit(stats: &RseiStats, percentile: Option<&NormalisedStats>, opts: &RseiOptions) -> Result<RseiModel> {
    check_fittable(stats)?;
    let n = stats.count();
    let (bounds, means, cov) = match opts.normalisation {
        Normalisation::MinMax => {
            let range: [f64; 4] = std::array::from_fn(|k| stats.max[k] - stats.min[k]);
            let bounds = std::array::from_fn(|k| NormBounds { lo: stats.min[k], hi: stats.max[k], resolution: 0.0, clipped: false });
            let means = std::array::from_fn(|k| (stats.moments.mean[k] - stats.min[k]) / range[k]);
            let raw = stats.moments.covariance_sample().ok_or_else(|| CoreError::NoValidPixels("fewer than two pixels".into()))?;
            let cov = std::array::from_fn(|i| std::array::from_fn(|j| raw[i][j] / (range[i] * range[j])));
            (bounds, means, cov)
        }
        Normalisation::Percentile { lo, hi } => {
            check_percentiles(lo, hi)?;
            let p = percentile.ok_or_else(|| CoreError::InvalidOption {
                name: "normalisation".into(),
                reason: "percentile normalisation needs the histogram and normalised-covariance passes (NormalisedStats)".into(),
            })?;
            if p.moments.n != n {
                return Err(CoreError::InvalidOption {
                    name: "normalised statistics".into(),
                    reason: format!("cover {} pixels but the min/max pass covers {n}; both passes must see the same pixels", p.moments.n),
                });
            }
            let cov = p.moments.covariance_sample().ok_or_else(|| CoreError::NoValidPixels("fewer than two pixels".into()))?;
            (p.bounds, p.moments.mean, cov)
        }
        Normalisation::Fixed { .. } => {
            let fixed = opts.normalisation.fixed_bounds()?.ok_or_else(|| CoreError::InvalidOption { name: "normalisation".into(), reason: "fixed bounds missing".into() })?;
            let p = percentile.ok_or_else(|| CoreError::InvalidOption {
                name: "normalisation".into(),
                reason: "fixed-bounds normalisation needs the normalised-covariance pass (NormalisedStats with the fixed bounds)".into(),
            })?;
            if p.bounds != fixed {
                return Err(CoreError::InvalidOption { name: "normalised statistics".into(), reason: "were accumulated with other bounds than the fixed ones".into() });
            }
            if p.moments.n != n {
                return Err(CoreError::InvalidOption {
                    name: "normalised statistics".into(),
                    reason: format!("cover {} pixels but the min/max pass covers {n}; both passes must see the same pixels", p.moments.n),
                });
            }
            let cov = p.moments.covariance_sample().ok_or_else(|| CoreError::NoValidPixels("fewer than two pixels".into()))?;
            (fixed, p.moments.mean, cov)
        }
    };
    for k in 0..4 {
        if !(cov[k][k] > 0.0) {
            return Err(CoreError::ConstantIndicator { name: format!("{} (normalised)", INDICATOR_NAMES[k]), value: means[k], n });
        }
    }
    let (eigenvalues, mut vecs) = jacobi_eigen(cov);
    let mut warnings = Vec::new();
    // deterministic signs for PC2..PC4: largest |component| positive
    for v in vecs.iter_mut().skip(1) {
        let big = v.iter().copied().fold(0f64, |m, x| if x.abs() > m.abs() { x } else { m });
        if big < 0.0 {
            *v = v.map(|x| -x);
        }
    }
    let s = vecs[0][0] + vecs[0][1];
    let flipped = s < 0.0;
    if flipped {
        vecs[0] = vecs[0].map(|x| -x);
    }
    if s == 0.0 {
        warnings.push("PC1 orientation is undetermined: loading(NDVI) + loading(WET) = 0".to_string());
    }
    let pc1 = vecs[0];
    for k in [Indicator::Ndbsi, Indicator::Lst] {
        let l = pc1[k as usize];
        if l > 0.0 {
            warnings.push(format!("{} loads positively on PC1 ({l:+.3}): PC1 then does not read as ecological quality", k.name()));
        }
    }
    let total: f64 = eigenvalues.iter().sum();
    if eigenvalues[0] > 0.0 && (eigenvalues[0] - eigenvalues[1]) <= 1e-6 * eigenvalues[0] {
        warnings.push(format!("the two largest eigenvalues are tied ({:.6e} and {:.6e}): PC1 is not well defined", eigenvalues[0], eigenvalues[1]));
    }
    Ok(RseiModel {
        normalisation: opts.normalisation,
        pooled: opts.pooled,
        bounds,
        n_pixels: n,
        means,
        covariance: cov,
        eigenvalues,
        eigenvectors: vecs,
        pc1,
        flipped,
        pc1_contribution: eigenvalues[0] / total,
        warnings,
    })
}

impl RseiModel {
    /// RSEI0 = Σₖ PC1ₖ · (NIₖ − mean(NIₖ)) for every pixel (f32 arithmetic; NI clipped to [0, 1] for
    /// percentile bounds). NaN where the mask excludes the pixel or an indicator is not finite.
    /// Returns the min/max of the values written (mergeable, for [`rescale`]).
    pub fn rsei0(&self, ind: [&[f32]; 4], usable: Option<&[bool]>, out: &mut [f32]) -> Result<MinMax> {
        let n = check_inputs(&ind, usable, ind[0].len().max(1))?;
        check_len("RSEI0 output", n, out.len())?;
        Ok(self.rsei0_kernel(ind, usable, out))
    }

    /// [`RseiModel::rsei0`] in parallel over chunks (per-pixel values: identical at any thread count;
    /// min and max are exact, so their merge order does not matter).
    pub fn rsei0_par(&self, ind: [&[f32]; 4], usable: Option<&[bool]>, out: &mut [f32]) -> Result<MinMax> {
        let n = check_inputs(&ind, usable, ind[0].len().max(1))?;
        check_len("RSEI0 output", n, out.len())?;
        let chunk = 1 << 15;
        let parts: Vec<MinMax> = out
            .par_chunks_mut(chunk)
            .enumerate()
            .map(|(c, o)| {
                let s = c * chunk..c * chunk + o.len();
                self.rsei0_kernel(std::array::from_fn(|k| &ind[k][s.clone()]), usable.map(|m| &m[s.clone()]), o)
            })
            .collect();
        Ok(parts.iter().fold(MinMax::default(), |mut a, b| {
            a.merge(b);
            a
        }))
    }

    fn rsei0_kernel(&self, ind: [&[f32]; 4], usable: Option<&[bool]>, out: &mut [f32]) -> MinMax {
        const ALL: [bool; LANES] = [true; LANES];
        let n = out.len();
        let full = n / LANES * LANES;
        match (usable, self.bounds[0].clipped) {
            (Some(m), false) => self.rsei0_lanes::<false, _>(ind, out, m[..full].chunks_exact(LANES), |i| m[i]),
            (Some(m), true) => self.rsei0_lanes::<true, _>(ind, out, m[..full].chunks_exact(LANES), |i| m[i]),
            (None, false) => self.rsei0_lanes::<false, _>(ind, out, std::iter::repeat(&ALL[..]), |_| true),
            (None, true) => self.rsei0_lanes::<true, _>(ind, out, std::iter::repeat(&ALL[..]), |_| true),
        }
    }

    #[inline(always)]
    fn rsei0_lanes<'a, const CLIP: bool, M: Iterator<Item = &'a [bool]>>(&self, ind: [&[f32]; 4], out: &mut [f32], mask: M, tail_usable: impl Fn(usize) -> bool) -> MinMax {
        let n = out.len();
        let lo = self.bounds.map(|b| b.lo as f32);
        let inv = self.bounds.map(|b| (1.0 / (b.hi - b.lo)) as f32);
        let mean = self.means.map(|m| m as f32);
        let w = self.pc1.map(|m| m as f32);
        let (a, b, c, d) = (&ind[0][..n], &ind[1][..n], &ind[2][..n], &ind[3][..n]);
        let norm = |k: usize, x: f32| -> f32 {
            let t = (x - lo[k]) * inv[k];
            if CLIP {
                t.clamp(0.0, 1.0)
            } else {
                t
            }
        };
        let mut mn = [f32::INFINITY; LANES];
        let mut mx = [f32::NEG_INFINITY; LANES];
        let mut cnt = [0u64; LANES];
        let mut one = |a: f32, b: f32, c: f32, d: f32, u: bool, j: usize| -> f32 {
            let v = w[0] * (norm(0, a) - mean[0]) + w[1] * (norm(1, b) - mean[1]) + w[2] * (norm(2, c) - mean[2]) + w[3] * (norm(3, d) - mean[3]);
            let ok = u & a.is_finite() & b.is_finite() & c.is_finite() & d.is_finite();
            let l = if ok { v } else { f32::INFINITY };
            let h = if ok { v } else { f32::NEG_INFINITY };
            mn[j] = if l < mn[j] { l } else { mn[j] };
            mx[j] = if h > mx[j] { h } else { mx[j] };
            cnt[j] += u64::from(ok);
            if ok {
                v
            } else {
                f32::NAN
            }
        };
        let full = n / LANES * LANES;
        let blocks = out[..full]
            .chunks_exact_mut(LANES)
            .zip(a[..full].chunks_exact(LANES))
            .zip(b[..full].chunks_exact(LANES))
            .zip(c[..full].chunks_exact(LANES))
            .zip(d[..full].chunks_exact(LANES))
            .zip(mask);
        for (((((o4, a4), b4), c4), d4), m4) in blocks {
            for j in 0..LANES {
                o4[j] = one(a4[j], b4[j], c4[j], d4[j], m4[j], j);
            }
        }
        for i in full..n {
            out[i] = one(a[i], b[i], c[i], d[i], tail_usable(i), i % LANES);
        }
        let count: u64 = cnt.iter().sum();
        if count == 0 {
            return MinMax::default();
        }
        MinMax {
            min: f64::from(mn.iter().fold(f32::INFINITY, |x, &y| x.min(y))),
            max: f64::from(mx.iter().fold(f32::NEG_INFINITY, |x, &y| x.max(y))),
            count,
        }
    }

    /// A multi-line human-readable summary (loadings, eigenvalues, contribution, warnings).
    pub fn summary(&self) -> String {
        let mut s = format!("PCA over {} pixels ({}, {})\n", self.n_pixels, if self.pooled { "pooled over years" } else { "one year" }, match self.normalisation {
            Normalisation::MinMax => "min-max normalisation".to_string(),
            Normalisation::Percentile { lo, hi } => format!("percentile normalisation {lo}–{hi} %"),
            Normalisation::Fixed { .. } => "fixed-bounds normalisation".to_string(),
        });
        for k in 0..4 {
            s.push_str(&format!("  PC1 {:<5} {:+.3}\n", INDICATOR_NAMES[k], self.pc1[k]));
        }
        s.push_str(&format!("  eigenvalues {:.4e} {:.4e} {:.4e} {:.4e}; PC1 contribution {:.1} %{}\n", self.eigenvalues[0], self.eigenvalues[1], self.eigenvalues[2], self.eigenvalues[3], 100.0 * self.pc1_contribution, if self.flipped { " (PC1 flipped)" } else { "" }));
        for w in &self.warnings {
            s.push_str(&format!("  warning: {w}\n"));
        }
        s
    }
}

/// Min and max of RSEI0 values (NaN skipped); a mergeable [`MinMax`].
pub fn rsei0_range(rsei0: &[f32]) -> MinMax {
    let mut m = MinMax::default();
    m.update_slice(rsei0);
    m
}

/// RSEI = (RSEI0 − min)/(max − min), written to `out` (NaN stays NaN; results clamped to [0, 1] to
/// absorb rounding). `min`/`max` are those of RSEI0 over the study area (or over all years when pooled).
pub fn rescale(rsei0: &[f32], min: f64, max: f64, out: &mut [f32]) -> Result<()> {
    check_len("RSEI output", rsei0.len(), out.len())?;
    if !(max > min) || !min.is_finite() || !max.is_finite() {
        return Err(CoreError::ConstantIndicator { name: "RSEI0".into(), value: min, n: rsei0.len() as u64 });
    }
    let inv = 1.0 / (max - min);
    for (o, &v) in out.iter_mut().zip(rsei0) {
        *o = ((f64::from(v) - min) * inv).clamp(0.0, 1.0) as f32;
    }
    Ok(())
}

/// [`rescale`] in place.
pub fn rescale_in_place(values: &mut [f32], min: f64, max: f64) -> Result<()> {
    if !(max > min) || !min.is_finite() || !max.is_finite() {
        return Err(CoreError::ConstantIndicator { name: "RSEI0".into(), value: min, n: values.len() as u64 });
    }
    let inv = 1.0 / (max - min);
    for v in values.iter_mut() {
        *v = ((f64::from(*v) - min) * inv).clamp(0.0, 1.0) as f32;
    }
    Ok(())
}

/// [`rescale_in_place`] and [`GradeTable::update_slice`] in one pass over the values.
pub fn rescale_and_grade(values: &mut [f32], min: f64, max: f64) -> Result<GradeTable> {
    if !(max > min) || !min.is_finite() || !max.is_finite() {
        return Err(CoreError::ConstantIndicator { name: "RSEI0".into(), value: min, n: values.len() as u64 });
    }
    let inv = 1.0 / (max - min);
    // four sub-tables (slot 10 = NaN) so consecutive pixels do not wait on the same counter
    let mut counts = [[0u64; 11]; 4];
    for (i, v) in values.iter_mut().enumerate() {
        let r = ((f64::from(*v) - min) * inv).clamp(0.0, 1.0) as f32;
        *v = r;
        let class = CLASS_EDGES.iter().fold(0usize, |acc, &e| acc + usize::from(r >= e));
        counts[i % 4][if r.is_nan() { 10 } else { class }] += 1;
    }
    let mut g = GradeTable::default();
    for k in 0..10 {
        g.classes[k] = counts.iter().map(|c| c[k]).sum();
        g.n += g.classes[k];
    }
    Ok(g)
}

/// Names of the five RSEI grades (0.2 steps).
pub const GRADE_NAMES: [&str; 5] = ["poor", "fair", "moderate", "good", "excellent"];

/// Class thresholds 0.1 … 0.9 as f32 (the type of RSEI rasters): class k holds [k/10, (k+1)/10),
/// class 9 also holds 1.0; grade g = class / 2 (thresholds 0.2, 0.4, 0.6, 0.8).
const CLASS_EDGES: [f32; 9] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/// Mergeable pixel counts of RSEI in five grades and ten classes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradeTable {
    /// Pixels per class [k/10, (k+1)/10) (1.0 in the last one).
    pub classes: [u64; 10],
    /// Pixels counted (NaN skipped).
    pub n: u64,
}

/// One row of a grade or class table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradeRow {
    /// Name (grades) or range label (classes, e.g. `0.3–0.4`).
    pub name: String,
    /// Lower bound (inclusive).
    pub lo: f64,
    /// Upper bound (exclusive, except 1.0 for the top).
    pub hi: f64,
    /// Pixels.
    pub count: u64,
    /// Area (km²) = count × pixel area.
    pub area_km2: f64,
    /// Share of counted pixels (0..1; 0 when nothing was counted).
    pub share: f64,
}

/// The grade and class tables with areas and shares.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradeReport {
    /// Five grades (poor … excellent).
    pub grades: Vec<GradeRow>,
    /// Ten classes of 0.1.
    pub classes: Vec<GradeRow>,
    /// Pixels counted.
    pub n: u64,
    /// Total area (km²).
    pub area_km2: f64,
}

impl GradeTable {
    /// Class (0..=9) of an RSEI value; values below 0 go to class 0, above 1 to class 9; NaN → None.
    #[inline]
    pub fn class_of(v: f32) -> Option<usize> {
        (!v.is_nan()).then(|| CLASS_EDGES.iter().filter(|&&e| v >= e).count())
    }
    /// Grade (0 poor ..= 4 excellent) of an RSEI value; NaN → None.
    #[inline]
    pub fn grade_of(v: f32) -> Option<usize> {
        Self::class_of(v).map(|c| c / 2)
    }
    /// Counts a slice of RSEI values (NaN skipped).
    pub fn update_slice(&mut self, rsei: &[f32]) {
        for &v in rsei {
            if let Some(c) = Self::class_of(v) {
                self.classes[c] += 1;
                self.n += 1;
            }
        }
    }
    /// Pixels per grade.
    pub fn grades(&self) -> [u64; 5] {
        std::array::from_fn(|g| self.classes[2 * g] + self.classes[2 * g + 1])
    }
    /// The tables with areas for a pixel area in km² (e.g. 0.2146587 for MODIS 500 m cells).
    pub fn report(&self, pixel_area_km2: f64) -> GradeReport {
        let share = |c: u64| if self.n == 0 { 0.0 } else { c as f64 / self.n as f64 };
        let grades = self
            .grades()
            .iter()
            .enumerate()
            .map(|(g, &c)| GradeRow { name: GRADE_NAMES[g].into(), lo: g as f64 * 0.2, hi: (g + 1) as f64 * 0.2, count: c, area_km2: c as f64 * pixel_area_km2, share: share(c) })
            .collect();
        let classes = self
            .classes
            .iter()
            .enumerate()
            .map(|(k, &c)| GradeRow { name: format!("{:.1}–{:.1}", k as f64 / 10.0, (k + 1) as f64 / 10.0), lo: k as f64 / 10.0, hi: (k + 1) as f64 / 10.0, count: c, area_km2: c as f64 * pixel_area_km2, share: share(c) })
            .collect();
        GradeReport { grades, classes, n: self.n, area_km2: self.n as f64 * pixel_area_km2 }
    }
}

impl Accumulator for GradeTable {
    type Output = GradeTable;
    fn merge(&mut self, o: &Self) {
        for (a, b) in self.classes.iter_mut().zip(o.classes) {
            *a += b;
        }
        self.n += o.n;
    }
    fn finish(&self) -> Self::Output {
        *self
    }
}

/// Everything [`compute_rsei`] produces.
#[derive(Clone, Debug, PartialEq)]
pub struct RseiOutput {
    /// The fitted model.
    pub model: RseiModel,
    /// RSEI ∈ [0, 1] per pixel, NaN where no value.
    pub rsei: Vec<f32>,
    /// Grade and class counts.
    pub grades: GradeTable,
    /// (min, max) of RSEI0 used for the rescaling.
    pub rsei0_range: (f64, f64),
}

/// The whole RSEI stage for in-memory indicators of a `rows × cols` raster: statistics pass
/// (per-row partials in parallel, merged in row order), [`fit`], RSEI0 pass, rescale, grades.
/// `valid` marks usable pixels (valid QA and not water; `None` = all); a pixel also needs all
/// four indicators finite. Results are bit-identical at any thread count.
pub fn compute_rsei(ind: [&[f32]; 4], valid: Option<&[bool]>, rows: usize, cols: usize, opts: &RseiOptions) -> Result<RseiOutput> {
    let n = check_inputs(&ind, valid, cols)?;
    if n != rows * cols {
        return Err(CoreError::BufferSize { got: n, expected: rows * cols, rows, cols });
    }
    let mut stats = RseiStats::default();
    stats.update_rows(ind, valid, cols)?;
    let percentile = match opts.normalisation {
        Normalisation::MinMax => None,
        Normalisation::Percentile { lo, hi } => {
            check_percentiles(lo, hi)?;
            let mut h = IndicatorHistograms::new(&stats, opts.histogram_bins)?;
            h.update(ind, valid)?;
            let mut ns = NormalisedStats::new(h.percentile_bounds(lo, hi)?);
            ns.update_rows(ind, valid, cols)?;
            Some(ns)
        }
        Normalisation::Fixed { .. } => match opts.normalisation.fixed_bounds()? {
            Some(b) => {
                let mut ns = NormalisedStats::new(b);
                ns.update_rows(ind, valid, cols)?;
                Some(ns)
            }
            None => None,
        },
    };
    let model = fit(&stats, percentile.as_ref(), opts)?;
    let mut rsei = vec![0f32; n];
    let range = model.rsei0_par(ind, valid, &mut rsei)?;
    let (lo, hi) = range.range().ok_or_else(|| CoreError::NoValidPixels("RSEI0 has no finite value".into()))?;
    let parts = rsei.par_chunks_mut(1 << 15).map(|c| rescale_and_grade(c, lo, hi)).collect::<Result<Vec<_>>>()?;
    let grades = parts.iter().fold(GradeTable::default(), |mut a, b| {
        a.merge(b);
        a
    });
    Ok(RseiOutput { model, rsei, grades, rsei0_range: (lo, hi) })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::needless_range_loop)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const S3: f64 = 0.577_350_269_189_625_8; // 1/√3

    /// The hand-worked example: NI values (min 0, max 1)
    ///   NDVI  [0, 1, 0, 1]   WET [0, 1, 0, 1]   NDBSI [1, 0, 1, 0]   LST [0, 0, 1, 1]
    /// means 0.5; deviations ±0.5; sample covariance (n − 1 = 3): var = 4·0.25/3 = 1/3,
    /// cov(NDVI, WET) = 1/3, cov(NDVI, NDBSI) = cov(WET, NDBSI) = −1/3, cov(·, LST) = 0.
    /// C = 1/3 · [[1, 1, −1, 0], [1, 1, −1, 0], [−1, −1, 1, 0], [0, 0, 0, 1]]:
    /// u = (1, 1, −1, 0)/√3 has C u = 1/3 · 3 u = u → λ1 = 1; (0, 0, 0, 1) → λ2 = 1/3; λ3 = λ4 = 0.
    /// PC1 = (1, 1, −1, 0)/√3 oriented (NDVI + WET > 0); contribution = 1/(4/3) = 0.75.
    /// RSEI0 = PC1 · (NI − 0.5): pixel 0 (−.5, −.5, .5, −.5) → −1.5/√3; pixel 1 → +1.5/√3;
    /// pixel 2 → −1.5/√3; pixel 3 → +1.5/√3 ⇒ RSEI = [0, 1, 0, 1].
    fn hand_ni() -> [Vec<f32>; 4] {
        [vec![0., 1., 0., 1.], vec![0., 1., 0., 1.], vec![1., 0., 1., 0.], vec![0., 0., 1., 1.]]
    }

    fn refs(v: &[Vec<f32>; 4]) -> [&[f32]; 4] {
        std::array::from_fn(|k| v[k].as_slice())
    }

    #[test]
    fn hand_worked_pca() {
        let ni = hand_ni();
        let out = compute_rsei(refs(&ni), None, 2, 2, &RseiOptions::default()).unwrap();
        let m = &out.model;
        assert_eq!(m.n_pixels, 4);
        assert_eq!(m.means, [0.5; 4]);
        let third = 1.0 / 3.0;
        let c = [[third, third, -third, 0.0], [third, third, -third, 0.0], [-third, -third, third, 0.0], [0.0, 0.0, 0.0, third]];
        for i in 0..4 {
            for j in 0..4 {
                assert!((m.covariance[i][j] - c[i][j]).abs() < 1e-15);
            }
        }
        let expect_l = [1.0, third, 0.0, 0.0];
        for k in 0..4 {
            assert!((m.eigenvalues[k] - expect_l[k]).abs() < 1e-12, "{:?}", m.eigenvalues);
        }
        let pc1 = [S3, S3, -S3, 0.0];
        for k in 0..4 {
            assert!((m.pc1[k] - pc1[k]).abs() < 1e-12, "{:?}", m.pc1);
        }
        assert!((m.pc1_contribution - 0.75).abs() < 1e-12);
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        assert!((out.rsei0_range.0 + 1.5 * S3).abs() < 1e-6 && (out.rsei0_range.1 - 1.5 * S3).abs() < 1e-6);
        assert_eq!(out.rsei, vec![0.0, 1.0, 0.0, 1.0]);
        assert_eq!(out.grades.grades(), [2, 0, 0, 0, 2]);
    }

    #[test]
    fn raw_values_are_normalised() {
        // the same example in raw units: NDVI = 0.2 + 0.6·NI, WET = −0.1 + 0.05·NI,
        // NDBSI = −0.3 + 0.4·NI, LST = 20 + 15·NI (°C) ⇒ identical model up to f32 rounding
        let ni = hand_ni();
        let (a, b) = ([0.2f32, -0.1, -0.3, 20.0], [0.6f32, 0.05, 0.4, 15.0]);
        let raw: [Vec<f32>; 4] = std::array::from_fn(|k| ni[k].iter().map(|v| a[k] + b[k] * v).collect());
        let out = compute_rsei(refs(&raw), None, 1, 4, &RseiOptions::default()).unwrap();
        assert!((out.model.bounds[3].lo - 20.0).abs() < 1e-6 && (out.model.bounds[3].hi - 35.0).abs() < 1e-6);
        for k in 0..4 {
            assert!((out.model.pc1[k] - [S3, S3, -S3, 0.0][k]).abs() < 1e-6);
        }
        for (v, e) in out.rsei.iter().zip([0.0, 1.0, 0.0, 1.0]) {
            assert!((v - e).abs() < 1e-6);
        }
    }

    #[test]
    fn orientation_flip_and_warnings() {
        // NDBSI rising WITH greenness: PC1 ∝ (1, 1, 1, 0) → NDBSI loads positively → warning
        let ni = [vec![0f32, 1., 0., 1.], vec![0., 1., 0., 1.], vec![0., 1., 0., 1.], vec![0., 0., 1., 1.]];
        let m = compute_rsei(refs(&ni), None, 2, 2, &RseiOptions::default()).unwrap().model;
        assert!(m.pc1[0] > 0.0 && m.pc1[1] > 0.0 && (m.pc1[2] - S3).abs() < 1e-12);
        assert_eq!(m.warnings.len(), 1);
        assert!(m.warnings[0].starts_with("NDBSI loads positively on PC1 (+0.577): PC1 then does not read as ecological quality"), "{:?}", m.warnings);
        // orientation is by the sum NDVI + WET, the WHOLE vector flips: with WET reversed (WET = 1 − NDVI),
        // PC1 ∝ (1, −1, −1, 0)/√3 and NDVI + WET = 0 → undetermined orientation is reported
        let ni = [vec![0f32, 1., 0., 1.], vec![1., 0., 1., 0.], vec![1., 0., 1., 0.], vec![0., 0., 1., 1.]];
        let m = compute_rsei(refs(&ni), None, 2, 2, &RseiOptions::default()).unwrap().model;
        assert!(m.warnings.iter().any(|w| w.contains("undetermined")), "{:?}", m.warnings);
    }

    #[test]
    fn tied_eigenvalues_warn() {
        // four mutually orthogonal ±1 patterns of length 8 (Sylvester–Hadamard rows 1, 2, 3, 4), as 0/1:
        // every indicator has variance 8·0.25/7 = 2/7 and all covariances are 0 ⇒ C = 2/7 · I,
        // four equal eigenvalues: PC1 is not defined and the fit says so
        let h = |r: [i8; 8]| r.iter().map(|&v| if v > 0 { 1.0f32 } else { 0.0 }).collect::<Vec<_>>();
        let ni = [
            h([1, -1, 1, -1, 1, -1, 1, -1]),
            h([1, 1, -1, -1, 1, 1, -1, -1]),
            h([1, -1, -1, 1, 1, -1, -1, 1]),
            h([1, 1, 1, 1, -1, -1, -1, -1]),
        ];
        let m = compute_rsei(refs(&ni), None, 2, 4, &RseiOptions::default()).unwrap().model;
        for k in 0..4 {
            assert!((m.eigenvalues[k] - 2.0 / 7.0).abs() < 1e-15);
        }
        assert!((m.pc1_contribution - 0.25).abs() < 1e-12);
        assert!(m.warnings.iter().any(|w| w.contains("tied")), "{:?}", m.warnings);
    }

    #[test]
    fn flipping_is_recorded_and_whole() {
        // fit directly on statistics whose PC1 comes out of Jacobi with some sign; compare with the
        // negated data (I → −I for every indicator): covariance is unchanged, so PC1 is the same after
        // orientation; and the flip never changes relative signs: NDVI·NDBSI < 0 in both.
        let ni = hand_ni();
        let m1 = compute_rsei(refs(&ni), None, 2, 2, &RseiOptions::default()).unwrap().model;
        let neg: [Vec<f32>; 4] = std::array::from_fn(|k| ni[k].iter().map(|v| -v).collect());
        let m2 = compute_rsei(refs(&neg), None, 2, 2, &RseiOptions::default()).unwrap().model;
        // min-max of −I maps −1 → 0, so NI' = 1 − NI and cov is the same; PC1 identical after orientation
        for k in 0..4 {
            assert!((m1.pc1[k] - m2.pc1[k]).abs() < 1e-12);
        }
        assert!(m1.pc1[0] * m1.pc1[2] < 0.0);
        // an eigenvector from Jacobi for λ1 is ±(1,1,−1,0)/√3: check flipped agrees with that sign
        let (_, v) = jacobi_eigen(m1.covariance);
        assert_eq!(m1.flipped, v[0][0] + v[0][1] < 0.0);
    }

    #[test]
    fn degenerate_inputs() {
        let ni = hand_ni();
        // all water: mask excludes everything
        let e = compute_rsei(refs(&ni), Some(&[false; 4]), 2, 2, &RseiOptions::default()).unwrap_err();
        assert!(matches!(e, CoreError::NoValidPixels(_)), "{e}");
        // all NaN in one indicator ⇒ no pixel enters
        let mut bad = hand_ni();
        bad[1] = vec![f32::NAN; 4];
        assert!(matches!(compute_rsei(refs(&bad), None, 2, 2, &RseiOptions::default()), Err(CoreError::NoValidPixels(_))));
        // constant LST
        let mut c = hand_ni();
        c[3] = vec![25.0; 4];
        match compute_rsei(refs(&c), None, 2, 2, &RseiOptions::default()) {
            Err(CoreError::ConstantIndicator { name, value, n }) => {
                assert_eq!((name.as_str(), value, n), ("LST", 25.0, 4));
            }
            other => panic!("expected ConstantIndicator, got {other:?}"),
        }
        // a single entering pixel is constant too
        assert!(matches!(compute_rsei(refs(&ni), Some(&[true, false, false, false]), 2, 2, &RseiOptions::default()), Err(CoreError::ConstantIndicator { .. })));
        // wrong sizes
        assert!(compute_rsei(refs(&ni), None, 3, 2, &RseiOptions::default()).is_err());
        assert!(compute_rsei(refs(&ni), Some(&[true; 3]), 2, 2, &RseiOptions::default()).is_err());
        // percentile without its passes
        let stats = {
            let mut s = RseiStats::default();
            s.update_rows(refs(&ni), None, 2).unwrap();
            s
        };
        let opts = RseiOptions { normalisation: Normalisation::Percentile { lo: 1.0, hi: 99.0 }, ..Default::default() };
        assert!(matches!(fit(&stats, None, &opts), Err(CoreError::InvalidOption { .. })));
        let bad_p = RseiOptions { normalisation: Normalisation::Percentile { lo: 50.0, hi: 10.0 }, ..Default::default() };
        assert!(compute_rsei(refs(&ni), None, 2, 2, &bad_p).is_err());
    }

    #[test]
    fn water_and_invalid_pixels_are_excluded() {
        // add a fifth pixel with extreme values that is masked out: the model must not change
        let mut ni = hand_ni();
        for (k, v) in ni.iter_mut().enumerate() {
            v.push([9.0, -9.0, 9.0, 99.0][k]);
        }
        ni[0].push(f32::NAN); // sixth pixel: NaN NDVI, others valid
        for v in ni.iter_mut().skip(1) {
            v.push(5.0);
        }
        let mask = [true, true, true, true, false, true];
        let out = compute_rsei(refs(&ni), Some(&mask), 2, 3, &RseiOptions::default()).unwrap();
        assert_eq!(out.model.n_pixels, 4);
        assert_eq!(&out.rsei[..4], &[0.0, 1.0, 0.0, 1.0]);
        assert!(out.rsei[4].is_nan() && out.rsei[5].is_nan());
        assert_eq!(out.grades.n, 4);
    }

    #[test]
    fn percentile_bounds_by_hand() {
        // NDVI = 0, 1, …, 99 (n = 100); 1st/99th percentiles with 1000 bins over [0, 99], width 0.099.
        // rank ⌈0.01·100⌉ = 1 → value 0 → bin 0 → lower edge 0.
        // rank ⌈0.99·100⌉ = 99 → value 98 → bin ⌊98/0.099⌋ = 989 → upper edge 990·0.099 = 98.01.
        let n = 100;
        let v0: Vec<f32> = (0..n).map(|i| i as f32).collect();
        let v1: Vec<f32> = (0..n).map(|i| ((i * 37) % 100) as f32).collect();
        let v2: Vec<f32> = (0..n).map(|i| ((i * 53) % 100) as f32 / 10.0).collect();
        let v3: Vec<f32> = (0..n).map(|i| 20.0 + ((i * 71) % 100) as f32 / 5.0).collect();
        let ind = [v0.as_slice(), &v1, &v2, &v3];
        let mut s = RseiStats::default();
        s.update_rows(ind, None, 10).unwrap();
        let mut h = IndicatorHistograms::new(&s, 1000).unwrap();
        h.update(ind, None).unwrap();
        let b = h.percentile_bounds(1.0, 99.0).unwrap();
        assert_eq!(b[0].lo, 0.0);
        assert!((b[0].hi - 98.01).abs() < 1e-9, "{:?}", b[0]);
        assert!((b[0].resolution - 0.099).abs() < 1e-15);
        assert!(b[0].clipped);
        // full range percentiles 0/100 give back the min and max
        let full = h.percentile_bounds(0.0, 100.0).unwrap();
        assert_eq!((full[3].lo, full[3].hi), (20.0, 39.8f32 as f64));
        // through compute_rsei: the pixel NDVI = 99 normalises to 1 (clipped), NDVI = 98.01 would be 1
        let opts = RseiOptions { normalisation: Normalisation::Percentile { lo: 1.0, hi: 99.0 }, histogram_bins: 1000, ..Default::default() };
        let out = compute_rsei(ind, None, 10, 10, &opts).unwrap();
        assert_eq!(out.model.bounds[0], b[0]);
        assert_eq!(out.model.normalisation, opts.normalisation);
        // normalised NDVI mean: values i/98.01 clipped at 1 (only i = 99): (Σ_{0..98} i/98.01 + 1)/100
        let mean0 = ((0..99).map(|i| f64::from(i as f32) / 98.01).sum::<f64>() + 1.0) / 100.0;
        assert!((out.model.means[0] - mean0).abs() < 1e-6, "{} vs {mean0}", out.model.means[0]);
    }

    #[test]
    fn pooled_pca_with_the_pieces() {
        // three "years" of a 6×5 study area with a drifting mean; pooled = merge the yearly stats, fit once,
        // RSEI0 per year, one min/max over all years, rescale each year with it
        let rows = 6;
        let cols = 5;
        let years: Vec<[Vec<f32>; 4]> = (0..3).map(|y| synth(rows, cols, 11 + y as u64, y as f32 * 0.1)).collect();
        let mut pooled = RseiStats::default();
        for y in &years {
            let mut s = RseiStats::default();
            s.update_rows(refs(y), None, cols).unwrap();
            pooled.merge(&s);
        }
        let opts = RseiOptions { pooled: true, ..Default::default() };
        let model = fit(&pooled, None, &opts).unwrap();
        assert!(model.pooled);
        let mut r0: Vec<Vec<f32>> = Vec::new();
        let mut mm = MinMax::default();
        for y in &years {
            let mut o = vec![0f32; rows * cols];
            let written = model.rsei0(refs(y), None, &mut o).unwrap();
            assert_eq!(written, rsei0_range(&o));
            mm.merge(&written);
            r0.push(o);
        }
        let (lo, hi) = mm.range().unwrap();
        let mut all = Vec::new();
        for o in &r0 {
            let mut r = vec![0f32; o.len()];
            rescale(o, lo, hi, &mut r).unwrap();
            all.extend(r);
        }
        // the same as one RSEI over the years stacked as one raster (rows of year 1, then 2, then 3)
        let stacked: [Vec<f32>; 4] = std::array::from_fn(|k| years.iter().flat_map(|y| y[k].iter().copied()).collect());
        let one = compute_rsei(refs(&stacked), None, 3 * rows, cols, &RseiOptions::default()).unwrap();
        for k in 0..4 {
            assert!((one.model.pc1[k] - model.pc1[k]).abs() < 1e-12);
        }
        for (a, b) in all.iter().zip(&one.rsei) {
            assert!((a - b).abs() < 1e-6);
        }
        // pooled RSEI spans [0, 1] over all years together, not within each year
        assert_eq!(all.iter().cloned().fold(f32::INFINITY, f32::min), 0.0);
        assert_eq!(all.iter().cloned().fold(f32::NEG_INFINITY, f32::max), 1.0);
        // and differs from the per-year fit
        let y0 = compute_rsei(refs(&years[0]), None, rows, cols, &RseiOptions::default()).unwrap();
        assert!(y0.model.pc1.iter().zip(model.pc1).any(|(a, b)| (a - b).abs() > 1e-6));
    }

    #[test]
    fn grade_boundaries() {
        // class k holds [k/10, (k+1)/10); 1.0 belongs to the top; thresholds compared as f32
        assert_eq!(GradeTable::class_of(0.0), Some(0));
        assert_eq!(GradeTable::class_of(0.099_999), Some(0));
        assert_eq!(GradeTable::class_of(0.1), Some(1));
        assert_eq!(GradeTable::class_of(0.6), Some(6));
        assert_eq!(GradeTable::grade_of(0.6), Some(3), "0.6 is 'good' (0.6–0.8)");
        assert_eq!(GradeTable::grade_of(0.599_999), Some(2));
        assert_eq!(GradeTable::grade_of(0.2), Some(1));
        assert_eq!(GradeTable::grade_of(1.0), Some(4));
        assert_eq!(GradeTable::class_of(1.0), Some(9));
        assert_eq!(GradeTable::class_of(f32::NAN), None);
        let mut g = GradeTable::default();
        g.update_slice(&[0.05, 0.15, 0.25, 0.45, 0.65, 0.85, 1.0, f32::NAN]);
        // classes 0, 1, 2, 4, 6, 8, 9 → grades 0, 0, 1, 2, 3, 4, 4
        assert_eq!(g.grades(), [2, 1, 1, 1, 2]);
        assert_eq!(g.n, 7);
        let r = g.report(0.25);
        assert_eq!(r.grades[0].name, "poor");
        assert_eq!(r.grades[4].count, 2);
        // area = 2 × 0.25 = 0.5 km²; share = 2/7
        assert!((r.grades[4].area_km2 - 0.5).abs() < 1e-12 && (r.grades[4].share - 2.0 / 7.0).abs() < 1e-12);
        assert!((r.area_km2 - 1.75).abs() < 1e-12);
        assert_eq!(r.classes[3].name, "0.3–0.4");
        let mut h = g;
        h.merge(&g);
        assert_eq!(h.n, 14);
        assert_eq!(GradeTable::default().report(1.0).grades[0].share, 0.0);
    }

    #[test]
    fn fused_rescale_and_grades_agree() {
        let v: Vec<f32> = (0..1003).map(|i| if i % 17 == 0 { f32::NAN } else { (i as f32 * 0.37).sin() * 2.0 }).collect();
        let (lo, hi) = rsei0_range(&v).range().unwrap();
        let mut a = v.clone();
        rescale_in_place(&mut a, lo, hi).unwrap();
        let mut g = GradeTable::default();
        g.update_slice(&a);
        let mut b = v.clone();
        let g2 = rescale_and_grade(&mut b, lo, hi).unwrap();
        assert_eq!(g, g2);
        assert_eq!(a.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), b.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
        assert_eq!(g.n, 1003 - 59); // multiples of 17 below 1003: 0, 17, …, 986 = 17·58 → 59 NaN
    }

    #[test]
    fn rescale_checks() {
        let mut o = [0f32; 3];
        rescale(&[-1.0, 0.0, f32::NAN], -1.0, 1.0, &mut o).unwrap();
        assert_eq!(o[..2], [0.0, 0.5]);
        assert!(o[2].is_nan());
        assert!(matches!(rescale(&[1.0; 3], 1.0, 1.0, &mut o), Err(CoreError::ConstantIndicator { .. })));
    }

    /// Deterministic synthetic indicators with realistic correlations (xorshift generator).
    pub(crate) fn synth(rows: usize, cols: usize, seed: u64, shift: f32) -> [Vec<f32>; 4] {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut u = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 24) as f32
        };
        let n = rows * cols;
        let mut out: [Vec<f32>; 4] = Default::default();
        for _ in 0..n {
            let g = u() + shift;
            let e = u();
            out[0].push(0.1 + 0.7 * g + 0.05 * e);
            out[1].push(-0.2 + 0.15 * g + 0.05 * u());
            out[2].push(0.3 - 0.5 * g + 0.1 * u());
            out[3].push(35.0 - 12.0 * g + 4.0 * u());
        }
        out
    }

    fn stats_bits(s: &RseiStats) -> Vec<u64> {
        let mut v: Vec<u64> = s.min.iter().chain(&s.max).chain(&s.moments.mean).map(|x| x.to_bits()).collect();
        v.extend(s.moments.c.iter().flatten().map(|x| x.to_bits()));
        v.push(s.moments.n);
        v
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn strips_of_any_height_are_bit_identical(rows in 1usize..30, cols in 1usize..20, h in 1usize..31, seed in any::<u64>(), holes in any::<u64>()) {
            let ind = synth(rows, cols, seed, 0.0);
            let mask: Vec<bool> = (0..rows * cols).map(|i| (holes >> (i % 64)) & 1 == 1 || i % 3 == 0).collect();
            let mut whole = RseiStats::default();
            whole.update_rows(refs(&ind), Some(&mask), cols).unwrap();
            let mut strips = RseiStats::default();
            let mut r = 0;
            while r < rows {
                let e = (r + h).min(rows);
                let s = r * cols..e * cols;
                strips.update_rows(std::array::from_fn(|k| &ind[k][s.clone()]), Some(&mask[s.clone()]), cols).unwrap();
                r = e;
            }
            prop_assert_eq!(stats_bits(&whole), stats_bits(&strips));
        }

        #[test]
        fn merged_splits_equal_whole(n in 2usize..400, cut_a in any::<usize>(), cut_b in any::<usize>(), seed in any::<u64>()) {
            let ind = synth(1, n, seed, 0.0);
            let whole = RseiStats::from_row(refs(&ind), None).unwrap();
            let (mut a, mut b) = (cut_a % (n + 1), cut_b % (n + 1));
            if a > b { std::mem::swap(&mut a, &mut b); }
            let mut merged = RseiStats::default();
            for s in [0..a, a..b, b..n] {
                let part = RseiStats::from_row(std::array::from_fn(|k| &ind[k][s.clone()]), None).unwrap();
                merged.merge(&part);
            }
            prop_assert_eq!(merged.count(), whole.count());
            prop_assert_eq!(merged.min, whole.min);
            prop_assert_eq!(merged.max, whole.max);
            for k in 0..4 {
                let rel = |x: f64, y: f64| (x - y).abs() <= 1e-12 * y.abs().max(1e-300) || (x - y).abs() < 1e-12;
                prop_assert!(rel(merged.moments.mean[k], whole.moments.mean[k]));
                for j in 0..4 {
                    // co-moments: relative to the scale of the diagonal (off-diagonals can be near 0)
                    let scale = (whole.moments.c[k][k] * whole.moments.c[j][j]).sqrt();
                    prop_assert!((merged.moments.c[k][j] - whole.moments.c[k][j]).abs() <= 1e-12 * scale.max(1e-300),
                        "c[{}][{}] {} vs {}", k, j, merged.moments.c[k][j], whole.moments.c[k][j]);
                }
            }
        }

        #[test]
        fn eigenvectors_orthonormal(m in proptest::collection::vec(-1.0f64..1.0, 16)) {
            // A = Bᵀ B is symmetric positive semi-definite
            let mut a = [[0f64; 4]; 4];
            for i in 0..4 { for j in 0..4 { for k in 0..4 { a[i][j] += m[k * 4 + i] * m[k * 4 + j]; } } }
            let (vals, vecs) = jacobi_eigen(a);
            for i in 0..3 { prop_assert!(vals[i] >= vals[i + 1]); }
            let scale = vals[0].abs().max(1e-12);
            for i in 0..4 {
                for j in 0..4 {
                    let d: f64 = (0..4).map(|k| vecs[i][k] * vecs[j][k]).sum();
                    let e = if i == j { 1.0 } else { 0.0 };
                    prop_assert!((d - e).abs() < 1e-10);
                }
                // A v = λ v
                for r in 0..4 {
                    let av: f64 = (0..4).map(|k| a[r][k] * vecs[i][k]).sum();
                    prop_assert!((av - vals[i] * vecs[i][r]).abs() < 1e-10 * scale);
                }
            }
            let tr: f64 = (0..4).map(|i| a[i][i]).sum();
            prop_assert!((vals.iter().sum::<f64>() - tr).abs() < 1e-10 * tr.abs().max(1.0));
        }
    }

    #[test]
    fn same_result_at_any_thread_count() {
        let (rows, cols) = (64, 37);
        let ind = synth(rows, cols, 5, 0.0);
        let run = |threads: usize, opts: &RseiOptions| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| compute_rsei(refs(&ind), None, rows, cols, opts).unwrap())
        };
        for opts in [RseiOptions::default(), RseiOptions { normalisation: Normalisation::Percentile { lo: 2.0, hi: 98.0 }, ..Default::default() }] {
            let a = run(1, &opts);
            let b = run(2, &opts);
            let c = run(3, &opts);
            assert_eq!(a.model, b.model);
            assert_eq!(a.model, c.model);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a.rsei), bits(&b.rsei));
            assert_eq!(bits(&a.rsei), bits(&c.rsei));
            assert_eq!(a.grades, b.grades);
        }
    }

    #[test]
    fn fixed_bounds_scale_and_clip() {
        // the hand example (NI values 0/1) with fixed bounds [0, 2] for every indicator: every NI
        // is halved (0 or 0.5), so the covariance is C/4: the same PC1 (1, 1, −1, 0)/√3, λ1 = 1/4,
        // the same contribution 0.75 and the same RSEI [0, 1, 0, 1]
        let ni = hand_ni();
        let fixed = Normalisation::Fixed { ndvi: [0.0, 2.0], wet: [0.0, 2.0], ndbsi: [0.0, 2.0], lst: [0.0, 2.0] };
        let out = compute_rsei(refs(&ni), None, 2, 2, &RseiOptions { normalisation: fixed, ..Default::default() }).unwrap();
        let m = &out.model;
        assert_eq!(m.normalisation, fixed);
        assert!(m.bounds.iter().all(|b| b.lo == 0.0 && b.hi == 2.0 && b.clipped));
        for (k, e) in [S3, S3, -S3, 0.0].iter().enumerate() {
            assert!((m.pc1[k] - e).abs() < 1e-12, "{:?}", m.pc1);
        }
        assert!((m.eigenvalues[0] - 0.25).abs() < 1e-12 && (m.pc1_contribution - 0.75).abs() < 1e-12);
        assert!(m.means.iter().all(|&x| (x - 0.25).abs() < 1e-12));
        assert_eq!(out.rsei, vec![0.0, 1.0, 0.0, 1.0]);
        // bounds narrower than the data clip: NDVI in [0, 0.5] maps 1 → 1 (clipped) and 0 → 0, so
        // with every indicator bounded [0, 0.5] the NI are still 0/1: the min–max result exactly
        let narrow = Normalisation::Fixed { ndvi: [0.0, 0.5], wet: [0.0, 0.5], ndbsi: [0.0, 0.5], lst: [0.0, 0.5] };
        let a = compute_rsei(refs(&ni), None, 2, 2, &RseiOptions { normalisation: narrow, ..Default::default() }).unwrap();
        let b = compute_rsei(refs(&ni), None, 2, 2, &RseiOptions::default()).unwrap();
        assert_eq!(a.model.pc1, b.model.pc1);
        assert_eq!(a.model.covariance, b.model.covariance);
        assert_eq!(a.rsei, b.rsei);
        // bad bounds are named
        let bad = Normalisation::Fixed { ndvi: [0.0, 1.0], wet: [0.0, 1.0], ndbsi: [0.5, 0.5], lst: [0.0, 1.0] };
        let e = compute_rsei(refs(&ni), None, 2, 2, &RseiOptions { normalisation: bad, ..Default::default() }).unwrap_err();
        assert!(e.to_string().contains("normalisation.fixed.ndbsi"), "{e}");
        assert!(Normalisation::Fixed { ndvi: [f64::NAN, 1.0], wet: [0.0, 1.0], ndbsi: [0.0, 1.0], lst: [0.0, 1.0] }.validate().is_err());
        // fit refuses normalised statistics of other bounds
        let mut st = RseiStats::default();
        st.update_rows(refs(&ni), None, 2).unwrap();
        let mut ns = NormalisedStats::new(narrow.fixed_bounds().unwrap().unwrap());
        ns.update_rows(refs(&ni), None, 2).unwrap();
        assert!(fit(&st, Some(&ns), &RseiOptions { normalisation: fixed, ..Default::default() }).is_err());
        assert!(fit(&st, None, &RseiOptions { normalisation: fixed, ..Default::default() }).is_err());
    }
}
