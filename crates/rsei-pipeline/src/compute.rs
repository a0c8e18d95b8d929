//! Composites and indicators of one study area and year, streamed strip by strip.
//!
//! ```text
//!  for each strip of the study grid (full-width rows, ≈256 k cells):
//!     MOD11A2 dates ─read (parallel)─▶ QA ─▶ 1 km composite ─▶ LST °C ─▶ 500 m (nearest | bilinear)
//!     MOD13A1 dates ─read (parallel)─▶ QA ─▶ NDVI composite
//!     MOD09A1 dates ─read (parallel)─▶ QA + reflectance range ─▶ 7-band composite ─▶ WET, NDBSI, MNDWI (, NDVI)
//!     water = MNDWI > t ∪ land-cover water classes;  usable = inside ∧ ¬water ∧ all four finite
//! ```
//!
//! Memory: per strip, the observations of one chunk of dates (read in parallel, then added to the
//! composite in date order) and the composite sums; per study area, the resulting layers (about
//! 40 bytes per cell). The number of granules never changes the memory used.
//!
//! Reproducibility: observations are added in date order (tiles of one date are mosaicked first),
//! strips are fixed by the grid, and the composite sums run in f64 — the same inputs give the same
//! bits at any thread count.

use std::path::{Path, PathBuf};

use rsei_core::model::{self, RseiModel};

use crate::bail;
use crate::error::{Context, Error, Result};
use rayon::prelude::*;
use rsei_core::accum::Accumulator;
use rsei_core::composite::{CompositeAccumulator, IndexOrder};
use rsei_core::grid::modis;
use rsei_core::indicators::{self, IndicatorsOut, Resample, WetnessCoefficients};
use rsei_core::qa::{ReflectanceRange, ValidityReport};
use rsei_core::{Bounds, GeoTransform, Grid, Raster, Window};
use rsei_io::products::{Layer, ProductKind};
use rsei_io::scan::Granule;
use rsei_io::LayerReader;
use serde::{Deserialize, Serialize};

use crate::archive::{Archive, Selection};
use crate::area::StudyArea;
use crate::options::{NdviSource, RseiRunOptions, RunInputs};
use crate::progress::Progress;

// The request and per-year result of an RSEI run live here (not in `run`) so that `outputs`,
// which writes them, and `run`, which makes them, both depend on this module and not on each other.

/// What to compute: RSEI of every area and year of an archive (re-exported as
/// [`crate::ComputeRequest`]; run it with [`crate::run::run`]).
///
/// ```no_run
/// use rsei_pipeline::archive::Archive;
/// use rsei_pipeline::area::{load_areas, AreaSource};
/// use rsei_pipeline::options::{RseiRunOptions, RunInputs};
/// use rsei_pipeline::progress::Silent;
/// use rsei_pipeline::{run, ComputeRequest};
///
/// let inputs = RunInputs { data: vec!["/data/modis".into()], landcover: None };
/// let archive = Archive::scan(&inputs.data)?;
/// let areas = load_areas(&AreaSource::file("cities.geojson"))?;
/// let mut options = RseiRunOptions::default();
/// options.rsei.pooled = true; // one PCA over all years of an area
/// let req = ComputeRequest { archive: &archive, inputs: &inputs, areas: &areas, years: &[2019, 2020], options: &options, out_dir: "results".as_ref() };
/// for y in run::run(&req, &Silent)? {
///     println!("{} {}: mean RSEI {:?} over {} pixels", y.area, y.year, y.rsei_mean, y.n_pixels);
/// }
/// # Ok::<(), rsei_pipeline::Error>(())
/// ```
pub struct RseiRequest<'a> {
    /// The granules to read.
    pub archive: &'a Archive,
    /// The data folders and the optional land-cover raster (recorded in the outputs).
    pub inputs: &'a RunInputs,
    /// The study areas (MODIS sinusoidal).
    pub areas: &'a [StudyArea],
    /// Target years.
    pub years: &'a [i32],
    /// Every option of the chain (composite, QA, indicators, water, model, output).
    pub options: &'a RseiRunOptions,
    /// The output folder (`<out>/<area>/<year>/`).
    pub out_dir: &'a Path,
}

/// Result of one area and year (also written as `summary.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct YearSummary {
    /// Name of the study area.
    pub area: String,
    /// Target year.
    pub year: i32,
    /// Pixels entering the RSEI (inside, not water, all indicators valid).
    pub n_pixels: u64,
    /// Water pixels inside the area (excluded).
    pub n_water: u64,
    /// Area of one pixel (km²).
    pub pixel_area_km2: f64,
    /// Mean RSEI over the area (`None` without pixels).
    pub rsei_mean: Option<f64>,
    /// Standard deviation of RSEI over the area.
    pub rsei_std: Option<f64>,
    /// Normalisation bounds, PCA and PC1 orientation.
    pub model: RseiModel,
    /// Range of RSEI0 before rescaling.
    pub rsei0_range: (f64, f64),
    /// Pixels, km² and share per grade and per class.
    pub grades: model::GradeReport,
    /// Mean NDVI, WET, NDBSI and LST (°C) over the RSEI pixels.
    pub indicator_means: [Option<f64>; 4],
    /// Observations and their QA outcome per product.
    pub qa: Vec<ProductQa>,
    /// Composite description (window, season, reducer, order).
    pub composite: String,
    /// Warnings of the run (orientation, empty products, …).
    pub warnings: Vec<String>,
    /// Output folder, relative to the run's output folder (outputs can be moved as a whole).
    pub folder: PathBuf,
    /// The sensors of a Landsat / Sentinel-2 run (absent for MODIS, whose products are in `qa`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensor: Option<SensorRecord>,
}

