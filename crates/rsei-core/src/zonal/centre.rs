//! The pixel-centre rule: a cell belongs to a polygon when its centre is inside.
//!
//! This is the rule of ArcGIS zonal statistics and the default of `gdal_rasterize`, and this module
//! reproduces `gdal_rasterize`'s scanline fill (GDAL's `GDALdllImageFilledPolygon`, replace mode)
//! decision for decision, so masks match GDAL's cell for cell:
//!
//! - Map coordinates go to pixel coordinates with the inverted geotransform as GDAL applies it:
//!   `px = −x0/dx + X·(1/dx)`, `py = −y0/dy + Y·(1/dy)`.
//! - Each part of a multipolygon is filled on its own and the parts are united (GDAL rasterises the
//!   parts of a multipolygon separately in replace mode); inside a part, all rings (exterior and
//!   holes) count together by the **even–odd** rule.
//! - Every ring is first oriented clockwise in map coordinates (as GDAL does).
//! - Scanline of row `r` is `py = r + 0.5`. An edge with end points `py₁ < py₂` crosses it when
//!   `py₁ ≤ r + 0.5 < py₂` (half-open: a vertex exactly on the scanline is counted once). The crossing
//!   abscissa `xi` is rounded to the column boundary `⌊xi + 0.5⌋`; between two successive sorted
//!   crossings `a ≤ b` the cells `a … b−1` are inside. Hence a cell centre `cx` is inside a span when
//!   `xa < cx ≤ xb` (left boundary excluded, right boundary included).
//! - A horizontal edge lying exactly on a scanline fills the cells whose centre lies in `(x₂, x₁]`
//!   when the edge runs towards −x (`x₁ > x₂`, in the ring's clockwise order); edges running towards
//!   +x add nothing (they are GDAL's "top" edges, already filled by the regular spans).
//!
//! Only the boundary cases (centres exactly on an edge or a vertex) depend on these conventions.

use super::geom::{signed_area2, PreparedPolygon};
use crate::grid::{Grid, Window};

#[derive(Clone, Copy, Debug)]
struct PxEdge {
    x1: f64,
    y1: f64,
    x2: f64,
    y2: f64,
    ymin: f64,
    ymax: f64,
}

/// A polygon in pixel coordinates of one grid, ready to produce centre masks row by row.
#[derive(Clone, Debug)]
pub(crate) struct CentreRaster {
    /// Edges per part, in ring order (previous vertex → current vertex).
    parts: Vec<Vec<PxEdge>>,
    window: Window,
}

impl CentreRaster {
    pub fn new(grid: &Grid, poly: &PreparedPolygon, window: Window) -> Self {
        let t = grid.transform();
        // GDALInvGeoTransform for a north-up transform, then GDALApplyGeoTransform
        let (i0, i1) = (-t.x0 / t.dx, 1.0 / t.dx);
        let (i3, i5) = (-t.y0 / t.dy, 1.0 / t.dy);
        let mut parts = Vec::with_capacity(poly.parts.len());
        for part in &poly.parts {
            let mut edges = Vec::new();
            for ring in part {
                // clockwise in map coordinates (y up): negative shoelace area
                let cw = signed_area2(&ring.pts) <= 0.0;
                let pts: Vec<(f64, f64)> = if cw {
                    ring.pts.iter().map(|&(x, y)| (i0 + x * i1, i3 + y * i5)).collect()
                } else {
                    ring.pts.iter().rev().map(|&(x, y)| (i0 + x * i1, i3 + y * i5)).collect()
                };
                let n = pts.len();
                for i in 0..n {
                    let (x1, y1) = pts[(i + n - 1) % n];
                    let (x2, y2) = pts[i];
                    edges.push(PxEdge { x1, y1, x2, y2, ymin: y1.min(y2), ymax: y1.max(y2) });
                }
            }
            parts.push(edges);
        }
        Self { parts, window }
    }

    pub fn window(&self) -> Window {
        self.window
    }

