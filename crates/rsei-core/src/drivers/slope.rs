//! Slope in degrees by Horn's method, computed on a projected DEM grid, as `gdaldem slope` does.
//!
//! For the 3 × 3 window `a b c / d e f / g h i` around a cell (top row to the north) with cell
//! width `Δx` and height `Δy` (CRS units, the same units as the elevations — a projected grid):
//!
//! ```text
//! ∂z/∂x = ((a + 2d + g) − (c + 2f + i)) / (8 Δx)
//! ∂z/∂y = ((g + 2h + i) − (a + 2b + c)) / (8 Δy)
//! slope = atan(√((∂z/∂x)² + (∂z/∂y)²)) · 180/π      (degrees, 0 = flat)
//! ```
//!
//! The signs do not matter for the slope. The window sums are formed in `f32` in the order GDAL
//! uses (`a + d + d + g`, then the difference), then divided in `f64`, and the result is rounded
//! to `f32`, so the output matches `gdaldem slope` (GDAL 3.6, default options: Horn, scale 1,
//! degrees) cell for cell; the conformance test asks for 1e-4° and the observed difference is 0.
//!
//! Nodata (`NaN`), like `gdaldem` without `-compute_edges`: the first and last rows and columns are
//! `NaN` (no complete window), and so is every cell whose window holds a `NaN`. To get a slope
//! for the cells at the edge of a study area, compute it on a grid padded by one cell
//! ([`super::grid::pad_grid`]) and crop.

use crate::error::{CoreError, Result};
use crate::raster::Raster;

/// Slope in degrees (Horn) of a DEM on a projected grid; `NaN` on the outer ring of cells and
/// wherever the 3 × 3 window holds a `NaN` (see the module documentation).
///
/// Errors: a grid with a non-finite or zero cell size.
///
/// ```
/// use rsei_core::drivers::slope_degrees;
/// use rsei_core::{Crs, GeoTransform, Grid, Raster};
/// // 3 × 3 cells of 10 m, elevation rising 10 m per cell eastwards:
/// // ∂z/∂x = ((0 + 2·0 + 0) − (20 + 2·20 + 20)) / (8·10) = −1, ∂z/∂y = 0 ⇒ slope = atan(1) = 45°
/// let g = Grid::new(3, 3, GeoTransform::new(0.0, 10.0, 30.0, -10.0), Crs::new("EPSG:32650"));
/// let dem = Raster::new(g, vec![0.0f32, 10.0, 20.0, 0.0, 10.0, 20.0, 0.0, 10.0, 20.0]).unwrap();
/// let s = slope_degrees(&dem).unwrap();
/// assert_eq!(s.get(1, 1), 45.0);
/// assert!(s.get(0, 0).is_nan()); // edge: no complete window
/// ```
pub fn slope_degrees(dem: &Raster<f32>) -> Result<Raster<f32>> {
    let g = dem.grid();
    let t = g.transform();
    let (ewres, nsres) = (t.dx, t.dy);
    if !(ewres.is_finite() && nsres.is_finite() && ewres != 0.0 && nsres != 0.0) {
        return Err(CoreError::InvalidOption { name: "DEM grid".into(), reason: format!("cell size {ewres} × {nsres} is unusable for a slope") });
    }
    let (rows, cols) = g.shape();
    let z = dem.data();
    let mut out = vec![f32::NAN; g.len()];
    if rows < 3 || cols < 3 {
        return Raster::new(g.clone(), out);
    }
    let to_deg = 180.0 / std::f64::consts::PI;
    for r in 1..rows - 1 {
        let (up, mid, dn) = (&z[(r - 1) * cols..r * cols], &z[r * cols..(r + 1) * cols], &z[(r + 1) * cols..(r + 2) * cols]);
        let o = &mut out[r * cols..(r + 1) * cols];
        for c in 1..cols - 1 {
            let w = [up[c - 1], up[c], up[c + 1], mid[c - 1], mid[c], mid[c + 1], dn[c - 1], dn[c], dn[c + 1]];
            if w.iter().any(|v| v.is_nan()) {
                continue;
            }
            // f32 sums in GDAL's order, then f64 division (GDALSlopeHornAlg with T = float)
            let sx: f32 = (w[0] + w[3] + w[3] + w[6]) - (w[2] + w[5] + w[5] + w[8]);
            let sy: f32 = (w[6] + w[7] + w[7] + w[8]) - (w[0] + w[1] + w[1] + w[2]);
            let dx = f64::from(sx) / ewres;
            let dy = f64::from(sy) / nsres;
            let key = dx * dx + dy * dy;
            o[c] = ((key.sqrt() / 8.0).atan() * to_deg) as f32;
        }
    }
    Raster::new(g.clone(), out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::needless_range_loop, clippy::nonminimal_bool)]
