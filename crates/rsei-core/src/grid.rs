//! Grids, windows and tiles: where every cell of a raster lies on the ground.
//!
//! A [`Grid`] is one immutable value: shape (rows, cols), a north-up [`GeoTransform`] and a [`Crs`].
//! A [`Window`] is a rectangle of cells inside a grid. Axis order is always (rows, cols) — row first,
//! like the memory layout (row-major) — never GDAL's (x, y) = (cols, rows).
//!
//! ```
//! use rsei_core::grid::{Crs, GeoTransform, Grid, Window};
//! let g = Grid::new(4, 6, GeoTransform::new(1000.0, 500.0, 9000.0, -500.0), Crs::modis_sinusoidal());
//! assert_eq!(g.cell_center(0, 0), (1250.0, 8750.0));
//! let w = Window::new(1, 2, 2, 3);
//! let sub = g.subgrid(w).unwrap();
//! assert_eq!(sub.transform().x0, 2000.0);
//! assert_eq!(g.row_strips(3).count(), 2);
//! ```

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

/// A north-up affine transform: `x = x0 + col · dx`, `y = y0 + row · dy` for the *corner* of a cell
/// (`dy` is negative for the usual north-up rasters). Rotated transforms are not supported: the
/// I/O layer rejects them with a clear error (MODIS grids and warped outputs are never rotated).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GeoTransform {
    /// x of the upper-left corner of cell (0, 0).
    pub x0: f64,
    /// Cell width (x step per column), > 0.
    pub dx: f64,
    /// y of the upper-left corner of cell (0, 0).
    pub y0: f64,
    /// y step per row (< 0 for north-up rasters).
    pub dy: f64,
}

impl GeoTransform {
    /// A transform from the corner of cell (0, 0) and the cell steps.
    pub const fn new(x0: f64, dx: f64, y0: f64, dy: f64) -> Self {
        Self { x0, dx, y0, dy }
    }

    /// From GDAL's six coefficients `[x0, dx, rx, y0, ry, dy]`; fails on rotation terms.
    pub fn from_gdal(gt: [f64; 6]) -> Result<Self> {
        if gt[2] != 0.0 || gt[4] != 0.0 {
            return Err(CoreError::InvalidOption {
                name: "geotransform".into(),
                reason: format!("rotated rasters are not supported (rotation terms {} and {})", gt[2], gt[4]),
            });
        }
        if !(gt[1].is_finite() && gt[5].is_finite() && gt[1] != 0.0 && gt[5] != 0.0) {
            return Err(CoreError::InvalidOption {
                name: "geotransform".into(),
                reason: format!("cell size must be finite and non-zero, got {} × {}", gt[1], gt[5]),
            });
        }
        Ok(Self::new(gt[0], gt[1], gt[3], gt[5]))
    }

    /// GDAL's six coefficients.
    pub fn to_gdal(&self) -> [f64; 6] {
        [self.x0, self.dx, 0.0, self.y0, 0.0, self.dy]
    }

    /// Map coordinates of a (fractional) cell position; `(row, col) = (0.5, 0.5)` is the centre of cell (0, 0).
    #[inline]
    pub fn xy(&self, row: f64, col: f64) -> (f64, f64) {
        (self.x0 + col * self.dx, self.y0 + row * self.dy)
    }

    /// Fractional (row, col) of a map position (inverse of [`GeoTransform::xy`]).
    #[inline]
    pub fn row_col(&self, x: f64, y: f64) -> (f64, f64) {
        ((y - self.y0) / self.dy, (x - self.x0) / self.dx)
    }
}

/// A coordinate reference system, held as its definition text (WKT, PROJ string or `AUTH:CODE`).
///
/// The core never interprets it: it only compares definitions. The I/O layer (which has PROJ through
/// GDAL) normalises definitions before they meet, so two grids in the same CRS carry the same text.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Crs(Arc<str>);

/// PROJ definition of the MODIS sinusoidal CRS (METHOD §1).
pub const MODIS_SINUSOIDAL_PROJ: &str = "+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs";
/// PROJ definition of the default equal-area CRS for areas and distances (METHOD §5, Asia North Albers).
pub const ASIA_NORTH_ALBERS_PROJ: &str =
    "+proj=aea +lat_0=30 +lon_0=95 +lat_1=15 +lat_2=65 +datum=WGS84 +units=m +no_defs";

