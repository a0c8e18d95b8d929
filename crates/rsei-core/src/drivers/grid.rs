//! The driver grid: one grid per study area on which every driver and RSEI are compared.
//!
//! [`aligned_grid`] puts the origin on multiples of the cell size (so the grids of neighbouring
//! areas, and of repeated runs, share one lattice) and covers the area's bounds:
//! `x0 = ⌊xmin / s⌋·s`, `y0 = ⌈ymax / s⌉·s`, `cols = ⌈(xmax − x0) / s⌉`, `rows = ⌈(y0 − ymin) / s⌉`
//! (at least one each). [`pad_grid`] adds a margin of whole cells on every side (derived drivers are
//! computed on a padded grid so that windows and neighbourhoods at the area's edge are complete,
//! then cropped back with [`crate::Raster::window`] and [`pad_window`]).
//!
//! ```
//! use rsei_core::drivers::grid::{aligned_grid, pad_grid, pad_window};
//! use rsei_core::{Bounds, Crs};
//! // bounds x 1 250..3 900, y 10 100..12 010 at 1 000 m: x0 = 1 000, y0 = 13 000, 3 × 3 cells
//! let g = aligned_grid(&Bounds::new(1250.0, 10100.0, 3900.0, 12010.0), &Crs::new("EPSG:3857"), 1000.0).unwrap();
//! assert_eq!((g.rows(), g.cols()), (3, 3));
//! assert_eq!((g.transform().x0, g.transform().y0), (1000.0, 13000.0));
//! let p = pad_grid(&g, 2);
//! assert_eq!((p.rows(), p.cols(), p.transform().x0), (7, 7, -1000.0));
//! assert_eq!(pad_window(&g, 2), rsei_core::Window::new(2, 2, 3, 3));
//! ```

use crate::error::{CoreError, Result};
use crate::grid::{Bounds, Crs, GeoTransform, Grid, Window};

/// A north-up grid of square `cell_size` cells in `crs`, origin on multiples of `cell_size`,
/// covering `bounds` (see the module documentation for the formulas).
///
/// Errors: a cell size that is not a positive finite number, non-finite or empty bounds, or a grid
/// of more than 2³¹ cells (a unit mix-up such as degrees given for metres).
pub fn aligned_grid(bounds: &Bounds, crs: &Crs, cell_size: f64) -> Result<Grid> {
    if !(cell_size.is_finite() && cell_size > 0.0) {
        return Err(CoreError::InvalidOption { name: "resolution".into(), reason: format!("must be a positive number, got {cell_size}") });
    }
    let b = bounds;
    if ![b.xmin, b.xmax, b.ymin, b.ymax].iter().all(|v| v.is_finite()) {
        return Err(CoreError::InvalidGeometry(format!("bounds are not finite: {b:?}")));
    }
    if !(b.xmax > b.xmin && b.ymax > b.ymin) {
        return Err(CoreError::InvalidGeometry(format!("empty bounds: {b:?}")));
    }
    let x0 = (b.xmin / cell_size).floor() * cell_size;
    let y0 = (b.ymax / cell_size).ceil() * cell_size;
    let cols = ((b.xmax - x0) / cell_size).ceil().max(1.0);
    let rows = ((y0 - b.ymin) / cell_size).ceil().max(1.0);
    if rows * cols > f64::from(i32::MAX) {
        return Err(CoreError::InvalidOption {
            name: "resolution".into(),
            reason: format!("{rows} × {cols} cells of {cell_size} CRS units: is the resolution in the CRS's units?"),
        });
    }
    Ok(Grid::new(rows as usize, cols as usize, GeoTransform::new(x0, cell_size, y0, -cell_size), crs.clone()))
}

/// The same lattice with `cells` more cells on every side.
pub fn pad_grid(grid: &Grid, cells: usize) -> Grid {
    let t = grid.transform();
    let p = cells as f64;
    Grid::new(
        grid.rows() + 2 * cells,
        grid.cols() + 2 * cells,
        GeoTransform::new(t.x0 - p * t.dx, t.dx, t.y0 - p * t.dy, t.dy),
        grid.crs().clone(),
    )
}

/// The window of `pad_grid(grid, cells)` that holds `grid`.
pub fn pad_window(grid: &Grid, cells: usize) -> Window {
    Window::new(cells, cells, grid.rows(), grid.cols())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::needless_range_loop, clippy::nonminimal_bool)]
mod tests {
    use super::*;

    #[test]
    fn origin_on_multiples_and_covers_bounds() {
        let crs = Crs::new("local");
        // bounds exactly on the lattice: no extra cell. x −3000..2000, y −1000..4000 at 1000
        let g = aligned_grid(&Bounds::new(-3000.0, -1000.0, 2000.0, 4000.0), &crs, 1000.0).unwrap();
        assert_eq!((g.rows(), g.cols()), (5, 5));
        assert_eq!((g.transform().x0, g.transform().y0), (-3000.0, 4000.0));
        // negative, off-lattice: x −2500 → −3000 (floor); ymax 3999 → 4000 (ceil); xmax 2001 → 3 more
        let g = aligned_grid(&Bounds::new(-2500.0, -999.0, 2001.0, 3999.0), &crs, 1000.0).unwrap();
        assert_eq!((g.transform().x0, g.transform().y0), (-3000.0, 4000.0));
        assert_eq!(g.cols(), 6); // (2001 − (−3000)) / 1000 = 5.001 → 6
        assert_eq!(g.rows(), 5); // (4000 − (−999)) / 1000 = 4.999 → 5
        let b = g.bounds();
        assert!(b.xmin <= -2500.0 && b.xmax >= 2001.0 && b.ymin <= -999.0 && b.ymax >= 3999.0);
        assert!(aligned_grid(&Bounds::new(0.0, 0.0, 1.0, 1.0), &crs, 0.0).is_err());
        assert!(aligned_grid(&Bounds::new(0.0, 0.0, 0.0, 1.0), &crs, 1.0).is_err());
        assert!(aligned_grid(&Bounds::new(0.0, 0.0, f64::NAN, 1.0), &crs, 1.0).is_err());
        assert!(aligned_grid(&Bounds::new(0.0, 0.0, 1e9, 1e9), &crs, 1e-3).is_err());
    }

    #[test]
    fn padding_keeps_the_lattice() {
        let g = Grid::new(3, 4, GeoTransform::new(100.0, 10.0, 500.0, -10.0), Crs::new("x"));
        let p = pad_grid(&g, 3);
        assert_eq!(p.shape(), (9, 10));
        assert!(p.check_aligned(&g).is_ok());
        let (wa, _) = p.overlap(&g).unwrap().unwrap();
        assert_eq!(wa, pad_window(&g, 3));
    }
}