/// The sensors behind one area and year, recorded in `summary.json` (`sensor`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SensorRecord {
    /// Profile ids of the scenes used (`landsat-oli-c2l2`, …), sorted, unique.
    pub profiles: Vec<String>,
    /// Spacecraft of the scenes used.
    pub platforms: Vec<String>,
    /// Product levels (`L2SP`, `L2A baseline 04.00`).
    pub levels: Vec<String>,
    /// Source of the wetness coefficients.
    pub wetness: String,
    /// Where LST comes from.
    pub heat: String,
    /// Scenes read.
    pub scenes: usize,
    /// QA outcome over the scenes (cells × scenes inside the grid).
    pub qa: rsei_core::sensor::SensorQaReport,
    /// Cells of the study grid (m).
    pub cell_size_m: f64,
}



/// Default cells per strip (full-width rows of the 500 m grid).
pub const DEFAULT_STRIP_CELLS: usize = 1 << 21;
/// Dates read in parallel before they are added in order.
const DATE_CHUNK: usize = 8;
/// Memory budget of the observations read ahead in parallel (bytes).
const READ_AHEAD_BYTES: usize = 256 << 20;
/// Strip boundaries of large areas fall on multiples of this many 1 km rows counted from the
/// tile's top edge (512 rows of 500 m: the block height of MODIS COGs), so no input block is
/// decoded for two strips.
const STRIP_ALIGN_1KM: usize = 256;

/// The study area on the native MODIS grids: a 500 m grid on the 1 km lattice (so each 1 km cell
/// covers exactly 2×2 of its cells), the matching 1 km grid, and which 500 m cells are inside.
#[derive(Clone, Debug)]
pub struct StudyGrid {
    /// The 500 m grid of the area (the RSEI grid).
    pub grid: Grid,
    /// The nested 1 km grid (MOD11A2 LST).
    pub grid_1km: Grid,
    /// Cells inside the study area (by the clip rule).
    pub inside: Vec<bool>,
}

impl StudyGrid {
    /// The grids covering `bounds` (sinusoidal metres) and the inside mask from `inside_of(grid)`.
    pub fn new(bounds: &Bounds, inside_of: impl FnOnce(&Grid) -> Result<Vec<bool>>) -> Result<StudyGrid> {
        let lattice = modis::tile_grid(0, 0, modis::Resolution::Km1);
        let grid_1km = lattice.snapped_grid(bounds);
        let t = *grid_1km.transform();
        let cs = modis::Resolution::M500.cell_size_m();
        let grid = Grid::new(2 * grid_1km.rows(), 2 * grid_1km.cols(), GeoTransform::new(t.x0, cs, t.y0, -cs), grid_1km.crs().clone());
        let inside = inside_of(&grid)?;
        crate::ensure!(inside.len() == grid.len(), "inside mask has {} cells, grid {}", inside.len(), grid.len());
        Ok(StudyGrid { grid, grid_1km, inside })
    }
    /// The grids covering `bounds` without an inside mask (`inside` is empty): for areas too
    /// large for the memory budget, whose inside cells are computed strip by strip.
    pub(crate) fn grids_only(bounds: &Bounds) -> StudyGrid {
        let lattice = modis::tile_grid(0, 0, modis::Resolution::Km1);
        let grid_1km = lattice.snapped_grid(bounds);
        let t = *grid_1km.transform();
        let cs = modis::Resolution::M500.cell_size_m();
        let grid = Grid::new(2 * grid_1km.rows(), 2 * grid_1km.cols(), GeoTransform::new(t.x0, cs, t.y0, -cs), grid_1km.crs().clone());
        StudyGrid { grid, grid_1km, inside: Vec::new() }
    }
    /// Number of cells inside.
    pub fn inside_count(&self) -> usize {
        self.inside.iter().filter(|&&b| b).count()
    }
}

/// QA outcome of one product over a composite window.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ProductQa {
    /// Product name (`MOD09A1`, …).
    pub product: String,
    /// Granules read.
    pub granules: usize,
    /// Dates of the composite window with at least one granule.
    pub dates: usize,
    /// Valid and rejected observations by reason.
    pub report: ValidityReport,
}

/// The composites and indicators of one area and year on the study grid (`NaN` = nodata).
#[derive(Clone, Debug)]
pub struct YearIndicators {
    /// Target year.
    pub year: i32,
    /// The grid of every layer.
    pub grid: Grid,
    /// Greenness (NDVI) composite; `NaN` = nodata.
    pub ndvi: Vec<f32>,
    /// Wetness (tasseled cap).
    pub wet: Vec<f32>,
    /// Dryness (NDBSI).
    pub ndbsi: Vec<f32>,
    /// Heat: LST in °C.
    pub lst_celsius: Vec<f32>,
    /// MNDWI (water index).
    pub mndwi: Vec<f32>,
    /// Water pixels (MNDWI and land cover).
    pub water: Vec<bool>,
    /// Pixels inside the study area.
    pub inside: Vec<bool>,
    /// Valid observations per cell: MOD09A1, MOD13A1 and MOD11A2 (the latter per 1 km cell, repeated).
    pub count_mod09: Vec<u16>,
    /// Valid MOD13A1 observations per pixel.
    pub count_mod13: Vec<u16>,
    /// Valid MOD11A2 observations per pixel.
    pub count_mod11: Vec<u16>,
    /// QA outcome per product.
    pub qa: Vec<ProductQa>,
    /// Every input file read.
    pub files: Vec<PathBuf>,
    /// Remarks of the computation (e.g. a product without any valid observation).
    pub notes: Vec<String>,
    /// The sensors behind a year of Landsat / Sentinel-2 scenes (`None` for MODIS).
    pub sensor: Option<SensorRecord>,
}

