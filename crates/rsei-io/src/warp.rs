//! Warping rasters onto a target [`Grid`] with GDAL's warper, point and bounds reprojection, and
//! file checksums for manifests.
//!
//! [`warp_to_grid`] warps a band of a file (path or GDAL subdataset string) and
//! [`warp_raster`] an in-memory `Raster<f32>` (through a `MEM` dataset). Both call the `gdalwarp`
//! library function with the options the command line would take:
//! `-of MEM -t_srs <target CRS> -te <xmin ymin xmax ymax> -ts <cols rows> -r <resampling>
//! -ot Float32 -dstnodata nan [-srcnodata <v>]`, so their output equals `gdalwarp`'s cell for cell.
//! Output cells with no source data are `NaN`.
//!
//! Resampling: nearest for classes, bilinear or cubic for smooth fields, average for
//! aggregation to coarser cells, mode for classes aggregated, sum for counts and areas.
//!
//! ```
//! use rsei_core::{Crs, GeoTransform, Grid, Raster};
//! use rsei_io::warp::{warp_raster, Resampling};
//! let crs = Crs::new("EPSG:32650");
//! let src = Raster::new(Grid::new(2, 2, GeoTransform::new(0.0, 10.0, 20.0, -10.0), crs.clone()), vec![1.0f32, 2.0, 3.0, 5.0]).unwrap();
//! // one 20 m cell over the four 10 m cells: average (1 + 2 + 3 + 5) / 4 = 2.75
//! let target = Grid::new(1, 1, GeoTransform::new(0.0, 20.0, 20.0, -20.0), crs);
//! let out = warp_raster(&src, &target, Resampling::Average).unwrap();
//! assert_eq!(out.data(), &[2.75]);
//! ```

use std::ffi::{c_char, c_int, CString};
use std::io::Read;
use std::path::Path;

use gdal::raster::Buffer;
use gdal::{Dataset, DriverManager};
use rsei_core::{Bounds, Grid, Raster, Window};
use sha2::{Digest, Sha256};

use crate::crs::spatial_ref;
pub use crate::crs::{reproject_points, transform_bounds};
use crate::error::{gdal_message, IoError, Result};
use crate::gdalutil::{last_error_message, open_raster, QuietErrors};

/// Resampling algorithm of the warper.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Resampling {
    Nearest,
    Bilinear,
    Cubic,
    Average,
    Mode,
    Sum,
}

impl Resampling {
    /// The `-r` value of `gdalwarp`.
    pub fn gdal_name(self) -> &'static str {
        match self {
            Resampling::Nearest => "near",
            Resampling::Bilinear => "bilinear",
            Resampling::Cubic => "cubic",
            Resampling::Average => "average",
            Resampling::Mode => "mode",
            Resampling::Sum => "sum",
        }
    }
}

/// Runs a GDAL utility that takes argv-style options and returns a dataset.
fn c_args(args: &[String]) -> Result<Vec<CString>> {
    args.iter()
        .map(|a| {
            CString::new(a.as_str())
                .map_err(|_| IoError::InvalidOption { name: "warp argument".into(), reason: format!("{a:?} contains NUL") })
        })
        .collect()
}

fn argv(cs: &[CString]) -> Vec<*mut c_char> {
    let mut v: Vec<*mut c_char> = cs.iter().map(|c| c.as_ptr() as *mut c_char).collect();
    v.push(std::ptr::null_mut());
    v
}

/// `GDALWarp` into a new MEM dataset.
fn gdal_warp(src: &Dataset, args: &[String], context: &str) -> Result<Dataset> {
    let cs = c_args(args)?;
    let mut av = argv(&cs);
    let _q = QuietErrors::new();
    // SAFETY: `av` is a NULL-terminated array of pointers to NUL-terminated strings that outlive the
    // call (`cs`); GDAL copies what it keeps. A NULL return is handled below.
    let opts = unsafe { gdal_sys::GDALWarpAppOptionsNew(av.as_mut_ptr(), std::ptr::null_mut()) };
    if opts.is_null() {
        return Err(IoError::InvalidOption { name: "warp options".into(), reason: last_error_message() });
    }
    let dest = CString::default();
    let mut srcs = [src.c_dataset()];
    let mut usage: c_int = 0;
    // SAFETY: `srcs` holds one valid dataset handle that outlives the call; `opts` is valid until
    // freed right after; the returned handle (if not NULL) is a new dataset we take ownership of.
    let out = unsafe { gdal_sys::GDALWarp(dest.as_ptr(), std::ptr::null_mut(), 1, srcs.as_mut_ptr(), opts, &mut usage) };
    // SAFETY: `opts` came from GDALWarpAppOptionsNew and is freed once.
    unsafe { gdal_sys::GDALWarpAppOptionsFree(opts) };
    if out.is_null() {
        let msg = last_error_message();
        return Err(IoError::Gdal {
            context: context.to_string(),
            source: Box::new(gdal::errors::GdalError::CplError {
                class: gdal_sys::CPLErr::CE_Failure,
                number: 0,
                msg: if usage != 0 { format!("invalid warp options: {msg}") } else { msg },
            }),
        });
    }
    // SAFETY: `out` is a valid, owned dataset handle.
    Ok(unsafe { Dataset::from_c_dataset(out) })
}

