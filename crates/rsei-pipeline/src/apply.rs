//! Pass 2 in memory: the RSEI model of a year (or of an area's years, pooled) from its
//! indicators, then the year's outputs. Used when the area's layers fit the memory budget;
//! larger areas take the same steps out of core (`onepass::tiled`), with the same bits.

use std::path::PathBuf;

use crate::error::{Context, Result};
use rsei_core::accum::{Accumulator, MinMax, Moments};
use rsei_core::model::{self, GradeTable, IndicatorHistograms, Normalisation, NormalisedStats, RseiModel, RseiStats};
use rsei_core::zonal::{self, PixelRule};
use rsei_core::{Crs, GeoTransform, Grid, Raster};

use crate::area::StudyArea;
use crate::compute::{RseiRequest, StudyGrid, YearIndicators, YearSummary};
use crate::options::RseiRunOptions;
use crate::outputs::{self, Provenance};
use crate::progress::Progress;

/// The output grid of an area (`[rsei.output] crs`) and the area's polygon in that CRS.
pub(crate) type OutputGrid = (Grid, geo_types::MultiPolygon<f64>);

/// Cells of `grid` inside `polygon` by the clip rule.
pub fn inside_mask(grid: &Grid, polygon: &geo_types::MultiPolygon<f64>, rule: PixelRule) -> Result<Vec<bool>> {
    let mut inside = vec![false; grid.len()];
    if let Some(cov) = zonal::coverage(grid, polygon, rule)? {
        for (r, c, w) in cov.iter() {
            if w > 0.0 {
                inside[grid.index(r, c)] = true;
            }
        }
    }
    Ok(inside)
}

/// The study grid of an area (native sinusoidal 500 m / 1 km lattice).
pub fn study_grid(area: &StudyArea, rule: PixelRule) -> Result<StudyGrid> {
    let b = rsei_core::zonal::PreparedPolygon::new(&area.polygon)?.bounds();
    let sg = StudyGrid::new(&b, |g| inside_mask(g, &area.polygon, rule))?;
    crate::ensure!(
        sg.inside_count() > 0,
        "study area {:?} ({}) is smaller than one 500 m cell: no cell has its centre inside (use the coverage clip rule)",
        area.name,
        area.source
    );
    Ok(sg)
}

/// A target grid in `crs` at `res` covering `polygon` (given in sinusoidal), origin on multiples of `res`.
fn output_grid_of(polygon: &geo_types::MultiPolygon<f64>, crs: &Crs, res: f64) -> Result<(Grid, geo_types::MultiPolygon<f64>)> {
    let crs = rsei_io::crs::normalize_crs(crs)?;
    let poly = rsei_io::vector::reproject(polygon, &Crs::modis_sinusoidal(), &crs)?;
    let b = rsei_core::zonal::PreparedPolygon::new(&poly)?.bounds();
    let x0 = (b.xmin / res).floor() * res;
    let y1 = (b.ymax / res).ceil() * res;
    let cols = ((b.xmax - x0) / res).ceil().max(1.0) as usize;
    let rows = ((y1 - b.ymin) / res).ceil().max(1.0) as usize;
    Ok((Grid::new(rows, cols, GeoTransform::new(x0, res, y1, -res), crs), poly))
}

