//! One result raster (a single-band GeoTIFF/COG): its georeference, its overview levels, and
//! windows of cells read through GDAL (nodata and non-finite cells as NaN).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use gdal::{Dataset, DatasetOptions, GdalOpenFlags};

use crate::geo::QuietErrors;

/// One resolution level: 0 = full resolution, then the overviews.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Level {
    pub width: usize,
    pub height: usize,
    /// Full-resolution cells per level cell, along x and y.
    pub fx: f64,
    pub fy: f64,
    /// GDAL's overview index (`None` for the full resolution).
    pub ov: Option<usize>,
}

/// What is known of a raster once opened.
#[derive(Clone, Debug)]
pub(crate) struct RasterInfo {
    pub width: usize,
    pub height: usize,
    /// GDAL geotransform `[x0, dx, 0, y0, 0, dy]` (rotations are refused).
    pub gt: [f64; 6],
    /// CRS definition (WKT).
    pub crs: String,
    pub nodata: Option<f64>,
    /// Level 0 is the full resolution.
    pub levels: Vec<Level>,
}

impl RasterInfo {
    /// Full-resolution (col, row) of a point in the raster's CRS (continuous: cell (0,0) spans
    /// 0..1 × 0..1).
    pub fn col_row(&self, x: f64, y: f64) -> (f64, f64) {
        ((x - self.gt[0]) / self.gt[1], (y - self.gt[3]) / self.gt[5])
    }
    /// Point in the raster's CRS of a full-resolution (col, row).
    pub fn xy(&self, col: f64, row: f64) -> (f64, f64) {
        (self.gt[0] + col * self.gt[1], self.gt[3] + row * self.gt[5])
    }
    /// A key equal for rasters on the same grid (same CRS, transform and size).
    pub fn grid_key(&self) -> String {
        format!("{}|{:?}|{}x{}", self.crs, self.gt, self.width, self.height)
    }
}

/// A window of one level, row-major, NaN where there is no value.
#[derive(Debug)]
pub(crate) struct Cells {
    pub x0: usize,
    pub y0: usize,
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl Cells {
    /// The value at level cell (col, row), NaN outside the window.
    #[inline]
    pub fn at(&self, col: usize, row: usize) -> f32 {
        if col < self.x0 || row < self.y0 {
            return f32::NAN;
        }
        let (c, r) = (col - self.x0, row - self.y0);
        if c >= self.width || r >= self.height {
            return f32::NAN;
        }
        self.data[r * self.width + c]
    }
}

static NEXT_UID: AtomicU64 = AtomicU64::new(1);
/// Datasets kept open now, across all servers of the process.
static OPEN: AtomicUsize = AtomicUsize::new(0);
/// At most this many datasets are kept open.
const MAX_OPEN: usize = 256;

/// A raster file of the results, opened lazily and kept open.
pub(crate) struct RasterFile {
    /// Unique among the files of this process (a rewritten file gets a new one).
    pub uid: u64,
    /// Path relative to the results folder, with `/` (for messages and the API).
    pub rel: String,
    /// Absolute path.
    pub path: PathBuf,
    /// Size and modification time when scanned.
    pub stamp: (u64, Option<std::time::SystemTime>),
    info: OnceLock<Result<RasterInfo, String>>,
    ds: Mutex<Option<Dataset>>,
}

impl Drop for RasterFile {
    fn drop(&mut self) {
        if self.ds.get_mut().map(|d| d.is_some()).unwrap_or(false) {
            OPEN.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl std::fmt::Debug for RasterFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RasterFile").field("uid", &self.uid).field("rel", &self.rel).finish()
    }
}

/// Why a raster cannot be used: the file (relative to the results folder) and GDAL's reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FileProblem {
    pub file: String,
    pub reason: String,
}

fn open(path: &Path) -> Result<Dataset, String> {
    let _q = QuietErrors::new();
    let opts = DatasetOptions { open_flags: GdalOpenFlags::GDAL_OF_RASTER | GdalOpenFlags::GDAL_OF_READONLY, ..Default::default() };
    Dataset::open_ex(path, opts).map_err(|e| e.to_string())
}

fn read_info(ds: &Dataset) -> Result<RasterInfo, String> {
    let _q = QuietErrors::new();
    let (width, height) = ds.raster_size();
    if ds.raster_count() < 1 {
        return Err("the file has no raster band".into());
    }
    let gt = ds.geo_transform().map_err(|e| format!("no georeference: {e}"))?;
    if gt[2] != 0.0 || gt[4] != 0.0 {
        return Err("rotated rasters are not supported".into());
    }
    if !(gt[1].is_finite() && gt[5].is_finite() && gt[1] != 0.0 && gt[5] != 0.0) {
        return Err(format!("invalid cell size {} × {}", gt[1], gt[5]));
    }
    let crs = ds.spatial_ref().and_then(|s| s.to_wkt()).map_err(|e| format!("no CRS: {e}"))?;
    if crs.trim().is_empty() {
        return Err("no CRS".into());
    }
    let band = ds.rasterband(1).map_err(|e| e.to_string())?;
    let nodata = band.no_data_value();
    let mut levels = vec![Level { width, height, fx: 1.0, fy: 1.0, ov: None }];
    let n = band.overview_count().unwrap_or(0).max(0) as usize;
    for k in 0..n {
        if let Ok(o) = band.overview(k) {
            let (w, h) = o.size();
            if w > 0 && h > 0 {
                levels.push(Level { width: w, height: h, fx: width as f64 / w as f64, fy: height as f64 / h as f64, ov: Some(k) });
            }
        }
    }
    levels.sort_by(|a, b| a.fx.total_cmp(&b.fx));
    Ok(RasterInfo { width, height, gt, crs, nodata, levels })
}

impl RasterFile {
    pub(crate) fn new(rel: String, path: PathBuf, stamp: (u64, Option<std::time::SystemTime>)) -> Self {
        RasterFile { uid: NEXT_UID.fetch_add(1, Ordering::Relaxed), rel, path, stamp, info: OnceLock::new(), ds: Mutex::new(None) }
    }

