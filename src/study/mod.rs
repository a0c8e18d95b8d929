//! # Studies: one TOML file runs the whole analysis for many areas and years, resumably
//!
//! A study file names the areas (polygon files, filters), the years, the data folders and every
//! option of the RSEI, mining and driver analyses (`docs/STUDY.md` documents each key):
//!
//! ```text
//! rsei validate study.toml   check the file and its inputs; every problem with its line and column
//! rsei run study.toml        validate, then compute what is missing or stale; resume after a stop
//! ```
//!
//! ```text
//!  study.toml ─▶ validate::check ─▶ Plan (areas loaded, archive scanned once, options typed)
//!                  │ syntax (toml_edit) · keys and values (walk) · inputs · data coverage
//!                  ▼
//!               runner::run ─▶ units with keys ─▶ reuse | remove old outputs + compute
//!                  RSEI area×year (parallel) ─▶ mining per area ∥ drivers (all areas) ─▶ tables
//! ```
//!
//! - [`diag`]: problems with places, "did you mean", the printed report.
//! - [`schema`]: the typed sections of a study file.
//! - [`walk`]: the walk of a table against its typed sections.
//! - [`validate`]: `rsei validate`, producing a [`validate::Plan`].
//! - [`units`]: units of work, their keys, the checksum cache.
//! - [`runner`]: `rsei run`.
//! - [`progress`]: bars in a terminal, log lines otherwise.

pub mod diag;
pub mod progress;
pub mod runner;
pub mod schema;
pub mod units;
pub mod validate;
pub mod walk;

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::Args;

pub use runner::{RunReport, RunSettings};
pub use validate::{check, Check, Plan};

/// Arguments of `rsei validate`.
#[derive(Args, Debug, Clone)]
pub struct ValidateArgs {
    /// The study file (TOML; see docs/STUDY.md).
    pub study: PathBuf,
}

/// Arguments of `rsei run`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// The study file (TOML; see docs/STUDY.md).
    pub study: PathBuf,
    /// Output folder (default: `[study] output` of the file).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Recompute every unit, even those whose results are up to date.
    #[arg(long)]
    pub force: bool,
}

/// A short description of a plan: areas, years, analyses, output.
pub fn describe(plan: &Plan) -> String {
    let mut years: Vec<i32> = plan.areas.iter().flat_map(|a| a.years.iter().copied()).collect();
    years.sort_unstable();
    years.dedup();
    let names: Vec<&str> = plan.areas.iter().map(|a| a.area.name.as_str()).collect();
    let area_years: usize = plan.areas.iter().map(|a| a.years.len()).sum();
    let mut what = vec![format!("RSEI of {area_years} area-year(s)")];
    if plan.mining.is_some() {
        what.push("mining".into());
    }
    if let Some(d) = &plan.drivers {
        what.push(format!("drivers {}", d.year));
    }
    format!(
        "study {:?}: {} area(s) ({}), years {}; {}; {} granules in the data; output {}",
        plan.name,
        plan.areas.len(),
        names.join(", "),
        validate::year_ranges(&years),
        what.join(", "),
        plan.archive.inventory.granules.len(),
        plan.output.display()
    )
}

/// `rsei validate STUDY`: prints every problem; fails (exit code 2) when there is an error.
pub fn validate_command(args: &ValidateArgs, _quiet: bool) -> Result<()> {
    let c = check(&args.study, None);
    if !c.diagnostics.is_empty() {
        print!("{}", c.report());
    }
    if c.errors() > 0 {
        return Err(crate::cli::usage_error(format!("{}: {} error(s); nothing was run", args.study.display(), c.errors())));
    }
    if let Some(p) = &c.plan {
        println!("{}: valid — {}", args.study.display(), describe(p));
    }
    Ok(())
}

/// Checks and runs a study file; `out` overrides its output folder. Prints the problems found;
/// an invalid study is an error (exit code 2) and nothing is written.
pub fn run_file(study: &Path, out: Option<&Path>, settings: RunSettings) -> Result<(Plan, RunReport)> {
    let c = check(study, out);
    if !c.diagnostics.is_empty() {
        eprint!("{}", c.report());
    }
    let Some(plan) = c.plan else {
        return Err(crate::cli::usage_error(format!("{}: {} error(s); nothing was computed", study.display(), c.errors())));
    };
    if !settings.quiet {
        eprintln!("{}", describe(&plan));
    }
    let mut report = runner::run(&plan, settings)?;
    // the study report (OUT/report.html) from whatever the units wrote
    if let Err(e) = crate::report_html::write_report(&plan.output, &crate::report_html::ReportOptions::default()) {
        report.failed.push(("report.html".into(), format!("{e:#}")));
    }
    if !settings.quiet || !report.failed.is_empty() {
        eprintln!(
            "{} unit(s) computed, {} reused{}{}",
            report.computed.len(),
            report.reused.len(),
            if report.failed.is_empty() { String::new() } else { format!(", {} FAILED", report.failed.len()) },
            if report.skipped.is_empty() { String::new() } else { format!(", {} skipped", report.skipped.len()) }
        );
    }
    Ok((plan, report))
}

/// `rsei run STUDY`.
pub fn run_command(args: &RunArgs, quiet: bool) -> Result<()> {
    let (plan, report) = run_file(&args.study, args.out.as_deref(), RunSettings { force: args.force, quiet })?;
    runner::print_results(&plan);
    if !report.failed.is_empty() {
        let list: Vec<String> = report.failed.iter().map(|(u, e)| format!("{u}: {e}")).collect();
        bail!("{} unit(s) failed (finished units are kept and reused by the next run):\n  {}", report.failed.len(), list.join("\n  "));
    }
    Ok(())
}
