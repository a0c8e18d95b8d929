//! The commands of the analyses beyond the source study: `timeseries`, `trend`, `change`,
//! `geodetector`, `autocorrelation`. Each reads an output folder of `rsei compute` (or `rsei run`),
//! runs the library function for every selected area and prints the headline figures.

use std::path::{Path, PathBuf};

use clap::Args;
use rsei_pipeline::analyses::autocorrelation::{self, AutocorrelationOptions, AutocorrelationRequest, LisaWeights};
use rsei_pipeline::analyses::change::{self, ChangeOptions, ChangeRequest};
use rsei_pipeline::analyses::common::RseiSource;
use rsei_pipeline::analyses::geodetector::{self, GeodetectorOptions, GeodetectorRequest};
use rsei_pipeline::analyses::timeseries::{self, TimeSeriesOptions, TimeSeriesRequest};
use rsei_pipeline::analyses::trend::{self, SignificanceRule, TrendOptions, TrendRequest};
use rsei_pipeline::area::StudyArea;
use rsei_pipeline::parse::{choice, normalisation, options_file, years as parse_years};
use rsei_pipeline::progress::Progress;
use rsei_pipeline::{Error, Result};

use crate::args::{usage, AreaArgs};
use crate::progress::Reporter;

/// What every analysis command takes: the results folder, the areas, an output folder.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Output folder of `rsei compute` or `rsei run` (holds AREA/YEAR/rsei.tif …).
    #[arg(long = "rsei")]
    pub rsei: PathBuf,
    #[command(flatten)]
    pub areas: AreaArgs,
    /// Options file (TOML with the keys of the study-file section); flags override it.
    #[arg(long)]
    pub options: Option<PathBuf>,
    /// Output folder (default: RSEI/AREA/<analysis>; with several areas, one sub-folder per area).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl Common {
    fn out_of(&self, area: &StudyArea, several: bool) -> Option<PathBuf> {
        match (&self.out, several) {
            (Some(o), false) => Some(o.clone()),
            (Some(o), true) => Some(o.join(area.slug())),
            (None, _) => None,
        }
    }
}

fn source(s: &Option<String>) -> Result<Option<RseiSource>> {
    s.as_deref().map(|v| choice("source", v, &[("per-year", RseiSource::PerYear), ("per_year", RseiSource::PerYear), ("pooled", RseiSource::Pooled)])).transpose()
}

/// Runs `f` for every area; with several areas a failing one is reported and the others run.
fn for_areas(c: &Common, quiet: bool, what: &str, f: impl Fn(&StudyArea, Option<PathBuf>, &Reporter) -> Result<()>) -> Result<()> {
    let areas = c.areas.load()?;
    let several = areas.len() > 1;
    let progress = Reporter::new(quiet);
    let mut failed: Vec<(String, Error)> = Vec::new();
    for a in &areas {
        progress.message(&format!("{}: {what}", a.name));
        match f(a, c.out_of(a, several), &progress) {
            Ok(()) => {}
            Err(e) if several => {
                progress.println(&format!("error: {what} of {:?}: {}", a.name, e.chain_text()));
                failed.push((a.name.clone(), e));
            }
            Err(e) => {
                progress.finish();
                return Err(e.context(format!("{what} of {:?}", a.name)));
            }
        }
    }
    progress.finish();
    if failed.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = failed.iter().map(|(n, e)| format!("{n:?}: {}", e.chain_text())).collect();
    let msg = format!("{what} failed for {} of {} areas:\n  {}", failed.len(), areas.len(), list.join("\n  "));
    Err(if failed.iter().all(|(_, e)| e.is_usage()) { Error::input(&c.areas.area, msg) } else { Error::msg(msg) })
}

fn notes(progress: &Reporter, area: &str, notes: &[String]) {
    for n in notes {
        progress.println(&format!("note: {area}: {n}"));
    }
}

fn done(dir: &Path) {
    println!("results in {}", dir.display());
}

