//! Distances that go around barriers (a coastline, a ridge line, any line or polygon boundary that
//! a straight line may not cross), on a grid.
//!
//! # Barrier raster
//! [`rasterize_barrier`] marks every cell whose interior a barrier segment passes through (a
//! "supercover"; a segment lying exactly on a cell edge blocks the cells on both sides), then closes
//! diagonal pinches: wherever two blocked cells touch only at a corner, the upper free cell of that
//! 2 × 2 block is blocked too, repeatedly until none is left, so that no straight line can slip
//! between them. Blocked cells form the obstacle: the union of their squares.
//!
//! # Line of sight
//! A segment is visible when it does not pass through the interior of a blocked cell — running
//! along the edge of a blocked cell or touching its corner is allowed; running along the shared edge
//! of two blocked cells is not. The cells holding the segment's own end points are exempt (a mine
//! cell or a target cell may lie under the barrier). The test walks the cells the segment crosses
//! (every crossing of a grid line, in order); a summed-area table of blocked cells skips segments
//! whose bounding box holds no blocked cell.
//!
//! # Shortest paths
//! In the plane with polygonal obstacles a shortest path is a chain of straight segments that bend
//! only at convex obstacle corners. Here those are the grid corners with exactly one blocked cell
//! among the four around them (outside the grid counts as blocked: paths stay inside the grid).
//! [`distance_with_barrier`] works in three steps:
//! 1. the exact Euclidean distance transform ([`super::distance`]) gives each cell its nearest
//!    source; when that source is in sight, the straight distance is the shortest path (nothing is
//!    shorter than a straight line) and the cell is final;
//! 2. the other cells are reached by a multi-source Dijkstra over cells and convex corners in the
//!    manner of Theta* (Nash, Daniel, Koenig & Felner 2007): each node keeps a *parent* — a source,
//!    a corner, or a cell — and offers its neighbours the first of {its parent, the settled convex
//!    corners of its cell, itself} that they see (the shortest), so paths bend at barrier corners;
//! 3. the convex corners gather the best parent of the 4 × 4 cells around them, their lengths are
//!    shortened by Dijkstra on the corners' visibility graph (corner to corner in sight), and step 2
//!    runs again from the corners fixed at those lengths.
//!
//! Every reported distance is the length of a real unobstructed path.
//!
//! # Accuracy and limits
//! - Cells that see their nearest source: exact (equal to the Euclidean distance transform).
//! - A path that must go round one end of a wall is found exactly (source → wall corner(s) →
//!   target; tested against the hand-computed length to 1e-9).
//! - Otherwise the distances are compared with the exact shortest paths (Dijkstra on the full
//!   visibility graph of sources and convex corners) on 400 random fields of barrier segments
//!   (test `theta_star_close_to_visibility_graph`): never shorter, equal for 99.4 % of the free
//!   cells, at most 1.01 % longer (in thin wedges of shadow whose best corner is not the parent of
//!   any neighbouring cell).
//! - Cells under the barrier are reached from a free neighbour (a path enters them but never
//!   crosses them); their distance is that of such a path.
//! - The barrier is resolved at the grid's cell size: a barrier blocks whole cells, so gaps
//!   narrower than a cell are closed and a path may not pass closer to a barrier line than the
//!   edge of its cells. Paths stay inside the grid: pad the grid so that detours round the end of
//!   a barrier fit in it. Cells enclosed by the barrier with no source inside are unreachable
//!   (`NaN`).
//! - Cost: step 1 is one line-of-sight test per cell; steps 2–3 touch only cells in the shadow of
//!   the barrier, plus `O(V²)` line-of-sight tests between the `V` convex corners.
//!
//! Single-threaded Dijkstra with ties broken by node index (step 1 runs in parallel, cell by cell):
//! the result does not depend on the number of threads.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rayon::prelude::*;

use super::distance::{distance_transform, NO_SOURCE};
use crate::error::{CoreError, Result};
use crate::grid::Grid;

