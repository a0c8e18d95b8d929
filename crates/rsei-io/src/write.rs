//! Raster writers: GeoTIFF and Cloud-Optimized GeoTIFF, always written atomically.
//!
//! [`write_raster`] writes one band, [`write_bands`] a stack of bands sharing a grid. The file is
//! produced under a temporary name beside the target and renamed into place only when complete
//! ([`rsei_core::fsutil::with_atomic`]): an interrupted or failed write leaves neither a partial
//! target nor a temporary file.
//!
//! * **COG** ([`RasterFormat::Cog`], the default): the bands are first assembled in GDAL's `MEM`
//!   driver, then copied with the `COG` driver (tiles of [`WriteOptions::block_size`], overviews
//!   built by the driver, `PREDICTOR=YES` so GDAL picks 2 for integers and 3 for floats).
//! * **GeoTIFF** ([`RasterFormat::GTiff`]): a tiled GeoTIFF written directly, predictor 2 for
//!   integers and 3 for floats, internal overviews built with the same rule as the COG driver.
//!
//! Nodata: in memory a float raster marks nodata with `NaN`; on disk every `NaN` becomes the nodata
//! value of the options (default −9999), so no NaN ever appears in an output file. A valid float
//! cell that equals the nodata value is refused (it would silently turn into nodata). Integer
//! rasters are written as they are; their nodata value, if any, is only declared.
//!
//! Overviews ([`Overviews::Auto`]): levels 2, 4, 8 … are built until the smallest level fits in one
//! block, so a raster not larger than one block (512 × 512 by default) gets none. Resampling is
//! `AVERAGE` for continuous values and `NEAREST` (or `MODE`) for classes and counts.
//!
//! Compression: LZW, DEFLATE (default) or ZSTD, with an optional level. ZSTD is used only if the
//! installed GDAL has it ([`zstd_available`]); otherwise DEFLATE is used and the file carries the
//! tag `RSEI_COMPRESSION_NOTE` saying so ([`effective_compression`] gives the same note to callers).
//!
//! ```
//! use rsei_core::{Crs, GeoTransform, Grid, Raster};
//! use rsei_io::write::{write_raster, WriteOptions};
//! let dir = std::env::temp_dir().join(format!("rsei-write-doc-{}", std::process::id()));
//! let grid = Grid::new(2, 3, GeoTransform::new(500_000.0, 500.0, 4_000_000.0, -500.0), Crs::new("EPSG:32650"));
//! let r = Raster::new(grid, vec![0.1f32, 0.2, f32::NAN, 0.4, 0.5, 0.6]).unwrap();
//! let mut opts = WriteOptions::continuous();
//! opts.tags.insert("RSEI_LAYER".into(), "ndvi".into());
//! write_raster(&dir.join("ndvi.tif"), &r, &opts).unwrap();
//! assert!(dir.join("ndvi.tif").exists());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use gdal::raster::{Buffer, GdalType, RasterCreationOptions};
use gdal::{Dataset, DriverManager, Metadata};
use rsei_core::fsutil::with_atomic;
use rsei_core::{Grid, Raster};

use crate::crs::spatial_ref;
use crate::error::{IoError, Result};
use crate::gdalutil::{driver_option_has_value, set_band_unit, QuietErrors};

/// Dataset metadata key of the JSON provenance record.
pub const PROVENANCE_TAG: &str = "RSEI_PROVENANCE";
/// Dataset metadata key of the note written when the requested compression was not available.
pub const COMPRESSION_NOTE_TAG: &str = "RSEI_COMPRESSION_NOTE";
/// Default nodata value of float rasters on disk.
pub const DEFAULT_FLOAT_NODATA: f64 = -9999.0;

/// Output container.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RasterFormat {
    /// Cloud-Optimized GeoTIFF (tiled, overviews, header first).
    #[default]
    Cog,
    /// Plain tiled GeoTIFF.
    GTiff,
}

/// Compression codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Compression {
    None,
    Lzw,
    #[default]
    Deflate,
    Zstd,
}

