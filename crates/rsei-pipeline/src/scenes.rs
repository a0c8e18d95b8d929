//! RSEI from Landsat Collection 2 Level-2 or Sentinel-2 L2A scenes: the same chain as the MODIS
//! run (season composite, indicators, water mask, PCA, grades, outputs), with each scene decoded
//! by the [`SensorProfile`] its own metadata selects.
//!
//! ```text
//!  study grid: the area in the CRS of `[rsei.output] crs` (default: the CRS of the first scene,
//!              a UTM zone), cells of `resolution` (default 30 m Landsat, 20 m Sentinel-2)
//!  for each strip of the grid:
//!     scenes of the window (date order) ─read DN (nearest onto the grid)─▶ profile: QA_PIXEL +
//!        QA_RADSAT | SCL, valid DN range ─▶ reflectance and LST composites (mean | median)
//!     NDVI, WET (profile's coefficients), NDBSI, MNDWI from the composite; LST from ST_B* or, for
//!        Sentinel-2, from MOD11A2 of the data folders ([`S2Heat`])
//!  water, PCA, RSEI, grades, outputs as `run`; `summary.json` records the sensor(s)
//! ```
//!
//! Rules: one composite holds scenes of one family (Landsat C2 L2 or Sentinel-2 L2A; mixing is
//! refused); Landsat 5, 7, 8 and 9 may share a composite, each scene with its own profile; a
//! change of profile between years is a warning ([`rsei_core::sensor::series_changes`]). Each
//! scene is one observation (two overlapping scenes of one day count twice where they overlap).
//! Landsat 7 SLC-off gaps are fill in the product and therefore invalid.

use std::path::PathBuf;

use rayon::prelude::*;
use rsei_core::composite::CompositeAccumulator;
use rsei_core::indicators::{self, IndicatorsOut};
use rsei_core::sensor::{landsat_rejection, scl_rejection, QaScheme, Role, SensorProfile, SensorQaReport, SensorQaRules};
use rsei_core::zonal::{PreparedPolygon, RowWeights};
use rsei_core::{Crs, GeoTransform, Grid, Window};
use rsei_io::products::{Layer, ProductKind};
use rsei_io::scenes::{QaLayer, Scene, SceneBand, SceneInventory};
use rsei_io::LayerReader;
use serde::{Deserialize, Serialize};

use crate::archive::Archive;
use crate::area::StudyArea;
pub use crate::compute::SensorRecord;
use crate::budget::MemoryBudget;
use crate::compute::{landcover_on_grid, RseiRequest, StudyGrid, YearIndicators, YearSummary};
use crate::error::{Context, Error, Result};
use crate::onepass::disk::YearFiles;
use crate::onepass::{tiled, AreaState, YearData, YEAR_BYTES_PER_CELL};
use crate::options::{RseiRunOptions, RunInputs};
use crate::outputs;
use crate::progress::Progress;

/// Where the heat indicator of Sentinel-2 (which has no thermal band) comes from: the user's
/// choice (`--s2-heat`), MOD11A2 by default. rsei offers no three-indicator RSEI: the PCA, the
/// orientation rule and every table are those of the four indicators of the method, and a
/// three-indicator index would not be comparable with them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum S2Heat {
    /// LST from the MOD11A2 granules of the data folders, composited over the same window and
    /// put on the study grid by nearest neighbour (the default: the four-indicator RSEI of the
    /// method, with 1 km heat).
    #[default]
    Mod11a2,
    /// LST from the Landsat Collection 2 `L2SP` scenes (`ST_B10` / `ST_B6`) of the data folders in
    /// the same composite window, composited with their own QA and put on the study grid by
    /// nearest neighbour (30 m heat; those scenes give heat only, never reflectance).
    Landsat,
}

impl S2Heat {
    /// `mod11a2` | `landsat`.
    pub fn parse(s: &str) -> Result<S2Heat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mod11a2" | "modis" => Ok(S2Heat::Mod11a2),
            "landsat" => Ok(S2Heat::Landsat),
            other => Err(Error::msg(format!("--s2-heat {other:?}: expected mod11a2 or landsat"))),
        }
    }
}

/// Options of a scene run besides [`RseiRunOptions`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SceneOptions {
    /// QA rules of the sensor products.
    pub qa: SensorQaRules,
    /// Heat for Sentinel-2.
    pub s2_heat: S2Heat,
}