/// Blocked cells of `grid` under barrier lines given in the grid's map coordinates (each line a
/// list of vertices; a polygon barrier is given as its rings). A single-vertex line blocks the cell
/// holding it. See the module documentation for the rules.
///
/// Errors: a non-finite coordinate (naming the line and vertex).
///
/// ```
/// use rsei_core::drivers::rasterize_barrier;
/// use rsei_core::{Crs, GeoTransform, Grid};
/// // 3 × 3 cells of 1 × 1; a vertical line x = 1.5 from y = 3 down to y = 1 crosses the middle
/// // column in the two upper rows
/// let g = Grid::new(3, 3, GeoTransform::new(0.0, 1.0, 3.0, -1.0), Crs::new("local"));
/// let b = rasterize_barrier(&g, &[vec![(1.5, 3.0), (1.5, 1.0)]]).unwrap();
/// assert_eq!(b, vec![false, true, false, false, true, false, false, false, false]);
/// ```
pub fn rasterize_barrier(grid: &Grid, lines: &[Vec<(f64, f64)>]) -> Result<Vec<bool>> {
    let (rows, cols) = grid.shape();
    let mut blocked = vec![false; grid.len()];
    let t = grid.transform();
    let to_cell = |(x, y): (f64, f64)| -> (f64, f64) { ((x - t.x0) / t.dx, (y - t.y0) / t.dy) };
    for (li, line) in lines.iter().enumerate() {
        if let Some((vi, _)) = line.iter().enumerate().find(|(_, p)| !(p.0.is_finite() && p.1.is_finite())) {
            return Err(CoreError::InvalidGeometry(format!("barrier line {li}: vertex {vi} is not finite")));
        }
        let mut mark = |r: isize, c: isize| {
            if r >= 0 && c >= 0 && (r as usize) < rows && (c as usize) < cols {
                blocked[r as usize * cols + c as usize] = true;
            }
        };
        if line.len() == 1 {
            let (x, y) = to_cell(line[0]);
            mark(y.floor() as isize, x.floor() as isize);
            continue;
        }
        for w in line.windows(2) {
            let (p, q) = (to_cell(w[0]), to_cell(w[1]));
            if p == q {
                mark(p.1.floor() as isize, p.0.floor() as isize);
                continue;
            }
            walk_segment(p, q, |piece| {
                match piece {
                    Piece::Inside(r, c) => mark(r, c),
                    Piece::Edge(a, b) => {
                        mark(a.0, a.1);
                        mark(b.0, b.1);
                    }
                }
                true
            });
        }
    }
    close_pinches(&mut blocked, rows, cols);
    Ok(blocked)
}