impl Compression {
    /// GDAL's name for the codec.
    pub fn gdal_name(self) -> &'static str {
        match self {
            Compression::None => "NONE",
            Compression::Lzw => "LZW",
            Compression::Deflate => "DEFLATE",
            Compression::Zstd => "ZSTD",
        }
    }
}

/// Predictor choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Predictor {
    /// Horizontal differencing (2) for integers, floating-point predictor (3) for floats.
    #[default]
    Auto,
    /// No predictor.
    None,
}

/// Resampling used to build overviews.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverviewResampling {
    /// Mean of the covered cells: continuous values (indices, reflectance, temperature).
    Average,
    /// One of the covered cells: classes, counts, bit fields.
    Nearest,
    /// Most frequent covered value: classes.
    Mode,
}

impl OverviewResampling {
    fn gdal_name(self) -> &'static str {
        match self {
            OverviewResampling::Average => "AVERAGE",
            OverviewResampling::Nearest => "NEAREST",
            OverviewResampling::Mode => "MODE",
        }
    }
}

/// Overview policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overviews {
    /// No overviews.
    None,
    /// Levels 2, 4, 8 … until the smallest fits in one block (none for rasters of one block).
    Auto(OverviewResampling),
}

/// Per-band metadata.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BandMeta {
    /// Band description (for [`write_bands`] the band names given there win).
    pub description: Option<String>,
    /// Scale to declare (`value = raw · scale + offset`); the written values are not changed.
    pub scale: Option<f64>,
    /// Offset to declare.
    pub offset: Option<f64>,
    /// Unit, e.g. `"degC"`, `"km2"`, `"1"`.
    pub unit: Option<String>,
}

/// How to write a raster.
#[derive(Clone, Debug, PartialEq)]
pub struct WriteOptions {
    pub format: RasterFormat,
    pub compression: Compression,
    /// Compression level: DEFLATE 1–12, ZSTD 1–22; not allowed for LZW/NONE. `None` = GDAL default.
    pub level: Option<u8>,
    pub predictor: Predictor,
    pub overviews: Overviews,
    /// Nodata value on disk. Float rasters: `NaN` cells are written as this value (default −9999
    /// when `None`). Integer rasters: declared as is, no value is changed (`None` = no nodata).
    pub nodata: Option<f64>,
    /// Band metadata (applied to every band).
    pub band: BandMeta,
    /// Dataset metadata tags (key → value), written in key order.
    pub tags: BTreeMap<String, String>,
    /// Provenance record, written as compact JSON under [`PROVENANCE_TAG`].
    pub provenance: Option<serde_json::Value>,
    /// Tile size in cells (COG: 128 or more; GeoTIFF: a multiple of 16).
    pub block_size: usize,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self {
            format: RasterFormat::Cog,
            compression: Compression::Deflate,
            level: None,
            predictor: Predictor::Auto,
            overviews: Overviews::Auto(OverviewResampling::Average),
            nodata: None,
            band: BandMeta::default(),
            tags: BTreeMap::new(),
            provenance: None,
            block_size: 512,
        }
    }
}

