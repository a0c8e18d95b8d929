//! Windows of remote Cloud-Optimized GeoTIFFs, read by HTTP range requests through GDAL's
//! `/vsicurl/`, and copied losslessly into small local GeoTIFFs.
//!
//! [`copy_window`] opens a COG over HTTP, works out which of its cells cover a box of the
//! sinusoidal plane (snapped outward to the COG's cells), and lets `GDALTranslate -srcwin` copy
//! that window — stored values, data type, nodata, scale, offset, metadata and CRS unchanged — into
//! an in-memory GeoTIFF whose bytes are returned. GDAL only fetches the COG's header and the
//! internal tiles that intersect the window. The copy is read afterwards by
//! [`crate::read::LayerReader`] like any local per-layer file, so a window read from a catalogue
//! decodes to the very same values as the whole file read locally.
//!
//! The `/vsicurl/` settings are set for the calling thread only, around each open
//! ([`VsiCurlOptions`]): retries on 429/5xx with GDAL's own backoff, no directory listing (a
//! signed URL's folder cannot be listed, and every side-car probe would be a wasted request) and
//! only `.tif` names tried.

use std::ffi::{c_char, c_int, CString};

use gdal::Dataset;
use rsei_core::{Bounds, GeoTransform, Window};

use crate::error::{IoError, Result};
use crate::gdalutil::{last_error_message, open_raster, QuietErrors};

/// Per-open settings of GDAL's `/vsicurl/` (GDAL configuration options set for this thread only).
#[derive(Clone, Debug, PartialEq)]
pub struct VsiCurlOptions {
    /// `GDAL_HTTP_MAX_RETRY`: retries of a request answered 429, 500, 502, 503 or 504.
    pub max_retry: u32,
    /// `GDAL_HTTP_RETRY_DELAY` in seconds (GDAL doubles it at each retry).
    pub retry_delay_s: f64,
    /// `GDAL_HTTP_TIMEOUT` in seconds.
    pub timeout_s: u32,
}

impl Default for VsiCurlOptions {
    /// 3 retries from 1 s, 60 s timeout.
    fn default() -> Self {
        VsiCurlOptions { max_retry: 3, retry_delay_s: 1.0, timeout_s: 60 }
    }
}

/// Sets thread-local GDAL configuration options and restores the previous values on drop.
struct ThreadConfig {
    keys: Vec<(String, Option<String>)>,
}

impl ThreadConfig {
    fn set(pairs: &[(&str, String)]) -> ThreadConfig {
        let mut keys = Vec::new();
        for (k, v) in pairs {
            let old = gdal::config::get_thread_local_config_option(k, "").ok().filter(|s| !s.is_empty());
            if gdal::config::set_thread_local_config_option(k, v).is_ok() {
                keys.push((k.to_string(), old));
            }
        }
        ThreadConfig { keys }
    }
}

impl Drop for ThreadConfig {
    fn drop(&mut self) {
        for (k, old) in self.keys.drain(..) {
            let _ = match old {
                Some(v) => gdal::config::set_thread_local_config_option(&k, &v),
                None => gdal::config::clear_thread_local_config_option(&k),
            };
        }
    }
}

fn vsicurl_config(o: &VsiCurlOptions) -> ThreadConfig {
    ThreadConfig::set(&[
        ("GDAL_HTTP_MAX_RETRY", o.max_retry.to_string()),
        ("GDAL_HTTP_RETRY_DELAY", format!("{}", o.retry_delay_s)),
        ("GDAL_HTTP_TIMEOUT", o.timeout_s.to_string()),
        ("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR".into()),
        ("CPL_VSIL_CURL_ALLOWED_EXTENSIONS", ".tif,.TIF,.tiff,.TIFF".into()),
        ("GDAL_HTTP_MULTIRANGE", "SERIAL".into()),
        ("VSI_CACHE", "FALSE".into()),
    ])
}

/// Forgets what `/vsicurl/` remembers of remote files (sizes, cached ranges), so that a retry
/// after a failure or a new signature starts afresh.
pub fn clear_vsicurl_cache() {
    // SAFETY: no arguments; clears GDAL's process-wide /vsicurl/ caches.
    unsafe { gdal_sys::VSICurlClearCache() };
}

