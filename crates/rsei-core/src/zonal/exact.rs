//! Exact coverage fractions: the share of each grid cell's area that lies inside a polygon.
//!
//! The result is the one of exactextract's algorithm (walk every ring through the cells it crosses,
//! take the area left of the ring inside each crossed cell, fill the interior cells with 1), computed
//! here by a signed-area sweep that needs no flood fill and no topology:
//!
//! 1. Work in cell units relative to the polygon's window: `u = (x − x_w)/dx` (column),
//!    `v = (y − y_w)/dy` (row), so every cell is a unit square.
//! 2. Inside a row band `k ≤ v < k + 1`, the covered area of cell `c` is
//!    `∫ w(u, v) du dv` over the cell, where the winding number `w` counts the ring edges crossed by
//!    the horizontal ray from `(−∞, v)` to `(u, v)`. Each edge piece inside the band, from
//!    `(u_a, v_a)` to `(u_b, v_b)`, covers with signed height `h = ±(v_b − v_a)` every cell to its
//!    right completely and the cell it lies in partly (a trapezoid). The piece is split at column
//!    lines; a piece inside column `c` with mid-abscissa `u_m` deposits `h·(c + 1 − u_m)` into
//!    cell `c` and the remaining `h·(u_m − c)` into an accumulator of cell `c + 1`.
//! 3. A prefix sum along each row turns the deposits into areas: cells a ring crosses get their
//!    exact partial area, cells strictly inside get 1 (this is the "flood fill"), cells outside 0.
//!
//! Orientation: each ring's sign is taken from its own shoelace area so that exteriors add and
//! holes subtract, whatever the input orientation. Parts of a multipolygon add (valid parts are
//! disjoint); the result is clamped to [0, 1] and values below 1e-9 (float noise of the prefix sum)
//! are set to 0.
//!
//! Polygons partly outside the grid: pieces left of the window deposit their full height into the
//! first column, pieces right of it are dropped, rows outside are skipped — so the fractions of the
//! cells inside the grid are exact. Rows are processed in independent bands: computing the window in
//! several row chunks gives bit-identical fractions (each row's pieces come from the original
//! edge end points, never from a previous chunk).

use super::geom::{signed_area2, PreparedPolygon};
use crate::grid::{Grid, Window};

/// One polygon edge in window cell units with its ring's sign.
#[derive(Clone, Copy, Debug)]
struct Edge {
    u0: f64,
    v0: f64,
    u1: f64,
    v1: f64,
    vmin: f64,
    vmax: f64,
    /// +1 or −1 so that the exterior adds area and holes subtract it.
    s: f64,
}

impl Edge {
    #[inline]
    fn u_at(&self, v: f64) -> f64 {
        if v == self.v0 {
            self.u0
        } else if v == self.v1 {
            self.u1
        } else {
            self.u0 + (v - self.v0) * (self.u1 - self.u0) / (self.v1 - self.v0)
        }
    }
}

/// A polygon's edges in the cell coordinates of one grid, ready to produce fractions row by row.
#[derive(Clone, Debug)]
pub(crate) struct ExactRaster {
    edges: Vec<Edge>,
    window: Window,
}

impl ExactRaster {
    /// The polygon on `grid`, restricted to `window` (the cells of the grid the polygon's bounds touch).
    pub fn new(grid: &Grid, poly: &PreparedPolygon, window: Window) -> Self {
        let t = grid.transform();
        let (xw, yw) = t.xy(window.row as f64, window.col as f64);
        let mut edges = Vec::with_capacity(poly.num_vertices());
        let mut local: Vec<(f64, f64)> = Vec::new();
        for part in &poly.parts {
            for ring in part {
                local.clear();
                local.extend(ring.pts.iter().map(|&(x, y)| ((x - xw) / t.dx, (y - yw) / t.dy)));
                let a2 = signed_area2(&local);
                if a2 == 0.0 {
                    continue;
                }
                // With the deposit rule above a ring of positive shoelace area in (u, v) sums to −area,
                // so the exterior gets s = −sign(a2) and a hole the opposite.
                let sign = if a2 > 0.0 { -1.0 } else { 1.0 };
                let s = if ring.hole { -sign } else { sign };
                let n = local.len();
                for i in 0..n {
                    let (u0, v0) = local[i];
                    let (u1, v1) = local[(i + 1) % n];
                    if v0 == v1 {
                        continue; // horizontal edges add no area
                    }
                    edges.push(Edge { u0, v0, u1, v1, vmin: v0.min(v1), vmax: v0.max(v1), s });
                }
            }
        }
        Self { edges, window }
    }

