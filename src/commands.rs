//! The commands: build the request from the arguments, call the pipeline, print the results.

use std::path::Path;

use rsei_pipeline::archive::Archive;
use rsei_pipeline::drivers::{DriverRunSummary, DriversRequest, RUN_FOLDER};
use rsei_pipeline::mining::{AreaInput, MiningRequest, MiningSummary};
use rsei_pipeline::options::RunInputs;
use rsei_pipeline::progress::Progress;
use rsei_pipeline::run::{self, YearSummary};
use rsei_pipeline::study::{check_with, describe, run_study, CheckSettings, Plan, StudyRequest};
use rsei_pipeline::budget::MemoryBudget;
use rsei_pipeline::{ComputeRequest, Context, DemoRequest, Error, IndicatorRequest, Result};

use rsei_pipeline::parse::{normalisation as parse_normalisation, years as parse_years};
use crate::args::{ComputeArgs, DriversArgs, IndicatorArgs, MiningArgs, RunArgs, ServeArgs, ValidateArgs};
use crate::progress::{Reporter, StudyBars};

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
    let memory = args.memory.as_deref().map(MemoryBudget::parse).transpose()?.unwrap_or_default();
    let years = parse_years(&args.years)?;
    let areas = args.areas.load()?;
    let progress = Reporter::new(quiet);
    if let Some(cat) = args.stac.catalogue()? {
        let plan = rsei_pipeline::stac_scenes::CollectionPlan::of(&cat.collections)?;
        if matches!(plan, rsei_pipeline::stac_scenes::CollectionPlan::Scenes { .. }) {
            return compute_scenes_from_stac(args, &cat, &plan, &options, &years, &areas, &progress);
        }
    }
    let (inputs, archive) = match args.stac.catalogue()? {
        Some(cat) => {
            let inputs = RunInputs { data: vec![cat.url.clone().into()], landcover: args.landcover.clone() };
            let archive = crate::stac::archive(&cat, &areas, &years, &options, &args.out, &progress)?;
            (inputs, archive)
        }
        None => {
            let inputs = RunInputs { data: args.data.clone(), landcover: args.landcover.clone() };
            progress.message(&format!("scanning {} folder(s)", inputs.data.len()));
            let archive = Archive::scan(&inputs.data)?;
            (inputs, archive)
        }
    };
    // Landsat C2 L2 / Sentinel-2 L2A scenes in the data folders (from a catalogue: above)
    let scene_run = args.stac.catalogue()?.is_none() && rsei_pipeline::scenes::is_scene_run(&archive, &inputs.data);
    if !archive.rejected().is_empty() && !scene_run {
        progress.println(&format!("note: {} file(s) in the data folders cannot be used (see `rsei scan`)", archive.rejected().len()));
    }
    for a in &areas {
        for n in &a.notes {
            progress.println(&format!("note: {}: {n}", a.name));
        }
    }
    let rows = if scene_run {
        // Landsat C2 L2 / Sentinel-2 L2A scenes: the profile comes from each scene's metadata
        let scenes = rsei_pipeline::scenes::scan(&inputs.data)?;
        for r in &scenes.rejected {
            progress.println(&format!("note: {}: {}", r.path.display(), r.reason));
        }
        let mut scene_options = rsei_pipeline::scenes::SceneOptions::default();
        if let Some(h) = &args.s2_heat {
            scene_options.s2_heat = rsei_pipeline::scenes::S2Heat::parse(h)?;
        }
        let req = rsei_pipeline::scenes::SceneRequest {
            scenes: &scenes,
            modis: Some(&archive),
            inputs: &inputs,
            areas: &areas,
            years: &years,
            options: &options,
            scene_options: &scene_options,
            out_dir: &args.out,
            memory,
        };
        rsei_pipeline::scenes::run(&req, &progress)
    } else {
        let req = ComputeRequest { archive: &archive, inputs: &inputs, areas: &areas, years: &years, options: &options, out_dir: &args.out };
        run::run_with(&req, &run::ComputeSettings { memory, resume: !args.restart }, &progress).map(|(rows, _)| rows)
    };
    progress.finish();
    print_results(&rows?, &args.out);
    if options.rsei.pooled && years.len() > 1 {
        crate::analyses::pooled_drift(&args.out, &areas, &args.areas.area, &years, &options.rsei, &progress)?;
    }
    let reads = rsei_io::read::read_counts();
    if !quiet && reads.windows > 0 {
        println!("granule layers read: {} windows, {:.1} M cells decoded", reads.windows, reads.cells as f64 / 1e6);
    }
    Ok(())
}

