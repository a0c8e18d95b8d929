//! Where the pixels of a web-mercator tile fall on a result raster, and the PNG encoding of tiles.
//!
//! For each tile the source cell of every output pixel is found by transforming the pixel centre
//! from web mercator to the raster's CRS (GDAL/PROJ). Transforming 65 536 points per tile would
//! cost more than the rest of the rendering, so a 17 × 17 lattice of tile points (every 16 pixels)
//! is transformed and the pixels in between are interpolated bilinearly; the interpolation is
//! checked against exact transforms at the 256 lattice-cell centres and the tile falls back to
//! transforming every pixel when it is off by more than a quarter of a sampled cell. These maps
//! depend only on the grid and the tile, so they are cached and shared by every layer and year
//! on that grid.
//!
//! Cells are sampled (nearest neighbour: every drawn pixel is a computed cell) from the overview
//! level whose cells are the largest not larger than the tile's pixels (GDAL's rule), so a
//! zoomed-out view reads a small overview, not the full raster. Levels of up to
//! [`WHOLE_LEVEL_CELLS`] cells are read whole once and kept in a bounded cache; larger levels are
//! read window by window (GDAL's block cache then keeps the decoded blocks).

use crate::error::ApiError;
use crate::geo::{self, Dir, TILE_SIZE};
use crate::layers::LayerId;
use crate::raster::RasterInfo;

/// Levels up to this many cells are read whole and cached.
pub(crate) const WHOLE_LEVEL_CELLS: usize = 8 << 20;
const LATTICE_STEP: usize = 16;
const LATTICE_N: usize = TILE_SIZE / LATTICE_STEP + 1;
pub(crate) const PIXELS: usize = TILE_SIZE * TILE_SIZE;

/// Full-resolution (col, row) of the source cell under every pixel of a tile.
pub(crate) struct TileMap {
    /// Continuous (col, row) per tile pixel, row-major; NaN where the point does not transform.
    pub coords: Vec<[f32; 2]>,
    /// Full-resolution cells per tile pixel (the scale of the view).
    pub footprint: f64,
}

fn to_col_row(info: &RasterInfo, xs: &[f64], ys: &[f64]) -> Vec<[f64; 2]> {
    xs.iter().zip(ys).map(|(&x, &y)| if x.is_nan() { [f64::NAN; 2] } else { let (c, r) = info.col_row(x, y); [c, r] }).collect()
}

fn transform_tile_points(info: &RasterInfo, z: u8, x: u32, y: u32, pts: &[(f64, f64)]) -> Result<Vec<[f64; 2]>, String> {
    let (mut xs, mut ys): (Vec<f64>, Vec<f64>) = pts.iter().map(|&(px, py)| geo::tile_point(z, x, y, px, py)).unzip();
    geo::transform(&info.crs, Dir::MercToSrc, &mut xs, &mut ys)?;
    Ok(to_col_row(info, &xs, &ys))
}

/// The map of one tile onto a grid.
pub(crate) fn tile_map(info: &RasterInfo, z: u8, x: u32, y: u32) -> Result<TileMap, String> {
    let lattice_pts: Vec<(f64, f64)> =
        (0..LATTICE_N).flat_map(|j| (0..LATTICE_N).map(move |i| ((i * LATTICE_STEP) as f64, (j * LATTICE_STEP) as f64))).collect();
    let lat = transform_tile_points(info, z, x, y, &lattice_pts)?;
    let at = |i: usize, j: usize| lat[j * LATTICE_N + i];
    // scale: mean length of the lattice edges, in full-resolution cells per tile pixel
    let (mut sum, mut n) = (0.0, 0usize);
    for j in 0..LATTICE_N {
        for i in 0..LATTICE_N {
            let p = at(i, j);
            for q in [(i + 1 < LATTICE_N).then(|| at(i + 1, j)), (j + 1 < LATTICE_N).then(|| at(i, j + 1))].into_iter().flatten() {
                let d = ((q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2)).sqrt();
                if d.is_finite() {
                    sum += d / LATTICE_STEP as f64;
                    n += 1;
                }
            }
        }
    }
    let footprint = if n > 0 { sum / n as f64 } else { 1.0 };
    let complete = lat.iter().all(|p| p[0].is_finite());
    let interp = |px: f64, py: f64| -> [f64; 2] {
        let (fi, fj) = (px / LATTICE_STEP as f64, py / LATTICE_STEP as f64);
        let (i, j) = ((fi.floor() as usize).min(LATTICE_N - 2), (fj.floor() as usize).min(LATTICE_N - 2));
        let (u, v) = (fi - i as f64, fj - j as f64);
        let (a, b, c, d) = (at(i, j), at(i + 1, j), at(i, j + 1), at(i + 1, j + 1));
        let m = |k: usize| (a[k] * (1.0 - u) + b[k] * u) * (1.0 - v) + (c[k] * (1.0 - u) + d[k] * u) * v;
        [m(0), m(1)]
    };
    let mut good = complete;
    if good {
        let mids: Vec<(f64, f64)> = (0..LATTICE_N - 1)
            .flat_map(|j| (0..LATTICE_N - 1).map(move |i| ((i * LATTICE_STEP + LATTICE_STEP / 2) as f64, (j * LATTICE_STEP + LATTICE_STEP / 2) as f64)))
            .collect();
        let exact = transform_tile_points(info, z, x, y, &mids)?;
        let tolerance = 0.25 * footprint.max(1.0);
        good = mids.iter().zip(&exact).all(|(&(px, py), e)| {
            let g = interp(px, py);
            e[0].is_finite() && ((g[0] - e[0]).powi(2) + (g[1] - e[1]).powi(2)).sqrt() <= tolerance
        });
    }
    let coords: Vec<[f32; 2]> = if good {
        let mut out = Vec::with_capacity(PIXELS);
        for j in 0..TILE_SIZE {
            for i in 0..TILE_SIZE {
                let p = interp(i as f64 + 0.5, j as f64 + 0.5);
                out.push([p[0] as f32, p[1] as f32]);
            }
        }
        out
    } else {
        let pts: Vec<(f64, f64)> = (0..TILE_SIZE).flat_map(|j| (0..TILE_SIZE).map(move |i| (i as f64 + 0.5, j as f64 + 0.5))).collect();
        transform_tile_points(info, z, x, y, &pts)?.into_iter().map(|p| [p[0] as f32, p[1] as f32]).collect()
    };
    Ok(TileMap { coords, footprint })
}

