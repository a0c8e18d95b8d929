//! # Zonal statistics: polygons over a raster grid (METHOD §5)
//!
//! Which cells of a grid belong to a polygon, and with what weight, under two rules:
//!
//! | rule | a cell's weight | reference |
//! |---|---|---|
//! | [`PixelRule::Centre`] (default) | 1 when the cell centre is inside, else 0 | ArcGIS zonal statistics, `gdal_rasterize` default |
//! | [`PixelRule::Coverage`] | the exact fraction of the cell's area inside (0..1) | exactextract |
//!
//! Both give a sparse [`Coverage`] over the polygon's bounding window only (memory bounded by the
//! polygon, not the raster). Zonal statistics ([`zonal_stats`], [`zonal_stats_streaming`],
//! [`zonal_stats_from_coverages`]) then weight each valid cell by its coverage:
//! `mean = Σ wᵢ·xᵢ / Σ wᵢ`, `std = √(Σ wᵢ·(xᵢ − mean)² / Σ wᵢ)` (population, weighted — exactextract's
//! definition; with the centre rule all weights are 1 and these are the ordinary mean and
//! population standard deviation). `NaN` cells and cells of an optional exclusion mask (e.g. water)
//! are skipped.
//!
//! **Coverage rule.** The exact fractions are those of exactextract's algorithm (walk each ring
//! through the cells it crosses, area left of the ring inside each crossed cell, interior cells
//! filled with 1), computed by a signed-area sweep: every ring edge deposits, row band by row band,
//! the trapezoid it cuts off each cell it crosses plus a carry for the cells to its right, and a
//! prefix sum along each row turns the deposits into areas — crossed cells get their partial area,
//! interior cells 1 (the fill), outside cells 0. Exterior rings add, holes subtract (whatever the
//! input orientation), multipolygon parts add; fractions are clamped to [0, 1] and values below 1e-9
//! dropped. Conformance: within 6e-8 of exactextract's fractions, means within 1e-9.
//!
//! **Centre rule (boundary convention).** Decision for decision the scanline fill of
//! `gdal_rasterize` (default, not `ALL_TOUCHED`): map → pixel coordinates through the inverted
//! geotransform; rings oriented clockwise; each part of a multipolygon filled on its own by the
//! even–odd rule over its rings, parts united; the scanline of row `r` is `r + 0.5`; an edge counts
//! when `y₁ ≤ r + 0.5 < y₂` (half-open); a crossing at `xi` becomes column boundary `⌊xi + 0.5⌋`, so
//! a centre exactly on a left edge is outside and on a right edge inside; a horizontal edge lying on
//! a scanline adds its centres `(x₂, x₁]` when it runs towards −x. Conformance: the same masks as
//! `gdal_rasterize` cell for cell, including a rectangle whose edges pass through cell centres.
//!
//! Determinism: each polygon's statistics are accumulated in row-major order of its window, whether
//! the raster is in memory or streamed in strips, and whatever the number of threads — results are
//! bit-identical across all these.
//!
//! ```
//! use geo_types::{polygon, MultiPolygon};
//! use rsei_core::grid::{Crs, GeoTransform, Grid};
//! use rsei_core::zonal::{zonal_stats, PixelRule, ZonalOptions};
//! // 2×2 grid of 1×1 cells, x 0..2, y 0..2; values row-major
//! let grid = Grid::new(2, 2, GeoTransform::new(0.0, 1.0, 2.0, -1.0), Crs::new("local"));
//! let values = [1.0f32, 2.0, 3.0, f32::NAN];
//! // the square x 0.75..1.25, y 0.75..1.25 covers 0.25 × 0.25 of each cell and no centre
//! let sq = MultiPolygon(vec![polygon![(x: 0.75, y: 0.75), (x: 1.25, y: 0.75), (x: 1.25, y: 1.25), (x: 0.75, y: 1.25)]]);
//! let cov = zonal_stats(&grid, &values, None, &[sq.clone()], &ZonalOptions::new(PixelRule::Coverage)).unwrap();
//! assert_eq!(cov[0].count, 3);                 // the NaN cell is skipped
//! assert_eq!(cov[0].weighted_count, 0.1875);   // 3 × 0.0625
//! assert_eq!(cov[0].mean, Some(2.0));          // (1 + 2 + 3) × 0.0625 / 0.1875
//! let ctr = zonal_stats(&grid, &values, None, &[sq], &ZonalOptions::default()).unwrap();
//! assert_eq!(ctr[0].count, 0);
//! assert_eq!(ctr[0].mean, None);
//! ```

