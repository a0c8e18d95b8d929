//! Pass 2 out of core: the RSEI of an area too large for the memory budget, from the indicators
//! pass 1 left in temporary files, strip by strip.
//!
//! ```text
//!  statistics  every strip: usable cells, per-row min/max + co-moments merged in row order
//!              (percentile: histograms, then normalised co-moments) → fit (per year or pooled)
//!  RSEI0       every strip: RSEI0 of the usable cells → temporary file; its min/max merged
//!  RSEI        every strip: rescaled, graded, written back; means and standard deviations in
//!              cell order (the same Welford sequence as over the whole raster)
//!  outputs     every raster written strip by strip (rsei_io::write_bands_streamed)
//! ```
//!
//! Every step is the in-memory step applied to rows in row order, and every statistic of the
//! in-memory path is merged per row in row order or is an exact count, so the outputs are the
//! same bits as those of the in-memory path (tested on an area small enough for both). Memory:
//! one strip of [`strip_cells`] cells per job (two rasters are written at a time), plus GDAL's
//! block cache.

use std::borrow::Cow;
use std::ops::Range;

use rsei_core::accum::{Accumulator, MinMax, Moments};
use rsei_core::model::{self, GradeTable, IndicatorHistograms, Normalisation, NormalisedStats, RseiModel, RseiStats};
use rsei_core::zonal::{PreparedPolygon, RowWeights};
use rsei_core::Bounds;

use super::disk::{DiskLayer, YearFiles};
use super::{AreaState, YearData};
use crate::area::StudyArea;
use crate::budget::MemoryBudget;
use crate::compute::{RseiRequest, StudyGrid, YearIndicators, YearSummary};
use crate::error::{Context, Error, Result};
use crate::outputs::{self, Provenance, YearRows};
use crate::progress::Progress;

/// Cells per strip of pass 2: a 256th of the budget, 1 Ki to 1 Mi cells (about 30 bytes per
/// cell are read per strip, two rasters are written at a time).
pub(crate) fn strip_cells(memory: MemoryBudget) -> usize {
    memory.share(1, 256).clamp(1 << 10, 1 << 20)
}
/// Grids of at most this many cells get their map drawn from every cell (as in memory).
pub(crate) const MAP_FULL_CELLS: usize = 1 << 22;

/// Cells of the 500 m study grid of an area with these bounds.
pub(crate) fn grid_cells(b: &Bounds) -> usize {
    StudyGrid::grids_only(b).grid.len()
}

/// The state of an area modelled out of core: its grids, and its inside cells computed per strip.
pub(crate) fn area_state<'a>(req: &RseiRequest<'_>, area: &'a StudyArea, memory: MemoryBudget) -> Result<AreaState<'a>> {
    let opts = req.options;
    let prep = PreparedPolygon::new(&area.polygon)?;
    let study = StudyGrid::grids_only(&prep.bounds());
    let cells = study.grid.len();
    if opts.output.crs.is_some() {
        return Err(Error::option(
            "--crs",
            format!(
                "study area {:?} ({} cells) is too large for the memory budget to be warped to an output CRS, which needs the whole area in memory: leave the output on the native grid, or raise --memory",
                area.name, cells
            ),
        ));
    }
    if let Some(p) = &req.inputs.landcover {
        return Err(Error::input(
            p,
            format!(
                "study area {:?} ({} cells) is too large for the memory budget to hold its land cover on the grid: leave out --landcover, or raise --memory",
                area.name, cells
            ),
        ));
    }
    let rows = RowWeights::new(&study.grid, &prep, opts.clip_rule);
    let strip = strip_cells(memory);
    let step = (strip / study.grid.cols().max(1)).max(1);
    let mut any = false;
    let mut r = 0;
    while r < study.grid.rows() && !any {
        let e = (r + step).min(study.grid.rows());
        any = rows.inside(r..e).iter().any(|&b| b);
        r = e;
    }
    crate::ensure!(
        any,
        "study area {:?} ({}) is smaller than one 500 m cell: no cell has its centre inside (use the coverage clip rule)",
        area.name,
        area.source
    );
    Ok(AreaState { area, study, landcover: None, out_grid: None, dir: req.out_dir.join(area.slug()), tiled: true, rows: Some(rows), strip_cells: strip })
}

/// The inside cells of rows `rows` of an area's 500 m grid.
pub(crate) fn inside_rows<'s>(a: &'s AreaState<'_>, rows: Range<usize>) -> Result<Cow<'s, [bool]>> {
    match &a.rows {
        Some(rw) => Ok(Cow::Owned(rw.inside(rows))),
        None => {
            let c = a.study.grid.cols();
            a.study.inside.get(rows.start * c..rows.end * c).map(Cow::Borrowed).ok_or_else(|| Error::msg("internal: rows outside the inside mask"))
        }
    }
}

/// One strip of a year: the four indicators, and which cells enter the RSEI.
struct Strip {
    four: [Vec<f32>; 4],
    usable: Vec<bool>,
}

impl Strip {
    fn refs(&self) -> [&[f32]; 4] {
        [&self.four[0], &self.four[1], &self.four[2], &self.four[3]]
    }
}