impl Crs {
    /// A CRS from its definition text.
    pub fn new(definition: impl AsRef<str>) -> Self {
        Self(Arc::from(definition.as_ref().trim()))
    }
    /// The MODIS sinusoidal CRS.
    pub fn modis_sinusoidal() -> Self {
        Self::new(MODIS_SINUSOIDAL_PROJ)
    }
    /// The default equal-area CRS (Asia North Albers Equal Area Conic).
    pub fn asia_north_albers() -> Self {
        Self::new(ASIA_NORTH_ALBERS_PROJ)
    }
    /// The definition text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s: String = self.0.chars().take(60).collect();
        write!(f, "Crs({s}{})", if self.0.chars().count() > 60 { "…" } else { "" })
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A rectangle of cells: first row and column, and its size. Row first, always.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Window {
    /// First row.
    pub row: usize,
    /// First column.
    pub col: usize,
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
}

impl Window {
    /// A window from its first row and column and its size.
    pub const fn new(row: usize, col: usize, rows: usize, cols: usize) -> Self {
        Self { row, col, rows, cols }
    }
    /// Number of cells.
    pub const fn len(&self) -> usize {
        self.rows * self.cols
    }
    /// True when the window has no cell.
    pub const fn is_empty(&self) -> bool {
        self.rows == 0 || self.cols == 0
    }
    /// One past the last row.
    pub const fn row_end(&self) -> usize {
        self.row + self.rows
    }
    /// One past the last column.
    pub const fn col_end(&self) -> usize {
        self.col + self.cols
    }
    /// The overlap of two windows (possibly empty).
    pub fn intersection(&self, other: &Window) -> Window {
        let r0 = self.row.max(other.row);
        let c0 = self.col.max(other.col);
        let r1 = self.row_end().min(other.row_end());
        let c1 = self.col_end().min(other.col_end());
        Window::new(r0, c0, r1.saturating_sub(r0), c1.saturating_sub(c0))
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rows {}..{}, cols {}..{}", self.row, self.row_end(), self.col, self.col_end())
    }
}

/// Map-coordinate bounds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bounds {
    pub xmin: f64,
    pub ymin: f64,
    pub xmax: f64,
    pub ymax: f64,
}

impl Bounds {
    /// Bounds from their edges (sorted so that min ≤ max).
    pub fn new(x0: f64, y0: f64, x1: f64, y1: f64) -> Self {
        Self { xmin: x0.min(x1), ymin: y0.min(y1), xmax: x0.max(x1), ymax: y0.max(y1) }
    }
    /// True when the two bounds share some area.
    pub fn intersects(&self, o: &Bounds) -> bool {
        self.xmin < o.xmax && o.xmin < self.xmax && self.ymin < o.ymax && o.ymin < self.ymax
    }
    /// The smallest bounds holding both.
    pub fn union(&self, o: &Bounds) -> Bounds {
        Bounds { xmin: self.xmin.min(o.xmin), ymin: self.ymin.min(o.ymin), xmax: self.xmax.max(o.xmax), ymax: self.ymax.max(o.ymax) }
    }
    /// Width × height.
    pub fn area(&self) -> f64 {
        (self.xmax - self.xmin).max(0.0) * (self.ymax - self.ymin).max(0.0)
    }
}

/// Shape + transform + CRS of a raster: an immutable value that can be sliced into windows and tiles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    rows: usize,
    cols: usize,
    transform: GeoTransform,
    crs: Crs,
}