impl YearIndicators {
    /// Cells entering the RSEI: inside, not water, and all four indicators finite.
    pub fn usable(&self) -> Vec<bool> {
        (0..self.grid.len())
            .map(|i| {
                self.inside[i]
                    && !self.water[i]
                    && self.ndvi[i].is_finite()
                    && self.wet[i].is_finite()
                    && self.ndbsi[i].is_finite()
                    && self.lst_celsius[i].is_finite()
            })
            .collect()
    }
    /// The four indicators in model order (NDVI, WET, NDBSI, LST).
    pub fn four(&self) -> [&[f32]; 4] {
        [&self.ndvi, &self.wet, &self.ndbsi, &self.lst_celsius]
    }
}

/// Land cover on the study grid (class per 500 m cell, 255 = none).
pub type LandCover = Vec<u8>;

fn nan_vec(n: usize) -> Vec<f32> {
    vec![f32::NAN; n]
}

/// How one layer of a product is held while tiles are mosaicked: decoded floats, or raw DN with
/// the value a cell keeps where no tile covers it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum LayerKind {
    /// Decoded values (`NaN` where no tile covers the cell).
    F32,
    /// Raw unsigned DN (QA bit fields, LST DN), with the value of uncovered cells.
    U32(u32),
    /// Raw signed DN (pixel reliability), with the value of uncovered cells.
    I32(i32),
}

/// The layers of each product an RSEI run reads, in reading order.
pub(crate) fn layers_of(kind: ProductKind) -> &'static [(Layer, LayerKind)] {
    const L09: [(Layer, LayerKind); 9] = [
        (Layer::SurReflB01, LayerKind::F32),
        (Layer::SurReflB02, LayerKind::F32),
        (Layer::SurReflB03, LayerKind::F32),
        (Layer::SurReflB04, LayerKind::F32),
        (Layer::SurReflB05, LayerKind::F32),
        (Layer::SurReflB06, LayerKind::F32),
        (Layer::SurReflB07, LayerKind::F32),
        (Layer::SurReflQc, LayerKind::U32(u32::MAX)),
        (Layer::SurReflState, LayerKind::U32(u16::MAX as u32)),
    ];
    const L13: [(Layer, LayerKind); 2] = [(Layer::Ndvi, LayerKind::F32), (Layer::PixelReliability, LayerKind::I32(-1))];
    const L11: [(Layer, LayerKind); 2] = [(Layer::LstDay, LayerKind::U32(0)), (Layer::QcDay, LayerKind::U32(0))];
    match kind {
        ProductKind::Mod13A1 => &L13,
        ProductKind::Mod11A2 => &L11,
        _ => &L09,
    }
}

/// One layer of a mosaic (row-major over a window).
#[derive(Clone, Debug)]
pub(crate) enum LayerBuf {
    /// Decoded values.
    F32(Vec<f32>),
    /// Raw unsigned DN.
    U32(Vec<u32>),
    /// Raw signed DN.
    I32(Vec<i32>),
}

impl LayerBuf {
    /// `n` cells that no tile covers yet.
    pub fn new(kind: LayerKind, n: usize) -> LayerBuf {
        match kind {
            LayerKind::F32 => LayerBuf::F32(nan_vec(n)),
            LayerKind::U32(v) => LayerBuf::U32(vec![v; n]),
            LayerKind::I32(v) => LayerBuf::I32(vec![v; n]),
        }
    }
    /// Pastes the part of window `w` of `grid` that `r`'s file covers (`LayerReader::read_into`).
    pub fn paste(&mut self, r: &LayerReader, grid: &Grid, w: Window) -> rsei_io::Result<usize> {
        match self {
            LayerBuf::F32(v) => r.read_into(grid, w, v),
            LayerBuf::U32(v) => r.read_into_raw_u32(grid, w, v),
            LayerBuf::I32(v) => r.read_into_raw_i32(grid, w, v),
        }
    }
    /// Copies the cells of rectangle `rect` from `src` (row-major over window `sw`) into `self`
    /// (row-major over window `dw`); both windows and `rect` are in one grid's coordinates and
    /// `rect` lies inside both.
    pub fn copy_rect(&mut self, dw: Window, src: &LayerBuf, sw: Window, rect: Window) {
        fn copy<T: Copy>(d: &mut [T], dw: Window, s: &[T], sw: Window, rect: Window) {
            for r in rect.row..rect.row_end() {
                let di = (r - dw.row) * dw.cols + (rect.col - dw.col);
                let si = (r - sw.row) * sw.cols + (rect.col - sw.col);
                d[di..di + rect.cols].copy_from_slice(&s[si..si + rect.cols]);
            }
        }
        match (self, src) {
            (LayerBuf::F32(d), LayerBuf::F32(s)) => copy(d, dw, s, sw, rect),
            (LayerBuf::U32(d), LayerBuf::U32(s)) => copy(d, dw, s, sw, rect),
            (LayerBuf::I32(d), LayerBuf::I32(s)) => copy(d, dw, s, sw, rect),
            _ => debug_assert!(false, "copy_rect between layers of different kinds"),
        }
    }
    fn f32(self) -> Vec<f32> {
        match self {
            LayerBuf::F32(v) => v,
            _ => Vec::new(),
        }
    }
    fn u32(self) -> Vec<u32> {
        match self {
            LayerBuf::U32(v) => v,
            _ => Vec::new(),
        }
    }
    fn i32(self) -> Vec<i32> {
        match self {
            LayerBuf::I32(v) => v,
            _ => Vec::new(),
        }
    }
}