/// `GDALTranslate` into a new in-memory VRT (used to pick one band of a multi-band source).
fn gdal_translate_vrt(src: &Dataset, args: &[String], context: &str) -> Result<Dataset> {
    let cs = c_args(args)?;
    let mut av = argv(&cs);
    let _q = QuietErrors::new();
    // SAFETY: as in `gdal_warp`.
    let opts = unsafe { gdal_sys::GDALTranslateOptionsNew(av.as_mut_ptr(), std::ptr::null_mut()) };
    if opts.is_null() {
        return Err(IoError::InvalidOption { name: "translate options".into(), reason: last_error_message() });
    }
    let dest = CString::default();
    let mut usage: c_int = 0;
    // SAFETY: `src` is a valid dataset for the call; `opts` is valid until freed right after.
    let out = unsafe { gdal_sys::GDALTranslate(dest.as_ptr(), src.c_dataset(), opts, &mut usage) };
    // SAFETY: freed once.
    unsafe { gdal_sys::GDALTranslateOptionsFree(opts) };
    if out.is_null() {
        return Err(IoError::Gdal {
            context: context.to_string(),
            source: Box::new(gdal::errors::GdalError::CplError {
                class: gdal_sys::CPLErr::CE_Failure,
                number: 0,
                msg: last_error_message(),
            }),
        });
    }
    // SAFETY: `out` is a valid, owned dataset handle.
    Ok(unsafe { Dataset::from_c_dataset(out) })
}

fn fmt_f64(v: f64) -> String {
    // shortest representation that round-trips: the warper sees exactly our grid
    format!("{v:?}")
}

/// The `gdalwarp` arguments that put the output exactly on `target`.
pub fn warp_args(target: &Grid, resampling: Resampling, src_nodata: Option<f64>) -> Result<Vec<String>> {
    if target.is_empty() {
        return Err(IoError::InvalidOption { name: "target grid".into(), reason: "the target grid has no cell".into() });
    }
    let wkt = spatial_ref(target.crs())?
        .to_wkt()
        .map_err(|e| IoError::Crs { definition: target.crs().to_string(), reason: gdal_message(&e) })?;
    let b = target.bounds();
    let mut a: Vec<String> = vec!["-of".into(), "MEM".into(), "-t_srs".into(), wkt, "-te".into()];
    a.extend([b.xmin, b.ymin, b.xmax, b.ymax].map(fmt_f64));
    a.extend(["-ts".into(), target.cols().to_string(), target.rows().to_string()]);
    a.extend(["-r".into(), resampling.gdal_name().into(), "-ot".into(), "Float32".into(), "-dstnodata".into(), "nan".into()]);
    if let Some(v) = src_nodata {
        a.extend(["-srcnodata".into(), if v.is_nan() { "nan".into() } else { fmt_f64(v) }]);
    }
    Ok(a)
}

fn read_result(ds: &Dataset, target: &Grid, context: &str) -> Result<Raster<f32>> {
    let band = ds.rasterband(1).map_err(|e| IoError::gdal(context, e))?;
    let (c, r) = band.size();
    if (r, c) != target.shape() {
        return Err(IoError::Gdal {
            context: context.into(),
            source: Box::new(gdal::errors::GdalError::BadArgument(format!(
                "warp produced {r}×{c} cells, expected {}×{}",
                target.rows(),
                target.cols()
            ))),
        });
    }
    let mut data = vec![0f32; r * c];
    band.read_into_slice::<f32>((0, 0), (c, r), (c, r), &mut data, None).map_err(|e| IoError::gdal(context, e))?;
    Ok(Raster::new(target.clone(), data)?)
}