/// The window of a raster covering `bounds` (its cells snapped outward), clipped to the raster;
/// `None` when they do not overlap.
pub fn window_for_bounds(t: &GeoTransform, rows: usize, cols: usize, bounds: &Bounds) -> Option<Window> {
    let eps = 1e-6;
    let c0 = ((bounds.xmin - t.x0) / t.dx + eps).floor().max(0.0);
    let c1 = ((bounds.xmax - t.x0) / t.dx - eps).ceil().min(cols as f64);
    // dy < 0 (north up): ymax gives the first row
    let r0 = ((bounds.ymax - t.y0) / t.dy + eps).floor().max(0.0);
    let r1 = ((bounds.ymin - t.y0) / t.dy - eps).ceil().min(rows as f64);
    if c1 <= c0 || r1 <= r0 {
        return None;
    }
    Some(Window::new(r0 as usize, c0 as usize, (r1 - r0) as usize, (c1 - c0) as usize))
}

/// A window copied out of a remote raster.
#[derive(Clone, Debug)]
pub struct CopiedWindow {
    /// The GeoTIFF bytes of the copy.
    pub bytes: Vec<u8>,
    /// Where the window lies in the source raster.
    pub window: Window,
    /// The source raster's shape (rows, cols).
    pub source_shape: (usize, usize),
}

fn translate_to_mem(src: &Dataset, args: &[String], mem_path: &str, display: &str) -> Result<()> {
    let cs: Vec<CString> = args
        .iter()
        .map(|a| CString::new(a.as_str()).map_err(|_| IoError::InvalidOption { name: "translate argument".into(), reason: format!("{a:?} contains NUL") }))
        .collect::<Result<_>>()?;
    let mut av: Vec<*mut c_char> = cs.iter().map(|c| c.as_ptr() as *mut c_char).collect();
    av.push(std::ptr::null_mut());
    let dest = CString::new(mem_path).map_err(|_| IoError::InvalidOption { name: "path".into(), reason: "contains NUL".into() })?;
    // SAFETY: `av` is a NULL-terminated array of NUL-terminated strings outliving the call.
    let opts = unsafe { gdal_sys::GDALTranslateOptionsNew(av.as_mut_ptr(), std::ptr::null_mut()) };
    if opts.is_null() {
        return Err(IoError::InvalidOption { name: "translate options".into(), reason: last_error_message() });
    }
    let mut usage: c_int = 0;
    // SAFETY: `src` is a valid dataset for the call; `opts` is valid until freed right after.
    let out = unsafe { gdal_sys::GDALTranslate(dest.as_ptr(), src.c_dataset(), opts, &mut usage) };
    // SAFETY: freed once.
    unsafe { gdal_sys::GDALTranslateOptionsFree(opts) };
    if out.is_null() {
        return Err(IoError::Write { path: display.into(), reason: format!("copying the window failed: {}", last_error_message()) });
    }
    // SAFETY: `out` is a valid dataset handle we own; closing it flushes the GeoTIFF. The error
    // state after the close tells whether every block could be read (a truncated response shows here).
    let failed = unsafe {
        gdal_sys::CPLErrorReset();
        #[allow(clippy::let_unit_value)]
        let _ = gdal_sys::GDALClose(out);
        gdal_sys::CPLGetLastErrorType() == gdal_sys::CPLErr::CE_Failure
    };
    if failed {
        return Err(IoError::Write { path: display.into(), reason: format!("copying the window failed: {}", last_error_message()) });
    }
    Ok(())
}

/// Takes the bytes of a `/vsimem/` file and removes it.
fn take_mem_file(path: &str) -> Option<Vec<u8>> {
    let c = CString::new(path).ok()?;
    let mut len: gdal_sys::vsi_l_offset = 0;
    // SAFETY: `c` is a valid path; with bUnlinkAndSeize = FALSE GDAL keeps ownership of the buffer,
    // which stays valid until the file is unlinked below; we copy it first.
    let bytes = unsafe {
        let p = gdal_sys::VSIGetMemFileBuffer(c.as_ptr(), &mut len, 0);
        if p.is_null() {
            None
        } else {
            Some(std::slice::from_raw_parts(p, len as usize).to_vec())
        }
    };
    // SAFETY: removes the in-memory file (a no-op if it does not exist).
    unsafe { gdal_sys::VSIUnlink(c.as_ptr()) };
    bytes
}

/// Copies the cells of band 1 of `gdal_name` (e.g. `/vsicurl/https://…`, or a local path) that
/// cover `bounds` (in the raster's CRS) into GeoTIFF bytes, values and metadata unchanged.
/// `display` names the source in errors (an unsigned URL: never a signature). `Ok(None)` when the
/// raster does not overlap `bounds`.
///
/// Errors name `display`: the open (HTTP status, unreachable host, not a GeoTIFF) and any block
/// that could not be read (a truncated response).
pub fn copy_window(gdal_name: &str, display: &str, bounds: &Bounds, opts: &VsiCurlOptions) -> Result<Option<CopiedWindow>> {
    let _cfg = vsicurl_config(opts);
    let ds = open_raster(gdal_name, display.as_ref())?;
    copy_window_of(ds, display, bounds)
}

