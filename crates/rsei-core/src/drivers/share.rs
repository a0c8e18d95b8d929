//! Share of mine area (%) in a moving window centred on each cell (the paper's MineA: "percentage
//! of mining area within each 100 km²", an ArcGIS focal sum over a 10 km × 10 km window).
//!
//! Input: per cell the exact fraction of its area covered by mines (0..1,
//! [`crate::zonal::PixelRule::Coverage`] of the union of the mine polygons).
//!
//! The window is a square of side `m = window / cell size` cells centred on the cell's centre
//! ([`SquareWindow`]). When `m` is an odd whole number the window is `m × m` whole cells. Otherwise
//! its edges cut the outer ring of cells, and each cell is weighted by the share of it that lies
//! inside the window: with `2h + 1` whole cells across, the outer ring has weight
//! `e = (m − (2h + 1)) / 2` (corners `e²`). So 10 km on 1 km cells is 9 × 9 whole cells plus a ring of
//! half-weighted cells: exactly 100 km², not 81 or 121. Then
//!
//! `share(r, c) = 100 · Σ w·fraction / Σ w` over the window ∩ grid,
//!
//! i.e. mine area over the window's area, where near the grid's edge only the part of the window
//! inside the grid counts (compute on a grid padded by [`SquareWindow::reach`] cells so that no
//! cell of the study area is near that edge). Sums come from summed-area tables in `f64` (`O(1)`
//! per cell); `NaN` fractions count as 0 (no mine).

use crate::error::{CoreError, Result};

/// A square window of side `m` cells centred on a cell (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SquareWindow {
    /// Side in cells (≥ 1).
    pub side_cells: f64,
    /// Whole cells on each side of the centre cell.
    pub inner_half: usize,
    /// Weight of the outer ring of partly covered cells (0 when `side_cells` is odd and whole).
    pub edge_weight: f64,
}

impl SquareWindow {
    /// The window of side `window` (map units) on cells of `cell_size`.
    ///
    /// ```
    /// use rsei_core::drivers::SquareWindow;
    /// let w = SquareWindow::new(10_000.0, 1000.0).unwrap();   // 10 km on 1 km cells
    /// assert_eq!((w.inner_half, w.edge_weight, w.reach()), (4, 0.5, 5));
    /// assert_eq!(w.area_cells(), 100.0);
    /// let w = SquareWindow::new(9_000.0, 1000.0).unwrap();    // odd: 9 × 9 whole cells
    /// assert_eq!((w.inner_half, w.edge_weight, w.reach()), (4, 0.0, 4));
    /// ```
    pub fn new(window: f64, cell_size: f64) -> Result<Self> {
        if !(window.is_finite() && window > 0.0 && cell_size.is_finite() && cell_size > 0.0) {
            return Err(CoreError::InvalidOption {
                name: "moving window".into(),
                reason: format!("window {window} and cell size {cell_size} must be positive numbers"),
            });
        }
        let m = window / cell_size;
        if m > 1e6 {
            return Err(CoreError::InvalidOption { name: "moving window".into(), reason: format!("{m} cells is too wide") });
        }
        if m < 1.0 {
            return Err(CoreError::InvalidOption {
                name: "moving window".into(),
                reason: format!("the window ({window}) is smaller than one cell ({cell_size})"),
            });
        }
        let inner_half = ((m - 1.0) / 2.0).floor() as usize;
        let mut edge_weight = (m - (2 * inner_half + 1) as f64) / 2.0;
        if edge_weight < 1e-9 {
            edge_weight = 0.0;
        }
        Ok(SquareWindow { side_cells: m, inner_half, edge_weight })
    }
    /// Cells reached on each side of the centre (the padding a grid needs).
    pub fn reach(&self) -> usize {
        self.inner_half + usize::from(self.edge_weight > 0.0)
    }
    /// Cells across the window, partial ones included (odd).
    pub fn outer_cells(&self) -> usize {
        2 * self.reach() + 1
    }
    /// Area of the window in cells (`side_cells²`).
    pub fn area_cells(&self) -> f64 {
        let s = (2 * self.inner_half + 1) as f64 + 2.0 * self.edge_weight;
        s * s
    }
    /// Weight of the cell at offset (`dr`, `dc`) from the centre.
    pub fn weight(&self, dr: usize, dc: usize) -> f64 {
        let w1 = |d: usize| {
            if d <= self.inner_half {
                1.0
            } else if d == self.inner_half + 1 {
                self.edge_weight
            } else {
                0.0
            }
        };
        w1(dr) * w1(dc)
    }
}