/// Blocks one free cell of every 2 × 2 block whose blocked cells touch only at the corner, until
/// none is left.
fn close_pinches(blocked: &mut [bool], rows: usize, cols: usize) {
    if rows < 2 || cols < 2 {
        return;
    }
    loop {
        let mut changed = false;
        for r in 0..rows - 1 {
            for c in 0..cols - 1 {
                let (a, b, cc, d) = (r * cols + c, r * cols + c + 1, (r + 1) * cols + c, (r + 1) * cols + c + 1);
                if blocked[a] && blocked[d] && !blocked[b] && !blocked[cc] {
                    blocked[b] = true;
                    changed = true;
                } else if blocked[b] && blocked[cc] && !blocked[a] && !blocked[d] {
                    blocked[a] = true;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
}

/// A stretch of a segment: inside one cell, or along a grid line between two cells.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Piece {
    /// (row, col) of the cell whose interior it crosses.
    Inside(isize, isize),
    /// The two (row, col) cells on either side of the grid line it runs along.
    Edge((isize, isize), (isize, isize)),
}

/// Crossings of the grid lines `k = const` by one coordinate going from `a` to `a + d`, as
/// increasing segment parameters `t = (k − a) / d`, produced lazily.
struct Crossings {
    k: f64,
    step: f64,
    left: u64,
    a: f64,
    d: f64,
}

impl Crossings {
    fn new(a: f64, d: f64) -> Self {
        let b = a + d;
        if d == 0.0 {
            return Crossings { k: 0.0, step: 0.0, left: 0, a, d };
        }
        // the integers strictly between a and b, in the direction of travel
        let (first, last, step) = if d > 0.0 { (a.floor() + 1.0, b.ceil() - 1.0, 1.0) } else { (a.ceil() - 1.0, b.floor() + 1.0, -1.0) };
        let n = ((last - first) * step + 1.0).max(0.0) as u64;
        Crossings { k: first, step, left: n, a, d }
    }
    fn peek(&self) -> f64 {
        if self.left == 0 {
            f64::INFINITY
        } else {
            (self.k - self.a) / self.d
        }
    }
    fn advance(&mut self) {
        self.k += self.step;
        self.left -= 1;
    }
}

/// Calls `visit` for each stretch of the segment `p → q` (cell coordinates: x = column, y = row,
/// cell (r, c) spans x ∈ [c, c + 1], y ∈ [r, r + 1]) between consecutive grid-line crossings, in
/// order, until `visit` returns false. Stretches shorter than 1e-12 of the segment (passing a grid
/// corner) are skipped. No allocation: the crossings of vertical and horizontal lines are merged
/// as they are produced.
fn walk_segment(p: (f64, f64), q: (f64, f64), mut visit: impl FnMut(Piece) -> bool) {
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let mut cx = Crossings::new(p.0, dx);
    let mut cy = Crossings::new(p.1, dy);
    let on_vertical = dx == 0.0 && p.0.fract() == 0.0;
    let on_horizontal = dy == 0.0 && p.1.fract() == 0.0;
    let mut t0 = 0.0;
    loop {
        let (tx, ty) = (cx.peek(), cy.peek());
        let t1 = tx.min(ty).min(1.0);
        if t1 - t0 > 1e-12 {
            let tm = 0.5 * (t0 + t1);
            let (mx, my) = (p.0 + tm * dx, p.1 + tm * dy);
            let (r, c) = (my.floor() as isize, mx.floor() as isize);
            let piece = if on_vertical {
                let k = p.0 as isize;
                Piece::Edge((r, k - 1), (r, k))
            } else if on_horizontal {
                let k = p.1 as isize;
                Piece::Edge((k - 1, c), (k, c))
            } else {
                Piece::Inside(r, c)
            };
            if !visit(piece) {
                return;
            }
        }
        if t1 >= 1.0 {
            return;
        }
        if tx <= ty {
            cx.advance();
        } else {
            cy.advance();
        }
        t0 = t1;
    }
}

/// Blocked cells with a summed-area table for fast "any blocked cell in this box?" tests.
struct Obstacles<'a> {
    rows: usize,
    cols: usize,
    blocked: &'a [bool],
    /// (rows + 1) × (cols + 1) prefix counts.
    sat: Vec<u32>,
}

impl<'a> Obstacles<'a> {
    fn new(rows: usize, cols: usize, blocked: &'a [bool]) -> Self {
        let mut sat = vec![0u32; (rows + 1) * (cols + 1)];
        for r in 0..rows {
            let mut run = 0u32;
            for c in 0..cols {
                run += u32::from(blocked[r * cols + c]);
                sat[(r + 1) * (cols + 1) + c + 1] = sat[r * (cols + 1) + c + 1] + run;
            }
        }
        Obstacles { rows, cols, blocked, sat }
    }

    /// Blocked cell; outside the grid counts as blocked (paths stay inside the grid: running along
    /// the grid's edge beside a blocked cell is not a way through).
    fn is_blocked(&self, r: isize, c: isize) -> bool {
        r < 0 || c < 0 || (r as usize) >= self.rows || (c as usize) >= self.cols || self.blocked[r as usize * self.cols + c as usize]
    }

    /// Number of blocked cells in rows r0..=r1, cols c0..=c1 (clamped to the grid).
    fn count(&self, r0: isize, r1: isize, c0: isize, c1: isize) -> u32 {
        let r0 = r0.max(0) as usize;
        let c0 = c0.max(0) as usize;
        let r1 = (r1 + 1).clamp(0, self.rows as isize) as usize;
        let c1 = (c1 + 1).clamp(0, self.cols as isize) as usize;
        if r1 <= r0 || c1 <= c0 {
            return 0;
        }
        let w = self.cols + 1;
        self.sat[r1 * w + c1] + self.sat[r0 * w + c0] - self.sat[r0 * w + c1] - self.sat[r1 * w + c0]
    }

    /// Line of sight between two points (cell coordinates); cells `exempt` do not block.
    ///
    /// The segment is halved recursively; a part whose bounding box (one cell wider towards
    /// lower indices, for the cells beside a grid line) holds no blocked cell is visible at once,
    /// and only short parts near blocked cells are walked cell by cell.
    fn visible(&self, p: (f64, f64), q: (f64, f64), exempt: [usize; 2]) -> bool {
        self.visible_part(p, q, exempt, 0)
    }

    fn visible_part(&self, p: (f64, f64), q: (f64, f64), exempt: [usize; 2], depth: u32) -> bool {
        let r0 = p.1.min(q.1).floor() as isize - 1;
        let r1 = p.1.max(q.1).floor() as isize;
        let c0 = p.0.min(q.0).floor() as isize - 1;
        let c1 = p.0.max(q.0).floor() as isize;
        if self.count(r0, r1, c0, c1) == 0 {
            return true;
        }
        let span = (q.0 - p.0).abs().max((q.1 - p.1).abs());
        if span > 8.0 && depth < 48 {
            // the midpoint of a segment along a grid line stays on it exactly
            let m = (0.5 * (p.0 + q.0), 0.5 * (p.1 + q.1));
            return self.visible_part(p, m, exempt, depth + 1) && self.visible_part(m, q, exempt, depth + 1);
        }
        let cols = self.cols as isize;
        let is_exempt = |r: isize, c: isize| {
            r >= 0 && c >= 0 && (r as usize) < self.rows && c < cols && exempt.contains(&((r * cols + c) as usize))
        };
        let mut ok = true;
        walk_segment(p, q, |piece| {
            // blocked: the interior of a blocked cell, or a grid line between two blocked cells
            let blocked = match piece {
                Piece::Inside(r, c) => self.is_blocked(r, c) && !is_exempt(r, c),
                Piece::Edge(a, b) => self.is_blocked(a.0, a.1) && self.is_blocked(b.0, b.1) && !is_exempt(a.0, a.1) && !is_exempt(b.0, b.1),
            };
            ok = !blocked;
            ok
        });
        ok
    }
}

/// Result of [`distance_with_barrier`].
#[derive(Clone, Debug, PartialEq)]
pub struct BarrierDistance {
    /// Shortest-path distance (CRS units) from each cell centre to the nearest source cell centre
    /// avoiding the barrier, row-major; `NaN` where no source can be reached.
    pub distance: Vec<f64>,
    /// Cells that see their nearest source in a straight line (exact distances).
    pub direct_cells: usize,
    /// Cells reached round the barrier.
    pub detour_cells: usize,
    /// Cells no source can reach.
    pub unreachable_cells: usize,
}

#[derive(Clone, Copy, PartialEq)]
struct QueueItem {
    g: f64,
    node: u32,
}

impl Eq for QueueItem {}

impl Ord for QueueItem {
    fn cmp(&self, o: &Self) -> Ordering {
        // min-heap on (g, node)
        o.g.total_cmp(&self.g).then_with(|| o.node.cmp(&self.node))
    }
}

impl PartialOrd for QueueItem {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

const NONE: u32 = u32::MAX;

/// Distance from each cell centre to the nearest `source` cell centre along unobstructed straight
/// segments that bend round `blocked` cells (see the module documentation for the algorithm,
/// its accuracy and limits). Without any blocked cell this is the Euclidean distance transform.
///
/// Errors: buffers of the wrong length, no source cell, a grid too large to index.
///
/// ```
/// use rsei_core::drivers::{distance_with_barrier, rasterize_barrier};
/// use rsei_core::{Crs, GeoTransform, Grid};
/// // 5 × 5 cells of 1 m; source at (row 0, col 0); a wall over column 2, rows 0..=3
/// let g = Grid::new(5, 5, GeoTransform::new(0.0, 1.0, 5.0, -1.0), Crs::new("local"));
/// let blocked = rasterize_barrier(&g, &[vec![(2.5, 5.0), (2.5, 1.2)]]).unwrap();
/// let mut src = vec![false; 25];
/// src[0] = true;
/// let d = distance_with_barrier(&g, &src, &blocked).unwrap();
/// // target (0, 4) goes round the wall's lower end: centre (0.5, 0.5) → corner (2, 4) →
/// // corner (3, 4) → centre (4.5, 0.5), in cell units x = column, y = row:
/// // √(1.5² + 3.5²) + 1 + √(1.5² + 3.5²)
/// let expect = 2.0 * (1.5f64.powi(2) + 3.5f64.powi(2)).sqrt() + 1.0;
/// assert!((d.distance[4] - expect).abs() < 1e-9);
/// ```
pub fn distance_with_barrier(grid: &Grid, sources: &[bool], blocked: &[bool]) -> Result<BarrierDistance> {
    let (rows, cols) = grid.shape();
    let n = rows * cols;
    for (name, len) in [("sources", sources.len()), ("barrier", blocked.len())] {
        if len != n {
            return Err(CoreError::InvalidOption { name: name.into(), reason: format!("{len} cells for a {rows} × {cols} grid") });
        }
    }
    let n_corners = (rows + 1) * (cols + 1);
    if n + n_corners >= NONE as usize {
        return Err(CoreError::InvalidOption { name: "grid".into(), reason: format!("{rows} × {cols} cells is too large") });
    }
    if !sources.iter().any(|&s| s) {
        return Err(CoreError::NoValidPixels("no source cell: distances are undefined".into()));
    }
    let (w, h) = grid.cell_size();
    let edt = distance_transform(rows, cols, w, h, sources)?;
    let sv = Solver { rows, cols, n, w, h, obs: Obstacles::new(rows, cols, blocked), sources, blocked };

    // Step 1: cells that see their nearest source are final.
    let direct: Vec<bool> = (0..n)
        .into_par_iter()
        .map(|i| {
            if sources[i] {
                return true;
            }
            let s = edt.nearest[i];
            s != NO_SOURCE && sv.obs.visible(sv.centre(s as usize), sv.centre(i), [s as usize, i])
        })
        .collect();
    let mut g = vec![f64::INFINITY; n + n_corners];
    let mut parent = vec![NONE; n + n_corners];
    for i in 0..n {
        if direct[i] {
            g[i] = if sources[i] { 0.0 } else { edt.distance[i] };
            parent[i] = if sources[i] { i as u32 } else { edt.nearest[i] };
        }
    }
    let mut fixed = direct.clone();
    fixed.resize(n + n_corners, false);
    // Step 2: Theta* over cells and convex corners.
    sv.theta_pass(&mut g, &mut parent, &fixed);
    // Step 3: shortest paths between the reached convex corners (visibility graph), then Theta*
    // again from the corners fixed at those lengths.
    let corners: Vec<usize> = (n..n + n_corners).filter(|&k| sv.is_vertex(k - n)).collect();
    if !corners.is_empty() {
        let improved = sv.refine_corners(&corners, &mut g, &mut parent);
        if improved {
            for i in 0..n {
                if !direct[i] {
                    g[i] = f64::INFINITY;
                    parent[i] = NONE;
                }
            }
            for &k in &corners {
                fixed[k] = true;
            }
            sv.theta_pass(&mut g, &mut parent, &fixed);
        }
    }
    let distance: Vec<f64> = g[..n].iter().map(|&d| if d.is_finite() { d } else { f64::NAN }).collect();
    let direct_cells = direct.iter().filter(|&&d| d).count();
    let unreachable_cells = distance.iter().filter(|d| d.is_nan()).count();
    Ok(BarrierDistance { distance, direct_cells, detour_cells: n - direct_cells - unreachable_cells, unreachable_cells })
}

/// The grid, its obstacles and the node numbering of [`distance_with_barrier`]: cells `0..n`
/// (centres), then grid corners `n..n + (rows + 1)(cols + 1)`.
struct Solver<'a> {
    rows: usize,
    cols: usize,
    n: usize,
    w: f64,
    h: f64,
    obs: Obstacles<'a>,
    sources: &'a [bool],
    blocked: &'a [bool],
}

impl Solver<'_> {
    fn centre(&self, i: usize) -> (f64, f64) {
        ((i % self.cols) as f64 + 0.5, (i / self.cols) as f64 + 0.5)
    }
    fn point(&self, node: usize) -> (f64, f64) {
        if node < self.n {
            self.centre(node)
        } else {
            let k = node - self.n;
            ((k % (self.cols + 1)) as f64, (k / (self.cols + 1)) as f64)
        }
    }
    /// The cell a node's point lies in (exempt from its own line-of-sight tests); none for corners.
    fn own_cell(&self, node: usize) -> usize {
        if node < self.n {
            node
        } else {
            usize::MAX
        }
    }
    fn len(&self, a: (f64, f64), b: (f64, f64)) -> f64 {
        (((a.0 - b.0) * self.w).powi(2) + ((a.1 - b.1) * self.h).powi(2)).sqrt()
    }
    fn sees(&self, a: usize, b: usize) -> bool {
        self.obs.visible(self.point(a), self.point(b), [self.own_cell(a), self.own_cell(b)])
    }
    /// Convex corner: exactly one of the four cells around corner `k` is blocked.
    fn is_vertex(&self, k: usize) -> bool {
        let (i, j) = ((k / (self.cols + 1)) as isize, (k % (self.cols + 1)) as isize);
        let o = &self.obs;
        let b = [o.is_blocked(i - 1, j - 1), o.is_blocked(i - 1, j), o.is_blocked(i, j - 1), o.is_blocked(i, j)];
        b.iter().filter(|&&x| x).count() == 1
    }

    /// Theta* (Dijkstra with line-of-sight parents) from every node with a finite `g`; nodes
    /// marked `fixed` keep their value.
    fn theta_pass(&self, g: &mut [f64], parent: &mut [u32], fixed: &[bool]) {
        let (rows, cols, n) = (self.rows, self.cols, self.n);
        let mut closed = vec![false; g.len()];
        // A settled cell only matters when it can offer something: a neighbour cell that is not
        // fixed, or a convex corner. The inside of the directly visible region is left out.
        let useful = |i: usize| -> bool {
            if i >= n || !fixed[i] {
                return true;
            }
            let (r, c) = (i / cols, i % cols);
            let (r0, r1, c0, c1) = (r.saturating_sub(1), (r + 1).min(rows - 1), c.saturating_sub(1), (c + 1).min(cols - 1));
            (r0..=r1).any(|rr| (c0..=c1).any(|cc| !fixed[rr * cols + cc]))
                || [r * (cols + 1) + c, r * (cols + 1) + c + 1, (r + 1) * (cols + 1) + c, (r + 1) * (cols + 1) + c + 1].iter().any(|&k| self.is_vertex(k))
        };
        let seeds: Vec<QueueItem> =
            (0..g.len()).into_par_iter().filter(|&i| g[i].is_finite() && useful(i)).map(|i| QueueItem { g: g[i], node: i as u32 }).collect();
        let mut heap: BinaryHeap<QueueItem> = seeds.into();
        let mut nbrs: Vec<usize> = Vec::with_capacity(12);
        let mut cands: Vec<usize> = Vec::with_capacity(6);
        while let Some(QueueItem { g: gu, node }) = heap.pop() {
            let u = node as usize;
            if closed[u] || gu > g[u] {
                continue;
            }
            closed[u] = true;
            nbrs.clear();
            if u < n {
                if self.blocked[u] && !self.sources[u] {
                    continue; // a target under the barrier: reached, never passed through
                }
                let (r, c) = ((u / cols) as isize, (u % cols) as isize);
                for (dr, dc) in [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)] {
                    let (rr, cc) = (r + dr, c + dc);
                    if rr >= 0 && cc >= 0 && (rr as usize) < rows && (cc as usize) < cols {
                        nbrs.push(rr as usize * cols + cc as usize);
                    }
                }
                for (i, j) in [(r, c), (r, c + 1), (r + 1, c), (r + 1, c + 1)] {
                    let k = i as usize * (cols + 1) + j as usize;
                    if self.is_vertex(k) {
                        nbrs.push(n + k);
                    }
                }
            } else {
                let k = u - n;
                let (i, j) = ((k / (cols + 1)) as isize, (k % (cols + 1)) as isize);
                for (rr, cc) in [(i - 1, j - 1), (i - 1, j), (i, j - 1), (i, j)] {
                    if rr >= 0 && cc >= 0 && (rr as usize) < rows && (cc as usize) < cols {
                        nbrs.push(rr as usize * cols + cc as usize);
                    }
                }
            }
            // candidate parents offered to the neighbours: u's parent, the settled convex corners
            // of u's cell (a path may bend there), and u itself
            cands.clear();
            cands.push(parent[u] as usize);
            if u < n {
                let (r, c) = (u / cols, u % cols);
                for k in [r * (cols + 1) + c, r * (cols + 1) + c + 1, (r + 1) * (cols + 1) + c, (r + 1) * (cols + 1) + c + 1] {
                    if closed[n + k] && !cands.contains(&(n + k)) {
                        cands.push(n + k);
                    }
                }
            }
            if !cands.contains(&u) {
                cands.push(u);
            }
            for &v in &nbrs {
                if closed[v] || fixed[v] {
                    continue;
                }
                let pv = self.point(v);
                let mut best: Option<(f64, usize)> = None;
                for &p in &cands {
                    let cand = g[p] + self.len(self.point(p), pv);
                    if best.is_some_and(|(b, _)| cand >= b) || cand >= g[v] {
                        continue;
                    }
                    if self.sees(p, v) {
                        best = Some((cand, p));
                    }
                }
                if let Some((cand, via)) = best {
                    g[v] = cand;
                    parent[v] = via as u32;
                    heap.push(QueueItem { g: cand, node: v as u32 });
                }
            }
        }
    }

    /// Dijkstra on the visibility graph of the given corners, starting from their current lengths;
    /// true when some length got shorter.
    fn refine_corners(&self, corners: &[usize], g: &mut [f64], parent: &mut [u32]) -> bool {
        let m = corners.len();
        let mut improved = false;
        // each corner also gathers the parents of the 4 × 4 cells around it: the best source of a
        // corner need not be the parent of one of its own four cells
        let gathered: Vec<(f64, u32)> = corners
            .par_iter()
            .map(|&k| {
                let kk = k - self.n;
                let (i, j) = ((kk / (self.cols + 1)) as isize, (kk % (self.cols + 1)) as isize);
                let pk = self.point(k);
                let mut best = (g[k], parent[k]);
                for r in i - 2..i + 2 {
                    for c in j - 2..j + 2 {
                        if r < 0 || c < 0 || r as usize >= self.rows || c as usize >= self.cols {
                            continue;
                        }
                        let p = parent[r as usize * self.cols + c as usize];
                        if p == NONE || p as usize == k {
                            continue;
                        }
                        let cand = g[p as usize] + self.len(self.point(p as usize), pk);
                        if cand < best.0 && self.sees(p as usize, k) {
                            best = (cand, p);
                        }
                    }
                }
                best
            })
            .collect();
        for (&k, &(v, p)) in corners.iter().zip(&gathered) {
            if v < g[k] {
                g[k] = v;
                parent[k] = p;
                improved = true;
            }
        }
        let mut gk: Vec<f64> = corners.iter().map(|&k| g[k]).collect();
        let mut done = vec![false; m];
        let mut heap: BinaryHeap<QueueItem> =
            gk.iter().enumerate().filter(|(_, v)| v.is_finite()).map(|(i, &v)| QueueItem { g: v, node: i as u32 }).collect();
        while let Some(QueueItem { g: gu, node }) = heap.pop() {
            let a = node as usize;
            if done[a] || gu > gk[a] {
                continue;
            }
            done[a] = true;
            let pa = self.point(corners[a]);
            // line-of-sight tests in parallel, applied in corner order (deterministic)
            let better: Vec<(usize, f64)> = (0..m)
                .into_par_iter()
                .filter_map(|b| {
                    if done[b] {
                        return None;
                    }
                    let cand = gu + self.len(pa, self.point(corners[b]));
                    (cand < gk[b] - 1e-9 * gk[b].abs() && self.sees(corners[a], corners[b])).then_some((b, cand))
                })
                .collect();
            for (b, cand) in better {
                gk[b] = cand;
                parent[corners[b]] = corners[a] as u32;
                heap.push(QueueItem { g: cand, node: b as u32 });
                improved = true;
            }
        }
        for (i, &k) in corners.iter().enumerate() {
            g[k] = gk[i];
        }
        improved
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::needless_range_loop, clippy::nonminimal_bool)]
mod tests {
    use super::*;
    use crate::grid::{Crs, GeoTransform};