/// Empty mosaic buffers of `kind` over `n` cells.
pub(crate) fn mosaic_buffers(kind: ProductKind, n: usize) -> Vec<LayerBuf> {
    layers_of(kind).iter().map(|&(_, k)| LayerBuf::new(k, n)).collect()
}

/// Opens a layer of a granule.
pub(crate) fn open_layer(g: &Granule, layer: Layer) -> Result<LayerReader> {
    Ok(LayerReader::open(g.layer(layer)?)?)
}

/// Mosaics the tiles `gs` of one date over window `w` of `grid`, every layer of `kind`.
fn mosaic(gs: &[&Granule], kind: ProductKind, grid: &Grid, w: Window) -> Result<Vec<LayerBuf>> {
    let mut bufs = mosaic_buffers(kind, w.len());
    for g in gs {
        for ((layer, _), buf) in layers_of(kind).iter().zip(bufs.iter_mut()) {
            let r = open_layer(g, *layer)?;
            buf.paste(&r, grid, w).with_context(|| format!("reading {} of {}", layer, g.label()))?;
        }
    }
    Ok(bufs)
}

/// One MOD09A1 date over a strip: the seven reflectances and the validity mask.
pub(crate) struct Obs09 {
    pub bands: [Vec<f32>; 7],
    pub valid: Vec<bool>,
    pub report: ValidityReport,
}

/// The MOD09A1 observation of a mosaic (QA and reflectance range).
pub(crate) fn obs09(bufs: Vec<LayerBuf>, opts: &RseiRunOptions) -> Result<Obs09> {
    let mut it = bufs.into_iter();
    let bands: [Vec<f32>; 7] = std::array::from_fn(|_| it.next().map(LayerBuf::f32).unwrap_or_default());
    let qc = it.next().map(LayerBuf::u32).unwrap_or_default();
    let state = it.next().map(LayerBuf::u32).unwrap_or_default();
    let n = qc.len();
    let state16: Vec<u16> = state.iter().map(|&s| s.min(u32::from(u16::MAX)) as u16).collect();
    let mut valid = vec![false; n];
    let mut report = ValidityReport::default();
    let checker = opts.qa.mod09.compile()?;
    checker.validity_mask(&qc, &state16, &mut valid, Some(&mut report))?;
    let refs: [&[f32]; 7] = std::array::from_fn(|k| bands[k].as_slice());
    ReflectanceRange::default().and_mask(refs, &mut valid, None)?;
    Ok(Obs09 { bands, valid, report })
}

fn read_mod09(gs: &[&Granule], grid: &Grid, w: Window, opts: &RseiRunOptions) -> Result<Obs09> {
    obs09(mosaic(gs, ProductKind::Mod09A1, grid, w)?, opts)
}

/// One MOD13A1 or MOD11A2 date over a strip: the value and its validity mask.
pub(crate) struct Obs1 {
    value: Vec<f32>,
    valid: Vec<bool>,
    report: ValidityReport,
}

/// The MOD13A1 observation of a mosaic (pixel reliability).
pub(crate) fn obs13(bufs: Vec<LayerBuf>, opts: &RseiRunOptions) -> Result<Obs1> {
    let mut it = bufs.into_iter();
    let value = it.next().map(LayerBuf::f32).unwrap_or_default();
    let rel = it.next().map(LayerBuf::i32).unwrap_or_default();
    let n = value.len();
    let rel8: Vec<i8> = rel.iter().map(|&r| r.clamp(-128, 127) as i8).collect();
    let mut valid = vec![false; n];
    let mut report = ValidityReport::default();
    opts.qa.mod13.validity_mask(&rel8, &mut valid, Some(&mut report))?;
    Ok(Obs1 { value, valid, report })
}

fn read_mod13(gs: &[&Granule], grid: &Grid, w: Window, opts: &RseiRunOptions) -> Result<Obs1> {
    obs13(mosaic(gs, ProductKind::Mod13A1, grid, w)?, opts)
}

/// The MOD11A2 observation of a mosaic over a window of `cols` columns of the 1 km grid; the QA
/// report counts only rows `counted`, so margin rows shared with neighbouring strips are counted once.
pub(crate) fn obs11(bufs: Vec<LayerBuf>, cols: usize, counted: std::ops::Range<usize>, opts: &RseiRunOptions) -> Result<Obs1> {
    let mut it = bufs.into_iter();
    let dn = it.next().map(LayerBuf::u32).unwrap_or_default();
    let qc = it.next().map(LayerBuf::u32).unwrap_or_default();
    let n = dn.len();
    let dn16: Vec<u16> = dn.iter().map(|&d| d.min(u32::from(u16::MAX)) as u16).collect();
    let qc8: Vec<u8> = qc.iter().map(|&q| q.min(255) as u8).collect();
    let mut valid = vec![false; n];
    let mut report = ValidityReport::default();
    let (a, b) = (counted.start * cols, counted.end * cols);
    opts.qa.mod11.validity_mask(&qc8[..a], &dn16[..a], &mut valid[..a], None)?;
    opts.qa.mod11.validity_mask(&qc8[a..b], &dn16[a..b], &mut valid[a..b], Some(&mut report))?;
    opts.qa.mod11.validity_mask(&qc8[b..], &dn16[b..], &mut valid[b..], None)?;
    let value = dn16.iter().map(|&d| indicators::lst_celsius(indicators::lst_kelvin_from_dn(d))).collect();
    Ok(Obs1 { value, valid, report })
}

