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
//! - [`analyses`]: the sections and units of the analyses beyond the source study.
//! - [`validate`]: `rsei validate`, producing a [`validate::Plan`].
//! - [`stac`]: `[data.stac]`, granules from a STAC catalogue (check, fetch, keys of the assets).
//! - [`units`]: units of work, their keys, the checksum cache.
//! - [`runner`]: `rsei run`.
//! - [`progress`]: what a run tells its caller ([`StudyObserver`]).

pub mod analyses;
pub mod diag;
pub mod progress;
pub mod runner;
pub mod schema;
pub mod stac;
pub mod units;
pub mod validate;
pub mod walk;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub use progress::{SilentStudy, StudyEvent, StudyObserver, StudyRecorder, UnitObserver};
pub use runner::{RunReport, RunSettings};
pub use validate::{check, check_with, Check, CheckSettings, Plan};

/// A checked study, ready to run: areas loaded, archive scanned once, options typed.
///
/// ```no_run
/// use rsei_pipeline::study::check;
///
/// let checked = check("study.toml".as_ref(), None);
/// for d in &checked.diagnostics {
///     eprintln!("{}", d.message);
/// }
/// if let Some(plan) = checked.plan {
///     println!("{}: {} area(s), output {}", plan.name, plan.areas.len(), plan.output.display());
/// }
/// ```
pub type StudyPlan = Plan;

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
    let catalogue = plan.stac.as_ref().map_or_else(String::new, |s| {
        let n = s.scenes.as_ref().map_or(s.items.len(), |sc| sc.items.len());
        let what = if s.scenes.is_some() { "scene item(s)" } else { "item(s)" };
        format!(" + {n} {what} from the catalogue {}{}", s.options.url, if s.search_from_cache { " (search answered by the cache)" } else { "" })
    });
    what.extend(plan.analyses.present().iter().map(|w| w.label().to_string()));
    // what the folders hold: scenes, granules (also none, for a MODIS study), or nothing local
    let mut local = Vec::new();
    if let Some(s) = &plan.scenes {
        let mut profiles: Vec<&str> = s.inventory.scenes.iter().map(|x| x.profile.id).collect();
        profiles.sort_unstable();
        profiles.dedup();
        local.push(format!("{} scene(s) ({})", s.inventory.scenes.len(), profiles.join(", ")));
    }
    let scene_catalogue = plan.stac.as_ref().is_some_and(|s| s.scenes.is_some());
    let granules = plan.archive.inventory.granules.len();
    if granules > 0 || (plan.scenes.is_none() && !scene_catalogue) {
        local.push(format!("{granules} granules"));
    }
    let local = if local.is_empty() { "no local data".to_string() } else { format!("{} in the data", local.join(" and ")) };
    format!(
        "study {:?}: {} area(s) ({}), years {}; {}; {local}{catalogue}; output {}",
        plan.name,
        plan.areas.len(),
        names.join(", "),
        validate::year_ranges(&years),
        what.join(", "),
        plan.output.display()
    )
}

/// What to run: a study file, optionally into another output folder.
///
/// ```no_run
/// use rsei_pipeline::study::{run_study, StudyRecorder, StudyRequest};
///
/// let req = StudyRequest { study: "study.toml".into(), out: None, force: false, memory: None };
/// let log = StudyRecorder::new();
/// let done = run_study(&req, &log)?;
/// println!("{} unit(s) computed, {} reused", done.report.computed.len(), done.report.reused.len());
/// # Ok::<(), rsei_pipeline::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StudyRequest {
    /// The study file (TOML; see docs/STUDY.md).
    pub study: PathBuf,
    /// Output folder instead of `[study] output` of the file.
    pub out: Option<PathBuf>,
    /// Recompute every unit, even those whose results are up to date.
    pub force: bool,
    /// Memory budget instead of the study's `[study] memory` (default 2 GiB).
    pub memory: Option<crate::budget::MemoryBudget>,
}

/// What [`run_study`] did.
#[derive(Debug)]
pub struct StudyRun {
    /// The checked study that ran.
    pub plan: Plan,
    /// Units reused, computed, failed and skipped (also the study report when it failed).
    pub report: RunReport,
}

/// Checks a study file; an invalid study is an [`Error::Study`] (its problems, each with line and
/// column, were already told to `observer`) and nothing is written. A catalogue (`[data.stac]`)
/// is searched afresh (unless offline), its progress told to `observer`.
pub fn validate_study(study: &Path, out: Option<&Path>, observer: &dyn StudyObserver) -> Result<Plan> {
    let task = observer.task("catalogue");
    let c = check_with(study, out, &CheckSettings { search: stac::SearchMode::Fresh, progress: Some(task.as_ref()) });
    drop(task);
    if !c.diagnostics.is_empty() {
        observer.println(c.report().trim_end_matches('\n'));
    }
    let errors = c.errors();
    c.plan.ok_or_else(|| Error::Study { path: study.to_path_buf(), errors, action: "nothing was computed".into() })
}

/// Checks and runs a study file (see [`runner`]), then writes the study report `OUT/report.html`
/// from whatever the units wrote (a failure of the report is reported as a failed unit).
pub fn run_study(req: &StudyRequest, observer: &dyn StudyObserver) -> Result<StudyRun> {
    let plan = validate_study(&req.study, req.out.as_deref(), observer)?;
    observer.log(&describe(&plan));
    let reads = rsei_io::read::read_counts();
    let mut report = runner::run(&plan, RunSettings { force: req.force, memory: req.memory }, observer)?;
    let reads = rsei_io::read::read_counts().since(&reads);
    if reads.windows > 0 {
        observer.log(&format!("granule layers read: {} windows, {:.1} M cells decoded", reads.windows, reads.cells as f64 / 1e6));
    }
    if let Err(e) = crate::report_html::write_report(&plan.output, &crate::report_html::ReportOptions::default()) {
        report.failed.push(("report.html".into(), e.chain_text()));
    }
    let line = format!(
        "{} unit(s) computed, {} reused{}{}",
        report.computed.len(),
        report.reused.len(),
        if report.failed.is_empty() { String::new() } else { format!(", {} FAILED", report.failed.len()) },
        if report.skipped.is_empty() { String::new() } else { format!(", {} skipped", report.skipped.len()) }
    );
    if report.failed.is_empty() {
        observer.log(&line);
    } else {
        observer.println(&line);
    }
    Ok(StudyRun { plan, report })
}