/// Warps band `band` (1-based) of a file or GDAL subdataset string onto `target`, as Float32 with
/// `NaN` where no source data falls. `src_nodata` overrides the source's own nodata value.
/// The values are the file's stored values (no MODIS decoding: decode first and use
/// [`warp_raster`] for MODIS layers whose fill must not be interpolated).
pub fn warp_to_grid(
    source: &str,
    band: usize,
    target: &Grid,
    resampling: Resampling,
    src_nodata: Option<f64>,
) -> Result<Raster<f32>> {
    let display = Path::new(source);
    let ds = open_raster(source, display)?;
    let n = ds.raster_count();
    if band == 0 || band > n {
        return Err(IoError::MissingLayer {
            path: display.to_path_buf(),
            layer: format!("band {band}"),
            available: (1..=n).map(|b| format!("band {b}")).collect(),
        });
    }
    let context = format!("warping band {band} of {source}");
    let single;
    let src = if n > 1 {
        single = gdal_translate_vrt(&ds, &["-of".into(), "VRT".into(), "-b".into(), band.to_string()], &context)?;
        &single
    } else {
        &ds
    };
    let out = gdal_warp(src, &warp_args(target, resampling, src_nodata)?, &context)?;
    read_result(&out, target, &context)
}

/// Warps an in-memory raster (`NaN` = nodata) onto `target`.
pub fn warp_raster(src: &Raster<f32>, target: &Grid, resampling: Resampling) -> Result<Raster<f32>> {
    let g = src.grid();
    let context = "warping an in-memory raster";
    if g.is_empty() {
        return Err(IoError::InvalidOption { name: "source raster".into(), reason: "the source raster has no cell".into() });
    }
    let mem = DriverManager::get_driver_by_name("MEM").map_err(|e| IoError::gdal(context, e))?;
    let mut ds = mem.create_with_band_type::<f32, _>("", g.cols(), g.rows(), 1).map_err(|e| IoError::gdal(context, e))?;
    ds.set_geo_transform(&g.transform().to_gdal()).map_err(|e| IoError::gdal(context, e))?;
    ds.set_spatial_ref(&spatial_ref(g.crs())?).map_err(|e| IoError::gdal(context, e))?;
    {
        let mut band = ds.rasterband(1).map_err(|e| IoError::gdal(context, e))?;
        band.set_no_data_value(Some(f64::NAN)).map_err(|e| IoError::gdal(context, e))?;
        let mut buf = Buffer::new((g.cols(), g.rows()), src.data().to_vec());
        band.write((0, 0), (g.cols(), g.rows()), &mut buf).map_err(|e| IoError::gdal(context, e))?;
    }
    let out = gdal_warp(&ds, &warp_args(target, resampling, Some(f64::NAN))?, context)?;
    read_result(&out, target, context)
}

/// Warps values given on `src` (row-major, `NaN` = nodata) onto `target` in `f64` (so every `u32`
/// QA word and every `f32` passes exactly), and says which target cells the source covers.
///
/// Returns `(values, covered)`: `covered[i]` is true when target cell `i` takes data from the
/// source; other cells (outside the source, or on its nodata) hold `NaN`. The coverage comes from
/// a second band, 1 where the source has data and nodata elsewhere, warped with the values, so a
/// target cell counts as covered only where the warper found source data for it (with nearest:
/// the source cell under its centre). This is
/// `gdalwarp -ot Float64 -srcnodata nan -dstnodata nan -r <resampling>` on both bands.
pub fn warp_values_f64(src: &Grid, values: &[f64], target: &Grid, resampling: Resampling) -> Result<(Vec<f64>, Vec<bool>)> {
    let context = "warping a window onto the target grid";
    if src.is_empty() || values.len() != src.len() {
        return Err(IoError::InvalidOption {
            name: "source window".into(),
            reason: format!("{} values for a {}×{} source", values.len(), src.rows(), src.cols()),
        });
    }
    let mem = DriverManager::get_driver_by_name("MEM").map_err(|e| IoError::gdal(context, e))?;
    let mut ds = mem.create_with_band_type::<f64, _>("", src.cols(), src.rows(), 2).map_err(|e| IoError::gdal(context, e))?;
    ds.set_geo_transform(&src.transform().to_gdal()).map_err(|e| IoError::gdal(context, e))?;
    ds.set_spatial_ref(&spatial_ref(src.crs())?).map_err(|e| IoError::gdal(context, e))?;
    let ones: Vec<f64> = values.iter().map(|v| if v.is_nan() { f64::NAN } else { 1.0 }).collect();
    for (b, data) in [(1, values.to_vec()), (2, ones)] {
        let mut band = ds.rasterband(b).map_err(|e| IoError::gdal(context, e))?;
        band.set_no_data_value(Some(f64::NAN)).map_err(|e| IoError::gdal(context, e))?;
        let mut buf = Buffer::new((src.cols(), src.rows()), data);
        band.write((0, 0), (src.cols(), src.rows()), &mut buf).map_err(|e| IoError::gdal(context, e))?;
    }
    let mut args = warp_args(target, resampling, Some(f64::NAN))?;
    if let Some(i) = args.iter().position(|a| a == "Float32") {
        args[i] = "Float64".into();
    }
    args.extend(["-wo".into(), "UNIFIED_SRC_NODATA=NO".into()]);
    let out = gdal_warp(&ds, &args, context)?;
    let (c, r) = (target.cols(), target.rows());
    let read = |b: usize| -> Result<Vec<f64>> {
        let band = out.rasterband(b).map_err(|e| IoError::gdal(context, e))?;
        let mut data = vec![0f64; r * c];
        band.read_into_slice::<f64>((0, 0), (c, r), (c, r), &mut data, None).map_err(|e| IoError::gdal(context, e))?;
        Ok(data)
    };
    let vals = read(1)?;
    let covered = read(2)?.into_iter().map(|v| v.is_finite() && v > 0.0).collect();
    Ok((vals, covered))
}