/// A year on disk, read in strips.
struct TiledYear<'s, 'a> {
    area: &'s AreaState<'a>,
    files: YearFiles,
    record: YearIndicators,
}

impl TiledYear<'_, '_> {
    fn strips(&self) -> Vec<Range<usize>> {
        let (rows, cols) = self.files.shape();
        let step = (self.area.strip_cells / cols.max(1)).max(1);
        (0..rows.div_ceil(step)).map(|k| k * step..((k + 1) * step).min(rows)).collect()
    }

    /// Usable: inside, not water, all four indicators finite (as `YearIndicators::usable`).
    fn strip(&self, rows: Range<usize>) -> Result<Strip> {
        let four = [
            self.files.read_f32(DiskLayer::Ndvi, rows.clone())?,
            self.files.read_f32(DiskLayer::Wet, rows.clone())?,
            self.files.read_f32(DiskLayer::Ndbsi, rows.clone())?,
            self.files.read_f32(DiskLayer::Lst, rows.clone())?,
        ];
        let water = self.files.read_water(rows.clone())?;
        let inside = inside_rows(self.area, rows)?;
        let usable = (0..water.len()).map(|i| inside[i] && !water[i] && four.iter().all(|v| v[i].is_finite())).collect();
        Ok(Strip { four, usable })
    }

    fn stats(&self) -> Result<RseiStats> {
        let cols = self.files.shape().1;
        let mut s = RseiStats::default();
        for rows in self.strips() {
            let st = self.strip(rows)?;
            s.update_rows(st.refs(), Some(&st.usable), cols)?;
        }
        Ok(s)
    }

    fn histograms(&self, h: &mut IndicatorHistograms) -> Result<()> {
        for rows in self.strips() {
            let st = self.strip(rows)?;
            h.update(st.refs(), Some(&st.usable))?;
        }
        Ok(())
    }

    fn normalised(&self, ns: &mut NormalisedStats) -> Result<()> {
        let cols = self.files.shape().1;
        for rows in self.strips() {
            let st = self.strip(rows)?;
            ns.update_rows(st.refs(), Some(&st.usable), cols)?;
        }
        Ok(())
    }

    /// RSEI0 of every strip into the RSEI file; its range.
    fn rsei0(&self, m: &RseiModel) -> Result<MinMax> {
        let mut range = MinMax::default();
        for rows in self.strips() {
            let st = self.strip(rows.clone())?;
            let mut r0 = vec![f32::NAN; st.usable.len()];
            range.merge(&m.rsei0_par(st.refs(), Some(&st.usable), &mut r0)?);
            self.files.write_rsei(rows.start, &r0)?;
        }
        Ok(range)
    }
}

impl YearRows for TiledYear<'_, '_> {
    fn rsei(&self, rows: Range<usize>) -> Result<Vec<f32>> {
        self.files.read_rsei(rows)
    }
    fn indicator(&self, k: usize, rows: Range<usize>) -> Result<Vec<f32>> {
        let layer = match k {
            1 => DiskLayer::Ndvi,
            2 => DiskLayer::Wet,
            3 => DiskLayer::Ndbsi,
            4 => DiskLayer::Lst,
            _ => DiskLayer::Mndwi,
        };
        self.files.read_f32(layer, rows)
    }
    fn water(&self, rows: Range<usize>) -> Result<Vec<bool>> {
        self.files.read_water(rows)
    }
    fn inside(&self, rows: Range<usize>) -> Result<Vec<bool>> {
        Ok(inside_rows(self.area, rows)?.into_owned())
    }
    fn count(&self, k: usize, rows: Range<usize>) -> Result<Vec<u16>> {
        self.files.read_u16([DiskLayer::Count09, DiskLayer::Count13, DiskLayer::Count11][k.min(2)], rows)
    }
}

/// The percentile or fixed-bounds passes over some years (`None` for min–max normalisation).
fn percentile(years: &[TiledYear<'_, '_>], stats: &RseiStats, opts: &crate::options::RseiRunOptions) -> Result<Option<NormalisedStats>> {
    match opts.rsei.normalisation {
        Normalisation::MinMax => Ok(None),
        Normalisation::Percentile { lo, hi } => {
            let mut h = IndicatorHistograms::new(stats, opts.rsei.histogram_bins)?;
            for y in years {
                y.histograms(&mut h)?;
            }
            let mut ns = NormalisedStats::new(h.percentile_bounds(lo, hi)?);
            for y in years {
                y.normalised(&mut ns)?;
            }
            Ok(Some(ns))
        }
        Normalisation::Fixed { .. } => match opts.rsei.normalisation.fixed_bounds()? {
            Some(b) => {
                let mut ns = NormalisedStats::new(b);
                for y in years {
                    y.normalised(&mut ns)?;
                }
                Ok(Some(ns))
            }
            None => Ok(None),
        },
    }
}