    /// The window the fractions refer to.
    pub fn window(&self) -> Window {
        self.window
    }

    /// Coverage fractions of window rows `r_lo..r_hi` (relative to the window), row-major, written to
    /// `out` (resized to `(r_hi − r_lo) × window.cols`). `scratch` is reused between calls.
    pub fn rows(&self, r_lo: usize, r_hi: usize, scratch: &mut Vec<f64>, out: &mut Vec<f32>) {
        let ncols = self.window.cols;
        let nrows = r_hi.saturating_sub(r_lo);
        let stride = ncols + 1;
        scratch.clear();
        scratch.resize(nrows * stride, 0.0);
        out.clear();
        out.resize(nrows * ncols, 0.0);
        if nrows == 0 || ncols == 0 {
            return;
        }
        let (lo, hi) = (r_lo as f64, r_hi as f64);
        for e in &self.edges {
            if e.vmax <= lo || e.vmin >= hi {
                continue;
            }
            let dir = if e.v1 > e.v0 { e.s } else { -e.s };
            let ya0 = e.vmin.max(lo);
            let yb0 = e.vmax.min(hi);
            let k0 = ya0.floor() as usize;
            let k1 = (yb0.ceil() as usize).min(r_hi);
            for k in k0.max(r_lo)..k1 {
                let ya = ya0.max(k as f64);
                let yb = yb0.min((k + 1) as f64);
                if yb <= ya {
                    continue;
                }
                let row = &mut scratch[(k - r_lo) * stride..(k - r_lo + 1) * stride];
                deposit(row, ncols, e.u_at(ya), e.u_at(yb), (yb - ya) * dir);
            }
        }
        for (acc, dst) in scratch.chunks_exact(stride).zip(out.chunks_exact_mut(ncols)) {
            let mut s = 0.0f64;
            for (a, d) in acc[..ncols].iter().zip(dst.iter_mut()) {
                s += *a;
                *d = if s < 1e-9 {
                    0.0
                } else if s > 1.0 {
                    1.0
                } else {
                    s as f32
                };
            }
        }
    }
}

