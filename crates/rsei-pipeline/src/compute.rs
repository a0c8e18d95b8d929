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
use serde::Serialize;

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
#[derive(Clone, Debug, Serialize)]
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
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
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
    /// Number of cells inside.
    pub fn inside_count(&self) -> usize {
        self.inside.iter().filter(|&&b| b).count()
    }
}

/// QA outcome of one product over a composite window.
#[derive(Clone, Debug, Default, Serialize)]
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

/// Opens `layer` of `g` and pastes its part of `w` (a window of `grid`) into `out`.
fn paste_f32(g: &Granule, layer: Layer, grid: &Grid, w: Window, out: &mut [f32]) -> Result<()> {
    let src = g.layer(layer)?;
    let r = LayerReader::open(src)?;
    r.read_into(grid, w, out).with_context(|| format!("reading {} of {}", layer, g.label()))?;
    Ok(())
}

fn paste_u32(g: &Granule, layer: Layer, grid: &Grid, w: Window, out: &mut [u32]) -> Result<()> {
    let src = g.layer(layer)?;
    let r = LayerReader::open(src)?;
    r.read_into_raw_u32(grid, w, out).with_context(|| format!("reading {} of {}", layer, g.label()))?;
    Ok(())
}

fn paste_i32(g: &Granule, layer: Layer, grid: &Grid, w: Window, out: &mut [i32]) -> Result<()> {
    let src = g.layer(layer)?;
    let r = LayerReader::open(src)?;
    r.read_into_raw_i32(grid, w, out).with_context(|| format!("reading {} of {}", layer, g.label()))?;
    Ok(())
}

const BANDS: [Layer; 7] =
    [Layer::SurReflB01, Layer::SurReflB02, Layer::SurReflB03, Layer::SurReflB04, Layer::SurReflB05, Layer::SurReflB06, Layer::SurReflB07];

/// One MOD09A1 date over a strip: the seven reflectances and the validity mask.
struct Obs09 {
    bands: [Vec<f32>; 7],
    valid: Vec<bool>,
    report: ValidityReport,
}

fn read_mod09(gs: &[&Granule], grid: &Grid, w: Window, opts: &RseiRunOptions) -> Result<Obs09> {
    let n = w.len();
    let mut bands: [Vec<f32>; 7] = std::array::from_fn(|_| nan_vec(n));
    let mut qc = vec![u32::MAX; n];
    let mut state = vec![u32::from(u16::MAX); n];
    for g in gs {
        for (k, layer) in BANDS.iter().enumerate() {
            paste_f32(g, *layer, grid, w, &mut bands[k])?;
        }
        paste_u32(g, Layer::SurReflQc, grid, w, &mut qc)?;
        paste_u32(g, Layer::SurReflState, grid, w, &mut state)?;
    }
    let state16: Vec<u16> = state.iter().map(|&s| s.min(u32::from(u16::MAX)) as u16).collect();
    let mut valid = vec![false; n];
    let mut report = ValidityReport::default();
    let checker = opts.qa.mod09.compile()?;
    checker.validity_mask(&qc, &state16, &mut valid, Some(&mut report))?;
    let refs: [&[f32]; 7] = std::array::from_fn(|k| bands[k].as_slice());
    ReflectanceRange::default().and_mask(refs, &mut valid, None)?;
    Ok(Obs09 { bands, valid, report })
}

struct Obs1 {
    value: Vec<f32>,
    valid: Vec<bool>,
    report: ValidityReport,
}

fn read_mod13(gs: &[&Granule], grid: &Grid, w: Window, opts: &RseiRunOptions) -> Result<Obs1> {
    let n = w.len();
    let mut value = nan_vec(n);
    let mut rel = vec![-1i32; n];
    for g in gs {
        paste_f32(g, Layer::Ndvi, grid, w, &mut value)?;
        paste_i32(g, Layer::PixelReliability, grid, w, &mut rel)?;
    }
    let rel8: Vec<i8> = rel.iter().map(|&r| r.clamp(-128, 127) as i8).collect();
    let mut valid = vec![false; n];
    let mut report = ValidityReport::default();
    opts.qa.mod13.validity_mask(&rel8, &mut valid, Some(&mut report))?;
    Ok(Obs1 { value, valid, report })
}

