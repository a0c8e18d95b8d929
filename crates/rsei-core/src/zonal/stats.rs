//! Weighted zonal statistics of a raster per polygon, in memory or streamed by row strips.
//!
//! Every valid cell (not `NaN`, not excluded) with weight `w > 0` enters with its weight:
//! count `n`, weighted count `Σw`, sum `Σw·x`, mean `Σw·x / Σw`, population standard deviation
//! `√(Σw·(x − mean)² / Σw)` (shifted sums), min and max over the cells with `w > 0`, and —
//! on request — the values and weights themselves (for histograms, densities, quantiles).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use geo_types::MultiPolygon;

use super::{prepare_all, Coverage, PixelRule, PolygonRaster, PreparedPolygon, Scratch};
use crate::accum::Accumulator;
use crate::error::{CoreError, Result};
use crate::grid::{Grid, Window};

/// Options of a zonal-statistics pass.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZonalOptions {
    /// Centre (default) or exact coverage.
    pub rule: PixelRule,
    /// Keep every (value, weight) pair in the result, in row-major order of the polygon's window.
    pub keep_values: bool,
}

impl ZonalOptions {
    /// Options with a rule, values not kept.
    pub fn new(rule: PixelRule) -> Self {
        Self { rule, keep_values: false }
    }
    /// Keeps (or not) the values and weights.
    pub fn keep_values(mut self, keep: bool) -> Self {
        self.keep_values = keep;
        self
    }
}

/// Statistics of one polygon.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ZonalStats {
    /// Number of valid cells with a weight > 0.
    pub count: u64,
    /// Σ weights (= `count` under the centre rule), in cells.
    pub weighted_count: f64,
    /// Σ weight × value.
    pub sum: f64,
    /// Weighted mean; `None` without valid cells.
    pub mean: Option<f64>,
    /// Weighted population standard deviation; `None` without valid cells.
    pub std: Option<f64>,
    /// Smallest value over cells with weight > 0.
    pub min: Option<f64>,
    /// Largest value over cells with weight > 0.
    pub max: Option<f64>,
    /// The values (only with [`ZonalOptions::keep_values`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<f32>,
    /// Their weights, same order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weights: Vec<f32>,
}

/// Mergeable weighted statistics (see the module documentation for the formulas).
///
/// The variance is accumulated as shifted sums `S₁ = Σw(x − K)`, `S₂ = Σw(x − K)²` around the first
/// value `K` (no division per cell; stable because `K` lies inside the data); the mean is `Σw·x / Σw`.
#[derive(Clone, Debug, PartialEq)]
pub struct ZonalAccumulator {
    count: u64,
    sum_w: f64,
    sum_wx: f64,
    shift: f64,
    s1: f64,
    s2: f64,
    min: f64,
    max: f64,
    keep: bool,
    values: Vec<f32>,
    weights: Vec<f32>,
}

impl Default for ZonalAccumulator {
    fn default() -> Self {
        Self::new(false)
    }
}

impl ZonalAccumulator {
    /// An empty state; `keep_values` keeps every value and weight.
    pub fn new(keep_values: bool) -> Self {
        Self {
            count: 0,
            sum_w: 0.0,
            sum_wx: 0.0,
            shift: 0.0,
            s1: 0.0,
            s2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            keep: keep_values,
            values: Vec::new(),
            weights: Vec::new(),
        }
    }

    /// Adds value `x` with weight `w` (skipped when `x` is NaN or `w ≤ 0`).
    #[inline]
    pub fn add(&mut self, x: f32, w: f32) {
        if x.is_nan() || w <= 0.0 {
            return;
        }
        let (xf, wf) = (f64::from(x), f64::from(w));
        if self.count == 0 {
            self.shift = xf;
        }
        self.count += 1;
        self.sum_w += wf;
        self.sum_wx += wf * xf;
        let d = xf - self.shift;
        let wd = wf * d;
        self.s1 += wd;
        self.s2 += wd * d;
        self.min = self.min.min(xf);
        self.max = self.max.max(xf);
        if self.keep {
            self.values.push(x);
            self.weights.push(w);
        }
    }