    fn grid(rows: usize, cols: usize, cell: f64) -> Grid {
        Grid::new(rows, cols, GeoTransform::new(0.0, cell, rows as f64 * cell, -cell), Crs::new("local"))
    }

    #[test]
    fn wall_detour_by_hand() {
        // 20 × 20 cells of 100 m. A wall of blocked cells in column 10, rows 0..=14 (a barrier line
        // x = 1050 m from the top edge down to y = 560 m, i.e. into row 14).
        // Source: cell (5, 3), centre (x, y) = (3.5, 5.5) cells. Target: cell (5, 17), centre (17.5, 5.5).
        // The straight line crosses the wall; the shortest path passes below its lower end, round
        // the corners (10, 15) and (11, 15) (x = column line, y = row line):
        //   |S − A| = √(6.5² + 9.5²), |A − B| = 1, |B − T| = √(6.5² + 9.5²)   (in cells of 100 m)
        let g = grid(20, 20, 100.0);
        let blocked = rasterize_barrier(&g, &[vec![(1050.0, 2000.0), (1050.0, 560.0)]]).unwrap();
        for r in 0..20 {
            for c in 0..20 {
                assert_eq!(blocked[r * 20 + c], c == 10 && r <= 14, "({r}, {c})");
            }
        }
        let mut src = vec![false; 400];
        src[5 * 20 + 3] = true;
        let d = distance_with_barrier(&g, &src, &blocked).unwrap();
        let leg = (6.5f64.powi(2) + 9.5f64.powi(2)).sqrt();
        let expect = 100.0 * (2.0 * leg + 1.0);
        assert!((d.distance[5 * 20 + 17] - expect).abs() < 1e-9, "{} vs {expect}", d.distance[5 * 20 + 17]);
        // a cell below the wall's end sees the source directly: plain Euclidean distance.
        // (18, 10): centre (10.5, 18.5); Δ = (7, 13) cells
        assert!((d.distance[18 * 20 + 10] - 100.0 * (49.0f64 + 169.0).sqrt()).abs() < 1e-9);
        // the cell right of the wall at row 0: (0, 11), centre (11.5, 0.5):
        // S → A = (10, 15) → B = (11, 15) → T: √(6.5² + 9.5²) + 1 + √(0.5² + 14.5²)
        let e = 100.0 * (leg + 1.0 + (0.25f64 + 14.5 * 14.5).sqrt());
        assert!((d.distance[11] - e).abs() < 1e-9);
        // without the barrier: the straight line
        let free = distance_with_barrier(&g, &src, &[false; 400]).unwrap();
        assert!((free.distance[5 * 20 + 17] - 1400.0).abs() < 1e-9);
        assert_eq!(free.detour_cells, 0);
        assert!(d.detour_cells > 0 && d.unreachable_cells == 0);
    }