/// Source cells a warp onto `target_window` of `target` reads: the window of `src` covering the
/// window's bounds (reprojected, edges densified) plus `pad` cells on each side, clipped to `src`;
/// `None` when they do not meet.
pub fn source_window(src: &Grid, target: &Grid, target_window: Window, pad: usize) -> Result<Option<Window>> {
    let tg = target.subgrid(target_window)?;
    let b = if crate::crs::crs_equivalent(src.crs(), target.crs())? {
        tg.bounds()
    } else {
        match transform_bounds(&tg.bounds(), target.crs(), src.crs()) {
            Ok(b) => b,
            // a window that cannot be expressed in the source CRS (e.g. beyond a UTM zone's
            // validity) does not meet the source
            Err(_) => return Ok(None),
        }
    };
    let (dx, dy) = src.cell_size();
    let p = pad as f64;
    let b = Bounds::new(b.xmin - p * dx, b.ymin - p * dy, b.xmax + p * dx, b.ymax + p * dy);
    if !b.intersects(&src.bounds()) {
        return Ok(None);
    }
    Ok(src.window_covering(&b))
}

/// Warps the part of a source raster that `target_window` needs onto that window: finds the
/// source window ([`source_window`], 2 cells of margin), reads it with `read` (row-major `f64`,
/// `NaN` = nodata) and warps it with [`warp_values_f64`]. Returns the values and the coverage on
/// the target window, or `None` when the source does not meet it. This is how a file in another
/// CRS or on another lattice is put on a study grid, window by window.
pub fn warp_window(
    src: &Grid,
    target: &Grid,
    target_window: Window,
    resampling: Resampling,
    read: impl FnOnce(Window) -> Result<Vec<f64>>,
) -> Result<Option<(Vec<f64>, Vec<bool>)>> {
    target.check_window(target_window)?;
    if target_window.is_empty() {
        return Ok(None);
    }
    let Some(sw) = source_window(src, target, target_window, 2)? else { return Ok(None) };
    let values = read(sw)?;
    let sg = src.subgrid(sw)?;
    let tg = target.subgrid(target_window)?;
    let (v, cov) = warp_values_f64(&sg, &values, &tg, resampling)?;
    if !cov.iter().any(|&c| c) {
        return Ok(None);
    }
    Ok(Some((v, cov)))
}

/// For nearest-neighbour warping: which source cell each cell of a target window takes.
///
/// Made once per (source grid, target window) by warping a band of cell indices with GDAL's
/// nearest resampling (the transformer and the rounding of `gdalwarp -r near`), then applied to
/// every layer and date on that grid by a gather: the layers of a granule, and the granules of a
/// tile over the years, share their grid, so one warp serves them all.
#[derive(Clone, Debug, PartialEq)]
pub struct NearestMap {
    /// The source window read.
    pub source_window: Window,
    /// Per target cell (row-major over the target window): the row-major index into the source
    /// window, or `u32::MAX` when the cell falls outside the source.
    pub index: Vec<u32>,
}

impl NearestMap {
    /// Sentinel of [`NearestMap::index`] for a target cell outside the source.
    pub const OUTSIDE: u32 = u32::MAX;
}