impl Grid {
    /// A grid of `rows × cols` cells.
    pub fn new(rows: usize, cols: usize, transform: GeoTransform, crs: Crs) -> Self {
        Self { rows, cols, transform, crs }
    }
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// (rows, cols).
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }
    /// Number of cells.
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }
    /// True for a grid without cells.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The affine transform.
    pub fn transform(&self) -> &GeoTransform {
        &self.transform
    }
    /// The CRS.
    pub fn crs(&self) -> &Crs {
        &self.crs
    }
    /// The same grid in another CRS definition (used when the I/O layer normalises the CRS text).
    pub fn with_crs(mut self, crs: Crs) -> Self {
        self.crs = crs;
        self
    }
    /// Cell size (width, height) in CRS units, both positive.
    pub fn cell_size(&self) -> (f64, f64) {
        (self.transform.dx.abs(), self.transform.dy.abs())
    }
    /// Area of one cell in squared CRS units.
    pub fn cell_area(&self) -> f64 {
        let (w, h) = self.cell_size();
        w * h
    }
    /// The whole grid as a window.
    pub fn full_window(&self) -> Window {
        Window::new(0, 0, self.rows, self.cols)
    }
    /// Map bounds of the grid.
    pub fn bounds(&self) -> Bounds {
        let (xa, ya) = self.transform.xy(0.0, 0.0);
        let (xb, yb) = self.transform.xy(self.rows as f64, self.cols as f64);
        Bounds::new(xa, ya, xb, yb)
    }
    /// Centre of cell (row, col) in map coordinates.
    #[inline]
    pub fn cell_center(&self, row: usize, col: usize) -> (f64, f64) {
        self.transform.xy(row as f64 + 0.5, col as f64 + 0.5)
    }
    /// Row-major index of cell (row, col).
    #[inline]
    pub fn index(&self, row: usize, col: usize) -> usize {
        row * self.cols + col
    }
    /// The cell holding map position (x, y), if inside the grid.
    pub fn cell_at(&self, x: f64, y: f64) -> Option<(usize, usize)> {
        let (r, c) = self.transform.row_col(x, y);
        if r >= 0.0 && c >= 0.0 && (r as usize) < self.rows && (c as usize) < self.cols {
            Some((r as usize, c as usize))
        } else {
            None
        }
    }
    /// Checks that a window lies inside the grid.
    pub fn check_window(&self, w: Window) -> Result<()> {
        if w.row_end() > self.rows || w.col_end() > self.cols {
            return Err(CoreError::WindowOutOfBounds { window: w.to_string(), rows: self.rows, cols: self.cols });
        }
        Ok(())
    }
    /// The grid of the cells inside a window.
    pub fn subgrid(&self, w: Window) -> Result<Grid> {
        self.check_window(w)?;
        let (x0, y0) = self.transform.xy(w.row as f64, w.col as f64);
        Ok(Grid::new(w.rows, w.cols, GeoTransform::new(x0, self.transform.dx, y0, self.transform.dy), self.crs.clone()))
    }
    /// Full-width strips of at most `strip_rows` rows, top to bottom. This is the tiling every
    /// streaming pass uses: statistics are accumulated per grid row and merged in row order, so the
    /// result does not depend on the strip height or on the number of threads.
    pub fn row_strips(&self, strip_rows: usize) -> impl Iterator<Item = Window> + '_ {
        let step = strip_rows.max(1);
        (0..self.rows).step_by(step).map(move |r| Window::new(r, 0, step.min(self.rows - r), self.cols))
    }
    /// Rectangular tiles of at most `tile_rows × tile_cols` cells, row-major.
    pub fn tiles(&self, tile_rows: usize, tile_cols: usize) -> impl Iterator<Item = Window> + '_ {
        let tr = tile_rows.max(1);
        let tc = tile_cols.max(1);
        (0..self.rows).step_by(tr).flat_map(move |r| {
            (0..self.cols).step_by(tc).map(move |c| Window::new(r, c, tr.min(self.rows - r), tc.min(self.cols - c)))
        })
    }
    /// Whether two grids describe exactly the same cells (shape, transform within 1e-6 cell, CRS text).
    pub fn same_as(&self, other: &Grid) -> bool {
        self.check_same(other).is_ok()
    }
    /// Like [`Grid::same_as`] but says what differs.
    pub fn check_same(&self, other: &Grid) -> Result<()> {
        if self.shape() != other.shape() {
            return Err(CoreError::GridMismatch(format!(
                "shape {}×{} vs {}×{}",
                self.rows, self.cols, other.rows, other.cols
            )));
        }
        self.check_aligned(other)?;
        let (r, c) = self.offset_of(other);
        if r != 0 || c != 0 {
            return Err(CoreError::GridMismatch(format!("origins differ by {r} rows and {c} columns")));
        }
        Ok(())
    }
    /// Whether `other` has the same CRS, the same cell size and an origin on this grid's cell lattice
    /// (tolerance 1e-6 of a cell), so windows of one map exactly to windows of the other.
    pub fn check_aligned(&self, other: &Grid) -> Result<()> {
        if self.crs != other.crs {
            return Err(CoreError::GridMismatch(format!("CRS differ: {:?} vs {:?}", self.crs, other.crs)));
        }
        let a = &self.transform;
        let b = &other.transform;
        let tol = 1e-6;
        if ((a.dx - b.dx) / a.dx).abs() > tol || ((a.dy - b.dy) / a.dy).abs() > tol {
            return Err(CoreError::GridMismatch(format!(
                "cell sizes differ: {}×{} vs {}×{}",
                a.dx, a.dy, b.dx, b.dy
            )));
        }
        let fc = (b.x0 - a.x0) / a.dx;
        let fr = (b.y0 - a.y0) / a.dy;
        if (fc - fc.round()).abs() > 1e-4 || (fr - fr.round()).abs() > 1e-4 {
            return Err(CoreError::GridMismatch(format!(
                "origins are not on the same cell lattice (offset {fr:.4} rows, {fc:.4} columns)"
            )));
        }
        Ok(())
    }
    /// Signed (rows, cols) offset of `other`'s origin in this grid's cells. Meaningful when aligned.
    pub fn offset_of(&self, other: &Grid) -> (i64, i64) {
        let a = &self.transform;
        let b = &other.transform;
        (((b.y0 - a.y0) / a.dy).round() as i64, ((b.x0 - a.x0) / a.dx).round() as i64)
    }
    /// For an aligned `other`, the window of `self` it covers (clipped to `self`) and the matching
    /// window of `other`. `None` when they do not overlap.
    pub fn overlap(&self, other: &Grid) -> Result<Option<(Window, Window)>> {
        self.check_aligned(other)?;
        let (ro, co) = self.offset_of(other);
        let r0 = ro.max(0);
        let c0 = co.max(0);
        let r1 = (ro + other.rows as i64).min(self.rows as i64);
        let c1 = (co + other.cols as i64).min(self.cols as i64);
        if r1 <= r0 || c1 <= c0 {
            return Ok(None);
        }
        let mine = Window::new(r0 as usize, c0 as usize, (r1 - r0) as usize, (c1 - c0) as usize);
        let theirs = Window::new((r0 - ro) as usize, (c0 - co) as usize, mine.rows, mine.cols);
        Ok(Some((mine, theirs)))
    }
    /// The smallest window of this grid whose cells cover `b` (clipped to the grid); `None` if disjoint.
    pub fn window_covering(&self, b: &Bounds) -> Option<Window> {
        let t = &self.transform;
        let (ra, ca) = t.row_col(b.xmin, b.ymax);
        let (rb, cb) = t.row_col(b.xmax, b.ymin);
        let (rmin, rmax) = (ra.min(rb), ra.max(rb));
        let (cmin, cmax) = (ca.min(cb), ca.max(cb));
        let eps = 1e-9;
        let r0 = (rmin + eps).floor().max(0.0);
        let c0 = (cmin + eps).floor().max(0.0);
        let r1 = (rmax - eps).ceil().min(self.rows as f64);
        let c1 = (cmax - eps).ceil().min(self.cols as f64);
        if r1 <= r0 || c1 <= c0 {
            return None;
        }
        Some(Window::new(r0 as usize, c0 as usize, (r1 - r0) as usize, (c1 - c0) as usize))
    }
    /// A grid on the lattice of this one (same cell size and CRS, origin on a cell corner) that covers
    /// `b`, extended beyond this grid's extent if needed. Used to build a study-area grid on the
    /// native MODIS lattice.
    pub fn snapped_grid(&self, b: &Bounds) -> Grid {
        let t = &self.transform;
        let (ra, ca) = t.row_col(b.xmin, b.ymax);
        let (rb, cb) = t.row_col(b.xmax, b.ymin);
        let eps = 1e-9;
        let r0 = (ra.min(rb) + eps).floor();
        let c0 = (ca.min(cb) + eps).floor();
        let r1 = (ra.max(rb) - eps).ceil().max(r0 + 1.0);
        let c1 = (ca.max(cb) - eps).ceil().max(c0 + 1.0);
        let (x0, y0) = t.xy(r0, c0);
        Grid::new((r1 - r0) as usize, (c1 - c0) as usize, GeoTransform::new(x0, t.dx, y0, t.dy), self.crs.clone())
    }
}