    /// Adds one row: weights, values and an optional exclusion mask of the same length.
    ///
    /// The row is summed in local variables first and then added to the state (faster, and the
    /// same arithmetic whoever calls it: results depend only on how cells are grouped into rows).
    #[inline]
    pub fn add_row(&mut self, weights: &[f32], values: &[f32], exclude: Option<&[bool]>) {
        match (exclude, self.keep) {
            (None, false) => self.add_row_impl::<false>(weights, values, |_| false),
            (None, true) => self.add_row_impl::<true>(weights, values, |_| false),
            (Some(ex), false) => self.add_row_impl::<false>(weights, values, |i| ex[i]),
            (Some(ex), true) => self.add_row_impl::<true>(weights, values, |i| ex[i]),
        }
    }

    #[inline(always)]
    fn add_row_impl<const KEEP: bool>(&mut self, weights: &[f32], values: &[f32], excluded: impl Fn(usize) -> bool) {
        let n = weights.len().min(values.len());
        let (weights, values) = (&weights[..n], &values[..n]);
        let mut first = self.count == 0;
        let mut shift = self.shift;
        let (mut cnt, mut sw, mut swx, mut s1, mut s2) = (0u64, 0.0f64, 0.0f64, 0.0f64, 0.0f64);
        let (mut mn, mut mx) = (self.min, self.max);
        for i in 0..n {
            let (w, x) = (weights[i], values[i]);
            if w <= 0.0 || w.is_nan() || x.is_nan() || excluded(i) {
                continue;
            }
            let (xf, wf) = (f64::from(x), f64::from(w));
            if first {
                shift = xf;
                first = false;
            }
            cnt += 1;
            sw += wf;
            swx += wf * xf;
            let d = xf - shift;
            let wd = wf * d;
            s1 += wd;
            s2 += wd * d;
            mn = mn.min(xf);
            mx = mx.max(xf);
            if KEEP {
                self.values.push(x);
                self.weights.push(w);
            }
        }
        if cnt > 0 {
            self.shift = shift;
            self.count += cnt;
            self.sum_w += sw;
            self.sum_wx += swx;
            self.s1 += s1;
            self.s2 += s2;
            self.min = mn;
            self.max = mx;
        }
    }

    /// Number of values added.
    pub fn count(&self) -> u64 {
        self.count
    }
}

impl Accumulator for ZonalAccumulator {
    type Output = ZonalStats;

    /// Re-centres the other state's shifted sums on this state's shift (`δ = K₂ − K₁`:
    /// `S₁ += S₁' + δW'`, `S₂ += S₂' + 2δS₁' + δ²W'`) and adds the plain sums.
    fn merge(&mut self, o: &Self) {
        if o.count == 0 {
            return;
        }
        if self.count == 0 {
            let keep = self.keep || o.keep;
            *self = o.clone();
            self.keep = keep;
            return;
        }
        let d = o.shift - self.shift;
        self.s2 += o.s2 + 2.0 * d * o.s1 + d * d * o.sum_w;
        self.s1 += o.s1 + d * o.sum_w;
        self.count += o.count;
        self.sum_w += o.sum_w;
        self.sum_wx += o.sum_wx;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        if self.keep || o.keep {
            self.keep = true;
            self.values.extend_from_slice(&o.values);
            self.weights.extend_from_slice(&o.weights);
        }
    }

    fn finish(&self) -> ZonalStats {
        let any = self.count > 0 && self.sum_w > 0.0;
        let var = (self.s2 - self.s1 * self.s1 / self.sum_w) / self.sum_w;
        ZonalStats {
            count: self.count,
            weighted_count: self.sum_w,
            sum: self.sum_wx,
            mean: any.then(|| self.sum_wx / self.sum_w),
            std: any.then(|| var.max(0.0).sqrt()),
            min: any.then_some(self.min),
            max: any.then_some(self.max),
            values: self.values.clone(),
            weights: self.weights.clone(),
        }
    }
}