mod centre;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod conformance;
mod exact;
mod geom;
mod stats;

use serde::{Deserialize, Serialize};

use geo_types::MultiPolygon;

use crate::error::Result;
use crate::grid::{Grid, Window};

pub use geom::{validate_multipolygon, PreparedPolygon};
pub use stats::{
    zonal_stats, zonal_stats_from_coverages, zonal_stats_prepared, zonal_stats_streaming, Block, ZonalAccumulator,
    ZonalOptions, ZonalStats,
};

/// How a cell is assigned to a polygon.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PixelRule {
    /// A cell belongs to the polygon when its centre is inside (weight 0 or 1), with
    /// `gdal_rasterize`'s boundary conventions.
    #[default]
    Centre,
    /// A cell is weighted by the exact fraction of its area inside the polygon.
    Coverage,
}

impl PixelRule {
    /// `"centre"` or `"coverage"`.
    pub fn name(self) -> &'static str {
        match self {
            PixelRule::Centre => "centre",
            PixelRule::Coverage => "coverage",
        }
    }

    /// `"centre"` (or `"center"`) or `"coverage"`, in any case, surrounding blanks ignored.
    ///
    /// ```
    /// use rsei_core::zonal::PixelRule;
    /// assert_eq!(PixelRule::parse(" Center "), Some(PixelRule::Centre));
    /// assert_eq!(PixelRule::parse("coverage"), Some(PixelRule::Coverage));
    /// assert_eq!(PixelRule::parse("touch"), None);
    /// ```
    pub fn parse(s: &str) -> Option<PixelRule> {
        match s.trim().to_ascii_lowercase().as_str() {
            "centre" | "center" => Some(PixelRule::Centre),
            "coverage" => Some(PixelRule::Coverage),
            _ => None,
        }
    }
}

/// The weights of one polygon on a grid, over the polygon's bounding window only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// The cells of the grid the fractions refer to (the polygon's bounds clipped to the grid).
    pub window: Window,
    /// Row-major weights of the window's cells, in 0..1 (0/1 for the centre rule).
    pub fractions: Vec<f32>,
}

impl Coverage {
    /// Weight of grid cell (row, col); 0 outside the window.
    pub fn get(&self, row: usize, col: usize) -> f32 {
        let w = &self.window;
        if row < w.row || row >= w.row_end() || col < w.col || col >= w.col_end() {
            return 0.0;
        }
        self.fractions[(row - w.row) * w.cols + (col - w.col)]
    }
    /// Σ weights (cells; multiply by the cell area for the covered area).
    pub fn weighted_count(&self) -> f64 {
        self.fractions.iter().map(|&f| f64::from(f)).sum()
    }
    /// Number of cells with a weight > 0.
    pub fn cell_count(&self) -> usize {
        self.fractions.iter().filter(|&&f| f > 0.0).count()
    }
    /// The cells with a weight > 0 as `(row, col, weight)` in grid coordinates, row-major.
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize, f32)> + '_ {
        let w = self.window;
        self.fractions
            .iter()
            .enumerate()
            .filter(|(_, &f)| f > 0.0)
            .map(move |(i, &f)| (w.row + i / w.cols, w.col + i % w.cols, f))
    }
}

/// A prepared polygon on one grid under one rule: produces weights for any band of its window's rows.
#[derive(Clone, Debug)]
pub(crate) enum PolygonRaster {
    Exact(exact::ExactRaster),
    Centre(centre::CentreRaster),
}