    fn problem(&self, reason: impl Into<String>) -> FileProblem {
        FileProblem { file: self.rel.clone(), reason: reason.into() }
    }

    /// Reads the georeference on first use (blocking; the file is closed again).
    pub(crate) fn info(&self) -> Result<&RasterInfo, FileProblem> {
        let r = self.info.get_or_init(|| read_info(&open(&self.path)?));
        r.as_ref().map_err(|e| self.problem(e.clone()))
    }

    /// Reads a window of a level, resampled (nearest) into `out_w × out_h` cells when smaller.
    fn read(&self, level: usize, (x0, y0, w, h): (usize, usize, usize, usize), (out_w, out_h): (usize, usize)) -> Result<Vec<f32>, FileProblem> {
        let info = self.info()?;
        let mut guard = self.ds.lock().map_err(|_| self.problem("a reader thread failed"))?;
        // files are kept open for the next read, up to MAX_OPEN of them (file descriptors are
        // limited); past that a file is opened for this read only
        let once;
        let ds = match &*guard {
            Some(ds) => ds,
            None => {
                let ds = open(&self.path).map_err(|e| self.problem(e))?;
                if OPEN.fetch_add(1, Ordering::Relaxed) < MAX_OPEN {
                    &*guard.insert(ds)
                } else {
                    OPEN.fetch_sub(1, Ordering::Relaxed);
                    once = ds;
                    &once
                }
            }
        };
        let _q = QuietErrors::new();
        let band = ds.rasterband(1).map_err(|e| self.problem(e.to_string()))?;
        let lv = info.levels.get(level).ok_or_else(|| self.problem(format!("no level {level}")))?;
        let buf = match lv.ov {
            None => band.read_as::<f32>((x0 as isize, y0 as isize), (w, h), (out_w, out_h), None),
            Some(k) => band
                .overview(k)
                .map_err(|e| self.problem(format!("overview {k}: {e}")))?
                .read_as::<f32>((x0 as isize, y0 as isize), (w, h), (out_w, out_h), None),
        }
        .map_err(|e| self.problem(format!("reading cells: {e}")))?;
        let (_, mut data) = buf.into_shape_and_vec();
        let nd = info.nodata;
        for v in &mut data {
            if !v.is_finite() || nd.is_some_and(|n| f64::from(*v) == n || (n as f32) == *v) {
                *v = f32::NAN;
            }
        }
        Ok(data)
    }

    /// A window of a level (clamped to it).
    pub(crate) fn cells(&self, level: usize, x0: usize, y0: usize, w: usize, h: usize) -> Result<Cells, FileProblem> {
        let lv = *self.info()?.levels.get(level).ok_or_else(|| self.problem(format!("no level {level}")))?;
        let (x0, y0) = (x0.min(lv.width), y0.min(lv.height));
        let (w, h) = (w.min(lv.width - x0), h.min(lv.height - y0));
        if w == 0 || h == 0 {
            return Ok(Cells { x0, y0, width: 0, height: 0, data: Vec::new() });
        }
        let data = self.read(level, (x0, y0, w, h), (w, h))?;
        Ok(Cells { x0, y0, width: w, height: h, data })
    }

    /// The whole raster decimated (nearest, through the overviews) to at most `max` cells a side.
    pub(crate) fn decimated(&self, max: usize) -> Result<(usize, usize, Vec<f32>), FileProblem> {
        let info = self.info()?;
        let s = (info.width.max(info.height) as f64 / max as f64).max(1.0);
        let (w, h) = (((info.width as f64 / s).round() as usize).max(1), ((info.height as f64 / s).round() as usize).max(1));
        let data = self.read(0, (0, 0, info.width, info.height), (w, h))?;
        Ok((w, h, data))
    }

    /// The full-resolution value at (col, row), NaN for nodata.
    pub(crate) fn pixel(&self, col: usize, row: usize) -> Result<f32, FileProblem> {
        let info = self.info()?;
        if col >= info.width || row >= info.height {
            return Ok(f32::NAN);
        }
        Ok(self.read(0, (col, row, 1, 1), (1, 1))?.first().copied().unwrap_or(f32::NAN))
    }
}

/// A shared raster file.
pub(crate) type SharedRaster = Arc<RasterFile>;