/// `rsei compute --stac URL --collection landsat-c2-l2 | sentinel-2-l2a`: the scenes of the
/// catalogue, laid out in the cache as scene folders, run as a folder of scenes is.
fn compute_scenes_from_stac(
    args: &ComputeArgs,
    cat: &rsei_stac::CatalogueOptions,
    plan: &rsei_pipeline::stac_scenes::CollectionPlan,
    options: &rsei_pipeline::options::RseiRunOptions,
    years: &[i32],
    areas: &[rsei_pipeline::area::StudyArea],
    progress: &Reporter,
) -> Result<()> {
    let mut scene_options = rsei_pipeline::scenes::SceneOptions::default();
    if let Some(h) = &args.s2_heat {
        scene_options.s2_heat = rsei_pipeline::scenes::S2Heat::parse(h)?;
    }
    plan.check_heat(scene_options.s2_heat)?;
    for a in areas {
        for n in &a.notes {
            progress.println(&format!("note: {}: {n}", a.name));
        }
    }
    let filter = args.stac.scene_filter()?;
    let found = crate::stac::scenes(cat, plan, &filter, areas, years, options, &args.out, progress)?;
    let inputs = RunInputs { data: vec![cat.url.clone().into()], landcover: args.landcover.clone() };
    let req = rsei_pipeline::scenes::SceneRequest {
        scenes: &found.inventory,
        modis: found.heat.as_ref(),
        inputs: &inputs,
        areas,
        years,
        options,
        scene_options: &scene_options,
        out_dir: &args.out,
        memory: args.memory.as_deref().map(MemoryBudget::parse).transpose()?.unwrap_or_default(),
    };
    let rows = rsei_pipeline::scenes::run(&req, progress);
    progress.finish();
    print_results(&rows?, &args.out);
    if options.rsei.pooled && years.len() > 1 {
        crate::analyses::pooled_drift(&args.out, areas, &args.areas.area, years, &options.rsei, progress)?;
    }
    Ok(())
}

/// `rsei indicators`.
pub fn indicators(args: &IndicatorArgs) -> Result<()> {
    let mut options = rsei_core::model::RseiOptions::default();
    if let Some(n) = &args.normalisation {
        options.normalisation = parse_normalisation(n)?;
    }
    let req = IndicatorRequest {
        ndvi: args.ndvi.clone(),
        wet: args.wet.clone(),
        ndbsi: args.ndbsi.clone(),
        lst: args.lst.clone(),
        valid: args.valid.clone(),
        name: args.name.clone(),
        year: args.year,
        out: args.out.clone(),
        options,
    };
    let r = rsei_pipeline::byo::run(&req)?;
    print_results(&[r], &args.out);
    Ok(())
}