/// What a scene run computes: RSEI of every area and year from Landsat / Sentinel-2 scenes
/// (run it with [`run`]).
///
/// ```no_run
/// use rsei_pipeline::area::{load_areas, AreaSource};
/// use rsei_pipeline::options::{RseiRunOptions, RunInputs};
/// use rsei_pipeline::progress::Silent;
/// use rsei_pipeline::scenes::{self, SceneOptions, SceneRequest};
///
/// let inputs = RunInputs { data: vec!["/data/landsat".into()], landcover: None };
/// let found = scenes::scan(&inputs.data)?; // the profile of each scene comes from its MTL
/// let areas = load_areas(&AreaSource::file("city.geojson"))?;
/// let req = SceneRequest {
///     scenes: &found,
///     modis: None,
///     inputs: &inputs,
///     areas: &areas,
///     years: &[2021],
///     options: &RseiRunOptions::default(),
///     scene_options: &SceneOptions::default(),
///     out_dir: "results".as_ref(),
///     memory: Default::default(),
/// };
/// let years = scenes::run(&req, &Silent)?;
/// # Ok::<(), rsei_pipeline::Error>(())
/// ```
pub struct SceneRequest<'a> {
    /// The scenes found in the data folders (profile per scene).
    pub scenes: &'a SceneInventory,
    /// MODIS granules of the same folders (for [`S2Heat::Mod11a2`]).
    pub modis: Option<&'a Archive>,
    /// The data folders and land cover (recorded in the outputs).
    pub inputs: &'a RunInputs,
    /// The study areas.
    pub areas: &'a [StudyArea],
    /// Target years.
    pub years: &'a [i32],
    /// Options of the RSEI chain (composite, water, model, output grid).
    pub options: &'a RseiRunOptions,
    /// Options of the scenes (QA rules, Sentinel-2 heat).
    pub scene_options: &'a SceneOptions,
    /// The output folder.
    pub out_dir: &'a std::path::Path,
    /// What the run may hold in memory: an area whose year does not fit half of it is modelled
    /// and written in strips through temporary files.
    pub memory: MemoryBudget,
}

/// An area on its scene grid: the grid in `crs` at `res` m, with its years held in memory, or,
/// when one year (every year, for a pooled PCA) does not fit half the memory budget, in
/// temporary files modelled and written in strips (`onepass::tiled`, the out-of-core pass 2 of
/// MODIS runs). The scene grid takes the place of the 500 m grid of [`AreaState::study`].
fn scene_area<'a>(req: &SceneRequest<'_>, area: &'a StudyArea, crs: &Crs, res: f64) -> Result<AreaState<'a>> {
    let opts = req.options;
    let crs = rsei_io::crs::normalize_crs(crs)?;
    let poly = rsei_io::vector::reproject(&area.polygon, &Crs::modis_sinusoidal(), &crs)?;
    let prep = PreparedPolygon::new(&poly)?;
    let b = prep.bounds();
    let x0 = (b.xmin / res).floor() * res;
    let y1 = (b.ymax / res).ceil() * res;
    let cols = ((b.xmax - x0) / res).ceil().max(1.0) as usize;
    let rows = ((y1 - b.ymin) / res).ceil().max(1.0) as usize;
    let grid = Grid::new(rows, cols, GeoTransform::new(x0, res, y1, -res), crs);
    let at_once = if opts.rsei.pooled { req.years.len().max(1) } else { 1 };
    let tiled = grid.len().saturating_mul(YEAR_BYTES_PER_CELL).saturating_mul(at_once) > req.memory.share(1, 2);
    let strip_cells = tiled::strip_cells(req.memory);
    let (inside, row_weights) = if tiled { (Vec::new(), Some(RowWeights::new(&grid, &prep, opts.clip_rule))) } else { (crate::run::inside_mask(&grid, &poly, opts.clip_rule)?, None) };
    let landcover = match &req.inputs.landcover {
        // one byte per cell, also for an area modelled in strips
        Some(p) => Some(landcover_on_grid(p, &grid)?),
        None => None,
    };
    let a = AreaState {
        area,
        study: StudyGrid { grid: grid.clone(), grid_1km: grid, inside },
        landcover,
        out_grid: None,
        dir: req.out_dir.join(area.slug()),
        tiled,
        rows: row_weights,
        strip_cells,
    };
    let step = scene_strip_rows(&a.study.grid);
    let any = a.study.grid.row_strips(step).map(|w| tiled::inside_rows(&a, w.row..w.row_end()).map(|i| i.iter().any(|&b| b))).find(|r| !matches!(r, Ok(false)));
    crate::ensure!(matches!(any, Some(Ok(true))), "study area {:?} has no {res} m cell with its centre inside", area.name);
    Ok(a)
}