/// The level to sample for a view of `footprint` full-resolution cells per pixel: the coarsest
/// whose cells are not larger than a pixel (10 % slack).
pub(crate) fn choose_level(info: &RasterInfo, footprint: f64) -> usize {
    let mut best = 0;
    for (k, l) in info.levels.iter().enumerate() {
        if l.fx.max(l.fy) <= footprint * 1.1 {
            best = k;
        }
    }
    best
}

/// What a tile shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TileSpec {
    pub layer: LayerId,
    /// The year (ignored for the trend).
    pub year: i32,
    /// Reference year of the change layer.
    pub from: i32,
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

/// Encodes RGBA pixels of a tile as PNG.
pub(crate) fn encode_png(rgba: &[u8]) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::with_capacity(16 * 1024);
    {
        let mut enc = png::Encoder::new(&mut out, TILE_SIZE as u32, TILE_SIZE as u32);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let mut w = enc.write_header().map_err(|e| ApiError::Internal(format!("PNG: {e}")))?;
        w.write_image_data(rgba).map_err(|e| ApiError::Internal(format!("PNG: {e}")))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::Level;


    fn info(levels: &[f64]) -> RasterInfo {
        RasterInfo {
            width: 2400,
            height: 2400,
            gt: [10007554.677, 463.312716527916, 0.0, 4447802.078667, 0.0, -463.312716527916],
            crs: "+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs".into(),
            nodata: None,
            levels: levels
                .iter()
                .enumerate()
                .map(|(k, &f)| Level { width: (2400.0 / f) as usize, height: (2400.0 / f) as usize, fx: f, fy: f, ov: (k > 0).then(|| k - 1) })
                .collect(),
        }
    }

    #[test]
    fn levels_follow_the_zoom() {
        let i = info(&[1.0, 2.0, 4.0, 8.0]);
        assert_eq!(choose_level(&i, 0.3), 0);
        assert_eq!(choose_level(&i, 1.5), 0);
        assert_eq!(choose_level(&i, 2.0), 1);
        assert_eq!(choose_level(&i, 5.0), 2);
        assert_eq!(choose_level(&i, 100.0), 3);
    }

    #[test]
    fn interpolated_tile_maps_agree_with_exact_transforms() {
        // h26v05 (Beijing): a zoomed-out tile and a zoomed-in one
        let i = info(&[1.0]);
        for (z, x, y) in [(6u8, 52u32, 24u32), (12, 3372, 1552)] {
            let m = tile_map(&i, z, x, y).unwrap();
            let pts: Vec<(f64, f64)> = [(0usize, 0usize), (100, 37), (255, 255), (17, 201)].iter().map(|&(a, b)| (a as f64 + 0.5, b as f64 + 0.5)).collect();
            let exact = transform_tile_points(&i, z, x, y, &pts).unwrap();
            for (k, &(a, b)) in [(0usize, 0usize), (100, 37), (255, 255), (17, 201)].iter().enumerate() {
                let g = m.coords[b * TILE_SIZE + a];
                let e = exact[k];
                let err = ((f64::from(g[0]) - e[0]).powi(2) + (f64::from(g[1]) - e[1]).powi(2)).sqrt();
                assert!(err <= 0.25 * m.footprint.max(1.0) + 1e-3, "z{z}: error {err} cells (footprint {})", m.footprint);
            }
        }
    }
}