/// MOD11A2 over window `w` of the 1 km grid; the QA report counts only rows `counted` (relative
/// to `w`), so margin rows shared with neighbouring strips are counted once.
fn read_mod11(gs: &[&Granule], grid_1km: &Grid, w: Window, counted: std::ops::Range<usize>, opts: &RseiRunOptions) -> Result<Obs1> {
    let n = w.len();
    let mut dn = vec![0u32; n];
    let mut qc = vec![0u32; n];
    for g in gs {
        paste_u32(g, Layer::LstDay, grid_1km, w, &mut dn)?;
        paste_u32(g, Layer::QcDay, grid_1km, w, &mut qc)?;
    }
    let dn16: Vec<u16> = dn.iter().map(|&d| d.min(u32::from(u16::MAX)) as u16).collect();
    let qc8: Vec<u8> = qc.iter().map(|&q| q.min(255) as u8).collect();
    let mut valid = vec![false; n];
    let mut report = ValidityReport::default();
    let (a, b) = (counted.start * w.cols, counted.end * w.cols);
    opts.qa.mod11.validity_mask(&qc8[..a], &dn16[..a], &mut valid[..a], None)?;
    opts.qa.mod11.validity_mask(&qc8[a..b], &dn16[a..b], &mut valid[a..b], Some(&mut report))?;
    opts.qa.mod11.validity_mask(&qc8[b..], &dn16[b..], &mut valid[b..], None)?;
    let value = dn16.iter().map(|&d| indicators::lst_celsius(indicators::lst_kelvin_from_dn(d))).collect();
    Ok(Obs1 { value, valid, report })
}

/// Adds the dates of `sel` to `acc` in date order, reading `DATE_CHUNK` dates in parallel.
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

