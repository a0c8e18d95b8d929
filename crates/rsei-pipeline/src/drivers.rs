//! # Driver analysis: the pipeline behind `rsei drivers` (METHOD §6–8; paper §2.2, §2.3.2–2.3.4, §3.5, §4.4)
//!
//! For each study area and one year:
//! 1. **Grid.** The area (as loaded for `rsei compute`) is projected to the equal-area CRS (default
//!    Asia North Albers) and covered by a grid of 1 km cells whose origin lies on multiples of the
//!    cell size (`rsei_core::drivers::aligned_grid`); the area's cells are those whose centre is
//!    inside (or any coverage, as an option).
//! 2. **Stack.** Every driver raster (any format, CRS, resolution; several files summed, e.g. twelve
//!    monthly precipitation rasters) is warped onto that grid with its own resampling
//!    (`rsei_io::stack`); RSEI (`<rsei>/<area>/<year>/rsei.tif`) is resampled by bilinear
//!    interpolation. Derived drivers, computed on the grid padded so that the area's edge cells
//!    have complete neighbourhoods, then cropped:
//!    - `DEM` (the DEM warped bilinearly) and `Slope` (degrees, Horn, as `gdaldem slope`);
//!    - `DisM`: metres from each cell centre to the nearest mine cell centre (mine cells by the
//!      pixel-centre rule, as `gdal_rasterize`), exact Euclidean, or round a barrier layer
//!      (coastline) when one is given; mines up to `search_margin_km` beyond the area count;
//!    - `MineA`: % of mine area in a 10 km × 10 km moving window centred on the cell (at 1 km:
//!      9 × 9 whole cells plus a ring of half-weighted cells, exactly 100 km²; see
//!      `rsei_core::drivers::share`), from exact coverage fractions of the union of the mines.
//! 3. **Checks.** Valid cells per driver inside the area (a note when some lack a value), constant
//!    drivers (a warning; kept out of the forest), no pixel where RSEI and all drivers are valid
//!    (an error naming the driver with the fewest valid cells).
//! 4. **Pearson** r, n and two-sided p per driver over the complete pixels.
//! 5. **Random forest** (`rsei_forest`, R randomForest semantics): seeded 70/30 split; ntree 1000,
//!    mtry 3, nodesize 5 by default; OOB % Var explained; validation R², RMSE, MAE; %IncMSE (scaled)
//!    and IncNodePurity; predicted map over every cell of the area where the drivers are valid (also
//!    where RSEI is not, e.g. water), residual = observed − predicted where RSEI is valid.
//! 6. **Across areas**: drivers ranked by %IncMSE within each area (1 = most important), ranks
//!    averaged over the areas, ordered ascending (paper Fig. 8).
//!
//! ```text
//! OUT/  (default: the RSEI folder given with --rsei)
//!   drivers/                   run level, every area
//!     driver_ranking.csv|json  per driver: mean rank, areas ranked, rank in each area (Fig. 8)
//!     pearson_matrix.csv       Pearson r: one row per area, one column per driver (Fig. 7a)
//!     pearson.csv|json  importance.csv|json  rf_metrics.csv|json
//!     fig_correlation.svg|png  heat map areas × drivers of Pearson r
//!     fig_ranking.svg|png      mean importance rank per driver
//!     manifest.json
//!   <area>/drivers/            per area (beside the area's RSEI years)
//!     stack.tif                the aligned drivers, one band each (band descriptions = names), Float32 COG
//!     rsei.tif                 RSEI on the driver grid (bilinear)
//!     predicted.tif  residual.tif
//!     drivers.csv|json         per driver: source files, resampling, cells inside, valid cells, range, constant, used
//!     pearson.csv|json  importance.csv|json  rf_metrics.csv|json
//!     fig_importance.svg|png   %IncMSE per driver
//!     fig_validation.svg|png   predicted vs observed on the validation pixels, 1:1 line, R², RMSE, MAE
//!     map_predicted.png  map_residual.png
//!     summary.json  manifest.json
//! ```
//!
//! Everything is computed and checked before the first file is written; files are written
//! atomically and each `manifest.json` (inputs with SHA-256, options, software version, outputs
//! with SHA-256) last. Same inputs and seed ⇒ the same tables, byte for byte, whatever the number
//! of threads.

use std::path::{Path, PathBuf};

use crate::error::{Context, Error, Result};
use geo_types::MultiPolygon;
use rayon::prelude::*;
use rsei_core::drivers::{
    aligned_grid, complete_cases, distance_to_sources, distance_with_barrier, mean_ranks, moving_window_share, pad_grid,
    pearson_by_driver, rank_descending, rasterize_barrier, slope_degrees, DriverRank, LayerSummary, SquareWindow,
};
use rsei_core::grid::ASIA_NORTH_ALBERS_PROJ;
use rsei_core::zonal::{self, PixelRule};
use rsei_core::{Bounds, CoreError, Crs, Grid, Raster};
use rsei_forest::{metrics, train_validation_split, Dataset, Forest, ForestParams};
use rsei_io::stack::{warp_driver, warp_drivers, AlignedDriver, DriverSource, StackError};
use rsei_io::vector::{self, FeatureFilter, VectorError, VectorOptions};
use rsei_io::warp::Resampling;
use rsei_io::{write_bands, write_raster, OverviewResampling, Overviews, RasterFormat, WriteOptions};
use rsei_report::table::{Cell, Column, Table};
use rsei_report::{Annotation, Axis, Chart, Corner, Legend, LegendPosition, Series};
use serde::{Deserialize, Serialize};

use crate::area::StudyArea;
use crate::mining::MineSource;
use crate::outputs::{checksum, InputFile, SOFTWARE};
use crate::progress::Progress;

/// Folder of the run-level outputs inside the output folder (the areas' are `<area>/drivers`).
pub const RUN_FOLDER: &str = "drivers";

/// Names of the derived drivers (the paper's): from the DEM, and from the mines.
pub const DEM: &str = "DEM";
/// Name of the slope driver (derived from the DEM).
pub const SLOPE: &str = "Slope";
/// Name of the distance-to-mine driver.
pub const DISM: &str = "DisM";
/// Name of the mine-share driver.
pub const MINEA: &str = "MineA";

pub use crate::error::DriversError;

impl DriversError {
    /// Whether the error is about the inputs given (as opposed to a failing operation).
    pub fn is_input(&self) -> bool {
        match self {
            DriversError::Vector { error, .. } => !matches!(**error, VectorError::Geometry { .. }),
            DriversError::Stack { error, .. } => !matches!(error, StackError::Io(_)),
            DriversError::Core { error, .. } => !matches!(error, CoreError::BufferSize { .. } | CoreError::WindowOutOfBounds { .. }),
            DriversError::Forest { .. } | DriversError::Rsei { .. } => false,
            _ => true,
        }
    }
}

/// Options of a driver analysis (defaults: METHOD §6–8). Every field may be left out of a TOML or
/// JSON file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DriverRunOptions {
    /// CRS of the driver grid (default: Asia North Albers Equal Area Conic).
    pub crs: String,
    /// Cell size of the driver grid in CRS units (default 1000 m).
    pub resolution_m: f64,
    /// Side of the MineA moving window, km (default 10). The window has exactly this side: whole
    /// cells inside it, and a ring of partly weighted cells when the side is not an odd number of cells.
    pub window_km: f64,
    /// Resampling of RSEI onto the driver grid (default bilinear, as the paper).
    pub rsei_resampling: Resampling,
    /// Resampling of the DEM (default bilinear).
    pub dem_resampling: Resampling,
    /// Which cells of the driver grid belong to the area: centre inside (default) or any coverage.
    pub clip_rule: PixelRule,
    /// Which cells are mine cells for DisM: centre inside (default, as `gdal_rasterize`) or any coverage.
    pub mine_cells: PixelRule,
    /// Mines (and barriers) this far beyond the area's grid are taken into account, km (default 50).
    pub search_margin_km: f64,
    /// Trees (default 1000).
    pub ntree: usize,
    /// Drivers tried at each split (default 3; reduced to the number of drivers, as R does).
    pub mtry: usize,
    /// R nodesize (default 5).
    pub nodesize: usize,
    /// Seed of the split and of the forest (default 1).
    pub seed: u64,
    /// Share of the pixels used for training (default 0.7).
    pub train_fraction: f64,
    /// Write the figures (default true).
    pub charts: bool,
}

impl Default for DriverRunOptions {
    fn default() -> Self {
        DriverRunOptions {
            crs: ASIA_NORTH_ALBERS_PROJ.to_string(),
            resolution_m: 1000.0,
            window_km: 10.0,
            rsei_resampling: Resampling::Bilinear,
            dem_resampling: Resampling::Bilinear,
            clip_rule: PixelRule::Centre,
            mine_cells: PixelRule::Centre,
            search_margin_km: 50.0,
            ntree: 1000,
            mtry: 3,
            nodesize: 5,
            seed: 1,
            train_fraction: 0.7,
            charts: true,
        }
    }
}