/// Warps the year's layers onto the output grid (continuous layers with `resampling`, masks and
/// counts nearest) and recomputes the inside mask there.
pub(crate) fn warp_year(ind: YearIndicators, target: &Grid, poly: &geo_types::MultiPolygon<f64>, opts: &RseiRunOptions) -> Result<YearIndicators> {
    use rsei_io::warp::{warp_raster, Resampling};
    let g = ind.grid.clone();
    let cont = |v: &Vec<f32>| -> Result<Vec<f32>> {
        Ok(warp_raster(&Raster::new(g.clone(), v.clone())?, target, opts.output.resampling)?.into_data())
    };
    let near_f = |v: Vec<f32>| -> Result<Vec<f32>> { Ok(warp_raster(&Raster::new(g.clone(), v)?, target, Resampling::Nearest)?.into_data()) };
    let near_u16 = |v: &Vec<u16>| -> Result<Vec<u16>> {
        Ok(near_f(v.iter().map(|&c| f32::from(c)).collect())?.iter().map(|&c| if c.is_finite() { c as u16 } else { 0 }).collect())
    };
    let water = near_f(ind.water.iter().map(|&w| if w { 1.0 } else { 0.0 }).collect())?.iter().map(|&w| w == 1.0).collect();
    Ok(YearIndicators {
        year: ind.year,
        grid: target.clone(),
        ndvi: cont(&ind.ndvi)?,
        wet: cont(&ind.wet)?,
        ndbsi: cont(&ind.ndbsi)?,
        lst_celsius: cont(&ind.lst_celsius)?,
        mndwi: cont(&ind.mndwi)?,
        water,
        inside: inside_mask(target, poly, opts.clip_rule)?,
        count_mod09: near_u16(&ind.count_mod09)?,
        count_mod13: near_u16(&ind.count_mod13)?,
        count_mod11: near_u16(&ind.count_mod11)?,
        qa: ind.qa,
        files: ind.files,
        notes: ind.notes,
        sensor: ind.sensor,
    })
}

pub(crate) fn stats_of(ind: &YearIndicators, usable: &[bool]) -> Result<RseiStats> {
    let mut s = RseiStats::default();
    s.update_rows(ind.four(), Some(usable), ind.grid.cols())?;
    Ok(s)
}

/// Fits one model on the merged statistics of several years (pooled PCA).
pub(crate) fn fit_pooled(years: &[(YearIndicators, Vec<bool>)], opts: &RseiRunOptions) -> Result<RseiModel> {
    let mut stats = RseiStats::default();
    for (ind, usable) in years {
        stats.merge(&stats_of(ind, usable)?);
    }
    let pct = match opts.rsei.normalisation {
        Normalisation::MinMax => None,
        Normalisation::Percentile { lo, hi } => {
            let mut h = IndicatorHistograms::new(&stats, opts.rsei.histogram_bins)?;
            for (ind, usable) in years {
                h.update(ind.four(), Some(usable))?;
            }
            let mut ns = NormalisedStats::new(h.percentile_bounds(lo, hi)?);
            for (ind, usable) in years {
                ns.update_rows(ind.four(), Some(usable), ind.grid.cols())?;
            }
            Some(ns)
        }
        Normalisation::Fixed { .. } => match opts.rsei.normalisation.fixed_bounds()? {
            Some(b) => {
                let mut ns = NormalisedStats::new(b);
                for (ind, usable) in years {
                    ns.update_rows(ind.four(), Some(usable), ind.grid.cols())?;
                }
                Some(ns)
            }
            None => None,
        },
    };
    Ok(model::fit(&stats, pct.as_ref(), &opts.rsei)?)
}

pub(crate) fn mean_std(values: &[f32]) -> (Option<f64>, Option<f64>) {
    let mut m = Moments::default();
    m.update_slice(values);
    (m.mean(), m.std_sample())
}

/// The output grid of `area` when the options ask for one.
pub(crate) fn output_grid(area: &StudyArea, opts: &RseiRunOptions) -> Result<Option<OutputGrid>> {
    match &opts.output.crs {
        Some(c) => Ok(Some(output_grid_of(&area.polygon, &Crs::new(c), opts.output.resolution.unwrap_or(500.0))?)),
        None => Ok(None),
    }
}

