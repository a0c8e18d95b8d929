//! Small safe wrappers around the few GDAL C functions the safe `gdal` crate does not expose,
//! and helpers shared by the readers and writers.

use std::ffi::{CStr, CString};
use std::path::Path;

use gdal::raster::RasterBand;
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};

use crate::error::{IoError, Result};

/// While alive, GDAL errors raised on this thread are not printed to stderr (they are still
/// recorded, so the message reaches our error values). GDAL's handler stack is per thread, so the
/// guard is not `Send` (the raw-pointer marker keeps it on the thread that pushed the handler).
pub(crate) struct QuietErrors(std::marker::PhantomData<*const ()>);

impl QuietErrors {
    pub(crate) fn new() -> Self {
        // SAFETY: CPLQuietErrorHandler is a valid handler with the expected signature; the push is
        // undone by the matching pop in Drop, on the same thread (the guard is !Send).
        unsafe { gdal_sys::CPLPushErrorHandler(Some(gdal_sys::CPLQuietErrorHandler)) };
        QuietErrors(std::marker::PhantomData)
    }
}

impl Drop for QuietErrors {
    fn drop(&mut self) {
        // SAFETY: pops the handler pushed in `new` on this thread.
        unsafe { gdal_sys::CPLPopErrorHandler() };
    }
}

/// The last GDAL error message of this thread (empty if none).
pub(crate) fn last_error_message() -> String {
    // SAFETY: CPLGetLastErrorMsg returns a pointer to a thread-local, NUL-terminated buffer that
    // stays valid until the next GDAL call on this thread; we copy it at once.
    unsafe {
        let p = gdal_sys::CPLGetLastErrorMsg();
        if p.is_null() {
            String::new()
        } else {
            CStr::from_ptr(p).to_string_lossy().trim().to_string()
        }
    }
}

/// Opens a raster (file path or GDAL subdataset string) read-only, quietly, mapping the failure to
/// [`IoError::Open`] naming `display_path`.
pub(crate) fn open_raster(name: &str, display_path: &Path) -> Result<Dataset> {
    configure();
    let _q = QuietErrors::new();
    let opts = DatasetOptions {
        open_flags: GdalOpenFlags::GDAL_OF_RASTER | GdalOpenFlags::GDAL_OF_READONLY | GdalOpenFlags::GDAL_OF_VERBOSE_ERROR,
        ..Default::default()
    };
    Dataset::open_ex(name, opts).map_err(|source| IoError::open(display_path, source))
}

/// Process-wide GDAL settings, applied once before the first open:
/// `GDAL_DISABLE_READDIR_ON_OPEN=TRUE` — GDAL otherwise lists the whole folder of every file it
/// opens to look for side-car files, which costs more than the read itself in MODIS archives of
/// thousands of per-layer files; with `TRUE` it probes the few side-car names it needs instead
/// (side-cars such as `.aux.xml`, `.ovr` and `.prj` are still found).
pub(crate) fn configure() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("GDAL_DISABLE_READDIR_ON_OPEN").is_none() {
            let _ = gdal::config::set_config_option("GDAL_DISABLE_READDIR_ON_OPEN", "TRUE");
        }
    });
}

/// Sets a band's unit type (`GDALSetRasterUnitType`, missing from the safe crate).
pub(crate) fn set_band_unit(band: &mut RasterBand<'_>, unit: &str) -> Result<()> {
    let c = CString::new(unit).map_err(|_| IoError::InvalidOption {
        name: "unit".into(),
        reason: format!("{unit:?} contains a NUL byte"),
    })?;
    // SAFETY: the band handle is valid for the lifetime of `band`; GDAL copies the string.
    let rv = unsafe { gdal_sys::GDALSetRasterUnitType(band.c_rasterband(), c.as_ptr()) };
    if rv != gdal_sys::CPLErr::CE_None {
        return Err(IoError::gdal(
            format!("setting band unit {unit:?}"),
            gdal::errors::GdalError::CplError { class: rv, number: 0, msg: last_error_message() },
        ));
    }
    Ok(())
}

/// Whether a driver lists `value` among the values of creation option `option`
/// (e.g. is `ZSTD` a `COMPRESS` value of the `GTiff` driver in this GDAL build).
pub(crate) fn driver_option_has_value(driver: &str, option: &str, value: &str) -> bool {
    let Ok(d) = gdal::DriverManager::get_driver_by_name(driver) else {
        return false;
    };
    use gdal::Metadata;
    let Some(xml) = d.metadata_item("DMD_CREATIONOPTIONLIST", "") else {
        return false;
    };
    // The list is XML: <Option name="COMPRESS" ...> <Value>ZSTD</Value> ... </Option>
    let key = format!("name=\"{option}\"");
    let Some(start) = xml.find(&key) else {
        return false;
    };
    let rest = &xml[start..];
    let end = rest.find("</Option>").unwrap_or(rest.len());
    rest[..end].contains(&format!(">{value}<"))
}

/// Caps GDAL's block cache at `bytes` (it never grows it): the cache is process-wide and by
/// default 5 % of the machine's memory, which a memory budget must include.
pub fn cap_block_cache(bytes: u64) -> u64 {
    configure();
    let want = i64::try_from(bytes).unwrap_or(i64::MAX);
    // SAFETY: plain getters and setters of a process-wide integer.
    unsafe {
        let now = gdal_sys::GDALGetCacheMax64();
        if want < now {
            gdal_sys::GDALSetCacheMax64(want);
        }
        gdal_sys::GDALGetCacheMax64().max(0) as u64
    }
}