    #[test]
    fn enclosed_cells_are_unreachable_and_blocked_targets_reached() {
        // A closed square ring of barrier round cells (3..=5, 3..=5) of a 10 × 10 grid: the inner
        // cell (4, 4) has no source, so it is unreachable; ring cells themselves are reached.
        let g = grid(10, 10, 1.0);
        let ring = vec![(3.5, 6.5), (5.5, 6.5), (5.5, 4.5), (3.5, 4.5), (3.5, 6.5)];
        let blocked = rasterize_barrier(&g, &[ring]).unwrap();
        assert!(!blocked[4 * 10 + 4]);
        assert!(blocked[3 * 10 + 3] && blocked[5 * 10 + 5]);
        let mut src = vec![false; 100];
        src[0] = true;
        let d = distance_with_barrier(&g, &src, &blocked).unwrap();
        assert!(d.distance[44].is_nan());
        assert_eq!(d.unreachable_cells, 1);
        // ring cell (3, 3) sees the source straight: √(3² + 3²)
        assert!((d.distance[33] - 18f64.sqrt()).abs() < 1e-12);
        // a source inside the ring reaches the inside only... and the ring cells, not beyond
        let mut src2 = vec![false; 100];
        src2[44] = true;
        let d2 = distance_with_barrier(&g, &src2, &blocked).unwrap();
        assert_eq!(d2.distance[44], 0.0);
        assert!((d2.distance[33] - 2f64.sqrt()).abs() < 1e-12);
        assert!(d2.distance[0].is_nan());
        assert_eq!(d2.unreachable_cells, 100 - 9);
    }

