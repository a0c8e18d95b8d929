//! Reading any single-band raster (not a MODIS layer): indicator rasters made elsewhere, masks,
//! driver rasters. Values as `f32` with the file's nodata (and NaN) as `NaN`; scale and offset
//! declared in the file are applied.

use std::path::Path;

use rsei_core::{GeoTransform, Grid, Raster};

use crate::crs::crs_from_spatial_ref;
use crate::error::{IoError, Result};
use crate::gdalutil::{open_raster, QuietErrors};

/// The grid of band `band` (1-based) of a raster file.
pub fn raster_grid(path: &Path) -> Result<Grid> {
    let ds = open_raster(&path.to_string_lossy(), path)?;
    grid_of(&ds, path)
}

fn grid_of(ds: &gdal::Dataset, path: &Path) -> Result<Grid> {
    let (cols, rows) = ds.raster_size();
    let gt = ds.geo_transform().map_err(|_| IoError::Grid { path: path.to_path_buf(), reason: "the raster has no geotransform".into() })?;
    let t = GeoTransform::from_gdal(gt).map_err(|e| IoError::Grid { path: path.to_path_buf(), reason: e.to_string() })?;
    let srs = {
        let _q = QuietErrors::new();
        ds.spatial_ref()
    }
    .map_err(|_| IoError::Grid { path: path.to_path_buf(), reason: "the raster has no CRS".into() })?;
    Ok(Grid::new(rows, cols, t, crs_from_spatial_ref(&srs)?))
}

/// Reads band `band` (1-based) of a raster file whole, as `f32`; nodata and NaN become `NaN`,
/// declared scale/offset are applied.
pub fn read_plain(path: &Path, band: usize) -> Result<Raster<f32>> {
    let ds = open_raster(&path.to_string_lossy(), path)?;
    let grid = grid_of(&ds, path)?;
    let n = ds.raster_count();
    if band == 0 || band > n {
        return Err(IoError::MissingLayer {
            path: path.to_path_buf(),
            layer: format!("band {band}"),
            available: (1..=n).map(|b| format!("band {b}")).collect(),
        });
    }
    let b = ds.rasterband(band).map_err(|e| IoError::gdal(format!("{}: band {band}", path.display()), e))?;
    let nodata = b.no_data_value();
    let scale = b.scale().unwrap_or(1.0);
    let offset = b.offset().unwrap_or(0.0);
    let mut vals = vec![0f64; grid.len()];
    b.read_into_slice::<f64>((0, 0), (grid.cols(), grid.rows()), (grid.cols(), grid.rows()), &mut vals, None).map_err(|e| IoError::Read {
        path: path.to_path_buf(),
        layer: format!("band {band}"),
        window: "the whole raster".into(),
        source: Box::new(e),
    })?;
    let data = vals
        .into_iter()
        .map(|v| if v.is_nan() || Some(v) == nodata { f32::NAN } else { (v * scale + offset) as f32 })
        .collect();
    Ok(Raster::new(grid, data)?)
}