impl WriteOptions {
    /// COG, DEFLATE, AVERAGE overviews, nodata −9999: for continuous float layers.
    pub fn continuous() -> Self {
        Self { nodata: Some(DEFAULT_FLOAT_NODATA), ..Self::default() }
    }
    /// COG, DEFLATE, NEAREST overviews: for classes, counts and masks.
    pub fn classes() -> Self {
        Self { overviews: Overviews::Auto(OverviewResampling::Nearest), ..Self::default() }
    }
    /// Same options with another format.
    pub fn with_format(mut self, format: RasterFormat) -> Self {
        self.format = format;
        self
    }
    /// Same options with another compression and level.
    pub fn with_compression(mut self, compression: Compression, level: Option<u8>) -> Self {
        self.compression = compression;
        self.level = level;
        self
    }
    /// Same options with one more metadata tag.
    pub fn with_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }

    fn validate(&self) -> Result<()> {
        if let Some(level) = self.level {
            let (lo, hi) = match self.compression {
                Compression::Deflate => (1, 12),
                Compression::Zstd => (1, 22),
                c => {
                    return Err(IoError::InvalidOption {
                        name: "compression level".into(),
                        reason: format!("{} takes no level (got {level})", c.gdal_name()),
                    })
                }
            };
            if level < lo || level > hi {
                return Err(IoError::InvalidOption {
                    name: "compression level".into(),
                    reason: format!("{} level must be in {lo}..={hi}, got {level}", self.compression.gdal_name()),
                });
            }
        }
        let min_block = if self.format == RasterFormat::Cog { 128 } else { 16 };
        if self.block_size < min_block || self.block_size % 16 != 0 || self.block_size > 4096 {
            return Err(IoError::InvalidOption {
                name: "block_size".into(),
                reason: format!("must be a multiple of 16 in {min_block}..=4096, got {}", self.block_size),
            });
        }
        for k in self.tags.keys() {
            if k.is_empty() || k.contains(['=', '\0']) || k.chars().any(char::is_whitespace) {
                return Err(IoError::InvalidOption {
                    name: "tag".into(),
                    reason: format!("metadata key {k:?} must be non-empty, without '=', NUL or spaces"),
                });
            }
        }
        Ok(())
    }
}

/// Whether the installed GDAL can write ZSTD-compressed GeoTIFFs.
pub fn zstd_available() -> bool {
    // parsing the driver's creation-option XML costs more than writing a small file: ask once
    static ZSTD: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ZSTD.get_or_init(|| driver_option_has_value("GTiff", "COMPRESS", "ZSTD"))
}

/// The compression that will really be used for a request, with a note when it differs
/// (ZSTD requested but not built into this GDAL: DEFLATE is used).
pub fn effective_compression(requested: Compression) -> (Compression, Option<String>) {
    if requested == Compression::Zstd && !zstd_available() {
        (
            Compression::Deflate,
            Some("ZSTD compression is not available in this GDAL build; DEFLATE was used instead".into()),
        )
    } else {
        (requested, None)
    }
}

/// Cell types the writers accept.
pub trait WriteValue: GdalType + Copy + Send + Sync + 'static + private::Sealed {
    /// True for `f32`/`f64`.
    const IS_FLOAT: bool;
    /// Whether the value is NaN (always false for integers).
    fn is_nan_value(self) -> bool;
    /// The value as f64 (exact for every implementing type).
    fn to_f64(self) -> f64;
    /// The value of this type exactly equal to `v`, if any.
    fn from_f64_exact(v: f64) -> Option<Self>;
}

mod private {
    pub trait Sealed {}
}

macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl private::Sealed for $t {}
        impl WriteValue for $t {
            const IS_FLOAT: bool = false;
            #[inline]
            fn is_nan_value(self) -> bool { false }
            #[inline]
            fn to_f64(self) -> f64 { self as f64 }
            fn from_f64_exact(v: f64) -> Option<Self> {
                if v.is_finite() && v.fract() == 0.0 && v >= <$t>::MIN as f64 && v <= <$t>::MAX as f64 {
                    Some(v as $t)
                } else {
                    None
                }
            }
        }
    )*};
}
int_value!(u8, u16, i16, u32, i32);

impl private::Sealed for f32 {}
impl WriteValue for f32 {
    const IS_FLOAT: bool = true;
    #[inline]
    fn is_nan_value(self) -> bool {
        self.is_nan()
    }
    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn from_f64_exact(v: f64) -> Option<Self> {
        let f = v as f32;
        (f64::from(f) == v).then_some(f)
    }
}