impl DriverRunOptions {
    /// Checks every option, naming the one at fault.
    pub fn validate(&self) -> Result<(), DriversError> {
        let bad = |name: &str, reason: String| Err(DriversError::InvalidOption { name: name.into(), reason });
        if self.crs.trim().is_empty() {
            return bad("crs", "is empty".into());
        }
        if !(self.resolution_m.is_finite() && self.resolution_m > 0.0) {
            return bad("resolution_m", format!("must be > 0, got {}", self.resolution_m));
        }
        if !(self.window_km.is_finite() && self.window_km > 0.0) {
            return bad("window_km", format!("must be > 0, got {}", self.window_km));
        }
        if !(self.search_margin_km.is_finite() && self.search_margin_km >= 0.0) {
            return bad("search_margin_km", format!("must be ≥ 0, got {}", self.search_margin_km));
        }
        if self.search_margin_km * 1000.0 / self.resolution_m > 5000.0 || self.window_km * 1000.0 / self.resolution_m > 5000.0 {
            return bad("search_margin_km", "the margin or window spans more than 5000 cells".into());
        }
        for (name, v) in [("ntree", self.ntree), ("mtry", self.mtry), ("nodesize", self.nodesize)] {
            if v == 0 {
                return bad(name, "must be at least 1".into());
            }
        }
        if !(self.train_fraction > 0.0 && self.train_fraction < 1.0) {
            return bad("train_fraction", format!("must be strictly between 0 and 1, got {}", self.train_fraction));
        }
        Ok(())
    }
}

/// The inputs of a driver analysis (besides the study areas).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriverInputs {
    /// Output folder of `rsei compute` (holds `<area>/<year>/rsei.tif`).
    pub rsei_dir: PathBuf,
    /// The year analysed.
    pub year: i32,
    /// Driver rasters, in table order.
    pub drivers: Vec<DriverSource>,
    /// DEM (any CRS and resolution) for the `DEM` and `Slope` drivers.
    pub dem: Option<PathBuf>,
    /// Mine polygons for the `DisM` and `MineA` drivers.
    pub mines: Option<MineSource>,
    /// Barrier lines or polygons (e.g. a coastline) that distances to mines go around.
    pub barrier: Option<PathBuf>,
    /// Layer of the barrier file (default: the first).
    pub barrier_layer: Option<String>,
}

/// One driver of one area: where it came from and how much of the area it covers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriverInfo {
    /// Driver name.
    pub name: String,
    /// `"raster"` or what it was derived from.
    pub source: String,
    /// Files the driver was read from.
    pub files: Vec<PathBuf>,
    /// Resampling used to bring it onto the driver grid (`None` for derived drivers).
    pub resampling: Option<Resampling>,
    /// Cells of the area, and those with a value.
    pub cells_inside: usize,
    /// Valid cells inside the area.
    pub valid_inside: usize,
    /// Minimum inside the area.
    pub min: Option<f64>,
    /// Maximum inside the area.
    pub max: Option<f64>,
    /// Mean inside the area.
    pub mean: Option<f64>,
    /// Same value on every complete pixel.
    pub constant: bool,
    /// Used in the random forest.
    pub in_forest: bool,
}

/// Pearson's r of one driver with RSEI.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PearsonRow {
    /// Driver name.
    pub driver: String,
    /// Pearson r with RSEI (`None` when undefined).
    pub r: Option<f64>,
    /// Complete cases.
    pub n: u64,
    /// Two-sided p-value.
    pub p_value: Option<f64>,
    /// Why r is undefined, when it is.
    pub note: Option<String>,
}

/// Importance of one driver in one area's forest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportanceRow {
    /// Driver name.
    pub driver: String,
    /// %IncMSE (R `importance(scale = TRUE)`); `None` for a driver kept out of the forest.
    pub inc_mse: Option<f64>,
    /// Mean increase of the OOB MSE over the trees (RSEI²), and its standard error.
    pub mean_decrease: Option<f64>,
    /// Standard error of the permutation importance.
    pub sd: Option<f64>,
    /// IncNodePurity (RSEI²).
    pub inc_node_purity: Option<f64>,
    /// Rank by %IncMSE in this area (1 = most important; ties averaged).
    pub rank: Option<f64>,
}

/// The random forest of one area.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForestSummary {
    /// Trees.
    pub ntree: usize,
    /// Variables tried at each split.
    pub mtry: usize,
    /// Minimum node size.
    pub nodesize: usize,
    /// Seed of the forest and the split.
    pub seed: u64,
    #[serde(deserialize_with = "null_as_nan")]
    /// Share of the complete cases used for training.
    pub train_fraction: f64,
    /// Training rows.
    pub n_train: usize,
    /// Validation rows.
    pub n_valid: usize,
    #[serde(deserialize_with = "null_as_nan")]
    /// Out-of-bag mean squared error.
    pub oob_mse: f64,
    /// `100 · (1 − MSE_OOB / var_pop(y))`.
    #[serde(deserialize_with = "null_as_nan")]
    pub var_explained_pct: f64,
    /// Validation R², RMSE, MAE.
    #[serde(deserialize_with = "null_as_nan")]
    pub r2: f64,
    #[serde(deserialize_with = "null_as_nan")]
    /// Root mean squared error on the validation rows.
    pub rmse: f64,
    #[serde(deserialize_with = "null_as_nan")]
    /// Mean absolute error on the validation rows.
    pub mae: f64,
    /// Cells with a prediction (every cell of the area where the forest's drivers are valid).
    pub predicted_cells: usize,
    /// %IncMSE and IncNodePurity per driver.
    pub importance: Vec<ImportanceRow>,
}