/// Full-width rows of the scene grid composited at once.
fn scene_strip_rows(grid: &Grid) -> usize {
    (crate::compute::DEFAULT_STRIP_CELLS / (8 * grid.cols().max(1))).max(1)
}

/// Scenes whose date lies in the composite window of `year`, in (date, id) order.
pub fn scenes_of_year<'a>(scenes: &'a SceneInventory, opts: &RseiRunOptions, year: i32) -> Vec<&'a Scene> {
    select(scenes, opts, year)
}

fn select<'a>(scenes: &'a SceneInventory, opts: &RseiRunOptions, year: i32) -> Vec<&'a Scene> {
    scenes.scenes.iter().filter(|s| opts.composite.in_window(year, i32::from(s.date.year), s.date.doy)).collect()
}

/// Refuses a composite mixing Landsat and Sentinel-2 (or any two levels); returns the profile
/// whose wetness and defaults the composite uses.
fn check_levels(sel: &[&Scene], year: i32) -> Result<SensorProfile> {
    let first = sel[0];
    for s in sel {
        if !s.profile.same_level(&first.profile) || s.profile.wetness != first.profile.wetness {
            return Err(Error::msg(format!(
                "mixed product levels in the composite of {year}: {} ({}, {}) and {} ({}, {}); a composite holds one family (Landsat C2 L2 or Sentinel-2 L2A)",
                first.source.display(),
                first.profile.id,
                first.profile.level,
                s.source.display(),
                s.profile.id,
                s.profile.level
            )));
        }
    }
    Ok(first.profile.clone())
}

/// One scene over a strip: six reflectances, LST °C, the masks and the QA counts.
struct SceneObs {
    refl: [Vec<f32>; 6],
    lst: Vec<f32>,
    valid: Vec<bool>,
    valid_lst: Vec<bool>,
    report: SensorQaReport,
}

/// `inside`: the inside cells of the strip `w`.
fn read_scene(s: &Scene, grid: &Grid, w: Window, inside: &[bool], rules: &SensorQaRules) -> Result<SceneObs> {
    let n = w.len();
    let p = &s.profile;
    let read = |name: &str, init: u32| -> Result<Vec<u32>> {
        let mut v = vec![init; n];
        SceneBand::open(name)?.read_raw_into(grid, w, &mut v).with_context(|| format!("reading {name} of scene {}", s.id))?;
        Ok(v)
    };
    let band = |r: Role| -> Result<&String> {
        s.bands.get(&r).ok_or_else(|| Error::msg(format!("{}: scene {} has no {r:?} band", s.source.display(), s.id)))
    };
    let dn: Vec<Vec<u32>> = Role::REFLECTIVE.iter().map(|&r| read(band(r)?, 0)).collect::<Result<_>>()?;
    let thermal = match (p.thermal_kelvin.is_some(), s.bands.get(&Role::Thermal)) {
        (true, Some(name)) => Some(read(name, 0)?),
        _ => None,
    };
    let (qa1, qa2) = match p.qa {
        QaScheme::LandsatC2 { .. } => {
            let qp = read(s.qa.get(&QaLayer::QaPixel).ok_or_else(|| Error::msg(format!("{}: no QA_PIXEL", s.source.display())))?, 1)?;
            let rs = match s.qa.get(&QaLayer::QaRadsat) {
                Some(name) => read(name, 0)?,
                None => vec![0; n],
            };
            (qp, rs)
        }
        QaScheme::SentinelScl => (read(s.qa.get(&QaLayer::Scl).ok_or_else(|| Error::msg(format!("{}: no SCL", s.source.display())))?, 0)?, vec![0; n]),
    };
    let mut refl: [Vec<f32>; 6] = std::array::from_fn(|_| vec![f32::NAN; n]);
    let mut lst = vec![f32::NAN; n];
    let mut valid = vec![false; n];
    let mut valid_lst = vec![false; n];
    let mut report = SensorQaReport::default();
    for i in 0..n {
        let rej = match p.qa {
            QaScheme::LandsatC2 { .. } => landsat_rejection(qa1[i].min(65535) as u16, qa2[i].min(65535) as u16, &p.qa, rules),
            QaScheme::SentinelScl => scl_rejection(qa1[i].min(255) as u8, rules),
        };
        let mut in_range = true;
        for k in 0..6 {
            let v = p.reflectance_of(dn[k][i]);
            in_range &= v.is_finite();
            refl[k][i] = v;
        }
        if inside[i] {
            report.record(rej, !in_range);
        }
        valid[i] = rej.is_none() && in_range;
        if let Some(t) = &thermal {
            lst[i] = p.lst_celsius_of(t[i]);
            valid_lst[i] = rej.is_none() && lst[i].is_finite();
        }
    }
    Ok(SceneObs { refl, lst, valid, valid_lst, report })
}