/// Rows per chunk are chosen so a chunk of weights stays under this many cells.
pub(crate) const CHUNK_CELLS: usize = 1 << 20;

impl PolygonRaster {
    /// `None` when the polygon's bounds miss the grid.
    pub fn new(grid: &Grid, poly: &PreparedPolygon, rule: PixelRule) -> Option<Self> {
        let window = grid.window_covering(&poly.bounds())?;
        Some(match rule {
            PixelRule::Coverage => PolygonRaster::Exact(exact::ExactRaster::new(grid, poly, window)),
            PixelRule::Centre => PolygonRaster::Centre(centre::CentreRaster::new(grid, poly, window)),
        })
    }

    pub fn window(&self) -> Window {
        match self {
            PolygonRaster::Exact(e) => e.window(),
            PolygonRaster::Centre(c) => c.window(),
        }
    }

    /// Weights of window rows `r_lo..r_hi` into `out`.
    pub fn rows(&self, r_lo: usize, r_hi: usize, scratch: &mut Scratch, out: &mut Vec<f32>) {
        match self {
            PolygonRaster::Exact(e) => e.rows(r_lo, r_hi, &mut scratch.f, out),
            PolygonRaster::Centre(c) => c.rows(r_lo, r_hi, &mut scratch.i, out),
        }
    }

    /// Rows per chunk for bounded memory.
    pub fn chunk_rows(&self) -> usize {
        (CHUNK_CELLS / self.window().cols.max(1)).max(1)
    }
}

/// Reusable buffers of [`PolygonRaster::rows`].
#[derive(Default)]
pub(crate) struct Scratch {
    f: Vec<f64>,
    i: Vec<i64>,
}

/// The weights of one polygon on a grid, computed for any rows on demand: memory is bounded by
/// the rows asked for, whatever the size of the grid. The values are those of [`coverage`] (rows
/// are computed independently of one another).
#[derive(Clone, Debug)]
pub struct RowWeights {
    raster: Option<PolygonRaster>,
    cols: usize,
}

impl RowWeights {
    /// The weights of `polygon` on `grid` under `rule`.
    pub fn new(grid: &Grid, polygon: &PreparedPolygon, rule: PixelRule) -> Self {
        RowWeights { raster: PolygonRaster::new(grid, polygon, rule), cols: grid.cols() }
    }

    /// Whether each cell of grid rows `rows` (all columns, row-major) has a weight above 0 —
    /// the cells inside the polygon under the rule.
    pub fn inside(&self, rows: std::ops::Range<usize>) -> Vec<bool> {
        let mut out = vec![false; rows.len() * self.cols];
        let Some(pr) = &self.raster else { return out };
        let w = pr.window();
        let (r0, r1) = (rows.start.max(w.row), rows.end.min(w.row_end()));
        if r0 >= r1 {
            return out;
        }
        let mut scratch = Scratch::default();
        let mut buf = Vec::new();
        let step = pr.chunk_rows();
        let mut r = r0;
        while r < r1 {
            let e = (r + step).min(r1);
            pr.rows(r - w.row, e - w.row, &mut scratch, &mut buf);
            for (k, row) in buf.chunks_exact(w.cols).enumerate() {
                let o = (r + k - rows.start) * self.cols + w.col;
                for (c, &f) in row.iter().enumerate() {
                    out[o + c] = f > 0.0;
                }
            }
            r = e;
        }
        out
    }
}

/// The weights of one polygon on a grid (`None` when it misses the grid).
///
/// ```
/// use geo_types::{polygon, MultiPolygon};
/// use rsei_core::grid::{Crs, GeoTransform, Grid, Window};
/// use rsei_core::zonal::{coverage, PixelRule};
/// let grid = Grid::new(2, 2, GeoTransform::new(0.0, 1.0, 2.0, -1.0), Crs::new("local"));
/// // triangle below the diagonal x + y = 2
/// let t = MultiPolygon(vec![polygon![(x: 0.0, y: 0.0), (x: 2.0, y: 0.0), (x: 0.0, y: 2.0)]]);
/// let c = coverage(&grid, &t, PixelRule::Coverage).unwrap().unwrap();
/// assert_eq!(c.window, Window::new(0, 0, 2, 2));
/// assert_eq!(c.fractions, vec![0.5, 0.0, 1.0, 0.5]);
/// assert_eq!(c.weighted_count(), 2.0); // = triangle area / cell area
/// ```
pub fn coverage(grid: &Grid, polygon: &MultiPolygon<f64>, rule: PixelRule) -> Result<Option<Coverage>> {
    let prep = PreparedPolygon::new(polygon)?;
    Ok(coverage_prepared(grid, &prep, rule))
}