/// A number written by serde_json, where NaN becomes `null`: `null` reads back as NaN.
fn null_as_nan<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Results of one area (also written as `summary.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AreaSummary {
    /// Name of the study area.
    pub area: String,
    /// Driver year.
    pub year: i32,
    /// CRS of the driver grid.
    pub crs: String,
    /// Cell size of the driver grid (m).
    pub resolution_m: f64,
    /// Rows of the driver grid.
    pub rows: usize,
    /// Columns of the driver grid.
    pub cols: usize,
    /// Origin (upper-left corner) of the driver grid.
    pub x0: f64,
    /// Northing of the grid's top edge.
    pub y0: f64,
    /// Cells inside the area.
    pub cells_inside: usize,
    /// MineA window: cells across (partly covered edge cells included) and its side in km (when
    /// mines are given); the window's area is exactly the side squared (edge cells weighted).
    pub window_cells: Option<usize>,
    /// Side of the MineA window actually used (km).
    pub window_km_effective: Option<f64>,
    /// Every driver and what was read for it.
    pub drivers: Vec<DriverInfo>,
    /// RSEI cells with a value inside the area.
    pub rsei_valid: usize,
    /// Pixels where RSEI and every driver are valid (the sample).
    pub n_pixels: usize,
    /// Pearson r of every driver with RSEI.
    pub pearson: Vec<PearsonRow>,
    /// The random forest and its importance.
    pub forest: ForestSummary,
    /// Remarks of the analysis.
    pub notes: Vec<String>,
    /// Output folder, relative to the run's output folder.
    pub folder: PathBuf,
}

/// Results of a run (also written into the run's `manifest.json`).
#[derive(Clone, Debug, Serialize)]
pub struct DriverRunSummary {
    /// Software and version that made the results.
    pub software: String,
    /// Driver year.
    pub year: i32,
    /// Per-area results.
    pub areas: Vec<AreaSummary>,
    /// Drivers ranked across areas.
    pub ranking: Vec<DriverRank>,
    /// Driver names of the ranking columns, in table order.
    pub drivers: Vec<String>,
    #[serde(skip)]
    /// Output folder.
    pub out_dir: PathBuf,
}

/// Everything one area produces, in memory.
struct AreaResult {
    summary: AreaSummary,
    grid: Grid,
    layers: Vec<(String, Vec<f32>)>,
    rsei: Vec<f32>,
    predicted: Vec<f32>,
    residual: Vec<f32>,
    /// (observed, predicted) of the validation pixels.
    validation: Vec<(f64, f64)>,
    inputs: Vec<PathBuf>,
}

fn stack_err(area: &str) -> impl Fn(StackError) -> DriversError + '_ {
    move |error| DriversError::Stack { area: area.to_string(), error }
}

fn core_err<'a>(area: &'a str, what: &'a str) -> impl Fn(CoreError) -> DriversError + 'a {
    move |error| DriversError::Core { area: area.to_string(), what: what.to_string(), error }
}

fn bounds_of(mp: &MultiPolygon<f64>) -> Option<Bounds> {
    let mut b: Option<Bounds> = None;
    for p in &mp.0 {
        for c in &p.exterior().0 {
            let cb = Bounds { xmin: c.x, ymin: c.y, xmax: c.x, ymax: c.y };
            b = Some(b.map_or(cb, |a| a.union(&cb)));
        }
    }
    b
}

fn crop(values: &[f32], padded: &Grid, pad: usize, grid: &Grid) -> Result<Vec<f32>, CoreError> {
    let r = Raster::new(padded.clone(), values.to_vec())?;
    Ok(r.window(rsei_core::drivers::grid::pad_window(grid, pad))?.into_data())
}

/// Mine polygons in the grid's CRS.
fn read_mines(src: &MineSource, crs: &Crs, notes: &mut Vec<String>) -> Result<Vec<MultiPolygon<f64>>, DriversError> {
    let mut o = VectorOptions::new(crs.clone());
    o.layer = src.layer.clone();
    o.filter = src.filter.clone().map(FeatureFilter::Where);
    o.assume_crs = src.assume_crs.as_ref().map(Crs::new);
    let layer = vector::read_polygons(&src.path, &o)
        .map_err(|e| DriversError::Vector { what: format!("mine layer {}", src.path.display()), error: Box::new(e) })?;
    let file = src.path.file_name().map_or_else(|| src.path.display().to_string(), |n| n.to_string_lossy().into_owned());
    notes.extend(layer.notes.iter().map(|n| format!("{file}: {n}")));
    Ok(layer.features.into_iter().map(|f| f.geometry).collect())
}

/// The DisM and MineA rasters on `grid` (see the module documentation).
struct MineDrivers {
    dism: Vec<f32>,
    minea: Vec<f32>,
    window: SquareWindow,
}

#[allow(clippy::too_many_arguments)]
fn mine_drivers(
    area: &str,
    grid: &Grid,
    inside: &[bool],
    mines: &[MultiPolygon<f64>],
    mines_path: &Path,
    barrier: Option<&[Vec<(f64, f64)>]>,
    opts: &DriverRunOptions,
    notes: &mut Vec<String>,
) -> Result<MineDrivers, DriversError> {
    let res = opts.resolution_m;
    let win = SquareWindow::new(opts.window_km * 1000.0, res).map_err(core_err(area, "MineA window"))?;
    let k = win.outer_cells();
    let near = |g: &Grid| -> Vec<MultiPolygon<f64>> {
        let gb = g.bounds();
        mines.iter().filter(|m| bounds_of(m).is_some_and(|b| b.intersects(&gb))).cloned().collect()
    };
    // MineA: exact fractions of the union of the mines near the window-padded grid
    let gs = pad_grid(grid, k / 2);
    let near_s = near(&gs);
    let mut frac = vec![0f32; gs.len()];
    if !near_s.is_empty() {
        let union = vector::union_all(&near_s).map_err(|e| DriversError::Vector { what: format!("union of the mines near {area:?}"), error: Box::new(e) })?;
        if !union.0.is_empty() {
            if let Some(cov) = zonal::coverage(&gs, &union, PixelRule::Coverage).map_err(core_err(area, "mine coverage"))? {
                for (r, c, w) in cov.iter() {
                    frac[gs.index(r, c)] = w.min(1.0);
                }
            }
        }
    }
    let share = moving_window_share(gs.rows(), gs.cols(), &frac, &win).map_err(core_err(area, "MineA"))?;
    let share: Vec<f32> = share.iter().map(|&v| v as f32).collect();
    let minea = crop(&share, &gs, k / 2, grid).map_err(core_err(area, "MineA"))?;

    // DisM: mine cells on the margin-padded grid
    let pad = (opts.search_margin_km * 1000.0 / res).ceil() as usize;
    let gd = pad_grid(grid, pad);
    let near_d = near(&gd);
    if near_d.is_empty() {
        return Err(DriversError::Mines {
            path: mines_path.into(),
            reason: format!("no mine polygon lies within {} km of study area {area:?}: DisM is undefined (raise search_margin_km)", opts.search_margin_km),
        });
    }
    let covs = zonal::coverages(&gd, &near_d, opts.mine_cells).map_err(core_err(area, "mine cells"))?;
    let mut sources = vec![false; gd.len()];
    let mut without = 0usize;
    for c in &covs {
        let mut any = false;
        if let Some(c) = c {
            for (r, col, w) in c.iter() {
                if w > 0.0 {
                    sources[gd.index(r, col)] = true;
                    any = true;
                }
            }
        }
        if !any {
            without += 1;
        }
    }
    if without > 0 {
        notes.push(format!(
            "DisM: {without} of {} mine polygon(s) near the area hold no cell centre of the {res} m grid and are not mine cells (MineA counts their exact area; --mine-cells coverage makes every touched cell a mine cell)",
            near_d.len()
        ));
    }
    if !sources.iter().any(|&s| s) {
        return Err(DriversError::Mines {
            path: mines_path.into(),
            reason: format!("none of the {} mine polygon(s) near study area {area:?} holds a cell centre of the {res} m grid; use --mine-cells coverage", near_d.len()),
        });
    }
    let dist: Vec<f32> = match barrier {
        None => distance_to_sources(&gd, &sources).map_err(core_err(area, "DisM"))?.into_data(),
        Some(lines) => {
            let blocked = rasterize_barrier(&gd, lines).map_err(core_err(area, "barrier"))?;
            let d = distance_with_barrier(&gd, &sources, &blocked).map_err(core_err(area, "DisM round the barrier"))?;
            notes.push(format!(
                "DisM round the barrier: {} cells of the padded grid see their nearest mine cell, {} are reached round the barrier, {} are unreachable",
                d.direct_cells, d.detour_cells, d.unreachable_cells
            ));
            d.distance.iter().map(|&v| v as f32).collect()
        }
    };
    let dism = crop(&dist, &gd, pad, grid).map_err(core_err(area, "DisM"))?;
    let margin_m = opts.search_margin_km * 1000.0;
    let beyond = dism.iter().zip(inside).filter(|(&d, &i)| i && f64::from(d) > margin_m).count();
    if beyond > 0 {
        notes.push(format!(
            "DisM exceeds the search margin ({} km) in {beyond} cell(s) of the area: a mine farther than the margin beyond the area could be nearer there (raise search_margin_km)",
            opts.search_margin_km
        ));
    }
    Ok(MineDrivers { dism, minea, window: win })
}

fn rsei_path(inputs: &DriverInputs, area: &StudyArea) -> Result<PathBuf, DriversError> {
    let dir = inputs.rsei_dir.join(area.slug());
    let p = dir.join(inputs.year.to_string()).join("rsei.tif");
    if !p.is_file() {
        return Err(DriversError::NoRsei { area: area.name.clone(), year: inputs.year, path: p, available: crate::mining::available_years(&dir) });
    }
    Ok(p)
}

/// Checks the driver names of the inputs: valid, unique, not a derived driver's when it is computed.
pub fn check_inputs(inputs: &DriverInputs) -> Result<(), DriversError> {
    let mut names: Vec<String> = Vec::new();
    if inputs.dem.is_some() {
        names.extend([DEM.into(), SLOPE.into()]);
    }
    if inputs.mines.is_some() {
        names.extend([DISM.into(), MINEA.into()]);
    }
    for d in &inputs.drivers {
        rsei_io::stack::check_driver_name(&d.name).map_err(|error| DriversError::Stack { area: "(all)".into(), error })?;
        if d.name.eq_ignore_ascii_case("RSEI") {
            return Err(DriversError::InvalidOption { name: "driver".into(), reason: "\"RSEI\" is the response, not a driver name".into() });
        }
        if let Some(n) = names.iter().find(|n| n.eq_ignore_ascii_case(&d.name)) {
            return Err(DriversError::InvalidOption {
                name: "driver".into(),
                reason: format!("the name {:?} is taken ({n} is {})", d.name, if [DEM, SLOPE].contains(&n.as_str()) { "computed from --dem" } else if [DISM, MINEA].contains(&n.as_str()) { "computed from --mines" } else { "given twice" }),
            });
        }
        if d.paths.is_empty() {
            return Err(DriversError::InvalidOption { name: "driver".into(), reason: format!("driver {:?} has no file", d.name) });
        }
        names.push(d.name.clone());
    }
    if inputs.barrier.is_some() && inputs.mines.is_none() {
        return Err(DriversError::InvalidOption { name: "barrier".into(), reason: "a barrier only shapes the distance to mines: give --mines too".into() });
    }
    if names.is_empty() {
        return Err(DriversError::InvalidOption { name: "driver".into(), reason: "no driver: give --driver, --dem or --mines".into() });
    }
    Ok(())
}

/// Analyses one study area (nothing is written).
fn analyse_area(
    inputs: &DriverInputs,
    area: &StudyArea,
    mines: Option<&[MultiPolygon<f64>]>,
    barrier: Option<&[Vec<(f64, f64)>]>,
    crs: &Crs,
    opts: &DriverRunOptions,
    progress: &dyn Progress,
) -> Result<AreaResult, DriversError> {
    let name = area.name.as_str();
    let mut notes: Vec<String> = Vec::new();
    // 1. grid and the area's cells
    let poly = vector::reproject(&area.polygon, &Crs::modis_sinusoidal(), crs)
        .map_err(|e| DriversError::Vector { what: format!("study area {name:?} in the driver CRS"), error: Box::new(e) })?;
    let b = bounds_of(&poly).ok_or_else(|| DriversError::Pixels { area: name.into(), detail: "the study area has no polygon".into() })?;
    let grid = aligned_grid(&b, crs, opts.resolution_m).map_err(core_err(name, "driver grid"))?;
    let inside = crate::run::inside_mask(&grid, &poly, opts.clip_rule)
        .map_err(|e| DriversError::Pixels { area: name.into(), detail: format!("cells of the area: {e:#}") })?;
    let cells_inside = inside.iter().filter(|&&i| i).count();
    if cells_inside == 0 {
        return Err(DriversError::Pixels {
            area: name.into(),
            detail: format!("no cell centre of the {} m driver grid lies inside the area (use a finer resolution or the coverage clip rule)", opts.resolution_m),
        });
    }
    // 2. RSEI and the drivers on the grid
    progress.message(&format!("{name}: aligning drivers"));
    let rsei_file = rsei_path(inputs, area)?;
    let rsei = rsei_io::warp::warp_to_grid(&rsei_file.to_string_lossy(), 1, &grid, opts.rsei_resampling, None)
        .map_err(|e| DriversError::Rsei { area: name.into(), path: rsei_file.clone(), error: Box::new(e) })?
        .into_data();
    let mut input_files = vec![rsei_file.clone()];
    let mut layers: Vec<AlignedDriver> = Vec::new();
    let mut sources: Vec<String> = Vec::new();
    if let Some(dem) = &inputs.dem {
        let g1 = pad_grid(&grid, 1);
        let d = warp_driver(&DriverSource::new(DEM, vec![dem.clone()], opts.dem_resampling), &g1).map_err(stack_err(name))?;
        let slope = slope_degrees(&d.raster).map_err(core_err(name, "slope"))?;
        let dem_v = crop(d.raster.data(), &g1, 1, &grid).map_err(core_err(name, "DEM"))?;
        let slope_v = crop(slope.data(), &g1, 1, &grid).map_err(core_err(name, "slope"))?;
        layers.push(AlignedDriver { name: DEM.into(), raster: Raster::new(grid.clone(), dem_v).map_err(core_err(name, "DEM"))?, files: vec![dem.clone()], resampling: opts.dem_resampling });
        sources.push("raster".into());
        layers.push(AlignedDriver { name: SLOPE.into(), raster: Raster::new(grid.clone(), slope_v).map_err(core_err(name, "slope"))?, files: vec![dem.clone()], resampling: opts.dem_resampling });
        sources.push("derived from the DEM: Horn slope in degrees".into());
        input_files.push(dem.clone());
    }
    let user = warp_drivers(&inputs.drivers, &grid).map_err(stack_err(name))?;
    for d in user {
        input_files.extend(d.files.iter().cloned());
        sources.push("raster".into());
        layers.push(d);
    }
    let mut window = None;
    if let (Some(mines), Some(src)) = (mines, &inputs.mines) {
        progress.message(&format!("{name}: distance to mines and mine share"));
        let m = mine_drivers(name, &grid, &inside, mines, &src.path, barrier, opts, &mut notes)?;
        window = Some(m.window);
        let files: Vec<PathBuf> = std::iter::once(src.path.clone()).chain(inputs.barrier.clone()).collect();
        layers.push(AlignedDriver { name: DISM.into(), raster: Raster::new(grid.clone(), m.dism).map_err(core_err(name, "DisM"))?, files: files.clone(), resampling: Resampling::Nearest });
        sources.push(if inputs.barrier.is_some() { "derived from the mines: metres to the nearest mine cell round the barrier" } else { "derived from the mines: metres to the nearest mine cell" }.into());
        layers.push(AlignedDriver { name: MINEA.into(), raster: Raster::new(grid.clone(), m.minea).map_err(core_err(name, "MineA"))?, files: vec![src.path.clone()], resampling: Resampling::Nearest });
        sources.push(format!(
            "derived from the mines: % mine area in a {} km × {} km window ({} × {} cells, edge cells weighted by their part inside)",
            opts.window_km,
            opts.window_km,
            m.window.outer_cells(),
            m.window.outer_cells()
        ));
        input_files.push(src.path.clone());
        input_files.extend(inputs.barrier.clone());
    }
    // clip to the area
    let clip = |v: &[f32]| -> Vec<f32> { v.iter().zip(&inside).map(|(&x, &i)| if i { x } else { f32::NAN }).collect() };
    let rsei = clip(&rsei);
    let values: Vec<Vec<f32>> = layers.iter().map(|l| clip(l.raster.data())).collect();

    // 3. checks
    let rsei_valid = rsei.iter().filter(|v| !v.is_nan()).count();
    if rsei_valid == 0 {
        return Err(DriversError::Pixels { area: name.into(), detail: format!("RSEI ({}) has no value inside the area on the driver grid", rsei_file.display()) });
    }
    let refs: Vec<&[f32]> = values.iter().map(Vec::as_slice).collect();
    let rows = complete_cases(&refs, &rsei, Some(&inside)).map_err(core_err(name, "complete cases"))?;
    let summaries: Vec<LayerSummary> = values.iter().map(|v| LayerSummary::of(v, Some(&inside))).collect();
    for (l, s) in layers.iter().zip(&summaries) {
        if s.valid < s.cells {
            notes.push(format!(
                "driver {} ({}): {} of {} cells of the area have no value (nodata or NaN in the source, or outside its extent)",
                l.name,
                l.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", "),
                s.cells - s.valid,
                s.cells
            ));
        }
    }
    if rows.is_empty() {
        let fewest = match layers.iter().zip(&summaries).min_by_key(|(_, s)| s.valid) {
            Some((l, s)) => format!("; fewest: driver {} valid in {} cells", l.name, s.valid),
            None => String::new(),
        };
        return Err(DriversError::Pixels {
            area: name.into(),
            detail: format!("no pixel where RSEI and every driver are valid (RSEI valid in {rsei_valid} of {cells_inside} cells{fewest})"),
        });
    }
    let constant: Vec<Option<f32>> = values.iter().map(|v| rsei_core::drivers::constant_value(v, &rows)).collect();
    for (l, c) in layers.iter().zip(&constant) {
        if let Some(v) = c {
            let msg = format!("warning: driver {} is constant ({v}) over the {} complete pixels: kept out of the random forest", l.name, rows.len());
            progress.println(&format!("{name}: {msg}"));
            notes.push(msg);
        }
    }
    let used: Vec<usize> = (0..layers.len()).filter(|&j| constant[j].is_none()).collect();
    if used.is_empty() {
        return Err(DriversError::Pixels { area: name.into(), detail: "every driver is constant over the complete pixels: nothing to explain RSEI with".into() });
    }

    // 4. Pearson
    let pearson: Vec<PearsonRow> = pearson_by_driver(&refs, &rsei, &rows)
        .into_iter()
        .zip(&layers)
        .map(|(r, l)| match r {
            Ok(p) => PearsonRow { driver: l.name.clone(), r: Some(p.r), n: p.n, p_value: Some(p.p_value), note: None },
            Err(u) => PearsonRow { driver: l.name.clone(), r: None, n: rows.len() as u64, p_value: None, note: Some(u.to_string()) },
        })
        .collect();

    // 5. random forest
    progress.message(&format!("{name}: random forest ({} trees, {} pixels)", opts.ntree, rows.len()));
    let n = rows.len();
    let n_train = (opts.train_fraction * n as f64).round() as usize;
    if n_train <= opts.nodesize || n_train >= n || n - n_train < 2 {
        return Err(DriversError::Pixels {
            area: name.into(),
            detail: format!(
                "{n} complete pixel(s): a {:.0} % training part of {n_train} is too small for nodesize {} (the forest needs more than nodesize training samples, and the validation part at least 2)",
                100.0 * opts.train_fraction,
                opts.nodesize
            ),
        });
    }
    let p = used.len();
    let mtry = opts.mtry.min(p);
    if mtry < opts.mtry {
        notes.push(format!("mtry {} is more than the {p} drivers in the forest: reset to {mtry} (as R's randomForest does)", opts.mtry));
    }
    let y: Vec<f64> = rows.iter().map(|&i| f64::from(rsei[i])).collect();
    let x: Vec<Vec<f64>> = used.iter().map(|&j| rows.iter().map(|&i| f64::from(values[j][i])).collect()).collect();
    let names: Vec<String> = used.iter().map(|&j| layers[j].name.clone()).collect();
    let forest_err = |error| DriversError::Forest { area: name.into(), error };
    let data = Dataset::new(x, y, names.clone()).map_err(forest_err)?;
    let (train_idx, valid_idx) = train_validation_split(n, opts.train_fraction, opts.seed).map_err(forest_err)?;
    let train = data.subset(&train_idx).map_err(forest_err)?;
    let valid = data.subset(&valid_idx).map_err(forest_err)?;
    let params = ForestParams { ntree: opts.ntree, mtry: Some(mtry), nodesize: opts.nodesize, seed: opts.seed, importance: true, ..ForestParams::default() };
    let fit = Forest::fit(&train, &params).map_err(forest_err)?;
    for w in &fit.warnings {
        notes.push(format!("random forest: {w}"));
    }
    let compiled = fit.forest.compile();
    let yhat_valid = compiled.predict_columns(&valid.x).map_err(forest_err)?;
    let m = metrics(&valid.y, &yhat_valid).map_err(forest_err)?;
    let validation: Vec<(f64, f64)> = valid.y.iter().copied().zip(yhat_valid.iter().copied()).collect();
    // predicted map: every cell of the area where the forest's drivers are valid
    let pred_cells: Vec<usize> = (0..grid.len()).filter(|&i| inside[i] && used.iter().all(|&j| !values[j][i].is_nan())).collect();
    let cols_all: Vec<Vec<f64>> = used.iter().map(|&j| pred_cells.iter().map(|&i| f64::from(values[j][i])).collect()).collect();
    let yhat_all = compiled.predict_columns(&cols_all).map_err(forest_err)?;
    let mut predicted = vec![f32::NAN; grid.len()];
    for (&i, &v) in pred_cells.iter().zip(&yhat_all) {
        predicted[i] = v as f32;
    }
    let residual: Vec<f32> = rsei.iter().zip(&predicted).map(|(&o, &p)| if o.is_nan() || p.is_nan() { f32::NAN } else { o - p }).collect();
    // importance in driver order (kept-out drivers empty), ranks by %IncMSE
    let mut inc = vec![f64::NAN; layers.len()];
    let mut rows_imp: Vec<ImportanceRow> = layers
        .iter()
        .map(|l| ImportanceRow { driver: l.name.clone(), inc_mse: None, mean_decrease: None, sd: None, inc_node_purity: None, rank: None })
        .collect();
    for (k, &j) in used.iter().enumerate() {
        let vi = &fit.importance[k];
        rows_imp[j].inc_node_purity = Some(vi.inc_node_purity);
        if let Some(pi) = vi.permutation {
            rows_imp[j].inc_mse = Some(pi.inc_mse);
            rows_imp[j].mean_decrease = Some(pi.mean_decrease);
            rows_imp[j].sd = Some(pi.sd);
            inc[j] = pi.inc_mse;
        }
    }
    for (row, r) in rows_imp.iter_mut().zip(rank_descending(&inc)) {
        row.rank = (!r.is_nan()).then_some(r);
    }

    let drivers: Vec<DriverInfo> = layers
        .iter()
        .zip(&summaries)
        .zip(&sources)
        .enumerate()
        .map(|(j, ((l, s), src))| DriverInfo {
            name: l.name.clone(),
            source: src.clone(),
            files: l.files.clone(),
            resampling: (src == "raster").then_some(l.resampling),
            cells_inside: s.cells,
            valid_inside: s.valid,
            min: s.min,
            max: s.max,
            mean: s.mean,
            constant: constant[j].is_some(),
            in_forest: constant[j].is_none(),
        })
        .collect();
    let t = grid.transform();
    let k = window;
    let summary = AreaSummary {
        area: name.into(),
        year: inputs.year,
        crs: crs.as_str().to_string(),
        resolution_m: opts.resolution_m,
        rows: grid.rows(),
        cols: grid.cols(),
        x0: t.x0,
        y0: t.y0,
        cells_inside,
        window_cells: k.map(|w| w.outer_cells()),
        window_km_effective: k.map(|w| w.side_cells * opts.resolution_m / 1000.0),
        drivers,
        rsei_valid,
        n_pixels: n,
        pearson,
        forest: ForestSummary {
            ntree: opts.ntree,
            mtry,
            nodesize: opts.nodesize,
            seed: opts.seed,
            train_fraction: opts.train_fraction,
            n_train: train_idx.len(),
            n_valid: valid_idx.len(),
            oob_mse: fit.oob_mse,
            var_explained_pct: fit.var_explained_pct,
            r2: m.r2,
            rmse: m.rmse,
            mae: m.mae,
            predicted_cells: pred_cells.len(),
            importance: rows_imp,
        },
        notes,
        folder: PathBuf::from(area.slug()).join("drivers"),
    };
    let layers = layers.into_iter().zip(values).map(|(l, v)| (l.name, v)).collect();
    input_files.dedup();
    Ok(AreaResult { summary, grid, layers, rsei, predicted, residual, validation, inputs: input_files })
}

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

fn fl(v: f64, d: u8) -> Cell {
    Cell::float(v, d)
}
fn of(v: Option<f64>, d: u8) -> Cell {
    Cell::opt_float(v, d)
}
fn txt(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}
fn int(v: usize) -> Cell {
    Cell::Int(v as i64)
}
fn sci(v: Option<f64>) -> Cell {
    v.map_or(Cell::Missing, |p| txt(format!("{p:.4e}")))
}

fn push(t: &mut Table, cells: Vec<Cell>) {
    // rows are built to the column count above each call; a mismatch is a programming error that
    // `Table::validate` reports before anything is written
    let _ = t.push_row(cells);
}

/// Drivers of one area.
pub fn drivers_table(s: &AreaSummary) -> Table {
    let mut t = Table::new(vec![
        Column::new("driver"),
        Column::new("source"),
        Column::new("files"),
        Column::new("resampling"),
        Column::new("cells_inside"),
        Column::new("valid_cells"),
        Column::new("min"),
        Column::new("max"),
        Column::new("mean"),
        Column::new("constant"),
        Column::new("in_forest"),
    ]);
    for d in &s.drivers {
        push(
            &mut t,
            vec![
                txt(&d.name),
                txt(&d.source),
                txt(d.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(";")),
                d.resampling.map_or(Cell::Missing, |r| txt(r.gdal_name())),
                int(d.cells_inside),
                int(d.valid_inside),
                of(d.min, 4),
                of(d.max, 4),
                of(d.mean, 4),
                txt(d.constant.to_string()),
                txt(d.in_forest.to_string()),
            ],
        );
    }
    t
}

/// Pearson r per area and driver.
pub fn pearson_table(areas: &[&AreaSummary]) -> Table {
    let mut t = Table::new(vec![
        Column::new("area"),
        Column::new("year"),
        Column::new("driver"),
        Column::new("r"),
        Column::new("n"),
        Column::new("p_value"),
        Column::new("note"),
    ]);
    for s in areas {
        for p in &s.pearson {
            push(&mut t, vec![txt(&s.area), Cell::Int(i64::from(s.year)), txt(&p.driver), of(p.r, 4), Cell::Int(p.n as i64), sci(p.p_value), p.note.clone().map_or(Cell::Missing, txt)]);
        }
    }
    t
}

/// %IncMSE, IncNodePurity and rank per area and driver.
pub fn importance_table(areas: &[&AreaSummary]) -> Table {
    let mut t = Table::new(vec![
        Column::new("area"),
        Column::new("year"),
        Column::new("driver"),
        Column::with_unit("inc_mse", "%"),
        Column::new("mean_decrease_mse"),
        Column::new("sd"),
        Column::new("inc_node_purity"),
        Column::new("rank"),
    ]);
    for s in areas {
        for r in &s.forest.importance {
            push(&mut t, vec![txt(&s.area), Cell::Int(i64::from(s.year)), txt(&r.driver), of(r.inc_mse, 2), of(r.mean_decrease, 8), of(r.sd, 8), of(r.inc_node_purity, 6), of(r.rank, 1)]);
        }
    }
    t
}

/// Forest settings and accuracy per area.
pub fn metrics_table(areas: &[&AreaSummary]) -> Table {
    let mut t = Table::new(vec![
        Column::new("area"),
        Column::new("year"),
        Column::new("n_pixels"),
        Column::new("n_train"),
        Column::new("n_valid"),
        Column::new("ntree"),
        Column::new("mtry"),
        Column::new("nodesize"),
        Column::new("seed"),
        Column::new("oob_mse"),
        Column::with_unit("var_explained", "%"),
        Column::new("r2"),
        Column::new("rmse"),
        Column::new("mae"),
    ]);
    for s in areas {
        let f = &s.forest;
        push(
            &mut t,
            vec![
                txt(&s.area),
                Cell::Int(i64::from(s.year)),
                int(s.n_pixels),
                int(f.n_train),
                int(f.n_valid),
                int(f.ntree),
                int(f.mtry),
                int(f.nodesize),
                txt(f.seed.to_string()),
                fl(f.oob_mse, 6),
                fl(f.var_explained_pct, 2),
                fl(f.r2, 4),
                fl(f.rmse, 4),
                fl(f.mae, 4),
            ],
        );
    }
    t
}

/// The cross-area ranking (paper Fig. 8).
pub fn ranking_table(ranking: &[DriverRank], areas: &[&AreaSummary]) -> Table {
    let mut cols = vec![Column::new("driver"), Column::new("mean_rank"), Column::new("areas_ranked")];
    cols.extend(areas.iter().map(|a| Column::new(format!("rank_{}", a.area))));
    let mut t = Table::new(cols);
    for d in ranking {
        let mut cells = vec![txt(&d.name), fl(d.mean_rank, 3), int(d.cities)];
        cells.extend(d.ranks.iter().map(|&r| fl(r, 1)));
        push(&mut t, cells);
    }
    t
}

/// Pearson r, one row per area, one column per driver.
pub fn pearson_matrix(drivers: &[String], areas: &[&AreaSummary]) -> Table {
    let mut cols = vec![Column::new("area")];
    cols.extend(drivers.iter().map(Column::new));
    let mut t = Table::new(cols);
    for s in areas {
        let mut cells = vec![txt(&s.area)];
        cells.extend(drivers.iter().map(|d| of(s.pearson.iter().find(|p| &p.driver == d).and_then(|p| p.r), 4)));
        push(&mut t, cells);
    }
    t
}

// ---------------------------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------------------------

/// Heat map of Pearson r, areas (rows) × drivers (columns) (paper Fig. 7a).
pub fn correlation_chart(drivers: &[String], areas: &[&AreaSummary], year: i32) -> Chart {
    let values: Vec<Vec<f64>> = areas
        .iter()
        .map(|s| drivers.iter().map(|d| s.pearson.iter().find(|p| &p.driver == d).and_then(|p| p.r).unwrap_or(f64::NAN)).collect())
        .collect();
    Chart::new(
        format!("Pearson correlation of RSEI with each driver, {year}"),
        Axis::categories("Driver", drivers.iter().cloned()),
        Axis::categories("Study area", areas.iter().map(|s| s.area.clone())),
    )
    .with_series(Series::heat_map(values, (-1.0, 1.0), 2, "Pearson r"))
    .with_legend(Legend { position: LegendPosition::Hidden, title: None })
}

/// Horizontal bars of the mean rank per driver, most important at the top (paper Fig. 8).
pub fn ranking_chart(ranking: &[DriverRank], n_areas: usize) -> Chart {
    let ranked: Vec<&DriverRank> = ranking.iter().filter(|d| !d.mean_rank.is_nan()).collect();
    let bars: Vec<(f64, f64)> = ranked.iter().enumerate().map(|(i, d)| (i as f64, d.mean_rank)).collect();
    Chart::new(
        format!("Importance ranking of the drivers over {n_areas} area(s) (smaller = more important)"),
        Axis::linear("Mean rank by %IncMSE", None).with_zero().with_grid(),
        Axis::categories("Driver", ranked.iter().map(|d| d.name.clone())),
    )
    .with_series(Series::horizontal_bars("", bars).with_value_labels(2))
    .with_legend(Legend { position: LegendPosition::Hidden, title: None })
}

/// Horizontal bars of %IncMSE per driver of one area, largest at the top (paper Fig. 7g).
pub fn importance_chart(s: &AreaSummary) -> Chart {
    let mut rows: Vec<&ImportanceRow> = s.forest.importance.iter().filter(|r| r.inc_mse.is_some()).collect();
    rows.sort_by(|a, b| b.inc_mse.unwrap_or(f64::NAN).total_cmp(&a.inc_mse.unwrap_or(f64::NAN)));
    let bars: Vec<(f64, f64)> = rows.iter().enumerate().map(|(i, r)| (i as f64, r.inc_mse.unwrap_or(f64::NAN))).collect();
    Chart::new(
        format!("Driver importance, {} {} (% Var explained {:.1} %)", s.area, s.year, s.forest.var_explained_pct),
        Axis::linear("%IncMSE", None).with_zero().with_grid(),
        Axis::categories("Driver", rows.iter().map(|r| r.driver.clone())),
    )
    .with_series(Series::horizontal_bars("", bars).with_value_labels(1))
    .with_legend(Legend { position: LegendPosition::Hidden, title: None })
}

/// At most this many validation pixels are drawn (every k-th; the metrics use all).
const MAX_SCATTER_POINTS: usize = 5000;

/// Predicted vs observed RSEI on the validation pixels with the 1:1 line and R², RMSE, MAE
/// (paper Fig. 7c).
pub fn validation_chart(s: &AreaSummary, pairs: &[(f64, f64)]) -> Chart {
    let step = pairs.len().div_ceil(MAX_SCATTER_POINTS).max(1);
    let pts: Vec<(f64, f64)> = pairs.iter().step_by(step).copied().collect();
    let f = &s.forest;
    let shown = if step > 1 { format!("\n({} of {} pixels drawn)", pts.len(), pairs.len()) } else { String::new() };
    Chart::new(
        format!("Random forest validation, {} {} ({} pixels)", s.area, s.year, f.n_valid),
        Axis::linear("Observed RSEI", None).with_grid(),
        Axis::linear("Predicted RSEI", None).with_grid(),
    )
    .with_series(Series::scatter("validation pixels", pts).with_one_to_one())
    .with_annotation(Annotation::Note { text: format!("R² = {:.3}\nRMSE = {:.3}\nMAE = {:.3}{shown}", f.r2, f.rmse, f.mae), corner: Corner::TopLeft })
    .with_legend(Legend { position: LegendPosition::Hidden, title: None })
}

/// Maps of the predicted RSEI (continuous RSEI ramp) and of the residual (red–blue, symmetric
/// about 0 over the largest |residual| rounded up to 0.05) (paper Fig. 7d, 7f).
fn maps(r: &AreaResult) -> Result<Vec<(String, Vec<u8>)>> {
    use rsei_report::color::Ramp;
    use rsei_report::{render_map, MapPalette, MapStyle};
    let g = &r.grid;
    let s = &r.summary;
    let metres = g.crs().as_str().contains("+units=m");
    let m = r.residual.iter().filter(|v| !v.is_nan()).fold(0f32, |a, &b| a.max(b.abs()));
    let m = (f64::from(m) / 0.05).ceil().max(1.0) * 0.05;
    let mut out = Vec::new();
    for (file, values, title, palette, legend) in [
        ("map_predicted.png", &r.predicted, format!("RSEI predicted by the random forest, {} {}", s.area, s.year), MapPalette::rsei_continuous(), "RSEI"),
        ("map_residual.png", &r.residual, format!("Residual (observed − predicted), {} {}", s.area, s.year), MapPalette::Continuous { ramp: Ramp::red_blue(), min: -m, max: m }, "Residual"),
    ] {
        let style = MapStyle { title, palette, legend_title: legend.into(), cell_size_m: metres.then(|| g.cell_size().0), ..MapStyle::default() };
        let png = render_map(values, g.rows(), g.cols(), &style).with_context(|| format!("map {file}"))?;
        out.push((file.to_string(), png));
    }
    Ok(out)
}

fn chart_files(name: &str, chart: &Chart, w: f64, h: f64) -> Result<Vec<(String, Vec<u8>)>> {
    let svg = rsei_report::to_svg(chart, w, h).with_context(|| format!("figure {name}"))?;
    let png = rsei_report::to_png(chart, w, h, 2.0).with_context(|| format!("figure {name}"))?;
    Ok(vec![(format!("{name}.svg"), svg.into_bytes()), (format!("{name}.png"), png)])
}

fn table_files(name: &str, t: &Table) -> Result<Vec<(String, Vec<u8>)>> {
    t.validate().with_context(|| format!("table {name}"))?;
    Ok(vec![(format!("{name}.csv"), t.to_csv().into_bytes()), (format!("{name}.json"), t.to_json().into_bytes())])
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

fn raster_opts(desc: &str, unit: Option<&str>, year: i32) -> WriteOptions {
    let mut o = WriteOptions::continuous().with_format(RasterFormat::Cog).with_tag("SOFTWARE", SOFTWARE).with_tag("RSEI_DRIVER_YEAR", year.to_string());
    o.overviews = Overviews::Auto(OverviewResampling::Average);
    o.band.description = Some(desc.into());
    o.band.unit = unit.map(str::to_string);
    o
}

/// Writes `files` (name → bytes) into `dir`, then a manifest listing them with checksums; an old
/// manifest is removed first, so a folder without one is incomplete.
fn write_folder(dir: &Path, files: &[(String, Vec<u8>)], rasters: &[PathBuf], manifest: serde_json::Value) -> Result<()> {
    let manifest_path = dir.join("manifest.json");
    for (name, bytes) in files {
        let p = dir.join(name);
        rsei_core::fsutil::write_atomic(&p, bytes).with_context(|| format!("writing {}", p.display()))?;
    }
    let mut all: Vec<PathBuf> = rasters.to_vec();
    all.extend(files.iter().map(|(n, _)| dir.join(n)));
    let outputs: Vec<serde_json::Value> = all
        .iter()
        .map(|p| {
            let f = checksum(p)?;
            let rel = p.strip_prefix(dir).unwrap_or(p).display().to_string();
            Ok(serde_json::json!({"file": rel, "bytes": f.bytes, "sha256": f.sha256}))
        })
        .collect::<Result<_>>()?;
    let mut m = manifest;
    m["outputs"] = serde_json::Value::Array(outputs);
    rsei_core::fsutil::write_atomic(&manifest_path, &serde_json::to_vec_pretty(&m)?).with_context(|| format!("writing {}", manifest_path.display()))?;
    Ok(())
}

fn remove_manifest(dir: &Path) -> Result<()> {
    let m = dir.join("manifest.json");
    if m.exists() {
        std::fs::remove_file(&m).with_context(|| format!("removing the old {}", m.display()))?;
    }
    Ok(())
}

fn write_area(dir: &Path, r: &AreaResult, opts: &DriverRunOptions, inputs: &[InputFile]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    remove_manifest(dir)?;
    let s = &r.summary;
    let g = &r.grid;
    let year = s.year;
    // rasters
    let stack = dir.join("stack.tif");
    let bands: Vec<(&str, &[f32])> = r.layers.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
    let mut so = raster_opts("drivers", None, year).with_tag("RSEI_DRIVERS", r.layers.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(","));
    so.band.description = None;
    write_bands(&stack, g, &bands, &so).with_context(|| format!("writing {}", stack.display()))?;
    let mut rasters = vec![stack];
    for (file, values, desc) in [
        ("rsei.tif", &r.rsei, "RSEI on the driver grid"),
        ("predicted.tif", &r.predicted, "RSEI predicted by the random forest"),
        ("residual.tif", &r.residual, "RSEI residual, observed - predicted"),
    ] {
        let p = dir.join(file);
        let raster = Raster::new(g.clone(), values.clone())?;
        write_raster(&p, &raster, &raster_opts(desc, Some("1"), year)).with_context(|| format!("writing {}", p.display()))?;
        rasters.push(p);
    }
    // tables, figures, summary
    let mut files = Vec::new();
    files.extend(table_files("drivers", &drivers_table(s))?);
    files.extend(table_files("pearson", &pearson_table(&[s]))?);
    files.extend(table_files("importance", &importance_table(&[s]))?);
    files.extend(table_files("rf_metrics", &metrics_table(&[s]))?);
    if opts.charts {
        files.extend(chart_files("fig_importance", &importance_chart(s), 720.0, 440.0)?);
        files.extend(chart_files("fig_validation", &validation_chart(s, &r.validation), 560.0, 520.0)?);
        files.extend(maps(r)?);
    }
    files.push(("summary.json".into(), serde_json::to_vec_pretty(s)?));
    let manifest = serde_json::json!({
        "software": SOFTWARE,
        "analysis": "drivers of RSEI (METHOD §6–8)",
        "area": s.area,
        "year": year,
        "options": opts,
        "inputs": inputs,
    });
    write_folder(dir, &files, &rasters, manifest)
}

/// What every area of a run shares: the equal-area CRS, the mine polygons and the barrier lines
/// in it, and notes about reading them.
struct Shared {
    crs: Crs,
    mines: Option<Vec<MultiPolygon<f64>>>,
    barrier: Option<Vec<Vec<(f64, f64)>>>,
    notes: Vec<String>,
}

fn shared_inputs(inputs: &DriverInputs, opts: &DriverRunOptions) -> Result<Shared> {
    opts.validate()?;
    check_inputs(inputs)?;
    let crs = rsei_io::crs::normalize_crs(&Crs::new(&opts.crs)).map_err(|e| DriversError::InvalidOption { name: "crs".into(), reason: e.to_string() })?;
    let mut notes = Vec::new();
    let mines = match &inputs.mines {
        Some(src) => Some(read_mines(src, &crs, &mut notes)?),
        None => None,
    };
    let barrier = match &inputs.barrier {
        Some(p) => {
            let (lines, n) = rsei_io::stack::read_barrier_lines(p, inputs.barrier_layer.as_deref(), &crs).map_err(|error| DriversError::Stack { area: "(all)".into(), error })?;
            notes.extend(n.into_iter().map(|x| format!("barrier: {x}")));
            Some(lines)
        }
        None => None,
    };
    Ok(Shared { crs, mines, barrier, notes })
}

fn analyse_with(inputs: &DriverInputs, area: &StudyArea, sh: &Shared, opts: &DriverRunOptions, progress: &dyn Progress) -> Result<AreaResult> {
    let mut r = analyse_area(inputs, area, sh.mines.as_deref(), sh.barrier.as_deref(), &sh.crs, opts, progress)?;
    r.summary.notes.splice(0..0, sh.notes.iter().cloned());
    Ok(r)
}

/// A driver analysis: the inputs, the areas, the options and the output folder.
///
/// ```no_run
/// use rsei_pipeline::area::{load_areas, AreaSource};
/// use rsei_pipeline::drivers::{parse_driver, run_request, DriverInputs, DriverRunOptions, DriversRequest};
/// use rsei_pipeline::progress::Silent;
///
/// let inputs = DriverInputs {
///     rsei_dir: "out".into(),
///     year: 2019,
///     drivers: vec![parse_driver("GDP=gdp_2019.tif")?, parse_driver("Prec=prec_2019_*.tif:sum")?],
///     dem: Some("dem.tif".into()),
///     mines: None,
///     barrier: None,
///     barrier_layer: None,
/// };
/// let areas = load_areas(&AreaSource::file("city.geojson"))?;
/// let req = DriversRequest { inputs, areas, area_file: None, options: DriverRunOptions::default(), out_dir: "out".into() };
/// let s = run_request(&req, &Silent)?;
/// println!("{} area(s); top driver {:?}", s.areas.len(), s.ranking.first().map(|d| &d.name));
/// # Ok::<(), rsei_pipeline::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct DriversRequest {
    /// RSEI folder, year, driver rasters, DEM, mines, barrier.
    pub inputs: DriverInputs,
    /// The study areas analysed (each one model), ranked together.
    pub areas: Vec<StudyArea>,
    /// The file the areas came from (recorded in the manifests).
    pub area_file: Option<PathBuf>,
    /// Options (defaults: METHOD §6–8).
    pub options: DriverRunOptions,
    /// Output folder: `<out>/<area>/drivers` per area, `<out>/drivers` for all areas.
    pub out_dir: PathBuf,
}