/// MOD11A2 LST (°C) composite of the window of `year` over strip `w` of `grid` (any CRS).
fn mod11_strip(archive: &Archive, grid: &Grid, w: Window, year: i32, opts: &RseiRunOptions) -> Result<(Vec<f32>, Vec<u16>, Vec<PathBuf>)> {
    let sin = rsei_io::crs::transform_bounds(&grid.bounds(), grid.crs(), &Crs::modis_sinusoidal())?;
    let sel = archive.select(ProductKind::Mod11A2, opts.platforms, &opts.composite, year, &sin);
    crate::ensure!(
        !sel.dates.is_empty(),
        "Sentinel-2 has no thermal band and the data folders hold no MOD11A2 granule for {year} ({}) over the area: add MOD11A2 LST (the `--s2-heat mod11a2` choice) or choose `--s2-heat landsat`",
        opts.composite.describe(year)
    );
    let n = w.len();
    let mut acc = CompositeAccumulator::new(1, n, opts.composite.reducer);
    for (_, gs) in &sel.dates {
        let mut dn = vec![0u32; n];
        let mut qc = vec![0u32; n];
        for g in gs {
            LayerReader::open(g.layer(Layer::LstDay)?)?.read_into_raw_u32(grid, w, &mut dn)?;
            LayerReader::open(g.layer(Layer::QcDay)?)?.read_into_raw_u32(grid, w, &mut qc)?;
        }
        let dn16: Vec<u16> = dn.iter().map(|&d| d.min(65535) as u16).collect();
        let qc8: Vec<u8> = qc.iter().map(|&q| q.min(255) as u8).collect();
        let mut valid = vec![false; n];
        opts.qa.mod11.validity_mask(&qc8, &dn16, &mut valid, None)?;
        let v: Vec<f32> = dn16.iter().map(|&d| indicators::lst_celsius(indicators::lst_kelvin_from_dn(d))).collect();
        acc.add(&[&v], &valid)?;
    }
    let c = acc.finish(opts.composite.min_obs);
    Ok((c.layers.into_iter().next().unwrap_or_default(), c.count, sel.files()))
}

/// Where the strips of a year go: the year's layers in memory, or its temporary files.
enum YearSink {
    Memory(YearIndicators),
    Disk(YearFiles, YearIndicators),
}

impl YearSink {
    fn new(a: &AreaState<'_>, year: i32) -> Result<YearSink> {
        let grid = &a.study.grid;
        if a.tiled {
            let dir = YearFiles::dir_of(&a.dir, year);
            if dir.exists() {
                std::fs::remove_dir_all(&dir).with_context(|| format!("removing the stale temporary folder {}", dir.display()))?;
            }
            return Ok(YearSink::Disk(YearFiles::open(&dir, grid)?, YearIndicators::record_on(grid, year)));
        }
        let n = grid.len();
        let mut ind = YearIndicators::record_on(grid, year);
        (ind.ndvi, ind.wet, ind.ndbsi, ind.lst_celsius, ind.mndwi) = (vec![f32::NAN; n], vec![f32::NAN; n], vec![f32::NAN; n], vec![f32::NAN; n], vec![f32::NAN; n]);
        (ind.water, ind.count_mod09, ind.count_mod13, ind.count_mod11) = (vec![false; n], vec![0; n], vec![0; n], vec![0; n]);
        ind.inside = a.study.inside.clone();
        Ok(YearSink::Memory(ind))
    }

