//! Exact Euclidean distance transform with the nearest source of every cell.
//!
//! For every cell, the straight-line distance from its centre to the centre of the nearest source
//! cell (e.g. a mine cell), in CRS units, on grids whose cells may be rectangular (`Δx ≠ Δy`):
//! `d(r, c) = min over sources (r', c') of √(((c − c')·Δx)² + ((r − r')·Δy)²)`; source cells get 0.
//!
//! Algorithm: the separable transform of Felzenszwalb & Huttenlocher (2012, *Distance transforms of
//! sampled functions*, Theory of Computing 8): a pass down and up each column finds the nearest
//! source row per column (`f(r, c) = ((r − r')·Δy)²`), then along each row the lower envelope of the
//! parabolas `((c − q)·Δx)² + f(r, q)` gives the minimum over all columns `q` exactly — no chamfer
//! approximation. `O(rows · cols)`; the row pass runs in parallel, each row independently, so the
//! result does not depend on the number of threads. Squared distances are exact sums of squared
//! multiples of the cell sizes in `f64`; the square root is correctly rounded.
//!
//! This is what `gdal_proximity.py -distunits GEO` computes on a raster of source cells (square
//! cells); GDAL propagates the nearest target along scan lines, which is exact in all the
//! configurations of the conformance test (`conformance/drivers/`).

use rayon::prelude::*;

use crate::error::{CoreError, Result};
use crate::grid::Grid;
use crate::raster::Raster;

/// Index marking "no source reachable".
pub const NO_SOURCE: u32 = u32::MAX;

/// Result of [`distance_transform`].
#[derive(Clone, Debug, PartialEq)]
pub struct DistanceTransform {
    pub rows: usize,
    pub cols: usize,
    /// Distance (CRS units) from each cell centre to the nearest source cell centre, row-major;
    /// `+∞` when there is no source at all.
    pub distance: Vec<f64>,
    /// Row-major index of the nearest source cell ([`NO_SOURCE`] when there is none). Among
    /// equally near sources the one with the smallest column, then the smallest row distance found
    /// first, is kept (deterministic).
    pub nearest: Vec<u32>,
}

/// Exact Euclidean distance transform of the boolean `sources` raster (`rows × cols`, row-major)
/// on cells of `cell_w × cell_h` CRS units.
///
/// Errors: a buffer of the wrong length, a non-positive or non-finite cell size, a grid of more
/// than 2³² − 1 cells.
///
/// ```
/// use rsei_core::drivers::distance_transform;
/// // 3 × 4 grid of 10 × 20 m cells (Δx = 10, Δy = 20), one source at (0, 0):
/// // cell (2, 3): √((3·10)² + (2·20)²) = √(900 + 1600) = 50
/// let mut s = vec![false; 12];
/// s[0] = true;
/// let t = distance_transform(3, 4, 10.0, 20.0, &s).unwrap();
/// assert_eq!(t.distance[2 * 4 + 3], 50.0);
/// assert_eq!(t.nearest[2 * 4 + 3], 0);
/// ```
pub fn distance_transform(rows: usize, cols: usize, cell_w: f64, cell_h: f64, sources: &[bool]) -> Result<DistanceTransform> {
    let n = rows * cols;
    if sources.len() != n {
        return Err(CoreError::BufferSize { got: sources.len(), expected: n, rows, cols });
    }
    if !(cell_w.is_finite() && cell_h.is_finite() && cell_w > 0.0 && cell_h > 0.0) {
        return Err(CoreError::InvalidOption { name: "cell size".into(), reason: format!("{cell_w} × {cell_h} is not a positive size") });
    }
    if n >= NO_SOURCE as usize {
        return Err(CoreError::InvalidOption { name: "grid".into(), reason: format!("{rows} × {cols} cells is too large for a distance transform") });
    }
    // Pass 1, per column: nearest source row above (forward) and below (backward).
    let mut near_row = vec![NO_SOURCE; n];
    let mut last = vec![NO_SOURCE; cols];
    for r in 0..rows {
        for c in 0..cols {
            if sources[r * cols + c] {
                last[c] = r as u32;
            }
            near_row[r * cols + c] = last[c];
        }
    }
    last.iter_mut().for_each(|v| *v = NO_SOURCE);
    for r in (0..rows).rev() {
        for c in 0..cols {
            if sources[r * cols + c] {
                last[c] = r as u32;
            }
            let below = last[c];
            let i = r * cols + c;
            let above = near_row[i];
            near_row[i] = match (above, below) {
                (NO_SOURCE, b) => b,
                (a, NO_SOURCE) => a,
                // the nearer one; a tie keeps the row above
                (a, b) => {
                    if (b as usize - r) < (r - a as usize) {
                        b
                    } else {
                        a
                    }
                }
            };
        }
    }
    // Pass 2, per row: lower envelope of the parabolas ((c − q)·Δx)² + f(q).
    let w2 = cell_w * cell_w;
    let h2 = cell_h * cell_h;
    let mut distance = vec![f64::INFINITY; n];
    let mut nearest = vec![NO_SOURCE; n];
    distance.par_chunks_mut(cols.max(1)).zip(nearest.par_chunks_mut(cols.max(1))).enumerate().for_each(|(r, (dist, near))| {
        let nr = &near_row[r * cols..(r + 1) * cols];
        let f: Vec<f64> = nr
            .iter()
            .map(|&q| if q == NO_SOURCE { f64::INFINITY } else { let d = (r as f64 - f64::from(q)).abs(); d * d * h2 })
            .collect();
        let mut v: Vec<usize> = Vec::with_capacity(cols);
        let mut z: Vec<f64> = Vec::with_capacity(cols + 1);
        for q in 0..cols {
            if !f[q].is_finite() {
                continue;
            }
            let hq = f[q] + w2 * (q * q) as f64;
            loop {
                let Some(&p) = v.last() else {
                    v.push(q);
                    z.clear();
                    z.push(f64::NEG_INFINITY);
                    break;
                };
                let hp = f[p] + w2 * (p * p) as f64;
                let s = (hq - hp) / (2.0 * w2 * (q - p) as f64);
                if s <= z[v.len() - 1] {
                    v.pop();
                    z.pop();
                    if v.is_empty() {
                        z.clear();
                    }
                    continue;
                }
                v.push(q);
                z.push(s);
                break;
            }
        }
        if v.is_empty() {
            return;
        }
        let mut k = 0;
        for c in 0..cols {
            while k + 1 < v.len() && z[k + 1] < c as f64 {
                k += 1;
            }
            let q = v[k];
            let d = (c as f64 - q as f64).abs();
            dist[c] = (d * d * w2 + f[q]).sqrt();
            near[c] = nr[q] * cols as u32 + q as u32;
        }
    });
    Ok(DistanceTransform { rows, cols, distance, nearest })
}