/// Runs the driver analysis of a [`DriversRequest`] (as [`run`]).
pub fn run_request(req: &DriversRequest, progress: &dyn Progress) -> Result<DriverRunSummary> {
    run(&req.inputs, &req.areas, req.area_file.as_deref(), &req.options, &req.out_dir, progress)
}

/// Runs the driver analysis of every area and writes the outputs (see the module documentation).
/// `area_file` is recorded in the manifests with its checksum. Nothing is written unless every
/// area can be analysed.
pub fn run(
    inputs: &DriverInputs,
    areas: &[StudyArea],
    area_file: Option<&Path>,
    opts: &DriverRunOptions,
    out_dir: &Path,
    progress: &dyn Progress,
) -> Result<DriverRunSummary> {
    let sh = shared_inputs(inputs, opts)?;
    crate::ensure!(!areas.is_empty(), "no study area");
    let results: Vec<AreaResult> = areas.iter().map(|area| analyse_with(inputs, area, &sh, opts, progress)).collect::<Result<_>>()?;
    // inputs with checksums (each file once)
    let mut all_inputs: Vec<PathBuf> = Vec::new();
    for r in &results {
        for p in &r.inputs {
            if !all_inputs.contains(p) {
                all_inputs.push(p.clone());
            }
        }
    }
    all_inputs.extend(area_file.map(Path::to_path_buf));
    let checked: Vec<InputFile> = all_inputs.par_iter().map(|p| checksum(p)).collect::<Result<_>>()?;
    let summaries: Vec<AreaSummary> = results.iter().map(|r| r.summary.clone()).collect();
    // run-level files, built before anything is written
    let run_files = RunFiles::build(inputs, &summaries, opts)?;
    for r in &results {
        progress.message(&format!("{}: writing outputs", r.summary.area));
        let mine: Vec<InputFile> = checked.iter().filter(|f| r.inputs.contains(&f.path) || Some(f.path.as_path()) == area_file).cloned().collect();
        write_area(&out_dir.join(&r.summary.folder), r, opts, &mine)?;
    }
    run_files.write(inputs, summaries, opts, checked, out_dir)
}