    fn put(&mut self, first_row: usize, s: &SceneStrip) -> Result<()> {
        match self {
            YearSink::Memory(ind) => {
                let start = first_row * ind.grid.cols();
                let r = start..start + s.ndvi.len();
                ind.ndvi[r.clone()].copy_from_slice(&s.ndvi);
                ind.wet[r.clone()].copy_from_slice(&s.wet);
                ind.ndbsi[r.clone()].copy_from_slice(&s.ndbsi);
                ind.lst_celsius[r.clone()].copy_from_slice(&s.lst);
                ind.mndwi[r.clone()].copy_from_slice(&s.mndwi);
                ind.water[r.clone()].copy_from_slice(&s.water);
                ind.count_mod09[r.clone()].copy_from_slice(&s.count_refl);
                ind.count_mod11[r].copy_from_slice(&s.count_lst);
                Ok(())
            }
            YearSink::Disk(files, _) => {
                let zeros = vec![0u16; s.ndvi.len()];
                files.write_rows(first_row, [&s.ndvi, &s.wet, &s.ndbsi, &s.lst, &s.mndwi], &s.water, [&s.count_refl, &zeros, &s.count_lst])
            }
        }
    }

    fn record(&mut self) -> &mut YearIndicators {
        match self {
            YearSink::Memory(ind) | YearSink::Disk(_, ind) => ind,
        }
    }

    fn into_data(self) -> YearData {
        match self {
            YearSink::Memory(ind) => YearData::Memory(ind),
            YearSink::Disk(f, rec) => YearData::Disk(f, rec),
        }
    }

    fn remove(&self) {
        if let YearSink::Disk(f, _) = self {
            f.remove();
        }
    }
}

/// The indicators of one strip of a year.
struct SceneStrip {
    ndvi: Vec<f32>,
    wet: Vec<f32>,
    ndbsi: Vec<f32>,
    lst: Vec<f32>,
    mndwi: Vec<f32>,
    water: Vec<bool>,
    count_refl: Vec<u16>,
    count_lst: Vec<u16>,
}