    /// Centre mask (1 inside, 0 outside) of window rows `r_lo..r_hi`, row-major, into `out`.
    pub fn rows(&self, r_lo: usize, r_hi: usize, ints: &mut Vec<i64>, out: &mut Vec<f32>) {
        let w = self.window;
        let ncols = w.cols;
        let nrows = r_hi.saturating_sub(r_lo);
        out.clear();
        out.resize(nrows * ncols, 0.0);
        let (c0, c1) = (w.col as i64, (w.col + w.cols) as i64);
        for k in 0..nrows {
            let dst = &mut out[k * ncols..(k + 1) * ncols];
            let y = (w.row + r_lo + k) as f64 + 0.5;
            let mut fill = |a: i64, b_incl: i64| {
                let a = a.max(c0);
                let b = (b_incl + 1).min(c1);
                if a < b {
                    for v in &mut dst[(a - c0) as usize..(b - c0) as usize] {
                        *v = 1.0;
                    }
                }
            };
            for edges in &self.parts {
                ints.clear();
                for e in edges {
                    if e.ymax < y || e.ymin > y {
                        continue;
                    }
                    let (dy1, dy2, dx1, dx2) = if e.y1 < e.y2 {
                        (e.y1, e.y2, e.x1, e.x2)
                    } else if e.y1 > e.y2 {
                        (e.y2, e.y1, e.x2, e.x1)
                    } else {
                        // horizontal edge on the scanline
                        if e.x1 > e.x2 {
                            fill(round_half_up(e.x2), round_half_up(e.x1) - 1);
                        }
                        continue;
                    };
                    if y < dy2 && y >= dy1 {
                        let xi = (y - dy1) * (dx2 - dx1) / (dy2 - dy1) + dx1;
                        ints.push(round_half_up(xi));
                    }
                }
                ints.sort_unstable();
                for pair in ints.chunks_exact(2) {
                    fill(pair[0], pair[1] - 1);
                }
            }
        }
    }
}