/// MOD11A2 over window `w` of the 1 km grid (see [`obs11`]).
fn read_mod11(gs: &[&Granule], grid_1km: &Grid, w: Window, counted: std::ops::Range<usize>, opts: &RseiRunOptions) -> Result<Obs1> {
    obs11(mosaic(gs, ProductKind::Mod11A2, grid_1km, w)?, w.cols, counted, opts)
}

/// Adds the dates of `sel` to the strip in date order, reading `DATE_CHUNK` dates in parallel.
fn composite_dates<O: Send>(
    sel: &Selection<'_>,
    cells: usize,
    read: impl Fn(&[&Granule]) -> Result<O> + Sync,
    mut add: impl FnMut(O) -> Result<()>,
    progress: &dyn Progress,
) -> Result<()> {
    // about 40 bytes per cell and date in flight (7 reflectances, QA, mask)
    let chunk = (READ_AHEAD_BYTES / (40 * cells.max(1))).clamp(2, DATE_CHUNK);
    for chunk in sel.dates.chunks(chunk) {
        let obs: Vec<Result<O>> = chunk.par_iter().map(|(_, gs)| read(gs)).collect();
        for o in obs {
            add(o?)?;
            progress.inc(1);
        }
    }
    Ok(())
}

/// A MOD09A1 observation as it enters the composite: the seven reflectances (composite then
/// index), or the four indicators computed from them (index then composite).
pub(crate) enum Obs09In {
    /// Reflectances and mask.
    Bands(Obs09),
    /// WET, NDBSI, MNDWI, NDVI of the observation, its QA report and mask.
    Indicators(ValidityReport, [Vec<f32>; 4], Vec<bool>),
}

/// Prepares a MOD09A1 observation for the composite order of `opts`.
pub(crate) fn prepare_mod09(o: Obs09, opts: &RseiRunOptions) -> Result<Obs09In> {
    Ok(match opts.composite.order {
        IndexOrder::CompositeThenIndex => Obs09In::Bands(o),
        IndexOrder::IndexThenComposite => {
            let m = o.valid.len();
            let refs: [&[f32]; 7] = std::array::from_fn(|k| o.bands[k].as_slice());
            let (mut a, mut b, mut c, mut d) = (nan_vec(m), nan_vec(m), nan_vec(m), nan_vec(m));
            indicators::compute_indicators(refs, &WetnessCoefficients::MODIS, IndicatorsOut { wet: &mut a, ndbsi: &mut b, mndwi: &mut c, ndvi: Some(&mut d) })?;
            Obs09In::Indicators(o.report, [a, b, c, d], o.valid)
        }
    })
}

/// The windows of one strip of an area: rows `w1` of the 1 km grid, the same rows with one row of
/// margin on each side (`wm`, for bilinear LST), and the matching rows of the 500 m grid (`w5`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StripWindows {
    /// Rows of the 1 km grid (full width).
    pub w1: Window,
    /// `w1` with one row of margin on each side, clipped to the grid.
    pub wm: Window,
    /// The 500 m rows of `w1` (full width).
    pub w5: Window,
}

impl StripWindows {
    /// The windows of 1 km rows `w1` of `study`.
    pub fn new(study: &StudyGrid, w1: Window) -> StripWindows {
        let g1 = &study.grid_1km;
        let r0 = w1.row.saturating_sub(1);
        let r1 = (w1.row_end() + 1).min(g1.rows());
        StripWindows { w1, wm: Window::new(r0, 0, r1 - r0, g1.cols()), w5: Window::new(2 * w1.row, 0, 2 * w1.rows, study.grid.cols()) }
    }
    /// Rows of `wm` whose QA is counted (those of `w1`), relative to `wm`.
    pub fn counted(&self) -> std::ops::Range<usize> {
        (self.w1.row - self.wm.row)..(self.w1.row_end() - self.wm.row)
    }
}

/// The composites of one strip of an area for one target year, fed one observation at a time in
/// date order (per product), then finished into the strip's indicators.
pub(crate) struct StripComposites {
    win: StripWindows,
    lst: CompositeAccumulator,
    ndvi: Option<CompositeAccumulator>,
    refl: CompositeAccumulator,
    qa: [ValidityReport; 3],
}

/// The indicators of one strip (rows `w5` of the 500 m grid, full width) and its QA reports.
pub(crate) struct StripOut {
    /// The 500 m rows.
    pub w5: Window,
    pub ndvi: Vec<f32>,
    pub wet: Vec<f32>,
    pub ndbsi: Vec<f32>,
    pub mndwi: Vec<f32>,
    pub lst: Vec<f32>,
    pub count09: Vec<u16>,
    pub count13: Vec<u16>,
    pub count11: Vec<u16>,
    pub water: Vec<bool>,
    /// QA of MOD09A1, MOD13A1, MOD11A2 over the strip.
    pub qa: [ValidityReport; 3],
}