/// The indicators of one area and year from scenes, strip by strip into `sink`; the year's
/// record (files, notes, sensors) goes with them.
fn year_indicators(req: &SceneRequest<'_>, a: &AreaState<'_>, year: i32, sel: &[&Scene], sink: &mut YearSink, progress: &dyn Progress) -> Result<()> {
    let opts = req.options;
    let grid = &a.study.grid;
    // Sentinel-2 with Landsat heat: the Landsat scenes of the window give LST only
    let s2_with_landsat_heat = req.scene_options.s2_heat == S2Heat::Landsat && sel.iter().any(|s| s.profile.thermal_kelvin.is_none() && s.profile.id.starts_with("sentinel2"));
    let (sel, heat_sel): (Vec<&Scene>, Vec<&Scene>) = if s2_with_landsat_heat {
        let (a, b): (Vec<&Scene>, Vec<&Scene>) = sel.iter().partition(|s| s.profile.id.starts_with("sentinel2"));
        (a, b.into_iter().filter(|s| s.profile.thermal_kelvin.is_some() && s.bands.contains_key(&Role::Thermal)).collect())
    } else {
        (sel.to_vec(), Vec::new())
    };
    let sel = &sel[..];
    let profile = check_levels(sel, year)?;
    if s2_with_landsat_heat && heat_sel.is_empty() {
        return Err(Error::msg(format!(
            "Sentinel-2 has no thermal band and `--s2-heat landsat` was chosen, but the data folders hold no Landsat C2 L2SP scene for {year} ({})",
            opts.composite.describe(year)
        )));
    }
    let has_thermal = sel.iter().any(|s| s.profile.thermal_kelvin.is_some() && s.bands.contains_key(&Role::Thermal));
    let mut qa = SensorQaReport::default();
    let mut any_valid_inside = false;
    let mut files: Vec<PathBuf> = sel.iter().chain(&heat_sel).flat_map(|s| s.files.iter().cloned()).collect();
    let rows = scene_strip_rows(grid);
    let zeros = vec![0f32; rows * grid.cols()];
    for w in grid.row_strips(rows).collect::<Vec<_>>() {
        let m = w.len();
        let inside = tiled::inside_rows(a, w.row..w.row_end())?;
        let mut acc = CompositeAccumulator::new(6, m, opts.composite.reducer);
        let mut acc_t = CompositeAccumulator::new(1, m, opts.composite.reducer);
        for chunk in sel.chunks(4) {
            let obs: Vec<Result<SceneObs>> = chunk.par_iter().map(|s| read_scene(s, grid, w, &inside, &req.scene_options.qa)).collect();
            for o in obs {
                let o = o?;
                qa.merge(&o.report);
                let refs: Vec<&[f32]> = o.refl.iter().map(Vec::as_slice).collect();
                acc.add(&refs, &o.valid)?;
                if has_thermal {
                    acc_t.add(&[&o.lst], &o.valid_lst)?;
                }
                progress.inc(1);
            }
        }
        let c = acc.finish(opts.composite.min_obs);
        let nan = || vec![f32::NAN; m];
        let (mut ndvi, mut wet, mut ndbsi, mut mndwi) = (nan(), nan(), nan(), nan());
        // slots: red, NIR, blue, green, NIR2 (unused: zero), SWIR1, SWIR2
        let [blue, green, red, nir, sw1, sw2] = [0, 1, 2, 3, 4, 5].map(|k| c.layers[k].as_slice());
        indicators::compute_indicators(
            [red, nir, blue, green, &zeros[..m], sw1, sw2],
            &profile.wetness,
            IndicatorsOut { wet: &mut wet, ndbsi: &mut ndbsi, mndwi: &mut mndwi, ndvi: Some(&mut ndvi) },
        )?;
        let count_refl = c.count;
        any_valid_inside |= inside.iter().zip(&count_refl).any(|(&i, &c)| i && c > 0);
        let (lst, count_lst) = if !heat_sel.is_empty() {
            for chunk in heat_sel.chunks(4) {
                let obs: Vec<Result<SceneObs>> = chunk.par_iter().map(|s| read_scene(s, grid, w, &inside, &req.scene_options.qa)).collect();
                for o in obs {
                    let o = o?;
                    acc_t.add(&[&o.lst], &o.valid_lst)?;
                }
            }
            let t = acc_t.finish(opts.composite.min_obs);
            (t.layers.into_iter().next().unwrap_or_default(), t.count)
        } else if has_thermal {
            let t = acc_t.finish(opts.composite.min_obs);
            (t.layers.into_iter().next().unwrap_or_default(), t.count)
        } else {
            let archive = req.modis.filter(|a| !a.inventory.granules.is_empty()).ok_or_else(|| {
                Error::msg(format!(
                    "{} has no thermal band ({}): LST comes from MOD11A2 granules in the data folders (`--s2-heat mod11a2`, the default; or `--s2-heat landsat` for matched Landsat C2 L2SP scenes), and there are none",
                    profile.id, profile.level
                ))
            })?;
            let (t, cnt, f) = mod11_strip(archive, grid, w, year, opts)?;
            files.extend(f);
            (t, cnt)
        };
        let start = w.row * grid.cols();
        let lc = a.landcover.as_ref().map(|lc| &lc[start..start + m]);
        let water = indicators::water_mask(&mndwi, lc, &opts.water)?;
        sink.put(w.row, &SceneStrip { ndvi, wet, ndbsi, lst, mndwi, water, count_refl, count_lst })?;
    }
    files.sort();
    files.dedup();
    let mut notes = Vec::new();
    let slc: Vec<&str> = sel.iter().filter(|s| s.profile.slc_off).map(|s| s.id.as_str()).collect();
    if !slc.is_empty() {
        notes.push(format!("{} Landsat 7 SLC-off scene(s): the gap stripes are fill and count as invalid ({})", slc.len(), slc.join(", ")));
    }
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v.dedup();
        v
    };
    let record = SensorRecord {
        profiles: sorted(sel.iter().map(|s| s.profile.id.to_string()).collect()),
        platforms: sorted(sel.iter().map(|s| s.profile.platform.label().to_string()).collect()),
        levels: sorted(sel.iter().map(|s| s.profile.level.clone()).collect()),
        wetness: profile.wetness.source.to_string(),
        heat: if !heat_sel.is_empty() {
            format!("Landsat C2 L2SP surface temperature of {} matched scene(s) ({})", heat_sel.len(), heat_sel.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(", "))
        } else if has_thermal {
            "surface temperature band of the scenes (ST_B10 / ST_B6)".into()
        } else {
            "MOD11A2 LST (1 km, nearest onto the grid)".into()
        },
        scenes: sel.len(),
        qa,
        cell_size_m: grid.cell_size().0,
    };
    if !any_valid_inside {
        return Err(Error::msg(format!(
            "no valid observation inside the study area for {year} ({}): {} scene(s) read, every cell was cloudy, flagged or fill (QA: {:?})",
            opts.composite.describe(year),
            sel.len(),
            record.qa
        )));
    }
    let rec = sink.record();
    rec.files = files;
    rec.notes = notes;
    rec.sensor = Some(record);
    Ok(())
}