/// The MODIS sinusoidal tile system (METHOD §1).
pub mod modis {
    use super::{Crs, GeoTransform, Grid};

    /// Side of one tile in metres.
    pub const TILE_SIZE_M: f64 = 1_111_950.519_766_5;
    /// x of the western edge of tile column h = 0.
    pub const X_MIN: f64 = -20_015_109.355_797_7;
    /// y of the northern edge of tile row v = 0.
    pub const Y_MAX: f64 = 10_007_554.677_898_85;

    /// Nominal resolution of a MODIS grid.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    pub enum Resolution {
        /// 2400 × 2400 cells per tile (463.3127 m).
        M500,
        /// 1200 × 1200 cells per tile (926.6254 m).
        Km1,
    }

    impl Resolution {
        /// Cells per tile side.
        pub const fn cells_per_tile(self) -> usize {
            match self {
                Resolution::M500 => 2400,
                Resolution::Km1 => 1200,
            }
        }
        /// Cell size in metres.
        pub fn cell_size_m(self) -> f64 {
            TILE_SIZE_M / self.cells_per_tile() as f64
        }
    }

    /// The full grid of tile hHHvVV at a resolution.
    pub fn tile_grid(h: u8, v: u8, res: Resolution) -> Grid {
        let n = res.cells_per_tile();
        let cs = res.cell_size_m();
        let x0 = X_MIN + f64::from(h) * TILE_SIZE_M;
        let y0 = Y_MAX - f64::from(v) * TILE_SIZE_M;
        Grid::new(n, n, GeoTransform::new(x0, cs, y0, -cs), Crs::modis_sinusoidal())
    }

    /// The tile (h, v) whose area holds sinusoidal position (x, y).
    pub fn tile_of(x: f64, y: f64) -> (i64, i64) {
        (((x - X_MIN) / TILE_SIZE_M).floor() as i64, ((Y_MAX - y) / TILE_SIZE_M).floor() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g() -> Grid {
        Grid::new(10, 20, GeoTransform::new(100.0, 10.0, 500.0, -10.0), Crs::new("EPSG:3857"))
    }

    #[test]
    fn strips_cover_the_grid_once() {
        let grid = g();
        for h in 1..12 {
            let strips: Vec<_> = grid.row_strips(h).collect();
            assert_eq!(strips.iter().map(Window::len).sum::<usize>(), grid.len());
            assert_eq!(strips[0].row, 0);
            for w in strips.windows(2) {
                assert_eq!(w[0].row_end(), w[1].row);
            }
        }
    }

    #[test]
    fn tiles_cover_the_grid_once() {
        let grid = g();
        let mut seen = vec![0u8; grid.len()];
        for w in grid.tiles(3, 7) {
            for r in w.row..w.row_end() {
                for c in w.col..w.col_end() {
                    seen[grid.index(r, c)] += 1;
                }
            }
        }
        assert!(seen.iter().all(|&s| s == 1));
    }

    #[test]
    fn overlap_of_offset_grids() {
        let a = g();
        let b = a.subgrid(Window::new(2, 3, 4, 5)).unwrap();
        let (wa, wb) = a.overlap(&b).unwrap().unwrap();
        assert_eq!(wa, Window::new(2, 3, 4, 5));
        assert_eq!(wb, Window::new(0, 0, 4, 5));
        // b extends beyond a to the north-west
        let c = Grid::new(5, 5, GeoTransform::new(80.0, 10.0, 520.0, -10.0), a.crs().clone());
        let (wa, wc) = a.overlap(&c).unwrap().unwrap();
        assert_eq!(wa, Window::new(0, 0, 3, 3));
        assert_eq!(wc, Window::new(2, 2, 3, 3));
    }

    #[test]
    fn misaligned_and_other_crs_are_refused() {
        let a = g();
        let shifted = Grid::new(10, 20, GeoTransform::new(103.0, 10.0, 500.0, -10.0), a.crs().clone());
        assert!(matches!(a.overlap(&shifted), Err(CoreError::GridMismatch(_))));
        let other = a.clone().with_crs(Crs::new("EPSG:4326"));
        assert!(a.check_same(&other).is_err());
        assert!(a.check_same(&a.clone()).is_ok());
    }

    #[test]
    fn window_covering_bounds() {
        let a = g();
        // x 100..300, y 400..500
        let w = a.window_covering(&Bounds::new(115.0, 455.0, 131.0, 481.0)).unwrap();
        assert_eq!(w, Window::new(1, 1, 4, 3));
        assert!(a.window_covering(&Bounds::new(0.0, 0.0, 50.0, 50.0)).is_none());
        let s = a.snapped_grid(&Bounds::new(95.0, 455.0, 131.0, 481.0));
        assert_eq!(s.transform().x0, 90.0);
        assert_eq!(s.cols(), 5);
        assert!(a.check_aligned(&s).is_ok());
    }

    #[test]
    fn modis_tiles() {
        let t = modis::tile_grid(27, 5, modis::Resolution::M500);
        assert_eq!(t.shape(), (2400, 2400));
        assert!((t.cell_size().0 - 463.312_716_527_7).abs() < 1e-6);
        let (x, y) = t.cell_center(1200, 1200);
        assert_eq!(modis::tile_of(x, y), (27, 5));
        // the 1 km grid nests 2×2 in the 500 m grid
        let k = modis::tile_grid(27, 5, modis::Resolution::Km1);
        assert_eq!(k.bounds(), t.bounds());
        // Real file (SOURCES.md): the MOD09A1 subset of h18v04 starts at x = 753346.477, on the lattice
        let h18 = modis::tile_grid(18, 4, modis::Resolution::M500);
        let sub = Grid::new(73, 66, GeoTransform::new(753_346.477_074, 463.312_716_530_302_6, 5_132_114.960_978, -463.312_716_520_557), Crs::modis_sinusoidal());
        assert!(h18.check_aligned(&sub).is_ok());
    }
}