/// Prints the notes and the headline figures of a finished analysis.
pub fn print_mining(s: &MiningSummary, progress: &dyn Progress) {
    for n in &s.notes {
        progress.println(&format!("note: {}: {n}", s.area));
    }
    println!(
        "{}: {} mine(s) in the area ({:.2} km²), {} year(s), {} rule",
        s.area,
        s.mines_in_area,
        s.mines_area_km2,
        s.years.len(),
        s.rule.name()
    );
    println!("{:>6} {:>11} {:>10} {:>10}", "year", "mines RSEI", "city RSEI", "|diff|");
    let f = |v: Option<f64>| v.map_or_else(|| "–".to_string(), |x| format!("{x:.4}"));
    for r in &s.per_year {
        println!("{:>6} {:>11} {:>10} {:>10}", r.year, f(r.mines_mean), f(r.city_mean), f(r.abs_diff));
    }
    let km = |v: Option<f64>| v.map_or_else(|| "–".to_string(), |x| format!("{x:.1} km"));
    println!(
        "distance profile: peak at {} (mean {}), first turning point of the trend {}{}",
        km(s.peak_distance_km),
        f(s.peak_mean),
        km(s.first_turning_point_km),
        s.first_turning_kind.as_ref().map_or_else(String::new, |k| format!(" ({k})"))
    );
    println!("results in {}", s.out_dir.display());
}

/// `rsei mining`.
pub fn mining(args: &MiningArgs, quiet: bool) -> Result<()> {
    let options = args.options()?;
    let years = args.years.as_deref().map(parse_years).transpose()?;
    let progress = Reporter::new(quiet);
    let areas = args.areas.load()?;
    let several = areas.len() > 1;
    let total = areas.len();
    // With several areas, one that cannot be analysed (e.g. no mine inside it) is reported and the
    // others still run; the command fails at the end, naming every area that failed.
    let mut failed: Vec<(String, Error)> = Vec::new();
    for area in areas {
        let out = match (&args.out, several) {
            (Some(o), false) => o.clone(),
            (Some(o), true) => o.join(area.slug()),
            (None, _) => args.rsei.join(area.slug()).join("mining"),
        };
        progress.message(&format!("{}: mining analysis", area.name));
        let req = MiningRequest {
            rsei_dir: args.rsei.clone(),
            area: AreaInput::Loaded { area: area.clone(), file: Some(args.areas.area.clone()) },
            years: years.clone(),
            mines: args.mine_source(),
            options: options.clone(),
        };
        match rsei_pipeline::mining::run(&req, &out) {
            Ok(s) => {
                progress.finish();
                print_mining(&s, &progress);
            }
            Err(e) if several => {
                progress.println(&format!("error: mining analysis of {:?}: {}", area.name, e.chain_text()));
                failed.push((area.name.clone(), e));
            }
            Err(e) => return Err(e.context(format!("mining analysis of {:?}", area.name))),
        }
    }
    progress.finish();
    if failed.is_empty() {
        return Ok(());
    }
    let all_input = failed.iter().all(|(_, e)| e.is_usage());
    let list: Vec<String> = failed.iter().map(|(n, e)| format!("{n:?}: {}", e.chain_text())).collect();
    let msg = format!("mining analysis failed for {} of {total} study areas:\n  {}", failed.len(), list.join("\n  "));
    Err(if all_input { Error::input(&args.areas.area, msg) } else { Error::msg(msg) })
}

/// Prints the notes and the headline figures of a run.
pub fn print_drivers(s: &DriverRunSummary, progress: &dyn Progress) {
    for a in &s.areas {
        for n in &a.notes {
            progress.println(&format!("note: {}: {n}", a.area));
        }
    }
    println!("{:<24} {:>5} {:>8} {:>7} {:>7} {:>7} {:>7}  most important (%IncMSE)", "area", "year", "pixels", "%Var", "R²", "RMSE", "MAE");
    for a in &s.areas {
        let f = &a.forest;
        let top = f.importance.iter().filter(|r| r.rank == Some(1.0) || r.rank == Some(1.5)).map(|r| format!("{} ({:.1})", r.driver, r.inc_mse.unwrap_or(f64::NAN))).collect::<Vec<_>>().join(", ");
        println!("{:<24} {:>5} {:>8} {:>7.1} {:>7.3} {:>7.3} {:>7.3}  {top}", a.area, a.year, a.n_pixels, f.var_explained_pct, f.r2, f.rmse, f.mae);
    }
    for a in &s.areas {
        let v: Vec<String> = a.drivers.iter().map(|d| format!("{} {}", d.name, d.valid_inside)).collect();
        println!("{}: valid cells of {} inside the area: RSEI {}, {}", a.area, a.cells_inside, a.rsei_valid, v.join(", "));
    }
    let order: Vec<String> = s.ranking.iter().filter(|d| !d.mean_rank.is_nan()).map(|d| format!("{} {:.1}", d.name, d.mean_rank)).collect();
    println!("ranking (mean rank over {} area(s)): {}", s.areas.len(), order.join(" > "));
    println!("results in {} (all areas) and <area>/drivers", s.out_dir.join(RUN_FOLDER).display());
}