/// Computes and writes RSEI for every area and year of the request from scenes.
pub fn run(req: &SceneRequest<'_>, progress: &dyn Progress) -> Result<Vec<YearSummary>> {
    req.options.validate()?;
    crate::ensure!(!req.years.is_empty(), "no year to compute");
    crate::ensure!(!req.areas.is_empty(), "no study area");
    crate::ensure!(!req.scenes.scenes.is_empty(), "no usable Landsat or Sentinel-2 scene in the data folders{}", rejected_list(req.scenes));
    let mut all = Vec::new();
    for area in req.areas {
        let rows = run_area(req, area, progress).with_context(|| format!("study area {:?}", area.name))?;
        outputs::write_area_tables(&req.out_dir.join(area.slug()), &rows)?;
        all.extend(rows);
    }
    outputs::write_run_tables(req.out_dir, &all)?;
    Ok(all)
}

fn rejected_list(inv: &SceneInventory) -> String {
    if inv.rejected.is_empty() {
        return String::new();
    }
    let l: Vec<String> = inv.rejected.iter().map(|r| format!("\n  {}: {}", r.path.display(), r.reason)).collect();
    format!("; rejected:{}", l.concat())
}

/// One area, every year: the indicators of each year from its scenes, then its model and outputs
/// (as soon as the year is computed; after the last year for a pooled PCA), in memory or in
/// strips as [`scene_area`] decides.
pub fn run_area(req: &SceneRequest<'_>, area: &StudyArea, progress: &dyn Progress) -> Result<Vec<YearSummary>> {
    run_area_years(req, area, req.years, progress)
}

