//! Command-line front ends: argument structs, their validation into options, and the commands.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use rsei_core::composite::{IndexOrder, Reducer, Season};
use rsei_core::indicators::Resample;
use rsei_core::model::Normalisation;
use rsei_core::zonal::PixelRule;
use rsei_io::vector::FeatureFilter;

use crate::archive::Archive;
use crate::area::{load_areas, AreaSource};
use crate::options::{NdviSource, OutputCompression, Platforms, RseiRunOptions, RunInputs};
use crate::progress::{Progress, Reporter};
use crate::run::{self, RseiRequest, YearSummary};

/// An error in the arguments or inputs given (exit code 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}

/// An error about the arguments or inputs given (exit code 2).
pub fn usage_error(msg: impl Into<String>) -> anyhow::Error {
    usage(msg)
}

/// Whether an error is about the arguments or inputs given (exit code 2).
pub fn is_usage_error(e: &anyhow::Error) -> bool {
    e.downcast_ref::<UsageError>().is_some()
}

/// The options of an `--options` file (TOML; keys not given keep their defaults), or the defaults
/// without one. An unreadable or invalid file is a usage error naming the file.
pub fn options_file<T: serde::de::DeserializeOwned + Default>(path: Option<&Path>) -> Result<T> {
    let Some(p) = path else { return Ok(T::default()) };
    let text = std::fs::read_to_string(p).map_err(|e| usage_error(format!("reading options file {}: {e}", p.display())))?;
    toml::from_str::<T>(&text).map_err(|e| usage_error(format!("{}: {e}", p.display())))
}

/// The study-area arguments shared by `rsei compute`, `rsei mining` and `rsei drivers` (the same
/// file and selection select the same areas, so the later commands find the earlier outputs).
#[derive(Args, Debug, Clone)]
pub struct AreaArgs {
    /// Study-area polygons (GeoJSON, GeoPackage, Shapefile …; any CRS). One area per feature.
    #[arg(long)]
    pub area: PathBuf,
    /// Layer of the area file (default: the first).
    #[arg(long)]
    pub layer: Option<String>,
    /// Keep only features matching an OGR SQL condition, e.g. "adcode = 130200".
    #[arg(long = "where")]
    pub where_: Option<String>,
    /// Attribute naming each area (default: name_en / name when present, else the feature id).
    #[arg(long)]
    pub name_field: Option<String>,
    /// Merge the selected features into one area with this name.
    #[arg(long)]
    pub dissolve: Option<String>,
}

impl AreaArgs {
    /// Where the study areas come from.
    pub fn area_source(&self) -> AreaSource {
        AreaSource {
            path: self.area.clone(),
            layer: self.layer.clone(),
            filter: self.where_.clone().map(FeatureFilter::Where),
            name_field: self.name_field.clone(),
            dissolve_as: self.dissolve.clone(),
            assume_crs: None,
        }
    }

    /// The selected areas; an unreadable file or an empty selection is a usage error naming the file.
    pub fn load(&self) -> Result<Vec<crate::area::StudyArea>> {
        let areas = load_areas(&self.area_source()).map_err(|e| usage_error(format!("study area: {e:#}")))?;
        if areas.is_empty() {
            return Err(usage_error(format!("{}: no study area", self.area.display())));
        }
        Ok(areas)
    }
}

