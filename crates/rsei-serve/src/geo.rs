//! Coordinate transformations (GDAL/PROJ) and web-mercator tile geometry.
//!
//! GDAL's `CoordTransform` is neither `Send` nor `Sync`: each thread keeps its own, per source
//! CRS, in a thread-local map (creating one costs about a millisecond, transforming a point far
//! less).

use std::cell::RefCell;
use std::collections::HashMap;
use std::f64::consts::PI;

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};

/// Radius of the web-mercator sphere (EPSG:3857), metres.
pub(crate) const MERC_R: f64 = 6_378_137.0;
/// Half the width of the web-mercator world, metres.
pub(crate) const MERC_ORIGIN: f64 = PI * MERC_R;
/// Tiles are 256 × 256 pixels.
pub const TILE_SIZE: usize = 256;
/// Largest zoom level served.
pub const MAX_ZOOM: u8 = 22;

/// The direction of a transformation between the raster's CRS and a standard one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Dir {
    /// Web mercator (EPSG:3857) → raster CRS.
    MercToSrc,
    /// Longitude/latitude (WGS 84) → raster CRS.
    LonLatToSrc,
    /// Raster CRS → longitude/latitude (WGS 84).
    SrcToLonLat,
}

thread_local! {
    static TRANSFORMS: RefCell<HashMap<(String, Dir), CoordTransform>> = RefCell::new(HashMap::new());
}

/// While alive, GDAL errors raised on this thread are not printed (they still reach our errors).
pub(crate) struct QuietErrors(std::marker::PhantomData<*const ()>);

impl QuietErrors {
    pub(crate) fn new() -> Self {
        // SAFETY: CPLQuietErrorHandler has the expected signature; popped in Drop on the same
        // thread (the guard is !Send).
        unsafe { gdal_sys::CPLPushErrorHandler(Some(gdal_sys::CPLQuietErrorHandler)) };
        QuietErrors(std::marker::PhantomData)
    }
}

impl Drop for QuietErrors {
    fn drop(&mut self) {
        // SAFETY: pops the handler pushed in `new`, on this thread.
        unsafe { gdal_sys::CPLPopErrorHandler() };
    }
}

fn srs(def: &str) -> Result<SpatialRef, String> {
    let mut s = SpatialRef::from_definition(def).map_err(|e| format!("CRS {def:.60}: {e}"))?;
    s.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    Ok(s)
}

/// Transforms points in place; points that cannot be transformed become NaN. `crs` is the
/// raster's CRS definition (WKT or PROJ). An error only when no transformation can be set up.
pub(crate) fn transform(crs: &str, dir: Dir, xs: &mut [f64], ys: &mut [f64]) -> Result<(), String> {
    if xs.is_empty() {
        return Ok(());
    }
    let _q = QuietErrors::new();
    TRANSFORMS.with(|m| {
        let mut m = m.borrow_mut();
        let key = (crs.to_string(), dir);
        if !m.contains_key(&key) {
            let src = srs(crs)?;
            let ct = match dir {
                Dir::MercToSrc => CoordTransform::new(&srs("EPSG:3857")?, &src),
                Dir::LonLatToSrc => CoordTransform::new(&srs("EPSG:4326")?, &src),
                Dir::SrcToLonLat => CoordTransform::new(&src, &srs("EPSG:4326")?),
            }
            .map_err(|e| format!("no transformation for CRS {crs:.60}: {e}"))?;
            m.insert(key.clone(), ct);
        }
        let ct = &m[&key];
        // failed points are set to HUGE_VAL (the call then reports an error: the others are fine)
        let _ = ct.transform_coords(xs, ys, &mut []);
        for (x, y) in xs.iter_mut().zip(ys.iter_mut()) {
            if !(x.is_finite() && y.is_finite()) || x.abs() > 1e300 || y.abs() > 1e300 {
                *x = f64::NAN;
                *y = f64::NAN;
            }
        }
        Ok(())
    })
}

/// Size of one tile pixel at zoom `z`, web-mercator metres.
pub(crate) fn tile_resolution(z: u8) -> f64 {
    2.0 * MERC_ORIGIN / (TILE_SIZE as f64 * f64::from(1u32 << z))
}

/// Web-mercator coordinates of a point of tile `(z, x, y)` given in tile pixels (0..=256).
pub(crate) fn tile_point(z: u8, x: u32, y: u32, px: f64, py: f64) -> (f64, f64) {
    let res = tile_resolution(z);
    (-MERC_ORIGIN + (f64::from(x) * TILE_SIZE as f64 + px) * res, MERC_ORIGIN - (f64::from(y) * TILE_SIZE as f64 + py) * res)
}

/// Web-mercator bounds `(xmin, ymin, xmax, ymax)` of a tile.
pub(crate) fn tile_bounds(z: u8, x: u32, y: u32) -> (f64, f64, f64, f64) {
    let (x0, y1) = tile_point(z, x, y, 0.0, 0.0);
    let (x1, y0) = tile_point(z, x, y, TILE_SIZE as f64, TILE_SIZE as f64);
    (x0, y0, x1, y1)
}

/// Longitude/latitude → web mercator.
pub(crate) fn lonlat_to_merc(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-85.051_128_78, 85.051_128_78);
    (lon.to_radians() * MERC_R, ((PI / 4.0 + lat.to_radians() / 2.0).tan()).ln() * MERC_R)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_geometry() {
        let (x0, y0, x1, y1) = tile_bounds(0, 0, 0);
        assert!((x0 + MERC_ORIGIN).abs() < 1e-6 && (y1 - MERC_ORIGIN).abs() < 1e-6);
        assert!((x1 - MERC_ORIGIN).abs() < 1e-6 && (y0 + MERC_ORIGIN).abs() < 1e-6);
        let (mx, my) = lonlat_to_merc(0.0, 0.0);
        assert!(mx.abs() < 1e-9 && my.abs() < 1e-9);
        assert!((tile_resolution(1) - MERC_ORIGIN / 256.0).abs() < 1e-9);
    }

    #[test]
    fn lonlat_round_trip_through_sinusoidal() {
        let sinu = "+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs";
        let (mut xs, mut ys) = (vec![116.5], vec![39.5]);
        transform(sinu, Dir::LonLatToSrc, &mut xs, &mut ys).unwrap();
        assert!((ys[0] - 39.5f64.to_radians() * 6_371_007.181).abs() < 1e-3, "{}", ys[0]);
        transform(sinu, Dir::SrcToLonLat, &mut xs, &mut ys).unwrap();
        assert!((xs[0] - 116.5).abs() < 1e-9 && (ys[0] - 39.5).abs() < 1e-9);
        let (mx, my) = lonlat_to_merc(116.5, 39.5);
        let (mut xs, mut ys) = (vec![mx], vec![my]);
        transform(sinu, Dir::MercToSrc, &mut xs, &mut ys).unwrap();
        assert!((ys[0] - 39.5f64.to_radians() * 6_371_007.181).abs() < 1e-3, "{}", ys[0]);
    }
}
