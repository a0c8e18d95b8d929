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
use crate::geo::{self, Dir, TILE_SIZE};
use crate::layers::{nice_bound, nice_range, quantile, LayerId, Style};
use crate::raster::{Cells, FileProblem, RasterFile, RasterInfo};
use crate::state::{ApiError, AppState};

/// Levels up to this many cells are read whole and cached.
pub(crate) const WHOLE_LEVEL_CELLS: usize = 8 << 20;
const LATTICE_STEP: usize = 16;
const LATTICE_N: usize = TILE_SIZE / LATTICE_STEP + 1;
const PIXELS: usize = TILE_SIZE * TILE_SIZE;

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

/// Least-squares slope of `v` over `t`, with at least 3 values.
fn slope(t: &[f64], v: &[f32]) -> f32 {
    let pts: Vec<(f64, f64)> = t.iter().zip(v).filter(|(_, v)| v.is_finite()).map(|(&t, &v)| (t, f64::from(v))).collect();
    if pts.len() < 3 {
        return f32::NAN;
    }
    let n = pts.len() as f64;
    let (mt, mv) = (pts.iter().map(|p| p.0).sum::<f64>() / n, pts.iter().map(|p| p.1).sum::<f64>() / n);
    let sxx: f64 = pts.iter().map(|p| (p.0 - mt).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mt) * (p.1 - mv)).sum();
    if sxx > 0.0 {
        (sxy / sxx) as f32
    } else {
        f32::NAN
    }
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

/// Where an area lies, and which of its files cannot be read.
pub(crate) fn area_geo(area: &Area) -> Result<AreaGeo, FileProblem> {
    let mut problems = Vec::new();
    let mut first: Option<RasterInfo> = None;
    for layers in area.years.values() {
        for f in layers.values() {
            match f.info() {
                Ok(i) => {
                    if first.is_none() && layers.get(&LayerId::Rsei).is_some_and(|r| Arc::ptr_eq(r, f)) {
                        first = Some(i.clone());
                    }
                }
                Err(p) => problems.push(p),
            }
        }
    }
    let info = match first {
        Some(i) => i,
        None => {
            return Err(problems.into_iter().next().unwrap_or(FileProblem { file: area.id.clone(), reason: "no RSEI raster can be read".into() }));
        }
    };
    // the outline of the grid, densified, to longitude/latitude
    let n = 32;
    let (w, h) = (info.width as f64, info.height as f64);
    let mut pts = Vec::new();
    for k in 0..=n {
        let t = k as f64 / n as f64;
        pts.extend([(t * w, 0.0), (t * w, h), (0.0, t * h), (w, t * h)]);
    }
    let (mut xs, mut ys): (Vec<f64>, Vec<f64>) = pts.iter().map(|&(c, r)| info.xy(c, r)).unzip();
    geo::transform(&info.crs, Dir::SrcToLonLat, &mut xs, &mut ys).map_err(|e| FileProblem { file: area.id.clone(), reason: e })?;
    let (mut b, mut any) = ([f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY], false);
    for (&x, &y) in xs.iter().zip(&ys) {
        if x.is_finite() && y.is_finite() {
            b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
            any = true;
        }
    }
    if !any {
        return Err(FileProblem { file: area.id.clone(), reason: "the raster's corners cannot be brought to longitude/latitude".into() });
    }
    let (mx0, my0) = geo::lonlat_to_merc(b[0], b[1]);
    let (mx1, my1) = geo::lonlat_to_merc(b[2], b[3]);
    Ok(AreaGeo { info, bounds: b, merc: (mx0, my0, mx1, my1), problems })
}

/// 2nd–98th percentile of each extra raster of an area (decimated to 256 cells a side).
pub(crate) fn extra_ranges(area: &Area) -> Vec<Option<(f32, f32)>> {
    area.extras
        .iter()
        .map(|e| {
            let (_, _, d) = e.file.decimated(256).ok()?;
            let mut v: Vec<f32> = d.into_iter().filter(|x| x.is_finite()).collect();
            Some(nice_range(quantile(&mut v, 0.02)?, quantile(&mut v, 0.98)?))
        })
        .collect()
}

/// Value ranges of the ranged layers of an area (2nd to 98th percentile over all years, read
/// from overviews decimated to at most 256 cells a side; symmetric for change and trend).
pub(crate) fn area_ranges(area: &Area) -> std::collections::HashMap<LayerId, (f32, f32)> {
    const SIDE: usize = 256;
    let mut out = std::collections::HashMap::new();
    let decimated = |l: LayerId, y: i32| area.file(l, y).and_then(|f| f.decimated(SIDE).ok());
    for layer in area.layers().into_iter().filter(|l| l.ranged() && !l.computed()) {
        let mut v: Vec<f32> = Vec::new();
        for y in area.years_of(layer) {
            if let Some((_, _, d)) = decimated(layer, y) {
                v.extend(d.into_iter().filter(|x| x.is_finite()));
            }
        }
        let lo = quantile(&mut v, 0.02);
        let hi = quantile(&mut v, 0.98);
        if let (Some(lo), Some(hi)) = (lo, hi) {
            out.insert(layer, nice_range(lo, hi));
        }
    }
    let years = area.years_of(LayerId::Rsei);
    let rsei: Vec<(i32, Vec<f32>)> = years.iter().filter_map(|&y| decimated(LayerId::Rsei, y).map(|(_, _, d)| (y, d))).collect();
    let same = rsei.windows(2).all(|w| w[0].1.len() == w[1].1.len());
    if rsei.len() >= 2 && same {
        let mut m = 0f64;
        for (_, v) in &rsei[1..] {
            let mut d: Vec<f32> = v.iter().zip(&rsei[0].1).map(|(a, b)| (a - b).abs()).filter(|x| x.is_finite()).collect();
            m = m.max(quantile(&mut d, 0.98).unwrap_or(0.0));
        }
        let b = nice_bound(m, 0.05);
        out.insert(LayerId::Change, (-b, b));
    }
    if rsei.len() >= 3 && same {
        let ts: Vec<f64> = rsei.iter().map(|(y, _)| f64::from(*y)).collect();
        let mut s: Vec<f32> = (0..rsei[0].1.len())
            .map(|i| slope(&ts, &rsei.iter().map(|(_, v)| v[i]).collect::<Vec<_>>()).abs())
            .filter(|x| x.is_finite())
            .collect();
        let b = nice_bound(quantile(&mut s, 0.98).unwrap_or(0.0), 0.005);
        out.insert(LayerId::Trend, (-b, b));
    }
    out
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

    #[test]
    fn slope_needs_three_values() {
        assert!(slope(&[1.0, 2.0], &[0.0, 1.0]).is_nan());
        assert!((slope(&[2018.0, 2019.0, 2020.0, 2021.0], &[0.5, 0.6, f32::NAN, 0.8]) - 0.1).abs() < 1e-6);
    }
}