/// `rsei drivers`.
pub fn drivers(args: &DriversArgs, quiet: bool) -> Result<()> {
    let options = args.options()?;
    let inputs = args.inputs()?;
    let progress = Reporter::new(quiet);
    let areas = args.areas.load()?;
    let out = args.out.clone().unwrap_or_else(|| args.rsei.clone());
    let req = DriversRequest { inputs, areas, area_file: Some(args.areas.area.clone()), options, out_dir: out };
    let s = rsei_pipeline::drivers::run_request(&req, &progress)?;
    progress.finish();
    print_drivers(&s, &progress);
    Ok(())
}

/// `rsei validate STUDY`: prints every problem; fails (exit code 2) when there is an error. A
/// catalogue is searched only when its cache does not hold the answer (with a progress bar).
pub fn validate(args: &ValidateArgs, quiet: bool) -> Result<()> {
    let progress = Reporter::new(quiet);
    let c = check_with(&args.study, None, &CheckSettings { progress: Some(&progress), ..CheckSettings::default() });
    progress.finish();
    if !c.diagnostics.is_empty() {
        print!("{}", c.report());
    }
    if c.errors() > 0 {
        return Err(Error::Study { path: args.study.clone(), errors: c.errors(), action: "nothing was run".into() });
    }
    if let Some(p) = &c.plan {
        println!("{}: valid — {}", args.study.display(), describe(p));
    }
    Ok(())
}

/// `rsei run STUDY`.
pub fn run(args: &RunArgs, quiet: bool) -> Result<()> {
    let bars = StudyBars::new(quiet);
    let memory = args.memory.as_deref().map(MemoryBudget::parse).transpose()?;
    let done = run_study(&StudyRequest { study: args.study.clone(), out: args.out.clone(), force: args.force, memory }, &bars)?;
    print_study_results(&done.plan);
    let report = &done.report;
    if !report.failed.is_empty() {
        let list: Vec<String> = report.failed.iter().map(|(u, e)| format!("{u}: {e}")).collect();
        return Err(Error::msg(format!(
            "{} unit(s) failed (finished units are kept and reused by the next run):\n  {}",
            report.failed.len(),
            list.join("\n  ")
        )));
    }
    Ok(())
}

/// `rsei report OUT_DIR`.
pub fn report(out_dir: &Path) -> Result<()> {
    let path = rsei_pipeline::report_html::write_report(out_dir, &rsei_pipeline::ReportOptions::default())?;
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!("report written to {} ({:.1} MB)", path.display(), bytes as f64 / 1e6);
    Ok(())
}

/// `rsei demo`: the synthetic archive and driver rasters (generated once per seed), then the demo
/// study (`OUT/study.toml`: both cities, RSEI 2018–2022, mining, drivers) run as `rsei run` runs it.
pub fn demo(out: &Path, seed: u64, regenerate: bool, quiet: bool) -> Result<()> {
    let t0 = std::time::Instant::now();
    let bars = StudyBars::new(quiet);
    let done = rsei_pipeline::demo::run_demo(&DemoRequest { out: out.to_path_buf(), seed, regenerate }, &bars)?;
    print_study_results(&done.run.plan);
    eprintln!(
        "demo finished in {:.1} s (all data SYNTHETIC); edit {} and `rsei run` it to try options",
        t0.elapsed().as_secs_f64(),
        done.study.display()
    );
    Ok(())
}