impl private::Sealed for f64 {}
impl WriteValue for f64 {
    const IS_FLOAT: bool = true;
    #[inline]
    fn is_nan_value(self) -> bool {
        self.is_nan()
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64_exact(v: f64) -> Option<Self> {
        Some(v)
    }
}

/// Writes one raster band to `path` (GeoTIFF or COG, see the module docs), atomically.
///
/// The band description is `opts.band.description`. Float `NaN` cells are written as the nodata
/// value (default −9999). Errors name `path`; on error nothing is left at `path` or beside it.
pub fn write_raster<T: WriteValue>(path: &Path, raster: &Raster<T>, opts: &WriteOptions) -> Result<()> {
    let name = opts.band.description.clone().unwrap_or_default();
    write_bands(path, raster.grid(), &[(name.as_str(), raster.data())], opts)
}

/// Writes a stack of bands sharing `grid` (band `i` gets description `bands[i].0`), atomically.
pub fn write_bands<T: WriteValue>(path: &Path, grid: &Grid, bands: &[(&str, &[T])], opts: &WriteOptions) -> Result<()> {
    let werr = |reason: String| IoError::Write { path: path.to_path_buf(), reason };
    crate::gdalutil::configure();
    opts.validate()?;
    if bands.is_empty() {
        return Err(werr("no band to write".into()));
    }
    if grid.is_empty() {
        return Err(werr(format!("empty grid ({}×{} cells)", grid.rows(), grid.cols())));
    }
    if grid.rows() > i32::MAX as usize || grid.cols() > i32::MAX as usize {
        return Err(werr(format!("grid of {}×{} cells is too large for GeoTIFF", grid.rows(), grid.cols())));
    }
    for (i, (name, data)) in bands.iter().enumerate() {
        if data.len() != grid.len() {
            return Err(werr(format!(
                "band {} ({name:?}) has {} values, the {}×{} grid has {} cells",
                i + 1,
                data.len(),
                grid.rows(),
                grid.cols(),
                grid.len()
            )));
        }
    }
    // Resolve nodata and check it against the data before anything touches the disk.
    let nodata = resolve_nodata::<T>(opts.nodata).map_err(werr)?;
    if T::IS_FLOAT {
        if let Some(nd) = nodata {
            for (i, (name, data)) in bands.iter().enumerate() {
                if let Some(pos) = data.iter().position(|v| v.to_f64() == nd.to_f64()) {
                    return Err(werr(format!(
                        "band {} ({name:?}) holds the nodata value {} as valid data at cell (row {}, col {}); \
                         choose another nodata value",
                        i + 1,
                        nd.to_f64(),
                        pos / grid.cols(),
                        pos % grid.cols()
                    )));
                }
            }
        }
    }
    let srs = spatial_ref(grid.crs()).map_err(|e| werr(e.to_string()))?;
    let (compression, note) = effective_compression(opts.compression);

    let result: std::result::Result<(), AtomicError> = with_atomic(path, |tmp| {
        let _q = QuietErrors::new();
        match opts.format {
            RasterFormat::Cog => write_cog(tmp, grid, bands, opts, compression, note.as_deref(), nodata, &srs),
            RasterFormat::GTiff => write_gtiff(tmp, grid, bands, opts, compression, note.as_deref(), nodata, &srs),
        }
        .map_err(AtomicError::Inner)
    });
    result.map_err(|e| match e {
        AtomicError::Inner(IoError::Write { reason, .. }) => werr(reason),
        AtomicError::Inner(other) => other,
        AtomicError::Fs(io) => werr(io.to_string()),
    })
}

/// Writes a stack of bands sharing `grid`, as [`write_bands`] does, but takes the values in strips
/// of at most `strip_rows` full rows from `fill(band, window, out)` (`out` row-major over the
/// window; float `NaN` = nodata), so memory is bounded by a strip whatever the size of the grid.
/// The file holds the same values, metadata and layout as [`write_bands`] gives for the same
/// bands. For a COG, the strips go to an uncompressed GeoTIFF beside the target first (removed
/// after), which the COG driver then copies with its overviews.
pub fn write_bands_streamed<T: WriteValue + Default>(
    path: &Path,
    grid: &Grid,
    names: &[&str],
    opts: &WriteOptions,
    strip_rows: usize,
    fill: &mut dyn FnMut(usize, rsei_core::Window, &mut [T]) -> std::result::Result<(), String>,
) -> Result<()> {
    let werr = |reason: String| IoError::Write { path: path.to_path_buf(), reason };
    crate::gdalutil::configure();
    opts.validate()?;
    if names.is_empty() {
        return Err(werr("no band to write".into()));
    }
    if grid.is_empty() {
        return Err(werr(format!("empty grid ({}×{} cells)", grid.rows(), grid.cols())));
    }
    if grid.rows() > i32::MAX as usize || grid.cols() > i32::MAX as usize {
        return Err(werr(format!("grid of {}×{} cells is too large for GeoTIFF", grid.rows(), grid.cols())));
    }
    let nodata = resolve_nodata::<T>(opts.nodata).map_err(werr)?;
    let srs = spatial_ref(grid.crs()).map_err(|e| werr(e.to_string()))?;
    let (compression, note) = effective_compression(opts.compression);
    let strip_rows = strip_rows.max(1);
    let result: std::result::Result<(), AtomicError> = with_atomic(path, |tmp| {
        let _q = QuietErrors::new();
        let r = match opts.format {
            RasterFormat::Cog => {
                let src_path = rsei_core::fsutil::temp_path_for(&path.with_file_name(format!(
                    "{}.src.tif",
                    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
                )));
                let r = (|| -> Result<()> {
                    let drv = DriverManager::get_driver_by_name("GTiff").map_err(gdal_err("GTiff driver"))?;
                    let mut co = RasterCreationOptions::new();
                    let mut add = |k: &str, v: &str| co.add_name_value(k, v).map_err(gdal_err("creation option"));
                    add("TILED", "YES")?;
                    add("BLOCKXSIZE", &opts.block_size.to_string())?;
                    add("BLOCKYSIZE", &opts.block_size.to_string())?;
                    add("BIGTIFF", "IF_SAFER")?;
                    let mut ds = drv
                        .create_with_band_type_with_options::<T, _>(&src_path, grid.cols(), grid.rows(), names.len(), &co)
                        .map_err(gdal_err("creating the temporary GeoTIFF"))?;
                    fill_streamed(&mut ds, grid, names, opts, note.as_deref(), nodata, &srs, strip_rows, fill)?;
                    write_cog_from(&ds, tmp, opts, compression)
                })();
                let _ = std::fs::remove_file(&src_path);
                r
            }
            RasterFormat::GTiff => (|| -> Result<()> {
                let mut ds = create_gtiff::<T>(tmp, grid, names.len(), opts, compression)?;
                fill_streamed(&mut ds, grid, names, opts, note.as_deref(), nodata, &srs, strip_rows, fill)?;
                finish_gtiff(ds, grid, opts)
            })(),
        };
        r.map_err(AtomicError::Inner)
    });
    result.map_err(|e| match e {
        AtomicError::Inner(IoError::Write { reason, .. }) => werr(reason),
        AtomicError::Inner(other) => other,
        AtomicError::Fs(io) => werr(io.to_string()),
    })
}

/// [`fill_dataset`] with the values of each band taken strip by strip from `fill`.
#[allow(clippy::too_many_arguments)]
fn fill_streamed<T: WriteValue + Default>(
    ds: &mut Dataset,
    grid: &Grid,
    names: &[&str],
    opts: &WriteOptions,
    note: Option<&str>,
    nodata: Option<T>,
    srs: &gdal::spatial_ref::SpatialRef,
    strip_rows: usize,
    fill: &mut dyn FnMut(usize, rsei_core::Window, &mut [T]) -> std::result::Result<(), String>,
) -> Result<()> {
    let werr = |reason: String| IoError::Write { path: Default::default(), reason };
    set_dataset_metadata(ds, grid, opts, note, srs)?;
    let cols = grid.cols();
    for (i, name) in names.iter().enumerate() {
        let mut band = ds.rasterband(i + 1).map_err(gdal_err("opening a band"))?;
        set_band_metadata(&mut band, name, opts, nodata)?;
        for w in grid.row_strips(strip_rows) {
            let mut vals = vec![T::default(); w.len()];
            fill(i, w, &mut vals).map_err(werr)?;
            if T::IS_FLOAT {
                if let Some(nd) = nodata {
                    if let Some(pos) = vals.iter().position(|v| v.to_f64() == nd.to_f64()) {
                        return Err(werr(format!(
                            "band {} ({name:?}) holds the nodata value {} as valid data at cell (row {}, col {}); choose another nodata value",
                            i + 1,
                            nd.to_f64(),
                            w.row + pos / cols,
                            pos % cols
                        )));
                    }
                    for v in vals.iter_mut() {
                        if v.is_nan_value() {
                            *v = nd;
                        }
                    }
                }
            }
            let mut buf = Buffer::new((cols, w.rows), vals);
            band.write((0, w.row as isize), (cols, w.rows), &mut buf).map_err(gdal_err("writing band data"))?;
        }
    }
    Ok(())
}

/// Error type for [`with_atomic`]: file-system errors of the temp/rename dance, or ours.
enum AtomicError {
    Fs(std::io::Error),
    Inner(IoError),
}

impl From<std::io::Error> for AtomicError {
    fn from(e: std::io::Error) -> Self {
        AtomicError::Fs(e)
    }
}

fn resolve_nodata<T: WriteValue>(requested: Option<f64>) -> std::result::Result<Option<T>, String> {
    let nd = if T::IS_FLOAT { Some(requested.unwrap_or(DEFAULT_FLOAT_NODATA)) } else { requested };
    match nd {
        None => Ok(None),
        Some(v) if v.is_nan() => Err("nodata must not be NaN (output files never hold NaN)".into()),
        Some(v) => T::from_f64_exact(v)
            .map(Some)
            .ok_or_else(|| format!("nodata value {v} cannot be stored exactly in the {} band type", T::datatype().name())),
    }
}

fn gdal_err(context: &str) -> impl Fn(gdal::errors::GdalError) -> IoError + '_ {
    move |e| IoError::Write { path: Default::default(), reason: format!("{context}: {}", crate::error::gdal_message(&e)) }
}