/// Deposits one edge piece lying inside a row band, from abscissa `xa` to `xb` (either order), with
/// signed height `h`, into the row accumulator `row` (`ncols + 1` entries).
#[inline]
fn deposit(row: &mut [f64], ncols: usize, xa: f64, xb: f64, h: f64) {
    let (xl, xr) = if xa <= xb { (xa, xb) } else { (xb, xa) };
    let n = ncols as f64;
    if xr <= 0.0 {
        // left of the window: covers every cell of the row
        row[0] += h;
        return;
    }
    if xl >= n {
        return; // right of the window: covers nothing in it
    }
    let w = xr - xl;
    if w == 0.0 {
        let c = (xl.floor() as usize).min(ncols - 1);
        let f = xl - c as f64;
        row[c] += h * (1.0 - f);
        row[c + 1] += h * f;
        return;
    }
    let k = h / w;
    let mut x = xl;
    if xl < 0.0 {
        row[0] += k * (-xl);
        x = 0.0;
    }
    let end = xr.min(n);
    let mut c = (x.floor() as usize).min(ncols - 1);
    while x < end {
        let nx = ((c + 1) as f64).min(end);
        let hp = k * (nx - x);
        let m = 0.5 * (x + nx) - c as f64;
        row[c] += hp * (1.0 - m);
        row[c + 1] += hp * m;
        x = nx;
        c += 1;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::grid::{Crs, GeoTransform};
    use geo_types::{polygon, LineString, MultiPolygon, Polygon};

    fn unit_grid(rows: usize, cols: usize) -> Grid {
        // x = col, y = rows − row: cell (r, c) spans x ∈ [c, c+1], y ∈ [rows−r−1, rows−r]
        Grid::new(rows, cols, GeoTransform::new(0.0, 1.0, rows as f64, -1.0), Crs::new("local"))
    }

    fn fractions(grid: &Grid, mp: &MultiPolygon<f64>) -> (Window, Vec<f32>) {
        let p = PreparedPolygon::new(mp).unwrap();
        let w = grid.window_covering(&p.bounds()).unwrap();
        let er = ExactRaster::new(grid, &p, w);
        let (mut s, mut o) = (Vec::new(), Vec::new());
        er.rows(0, w.rows, &mut s, &mut o);
        (w, o)
    }

    #[test]
    fn triangle_cutting_cells() {
        // 2×2 grid, x 0..2, y 0..2. Triangle (0,0) (2,0) (0,2): the line x + y = 2.
        // Cell (1,0) [x 0..1, y 0..1] fully inside → 1; cells (0,0) [y 1..2] and (1,1) [x 1..2]
        // are cut on the diagonal → 1/2 each; cell (0,1) [x 1..2, y 1..2] only touches at (1,1) → 0.
        let g = unit_grid(2, 2);
        let t = polygon![(x: 0.0, y: 0.0), (x: 2.0, y: 0.0), (x: 0.0, y: 2.0)];
        let (w, f) = fractions(&g, &MultiPolygon(vec![t.clone()]));
        assert_eq!(w, Window::new(0, 0, 2, 2));
        assert_eq!(f, vec![0.5, 0.0, 1.0, 0.5]);
        // the other orientation gives the same
        let rev = Polygon::new(LineString(t.exterior().0.iter().rev().cloned().collect()), vec![]);
        assert_eq!(fractions(&g, &MultiPolygon(vec![rev])).1, f);
    }

    #[test]
    fn square_offset_by_quarter_cells() {
        // Square x 0.25..1.75, y 0.5..1.5 on a 2×2 unit grid (area 1.5).
        // Cell (0,0): x 0..1, y 1..2 → overlap 0.75 × 0.5 = 0.375; (0,1): x 1..2 → 0.75 × 0.5 = 0.375;
        // (1,0), (1,1): same by symmetry in y → 0.375. Sum 1.5 = the square's area.
        let g = unit_grid(2, 2);
        let s = polygon![(x: 0.25, y: 0.5), (x: 1.75, y: 0.5), (x: 1.75, y: 1.5), (x: 0.25, y: 1.5)];
        let (_, f) = fractions(&g, &MultiPolygon(vec![s]));
        assert_eq!(f, vec![0.375; 4]);
    }

    #[test]
    fn polygon_with_hole_and_multipolygon() {
        // 4×4 grid. Exterior x 0.5..3.5, y 0.5..3.5; hole x 1.5..2.5, y 1.5..2.5.
        // Corner cells: 0.5 × 0.5 = 0.25; edge cells: 0.5 × 1 = 0.5; the 4 centre cells are cut by
        // the hole: 1 − 0.5 × 0.5 = 0.75. Total = 4·0.25 + 8·0.5 + 4·0.75 = 8 = 9 − 1.
        let g = unit_grid(4, 4);
        let p = Polygon::new(
            LineString::from(vec![(0.5, 0.5), (3.5, 0.5), (3.5, 3.5), (0.5, 3.5)]),
            vec![LineString::from(vec![(1.5, 1.5), (2.5, 1.5), (2.5, 2.5), (1.5, 2.5)])],
        );
        let (_, f) = fractions(&g, &MultiPolygon(vec![p.clone()]));
        #[rustfmt::skip]
        let want = vec![0.25, 0.5, 0.5, 0.25,
                        0.5, 0.75, 0.75, 0.5,
                        0.5, 0.75, 0.75, 0.5,
                        0.25, 0.5, 0.5, 0.25];
        assert_eq!(f, want);
        // A second part, the triangle (3,3) (4,3) (4,4) in cell (0,3): adds half that cell → 0.75.
        let t = polygon![(x: 3.6, y: 3.6), (x: 4.0, y: 3.6), (x: 4.0, y: 4.0)];
        // triangle area 0.4 × 0.4 / 2 = 0.08, all inside cell (0,3): 0.25 + 0.08 = 0.33
        let (_, f2) = fractions(&g, &MultiPolygon(vec![p, t]));
        assert!((f2[3] - 0.33).abs() < 1e-7, "{}", f2[3]);
        assert_eq!(f2[0], 0.25);
    }

    #[test]
    fn polygon_partly_outside_the_grid() {
        // 2×2 grid (x 0..2, y 0..2); square x −1..0.5, y −3..1.5 extends left and below.
        // Inside the grid it covers x 0..0.5, y 0..1.5: cell (1,0) [y 0..1] 0.5; cell (0,0) [y 1..2]
        // 0.5 × 0.5 = 0.25; the column x 1..2 nothing. The window is clipped to column 0.
        let g = unit_grid(2, 2);
        let s = polygon![(x: -1.0, y: -3.0), (x: 0.5, y: -3.0), (x: 0.5, y: 1.5), (x: -1.0, y: 1.5)];
        let (w, f) = fractions(&g, &MultiPolygon(vec![s]));
        assert_eq!(w, Window::new(0, 0, 2, 1));
        assert_eq!(f, vec![0.25, 0.5]);
        // A polygon covering the whole grid and more: every cell 1.
        let big = polygon![(x: -5.0, y: -5.0), (x: 9.0, y: -5.0), (x: 9.0, y: 9.0), (x: -5.0, y: 9.0)];
        let (w, f) = fractions(&g, &MultiPolygon(vec![big]));
        assert_eq!(w, Window::new(0, 0, 2, 2));
        assert_eq!(f, vec![1.0; 4]);
    }

    #[test]
    fn row_chunks_are_bit_identical() {
        let g = Grid::new(47, 41, GeoTransform::new(100.0, 30.0, 5000.0, -30.0), Crs::new("local"));
        let mut pts = Vec::new();
        for i in 0..23 {
            let a = i as f64 / 23.0 * std::f64::consts::TAU;
            let r = 400.0 + 170.0 * (3.0 * a).sin();
            pts.push((700.0 + r * a.cos(), 4400.0 + r * a.sin()));
        }
        let p = Polygon::new(LineString::from(pts), vec![]);
        let mp = MultiPolygon(vec![p]);
        let prep = PreparedPolygon::new(&mp).unwrap();
        let w = g.window_covering(&prep.bounds()).unwrap();
        let er = ExactRaster::new(&g, &prep, w);
        let (mut s, mut whole) = (Vec::new(), Vec::new());
        er.rows(0, w.rows, &mut s, &mut whole);
        let mut pieces = Vec::new();
        let mut o = Vec::new();
        for lo in (0..w.rows).step_by(4) {
            er.rows(lo, (lo + 4).min(w.rows), &mut s, &mut o);
            pieces.extend_from_slice(&o);
        }
        assert_eq!(whole.len(), pieces.len());
        assert!(whole.iter().zip(&pieces).all(|(a, b)| a.to_bits() == b.to_bits()));
        // Σ fractions × cell area = polygon area (to f32 precision)
        let total: f64 = whole.iter().map(|&f| f as f64).sum::<f64>() * 900.0;
        assert!((total - prep.area()).abs() / prep.area() < 1e-6, "{total} vs {}", prep.area());
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Σ fractions × cell area equals the polygon's area, every fraction lies in [0, 1], for random
        /// star polygons (any orientation) inside a 50 × 50 grid of 2 × 3 cells.
        #[test]
        fn fractions_conserve_area(cx in 40.0f64..60.0, cy in 60.0f64..90.0, r in 0.4f64..18.0,
                                   radii in prop::collection::vec(0.3f64..1.0, 3..40), reverse in any::<bool>()) {
            let g = Grid::new(50, 50, GeoTransform::new(0.0, 2.0, 150.0, -3.0), Crs::new("local"));
            let n = radii.len();
            let mut pts: Vec<(f64, f64)> = radii.iter().enumerate().map(|(k, f)| {
                let a = k as f64 / n as f64 * std::f64::consts::TAU;
                (cx + r * f * a.cos(), cy + r * f * a.sin())
            }).collect();
            if reverse { pts.reverse(); }
            let mp = MultiPolygon(vec![Polygon::new(LineString::from(pts), vec![])]);
            let prep = PreparedPolygon::new(&mp).unwrap();
            let (_, f) = fractions(&g, &mp);
            prop_assert!(f.iter().all(|&v| (0.0..=1.0).contains(&v)));
            let total: f64 = f.iter().map(|&v| f64::from(v)).sum::<f64>() * 6.0;
            let a = prep.area();
            prop_assert!((total - a).abs() <= 1e-6 * a + 1e-6, "{} vs {}", total, a);
        }
    }
}