fn check_inputs(grid: &Grid, values: &[f32], exclude: Option<&[bool]>) -> Result<()> {
    if values.len() != grid.len() {
        return Err(CoreError::BufferSize { got: values.len(), expected: grid.len(), rows: grid.rows(), cols: grid.cols() });
    }
    if let Some(e) = exclude {
        if e.len() != grid.len() {
            return Err(CoreError::BufferSize { got: e.len(), expected: grid.len(), rows: grid.rows(), cols: grid.cols() });
        }
    }
    Ok(())
}

/// Zonal statistics of an in-memory raster (`values`, row-major on `grid`, `NaN` = nodata) for
/// each polygon (in the grid's CRS), in parallel over polygons, each only on its own window.
/// `exclude` (same length as `values`) removes cells such as water. Results are in input order;
/// a polygon that misses the grid gets `count = 0` and `mean = None`.
pub fn zonal_stats(
    grid: &Grid,
    values: &[f32],
    exclude: Option<&[bool]>,
    polygons: &[MultiPolygon<f64>],
    opts: &ZonalOptions,
) -> Result<Vec<ZonalStats>> {
    check_inputs(grid, values, exclude)?;
    let prepared = prepare_all(polygons)?;
    zonal_stats_prepared(grid, values, exclude, &prepared, opts)
}

/// [`zonal_stats`] for polygons already prepared (validated).
pub fn zonal_stats_prepared(
    grid: &Grid,
    values: &[f32],
    exclude: Option<&[bool]>,
    polygons: &[PreparedPolygon],
    opts: &ZonalOptions,
) -> Result<Vec<ZonalStats>> {
    check_inputs(grid, values, exclude)?;
    Ok(polygons
        .par_iter()
        .map_init(
            || (Scratch::default(), Vec::new()),
            |(scratch, buf), p| {
                let mut acc = ZonalAccumulator::new(opts.keep_values);
                if let Some(pr) = PolygonRaster::new(grid, p, opts.rule) {
                    let w = pr.window();
                    accumulate(&pr, 0, w.rows, grid, values, exclude, scratch, buf, &mut acc);
                }
                acc.finish()
            },
        )
        .collect())
}

/// Adds window rows `r_lo..r_hi` of a polygon, reading values from an in-memory full grid.
#[allow(clippy::too_many_arguments)]
fn accumulate(
    pr: &PolygonRaster,
    r_lo: usize,
    r_hi: usize,
    grid: &Grid,
    values: &[f32],
    exclude: Option<&[bool]>,
    scratch: &mut Scratch,
    buf: &mut Vec<f32>,
    acc: &mut ZonalAccumulator,
) {
    let w = pr.window();
    let step = pr.chunk_rows();
    let mut r = r_lo;
    while r < r_hi {
        let r1 = (r + step).min(r_hi);
        pr.rows(r, r1, scratch, buf);
        for (k, wrow) in buf.chunks_exact(w.cols).enumerate() {
            let off = grid.index(w.row + r + k, w.col);
            acc.add_row(wrow, &values[off..off + w.cols], exclude.map(|e| &e[off..off + w.cols]));
        }
        r = r1;
    }
}

/// Zonal statistics from precomputed [`Coverage`]s (e.g. the same polygons over many yearly
/// rasters). `None` entries give empty statistics. Same arithmetic and order as [`zonal_stats`].
pub fn zonal_stats_from_coverages(
    grid: &Grid,
    values: &[f32],
    exclude: Option<&[bool]>,
    coverages: &[Option<Coverage>],
    keep_values: bool,
) -> Result<Vec<ZonalStats>> {
    check_inputs(grid, values, exclude)?;
    for c in coverages.iter().flatten() {
        grid.check_window(c.window)?;
        if c.fractions.len() != c.window.len() {
            return Err(CoreError::BufferSize {
                got: c.fractions.len(),
                expected: c.window.len(),
                rows: c.window.rows,
                cols: c.window.cols,
            });
        }
    }
    Ok(coverages
        .par_iter()
        .map(|c| {
            let mut acc = ZonalAccumulator::new(keep_values);
            if let Some(c) = c {
                let w = c.window;
                if w.cols > 0 {
                    for (k, wrow) in c.fractions.chunks_exact(w.cols).enumerate() {
                        let off = grid.index(w.row + k, w.col);
                        acc.add_row(wrow, &values[off..off + w.cols], exclude.map(|e| &e[off..off + w.cols]));
                    }
                }
            }
            acc.finish()
        })
        .collect())
}