/// Arguments of `rsei timeseries`.
#[derive(Args, Debug, Clone)]
pub struct TimeSeriesArgs {
    #[command(flatten)]
    pub common: Common,
    /// Years: 2001-2022 or 2005,2010 (default: every year with indicators).
    #[arg(long)]
    pub years: Option<String>,
    /// Normalisation over all years: minmax (default), percentile:LO:HI or fixed:NDVI_LO:NDVI_HI:WET_LO:WET_HI:NDBSI_LO:NDBSI_HI:LST_LO:LST_HI.
    #[arg(long)]
    pub normalisation: Option<String>,
    /// Do not write the pooled RSEI and grade rasters.
    #[arg(long)]
    pub no_rasters: bool,
}

/// `rsei timeseries`.
pub fn run_timeseries(a: &TimeSeriesArgs, quiet: bool) -> Result<()> {
    let mut o: TimeSeriesOptions = options_file(a.common.options.as_deref())?;
    if let Some(n) = &a.normalisation {
        o.normalisation = normalisation(n)?;
    }
    if a.no_rasters {
        o.rasters = false;
    }
    o.validate().map_err(|e| usage(e.to_string()))?;
    let years = a.years.as_deref().map(parse_years).transpose()?;
    for_areas(&a.common, quiet, "pooled time series", |area, out, p| {
        let req = TimeSeriesRequest { rsei_dir: a.common.rsei.clone(), area: area.clone(), area_file: Some(a.common.areas.area.clone()), years: years.clone(), options: o.clone(), out_dir: out };
        let s = timeseries::run(&req, p)?;
        p.finish();
        notes(p, &s.area, &s.notes);
        let l = s.model.pc1;
        println!("{}: pooled PCA over {} ({} pixel-years): PC1 NDVI {:+.3} WET {:+.3} NDBSI {:+.3} LST {:+.3}, {:.1} %", s.area, rsei_pipeline::analyses::common::year_text(&s.years), s.model.n_pixels, l[0], l[1], l[2], l[3], 100.0 * s.model.pc1_contribution);
        println!("{:>6} {:>10} {:>12} {:>10} {:>10}  sign check", "year", "angle (°)", "max |diff|", "own PC1 %", "pooled RSEI");
        for r in &s.drift {
            println!("{:>6} {:>10.2} {:>12.4} {:>10.1} {:>10.4}  {}", r.year, r.angle_deg, r.max_abs_diff, r.own_pc1_pct, r.rsei_mean, if r.sign_ok { "ok".to_string() } else { r.sign_notes.join("; ") });
        }
        done(&s.out_dir);
        Ok(())
    })
}

/// After `rsei compute --pooled`: the drift of each year's own loadings from the pooled ones and
/// the sign check, per area (`OUT/<area>/timeseries/`, without rasters: the compute wrote the
/// pooled RSEI), printed as `rsei timeseries` prints them.
pub fn pooled_drift(out: &Path, areas: &[StudyArea], area_file: &Path, years: &[i32], rsei: &rsei_core::model::RseiOptions, progress: &Reporter) -> Result<()> {
    let o = TimeSeriesOptions { normalisation: rsei.normalisation, histogram_bins: rsei.histogram_bins, rasters: false };
    for a in areas {
        let req = TimeSeriesRequest { rsei_dir: out.to_path_buf(), area: a.clone(), area_file: Some(area_file.to_path_buf()), years: Some(years.to_vec()), options: o.clone(), out_dir: None };
        let s = timeseries::run(&req, progress)?;
        notes(progress, &s.area, &s.notes);
        let drift: Vec<String> = s.drift.iter().map(|r| format!("{} {:.2}°{}", r.year, r.angle_deg, if r.sign_ok { "" } else { " (sign check failed)" })).collect();
        println!("{}: angle of each year's own PC1 to the pooled one: {}; in {}", s.area, drift.join(", "), s.out_dir.display());
    }
    Ok(())
}

/// Arguments of `rsei trend`.
#[derive(Args, Debug, Clone)]
pub struct TrendArgs {
    #[command(flatten)]
    pub common: Common,
    /// Years (default: every year with RSEI); at least 4.
    #[arg(long)]
    pub years: Option<String>,
    /// RSEI: per-year (default) or pooled (from `rsei timeseries`: one scale for all years).
    #[arg(long)]
    pub source: Option<String>,
    /// Significance level of the Mann–Kendall test (default 0.05).
    #[arg(long)]
    pub alpha: Option<f64>,
    /// Hamed–Rao variance correction for autocorrelation.
    #[arg(long)]
    pub hamed_rao: bool,
    /// Lags of the Hamed–Rao correction (default: all).
    #[arg(long)]
    pub hamed_rao_lags: Option<usize>,
    /// Per-pixel significance: fdr (Benjamini–Hochberg, default) or raw.
    #[arg(long)]
    pub significance: Option<String>,
    /// False discovery rate of the Benjamini–Hochberg control (default 0.05).
    #[arg(long)]
    pub fdr_q: Option<f64>,
    /// Fewest valid years for a test (default 4).
    #[arg(long)]
    pub min_years: Option<usize>,
}