fn grid_key(g: &Grid) -> (usize, usize, [u64; 6], String) {
    (g.rows(), g.cols(), g.transform().to_gdal().map(f64::to_bits), g.crs().as_str().to_string())
}

/// The [`NearestMap`] of `target_window` of `target` over `src` (cached per grid pair, at most a
/// few hundred entries); `None` when the source does not meet the window.
pub fn nearest_map(src: &Grid, target: &Grid, target_window: Window) -> Result<Option<std::sync::Arc<NearestMap>>> {
    type Key = ((usize, usize, [u64; 6], String), (usize, usize, [u64; 6], String));
    static CACHE: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<Key, Option<std::sync::Arc<NearestMap>>>>> =
        std::sync::OnceLock::new();
    target.check_window(target_window)?;
    let tg = target.subgrid(target_window)?;
    let key = (grid_key(src), grid_key(&tg));
    let cache = CACHE.get_or_init(Default::default);
    if let Some(m) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(m);
    }
    let map = match source_window(src, target, target_window, 1)? {
        None => None,
        Some(sw) => {
            let sg = src.subgrid(sw)?;
            let ids: Vec<f64> = (0..sw.len()).map(|i| i as f64).collect();
            let (v, cov) = warp_values_f64(&sg, &ids, &tg, Resampling::Nearest)?;
            let index: Vec<u32> =
                v.iter().zip(&cov).map(|(&x, &c)| if c && x >= 0.0 && x < sw.len() as f64 { x as u32 } else { NearestMap::OUTSIDE }).collect();
            if index.iter().all(|&i| i == NearestMap::OUTSIDE) {
                None
            } else {
                Some(std::sync::Arc::new(NearestMap { source_window: sw, index }))
            }
        }
    };
    if let Ok(mut c) = cache.lock() {
        if c.len() >= 512 {
            c.clear();
        }
        c.insert(key, map.clone());
    }
    Ok(map)
}

/// Lower-case hex SHA-256 of a file's bytes, streamed (for output manifests).
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|source| IoError::File { path: path.to_path_buf(), source })?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|source| IoError::File { path: path.to_path_buf(), source })?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsei_core::{Crs, GeoTransform};

    #[test]
    fn sha256_of_known_bytes() {
        let dir = std::env::temp_dir().join(format!("rsei-sha-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("abc.txt");
        std::fs::write(&p, b"abc").unwrap();
        // FIPS 180-2 test vector: SHA-256("abc")
        assert_eq!(sha256_file(&p).unwrap(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(sha256_file(&dir.join("missing")).unwrap_err().to_string().contains("missing"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn in_memory_warps_by_hand() {
        let crs = Crs::new("EPSG:32650");
        // 4 × 4 source, 10 m cells, values 0..15 row-major, one NaN at (0, 1)
        let mut v: Vec<f32> = (0..16).map(|i| i as f32).collect();
        v[1] = f32::NAN;
        let src = Raster::new(Grid::new(4, 4, GeoTransform::new(0.0, 10.0, 40.0, -10.0), crs.clone()), v).unwrap();
        // same grid, nearest: identity (NaN stays NaN)
        let same = warp_raster(&src, src.grid(), Resampling::Nearest).unwrap();
        for (a, b) in src.data().iter().zip(same.data()) {
            assert!(a == b || (a.is_nan() && b.is_nan()));
        }
        // 20 m cells, average over valid cells: top-left block {0, NaN, 4, 5} → 3; {2, 3, 6, 7} → 4.5;
        // {8, 9, 12, 13} → 10.5; {10, 11, 14, 15} → 12.5
        let coarse = Grid::new(2, 2, GeoTransform::new(0.0, 20.0, 40.0, -20.0), crs.clone());
        let avg = warp_raster(&src, &coarse, Resampling::Average).unwrap();
        assert_eq!(avg.data(), &[3.0, 4.5, 10.5, 12.5]);
        // sum: {0+4+5} = 9, 18, 42, 50
        let sum = warp_raster(&src, &coarse, Resampling::Sum).unwrap();
        assert_eq!(sum.data(), &[9.0, 18.0, 42.0, 50.0]);
        // a target reaching beyond the source is NaN there: cell 0 (x 20..40, centre (30, 30)) takes
        // source row 1, col 3 = 7; cell 1 (x 40..60) lies east of the source
        let beyond = Grid::new(1, 2, GeoTransform::new(20.0, 20.0, 40.0, -20.0), crs);
        let b = warp_raster(&src, &beyond, Resampling::Nearest).unwrap();
        assert_eq!(b.data()[0], 7.0);
        assert!(b.data()[1].is_nan());
    }
}