/// The RSEI of one area's years from their indicators (in year order), and every output: one
/// model per year, or one pooled model over them all.
pub(crate) fn finish_years(req: &RseiRequest<'_>, area: &StudyArea, out_grid: Option<&OutputGrid>, years: Vec<YearIndicators>, progress: &dyn Progress) -> Result<Vec<YearSummary>> {
    let opts = req.options;
    let prepare = |ind: YearIndicators| -> Result<(YearIndicators, Vec<bool>)> {
        let ind = match out_grid {
            Some((g, poly)) => warp_year(ind, g, poly, opts)?,
            None => ind,
        };
        let usable = ind.usable();
        Ok((ind, usable))
    };
    let mut out = Vec::new();
    if opts.rsei.pooled {
        let years: Vec<(YearIndicators, Vec<bool>)> = years.into_iter().map(prepare).collect::<Result<_>>()?;
        let m = fit_pooled(&years, opts).with_context(|| format!("pooled PCA over {} years", years.len()))?;
        let mut range = MinMax::default();
        let mut r0s = Vec::new();
        for (ind, usable) in &years {
            let mut r0 = vec![f32::NAN; ind.grid.len()];
            range.merge(&m.rsei0_par(ind.four(), Some(usable), &mut r0)?);
            r0s.push(r0);
        }
        let (lo, hi) = range.range().ok_or_else(|| crate::Error::msg("RSEI0 has no finite value in any year".to_string()))?;
        for ((ind, usable), mut r0) in years.iter().zip(r0s) {
            let grades = model::rescale_and_grade(&mut r0, lo, hi)?;
            out.push(finish_year(req, area, ind, usable, &m, (lo, hi), r0, grades, progress)?);
        }
    } else {
        for ind in years {
            let year = ind.year;
            let (ind, usable) = prepare(ind)?;
            let fitted = model::compute_rsei(ind.four(), Some(&usable), ind.grid.rows(), ind.grid.cols(), &opts.rsei)
                .with_context(|| format!("RSEI model of {} {year}", area.name))?;
            out.push(finish_year(req, area, &ind, &usable, &fitted.model, fitted.rsei0_range, fitted.rsei, fitted.grades, progress)?);
        }
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn finish_year(
    req: &RseiRequest<'_>,
    area: &StudyArea,
    ind: &YearIndicators,
    usable: &[bool],
    m: &RseiModel,
    range: (f64, f64),
    rsei: Vec<f32>,
    grades: GradeTable,
    progress: &dyn Progress,
) -> Result<YearSummary> {
    let opts = req.options;
    let pixel_area_km2 = ind.grid.cell_area() / 1e6;
    let (mean, std) = mean_std(&rsei);
    let masked = |v: &[f32]| -> Vec<f32> { v.iter().zip(usable).map(|(&x, &u)| if u { x } else { f32::NAN }).collect() };
    let indicator_means = [
        mean_std(&masked(&ind.ndvi)).0,
        mean_std(&masked(&ind.wet)).0,
        mean_std(&masked(&ind.ndbsi)).0,
        mean_std(&masked(&ind.lst_celsius)).0,
    ];
    let mut warnings = m.warnings.clone();
    warnings.extend(ind.notes.iter().cloned());
    for w in &m.warnings {
        progress.println(&format!("warning: {} {}: {w}", area.name, ind.year));
    }
    let folder = req.out_dir.join(area.slug()).join(ind.year.to_string());
    let summary = YearSummary {
        area: area.name.clone(),
        year: ind.year,
        n_pixels: usable.iter().filter(|&&u| u).count() as u64,
        n_water: ind.water.iter().zip(&ind.inside).filter(|(&w, &i)| w && i).count() as u64,
        pixel_area_km2,
        rsei_mean: mean,
        rsei_std: std,
        model: m.clone(),
        rsei0_range: range,
        grades: grades.report(pixel_area_km2),
        indicator_means,
        qa: ind.qa.clone(),
        composite: opts.composite.describe(ind.year),
        warnings,
        folder: PathBuf::from(area.slug()).join(ind.year.to_string()),
        sensor: ind.sensor.clone(),
    };
    let prov = Provenance::new(req, area, ind)?;
    progress.message(&format!("{} {}: writing outputs", area.name, ind.year));
    outputs::write_year(&folder, ind, &rsei, &summary, &prov, opts)?;
    Ok(summary)
}