impl StripComposites {
    /// Empty composites of the strip.
    pub fn new(win: StripWindows, opts: &RseiRunOptions) -> StripComposites {
        let r = opts.composite.reducer;
        let m = win.w5.len();
        StripComposites {
            win,
            lst: CompositeAccumulator::new(1, win.wm.len(), r),
            ndvi: (opts.ndvi_source == NdviSource::Mod13a1).then(|| CompositeAccumulator::new(1, m, r)),
            refl: CompositeAccumulator::new(if opts.composite.order == IndexOrder::CompositeThenIndex { 7 } else { 4 }, m, r),
            qa: Default::default(),
        }
    }
    /// Adds a MOD11A2 observation (over `wm`).
    pub fn add_mod11(&mut self, o: &Obs1) -> Result<()> {
        self.qa[2].merge(&o.report);
        self.lst.add(&[&o.value], &o.valid).map_err(Into::into)
    }
    /// Adds a MOD13A1 observation (over `w5`); ignored when NDVI comes from MOD09A1.
    pub fn add_mod13(&mut self, o: &Obs1) -> Result<()> {
        if let Some(acc) = &mut self.ndvi {
            self.qa[1].merge(&o.report);
            acc.add(&[&o.value], &o.valid)?;
        }
        Ok(())
    }
    /// Adds a MOD09A1 observation (over `w5`).
    pub fn add_mod09(&mut self, o: &Obs09In) -> Result<()> {
        match o {
            Obs09In::Bands(o) => {
                self.qa[0].merge(&o.report);
                let refs: Vec<&[f32]> = o.bands.iter().map(Vec::as_slice).collect();
                self.refl.add(&refs, &o.valid)?;
            }
            Obs09In::Indicators(report, ind, valid) => {
                self.qa[0].merge(report);
                let refs: Vec<&[f32]> = ind.iter().map(Vec::as_slice).collect();
                self.refl.add(&refs, valid)?;
            }
        }
        Ok(())
    }
    /// The strip's indicators: LST upsampled to 500 m, NDVI, WET, NDBSI, MNDWI, counts and the
    /// water mask without land cover (see [`StripOut::set_water`]).
    pub fn finish(self, opts: &RseiRunOptions) -> Result<StripOut> {
        let StripWindows { w1, wm, w5 } = self.win;
        let min_obs = opts.composite.min_obs;
        let lst1 = self.lst.finish(min_obs);
        // fine window relative to the margin source
        let rel = Window::new(w5.row - 2 * wm.row, 0, w5.rows, w5.cols);
        let mut lst5 = nan_vec(w5.len());
        indicators::upsample_2x_window(&lst1.layers[0], wm.rows, wm.cols, rel, opts.lst_resample, &mut lst5)?;
        let cnt1: Vec<f32> = lst1.count.iter().map(|&c| f32::from(c)).collect();
        let mut cnt5 = nan_vec(w5.len());
        indicators::upsample_2x_window(&cnt1, wm.rows, wm.cols, rel, Resample::Nearest, &mut cnt5)?;
        debug_assert_eq!(w1.rows * 2, w5.rows);
        let ndvi13 = self.ndvi.map(|a| a.finish(min_obs));
        let m = w5.len();
        let (mut wet, mut ndbsi, mut mndwi, mut ndvi09) = (nan_vec(m), nan_vec(m), nan_vec(m), nan_vec(m));
        let c = self.refl.finish(min_obs);
        match opts.composite.order {
            IndexOrder::CompositeThenIndex => {
                let refs: [&[f32]; 7] = std::array::from_fn(|k| c.layers[k].as_slice());
                indicators::compute_indicators(
                    refs,
                    &WetnessCoefficients::MODIS,
                    IndicatorsOut { wet: &mut wet, ndbsi: &mut ndbsi, mndwi: &mut mndwi, ndvi: Some(&mut ndvi09) },
                )?;
            }
            IndexOrder::IndexThenComposite => {
                wet.copy_from_slice(&c.layers[0]);
                ndbsi.copy_from_slice(&c.layers[1]);
                mndwi.copy_from_slice(&c.layers[2]);
                ndvi09.copy_from_slice(&c.layers[3]);
            }
        }
        let water = indicators::water_mask(&mndwi, None, &opts.water)?;
        let (ndvi, count13) = match ndvi13 {
            Some(n) => (n.layers.into_iter().next().unwrap_or_default(), n.count),
            None => (ndvi09, vec![0; m]),
        };
        Ok(StripOut {
            w5,
            ndvi,
            wet,
            ndbsi,
            mndwi,
            lst: lst5,
            count09: c.count,
            count13,
            count11: cnt5.iter().map(|&c| c as u16).collect(),
            water,
            qa: self.qa,
        })
    }
}

impl StripOut {
    /// The water mask with the land-cover classes of the strip (row-major over `w5`).
    pub fn set_water(&mut self, landcover: Option<&[u8]>, opts: &RseiRunOptions) -> Result<()> {
        if landcover.is_some() {
            self.water = indicators::water_mask(&self.mndwi, landcover, &opts.water)?;
        }
        Ok(())
    }
}