/// `rsei trend`.
pub fn run_trend(a: &TrendArgs, quiet: bool) -> Result<()> {
    let mut o: TrendOptions = options_file(a.common.options.as_deref())?;
    if let Some(s) = source(&a.source)? {
        o.source = s;
    }
    if let Some(v) = a.alpha {
        o.alpha = v;
    }
    if a.hamed_rao {
        o.hamed_rao = true;
    }
    if let Some(v) = a.hamed_rao_lags {
        o.hamed_rao_lags = Some(v);
    }
    if let Some(s) = &a.significance {
        o.significance = choice("significance", s, &[("fdr", SignificanceRule::Fdr), ("raw", SignificanceRule::Raw)])?;
    }
    if let Some(v) = a.fdr_q {
        o.fdr_q = v;
    }
    if let Some(v) = a.min_years {
        o.min_years = v;
    }
    o.validate().map_err(|e| usage(e.to_string()))?;
    let years = a.years.as_deref().map(parse_years).transpose()?;
    for_areas(&a.common, quiet, "trend", |area, out, p| {
        let req = TrendRequest { rsei_dir: a.common.rsei.clone(), area: area.clone(), area_file: Some(a.common.areas.area.clone()), years: years.clone(), options: o.clone(), out_dir: out };
        let s = trend::run(&req, p)?;
        p.finish();
        notes(p, &s.area, &s.notes);
        let x = &s.pixels;
        let km2 = |n: u64| n as f64 * s.pixel_area_km2;
        println!(
            "{} {} ({} RSEI): {} pixels tested; improvement {} ({:.1} km²), not significant {}, degradation {} ({:.1} km²); not tested {}",
            s.area,
            rsei_pipeline::analyses::common::year_text(&s.years),
            s.source.label(),
            x.tested,
            x.improvement,
            km2(x.improvement),
            x.not_significant,
            x.degradation,
            km2(x.degradation),
            x.not_tested()
        );
        match &s.series_trend.test {
            Some(t) => println!("  mean RSEI: Sen slope {:+.5}/yr, Mann–Kendall S = {}, Z = {:.3}, p = {:.4} ({})", t.slope, t.s, t.z, t.p, t.trend.as_str()),
            None => println!("  mean RSEI: not tested ({})", s.series_trend.reason.clone().unwrap_or_default()),
        }
        done(&s.out_dir);
        Ok(())
    })
}

/// Arguments of `rsei change`.
#[derive(Args, Debug, Clone)]
pub struct ChangeArgs {
    #[command(flatten)]
    pub common: Common,
    /// Earlier year (default: the first with results).
    #[arg(long)]
    pub from: Option<i32>,
    /// Later year (default: the last with results).
    #[arg(long)]
    pub to: Option<i32>,
    /// RSEI: per-year (default) or pooled.
    #[arg(long)]
    pub source: Option<String>,
    /// |ΔRSEI| at or below this counts as unchanged (default 0.05).
    #[arg(long)]
    pub tolerance: Option<f64>,
}

/// `rsei change`.
pub fn run_change(a: &ChangeArgs, quiet: bool) -> Result<()> {
    let mut o: ChangeOptions = options_file(a.common.options.as_deref())?;
    if let Some(s) = source(&a.source)? {
        o.source = s;
    }
    if a.from.is_some() {
        o.from = a.from;
    }
    if a.to.is_some() {
        o.to = a.to;
    }
    if let Some(v) = a.tolerance {
        o.tolerance = v;
    }
    o.validate().map_err(|e| usage(e.to_string()))?;
    for_areas(&a.common, quiet, "change", |area, out, p| {
        let req = ChangeRequest { rsei_dir: a.common.rsei.clone(), area: area.clone(), area_file: Some(a.common.areas.area.clone()), options: o.clone(), out_dir: out };
        let s = change::run(&req, p)?;
        p.finish();
        notes(p, &s.area, &s.notes);
        let m = &s.transfer;
        println!(
            "{} {} → {} ({} RSEI): {} cells graded in both years ({:.1} km²): improved {:.1} %, unchanged {:.1} %, degraded {:.1} %; mean ΔRSEI {:+.4}",
            s.area,
            s.from,
            s.to,
            s.source.label(),
            m.n,
            m.total_area_km2,
            100.0 * m.share_improved,
            100.0 * m.share_unchanged,
            100.0 * m.share_degraded,
            s.difference.mean
        );
        done(&s.out_dir);
        Ok(())
    })
}