/// The driver analysis of one area, written to its folder (`<area>/drivers/`): a study's
/// per-area unit. [`run_ranking`] then compares the areas.
pub fn run_area(
    inputs: &DriverInputs,
    area: &StudyArea,
    area_file: Option<&Path>,
    opts: &DriverRunOptions,
    out_dir: &Path,
    progress: &dyn Progress,
) -> Result<AreaSummary> {
    let sh = shared_inputs(inputs, opts)?;
    let r = analyse_with(inputs, area, &sh, opts, progress)?;
    let mut files = r.inputs.clone();
    files.extend(area_file.map(Path::to_path_buf));
    let checked: Vec<InputFile> = files.par_iter().map(|p| checksum(p)).collect::<Result<_>>()?;
    progress.message(&format!("{}: writing outputs", r.summary.area));
    write_area(&out_dir.join(&r.summary.folder), &r, opts, &checked)?;
    Ok(r.summary)
}

/// The run-level tables, charts and ranking (`drivers/` of the output folder) from the areas'
/// results written by [`run_area`] (`<area>/drivers/summary.json` and `manifest.json`).
pub fn run_ranking(inputs: &DriverInputs, areas: &[StudyArea], opts: &DriverRunOptions, out_dir: &Path) -> Result<DriverRunSummary> {
    opts.validate()?;
    crate::ensure!(!areas.is_empty(), "no study area");
    let mut summaries = Vec::new();
    let mut checked: Vec<InputFile> = Vec::new();
    for area in areas {
        let dir = out_dir.join(area.slug()).join("drivers");
        let read = |name: &str| -> Result<serde_json::Value> {
            let p = dir.join(name);
            let text = std::fs::read_to_string(&p).with_context(|| format!("reading {} (the driver analysis of {})", p.display(), area.name))?;
            serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", p.display()))
        };
        let summary: AreaSummary = serde_json::from_value(read("summary.json")?).with_context(|| format!("{}: not a driver summary", dir.join("summary.json").display()))?;
        let manifest = read("manifest.json")?;
        let listed: Vec<InputFile> = serde_json::from_value(manifest.get("inputs").cloned().unwrap_or_default()).with_context(|| format!("{}: no list of inputs", dir.join("manifest.json").display()))?;
        for f in listed {
            if !checked.contains(&f) {
                checked.push(f);
            }
        }
        summaries.push(summary);
    }
    RunFiles::build(inputs, &summaries, opts)?.write(inputs, summaries, opts, checked, out_dir)
}