impl YearIndicators {
    /// Empty layers of `study` for `year` (NaN, no water, no count) to be filled strip by strip.
    pub(crate) fn empty(study: &StudyGrid, year: i32) -> YearIndicators {
        let n = study.grid.len();
        YearIndicators {
            year,
            grid: study.grid.clone(),
            ndvi: nan_vec(n),
            wet: nan_vec(n),
            ndbsi: nan_vec(n),
            lst_celsius: nan_vec(n),
            mndwi: nan_vec(n),
            water: vec![false; n],
            inside: study.inside.clone(),
            count_mod09: vec![0; n],
            count_mod13: vec![0; n],
            count_mod11: vec![0; n],
            qa: Vec::new(),
            files: Vec::new(),
            notes: Vec::new(),
            sensor: None,
        }
    }

    /// The record of a year whose layers stay on disk (no layer in memory): year, grid, QA,
    /// files and notes only.
    pub(crate) fn record_only(study: &StudyGrid, year: i32) -> YearIndicators {
        YearIndicators::record_on(&study.grid, year)
    }

    /// [`YearIndicators::record_only`] on any grid.
    pub(crate) fn record_on(grid: &rsei_core::Grid, year: i32) -> YearIndicators {
        YearIndicators {
            year,
            grid: grid.clone(),
            ndvi: Vec::new(),
            wet: Vec::new(),
            ndbsi: Vec::new(),
            lst_celsius: Vec::new(),
            mndwi: Vec::new(),
            water: Vec::new(),
            inside: Vec::new(),
            count_mod09: Vec::new(),
            count_mod13: Vec::new(),
            count_mod11: Vec::new(),
            qa: Vec::new(),
            files: Vec::new(),
            notes: Vec::new(),
            sensor: None,
        }
    }

    /// Copies a finished strip into the layers.
    pub(crate) fn put(&mut self, s: &StripOut) {
        let start = s.w5.row * self.grid.cols();
        let end = start + s.w5.len();
        self.ndvi[start..end].copy_from_slice(&s.ndvi);
        self.wet[start..end].copy_from_slice(&s.wet);
        self.ndbsi[start..end].copy_from_slice(&s.ndbsi);
        self.mndwi[start..end].copy_from_slice(&s.mndwi);
        self.lst_celsius[start..end].copy_from_slice(&s.lst);
        self.count_mod09[start..end].copy_from_slice(&s.count09);
        self.count_mod13[start..end].copy_from_slice(&s.count13);
        self.count_mod11[start..end].copy_from_slice(&s.count11);
        self.water[start..end].copy_from_slice(&s.water);
    }
}

/// Refuses a target year whose composite window has no granule of a product the run needs.
/// The first year of MODIS (Terra) products.
pub const MODIS_FIRST_YEAR: i32 = 2000;

