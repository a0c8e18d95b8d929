//! Share of mine area (%) in a moving window centred on each cell (the paper's MineA: "percentage
//! of mining area within each 100 km²", an ArcGIS focal sum over a 10 km × 10 km window).
//!
//! Input: per cell the exact fraction of its area covered by mines (0..1,
//! [`crate::zonal::PixelRule::Coverage`] of the union of the mine polygons). The window is a
//! square of `k × k` cells, `k` odd, centred on the cell ([`window_cells`]: the odd number of cells
//! nearest to `window / cell size`, ties to the larger, so 10 km on 1 km cells gives 11 cells —
//! the effective window is reported by the caller). Then
//!
//! `share(r, c) = 100 · Σ_{window ∩ grid} fraction / |window ∩ grid|`
//!
//! i.e. mine area over the window's area, where near the grid's edge only the part of the window
//! inside the grid counts (compute on a grid padded by `k / 2` cells so that no cell of the study
//! area is near that edge). The sums come from a summed-area table in `f64` (`O(1)` per cell);
//! `NaN` fractions count as 0 (no mine).

use crate::error::{CoreError, Result};

/// The odd number of cells `k ≥ 1` nearest to `window / cell_size` (ties to the larger).
///
/// ```
/// use rsei_core::drivers::window_cells;
/// assert_eq!(window_cells(10_000.0, 1000.0).unwrap(), 11); // 10 → tie between 9 and 11
/// assert_eq!(window_cells(10_000.0, 500.0).unwrap(), 21);  // 20 → 21
/// assert_eq!(window_cells(9_000.0, 1000.0).unwrap(), 9);
/// assert_eq!(window_cells(9_900.0, 1000.0).unwrap(), 9);   // 9.9 → 9
/// assert_eq!(window_cells(100.0, 1000.0).unwrap(), 1);
/// ```
pub fn window_cells(window: f64, cell_size: f64) -> Result<usize> {
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
    // odd k = 2j + 1 nearest to m: j = round((m − 1) / 2), ties up
    let j = ((m - 1.0) / 2.0 + 0.5).floor().max(0.0);
    Ok(2 * j as usize + 1)
}

/// Percentage of covered area in the `k × k` window centred on each cell (see the module
/// documentation). `fractions` is row-major `rows × cols`, values in 0..1 (`NaN` = 0).
///
/// Errors: a buffer of the wrong length, an even or zero `k`, a fraction outside 0..1.
///
/// ```
/// use rsei_core::drivers::moving_window_share;
/// // 3 × 3 grid, one cell half covered, window 3: the centre's window holds all nine cells ⇒
/// // 100 · 0.5 / 9; the corner (0, 0)'s window holds 4 cells of the grid ⇒ 100 · 0.5 / 4 = 12.5
/// let f = [0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0];
/// let s = moving_window_share(3, 3, &f, 3).unwrap();
/// assert!((s[4] - 50.0 / 9.0).abs() < 1e-12);
/// assert_eq!(s[0], 12.5);
/// ```
pub fn moving_window_share(rows: usize, cols: usize, fractions: &[f32], k: usize) -> Result<Vec<f64>> {
    if fractions.len() != rows * cols {
        return Err(CoreError::BufferSize { got: fractions.len(), expected: rows * cols, rows, cols });
    }
    if k == 0 || k % 2 == 0 {
        return Err(CoreError::InvalidOption { name: "moving window".into(), reason: format!("the window must be an odd number of cells, got {k}") });
    }
    if let Some((i, v)) = fractions.iter().enumerate().find(|(_, v)| !v.is_nan() && !(0.0..=1.0).contains(*v)) {
        return Err(CoreError::InvalidOption {
            name: "mine fractions".into(),
            reason: format!("cell {} (row {}, col {}) has fraction {v}, outside 0..1", i, i / cols.max(1), i % cols.max(1)),
        });
    }
    let w = cols + 1;
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
    let h = k / 2;
    let mut out = vec![0f64; rows * cols];
    for r in 0..rows {
        let (r0, r1) = (r.saturating_sub(h), (r + h + 1).min(rows));
        for c in 0..cols {
            let (c0, c1) = (c.saturating_sub(h), (c + h + 1).min(cols));
            let s = sat[r1 * w + c1] - sat[r0 * w + c1] - sat[r1 * w + c0] + sat[r0 * w + c0];
            let n = ((r1 - r0) * (c1 - c0)) as f64;
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
    fn equals_brute_force_window_sums() {
        let mut x: u64 = 0xDEAD_BEEF_CAFE_F00D;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for case in 0..25 {
            let rows = 1 + (next() % 30) as usize;
            let cols = 1 + (next() % 30) as usize;
            let k = 2 * (next() % 7) as usize + 1;
            let f: Vec<f32> = (0..rows * cols)
                .map(|_| match next() % 10 {
                    0..=5 => 0.0,
                    6 => 1.0,
                    7 => f32::NAN,
                    _ => (next() % 1000) as f32 / 1000.0,
                })
                .collect();
            let s = moving_window_share(rows, cols, &f, k).unwrap();
            let h = (k / 2) as isize;
            for r in 0..rows as isize {
                for c in 0..cols as isize {
                    let (mut sum, mut n) = (0f64, 0usize);
                    for rr in r - h..=r + h {
                        for cc in c - h..=c + h {
                            if rr >= 0 && cc >= 0 && (rr as usize) < rows && (cc as usize) < cols {
                                let v = f[rr as usize * cols + cc as usize];
                                if !v.is_nan() {
                                    sum += f64::from(v);
                                }
                                n += 1;
                            }
                        }
                    }
                    let brute = 100.0 * sum / n as f64;
                    let got = s[r as usize * cols + c as usize];
                    assert!((got - brute).abs() < 1e-9, "case {case} ({r}, {c}) k {k}: {got} vs {brute}");
                }
            }
        }
    }

    #[test]
    fn full_and_empty_and_errors() {
        // everything covered: 100 % everywhere; nothing: 0
        assert!(moving_window_share(4, 5, &[1.0; 20], 3).unwrap().iter().all(|&v| (v - 100.0).abs() < 1e-12));
        assert!(moving_window_share(4, 5, &[0.0; 20], 5).unwrap().iter().all(|&v| v == 0.0));
        assert!(moving_window_share(2, 2, &[0.0; 4], 2).is_err());
        assert!(moving_window_share(2, 2, &[0.0; 3], 3).is_err());
        assert!(moving_window_share(2, 2, &[0.0, 1.5, 0.0, 0.0], 3).is_err());
        assert!(window_cells(0.0, 1.0).is_err());
        assert!(window_cells(1.0, f64::NAN).is_err());
    }
}
