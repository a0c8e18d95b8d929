//! The `rsei` command line: a thin adapter over the `rsei-pipeline` library. It parses arguments
//! ([`args`]), builds the pipelines' requests, calls them and prints the results ([`commands`]),
//! with terminal progress ([`progress`]). Errors are printed with their chain of causes; exit
//! codes: 0 success, 1 failure of the work, 2 invalid arguments or inputs.

mod analyses;
mod args;
mod commands;
mod progress;
mod stac;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use rsei_pipeline::{Context, Result};

#[derive(Parser, Debug)]
#[command(name = "rsei", version, about = "Remote Sensing Ecological Index from MODIS, Landsat and Sentinel-2: composites, RSEI, mining impact, drivers")]
struct Cli {
    /// Worker threads (default: all cores).
    #[arg(long, global = true)]
    threads: Option<usize>,
    /// No progress bar or progress lines (warnings and results are still printed).
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the MODIS granules in a folder (product, tile, dates, layers) and every file that cannot be used.
    Scan {
        /// Folder to scan (recursively).
        dir: PathBuf,
        /// Print the inventory as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List what a STAC catalogue holds for study areas and years: MODIS items (dates, tiles, assets) or, with --collection landsat-c2-l2 / sentinel-2-l2a, scenes (date, platform, cloud cover, level); table or --json.
    Search(Box<stac::SearchArgs>),
    /// Compute RSEI for study areas and years from folders of MODIS granules or Landsat / Sentinel-2 scenes, or from a STAC catalogue (MODIS, landsat-c2-l2, sentinel-2-l2a).
    Compute(args::ComputeArgs),
    /// Compute RSEI from four indicator rasters you made elsewhere (e.g. from Landsat).
    Indicators(args::IndicatorArgs),
    /// Mining impact: mines vs city, distance rings, mine sizes, latitude profile (after `compute`).
    Mining(args::MiningArgs),
    /// Drivers of RSEI: aligned driver stack, Pearson r, random forest importance and ranking (after `compute`).
    Drivers(Box<args::DriversArgs>),
    /// Check a study file and its inputs; list every problem with its line and column.
    Validate(args::ValidateArgs),
    /// Run a study file: RSEI for every area and year, mining, drivers; resumes an interrupted run.
    Run(args::RunArgs),
    /// Write OUT/report.html: one self-contained page (methods, maps, figures, tables) from the outputs in OUT.
    Report {
        /// Output folder of `rsei compute` (mining outputs in OUT/<area>/mining, drivers in OUT/drivers).
        out: PathBuf,
    },
    /// One PCA over all years of an area (comparable RSEI), drift of each year's own loadings, sign check.
    Timeseries(analyses::TimeSeriesArgs),
    /// Per-pixel Theil–Sen slope and Mann–Kendall test with FDR classes, and the trend of the area's mean RSEI.
    Trend(analyses::TrendArgs),
    /// Grade transfer matrix (cells, km², flow diagram) and difference map between two years.
    Change(analyses::ChangeArgs),
    /// Geographical detector (factor, interaction, risk, ecological) on the driver stack of `rsei drivers`.
    Geodetector(analyses::GeodetectorArgs),
    /// Global Moran's I and LISA clusters of RSEI on the 1 km driver grid.
    Autocorrelation(analyses::AutocorrelationArgs),
    /// Generate a synthetic MODIS archive of two small mining cities and run the demo study on it (RSEI, mining, drivers, report).
    Demo(DemoArgs),
    /// Show a results folder as a map in the browser: years, layers, comparison, time series at a click (read-only, offline).
    Serve(args::ServeArgs),
}

#[derive(Args, Debug)]
struct DemoArgs {
    /// Output folder (the synthetic archive goes to OUT/data, results to OUT/results).
    #[arg(long, default_value = "rsei-demo")]
    out: PathBuf,
    /// Seed of the synthetic scene.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Regenerate the synthetic archive even if it exists.
    #[arg(long)]
    regenerate: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(n) = cli.threads {
        if let Err(e) = rayon::ThreadPoolBuilder::new().num_threads(n.max(1)).build_global() {
            eprintln!("error: cannot start {n} threads: {e}");
            return ExitCode::from(2);
        }
    }
    let result: Result<()> = match cli.command {
        Command::Scan { dir, json } => commands::scan(&dir, json),
        Command::Search(a) => stac::search(&a, cli.quiet),
        Command::Compute(a) => commands::compute(&a, cli.quiet),
        Command::Indicators(a) => commands::indicators(&a),
        Command::Mining(a) => commands::mining(&a, cli.quiet),
        Command::Drivers(a) => commands::drivers(&a, cli.quiet),
        Command::Validate(a) => commands::validate(&a, cli.quiet),
        Command::Run(a) => commands::run(&a, cli.quiet),
        Command::Report { out } => commands::report(&out),
        Command::Timeseries(a) => analyses::run_timeseries(&a, cli.quiet),
        Command::Trend(a) => analyses::run_trend(&a, cli.quiet),
        Command::Change(a) => analyses::run_change(&a, cli.quiet),
        Command::Geodetector(a) => analyses::run_geodetector(&a, cli.quiet),
        Command::Autocorrelation(a) => analyses::run_autocorrelation(&a, cli.quiet),
        Command::Demo(d) => commands::demo(&d.out, d.seed, d.regenerate, cli.quiet).context("demo"),
        Command::Serve(a) => commands::serve(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            if e.is_usage() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