/// `⌊x + 0.5⌋` as an integer, saturating far outside any grid.
#[inline]
fn round_half_up(x: f64) -> i64 {
    let r = (x + 0.5).floor();
    if r < -1e15 {
        -1_000_000_000_000_000
    } else if r > 1e15 {
        1_000_000_000_000_000
    } else {
        r as i64
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::grid::{Crs, GeoTransform};
    use geo_types::{polygon, LineString, MultiPolygon, Polygon};

    fn mask(grid: &Grid, mp: &MultiPolygon<f64>) -> (Window, Vec<f32>) {
        let p = PreparedPolygon::new(mp).unwrap();
        let w = grid.window_covering(&p.bounds()).unwrap();
        let cr = CentreRaster::new(grid, &p, w);
        let (mut i, mut o) = (Vec::new(), Vec::new());
        cr.rows(0, w.rows, &mut i, &mut o);
        (w, o)
    }

    fn unit_grid(rows: usize, cols: usize) -> Grid {
        Grid::new(rows, cols, GeoTransform::new(0.0, 1.0, rows as f64, -1.0), Crs::new("local"))
    }

    #[test]
    fn triangle_centres() {
        // 3×3 grid, centres at x, y ∈ {0.5, 1.5, 2.5}. Triangle (0,0) (3,0) (0,3): inside when
        // x + y < 3 (strictly, except on the boundary conventions). Centres with x + y = 1, 2 are
        // inside; x + y = 3 lies on the hypotenuse: (0.5, 2.5), (1.5, 1.5), (2.5, 0.5).
        // Scanline through y = 1.5 (row 1): crossings at x = 0 and x = 1.5 → columns ⌊0.5⌋ = 0 to
        // ⌊2.0⌋ − 1 = 1 → centre 1.5 on the edge is included (right boundary included).
        // Row 0 (y = 2.5): crossing x = 0.5 → cells 0..⌊1.0⌋−1 = 0: the centre (0.5, 2.5) is on the
        // edge → included. Row 2 (y = 0.5): crossing at 2.5 → cells 0..⌊3.0⌋−1 = 2 → included.
        let g = unit_grid(3, 3);
        let t = polygon![(x: 0.0, y: 0.0), (x: 3.0, y: 0.0), (x: 0.0, y: 3.0)];
        let (_, m) = mask(&g, &MultiPolygon(vec![t]));
        assert_eq!(m, vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0]);
    }

    #[test]
    fn hole_and_parts() {
        // 5×5 grid; exterior x 0.2..4.8, y 0.2..4.8 holds every centre; the hole x 1.2..3.8,
        // y 1.2..3.8 removes the 3×3 centres with x, y ∈ {1.5, 2.5, 3.5} → 25 − 9 = 16 cells, a ring.
        // A second part inside the hole (x 2.2..2.8, y 2.2..2.8) holds the centre (2.5, 2.5) → 17.
        let g = unit_grid(5, 5);
        let ring = Polygon::new(
            LineString::from(vec![(0.2, 0.2), (4.8, 0.2), (4.8, 4.8), (0.2, 4.8)]),
            vec![LineString::from(vec![(1.2, 1.2), (3.8, 1.2), (3.8, 3.8), (1.2, 3.8)])],
        );
        let (_, m) = mask(&g, &MultiPolygon(vec![ring.clone()]));
        assert_eq!(m.iter().filter(|&&v| v == 1.0).count(), 16);
        assert_eq!(m[2 * 5 + 2], 0.0);
        let island = polygon![(x: 2.2, y: 2.2), (x: 2.8, y: 2.2), (x: 2.8, y: 2.8), (x: 2.2, y: 2.8)];
        let (_, m2) = mask(&g, &MultiPolygon(vec![ring, island]));
        assert_eq!(m2.iter().filter(|&&v| v == 1.0).count(), 17);
        assert_eq!(m2[2 * 5 + 2], 1.0);
    }

    #[test]
    fn boundary_conventions() {
        // 1×4 grid (y 0..1), centres x = 0.5, 1.5, 2.5, 3.5. Rectangle x 0.5..2.5 (vertices exactly
        // on centres), y 0..1: left edge x = 0.5 excluded, right edge x = 2.5 included → cells 1, 2.
        let g = unit_grid(1, 4);
        let r = polygon![(x: 0.5, y: 0.0), (x: 2.5, y: 0.0), (x: 2.5, y: 1.0), (x: 0.5, y: 1.0)];
        let (w, m) = mask(&g, &MultiPolygon(vec![r]));
        assert_eq!(w, Window::new(0, 0, 1, 3));
        assert_eq!(m, vec![0.0, 1.0, 1.0]);
        // Rectangle x 0..4, y 0.5..2: its bottom edge lies exactly on the centres of row 0 (y = 0.5).
        // Pixel rows: py = 1 − y, so the rectangle spans py −1..0.5 and the scanline py = 0.5 is the
        // upper end of both vertical edges, which the half-open test excludes. The bottom edge, in
        // clockwise order, runs from x = 4 to x = 0 (towards −x) and fills the centres in (0, 4] →
        // all four cells, as gdal_rasterize does.
        let r2 = polygon![(x: 0.0, y: 0.5), (x: 4.0, y: 0.5), (x: 4.0, y: 2.0), (x: 0.0, y: 2.0)];
        let (_, m2) = mask(&g, &MultiPolygon(vec![r2]));
        assert_eq!(m2, vec![1.0; 4]);
    }

    use proptest::prelude::*;

    /// Brute-force even–odd point-in-polygon (ray towards +x).
    fn inside(pts: &[(f64, f64)], x: f64, y: f64) -> bool {
        let mut c = false;
        let n = pts.len();
        for i in 0..n {
            let (x1, y1) = pts[i];
            let (x2, y2) = pts[(i + 1) % n];
            if (y1 > y) != (y2 > y) && x < x1 + (y - y1) * (x2 - x1) / (y2 - y1) {
                c = !c;
            }
        }
        c
    }

    /// Distance from (x, y) to the segment a–b.
    fn seg_dist(a: (f64, f64), b: (f64, f64), x: f64, y: f64) -> f64 {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let l2 = dx * dx + dy * dy;
        let t = if l2 > 0.0 { (((x - a.0) * dx + (y - a.1) * dy) / l2).clamp(0.0, 1.0) } else { 0.0 };
        ((a.0 + t * dx - x).powi(2) + (a.1 + t * dy - y).powi(2)).sqrt()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Away from the boundary (centres farther than 1e-6 from every edge) the mask is exactly the
        /// set of centres inside the polygon, for random (possibly self-intersecting) polygons.
        #[test]
        fn mask_matches_point_in_polygon(pts in prop::collection::vec((0.0f64..30.0, 0.0f64..20.0), 3..25)) {
            let g = Grid::new(20, 30, GeoTransform::new(0.0, 1.0, 20.0, -1.0), Crs::new("local"));
            let mp = MultiPolygon(vec![Polygon::new(LineString::from(pts.clone()), vec![])]);
            let Ok(p) = PreparedPolygon::new(&mp) else { return Ok(()) };
            let Some(w) = g.window_covering(&p.bounds()) else { return Ok(()) };
            let cr = CentreRaster::new(&g, &p, w);
            let (mut i, mut o) = (Vec::new(), Vec::new());
            cr.rows(0, w.rows, &mut i, &mut o);
            let ring = &p.parts[0][0].pts;
            for r in 0..w.rows {
                for c in 0..w.cols {
                    let (x, y) = g.cell_center(w.row + r, w.col + c);
                    let n = ring.len();
                    let near = (0..n).any(|k| seg_dist(ring[k], ring[(k + 1) % n], x, y) < 1e-6);
                    if !near {
                        prop_assert_eq!(o[r * w.cols + c] == 1.0, inside(ring, x, y), "cell ({}, {})", r, c);
                    }
                }
            }
        }
    }
}