/// One block of raster cells handed over by a window reader: values row-major (`NaN` = nodata) and
/// an optional exclusion mask of the same length.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Block {
    pub values: Vec<f32>,
    pub exclude: Option<Vec<bool>>,
}

/// Zonal statistics of a raster too large for memory: the raster is read in full-height row strips
/// of at most `max_cells_in_memory` cells (restricted to the columns the polygons of the strip
/// need) through `read(window)`, which the I/O layer implements; strips no polygon touches are not
/// read. Polygons are processed in parallel within each strip. Results are bit-identical to
/// [`zonal_stats`] on the whole raster.
pub fn zonal_stats_streaming<E, F>(
    grid: &Grid,
    polygons: &[MultiPolygon<f64>],
    opts: &ZonalOptions,
    max_cells_in_memory: usize,
    mut read: F,
) -> Result<Vec<ZonalStats>, E>
where
    F: FnMut(Window) -> Result<Block, E>,
    E: From<CoreError>,
{
    let prepared = prepare_all(polygons)?;
    let rasters: Vec<Option<PolygonRaster>> =
        prepared.par_iter().map(|p| PolygonRaster::new(grid, p, opts.rule)).collect();
    let mut accs: Vec<ZonalAccumulator> = (0..rasters.len()).map(|_| ZonalAccumulator::new(opts.keep_values)).collect();
    let strip_rows = (max_cells_in_memory / grid.cols().max(1)).max(1);
    for strip in grid.row_strips(strip_rows) {
        let touches = |w: &Window| w.row < strip.row_end() && strip.row < w.row_end();
        let mut cmin = usize::MAX;
        let mut cmax = 0;
        for w in rasters.iter().flatten().map(PolygonRaster::window).filter(|w| touches(w)) {
            cmin = cmin.min(w.col);
            cmax = cmax.max(w.col_end());
        }
        if cmin >= cmax {
            continue;
        }
        let bw = Window::new(strip.row, cmin, strip.rows, cmax - cmin);
        let block = read(bw)?;
        if block.values.len() != bw.len() {
            return Err(CoreError::BufferSize { got: block.values.len(), expected: bw.len(), rows: bw.rows, cols: bw.cols }.into());
        }
        if let Some(e) = &block.exclude {
            if e.len() != bw.len() {
                return Err(CoreError::BufferSize { got: e.len(), expected: bw.len(), rows: bw.rows, cols: bw.cols }.into());
            }
        }
        accs.par_iter_mut().zip(rasters.par_iter()).for_each_init(
            || (Scratch::default(), Vec::new()),
            |(scratch, buf), (acc, pr)| {
                let Some(pr) = pr else { return };
                let w = pr.window();
                if !touches(&w) {
                    return;
                }
                let r_lo = strip.row.max(w.row) - w.row;
                let r_hi = strip.row_end().min(w.row_end()) - w.row;
                accumulate_block(pr, r_lo, r_hi, bw, &block, scratch, buf, acc);
            },
        );
    }
    Ok(accs.iter().map(Accumulator::finish).collect())
}