mod tests {
    use super::*;
    use crate::grid::{Crs, GeoTransform, Grid};

    fn grid(rows: usize, cols: usize, dx: f64, dy: f64) -> Grid {
        Grid::new(rows, cols, GeoTransform::new(0.0, dx, 0.0, -dy), Crs::new("local"))
    }

    #[test]
    fn tilted_planes_by_hand() {
        // z = 0.5·x (x in metres, 100 m cells): every window gives ∂z/∂x = 0.5 exactly
        // ⇒ slope = atan(0.5) = 26.565051177…°
        let g = grid(4, 5, 100.0, 100.0);
        let v: Vec<f32> = (0..20).map(|i| 0.5 * 100.0 * (i % 5) as f32).collect();
        let s = slope_degrees(&Raster::new(g, v).unwrap()).unwrap();
        let expect = 0.5f64.atan().to_degrees() as f32;
        for r in 1..3 {
            for c in 1..4 {
                assert_eq!(s.get(r, c), expect);
            }
        }
        // z rising 30 m per 10 m row southwards and 40 m per 20 m column eastwards on 20 × 10 m cells:
        // ∂z/∂x = 40/20 = 2, ∂z/∂y = 30/10 = 3 ⇒ slope = atan(√13) = 74.4986…°
        let g = grid(3, 3, 20.0, 10.0);
        let v: Vec<f32> = (0..9).map(|i| (30 * (i / 3) + 40 * (i % 3)) as f32).collect();
        let s = slope_degrees(&Raster::new(g, v).unwrap()).unwrap();
        assert!((f64::from(s.get(1, 1)) - 13f64.sqrt().atan().to_degrees()).abs() < 1e-5);
    }

    #[test]
    fn edges_and_nodata_like_gdaldem() {
        // 5 × 5 flat DEM with one NaN at (2, 2): every cell whose window holds it is NaN, i.e. the
        // whole interior 3 × 3; the outer ring is NaN anyway. Flat elsewhere ⇒ 0°.
        let g = grid(5, 5, 1.0, 1.0);
        let mut v = vec![7.0f32; 25];
        v[12] = f32::NAN;
        let s = slope_degrees(&Raster::new(g.clone(), v).unwrap()).unwrap();
        assert_eq!(s.count_valid(), 0);
        // 6 × 6 with the NaN at (1, 1): cells (1..=2, 1..=2) are NaN, the rest of the interior is 0
        let g = grid(6, 6, 1.0, 1.0);
        let mut v = vec![7.0f32; 36];
        v[7] = f32::NAN;
        let s = slope_degrees(&Raster::new(g, v).unwrap()).unwrap();
        assert_eq!(s.count_valid(), 16 - 4);
        assert_eq!(s.get(3, 3), 0.0);
        assert!(s.get(2, 2).is_nan() && s.get(1, 1).is_nan());
        // too small for any window
        let s = slope_degrees(&Raster::new(grid(2, 9, 1.0, 1.0), vec![1.0; 18]).unwrap()).unwrap();
        assert_eq!(s.count_valid(), 0);
    }
}