/// Prints the headline results of a study output (read from its files, so reused and computed
/// units alike): RSEI per area and year, mining and driver headlines.
pub fn print_study_results(plan: &Plan) {
    let out = &plan.output;
    let read = |p: std::path::PathBuf| -> Option<serde_json::Value> { serde_json::from_slice(&std::fs::read(p).ok()?).ok() };
    if let Some(serde_json::Value::Array(rows)) = read(out.join("rsei_summary.json")) {
        let pca: Vec<serde_json::Value> = read(out.join("pca_table.json")).and_then(|v| v.as_array().cloned()).unwrap_or_default();
        println!("{:<24} {:>5} {:>9} {:>8} {:>7} {:>7}", "area", "year", "pixels", "RSEI", "std", "PC1 %");
        let num = |v: &serde_json::Value, k: &str| v.get(k).and_then(serde_json::Value::as_f64).unwrap_or(f64::NAN);
        for (k, r) in rows.iter().enumerate() {
            let pc1 = pca.get(k).map_or(f64::NAN, |p| num(p, "pc1_contribution"));
            println!(
                "{:<24} {:>5} {:>9} {:>8.4} {:>7.4} {:>7.1}",
                r.get("area").and_then(|a| a.as_str()).unwrap_or(""),
                num(r, "year"),
                num(r, "n_pixels"),
                num(r, "rsei_mean"),
                num(r, "rsei_std"),
                pc1
            );
        }
    }
    for pa in &plan.areas {
        if let Some(s) = read(out.join(pa.area.slug()).join("mining").join("summary.json")) {
            let f = |k: &str| s.get(k).and_then(serde_json::Value::as_f64);
            let fmt = |v: Option<f64>, d: usize| v.map_or_else(|| "–".to_string(), |x| format!("{x:.d$}"));
            println!(
                "mining, {}: {} mine(s) in the area; mean |RSEI mines − city| {} over {} year(s); RSEI peaks {} km from the mines",
                pa.area.name,
                s.get("mines_in_area").and_then(serde_json::Value::as_u64).unwrap_or(0),
                fmt(f("mean_abs_diff"), 3),
                s.get("years").and_then(|y| y.as_array()).map_or(0, Vec::len),
                fmt(f("peak_distance_km"), 0)
            );
        }
    }
    if let Some(m) = read(out.join(RUN_FOLDER).join("manifest.json")) {
        if let Some(r) = m.get("ranking").and_then(|r| r.as_array()) {
            let order: Vec<String> = r
                .iter()
                .filter_map(|d| Some(format!("{} ({:.1})", d.get("name")?.as_str()?, d.get("mean_rank")?.as_f64()?)))
                .collect();
            println!("drivers: ranking by %IncMSE over {} area(s): {}", plan.areas.len(), order.join(" > "));
        }
    }
    let report = out.join(rsei_pipeline::report_html::REPORT_FILE);
    if report.is_file() {
        println!("report: {}", report.display());
    }
    println!("results in {}", out.display());
}

/// `rsei serve`: the map viewer of a results folder, until the process is stopped.
pub fn serve(args: &ServeArgs) -> Result<()> {
    let opts = args.options();
    let root = opts.root.clone();
    rsei_serve::serve(opts, |addr| {
        println!("serving {} on http://{addr}/  (read-only; Ctrl-C stops)", root.display());
    })
    .map_err(|e| match e {
        rsei_serve::ServeError::Root { ref path, .. } => Error::input(path, e.to_string()),
        rsei_serve::ServeError::BaseMap { .. } => Error::option("--base-map", e.to_string()),
        rsei_serve::ServeError::Bind { .. } => Error::option("--bind", e.to_string()),
        other => Error::msg(other),
    })
}
