//! Web-mercator PNG tiles rendered from the result rasters.
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

use std::sync::Arc;

use crate::catalog::{Area, AreaGeo};
use crate::error::ApiError;
use crate::extent::slope;
use crate::geo;
use crate::layers::{LayerId, Style};
use crate::raster::{Cells, FileProblem, RasterFile};
use crate::state::AppState;
use crate::tilemap::{choose_level, encode_png, TileSpec, PIXELS, WHOLE_LEVEL_CELLS};

fn problem(p: FileProblem) -> ApiError {
    ApiError::BadFile(p)
}

/// Values of one raster under every pixel of a tile (NaN = no value).
fn sample(state: &AppState, file: &RasterFile, z: u8, x: u32, y: u32) -> Result<Vec<f32>, ApiError> {
    let info = file.info().map_err(problem)?;
    let map = state.tile_map(info, z, x, y)?;
    let level = choose_level(info, map.footprint);
    let lv = info.levels[level];
    let to_level = |p: [f32; 2]| -> Option<(usize, usize)> {
        let (c, r) = (f64::from(p[0]) / lv.fx, f64::from(p[1]) / lv.fy);
        (c >= 0.0 && r >= 0.0 && c < lv.width as f64 && r < lv.height as f64).then_some((c as usize, r as usize))
    };
    let cells: Arc<Cells> = if lv.width * lv.height <= WHOLE_LEVEL_CELLS {
        state.level_cells(file, level)?
    } else {
        let (mut c0, mut r0, mut c1, mut r1) = (usize::MAX, usize::MAX, 0, 0);
        for &p in &map.coords {
            if let Some((c, r)) = to_level(p) {
                (c0, r0, c1, r1) = (c0.min(c), r0.min(r), c1.max(c), r1.max(r));
            }
        }
        if c0 == usize::MAX {
            return Ok(vec![f32::NAN; PIXELS]);
        }
        Arc::new(file.cells(level, c0, r0, c1 - c0 + 1, r1 - r0 + 1).map_err(problem)?)
    };
    Ok(map.coords.iter().map(|&p| to_level(p).map_or(f32::NAN, |(c, r)| cells.at(c, r))).collect())
}

/// Values of a layer under every pixel of a tile.
fn layer_values(state: &AppState, area: &Area, t: &TileSpec) -> Result<Vec<f32>, ApiError> {
    let need = |layer: LayerId, year: i32| -> Result<&RasterFile, ApiError> {
        area.file(layer, year)
            .map(|f| f.as_ref())
            .ok_or_else(|| ApiError::NotFound(format!("{}: no {} raster for {year} (years: {:?})", area.name, layer.meta().title, area.years_of(layer))))
    };
    match t.layer {
        LayerId::Change => {
            let a = sample(state, need(LayerId::Rsei, t.year)?, t.z, t.x, t.y)?;
            let b = sample(state, need(LayerId::Rsei, t.from)?, t.z, t.x, t.y)?;
            Ok(a.iter().zip(&b).map(|(a, b)| a - b).collect())
        }
        LayerId::Trend => {
            let years = area.years_of(LayerId::Rsei);
            let mut per_year = Vec::new();
            for &y in &years {
                per_year.push(sample(state, need(LayerId::Rsei, y)?, t.z, t.x, t.y)?);
            }
            let ts: Vec<f64> = years.iter().map(|&y| f64::from(y)).collect();
            let mut v = vec![0f32; years.len()];
            Ok((0..PIXELS)
                .map(|i| {
                    for (k, p) in per_year.iter().enumerate() {
                        v[k] = p[i];
                    }
                    slope(&ts, &v)
                })
                .collect())
        }
        LayerId::Extra => {
            let e = area.extras.get(t.year as usize).ok_or_else(|| ApiError::NotFound(format!("{}: no such extra raster", area.name)))?;
            sample(state, &e.file, t.z, t.x, t.y)
        }
        layer => sample(state, need(layer, t.year)?, t.z, t.x, t.y),
    }
}

/// A rendered tile: PNG bytes, or `None` when no pixel has a value.
pub(crate) fn render(state: &AppState, area: &Area, geo: &AreaGeo, t: &TileSpec) -> Result<Option<Vec<u8>>, ApiError> {
    let (x0, y0, x1, y1) = geo::tile_bounds(t.z, t.x, t.y);
    let (a0, b0, a1, b1) = geo.merc;
    if x1 < a0 || x0 > a1 || y1 < b0 || y0 > b1 {
        return Err(ApiError::NotFound(format!(
            "tile {}/{}/{} lies outside the rasters of {} (west {:.4}, south {:.4}, east {:.4}, north {:.4})",
            t.z, t.x, t.y, area.name, geo.bounds[0], geo.bounds[1], geo.bounds[2], geo.bounds[3]
        )));
    }
    let values = layer_values(state, area, t)?;
    let style: Style = if t.layer == LayerId::Extra {
        crate::layers::extra_style(state.extra_range(area, t.year as usize)).0
    } else {
        t.layer.style(state.range(area, t.layer))
    };
    let mut rgba = vec![0u8; PIXELS * 4];
    let mut any = false;
    for (px, &v) in rgba.chunks_exact_mut(4).zip(&values) {
        if let Some(c) = style.color(v) {
            px.copy_from_slice(&c);
            any = true;
        }
    }
    if !any {
        return Ok(None);
    }
    encode_png(&rgba).map(Some)
}