/// The run-level outputs, built in memory.
struct RunFiles {
    names: Vec<String>,
    ranking: Vec<DriverRank>,
    files: Vec<(String, Vec<u8>)>,
}

impl RunFiles {
    fn build(inputs: &DriverInputs, summaries: &[AreaSummary], opts: &DriverRunOptions) -> Result<Self> {
        // cross-area ranking over every driver name, in order of first appearance
        let mut names: Vec<String> = Vec::new();
        for s in summaries {
            for d in &s.drivers {
                if !names.contains(&d.name) {
                    names.push(d.name.clone());
                }
            }
        }
        let per_area: Vec<Vec<f64>> = summaries
            .iter()
            .map(|s| names.iter().map(|n| s.forest.importance.iter().find(|i| &i.driver == n).and_then(|i| i.inc_mse).unwrap_or(f64::NAN)).collect())
            .collect();
        let ranking = mean_ranks(&names, &per_area).map_err(|e| DriversError::Core { area: "(all)".into(), what: "ranking".into(), error: e })?;
        let summaries: Vec<&AreaSummary> = summaries.iter().collect();
        let mut files = Vec::new();
        files.extend(table_files("driver_ranking", &ranking_table(&ranking, &summaries))?);
        let pm = pearson_matrix(&names, &summaries);
        pm.validate().context("table pearson_matrix")?;
        files.push(("pearson_matrix.csv".into(), pm.to_csv().into_bytes()));
        files.extend(table_files("pearson", &pearson_table(&summaries))?);
        files.extend(table_files("importance", &importance_table(&summaries))?);
        files.extend(table_files("rf_metrics", &metrics_table(&summaries))?);
        if opts.charts {
            let h = 160.0 + 34.0 * summaries.len() as f64;
            files.extend(chart_files("fig_correlation", &correlation_chart(&names, &summaries, inputs.year), 120.0 + 72.0 * names.len() as f64 + 160.0, h.max(260.0))?);
            files.extend(chart_files("fig_ranking", &ranking_chart(&ranking, summaries.len()), 720.0, 140.0 + 32.0 * names.len() as f64)?);
        }
        Ok(RunFiles { names, ranking, files })
    }