/// Arguments of `rsei geodetector`.
#[derive(Args, Debug, Clone)]
pub struct GeodetectorArgs {
    #[command(flatten)]
    pub common: Common,
    /// Factors (driver names of AREA/drivers/stack.tif), comma separated (default: every driver).
    #[arg(long, value_delimiter = ',')]
    pub factors: Option<Vec<String>>,
    /// Factors whose values are classes (each value a stratum), comma separated.
    #[arg(long, value_delimiter = ',')]
    pub categorical: Option<Vec<String>>,
    /// Discretisation methods tried: equal, quantile, natural, geometric, sd (default the first four).
    #[arg(long, value_delimiter = ',')]
    pub methods: Option<Vec<String>>,
    /// Fewest classes tried (default 3).
    #[arg(long)]
    pub k_min: Option<usize>,
    /// Most classes tried (default 8).
    #[arg(long)]
    pub k_max: Option<usize>,
    /// Strata of one cell: keep (R geodetector, default) or drop (gdverse).
    #[arg(long)]
    pub singletons: Option<String>,
    /// Significance level (default 0.05).
    #[arg(long)]
    pub alpha: Option<f64>,
}

/// `rsei geodetector`.
pub fn run_geodetector(a: &GeodetectorArgs, quiet: bool) -> Result<()> {
    use rsei_core::geodetector::{Method, SingletonRule};
    let mut o: GeodetectorOptions = options_file(a.common.options.as_deref())?;
    if a.factors.is_some() {
        o.factors = a.factors.clone();
    }
    if let Some(c) = &a.categorical {
        o.categorical = c.clone();
    }
    if let Some(ms) = &a.methods {
        o.methods = ms.iter().map(|m| Method::parse(m).ok_or_else(|| usage(format!("--methods {m:?}: expected equal, quantile, natural, geometric or sd")))).collect::<Result<_>>()?;
    }
    if let Some(v) = a.k_min {
        o.k_min = v;
    }
    if let Some(v) = a.k_max {
        o.k_max = v;
    }
    if let Some(s) = &a.singletons {
        o.singletons = choice("singletons", s, &[("keep", SingletonRule::Keep), ("drop", SingletonRule::Drop)])?;
    }
    if let Some(v) = a.alpha {
        o.alpha = v;
    }
    o.validate().map_err(|e| usage(e.to_string()))?;
    for_areas(&a.common, quiet, "geographical detector", |area, out, p| {
        let req = GeodetectorRequest { rsei_dir: a.common.rsei.clone(), area: area.clone(), options: o.clone(), out_dir: out };
        let s = geodetector::run(&req, p)?;
        p.finish();
        notes(p, &s.area, &s.notes);
        println!("{} {}: {} complete cases of {} cells", s.area, s.year, s.n, s.cells);
        println!("{:<12} {:<10} {:>3} {:>8} {:>10}", "factor", "method", "k", "q", "p");
        let mut f: Vec<_> = s.report.factors.iter().collect();
        f.sort_by(|x, y| y.factor.q.total_cmp(&x.factor.q));
        for r in f {
            let (m, k) = r.discretization.as_ref().map_or(("categories", r.codes.len()), |d| (d.method.name(), d.n_classes()));
            println!("{:<12} {:<10} {:>3} {:>8.4} {:>10.3e}", r.name, m, k, r.factor.q, r.factor.p_value);
        }
        if let Some(best) = s.report.pairs.iter().max_by(|x, y| x.interaction.q12.total_cmp(&y.interaction.q12)) {
            println!("strongest interaction: {} ∩ {} q = {:.4} ({})", best.a, best.b, best.interaction.q12, geodetector::interaction_words(best.interaction.kind));
        }
        done(&s.out_dir);
        Ok(())
    })
}