#[allow(clippy::too_many_arguments)]
fn accumulate_block(
    pr: &PolygonRaster,
    r_lo: usize,
    r_hi: usize,
    bw: Window,
    block: &Block,
    scratch: &mut Scratch,
    buf: &mut Vec<f32>,
    acc: &mut ZonalAccumulator,
) {
    let w = pr.window();
    let step = pr.chunk_rows();
    let mut r = r_lo;
    while r < r_hi {
        let r1 = (r + step).min(r_hi);
        pr.rows(r, r1, scratch, buf);
        for (k, wrow) in buf.chunks_exact(w.cols).enumerate() {
            // window row r + k is grid row w.row + r + k, inside the block's rows (r ≥ bw.row − w.row)
            let off = (w.row + r + k - bw.row) * bw.cols + (w.col - bw.col);
            let ex = block.exclude.as_deref().map(|e| &e[off..off + w.cols]);
            acc.add_row(wrow, &block.values[off..off + w.cols], ex);
        }
        r = r1;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::grid::{Crs, GeoTransform};
    use geo_types::{polygon, LineString, Polygon};

    /// 4 rows × 5 columns of 1×1 cells, x 0..5, y 0..4; value of cell (r, c) = 5r + c + 1.
    fn grid45() -> (Grid, Vec<f32>) {
        let g = Grid::new(4, 5, GeoTransform::new(0.0, 1.0, 4.0, -1.0), Crs::new("local"));
        let v = (0..20).map(|i| i as f32 + 1.0).collect();
        (g, v)
    }

    /// Exterior x 0.25..3.75, y 0.25..3.75 with the hole x 1.25..2.75, y 1.25..2.75, plus a second
    /// part, the triangle (4, 0) (5, 0) (5, 2) whose hypotenuse is x = 4 + y/2.
    fn ring_and_triangle() -> MultiPolygon<f64> {
        let ring = Polygon::new(
            LineString::from(vec![(0.25, 0.25), (3.75, 0.25), (3.75, 3.75), (0.25, 3.75)]),
            vec![LineString::from(vec![(1.25, 1.25), (2.75, 1.25), (2.75, 2.75), (1.25, 2.75)])],
        );
        let tri = polygon![(x: 4.0, y: 0.0), (x: 5.0, y: 0.0), (x: 5.0, y: 2.0)];
        MultiPolygon(vec![ring, tri])
    }

    /// Hand weights of `ring_and_triangle` under the coverage rule, as (row, col, fraction):
    /// - exterior corner cells: 0.75 × 0.75 = 0.5625; exterior edge cells: 0.75 × 1 = 0.75;
    /// - the 4 centre cells lose the hole's 0.75 × 0.75: 1 − 0.5625 = 0.4375;
    /// - triangle, column 4: row 3 (y 0..1): ∫₀¹ (1 − y/2) dy = 0.75; row 2 (y 1..2): ∫₁² (1 − y/2) dy = 0.25.
    fn hand_coverage() -> Vec<(usize, usize, f64)> {
        let mut v = Vec::new();
        for r in 0..4 {
            for c in 0..4 {
                let er = r == 0 || r == 3;
                let ec = c == 0 || c == 3;
                let f = if er && ec {
                    0.5625
                } else if er || ec {
                    0.75
                } else {
                    0.4375
                };
                v.push((r, c, f));
            }
        }
        v.push((3, 4, 0.75));
        v.push((2, 4, 0.25));
        v
    }

    #[test]
    fn coverage_rule_by_hand_with_hole_multipolygon_nan_and_exclusion() {
        let (g, mut v) = grid45();
        v[0] = f32::NAN; // cell (0, 0)
        let mut ex = vec![false; 20];
        ex[5 + 3] = true; // cell (1, 3), value 9, weight 0.75
        let mp = ring_and_triangle();
        let s = &zonal_stats(&g, &v, Some(&ex), &[mp], &ZonalOptions::new(PixelRule::Coverage).keep_values(true)).unwrap()[0];
        // Σw of the hand table = 4·0.5625 + 8·0.75 + 4·0.4375 + 0.75 + 0.25 = 11.0 over 18 cells;
        // minus the NaN cell (0,0) (0.5625) and the excluded (1,3) (0.75): 9.6875 over 16 cells.
        assert_eq!(s.count, 16);
        assert_eq!(s.weighted_count, 9.6875);
        // Σw·x = 111.4375 (table × values 5r + c + 1), mean = 111.4375 / 9.6875 = 11.503225806451614
        assert_eq!(s.sum, 111.4375);
        assert!((s.mean.unwrap() - 11.503_225_806_451_614).abs() < 1e-12);
        // independent reference from the hand table
        let mut sw = 0.0;
        let mut swx = 0.0;
        let mut swxx = 0.0;
        for (r, c, f) in hand_coverage() {
            if (r, c) == (0, 0) || (r, c) == (1, 3) {
                continue;
            }
            let x = (5 * r + c + 1) as f64;
            sw += f;
            swx += f * x;
            swxx += f * x * x;
        }
        let m = swx / sw;
        let sd = (swxx / sw - m * m).sqrt(); // 6.019724775134349
        assert!((s.std.unwrap() - sd).abs() < 1e-10, "{:?} vs {sd}", s.std);
        assert!((sd - 6.019_724_775_134_349).abs() < 1e-9);
        assert_eq!(s.min, Some(2.0));
        assert_eq!(s.max, Some(20.0));
        assert_eq!(s.values.len(), 16);
        assert_eq!(s.weights.iter().map(|&w| f64::from(w)).sum::<f64>(), 9.6875);
    }

    #[test]
    fn centre_rule_by_hand_with_hole_multipolygon_nan_and_exclusion() {
        let (g, mut v) = grid45();
        v[0] = f32::NAN;
        let mut ex = vec![false; 20];
        ex[5 + 3] = true;
        let mp = ring_and_triangle();
        let s = &zonal_stats(&g, &v, Some(&ex), &[mp], &ZonalOptions::default()).unwrap()[0];
        // Centres (c + 0.5, 3.5 − r). The exterior holds all 16 centres of columns 0..3; the hole holds
        // those of rows 1, 2 × columns 1, 2 → 12 cells. Triangle: centre (4.5, 0.5) is right of
        // x = 4.25 → inside (cell (3, 4), value 20); (4.5, 1.5) is left of x = 4.75 → outside.
        // 13 cells − NaN (0,0) − excluded (1,3) = 11. Values: 2 3 4 | 6 | 11 14 | 16 17 18 19 | 20 → Σ 130.
        assert_eq!(s.count, 11);
        assert_eq!(s.weighted_count, 11.0);
        assert_eq!(s.sum, 130.0);
        assert!((s.mean.unwrap() - 130.0 / 11.0).abs() < 1e-12);
        assert!((s.std.unwrap() - 6.575_687_752_736_409_5).abs() < 1e-9);
        assert_eq!((s.min, s.max), (Some(2.0), Some(20.0)));
    }

    #[test]
    fn polygon_outside_and_bad_inputs() {
        let (g, v) = grid45();
        let far = MultiPolygon(vec![polygon![(x: 100.0, y: 100.0), (x: 101.0, y: 100.0), (x: 101.0, y: 101.0)]]);
        let s = &zonal_stats(&g, &v, None, &[far], &ZonalOptions::default()).unwrap()[0];
        assert_eq!((s.count, s.mean, s.std), (0, None, None));
        assert!(matches!(zonal_stats(&g, &v[..3], None, &[], &ZonalOptions::default()), Err(CoreError::BufferSize { .. })));
        let bad = MultiPolygon(vec![polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0)]]);
        let e = zonal_stats(&g, &v, None, &[ring_and_triangle(), bad], &ZonalOptions::default()).unwrap_err();
        assert!(e.to_string().contains("polygon 1"), "{e}");
    }

    #[test]
    fn accumulator_merge_equals_whole() {
        let xs: Vec<(f32, f32)> = (0..200).map(|i| (((i * 37) % 101) as f32 * 0.1, 0.05 + ((i * 13) % 7) as f32 * 0.1)).collect();
        let mut whole = ZonalAccumulator::new(false);
        for &(x, w) in &xs {
            whole.add(x, w);
        }
        let mut a = ZonalAccumulator::new(false);
        let mut b = ZonalAccumulator::new(false);
        for &(x, w) in &xs[..77] {
            a.add(x, w);
        }
        for &(x, w) in &xs[77..] {
            b.add(x, w);
        }
        a.merge(&b);
        let (fa, fw) = (a.finish(), whole.finish());
        assert_eq!(fa.count, fw.count);
        assert!((fa.mean.unwrap() - fw.mean.unwrap()).abs() < 1e-12);
        assert!((fa.std.unwrap() - fw.std.unwrap()).abs() < 1e-12);
        assert!((fa.weighted_count - fw.weighted_count).abs() < 1e-12);
    }

    fn wavy(cx: f64, cy: f64, r0: f64, k: usize, n: usize) -> Polygon<f64> {
        let pts: Vec<(f64, f64)> = (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                let r = r0 * (1.0 + 0.3 * (k as f64 * a).sin());
                (cx + r * a.cos(), cy + r * a.sin())
            })
            .collect();
        Polygon::new(LineString::from(pts), vec![])
    }

    #[test]
    fn streaming_equals_in_memory_bit_for_bit() {
        let g = Grid::new(90, 70, GeoTransform::new(1000.0, 10.0, 9000.0, -10.0), Crs::new("local"));
        let v: Vec<f32> = (0..g.len()).map(|i| if i % 97 == 0 { f32::NAN } else { ((i * 7919) % 1000) as f32 / 999.0 }).collect();
        let ex: Vec<bool> = (0..g.len()).map(|i| i % 31 == 0).collect();
        let polys: Vec<MultiPolygon<f64>> = (0..12)
            .map(|i| {
                let cx = 1000.0 + 60.0 * i as f64;
                let cy = 8100.0 - 40.0 * i as f64;
                MultiPolygon(vec![wavy(cx, cy, 80.0 + 15.0 * i as f64, 2 + i % 4, 17 + i)])
            })
            .collect();
        for rule in [PixelRule::Centre, PixelRule::Coverage] {
            let opts = ZonalOptions::new(rule).keep_values(true);
            let mem = zonal_stats(&g, &v, Some(&ex), &polys, &opts).unwrap();
            for max_cells in [70, 70 * 7, 70 * 33, 1_000_000] {
                let mut reads = 0;
                let st = zonal_stats_streaming::<CoreError, _>(&g, &polys, &opts, max_cells, |w| {
                    reads += 1;
                    let mut values = Vec::with_capacity(w.len());
                    let mut exclude = Vec::with_capacity(w.len());
                    for r in w.row..w.row_end() {
                        let o = g.index(r, w.col);
                        values.extend_from_slice(&v[o..o + w.cols]);
                        exclude.extend_from_slice(&ex[o..o + w.cols]);
                    }
                    Ok(Block { values, exclude: Some(exclude) })
                })
                .unwrap();
                assert!(reads >= 1);
                for (a, b) in mem.iter().zip(&st) {
                    assert_eq!(a.count, b.count);
                    assert_eq!(a.weighted_count.to_bits(), b.weighted_count.to_bits());
                    assert_eq!(a.sum.to_bits(), b.sum.to_bits());
                    assert_eq!(a.mean.map(f64::to_bits), b.mean.map(f64::to_bits));
                    assert_eq!(a.std.map(f64::to_bits), b.std.map(f64::to_bits));
                    assert_eq!(a.values, b.values);
                }
            }
            // and the precomputed-coverage path agrees too
            let covs = super::super::coverages(&g, &polys, rule).unwrap();
            let fc = zonal_stats_from_coverages(&g, &v, Some(&ex), &covs, false).unwrap();
            for (a, b) in mem.iter().zip(&fc) {
                assert_eq!(a.mean.map(f64::to_bits), b.mean.map(f64::to_bits));
            }
            // a reader returning a wrong-size block is an error, not a panic
            let e = zonal_stats_streaming::<CoreError, _>(&g, &polys, &opts, 700, |_| Ok(Block { values: vec![0.0; 3], exclude: None }));
            assert!(matches!(e, Err(CoreError::BufferSize { .. })));
        }
    }

    #[test]
    fn thread_count_does_not_change_results() {
        let (g, v) = grid45();
        let polys: Vec<MultiPolygon<f64>> = (0..40).map(|i| MultiPolygon(vec![wavy(0.5 + 0.1 * i as f64, 2.0, 1.3, 3, 11)])).collect();
        let opts = ZonalOptions::new(PixelRule::Coverage);
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| zonal_stats(&g, &v, None, &polys, &opts).unwrap());
        let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap().install(|| zonal_stats(&g, &v, None, &polys, &opts).unwrap());
        assert_eq!(one, two);
    }
}