    fn write(self, inputs: &DriverInputs, summaries: Vec<AreaSummary>, opts: &DriverRunOptions, checked: Vec<InputFile>, out_dir: &Path) -> Result<DriverRunSummary> {
        let run_dir = out_dir.join(RUN_FOLDER);
        std::fs::create_dir_all(&run_dir).with_context(|| format!("creating {}", run_dir.display()))?;
        remove_manifest(&run_dir)?;
        let summary = DriverRunSummary { software: SOFTWARE.into(), year: inputs.year, areas: summaries, ranking: self.ranking, drivers: self.names, out_dir: out_dir.to_path_buf() };
        let manifest = serde_json::json!({
            "software": SOFTWARE,
            "analysis": "drivers of RSEI (METHOD §6–8)",
            "year": inputs.year,
            "areas": summary.areas.iter().map(|s| serde_json::json!({"area": s.area, "folder": s.folder})).collect::<Vec<_>>(),
            "request": inputs,
            "options": opts,
            "inputs": checked,
            "ranking": summary.ranking,
        });
        write_folder(&run_dir, &self.files, &[], manifest)?;
        Ok(summary)
    }
}

// ---------------------------------------------------------------------------------------------
// Driver specifications (`NAME=PATH[,PATH…][:RESAMPLING]`)
// ---------------------------------------------------------------------------------------------