/// Arguments of `rsei compute`.
#[derive(Args, Debug, Clone)]
pub struct ComputeArgs {
    /// Folder(s) of MODIS granules (HDF4-EOS or per-layer GeoTIFF/COG), scanned recursively.
    #[arg(long = "data", required = true, num_args = 1..)]
    pub data: Vec<PathBuf>,
    #[command(flatten)]
    pub areas: AreaArgs,
    /// Target years: 2019, 2001-2022 or 2005,2010,2015.
    #[arg(long)]
    pub years: String,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Options file (TOML, the `[rsei]` table of a study file); flags below override it.
    #[arg(long)]
    pub options: Option<PathBuf>,
    /// Growing season MM-DD:MM-DD (default 06-01:09-30).
    #[arg(long)]
    pub season: Option<String>,
    /// Seasons before:after the target year in the composite (default 1:1).
    #[arg(long)]
    pub window: Option<String>,
    /// Composite reducer: mean (default) or median.
    #[arg(long)]
    pub reducer: Option<String>,
    /// Minimum valid observations per pixel (default 1).
    #[arg(long)]
    pub min_obs: Option<u32>,
    /// composite-then-index (default) or index-then-composite.
    #[arg(long)]
    pub order: Option<String>,
    /// NDVI source: mod13a1 (default) or mod09a1.
    #[arg(long)]
    pub ndvi: Option<String>,
    /// Platforms: terra (default), aqua or both.
    #[arg(long)]
    pub platforms: Option<String>,
    /// LST 1 km → 500 m: nearest (default) or bilinear.
    #[arg(long)]
    pub lst_resample: Option<String>,
    /// Water where MNDWI > this (default 0).
    #[arg(long)]
    pub mndwi_threshold: Option<f32>,
    /// Land-cover raster whose water classes join the water mask (any CRS and resolution).
    #[arg(long)]
    pub landcover: Option<PathBuf>,
    /// Land-cover classes that are water (default 0,11: IGBP water and wetlands as in MCD12C1).
    #[arg(long, value_delimiter = ',')]
    pub water_classes: Option<Vec<u8>>,
    /// Normalisation: minmax (default) or percentile:LO:HI, e.g. percentile:1:99.
    #[arg(long)]
    pub normalisation: Option<String>,
    /// One PCA over all years (comparable RSEI across years) instead of one per year.
    #[arg(long)]
    pub pooled: bool,
    /// Which cells are in the area: centre (default) or coverage (any part of the cell).
    #[arg(long)]
    pub clip: Option<String>,
    /// Output CRS (EPSG:n, PROJ string or WKT); default: native MODIS sinusoidal.
    #[arg(long)]
    pub crs: Option<String>,
    /// Output cell size in CRS units (with --crs; default 500).
    #[arg(long)]
    pub resolution: Option<f64>,
    /// Raster compression: deflate (default), lzw or zstd.
    #[arg(long)]
    pub compression: Option<String>,
    /// Do not build overviews.
    #[arg(long)]
    pub no_overviews: bool,
    /// Do not write PNG maps.
    #[arg(long)]
    pub no_map: bool,
}

fn parse_md(s: &str) -> Result<(u8, u8)> {
    let (m, d) = s.trim().split_once('-').ok_or_else(|| usage(format!("season date {s:?} is not MM-DD")))?;
    let m: u8 = m.parse().map_err(|_| usage(format!("season date {s:?} is not MM-DD")))?;
    let d: u8 = d.parse().map_err(|_| usage(format!("season date {s:?} is not MM-DD")))?;
    Ok((m, d))
}

/// Parses `2019`, `2001-2022` or `2005,2010,2015` (combinations allowed: `2001-2003,2010`).
pub fn parse_years(s: &str) -> Result<Vec<i32>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || usage(format!("years {s:?}: cannot read {part:?} (use 2019, 2001-2022 or 2005,2010)"));
        if let Some((a, b)) = part.split_once('-') {
            let a: i32 = a.trim().parse().map_err(|_| bad())?;
            let b: i32 = b.trim().parse().map_err(|_| bad())?;
            if b < a {
                return Err(bad());
            }
            out.extend(a..=b);
        } else {
            out.push(part.parse().map_err(|_| bad())?);
        }
    }
    out.sort_unstable();
    out.dedup();
    if out.is_empty() {
        return Err(usage(format!("years {s:?}: no year given")));
    }
    if let Some(y) = out.iter().find(|&&y| !(1999..=2100).contains(&y)) {
        return Err(usage(format!("year {y} is outside the MODIS era (2000 onwards)")));
    }
    Ok(out)
}

