//! The demo: a synthetic MODIS archive of two small mining cities, and the demo study run on it.
//!
//! All data made here is SYNTHETIC (labelled so in its README files and metadata): a scene with
//! mines, a city, a river, clouds, seasons and several years, written as MODIS HDF4-like granules
//! ([`archive`]), plus driver rasters ([`drivers`]).

pub mod archive;
pub mod drivers;
pub mod scene;

use std::path::{Path, PathBuf};

use crate::error::{Context, Error, Result};
use crate::study::{run_study, StudyObserver, StudyRequest, StudyRun};

/// Target years of the demo (the archive holds one more season on each side for the ±1-year window).
pub const DEMO_YEARS: (i32, i32) = (scene::FIRST_YEAR + 1, scene::LAST_YEAR - 1);

/// The study the demo writes to `OUT/study.toml` (paths relative to `OUT`).
pub const DEMO_STUDY: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo-study.toml"));

/// What the demo makes and runs.
///
/// ```no_run
/// use rsei_pipeline::demo::{run_demo, DemoRequest};
/// use rsei_pipeline::study::SilentStudy;
///
/// let done = run_demo(&DemoRequest { out: "rsei-demo".into(), seed: 42, regenerate: false }, &SilentStudy)?;
/// println!("results in {}", done.run.plan.output.display());
/// # Ok::<(), rsei_pipeline::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoRequest {
    /// Output folder (the synthetic archive goes to `OUT/data`, results to `OUT/results`).
    pub out: PathBuf,
    /// Seed of the synthetic scene.
    pub seed: u64,
    /// Regenerate the synthetic archive even if it exists.
    pub regenerate: bool,
}

/// What [`run_demo`] did.
#[derive(Debug)]
pub struct DemoRun {
    /// The study file written (`OUT/study.toml`).
    pub study: PathBuf,
    /// The study run.
    pub run: StudyRun,
}

fn same_seed(marker: &Path, seed: u64) -> bool {
    std::fs::read_to_string(marker).map(|s| s.trim() == seed.to_string()).unwrap_or(false)
}

/// The synthetic archive and driver rasters (generated once per seed), then the demo study
/// (`OUT/study.toml`: both cities, RSEI 2018–2022, mining, drivers) run as [`run_study`] runs it.
/// A unit that fails makes the demo fail.
pub fn run_demo(req: &DemoRequest, observer: &dyn StudyObserver) -> Result<DemoRun> {
    let (out, seed) = (&req.out, req.seed);
    let t0 = std::time::Instant::now();
    let data = out.join("data");
    let marker = data.join("README.txt");
    let seed_file = data.join(".seed");
    if req.regenerate || !marker.exists() || !same_seed(&seed_file, seed) {
        if data.exists() {
            std::fs::remove_dir_all(&data).with_context(|| format!("removing the old synthetic archive {}", data.display()))?;
        }
        observer.println(&format!("generating a SYNTHETIC MODIS archive in {} (seed {seed}) …", data.display()));
        let a = archive::generate(&data, seed)?;
        rsei_core::fsutil::write_atomic(&seed_file, seed.to_string().as_bytes())?;
        observer.println(&format!("  {} files in {:.1} s", a.files, t0.elapsed().as_secs_f64()));
    } else {
        observer.println(&format!("using the synthetic archive in {}", data.display()));
    }
    let dir = data.join("drivers");
    let drivers_seed = dir.join(".seed");
    if !(same_seed(&drivers_seed, seed) && dir.join("README.txt").is_file()) {
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("removing the old synthetic drivers {}", dir.display()))?;
        }
        observer.println(&format!("generating SYNTHETIC driver rasters in {}", dir.display()));
        drivers::generate(&dir, seed)?;
        rsei_core::fsutil::write_atomic(&drivers_seed, seed.to_string().as_bytes())?;
    }
    // results of an earlier demo made before the demo was a study: not a study output, replaced
    let results = out.join("results");
    if results.is_dir() && !results.join(crate::study::validate::STATE_DIR).is_dir() {
        std::fs::remove_dir_all(&results).with_context(|| format!("removing the old demo results {}", results.display()))?;
    }
    let study = out.join("study.toml");
    rsei_core::fsutil::write_atomic(&study, DEMO_STUDY.as_bytes()).with_context(|| format!("writing {}", study.display()))?;
    observer.println(&format!("running the demo study {}", study.display()));
    let run = run_study(&StudyRequest { study: study.clone(), out: None, force: false, memory: None }, observer)?;
    if !run.report.failed.is_empty() {
        return Err(Error::msg(format!(
            "{} unit(s) of the demo study failed: {}",
            run.report.failed.len(),
            run.report.failed.iter().map(|(u, e)| format!("{u}: {e}")).collect::<Vec<_>>().join("; ")
        )));
    }
    Ok(DemoRun { study, run })
}