/// Percentage of covered area in the window centred on each cell (see the module documentation).
/// `fractions` is row-major `rows × cols`, values in 0..1 (`NaN` = 0).
///
/// Errors: a buffer of the wrong length, a fraction outside 0..1.
///
/// ```
/// use rsei_core::drivers::{moving_window_share, SquareWindow};
/// // 3 × 3 grid, one cell half covered, window 3 cells: the centre's window holds all nine cells ⇒
/// // 100 · 0.5 / 9; the corner (0, 0)'s window holds 4 cells of the grid ⇒ 100 · 0.5 / 4 = 12.5
/// let f = [0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0];
/// let s = moving_window_share(3, 3, &f, &SquareWindow::new(3.0, 1.0).unwrap()).unwrap();
/// assert!((s[4] - 50.0 / 9.0).abs() < 1e-12);
/// assert_eq!(s[0], 12.5);
/// // a 2-cell window at the centre: the centre cell whole, its 4 neighbours half, 4 corners a quarter
/// // = 4 cells of area; 100 · 0.5 / 4 = 12.5
/// let s = moving_window_share(3, 3, &f, &SquareWindow::new(2.0, 1.0).unwrap()).unwrap();
/// assert_eq!(s[4], 12.5);
/// ```
pub fn moving_window_share(rows: usize, cols: usize, fractions: &[f32], win: &SquareWindow) -> Result<Vec<f64>> {
    if fractions.len() != rows * cols {
        return Err(CoreError::BufferSize { got: fractions.len(), expected: rows * cols, rows, cols });
    }
    if let Some((i, v)) = fractions.iter().enumerate().find(|(_, v)| !v.is_nan() && !(0.0..=1.0).contains(*v)) {
        return Err(CoreError::InvalidOption {
            name: "mine fractions".into(),
            reason: format!("cell {} (row {}, col {}) has fraction {v}, outside 0..1", i, i / cols.max(1), i % cols.max(1)),
        });
    }
    let w = cols + 1;
    // summed-area table of the fractions
    let mut sat = vec![0f64; (rows + 1) * w];
    for r in 0..rows {
        let mut run = 0f64;
        for c in 0..cols {
            let v = fractions[r * cols + c];
            if !v.is_nan() {
                run += f64::from(v);
            }
            sat[(r + 1) * w + c + 1] = sat[r * w + c + 1] + run;
        }
    }
    // sum of the fractions and number of grid cells in the rectangle of half-widths (hr, hc)
    let rect = |r: usize, c: usize, hr: usize, hc: usize| -> (f64, f64) {
        let (r0, r1) = (r.saturating_sub(hr), (r + hr + 1).min(rows));
        let (c0, c1) = (c.saturating_sub(hc), (c + hc + 1).min(cols));
        let s = sat[r1 * w + c1] - sat[r0 * w + c1] - sat[r1 * w + c0] + sat[r0 * w + c0];
        (s, ((r1 - r0) * (c1 - c0)) as f64)
    };
    let (hi, e) = (win.inner_half, win.edge_weight);
    let mut out = vec![0f64; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            let (s, n) = if e == 0.0 {
                rect(r, c, hi, hi)
            } else {
                // inner square, the two edge strips (weight e) and the corners (weight e²)
                let (s_ii, n_ii) = rect(r, c, hi, hi);
                let (s_oi, n_oi) = rect(r, c, hi + 1, hi);
                let (s_io, n_io) = rect(r, c, hi, hi + 1);
                let (s_oo, n_oo) = rect(r, c, hi + 1, hi + 1);
                let comb = |ii: f64, oi: f64, io: f64, oo: f64| ii + e * (oi - ii) + e * (io - ii) + e * e * (oo - oi - io + ii);
                (comb(s_ii, s_oi, s_io, s_oo), comb(n_ii, n_oi, n_io, n_oo))
            };
            // the differences of prefix sums can leave −1e-17 for an empty window
            out[r * cols + c] = (100.0 * s / n).max(0.0);
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::needless_range_loop, clippy::nonminimal_bool)]
mod tests {
    use super::*;