/// As [`run_area`] for some of the request's years only (`years`: one year, or every year of a
/// pooled PCA): a study computes each of its units so. The change of sensor from the year before
/// is still judged on the request's whole series.
pub fn run_area_years(req: &SceneRequest<'_>, area: &StudyArea, years: &[i32], progress: &dyn Progress) -> Result<Vec<YearSummary>> {
    let opts = req.options;
    crate::ensure!(!req.scenes.scenes.is_empty(), "no usable Landsat or Sentinel-2 scene in the data folders{}", rejected_list(req.scenes));
    // GDAL's block cache within the budget (as a MODIS pass)
    rsei_io::cap_block_cache((req.memory.get() / 8).max(64 << 20));
    // the grid follows the scenes that give reflectance (not Landsat scenes used for S2 heat only)
    let s2_heat_only = req.scene_options.s2_heat == S2Heat::Landsat;
    let first = req
        .scenes
        .scenes
        .iter()
        .find(|s| !s2_heat_only || s.profile.id.starts_with("sentinel2"))
        .unwrap_or(&req.scenes.scenes[0]);
    let crs = match &opts.output.crs {
        Some(c) => Crs::new(c),
        None => {
            let red = first.bands.get(&Role::Red).ok_or_else(|| Error::msg(format!("{}: no red band", first.source.display())))?;
            SceneBand::open(red)?.grid().crs().clone()
        }
    };
    let res = opts.output.resolution.unwrap_or(if first.profile.id.starts_with("sentinel2") { 20.0 } else { 30.0 });
    let a = scene_area(req, area, &crs, res)?;
    let no_archive = Archive::default();
    let rreq = RseiRequest { archive: req.modis.unwrap_or(&no_archive), inputs: req.inputs, areas: req.areas, years: req.years, options: opts, out_dir: req.out_dir };
    let mut out = Vec::new();
    let mut pending: Vec<YearSink> = Vec::new();
    let result = (|| -> Result<()> {
        for &year in years {
            let sel = select(req.scenes, opts, year);
            crate::ensure!(!sel.is_empty(), "no scene for {year} ({}) in the data folders{}", opts.composite.describe(year), rejected_list(req.scenes));
            progress.add_total(sel.len() as u64 * a.study.grid.row_strips(scene_strip_rows(&a.study.grid)).count() as u64);
            progress.message(&format!("{} {year}: composites of {} scene(s){}", area.name, sel.len(), if a.tiled { ", in strips" } else { "" }));
            pending.push(YearSink::new(&a, year)?);
            let sink = pending.last_mut().ok_or_else(|| Error::msg("internal: no year"))?;
            year_indicators(req, &a, year, &sel, sink, progress).with_context(|| format!("year {year}"))?;
            if let Some(c) = series_change(req, year) {
                progress.println(&format!("warning: {}: {c}", area.name));
                sink.record().notes.push(c);
            }
            if !opts.rsei.pooled {
                out.extend(finish(&rreq, &a, std::mem::take(&mut pending), progress)?);
            }
        }
        if opts.rsei.pooled {
            out.extend(finish(&rreq, &a, std::mem::take(&mut pending), progress)?);
        }
        Ok(())
    })();
    for p in &pending {
        p.remove();
    }
    result?;
    Ok(out)
}

/// The change of sensor profile from the year before `year` among the request's years (a
/// warning), from the scenes the two composites select.
fn series_change(req: &SceneRequest<'_>, year: i32) -> Option<String> {
    let k = req.years.iter().position(|&y| y == year)?;
    let prev = *req.years.get(k.checked_sub(1)?)?;
    let ids = |y: i32| {
        let mut v: Vec<&'static str> = select(req.scenes, req.options, y).iter().map(|s| s.profile.id).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let p = ids(prev);
    if p.is_empty() {
        return None;
    }
    rsei_core::sensor::series_changes(&[(prev, p), (year, ids(year))]).pop()
}

/// Model, RSEI and outputs of an area's years (one year, or every year of a pooled PCA): the
/// in-memory or the out-of-core pass 2 of MODIS runs; temporary files removed after.
fn finish(rreq: &RseiRequest<'_>, a: &AreaState<'_>, years: Vec<YearSink>, progress: &dyn Progress) -> Result<Vec<YearSummary>> {
    let data: Vec<YearData> = years.into_iter().map(YearSink::into_data).collect();
    let files: Vec<YearFiles> = data.iter().filter_map(|d| if let YearData::Disk(f, _) = d { Some(f.clone()) } else { None }).collect();
    let r = if a.tiled {
        tiled::finish_years(rreq, a, data, progress)
    } else {
        let inds = data.into_iter().map(|d| if let YearData::Memory(ind) = d { ind } else { unreachable!("in-memory area") }).collect();
        crate::apply::finish_years(rreq, a.area, None, inds, progress)
    };
    for f in files {
        f.remove();
    }
    r
}

/// Scans folders for scenes (see [`rsei_io::scenes::scan_scenes`]), merged and sorted by (date, id).
pub fn scan(folders: &[PathBuf]) -> Result<SceneInventory> {
    let mut inv = SceneInventory::default();
    for f in folders {
        let i = rsei_io::scenes::scan_scenes(f).with_context(|| format!("scanning {} for scenes", f.display()))?;
        inv.scenes.extend(i.scenes);
        inv.rejected.extend(i.rejected);
    }
    inv.scenes.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    inv.rejected.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(inv)
}

/// Whether a run on these folders is a scene run: no MOD09A1 granule in the archive, and Landsat
/// or Sentinel-2 metadata in a folder. The sensor is never a user's flag.
pub fn is_scene_run(archive: &Archive, folders: &[PathBuf]) -> bool {
    archive.inventory.granules_of(ProductKind::Mod09A1).next().is_none() && folders.iter().any(|d| rsei_io::scenes::looks_like_scenes(d))
}