/// Pass 2 of an area's years (in year order) out of core: models, RSEI, outputs.
pub(crate) fn finish_years(req: &RseiRequest<'_>, a: &AreaState<'_>, years: Vec<YearData>, progress: &dyn Progress) -> Result<Vec<YearSummary>> {
    let opts = req.options;
    let years: Vec<TiledYear<'_, '_>> = years
        .into_iter()
        .map(|d| match d {
            YearData::Disk(files, record) => Ok(TiledYear { area: a, files, record }),
            YearData::Memory(_) => Err(Error::msg("internal: a year in memory for a tiled area")),
        })
        .collect::<Result<_>>()?;
    let mut out = Vec::new();
    if opts.rsei.pooled {
        // as `apply::fit_pooled`: each year's statistics, merged in year order
        let mut stats = RseiStats::default();
        for y in &years {
            stats.merge(&y.stats()?);
        }
        let pct = percentile(&years, &stats, opts).with_context(|| format!("pooled PCA over {} years", years.len()))?;
        let m = model::fit(&stats, pct.as_ref(), &opts.rsei).with_context(|| format!("pooled PCA over {} years", years.len()))?;
        let mut range = MinMax::default();
        for y in &years {
            range.merge(&y.rsei0(&m)?);
        }
        let (lo, hi) = range.range().ok_or_else(|| Error::msg("RSEI0 has no finite value in any year".to_string()))?;
        for y in &years {
            out.push(finish_year(req, y, &m, (lo, hi), progress)?);
        }
    } else {
        for y in &years {
            let year = y.record.year;
            let fitted = (|| -> Result<(RseiModel, (f64, f64))> {
                let stats = y.stats()?;
                let pct = percentile(std::slice::from_ref(y), &stats, opts)?;
                let m = model::fit(&stats, pct.as_ref(), &opts.rsei)?;
                let range = y.rsei0(&m)?;
                let r = range.range().ok_or_else(|| Error::msg("RSEI0 has no finite value"))?;
                Ok((m, r))
            })()
            .with_context(|| format!("RSEI model of {} {year}", a.area.name))?;
            out.push(finish_year(req, y, &fitted.0, fitted.1, progress)?);
        }
    }
    Ok(out)
}

/// Rescales and grades a year's RSEI in place, gathers its statistics in cell order and writes
/// its outputs (as `apply::finish_year`).
fn finish_year(req: &RseiRequest<'_>, y: &TiledYear<'_, '_>, m: &RseiModel, range: (f64, f64), progress: &dyn Progress) -> Result<YearSummary> {
    let opts = req.options;
    let a = y.area;
    let area = a.area;
    let ind = &y.record;
    let (lo, hi) = range;
    let mut grades = GradeTable::default();
    let mut rsei_m = Moments::default();
    let mut means: [Moments; 4] = Default::default();
    let (mut n_pixels, mut n_water) = (0u64, 0u64);
    for rows in y.strips() {
        let st = y.strip(rows.clone())?;
        let mut r = y.files.read_rsei(rows.clone())?;
        grades.merge(&model::rescale_and_grade(&mut r, lo, hi)?);
        rsei_m.update_slice(&r);
        for (k, mo) in means.iter_mut().enumerate() {
            let masked: Vec<f32> = st.four[k].iter().zip(&st.usable).map(|(&x, &u)| if u { x } else { f32::NAN }).collect();
            mo.update_slice(&masked);
        }
        n_pixels += st.usable.iter().filter(|&&u| u).count() as u64;
        let water = y.files.read_water(rows.clone())?;
        let inside = inside_rows(a, rows.clone())?;
        n_water += water.iter().zip(inside.iter()).filter(|(&w, &i)| w && i).count() as u64;
        y.files.write_rsei(rows.start, &r)?;
    }
    let pixel_area_km2 = ind.grid.cell_area() / 1e6;
    let mut warnings = m.warnings.clone();
    warnings.extend(ind.notes.iter().cloned());
    for w in &m.warnings {
        progress.println(&format!("warning: {} {}: {w}", area.name, ind.year));
    }
    let folder = req.out_dir.join(area.slug()).join(ind.year.to_string());
    let summary = YearSummary {
        area: area.name.clone(),
        year: ind.year,
        n_pixels,
        n_water,
        pixel_area_km2,
        rsei_mean: rsei_m.mean(),
        rsei_std: rsei_m.std_sample(),
        model: m.clone(),
        rsei0_range: range,
        grades: grades.report(pixel_area_km2),
        indicator_means: std::array::from_fn(|k| means[k].mean()),
        qa: ind.qa.clone(),
        composite: opts.composite.describe(ind.year),
        warnings,
        folder: std::path::PathBuf::from(area.slug()).join(ind.year.to_string()),
        sensor: ind.sensor.clone(),
    };
    let prov = Provenance::new(req, area, ind)?;
    progress.message(&format!("{} {}: writing outputs in strips", area.name, ind.year));
    let rows_per_strip = (a.strip_cells / ind.grid.cols().max(1)).max(1);
    outputs::write_year_streamed(&folder, &ind.grid, y, rows_per_strip, MAP_FULL_CELLS, &summary, &prov, opts)?;
    Ok(summary)
}