    #[test]
    fn equals_brute_force_weighted_window_sums() {
        let mut x: u64 = 0xDEAD_BEEF_CAFE_F00D;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for case in 0..40 {
            let rows = 1 + (next() % 30) as usize;
            let cols = 1 + (next() % 30) as usize;
            // whole odd sides, whole even sides and fractional sides
            let side = match case % 3 {
                0 => (2 * (next() % 7) + 1) as f64,
                1 => (2 * (next() % 7) + 2) as f64,
                _ => 1.0 + (next() % 1300) as f64 / 100.0,
            };
            let win = SquareWindow::new(side, 1.0).unwrap();
            let f: Vec<f32> = (0..rows * cols)
                .map(|_| match next() % 10 {
                    0..=5 => 0.0,
                    6 => 1.0,
                    7 => f32::NAN,
                    _ => (next() % 1000) as f32 / 1000.0,
                })
                .collect();
            let s = moving_window_share(rows, cols, &f, &win).unwrap();
            let h = win.reach() as isize;
            for r in 0..rows as isize {
                for c in 0..cols as isize {
                    let (mut sum, mut n) = (0f64, 0f64);
                    for rr in r - h..=r + h {
                        for cc in c - h..=c + h {
                            if rr >= 0 && cc >= 0 && (rr as usize) < rows && (cc as usize) < cols {
                                // brute force: the weight is the overlap of the cell with the window
                                let ov = |d: isize| (side / 2.0 - (d.abs() as f64 - 0.5)).clamp(0.0, 1.0);
                                let wgt = ov(rr - r) * ov(cc - c);
                                let v = f[rr as usize * cols + cc as usize];
                                if !v.is_nan() {
                                    sum += wgt * f64::from(v);
                                }
                                n += wgt;
                            }
                        }
                    }
                    let brute = 100.0 * sum / n;
                    let got = s[r as usize * cols + c as usize];
                    assert!((got - brute).abs() < 1e-9, "case {case} ({r}, {c}) side {side}: {got} vs {brute}");
                }
            }
        }
    }

    #[test]
    fn window_area_is_exact() {
        for (window, cell, area) in [(10_000.0, 1000.0, 100.0), (10_000.0, 500.0, 400.0), (9_000.0, 1000.0, 81.0), (7_500.0, 1000.0, 56.25)] {
            let w = SquareWindow::new(window, cell).unwrap();
            assert!((w.area_cells() - area).abs() < 1e-9, "{window}/{cell}");
            let total: f64 = (0..=w.reach()).flat_map(|a| (0..=w.reach()).map(move |b| (a, b))).map(|(a, b)| {
                let k = f64::from(u8::from(a > 0) + 1) * f64::from(u8::from(b > 0) + 1);
                k * w.weight(a, b)
            }).sum();
            assert!((total - area).abs() < 1e-9, "{window}/{cell}: Σ weights {total}");
        }
    }

    #[test]
    fn full_and_empty_and_errors() {
        let w3 = SquareWindow::new(3.0, 1.0).unwrap();
        let w10 = SquareWindow::new(10.0, 1.0).unwrap();
        // everything covered: 100 % everywhere; nothing: 0
        assert!(moving_window_share(4, 5, &[1.0; 20], &w3).unwrap().iter().all(|&v| (v - 100.0).abs() < 1e-12));
        assert!(moving_window_share(4, 5, &[1.0; 20], &w10).unwrap().iter().all(|&v| (v - 100.0).abs() < 1e-12));
        assert!(moving_window_share(4, 5, &[0.0; 20], &w10).unwrap().iter().all(|&v| v == 0.0));
        assert!(moving_window_share(2, 2, &[0.0; 3], &w3).is_err());
        assert!(moving_window_share(2, 2, &[0.0, 1.5, 0.0, 0.0], &w3).is_err());
        assert!(SquareWindow::new(0.0, 1.0).is_err());
        assert!(SquareWindow::new(1.0, f64::NAN).is_err());
        assert!(SquareWindow::new(0.5, 1.0).is_err());
    }
}