/// Sets geotransform, CRS and tags on an open dataset.
fn set_dataset_metadata(ds: &mut Dataset, grid: &Grid, opts: &WriteOptions, note: Option<&str>, srs: &gdal::spatial_ref::SpatialRef) -> Result<()> {
    ds.set_geo_transform(&grid.transform().to_gdal()).map_err(gdal_err("setting the geotransform"))?;
    ds.set_spatial_ref(srs).map_err(gdal_err("setting the CRS"))?;
    for (k, v) in &opts.tags {
        ds.set_metadata_item(k, v, "").map_err(gdal_err("setting a metadata tag"))?;
    }
    if let Some(p) = &opts.provenance {
        ds.set_metadata_item(PROVENANCE_TAG, &p.to_string(), "").map_err(gdal_err("setting the provenance tag"))?;
    }
    if let Some(n) = note {
        ds.set_metadata_item(COMPRESSION_NOTE_TAG, n, "").map_err(gdal_err("setting the compression note"))?;
    }
    Ok(())
}

/// Sets nodata, description, scale, offset and unit of a band.
fn set_band_metadata<T: WriteValue>(band: &mut gdal::raster::RasterBand<'_>, name: &str, opts: &WriteOptions, nodata: Option<T>) -> Result<()> {
    if let Some(nd) = nodata {
        band.set_no_data_value(Some(nd.to_f64())).map_err(gdal_err("setting nodata"))?;
    }
    if !name.is_empty() {
        band.set_description(name).map_err(gdal_err("setting the band description"))?;
    }
    if let Some(s) = opts.band.scale {
        band.set_scale(s).map_err(gdal_err("setting the band scale"))?;
    }
    if let Some(o) = opts.band.offset {
        band.set_offset(o).map_err(gdal_err("setting the band offset"))?;
    }
    if let Some(u) = &opts.band.unit {
        set_band_unit(band, u)?;
    }
    Ok(())
}