pub(crate) fn check_selections(archive: &Archive, year: i32, sels: &[Selection<'_>; 3], opts: &RseiRunOptions) -> Result<()> {
    let [s09, s13, s11] = sels;
    let window = opts.composite.describe(year);
    if s09.dates.is_empty() && year < MODIS_FIRST_YEAR {
        bail!("no MOD09A1 granule for {year} ({window}): MODIS (Terra) begins in {MODIS_FIRST_YEAR}; for earlier years use Landsat Collection 2 Level-2 scenes (TM from 1982)");
    }
    if s09.dates.is_empty() {
        bail!("no MOD09A1 granule for {year} ({window}) over the study area in {}", folders(archive));
    }
    if s11.dates.is_empty() {
        bail!("no MOD11A2 granule for {year} ({window}) over the study area in {}", folders(archive));
    }
    if opts.ndvi_source == NdviSource::Mod13a1 && s13.dates.is_empty() {
        bail!("no MOD13A1 granule for {year} ({window}) over the study area in {} (use the MOD09A1 NDVI option to do without)", folders(archive));
    }
    Ok(())
}

/// What a finished year records besides its layers: QA per product and the files read; refuses a
/// year without any valid MOD09A1 observation inside the area (`any_valid_inside`).
pub(crate) fn year_record(year: i32, sels: &[Selection<'_>; 3], qa: [ValidityReport; 3], any_valid_inside: bool, opts: &RseiRunOptions) -> Result<(Vec<ProductQa>, Vec<PathBuf>)> {
    let [s09, s13, s11] = sels;
    let [qa09, qa13, qa11] = qa;
    if !any_valid_inside {
        return Err(Error::msg(format!(
            "no valid MOD09A1 observation inside the study area for {year} ({}): {} granules were read, every pixel was cloudy, flagged or fill (QA: {})",
            opts.composite.describe(year),
            s09.granule_count(),
            qa09.summary()
        )));
    }
    let mut qa = vec![
        ProductQa { product: "MOD09A1".into(), granules: s09.granule_count(), dates: s09.dates.len(), report: qa09 },
        ProductQa { product: "MOD13A1".into(), granules: s13.granule_count(), dates: s13.dates.len(), report: qa13 },
        ProductQa { product: "MOD11A2".into(), granules: s11.granule_count(), dates: s11.dates.len(), report: qa11 },
    ];
    if opts.ndvi_source == NdviSource::Mod09a1 {
        qa.remove(1);
    }
    let mut files = s09.files();
    files.extend(s11.files());
    if opts.ndvi_source == NdviSource::Mod13a1 {
        files.extend(s13.files());
    }
    files.sort();
    files.dedup();
    Ok((qa, files))
}

/// Everything one area-year computation needs besides the options.
pub struct YearJob<'a> {
    /// The granules to read.
    pub archive: &'a Archive,
    /// The grids of the area.
    pub study: &'a StudyGrid,
    /// Optional land cover for the water mask.
    pub landcover: Option<&'a LandCover>,
    /// Target year.
    pub year: i32,
    /// Cells per strip ([`DEFAULT_STRIP_CELLS`]); results do not depend on it.
    pub strip_cells: usize,
}

impl<'a> YearJob<'a> {
    /// The three selections of the composite window.
    pub fn selections(&self, opts: &RseiRunOptions) -> [Selection<'a>; 3] {
        let b = self.study.grid.bounds();
        let c = &opts.composite;
        [
            self.archive.select(ProductKind::Mod09A1, opts.platforms, c, self.year, &b),
            self.archive.select(ProductKind::Mod13A1, opts.platforms, c, self.year, &b),
            self.archive.select(ProductKind::Mod11A2, opts.platforms, c, self.year, &b),
        ]
    }

    /// Work units for a progress bar: dates × strips.
    pub fn work_units(&self, opts: &RseiRunOptions) -> u64 {
        let [s09, s13, s11] = self.selections(opts);
        let n = s09.dates.len() + s11.dates.len() + if opts.ndvi_source == NdviSource::Mod13a1 { s13.dates.len() } else { 0 };
        (n * self.strips().len()) as u64
    }

    /// The strips of the 1 km grid (each maps to twice as many 500 m rows).
    fn strips(&self) -> Vec<Window> {
        let g1 = &self.study.grid_1km;
        let rows = (self.strip_cells / (4 * g1.cols().max(1))).max(1);
        if rows < STRIP_ALIGN_1KM || rows >= g1.rows() {
            return g1.row_strips(rows).collect();
        }
        // align the boundaries on the tile's block rows
        let rows = rows / STRIP_ALIGN_1KM * STRIP_ALIGN_1KM;
        let cs = modis::Resolution::Km1.cell_size_m();
        let global_row = ((modis::Y_MAX - g1.transform().y0) / cs).round() as i64;
        let into_block = global_row.rem_euclid(STRIP_ALIGN_1KM as i64) as usize;
        let mut out = Vec::new();
        let mut start = 0;
        let mut end = if into_block == 0 { rows } else { STRIP_ALIGN_1KM - into_block };
        while start < g1.rows() {
            let e = end.min(g1.rows());
            out.push(Window::new(start, 0, e - start, g1.cols()));
            start = e;
            end = start + rows;
        }
        out
    }

    /// Computes the composites and indicators of this one year, reading its window's granules for
    /// this area alone (strip by strip). Runs of several years or areas read each granule once
    /// instead (`onepass`); both give the same bits, and this path is their reference.
    pub fn run(&self, opts: &RseiRunOptions, progress: &dyn Progress) -> Result<YearIndicators> {
        let sels = self.selections(opts);
        check_selections(self.archive, self.year, &sels, opts)?;
        let [s09, s13, s11] = &sels;
        let grid = &self.study.grid;
        let g1 = &self.study.grid_1km;
        let mut out = YearIndicators::empty(self.study, self.year);
        let mut qa: [ValidityReport; 3] = Default::default();
        for w1 in self.strips() {
            let win = StripWindows::new(self.study, w1);
            let mut sc = StripComposites::new(win, opts);
            // ---- LST on the 1 km grid, with one row of margin for bilinear upsampling
            composite_dates(s11, 4 * win.wm.len(), |gs| read_mod11(gs, g1, win.wm, win.counted(), opts), |o| sc.add_mod11(&o), progress)?;
            // ---- NDVI from MOD13A1
            if opts.ndvi_source == NdviSource::Mod13a1 {
                composite_dates(s13, win.w5.len(), |gs| read_mod13(gs, grid, win.w5, opts), |o| sc.add_mod13(&o), progress)?;
            }
            // ---- MOD09A1 reflectance composite, then indicators (or the reverse order)
            composite_dates(s09, win.w5.len(), |gs| prepare_mod09(read_mod09(gs, grid, win.w5, opts)?, opts), |o| sc.add_mod09(&o), progress)?;
            let start = win.w5.row * grid.cols();
            let mut strip = sc.finish(opts)?;
            strip.set_water(self.landcover.map(|lc| &lc[start..start + win.w5.len()]), opts)?;
            for (a, b) in qa.iter_mut().zip(&strip.qa) {
                a.merge(b);
            }
            out.put(&strip);
        }
        let any_valid_inside = out.inside.iter().zip(&out.count_mod09).any(|(&i, &c)| i && c > 0);
        let (qa, files) = year_record(self.year, &sels, qa, any_valid_inside, opts)?;
        out.qa = qa;
        out.files = files;
        Ok(out)
    }
}

fn folders(a: &Archive) -> String {
    a.folders.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// Reads a land-cover raster onto the study grid (nearest neighbour, classes as bytes, 255 = none).
pub fn landcover_on_grid(path: &std::path::Path, grid: &Grid) -> Result<LandCover> {
    let name = path.to_string_lossy();
    let r: Raster<f32> = rsei_io::warp::warp_to_grid(&name, 1, grid, rsei_io::warp::Resampling::Nearest, None)
        .with_context(|| format!("reading land cover {}", path.display()))?;
    Ok(r.data().iter().map(|&v| if v.is_finite() && (0.0..255.0).contains(&v) { v as u8 } else { 255 }).collect())
}