fn parse_resampling(s: &str) -> Option<Resampling> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "bilinear" => Resampling::Bilinear,
        "nearest" | "near" => Resampling::Nearest,
        "average" | "mean" => Resampling::Average,
        "cubic" => Resampling::Cubic,
        "mode" => Resampling::Mode,
        "sum" => Resampling::Sum,
        _ => return None,
    })
}

/// Whether a file name matches a pattern with `*` (any run) and `?` (one character).
fn wildcard(pattern: &[char], name: &[char]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some('*'), _) => wildcard(&pattern[1..], name) || (!name.is_empty() && wildcard(pattern, &name[1..])),
        (Some('?'), Some(_)) => wildcard(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => wildcard(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// Files of a path whose file name may hold `*` or `?`, sorted by name.
fn expand(path: &str) -> Result<Vec<PathBuf>> {
    let p = PathBuf::from(path);
    let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if !name.contains(['*', '?']) {
        return Ok(vec![p]);
    }
    let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let pat: Vec<char> = name.chars().collect();
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| Error::input(&dir, format!("driver files {path}: cannot list {}: {e}", dir.display())))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file() && wildcard(&pat, &e.file_name().to_string_lossy().chars().collect::<Vec<_>>()))
        .map(|e| e.path())
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(Error::input(&p, format!("driver files {path}: no file matches")));
    }
    Ok(out)
}

/// Parses `NAME=PATH[,PATH…][:RESAMPLING]`.
pub fn parse_driver(spec: &str) -> Result<DriverSource> {
    let usage = |m: String| Error::option("--driver", m);
    let (name, rest) = spec.split_once('=').ok_or_else(|| usage(format!("--driver {spec:?}: use NAME=PATH[,PATH…][:RESAMPLING]")))?;
    let name = name.trim();
    rsei_io::stack::check_driver_name(name).map_err(|e| usage(format!("--driver {spec:?}: {e}")))?;
    let (paths, resampling) = match rest.rsplit_once(':') {
        Some((p, r)) if parse_resampling(r).is_some() => (p, parse_resampling(r).unwrap_or(Resampling::Bilinear)),
        _ => (rest, Resampling::Bilinear),
    };
    let mut files = Vec::new();
    for p in paths.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        files.extend(expand(p)?);
    }
    if files.is_empty() {
        return Err(usage(format!("--driver {spec:?}: no file given")));
    }
    Ok(DriverSource::new(name, files, resampling))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_forest_summary_with_nan_reads_back_from_json() {
        // serde_json writes NaN as null; the ranking unit reads the areas' summaries back
        let f = ForestSummary {
            ntree: 10,
            mtry: 3,
            nodesize: 5,
            seed: 1,
            train_fraction: 0.7,
            n_train: 7,
            n_valid: 3,
            oob_mse: 0.5,
            var_explained_pct: f64::NAN,
            r2: f64::NAN,
            rmse: 0.1,
            mae: 0.05,
            predicted_cells: 10,
            importance: vec![ImportanceRow { driver: "DEM".into(), inc_mse: None, mean_decrease: Some(0.1), sd: None, inc_node_purity: Some(2.0), rank: Some(1.0) }],
        };
        let text = serde_json::to_string(&f).unwrap();
        assert!(text.contains("\"r2\":null"), "{text}");
        let back: ForestSummary = serde_json::from_str(&text).unwrap();
        assert!(back.r2.is_nan() && back.var_explained_pct.is_nan());
        assert_eq!(ForestSummary { r2: 0.0, var_explained_pct: 0.0, ..back }, ForestSummary { r2: 0.0, var_explained_pct: 0.0, ..f });
    }

    #[test]
    fn options_follow_the_method_and_validate() {
        let o = DriverRunOptions::default();
        assert_eq!((o.resolution_m, o.window_km, o.ntree, o.mtry, o.nodesize, o.seed), (1000.0, 10.0, 1000, 3, 5, 1));
        assert_eq!(o.train_fraction, 0.7);
        assert_eq!(o.rsei_resampling, Resampling::Bilinear);
        assert!(o.crs.contains("+proj=aea +lat_0=30 +lon_0=95 +lat_1=15 +lat_2=65"));
        assert!(o.validate().is_ok());
        for bad in [
            DriverRunOptions { resolution_m: 0.0, ..o.clone() },
            DriverRunOptions { train_fraction: 1.0, ..o.clone() },
            DriverRunOptions { ntree: 0, ..o.clone() },
            DriverRunOptions { window_km: f64::NAN, ..o.clone() },
            DriverRunOptions { search_margin_km: -1.0, ..o.clone() },
        ] {
            assert!(bad.validate().is_err());
        }
        // TOML with some fields
        let t: DriverRunOptions = toml::from_str("ntree = 200\nseed = 9\nrsei_resampling = \"Nearest\"").unwrap();
        assert_eq!((t.ntree, t.seed, t.rsei_resampling, t.mtry), (200, 9, Resampling::Nearest, 3));
        assert!(toml::from_str::<DriverRunOptions>("trees = 3").is_err());
    }

    #[test]
    fn driver_specs() {
        let d = parse_driver("GDP=/data/gdp.tif").unwrap();
        assert_eq!((d.name.as_str(), d.paths.len(), d.resampling), ("GDP", 1, Resampling::Bilinear));
        let d = parse_driver("LC=/a/lc.tif:nearest").unwrap();
        assert_eq!(d.resampling, Resampling::Nearest);
        let d = parse_driver("Prec=/a/jan.tif,/a/feb.tif:average").unwrap();
        assert_eq!((d.paths.len(), d.resampling), (2, Resampling::Average));
        // a colon that is not a resampling stays in the path
        let d = parse_driver("X=/a/b:c.tif").unwrap();
        assert_eq!(d.paths[0], PathBuf::from("/a/b:c.tif"));
        assert!(parse_driver("noequals").is_err());
        assert!(parse_driver("2x=/a.tif").is_err());
        assert!(parse_driver("X=").is_err());
        // wildcards, sorted
        let dir = std::env::temp_dir().join(format!("rsei-driver-spec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for m in ["02", "01", "10"] {
            std::fs::write(dir.join(format!("prec_{m}.tif")), b"").unwrap();
        }
        std::fs::write(dir.join("other.tif"), b"").unwrap();
        let d = parse_driver(&format!("Prec={}/prec_*.tif:sum", dir.display())).unwrap();
        let names: Vec<String> = d.paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["prec_01.tif", "prec_02.tif", "prec_10.tif"]);
        assert!(parse_driver(&format!("Prec={}/none_*.tif", dir.display())).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(wildcard(&"a?c*".chars().collect::<Vec<_>>(), &"abcdef".chars().collect::<Vec<_>>()));
        assert!(!wildcard(&"a?c".chars().collect::<Vec<_>>(), &"ac".chars().collect::<Vec<_>>()));
    }

    #[test]
    fn input_names_are_checked() {
        let base = DriverInputs { rsei_dir: "r".into(), year: 2019, drivers: vec![], dem: None, mines: None, barrier: None, barrier_layer: None };
        assert!(check_inputs(&base).is_err()); // nothing at all
        let with = |name: &str| DriverInputs { drivers: vec![DriverSource::new(name, vec!["a.tif".into()], Resampling::Bilinear)], dem: Some("dem.tif".into()), ..base.clone() };
        assert!(check_inputs(&with("GDP")).is_ok());
        assert!(check_inputs(&with("slope")).is_err()); // computed from the DEM
        assert!(check_inputs(&with("RSEI")).is_err());
        let b = DriverInputs { barrier: Some("coast.shp".into()), ..with("GDP") };
        assert!(check_inputs(&b).is_err()); // a barrier without mines
    }
}