/// [`coverage`] of an already prepared polygon.
pub fn coverage_prepared(grid: &Grid, polygon: &PreparedPolygon, rule: PixelRule) -> Option<Coverage> {
    let pr = PolygonRaster::new(grid, polygon, rule)?;
    let window = pr.window();
    let mut fractions = Vec::with_capacity(window.len());
    let mut scratch = Scratch::default();
    let mut buf = Vec::new();
    let step = pr.chunk_rows();
    let mut r = 0;
    while r < window.rows {
        let r1 = (r + step).min(window.rows);
        pr.rows(r, r1, &mut scratch, &mut buf);
        fractions.extend_from_slice(&buf);
        r = r1;
    }
    Some(Coverage { window, fractions })
}

/// [`coverage`] of many polygons, in parallel, in input order. An invalid polygon gives an error
/// naming its index.
pub fn coverages(grid: &Grid, polygons: &[MultiPolygon<f64>], rule: PixelRule) -> Result<Vec<Option<Coverage>>> {
    use rayon::prelude::*;
    let prepared = prepare_all(polygons)?;
    Ok(prepared.par_iter().map(|p| coverage_prepared(grid, p, rule)).collect())
}

/// Validates and prepares polygons in parallel; the first invalid one (lowest index) is reported.
pub fn prepare_all(polygons: &[MultiPolygon<f64>]) -> Result<Vec<PreparedPolygon>> {
    use rayon::prelude::*;
    let all: Vec<Result<PreparedPolygon>> = polygons
        .par_iter()
        .enumerate()
        .map(|(i, p)| {
            PreparedPolygon::new(p).map_err(|e| match e {
                crate::error::CoreError::InvalidGeometry(m) => {
                    crate::error::CoreError::InvalidGeometry(format!("polygon {i}: {m}"))
                }
                other => other,
            })
        })
        .collect();
    all.into_iter().collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod row_weights_tests {
    use super::*;
    use crate::grid::{Crs, GeoTransform};
    use geo_types::{polygon, MultiPolygon};

    /// Rows asked in any pieces give the cells of the whole coverage, under both rules, for a
    /// polygon that leaves the grid.
    #[test]
    fn rows_on_demand_equal_the_whole_coverage() {
        let grid = Grid::new(37, 29, GeoTransform::new(0.0, 1.0, 37.0, -1.0), Crs::new("local"));
        let p = MultiPolygon(vec![polygon![(x: 3.3, y: -4.0), (x: 31.0, y: 12.7), (x: 14.2, y: 35.9), (x: 1.1, y: 20.4)]]);
        let prep = PreparedPolygon::new(&p).unwrap();
        for rule in [PixelRule::Centre, PixelRule::Coverage] {
            let mut whole = vec![false; grid.len()];
            for (r, c, _) in coverage(&grid, &p, rule).unwrap().unwrap().iter() {
                whole[grid.index(r, c)] = true;
            }
            assert!(whole.iter().any(|&b| b) && whole.iter().any(|&b| !b));
            let rw = RowWeights::new(&grid, &prep, rule);
            for step in [1, 5, 37] {
                let mut got = Vec::new();
                let mut r = 0;
                while r < grid.rows() {
                    let e = (r + step).min(grid.rows());
                    got.extend(rw.inside(r..e));
                    r = e;
                }
                assert_eq!(got, whole, "{rule:?} step {step}");
            }
        }
    }
}