/// Sets geotransform, CRS, tags and band contents/metadata on an open dataset.
#[allow(clippy::too_many_arguments)]
fn fill_dataset<T: WriteValue>(
    ds: &mut Dataset,
    grid: &Grid,
    bands: &[(&str, &[T])],
    opts: &WriteOptions,
    note: Option<&str>,
    nodata: Option<T>,
    srs: &gdal::spatial_ref::SpatialRef,
) -> Result<()> {
    set_dataset_metadata(ds, grid, opts, note, srs)?;
    let cols = grid.cols();
    let strip_rows = (1 << 20) / cols.max(1) + 1; // about 1 Mi cells per write
    for (i, (name, data)) in bands.iter().enumerate() {
        let mut band = ds.rasterband(i + 1).map_err(gdal_err("opening a band"))?;
        set_band_metadata(&mut band, name, opts, nodata)?;
        for w in grid.row_strips(strip_rows) {
            let src = &data[w.row * cols..w.row_end() * cols];
            let vals: Vec<T> = match nodata {
                Some(nd) if T::IS_FLOAT => src.iter().map(|&v| if v.is_nan_value() { nd } else { v }).collect(),
                _ => src.to_vec(),
            };
            let mut buf = Buffer::new((cols, w.rows), vals);
            band.write((0, w.row as isize), (cols, w.rows), &mut buf).map_err(gdal_err("writing band data"))?;
        }
    }
    Ok(())
}