/// As [`copy_window`], with `bounds` given in `bounds_crs`: they are transformed (edges
/// densified) into the CRS the raster's own header declares, so rasters of any projection (a
/// scene in its UTM zone) are cut over the same place. Also returns the EPSG code of the
/// raster's CRS when it has one.
pub fn copy_window_in(gdal_name: &str, display: &str, bounds: &Bounds, bounds_crs: &rsei_core::Crs, opts: &VsiCurlOptions) -> Result<(Option<CopiedWindow>, Option<u32>)> {
    let _cfg = vsicurl_config(opts);
    let ds = open_raster(gdal_name, display.as_ref())?;
    let srs = ds.spatial_ref().map_err(|_| IoError::Grid { path: display.into(), reason: "the raster declares no CRS".into() })?;
    let epsg = {
        let _q = QuietErrors::new();
        srs.auth_name().filter(|a| a.eq_ignore_ascii_case("EPSG")).and_then(|_| srs.auth_code().ok()).and_then(|c| u32::try_from(c).ok())
    };
    let crs = crate::crs::crs_from_spatial_ref(&srs)?;
    let b = crate::crs::transform_bounds(bounds, bounds_crs, &crs)?;
    Ok((copy_window_of(ds, display, &b)?, epsg))
}

fn copy_window_of(ds: Dataset, display: &str, bounds: &Bounds) -> Result<Option<CopiedWindow>> {
    let (cols, rows) = ds.raster_size();
    let gt = ds.geo_transform().map_err(|_| IoError::Grid { path: display.into(), reason: "the raster has no geotransform".into() })?;
    let t = GeoTransform::from_gdal(gt).map_err(|e| IoError::Grid { path: display.into(), reason: e.to_string() })?;
    let Some(w) = window_for_bounds(&t, rows, cols, bounds) else { return Ok(None) };
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mem = format!("/vsimem/rsei-window-{}-{}.tif", std::process::id(), N.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let args: Vec<String> = [
        "-of", "GTiff", "-b", "1", "-co", "COMPRESS=DEFLATE", "-co", "TILED=YES", "-srcwin",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([w.col, w.row, w.cols, w.rows].iter().map(|v| v.to_string()))
    .collect();
    let res = {
        let _q = QuietErrors::new();
        translate_to_mem(&ds, &args, &mem, display)
    };
    drop(ds);
    let bytes = take_mem_file(&mem);
    res?;
    let bytes = bytes.ok_or_else(|| IoError::Write { path: display.into(), reason: "the window copy produced no file".into() })?;
    Ok(Some(CopiedWindow { bytes, window: w, source_shape: (rows, cols) }))
}

/// The `/vsicurl/` name of a URL (unchanged if it already names a GDAL virtual file system).
pub fn vsicurl(url: &str) -> String {
    if url.starts_with("/vsi") {
        url.to_string()
    } else {
        format!("/vsicurl/{url}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_of_bounds_snaps_outward_and_clips() {
        let t = GeoTransform::new(1000.0, 10.0, 2000.0, -10.0);
        // x 1015..1041 → cols 1..5 ; y 1985..1961 → rows 1..4
        let b = Bounds { xmin: 1015.0, ymin: 1961.0, xmax: 1041.0, ymax: 1985.0 };
        assert_eq!(window_for_bounds(&t, 10, 10, &b), Some(Window::new(1, 1, 3, 4)));
        // exactly on cell edges: no extra cell
        let b = Bounds { xmin: 1010.0, ymin: 1970.0, xmax: 1030.0, ymax: 1990.0 };
        assert_eq!(window_for_bounds(&t, 10, 10, &b), Some(Window::new(1, 1, 2, 2)));
        // clipped to the raster
        let b = Bounds { xmin: 900.0, ymin: 1000.0, xmax: 1020.0, ymax: 2100.0 };
        assert_eq!(window_for_bounds(&t, 10, 10, &b), Some(Window::new(0, 0, 10, 2)));
        // outside
        let b = Bounds { xmin: 0.0, ymin: 0.0, xmax: 10.0, ymax: 10.0 };
        assert_eq!(window_for_bounds(&t, 10, 10, &b), None);
    }
}