fn parse_normalisation(s: &str) -> Result<Normalisation> {
    let l = s.trim().to_ascii_lowercase();
    if l == "minmax" || l == "min-max" {
        return Ok(Normalisation::MinMax);
    }
    let parts: Vec<&str> = l.split(':').collect();
    if parts.len() == 3 && parts[0] == "percentile" {
        let lo: f64 = parts[1].parse().map_err(|_| usage(format!("normalisation {s:?}: bad lower percentile")))?;
        let hi: f64 = parts[2].parse().map_err(|_| usage(format!("normalisation {s:?}: bad upper percentile")))?;
        return Ok(Normalisation::Percentile { lo, hi });
    }
    Err(usage(format!("normalisation {s:?}: use minmax or percentile:LO:HI (e.g. percentile:1:99)")))
}

fn pick<T: Copy>(name: &str, v: &str, choices: &[(&str, T)]) -> Result<T> {
    let l = v.trim().to_ascii_lowercase();
    choices.iter().find(|(k, _)| *k == l).map(|(_, t)| *t).ok_or_else(|| {
        usage(format!("--{name} {v:?}: expected one of {}", choices.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")))
    })
}

impl ComputeArgs {
    /// The options: defaults (METHOD.md), then the options file, then the flags.
    pub fn options(&self) -> Result<RseiRunOptions> {
        let mut o: RseiRunOptions = options_file(self.options.as_deref())?;
        if let Some(s) = &self.season {
            let (a, b) = s.split_once(':').ok_or_else(|| usage(format!("--season {s:?}: use MM-DD:MM-DD")))?;
            o.composite.season = Season { start: parse_md(a)?, end: parse_md(b)? };
        }
        if let Some(w) = &self.window {
            let (a, b) = w.split_once(':').ok_or_else(|| usage(format!("--window {w:?}: use BEFORE:AFTER, e.g. 1:1")))?;
            o.composite.years_before = a.trim().parse().map_err(|_| usage(format!("--window {w:?}: not a number")))?;
            o.composite.years_after = b.trim().parse().map_err(|_| usage(format!("--window {w:?}: not a number")))?;
        }
        if let Some(r) = &self.reducer {
            o.composite.reducer = pick("reducer", r, &[("mean", Reducer::Mean), ("median", Reducer::Median)])?;
        }
        if let Some(m) = self.min_obs {
            o.composite.min_obs = m;
        }
        if let Some(r) = &self.order {
            o.composite.order = pick(
                "order",
                r,
                &[("composite-then-index", IndexOrder::CompositeThenIndex), ("index-then-composite", IndexOrder::IndexThenComposite)],
            )?;
        }
        if let Some(n) = &self.ndvi {
            o.ndvi_source = pick("ndvi", n, &[("mod13a1", NdviSource::Mod13a1), ("mod09a1", NdviSource::Mod09a1)])?;
        }
        if let Some(p) = &self.platforms {
            o.platforms = pick("platforms", p, &[("terra", Platforms::Terra), ("aqua", Platforms::Aqua), ("both", Platforms::Both)])?;
        }
        if let Some(r) = &self.lst_resample {
            o.lst_resample = pick("lst-resample", r, &[("nearest", Resample::Nearest), ("bilinear", Resample::Bilinear)])?;
        }
        if let Some(t) = self.mndwi_threshold {
            o.water.mndwi_threshold = t;
        }
        if let Some(c) = &self.water_classes {
            o.water.landcover_water_classes = c.clone();
        }
        if let Some(n) = &self.normalisation {
            o.rsei.normalisation = parse_normalisation(n)?;
        }
        if self.pooled {
            o.rsei.pooled = true;
        }
        if let Some(c) = &self.clip {
            o.clip_rule = pick("clip", c, &[("centre", PixelRule::Centre), ("center", PixelRule::Centre), ("coverage", PixelRule::Coverage)])?;
        }
        if let Some(c) = &self.crs {
            o.output.crs = Some(c.clone());
        }
        if let Some(r) = self.resolution {
            o.output.resolution = Some(r);
        }
        if let Some(c) = &self.compression {
            o.output.compression =
                pick("compression", c, &[("deflate", OutputCompression::Deflate), ("lzw", OutputCompression::Lzw), ("zstd", OutputCompression::Zstd)])?;
        }
        if self.no_overviews {
            o.output.overviews = false;
        }
        if self.no_map {
            o.output.map_png = false;
        }
        o.validate().map_err(|e| usage(e.to_string()))?;
        Ok(o)
    }
}

/// `rsei scan DIR`.
pub fn scan(dir: &Path, json: bool) -> Result<()> {
    let inv = rsei_io::scan::scan_dir(dir, &rsei_io::scan::ScanOptions::default()).with_context(|| format!("scanning {}", dir.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&inv)?);
        return Ok(());
    }
    let rows = inv.summary();
    println!("{} granules in {} ({} files could not be used)", inv.granules.len(), dir.display(), inv.rejected.len());
    if !rows.is_empty() {
        println!("{:<9} {:<7} {:<9} {:<9} {:>6}  layers", "product", "tile", "first", "last", "dates");
        for r in &rows {
            let layers: Vec<&str> = r.layers.iter().map(|l| l.id()).collect();
            println!("{:<9} {:<7} {:<9} {:<9} {:>6}  {}", r.product, r.tile.to_string(), r.first.to_string(), r.last.to_string(), r.n_dates, layers.join(" "));
        }
    }
    if !inv.rejected.is_empty() {
        println!("\nnot used:");
        for r in &inv.rejected {
            println!("  {}: {}", r.path.display(), r.reason);
        }
    }
    Ok(())
}

fn print_results(rows: &[YearSummary], out: &Path) {
    println!("{:<24} {:>5} {:>9} {:>8} {:>7} {:>7}  PC1 (NDVI, WET, NDBSI, LST)", "area", "year", "pixels", "RSEI", "std", "PC1 %");
    for r in rows {
        let p = r.model.pc1;
        println!(
            "{:<24} {:>5} {:>9} {:>8.4} {:>7.4} {:>7.1}  ({:+.3}, {:+.3}, {:+.3}, {:+.3})",
            r.area,
            r.year,
            r.n_pixels,
            r.rsei_mean.unwrap_or(f64::NAN),
            r.rsei_std.unwrap_or(f64::NAN),
            100.0 * r.model.pc1_contribution,
            p[0],
            p[1],
            p[2],
            p[3]
        );
        for w in &r.warnings {
            println!("    warning: {w}");
        }
    }
    println!("results in {}", out.display());
}

/// `rsei compute`.
pub fn compute(args: &ComputeArgs, quiet: bool) -> Result<()> {
    let options = args.options()?;
    let years = parse_years(&args.years)?;
    let areas = args.areas.load()?;
    let inputs = RunInputs { data: args.data.clone(), landcover: args.landcover.clone() };
    let progress = Reporter::new(quiet);
    progress.message(&format!("scanning {} folder(s)", inputs.data.len()));
    let archive = Archive::scan(&inputs.data)?;
    if !archive.rejected().is_empty() {
        progress.println(&format!("note: {} file(s) in the data folders cannot be used (see `rsei scan`)", archive.rejected().len()));
    }
    for a in &areas {
        for n in &a.notes {
            progress.println(&format!("note: {}: {n}", a.name));
        }
    }
    let req = RseiRequest { archive: &archive, inputs: &inputs, areas: &areas, years: &years, options: &options, out_dir: &args.out };
    let rows = run::run(&req, &progress);
    progress.finish();
    print_results(&rows?, &args.out);
    Ok(())
}

/// Arguments of `rsei indicators` (bring your own indicators).
#[derive(Args, Debug, Clone)]
pub struct IndicatorArgs {
    /// Greenness raster (e.g. NDVI).
    #[arg(long)]
    pub ndvi: PathBuf,
    /// Wetness raster.
    #[arg(long)]
    pub wet: PathBuf,
    /// Dryness raster (NDBSI).
    #[arg(long)]
    pub ndbsi: PathBuf,
    /// Heat raster (LST).
    #[arg(long)]
    pub lst: PathBuf,
    /// Validity mask (non-zero = usable), e.g. a water/cloud mask made with the indicators.
    #[arg(long)]
    pub valid: Option<PathBuf>,
    /// Name of the area (for tables and maps).
    #[arg(long, default_value = "area")]
    pub name: String,
    /// Year (for tables and maps).
    #[arg(long, default_value_t = 0)]
    pub year: i32,
    /// Normalisation: minmax (default) or percentile:LO:HI.
    #[arg(long)]
    pub normalisation: Option<String>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
}

/// `rsei indicators`.
pub fn indicators(args: &IndicatorArgs, _quiet: bool) -> Result<()> {
    let mut opts = rsei_core::model::RseiOptions::default();
    if let Some(n) = &args.normalisation {
        opts.normalisation = parse_normalisation(n)?;
    }
    let r = crate::byo::run(args, &opts)?;
    print_results(&[r], &args.out);
    Ok(())
}

/// The study `rsei demo` writes to `OUT/study.toml` (paths relative to `OUT`).
pub const DEMO_STUDY: &str = include_str!("../examples/demo-study.toml");

/// `rsei demo`: the synthetic archive and driver rasters (generated once per seed), then the demo
/// study (`OUT/study.toml`: both cities, RSEI 2018–2022, mining, drivers) run through `rsei run`.
pub fn demo(out: &Path, seed: u64, regenerate: bool, quiet: bool) -> Result<()> {
    let t0 = std::time::Instant::now();
    let data = out.join("data");
    let marker = data.join("README.txt");
    let seed_file = data.join(".seed");
    let same_seed = std::fs::read_to_string(&seed_file).map(|s| s.trim() == seed.to_string()).unwrap_or(false);
    if regenerate || !marker.exists() || !same_seed {
        if data.exists() {
            std::fs::remove_dir_all(&data).with_context(|| format!("removing the old synthetic archive {}", data.display()))?;
        }
        eprintln!("generating a SYNTHETIC MODIS archive in {} (seed {seed}) …", data.display());
        let a = crate::demo::archive::generate(&data, seed)?;
        rsei_core::fsutil::write_atomic(&seed_file, seed.to_string().as_bytes())?;
        eprintln!("  {} files in {:.1} s", a.files, t0.elapsed().as_secs_f64());
    } else {
        eprintln!("using the synthetic archive in {}", data.display());
    }
    let drivers = data.join("drivers");
    let drivers_seed = drivers.join(".seed");
    let fresh = std::fs::read_to_string(&drivers_seed).map(|s| s.trim() == seed.to_string()).unwrap_or(false) && drivers.join("README.txt").is_file();
    if !fresh {
        if drivers.exists() {
            std::fs::remove_dir_all(&drivers).with_context(|| format!("removing the old synthetic drivers {}", drivers.display()))?;
        }
        eprintln!("generating SYNTHETIC driver rasters in {}", drivers.display());
        crate::demo::drivers::generate(&drivers, seed)?;
        rsei_core::fsutil::write_atomic(&drivers_seed, seed.to_string().as_bytes())?;
    }
    // results of an earlier demo made before the demo was a study: not a study output, replaced
    let results = out.join("results");
    if results.is_dir() && !results.join(crate::study::validate::STATE_DIR).is_dir() {
        std::fs::remove_dir_all(&results).with_context(|| format!("removing the old demo results {}", results.display()))?;
    }
    let study = out.join("study.toml");
    rsei_core::fsutil::write_atomic(&study, DEMO_STUDY.as_bytes()).with_context(|| format!("writing {}", study.display()))?;
    eprintln!("running the demo study {}", study.display());
    let (plan, report) = crate::study::run_file(&study, None, crate::study::RunSettings { force: false, quiet })?;
    crate::study::runner::print_results(&plan);
    if !report.failed.is_empty() {
        anyhow::bail!("{} unit(s) of the demo study failed: {}", report.failed.len(), report.failed.iter().map(|(u, e)| format!("{u}: {e}")).collect::<Vec<_>>().join("; "));
    }
    eprintln!(
        "demo finished in {:.1} s (all data SYNTHETIC); edit {} and `rsei run` it to try options",
        t0.elapsed().as_secs_f64(),
        study.display()
    );
    Ok(())
}