    #[test]
    fn diagonal_barrier_has_no_gaps() {
        // a 45° line through grid corners touches cells only at corners; the pinches are closed,
        // so the two sides are separated: a source above-right reaches the lower-left corner cell
        // only round the line's end
        let g = grid(8, 8, 1.0);
        let blocked = rasterize_barrier(&g, &[vec![(0.0, 8.0), (7.0, 1.0)]]).unwrap();
        // every 2 × 2 block with a blocked diagonal has a third blocked cell
        for r in 0..7 {
            for c in 0..7 {
                let (a, b, cc, d) = (blocked[r * 8 + c], blocked[r * 8 + c + 1], blocked[(r + 1) * 8 + c], blocked[(r + 1) * 8 + c + 1]);
                assert!(!(a && d && !b && !cc) && !(b && cc && !a && !d), "pinch at ({r}, {c})");
            }
        }
        let mut src = vec![false; 64];
        src[7] = true; // (0, 7): above the line
        let d = distance_with_barrier(&g, &src, &blocked).unwrap();
        let straight = (2.0f64 * 7.0 * 7.0).sqrt();
        let target = 7 * 8; // (7, 0): below the line
        assert!(d.distance[target] > straight + 0.5, "{} must detour", d.distance[target]);
    }

    /// Exact geodesic distances by Dijkstra on the visibility graph of sources and convex corners.
    fn visibility_graph(g: &Grid, src: &[bool], blocked: &[bool]) -> Vec<f64> {
        let (rows, cols) = g.shape();
        let obs = Obstacles::new(rows, cols, blocked);
        let mut pts: Vec<((f64, f64), usize)> = Vec::new(); // point, own cell (usize::MAX: corner)
        for i in 0..rows * cols {
            if src[i] {
                pts.push((((i % cols) as f64 + 0.5, (i / cols) as f64 + 0.5), i));
            }
        }
        let ns = pts.len();
        for i in 0..=rows as isize {
            for j in 0..=cols as isize {
                let b = [obs.is_blocked(i - 1, j - 1), obs.is_blocked(i - 1, j), obs.is_blocked(i, j - 1), obs.is_blocked(i, j)];
                if b.iter().filter(|&&x| x).count() == 1 {
                    pts.push(((j as f64, i as f64), usize::MAX));
                }
            }
        }
        let m = pts.len();
        let dist = |a: (f64, f64), b: (f64, f64)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
        let mut gv = vec![f64::INFINITY; m];
        let mut done = vec![false; m];
        gv[..ns].iter_mut().for_each(|v| *v = 0.0);
        for _ in 0..m {
            let Some(u) = (0..m).filter(|&k| !done[k]).min_by(|&a, &b| gv[a].total_cmp(&gv[b])) else { break };
            if !gv[u].is_finite() {
                break;
            }
            done[u] = true;
            for v in 0..m {
                if !done[v] && obs.visible(pts[u].0, pts[v].0, [pts[u].1, pts[v].1]) {
                    gv[v] = gv[v].min(gv[u] + dist(pts[u].0, pts[v].0));
                }
            }
        }
        (0..rows * cols)
            .map(|i| {
                let x = ((i % cols) as f64 + 0.5, (i / cols) as f64 + 0.5);
                (0..m)
                    .filter(|&k| gv[k].is_finite() && obs.visible(pts[k].0, x, [pts[k].1, i]))
                    .map(|k| gv[k] + dist(pts[k].0, x))
                    .fold(f64::INFINITY, f64::min)
            })
            .collect()
    }