impl YearJob<'_> {
    /// The three selections of the composite window.
    pub fn selections(&self, opts: &RseiRunOptions) -> [Selection<'_>; 3] {
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

    /// Computes the composites and indicators.
    pub fn run(&self, opts: &RseiRunOptions, progress: &dyn Progress) -> Result<YearIndicators> {
        let [s09, s13, s11] = self.selections(opts);
        let window = opts.composite.describe(self.year);
        if s09.dates.is_empty() {
            bail!("no MOD09A1 granule for {} ({window}) over the study area in {}", self.year, folders(self.archive));
        }
        if s11.dates.is_empty() {
            bail!("no MOD11A2 granule for {} ({window}) over the study area in {}", self.year, folders(self.archive));
        }
        if opts.ndvi_source == NdviSource::Mod13a1 && s13.dates.is_empty() {
            bail!(
                "no MOD13A1 granule for {} ({window}) over the study area in {} (use the MOD09A1 NDVI option to do without)",
                self.year,
                folders(self.archive)
            );
        }
        let grid = &self.study.grid;
        let g1 = &self.study.grid_1km;
        let n = grid.len();
        let mut out = YearIndicators {
            year: self.year,
            grid: grid.clone(),
            ndvi: nan_vec(n),
            wet: nan_vec(n),
            ndbsi: nan_vec(n),
            lst_celsius: nan_vec(n),
            mndwi: nan_vec(n),
            water: vec![false; n],
            inside: self.study.inside.clone(),
            count_mod09: vec![0; n],
            count_mod13: vec![0; n],
            count_mod11: vec![0; n],
            qa: Vec::new(),
            files: Vec::new(),
            notes: Vec::new(),
        };
        let mut qa09 = ValidityReport::default();
        let mut qa13 = ValidityReport::default();
        let mut qa11 = ValidityReport::default();
        let coeffs = WetnessCoefficients::MODIS;
        for w1 in self.strips() {
            // ---- LST on the 1 km grid, with one row of margin for bilinear upsampling
            let r0 = w1.row.saturating_sub(1);
            let r1 = (w1.row_end() + 1).min(g1.rows());
            let wm = Window::new(r0, 0, r1 - r0, g1.cols());
            let mut acc = CompositeAccumulator::new(1, wm.len(), opts.composite.reducer);
            composite_dates(
                &s11,
                4 * wm.len(),
                |gs| read_mod11(gs, g1, wm, (w1.row - r0)..(w1.row_end() - r0), opts),
                |o| {
                    qa11.merge(&o.report);
                    acc.add(&[&o.value], &o.valid).map_err(Into::into)
                },
                progress,
            )?;
            let lst1 = acc.finish(opts.composite.min_obs);
            let w5 = Window::new(2 * w1.row, 0, 2 * w1.rows, grid.cols());
            // fine window relative to the margin source
            let rel = Window::new(w5.row - 2 * r0, 0, w5.rows, w5.cols);
            let mut lst5 = nan_vec(w5.len());
            indicators::upsample_2x_window(&lst1.layers[0], wm.rows, wm.cols, rel, opts.lst_resample, &mut lst5)?;
            let cnt1: Vec<f32> = lst1.count.iter().map(|&c| f32::from(c)).collect();
            let mut cnt5 = nan_vec(w5.len());
            indicators::upsample_2x_window(&cnt1, wm.rows, wm.cols, rel, Resample::Nearest, &mut cnt5)?;

            // ---- NDVI from MOD13A1
            let ndvi13 = if opts.ndvi_source == NdviSource::Mod13a1 {
                let mut acc = CompositeAccumulator::new(1, w5.len(), opts.composite.reducer);
                composite_dates(
                    &s13,
                    w5.len(),
                    |gs| read_mod13(gs, grid, w5, opts),
                    |o| {
                        qa13.merge(&o.report);
                        acc.add(&[&o.value], &o.valid).map_err(Into::into)
                    },
                    progress,
                )?;
                Some(acc.finish(opts.composite.min_obs))
            } else {
                None
            };

            // ---- MOD09A1 reflectance composite, then indicators (or the reverse order)
            let m = w5.len();
            let mut wet = nan_vec(m);
            let mut ndbsi = nan_vec(m);
            let mut mndwi = nan_vec(m);
            let mut ndvi09 = nan_vec(m);
            let count09 = match opts.composite.order {
                IndexOrder::CompositeThenIndex => {
                    let mut acc = CompositeAccumulator::new(7, m, opts.composite.reducer);
                    composite_dates(
                        &s09,
                        m,
                        |gs| read_mod09(gs, grid, w5, opts),
                        |o| {
                            qa09.merge(&o.report);
                            let refs: Vec<&[f32]> = o.bands.iter().map(Vec::as_slice).collect();
                            acc.add(&refs, &o.valid).map_err(Into::into)
                        },
                        progress,
                    )?;
                    let c = acc.finish(opts.composite.min_obs);
                    let refs: [&[f32]; 7] = std::array::from_fn(|k| c.layers[k].as_slice());
                    indicators::compute_indicators(
                        refs,
                        &coeffs,
                        IndicatorsOut { wet: &mut wet, ndbsi: &mut ndbsi, mndwi: &mut mndwi, ndvi: Some(&mut ndvi09) },
                    )?;
                    c.count
                }
                IndexOrder::IndexThenComposite => {
                    let mut acc = CompositeAccumulator::new(4, m, opts.composite.reducer);
                    composite_dates(
                        &s09,
                        m,
                        |gs| {
                            let o = read_mod09(gs, grid, w5, opts)?;
                            let refs: [&[f32]; 7] = std::array::from_fn(|k| o.bands[k].as_slice());
                            let (mut a, mut b, mut c, mut d) = (nan_vec(m), nan_vec(m), nan_vec(m), nan_vec(m));
                            indicators::compute_indicators(
                                refs,
                                &coeffs,
                                IndicatorsOut { wet: &mut a, ndbsi: &mut b, mndwi: &mut c, ndvi: Some(&mut d) },
                            )?;
                            Ok((o.report, [a, b, c, d], o.valid))
                        },
                        |(report, ind, valid)| {
                            qa09.merge(&report);
                            let refs: Vec<&[f32]> = ind.iter().map(Vec::as_slice).collect();
                            acc.add(&refs, &valid).map_err(Into::into)
                        },
                        progress,
                    )?;
                    let c = acc.finish(opts.composite.min_obs);
                    wet.copy_from_slice(&c.layers[0]);
                    ndbsi.copy_from_slice(&c.layers[1]);
                    mndwi.copy_from_slice(&c.layers[2]);
                    ndvi09.copy_from_slice(&c.layers[3]);
                    c.count
                }
            };
            // ---- write the strip into the year's layers
            let start = w5.row * grid.cols();
            let ndvi_src = match &ndvi13 {
                Some(c) => &c.layers[0],
                None => &ndvi09,
            };
            out.ndvi[start..start + m].copy_from_slice(ndvi_src);
            out.wet[start..start + m].copy_from_slice(&wet);
            out.ndbsi[start..start + m].copy_from_slice(&ndbsi);
            out.mndwi[start..start + m].copy_from_slice(&mndwi);
            out.lst_celsius[start..start + m].copy_from_slice(&lst5);
            out.count_mod09[start..start + m].copy_from_slice(&count09);
            if let Some(c) = &ndvi13 {
                out.count_mod13[start..start + m].copy_from_slice(&c.count);
            }
            for (o, &c) in out.count_mod11[start..start + m].iter_mut().zip(&cnt5) {
                *o = c as u16;
            }
            let lc = self.landcover.map(|lc| &lc[start..start + m]);
            let water = indicators::water_mask(&mndwi, lc, &opts.water)?;
            out.water[start..start + m].copy_from_slice(&water);
        }
        out.qa = vec![
            ProductQa { product: "MOD09A1".into(), granules: s09.granule_count(), dates: s09.dates.len(), report: qa09 },
            ProductQa { product: "MOD13A1".into(), granules: s13.granule_count(), dates: s13.dates.len(), report: qa13 },
            ProductQa { product: "MOD11A2".into(), granules: s11.granule_count(), dates: s11.dates.len(), report: qa11 },
        ];
        if opts.ndvi_source == NdviSource::Mod09a1 {
            out.qa.remove(1);
        }
        let mut files = s09.files();
        files.extend(s11.files());
        if opts.ndvi_source == NdviSource::Mod13a1 {
            files.extend(s13.files());
        }
        files.sort();
        files.dedup();
        out.files = files;
        if out.inside.iter().zip(&out.count_mod09).all(|(&i, &c)| !i || c == 0) {
            return Err(Error::msg(format!(
                "no valid MOD09A1 observation inside the study area for {} ({window}): {} granules were read, every pixel was cloudy, flagged or fill (QA: {})",
                self.year,
                s09.granule_count(),
                qa09.summary()
            )));
        }
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