/// Distance (CRS units, `f32`) from each cell centre of `grid` to the nearest `true` cell of
/// `sources`; 0 on the sources.
///
/// Errors: no source cell at all (every distance would be undefined), a buffer of the wrong length.
///
/// ```
/// use rsei_core::drivers::distance_to_sources;
/// use rsei_core::{Crs, GeoTransform, Grid};
/// let g = Grid::new(1, 5, GeoTransform::new(0.0, 1000.0, 0.0, -1000.0), Crs::new("EPSG:3857"));
/// let d = distance_to_sources(&g, &[false, true, false, false, false]).unwrap();
/// assert_eq!(d.data(), &[1000.0, 0.0, 1000.0, 2000.0, 3000.0]);
/// ```
pub fn distance_to_sources(grid: &Grid, sources: &[bool]) -> Result<Raster<f32>> {
    if !sources.iter().any(|&s| s) {
        return Err(CoreError::NoValidPixels("no source cell: distances are undefined".into()));
    }
    let (w, h) = grid.cell_size();
    let t = distance_transform(grid.rows(), grid.cols(), w, h, sources)?;
    Raster::new(grid.clone(), t.distance.iter().map(|&d| d as f32).collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::needless_range_loop, clippy::nonminimal_bool)]
mod tests {
    use super::*;

    /// Brute force: min over all sources.
    fn brute(rows: usize, cols: usize, w: f64, h: f64, s: &[bool]) -> Vec<f64> {
        let src: Vec<(usize, usize)> = (0..rows * cols).filter(|&i| s[i]).map(|i| (i / cols, i % cols)).collect();
        (0..rows * cols)
            .map(|i| {
                let (r, c) = (i / cols, i % cols);
                src.iter()
                    .map(|&(a, b)| (((c as f64 - b as f64) * w).powi(2) + ((r as f64 - a as f64) * h).powi(2)).sqrt())
                    .fold(f64::INFINITY, f64::min)
            })
            .collect()
    }

    #[test]
    fn equals_brute_force_on_random_sources() {
        // xorshift for reproducible pseudo-random layouts
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for case in 0..40 {
            let rows = 1 + (next() % 23) as usize;
            let cols = 1 + (next() % 29) as usize;
            let (w, h) = if case % 3 == 0 { (1000.0, 1000.0) } else { (1.0 + (next() % 7) as f64, 1.0 + (next() % 5) as f64) };
            let density = 1 + next() % 40;
            let s: Vec<bool> = (0..rows * cols).map(|_| next() % 100 < density).collect();
            let t = distance_transform(rows, cols, w, h, &s).unwrap();
            let b = brute(rows, cols, w, h, &s);
            for i in 0..rows * cols {
                if b[i].is_infinite() {
                    assert!(t.distance[i].is_infinite());
                    assert_eq!(t.nearest[i], NO_SOURCE);
                    continue;
                }
                assert!((t.distance[i] - b[i]).abs() <= 1e-9 * b[i].max(1.0), "case {case} cell {i}: {} vs {}", t.distance[i], b[i]);
                // the reported nearest source is a source at that distance
                let k = t.nearest[i] as usize;
                assert!(s[k]);
                let (r, c, a, bb) = ((i / cols) as f64, (i % cols) as f64, (k / cols) as f64, (k % cols) as f64);
                let dk = (((c - bb) * w).powi(2) + ((r - a) * h).powi(2)).sqrt();
                assert!((dk - b[i]).abs() <= 1e-9 * b[i].max(1.0));
            }
        }
    }

    #[test]
    fn hand_values_and_errors() {
        // 3 × 3, source in the centre, 2 × 1 cells: corners √(2² + 1²) = √5, sides 2 and 1
        let mut s = vec![false; 9];
        s[4] = true;
        let t = distance_transform(3, 3, 2.0, 1.0, &s).unwrap();
        assert_eq!(t.distance[0], 5f64.sqrt());
        assert_eq!(t.distance[1], 1.0);
        assert_eq!(t.distance[3], 2.0);
        assert_eq!(t.distance[4], 0.0);
        assert!(distance_transform(3, 3, 1.0, 1.0, &[false; 8]).is_err());
        assert!(distance_transform(3, 3, 0.0, 1.0, &s).is_err());
        let g = Grid::new(3, 3, crate::grid::GeoTransform::new(0.0, 1.0, 0.0, -1.0), crate::grid::Crs::new("x"));
        assert!(matches!(distance_to_sources(&g, &[false; 9]), Err(CoreError::NoValidPixels(_))));
    }
}