    #[test]
    fn theta_star_close_to_visibility_graph() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let (mut worst, mut longer, mut compared) = (0f64, 0usize, 0usize);
        for case in 0..400 {
            let (rows, cols) = (8 + (next() % 10) as usize, 8 + (next() % 10) as usize);
            let g = grid(rows, cols, 1.0);
            // a few random barrier segments
            let mut lines = Vec::new();
            for _ in 0..1 + next() % 4 {
                let p = ((next() % (cols as u64 * 10)) as f64 / 10.0, (next() % (rows as u64 * 10)) as f64 / 10.0);
                let q = ((next() % (cols as u64 * 10)) as f64 / 10.0, (next() % (rows as u64 * 10)) as f64 / 10.0);
                lines.push(vec![(p.0, rows as f64 - p.1), (q.0, rows as f64 - q.1)]);
            }
            let blocked = rasterize_barrier(&g, &lines).unwrap();
            let mut src = vec![false; rows * cols];
            for _ in 0..1 + next() % 3 {
                let i = (next() % (rows * cols) as u64) as usize;
                if !blocked[i] {
                    src[i] = true;
                }
            }
            if !src.iter().any(|&s| s) {
                continue;
            }
            let d = distance_with_barrier(&g, &src, &blocked).unwrap();
            let exact = visibility_graph(&g, &src, &blocked);
            for i in 0..rows * cols {
                // cells under the barrier are reached through a free neighbour (see the docs);
                // the visibility graph cannot bend inside them: compare free cells only
                if blocked[i] {
                    continue;
                }
                if exact[i].is_infinite() {
                    assert!(d.distance[i].is_nan(), "case {case} cell {i}: reachable only in Theta*");
                    continue;
                }
                assert!(d.distance[i].is_finite(), "case {case} cell {i}: unreachable in Theta*, exact {}", exact[i]);
                assert!(d.distance[i] >= exact[i] - 1e-9, "case {case} cell {i}: {} shorter than the exact {}", d.distance[i], exact[i]);
                let e = (d.distance[i] - exact[i]) / exact[i].max(1.0);
                worst = worst.max(e);
                compared += 1;
                if e > 1e-9 {
                    longer += 1;
                }
            }
        }
        // measured: worst 1.008 %, 271 of 48 052 free cells (0.56 %) longer than exact at all
        assert!(worst <= 0.0105, "worst relative excess {worst}");
        assert!((longer as f64) < 0.01 * compared as f64, "{longer} of {compared} cells longer than exact");
        eprintln!("worst excess {worst}, {longer} of {compared} cells longer than exact");
    }

    #[test]
    fn bad_inputs() {
        let g = grid(3, 3, 1.0);
        assert!(distance_with_barrier(&g, &[false; 9], &[false; 9]).is_err());
        assert!(distance_with_barrier(&g, &[true; 8], &[false; 9]).is_err());
        assert!(rasterize_barrier(&g, &[vec![(0.0, 0.0), (f64::NAN, 1.0)]]).is_err());
    }
}