fn overview_factors(grid: &Grid, block: usize) -> Vec<i32> {
    let max_dim = grid.rows().max(grid.cols());
    let mut f = Vec::new();
    let mut factor = 2usize;
    // build level `factor` while the previous level is larger than one block
    while max_dim.div_ceil(factor / 2) > block {
        f.push(factor as i32);
        factor *= 2;
    }
    f
}

#[allow(clippy::too_many_arguments)]
fn write_cog<T: WriteValue>(
    tmp: &Path,
    grid: &Grid,
    bands: &[(&str, &[T])],
    opts: &WriteOptions,
    compression: Compression,
    note: Option<&str>,
    nodata: Option<T>,
    srs: &gdal::spatial_ref::SpatialRef,
) -> Result<()> {
    let mem = DriverManager::get_driver_by_name("MEM").map_err(gdal_err("MEM driver"))?;
    let mut ds = mem
        .create_with_band_type::<T, _>("", grid.cols(), grid.rows(), bands.len())
        .map_err(gdal_err("creating the in-memory dataset"))?;
    fill_dataset(&mut ds, grid, bands, opts, note, nodata, srs)?;
    write_cog_from(&ds, tmp, opts, compression)
}

/// Copies a filled dataset into a COG at `tmp`.
fn write_cog_from(ds: &Dataset, tmp: &Path, opts: &WriteOptions, compression: Compression) -> Result<()> {
    let cog = DriverManager::get_driver_by_name("COG").map_err(gdal_err("COG driver (GDAL ≥ 3.1 needed)"))?;
    let mut co = RasterCreationOptions::new();
    let mut add = |k: &str, v: &str| co.add_name_value(k, v).map_err(gdal_err("creation option"));
    add("COMPRESS", compression.gdal_name())?;
    if let Some(l) = opts.level {
        add("LEVEL", &l.to_string())?;
    }
    if compression != Compression::None {
        add("PREDICTOR", if opts.predictor == Predictor::Auto { "YES" } else { "NO" })?;
    }
    add("BLOCKSIZE", &opts.block_size.to_string())?;
    add("BIGTIFF", "IF_SAFER")?;
    match opts.overviews {
        Overviews::None => add("OVERVIEWS", "NONE")?,
        Overviews::Auto(r) => {
            add("OVERVIEWS", "AUTO")?;
            add("OVERVIEW_RESAMPLING", r.gdal_name())?;
        }
    }
    let out = ds.create_copy(&cog, tmp, &co).map_err(gdal_err("COG copy"))?;
    out.close().map_err(gdal_err("closing the COG"))?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn write_gtiff<T: WriteValue>(
    tmp: &Path,
    grid: &Grid,
    bands: &[(&str, &[T])],
    opts: &WriteOptions,
    compression: Compression,
    note: Option<&str>,
    nodata: Option<T>,
    srs: &gdal::spatial_ref::SpatialRef,
) -> Result<()> {
    let mut ds = create_gtiff::<T>(tmp, grid, bands.len(), opts, compression)?;
    fill_dataset(&mut ds, grid, bands, opts, note, nodata, srs)?;
    finish_gtiff(ds, grid, opts)
}

/// A tiled GeoTIFF with the options' compression and predictor.
fn create_gtiff<T: WriteValue>(tmp: &Path, grid: &Grid, n_bands: usize, opts: &WriteOptions, compression: Compression) -> Result<Dataset> {
    let drv = DriverManager::get_driver_by_name("GTiff").map_err(gdal_err("GTiff driver"))?;
    let mut co = RasterCreationOptions::new();
    let mut add = |k: &str, v: &str| co.add_name_value(k, v).map_err(gdal_err("creation option"));
    add("TILED", "YES")?;
    add("BLOCKXSIZE", &opts.block_size.to_string())?;
    add("BLOCKYSIZE", &opts.block_size.to_string())?;
    add("COMPRESS", compression.gdal_name())?;
    if let Some(l) = opts.level {
        match compression {
            Compression::Deflate => add("ZLEVEL", &l.to_string())?,
            Compression::Zstd => add("ZSTD_LEVEL", &l.to_string())?,
            _ => {}
        }
    }
    if compression != Compression::None && opts.predictor == Predictor::Auto {
        add("PREDICTOR", if T::IS_FLOAT { "3" } else { "2" })?;
    }
    add("BIGTIFF", "IF_SAFER")?;
    drv.create_with_band_type_with_options::<T, _>(tmp, grid.cols(), grid.rows(), n_bands, &co).map_err(gdal_err("creating the GeoTIFF"))
}

/// Builds the overviews of a written GeoTIFF and closes it.
fn finish_gtiff(mut ds: Dataset, grid: &Grid, opts: &WriteOptions) -> Result<()> {
    if let Overviews::Auto(r) = opts.overviews {
        let factors = overview_factors(grid, opts.block_size);
        if !factors.is_empty() {
            ds.build_overviews(r.gdal_name(), &factors, &[]).map_err(gdal_err("building overviews"))?;
        }
    }
    ds.close().map_err(gdal_err("closing the GeoTIFF"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsei_core::{Crs, GeoTransform};

    #[test]
    fn overview_levels_follow_the_cog_rule() {
        let g = |n| Grid::new(n, n, GeoTransform::new(0.0, 1.0, 0.0, -1.0), Crs::new("EPSG:3857"));
        // 512 fits one block: no level; 1024 → one level (512); 1025 → 2 levels (513, 257)
        assert!(overview_factors(&g(512), 512).is_empty());
        assert_eq!(overview_factors(&g(1024), 512), vec![2]);
        assert_eq!(overview_factors(&g(1025), 512), vec![2, 4]);
        assert_eq!(overview_factors(&g(5000), 512), vec![2, 4, 8, 16]);
    }

    #[test]
    fn nodata_resolution() {
        assert_eq!(resolve_nodata::<f32>(None).unwrap(), Some(-9999.0f32));
        assert_eq!(resolve_nodata::<u8>(None).unwrap(), None);
        assert_eq!(resolve_nodata::<u8>(Some(255.0)).unwrap(), Some(255u8));
        assert!(resolve_nodata::<u8>(Some(-9999.0)).is_err());
        assert!(resolve_nodata::<f32>(Some(f64::NAN)).is_err());
        assert!(resolve_nodata::<i16>(Some(0.5)).is_err());
    }

    #[test]
    fn option_validation() {
        let mut o = WriteOptions::default().with_compression(Compression::Lzw, Some(3));
        assert!(o.validate().is_err());
        o = o.with_compression(Compression::Deflate, Some(13));
        assert!(o.validate().is_err());
        o = o.with_compression(Compression::Zstd, Some(22));
        assert!(o.validate().is_ok());
        o.block_size = 100;
        assert!(o.validate().is_err());
    }
}