/// Arguments of `rsei autocorrelation`.
#[derive(Args, Debug, Clone)]
pub struct AutocorrelationArgs {
    #[command(flatten)]
    pub common: Common,
    /// Years (default: every year with RSEI).
    #[arg(long)]
    pub years: Option<String>,
    /// RSEI: per-year (default) or pooled.
    #[arg(long)]
    pub source: Option<String>,
    /// CRS of the grid (default: Asia North Albers, as `rsei drivers`).
    #[arg(long)]
    pub crs: Option<String>,
    /// Cell size of the grid in CRS units (default 1000, as `rsei drivers`).
    #[arg(long)]
    pub resolution: Option<f64>,
    /// Distance of the distance-band weights, CRS units (default 2000).
    #[arg(long)]
    pub distance_band: Option<f64>,
    /// Weights of the LISA: queen (default) or distance-band.
    #[arg(long)]
    pub lisa_weights: Option<String>,
    /// Random permutations (default 999).
    #[arg(long)]
    pub permutations: Option<usize>,
    /// Seed of the permutations (default 12345).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Significance level of the LISA (default 0.05).
    #[arg(long)]
    pub alpha: Option<f64>,
    /// No false-discovery-rate control of the LISA p-values (each cell at alpha).
    #[arg(long)]
    pub no_fdr: bool,
}

/// `rsei autocorrelation`.
pub fn run_autocorrelation(a: &AutocorrelationArgs, quiet: bool) -> Result<()> {
    let mut o: AutocorrelationOptions = options_file(a.common.options.as_deref())?;
    if let Some(s) = source(&a.source)? {
        o.source = s;
    }
    if let Some(y) = &a.years {
        o.years = Some(parse_years(y)?);
    }
    if a.crs.is_some() {
        o.crs = a.crs.clone();
    }
    if a.resolution.is_some() {
        o.resolution_m = a.resolution;
    }
    if let Some(v) = a.distance_band {
        o.distance_band_m = v;
    }
    if let Some(w) = &a.lisa_weights {
        o.lisa_weights = choice("lisa-weights", w, &[("queen", LisaWeights::Queen), ("distance-band", LisaWeights::DistanceBand), ("distance_band", LisaWeights::DistanceBand)])?;
    }
    if let Some(v) = a.permutations {
        o.permutations = v;
    }
    if let Some(v) = a.seed {
        o.seed = v;
    }
    if let Some(v) = a.alpha {
        o.alpha = v;
    }
    if a.no_fdr {
        o.fdr = false;
    }
    o.validate().map_err(|e| usage(e.to_string()))?;
    for_areas(&a.common, quiet, "spatial autocorrelation", |area, out, p| {
        let req = AutocorrelationRequest { rsei_dir: a.common.rsei.clone(), area: area.clone(), area_file: Some(a.common.areas.area.clone()), options: o.clone(), out_dir: out };
        let s = autocorrelation::run(&req, p)?;
        p.finish();
        notes(p, &s.area, &s.notes);
        println!("{} on the {} m grid ({} cells, {} RSEI):", s.area, s.resolution_m, s.cells_inside, s.source.label());
        println!("{:>6} {:<14} {:>9} {:>9} {:>8}   LISA HH / LL / HL / LH", "year", "weights", "Moran I", "z", "p_sim");
        for m in &s.moran {
            let lw = match o.lisa_weights {
                LisaWeights::Queen => "queen",
                LisaWeights::DistanceBand => "distance_band",
            };
            let l = if m.weights == lw { s.lisa.iter().find(|l| l.year == m.year) } else { None };
            let lisa = l.map_or_else(String::new, |l| format!("{} / {} / {} / {}", l.counts[1], l.counts[3], l.counts[4], l.counts[2]));
            let p = m.result.p_sim.map_or_else(|| "–".to_string(), |p| format!("{p:.4}"));
            println!("{:>6} {:<14} {:>9.4} {:>9.2} {:>8}   {lisa}", m.year, m.weights, m.result.i, m.result.z_norm, p);
        }
        done(&s.out_dir);
        Ok(())
    })
}
