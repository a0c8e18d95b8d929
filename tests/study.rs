//! Studies end to end: `rsei run` killed midway and resumed gives the bytes of an uninterrupted
//! run; changing a mining option recomputes the mining units only; every kind of bad study file
//! is reported with its line, with a non-zero exit code and nothing computed.
//!
//! The data are the synthetic archive of the demo scene (two cities, seasons 2018–2021, so target
//! years 2019 and 2020 have their whole ±1-season window) and its synthetic driver rasters.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

mod common;
use common::*;

/// The synthetic archive (seasons 2018–2021) with driver rasters, shared by the tests.
fn data() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        remove_stale_fixtures("rsei-study-fixture-");
        let p = std::env::temp_dir().join(format!("rsei-study-fixture-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        rsei_pipeline::demo::archive::generate_years(&p, 42, 2018, 2021).expect("generating the synthetic archive");
        rsei_pipeline::demo::drivers::generate(&p.join("drivers"), 42).expect("generating the synthetic drivers");
        p
    })
}

/// A study of both demo cities, years 2019–2020, mining and drivers (few trees), with absolute
/// paths to the shared archive; `extra` is appended (more tables or keys of a last table).
fn study_text(output: &str, mining_extra: &str) -> String {
    let d = data().display().to_string();
    format!(
        r#"[study]
name = "test study"
output = "{output}"
years = "2019-2020"

[data]
modis = "{d}/modis"
landcover = "{d}/landcover/MCD12Q1.A2020001.synthetic.061_LC_Type1.tif"

[[area]]
file = "{d}/vectors/city.geojson"
name_field = "name_en"

[rsei.water]
landcover_water_classes = [17, 11]

[rsei.output]
overviews = false

[drivers]
year = 2019
dem = "{d}/drivers/dem_30s.tif"
ntree = 40
[drivers.rasters]
Prec = "{d}/drivers/prec_2019_*.tif"
GDP = "{d}/drivers/gdp_2019.tif"
"PM2.5" = "{d}/drivers/pm25_2019.tif"

[mining]
mines = "{d}/vectors/mines.geojson"
where = "\"Mine Type\" = 'mine boundary'"
id_field = "id"
{mining_extra}
"#
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Every file under `dir` except the run's own state folder (`.rsei`), relative, sorted.
fn output_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.file_name().is_some_and(|n| n == ".rsei") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// Asserts that two output folders hold the same files with the same bytes.
fn assert_same_outputs(a: &Path, b: &Path) {
    let fa = output_files(a);
    let fb = output_files(b);
    assert_eq!(fa, fb, "the two runs wrote different files");
    for f in &fa {
        let (x, y) = (std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap());
        assert!(x == y, "{} differs between {} and {}", f.display(), a.display(), b.display());
    }
}

/// Manifests holding a study key under `out`.
fn keyed_manifests(out: &Path) -> usize {
    output_files_or_empty(out)
        .iter()
        .filter(|f| f.file_name().is_some_and(|n| n == "manifest.json"))
        .filter(|f| std::fs::read_to_string(out.join(f)).is_ok_and(|t| t.contains("\"unit\"")))
        .count()
}

fn output_files_or_empty(dir: &Path) -> Vec<PathBuf> {
    if !dir.is_dir() {
        return Vec::new();
    }
    // files may vanish under a running process: tolerate it
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(r) = p.strip_prefix(dir) {
                out.push(r.to_path_buf());
            }
        }
    }
    out
}

/// 2 cities × 2 years of RSEI + 2 mining + 2 drivers + the driver ranking + tables.
const UNITS: usize = 10;

#[test]
fn a_killed_run_resumes_to_the_bytes_of_an_uninterrupted_run() {
    let tmp = TempDir::new("resume");
    let study = write(tmp.path(), "study.toml", &study_text("out", ""));
    // uninterrupted, one thread (both output folders are named `out`: the report names its folder)
    let whole = tmp.path().join("whole").join("out");
    let o = rsei(&["--threads", "1", "run", study.to_str().unwrap(), "--out", whole.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(keyed_manifests(&whole), UNITS);

    // two threads, killed once some but not all units are finished
    let cut = tmp.path().join("cut").join("out");
    let mut killed = false;
    for attempt in 0..3 {
        let _ = std::fs::remove_dir_all(&cut);
        let mut child = Command::new(env!("CARGO_BIN_EXE_rsei"))
            .args(["--threads", "2", "run", study.to_str().unwrap(), "--out", cut.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        loop {
            if let Some(st) = child.try_wait().unwrap() {
                assert!(st.success());
                break;
            }
            let n = keyed_manifests(&cut);
            if (1..UNITS).contains(&n) {
                child.kill().unwrap(); // SIGKILL on Unix
                child.wait().unwrap();
                killed = true;
                break;
            }
            assert!(t0.elapsed() < Duration::from_secs(600), "run did not finish");
            std::thread::sleep(Duration::from_millis(5));
        }
        if killed {
            println!("killed after {:.2} s (attempt {attempt}) with {} unit(s) finished", t0.elapsed().as_secs_f64(), keyed_manifests(&cut));
            break;
        }
    }
    assert!(killed, "the run finished before it could be interrupted");
    let done = keyed_manifests(&cut);
    assert!((1..UNITS).contains(&done));
    assert!(!cut.join("manifest.json").exists() || done < UNITS, "interrupted before the end");

    // resume
    let o = rsei(&["run", study.to_str().unwrap(), "--out", cut.to_str().unwrap()]);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    let reused = log.lines().filter(|l| l.starts_with("reuse ")).count();
    let computed = log.lines().filter(|l| l.starts_with("compute ")).count();
    assert_eq!(reused + computed, UNITS, "{log}");
    assert!(reused >= 1 && computed >= 1, "{log}");
    // no temporary file of the interrupted writes is left
    assert!(output_files(&cut).iter().all(|f| !f.to_string_lossy().contains(".tmp-")));
    assert_same_outputs(&whole, &cut);

    // a third run has nothing to do
    let o = rsei(&["run", study.to_str().unwrap(), "--out", cut.to_str().unwrap()]);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert_eq!(log.lines().filter(|l| l.starts_with("reuse ")).count(), UNITS, "{log}");
    assert!(log.contains(&format!("{UNITS} unit(s): {UNITS} reused, 0 to compute")), "{log}");
}

fn mtimes(dir: &Path, files: &[PathBuf]) -> Vec<SystemTime> {
    files.iter().map(|f| std::fs::metadata(dir.join(f)).unwrap().modified().unwrap()).collect()
}

#[test]
fn changing_a_mining_option_recomputes_only_the_mining_units() {
    let tmp = TempDir::new("option");
    let study = write(tmp.path(), "study.toml", &study_text("out", ""));
    let out = tmp.path().join("out");
    let o = rsei(&["run", study.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    // everything but the mining folders and the report (which shows the mining results)
    let not_mining: Vec<PathBuf> = output_files(&out).into_iter().filter(|f| !f.components().any(|c| c.as_os_str() == "mining") && !f.ends_with("report.html")).collect();
    assert!(not_mining.iter().any(|f| f.ends_with("2019/rsei.tif")));
    let before = mtimes(&out, &not_mining);
    let mining_before = std::fs::read(out.join("Demo_City/mining/rings.csv")).unwrap();
    // file systems with coarse timestamps: make a rewrite visible
    std::thread::sleep(Duration::from_millis(1100));

    write(tmp.path(), "study.toml", &study_text("out", "ring_step_km = 2"));
    let o = rsei(&["run", study.to_str().unwrap()]);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    for city in ["Demo City", "Second City"] {
        assert!(log.contains(&format!("compute  {city} mining (options changed)")), "{log}");
        for y in [2019, 2020] {
            assert!(log.contains(&format!("reuse    {city} {y} RSEI")), "{log}");
        }
    }
    assert!(log.contains("reuse    Demo City drivers 2019") && log.contains("reuse    drivers 2019 ranking") && log.contains("reuse    run-level tables"), "{log}");
    assert_eq!(log.lines().filter(|l| l.starts_with("compute ")).count(), 2, "{log}");
    assert_eq!(mtimes(&out, &not_mining), before, "files outside the mining folders were rewritten");
    assert_ne!(std::fs::read(out.join("Demo_City/mining/rings.csv")).unwrap(), mining_before, "2 km rings differ from 1 km rings");

    // renaming the study rewrites the run-level tables (their manifest names the study) and the
    // report, nothing else
    write(tmp.path(), "study.toml", &study_text("out", "ring_step_km = 2").replace("test study", "renamed study"));
    let o = rsei(&["run", study.to_str().unwrap()]);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(log.contains("compute  run-level tables"), "{log}");
    assert_eq!(log.lines().filter(|l| l.starts_with("compute ")).count(), 1, "{log}");
    assert_eq!(json(&out.join("manifest.json"))["study"], "renamed study");
    assert!(std::fs::read_to_string(out.join("report.html")).unwrap().contains("renamed study"));

    // the same as a fresh run with the new option (in a folder of the same name)
    let fresh = tmp.path().join("fresh").join("out");
    let o = rsei(&["run", study.to_str().unwrap(), "--out", fresh.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_same_outputs(&out, &fresh);
}

#[test]
fn adding_an_area_runs_only_its_units_and_the_run_level_ones() {
    let tmp = TempDir::new("add-area");
    let both = study_text("out", "");
    let one = both.replace("name_field = \"name_en\"", "name_field = \"name_en\"\nwhere = \"name_en = 'Demo City'\"");
    assert_ne!(one, both);
    let study = write(tmp.path(), "study.toml", &one);
    let out = tmp.path().join("out");
    let o = rsei(&["run", study.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    // the first area's files but its tables (run-level, rewritten when an area is added)
    let unchanged: Vec<PathBuf> = output_files(&out).into_iter().filter(|f| f.starts_with("Demo_City") && f.components().count() > 2).collect();
    assert!(unchanged.iter().any(|f| f.ends_with("drivers/predicted.tif")), "{unchanged:?}");
    assert!(unchanged.iter().any(|f| f.ends_with("2020/rsei.tif")), "{unchanged:?}");
    let before = mtimes(&out, &unchanged);
    let ranking_one = std::fs::read_to_string(out.join("drivers/driver_ranking.csv")).unwrap();
    std::thread::sleep(Duration::from_millis(1100));

    write(tmp.path(), "study.toml", &both);
    let o = rsei(&["run", study.to_str().unwrap()]);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    for unit in ["Demo City 2019 RSEI", "Demo City 2020 RSEI", "Demo City mining", "Demo City drivers 2019"] {
        assert!(log.contains(&format!("reuse    {unit}")), "{unit}: {log}");
    }
    for unit in ["Second City 2019 RSEI", "Second City 2020 RSEI", "Second City mining", "Second City drivers 2019", "drivers 2019 ranking", "run-level tables"] {
        assert!(log.lines().any(|l| l.starts_with(&format!("compute  {unit}"))), "{unit}: {log}");
    }
    assert_eq!(log.lines().filter(|l| l.starts_with("compute ")).count(), 6, "{log}");
    assert_eq!(mtimes(&out, &unchanged), before, "the first area's outputs were rewritten");
    // the ranking now compares both areas
    let ranking_two = std::fs::read_to_string(out.join("drivers/driver_ranking.csv")).unwrap();
    assert_ne!(ranking_one, ranking_two);
    assert_eq!(json(&out.join("drivers/manifest.json"))["areas"].as_array().map(Vec::len), Some(2));

    // the same as a fresh run of both areas
    let fresh = tmp.path().join("fresh").join("out");
    let o = rsei(&["run", study.to_str().unwrap(), "--out", fresh.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_same_outputs(&out, &fresh);
}

#[test]
fn a_season_change_recomputes_everything() {
    let tmp = TempDir::new("season");
    let study = write(tmp.path(), "study.toml", &study_text("out", ""));
    let o = rsei(&["run", study.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let t = study_text("out", "").replace("[rsei.output]", "[rsei.composite.season]\nstart = [6, 15]\nend = [9, 15]\n\n[rsei.output]");
    write(tmp.path(), "study.toml", &t);
    let o = rsei(&["run", study.to_str().unwrap()]);
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert_eq!(log.lines().filter(|l| l.starts_with("compute ")).count(), UNITS, "{log}");
    // new season dates also select other granules
    assert!(log.contains("compute  Demo City 2019 RSEI (options, input files changed)"), "{log}");
    assert!(log.contains("compute  Demo City mining (results it reads changed)"), "{log}");
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(tmp.path().join("out/Demo_City/2019/summary.json")).unwrap()).unwrap();
    assert!(s["composite"].as_str().unwrap().contains("06-15..09-15"), "{}", s["composite"]);
}

// ---------------------------------------------------------------------------------------------
// Bad study files
// ---------------------------------------------------------------------------------------------

/// Runs `rsei validate` and `rsei run` on a study text; both must fail with exit code 2, write
/// nothing, and print the same problems. Returns the report of `validate`.
fn refused(name: &str, study: &str) -> String {
    let tmp = TempDir::new(name);
    let p = write(tmp.path(), "study.toml", study);
    let v = rsei(&["validate", p.to_str().unwrap()]);
    let report = text(&v);
    assert_eq!(v.status.code(), Some(2), "validate: {report}");
    let r = rsei(&["run", p.to_str().unwrap()]);
    let run_report = text(&r);
    assert_eq!(r.status.code(), Some(2), "run: {run_report}");
    assert!(!tmp.path().join("out").exists(), "an invalid study wrote its output folder");
    for l in report.lines().filter(|l| l.contains(": error: ")) {
        assert!(run_report.contains(l), "run does not report {l:?}: {run_report}");
    }
    report
}

/// The line number (1-based) of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle:?} not in the study")) + 1
}

/// The error lines of a report (`study.toml:L:C: error: …`).
fn errors(report: &str) -> Vec<&str> {
    report.lines().filter(|l| l.contains(": error: ")).collect()
}

#[test]
fn an_unknown_key_is_reported_with_its_line_and_a_suggestion() {
    let study = study_text("out", "ring_stp_km = 2");
    let report = refused("unknown-key", &study);
    let l = line_of(&study, "ring_stp_km");
    assert!(report.contains(&format!("study.toml:{l}:1: error: unknown key `ring_stp_km` in [mining]; did you mean `ring_step_km`?")), "{report}");
    assert_eq!(errors(&report).len(), 1, "{report}");
    // the caret line points at the key
    assert!(report.contains(&format!("{l} | ring_stp_km = 2")), "{report}");
    // a section name misspelt at the top level
    let study = study_text("out", "").replace("[rsei.water]", "[rsie.water]");
    let report = refused("unknown-section", &study);
    assert!(report.contains(&format!("study.toml:{}:2: error: unknown key `rsie` in the study file (top level); did you mean `rsei`?", line_of(&study, "[rsie.water]"))), "{report}");
}

#[test]
fn a_value_of_the_wrong_type_is_reported_with_its_line_and_column() {
    let study = study_text("out", "").replace("ntree = 40", "ntree = \"forty\"");
    let report = refused("wrong-type", &study);
    let l = line_of(&study, "ntree = \"forty\"");
    assert!(report.contains(&format!("study.toml:{l}:9: error: invalid value of `ntree` in [drivers]: invalid type: string \"forty\", expected usize")), "{report}");
    assert_eq!(errors(&report).len(), 1, "{report}");
    // an enumerated option with a value it does not know
    let study = study_text("out", "").replace("[rsei.output]\n", "[rsei.output]\ncompression = \"zip\"\n");
    let report = refused("wrong-variant", &study);
    let l = line_of(&study, "compression = \"zip\"");
    assert!(report.contains(&format!("study.toml:{l}:15: error: invalid value of `compression` in [rsei.output]: unknown variant `zip`, expected one of `lzw`, `deflate`, `zstd`")), "{report}");
    // a value its option refuses
    let study = study_text("out", "ring_step_km = -1");
    let report = refused("invalid-option", &study);
    assert!(report.contains(&format!("study.toml:{}:16: error: invalid value of `ring_step_km` in [mining]: must be > 0, got -1", line_of(&study, "ring_step_km = -1"))), "{report}");
}

#[test]
fn a_missing_file_is_reported_with_its_line() {
    let study = study_text("out", "").replace("vectors/city.geojson", "vectors/no_such_city.geojson");
    let report = refused("missing-file", &study);
    let l = line_of(&study, "no_such_city");
    assert!(report.contains(&format!("study.toml:{l}:8: error: area file {}/vectors/no_such_city.geojson does not exist", data().display())), "{report}");
    assert_eq!(errors(&report).len(), 1, "{report}");
    let study = study_text("out", "").replace("/modis\"", "/modis_gone\"");
    let report = refused("missing-folder", &study);
    assert!(report.contains(&format!("study.toml:{}:9: error: MODIS data folder {}/modis_gone does not exist", line_of(&study, "modis_gone"), data().display())), "{report}");
}

#[test]
fn a_year_without_data_is_reported_with_the_products_missing() {
    let study = study_text("out", "").replace("years = \"2019-2020\"", "years = [2019, 2020, 2025]");
    let report = refused("no-data-year", &study);
    let l = line_of(&study, "years = [2019");
    for city in ["Demo City", "Second City"] {
        assert!(
            report.contains(&format!("study.toml:{l}:9: error: area \"{city}\": no MOD09A1, MOD11A2, MOD13A1 granule over the area for year 2025 (composite window: seasons 2024–2026, 06-01..09-30)")),
            "{report}"
        );
    }
    // 2021 has data, but its window lacks the 2022 season: a warning only
    let study = study_text("out", "").replace("years = \"2019-2020\"", "years = \"2019-2021\"");
    let tmp = TempDir::new("partial-year");
    let p = write(tmp.path(), "study.toml", &study);
    let v = rsei(&["validate", p.to_str().unwrap()]);
    let report = text(&v);
    assert!(v.status.success(), "{report}");
    assert!(report.contains("warning: area \"Demo City\": the composite of 2021 lacks a season: no granule of MOD09A1 2022, MOD11A2 2022, MOD13A1 2022"), "{report}");
    assert!(report.contains("valid — study \"test study\": 2 area(s) (Demo City, Second City), years 2019–2021"), "{report}");
}

#[test]
fn duplicate_and_overlapping_area_names_are_refused() {
    let d = data().display().to_string();
    let base = study_text("out", "");
    let study = format!(
        "{base}\n[[area]]\nfile = \"{d}/vectors/city.geojson\"\nwhere = \"adcode = 999001\"\nname_field = \"name_en\"\n\n[[area]]\nfile = \"{d}/vectors/city.geojson\"\nwhere = \"adcode = 999002\"\ndissolve = \"second city\"\n"
    );
    let report = refused("names", &study);
    let first = line_of(&study, "[[area]]");
    let headers: Vec<usize> = study.lines().enumerate().filter(|(_, l)| *l == "[[area]]").map(|(i, _)| i + 1).collect();
    assert_eq!(headers.len(), 3);
    assert!(
        report.contains(&format!("study.toml:{}:1: error: duplicate area name \"Demo City\": another area has the same name (the [[area]] at line {first})", headers[1])),
        "{report}"
    );
    assert!(
        report.contains(&format!("study.toml:{}:1: error: area names \"Second City\" (the [[area]] at line {first}) and \"second city\" overlap: both write to the output folder \"second_city\"", headers[2])),
        "{report}"
    );
    assert_eq!(errors(&report).len(), 2, "{report}");
}

#[test]
fn a_syntax_error_is_reported_with_its_line() {
    let study = study_text("out", "").replace("[rsei.water]", "[rsei.water");
    let report = refused("syntax", &study);
    let l = line_of(&study, "[rsei.water");
    assert!(report.contains(&format!("study.toml:{l}:")) && report.contains("error: TOML syntax error"), "{report}");
    assert_eq!(errors(&report).len(), 1, "{report}");
}

#[test]
fn several_problems_are_all_listed_at_once() {
    let d = data().display().to_string();
    let study = study_text("out", "ring_stp_km = 2")
        .replace("years = \"2019-2020\"", "years = [2019, 2025]")
        .replace("ntree = 40", "ntree = -3")
        .replace(&format!("{d}/drivers/gdp_2019.tif"), &format!("{d}/drivers/gdp_2099.tif"))
        .replace("'mine boundary'", "'ventilation'")
        + "\n[report]\ntitle = \"x\"\n";
    let report = refused("many", &study);
    let e = errors(&report);
    let expect = [
        (line_of(&study, "years = [2019, 2025]"), "no MOD09A1, MOD11A2, MOD13A1 granule over the area for year 2025"),
        (line_of(&study, "ntree = -3"), "invalid value of `ntree` in [drivers]"),
        (line_of(&study, "gdp_2099"), "driver GDP: file"),
        (line_of(&study, "mines = "), "has no polygon matching `\"Mine Type\" = 'ventilation'` (2 feature(s): 2 point"),
        (line_of(&study, "ring_stp_km"), "did you mean `ring_step_km`?"),
        (line_of(&study, "[report]"), "unknown key `report` in the study file (top level)"),
    ];
    for (l, needle) in expect {
        assert!(e.iter().any(|x| x.contains(&format!("study.toml:{l}:")) && x.contains(needle)), "line {l}: {needle:?} not in\n{report}");
    }
    // two cities without 2025 data: one error each
    assert_eq!(e.len(), expect.len() + 1, "{report}");
    assert!(report.contains(&format!("study.toml: {} errors, ", e.len())), "{report}");
}

// ---------------------------------------------------------------------------------------------
// The example studies
// ---------------------------------------------------------------------------------------------

fn shared_data() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if p.join("vectors/seven_cities.geojson").is_file() {
        Some(p)
    } else {
        println!("SKIPPED: {} is missing (the shared real data)", p.display());
        None
    }
}

#[test]
fn the_seven_cities_example_is_valid_but_has_no_modis_data_here() {
    if shared_data().is_none() {
        return;
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seven-cities.toml");
    let v = rsei(&["validate", p.to_str().unwrap()]);
    let report = text(&v);
    assert_eq!(v.status.code(), Some(2), "{report}");
    let e = errors(&report);
    // exactly one error per city: it lies outside the MODIS data available here
    assert_eq!(e.len(), 7, "{report}");
    for city in ["Tangshan", "Handan", "Anshan", "Ma'anshan", "Huangshi", "Panzhihua", "Changjiang"] {
        assert!(e.iter().any(|l| l.contains(&format!("area \"{city}\" lies outside the data: no granule of its tile(s)"))), "{city}: {report}");
    }
}

#[test]
fn the_demo_study_matches_the_demo_archive_layout() {
    // its years and driver year are those of the synthetic scene
    let (y0, y1) = rsei_pipeline::demo::DEMO_YEARS;
    assert!(rsei_pipeline::demo::DEMO_STUDY.contains(&format!("years = \"{y0}-{y1}\"")));
    assert!(rsei_pipeline::demo::DEMO_STUDY.contains(&format!("year = {}", rsei_pipeline::demo::drivers::DRIVER_YEAR)));
    // the demo's study file, beside a small archive laid out as `rsei demo` lays it out
    let tmp = TempDir::new("demo-study");
    let data_dir = tmp.path().join("data");
    std::os::unix::fs::symlink(data(), &data_dir).unwrap();
    // (two years: without the trend of the demo, which needs four)
    let study = rsei_pipeline::demo::DEMO_STUDY.replace("years = \"2018-2022\"", "years = \"2019-2020\"").replace("[trend]\nsource = \"pooled\"\n", "");
    let p = write(tmp.path(), "study.toml", &study);
    let v = rsei(&["validate", p.to_str().unwrap()]);
    let report = text(&v);
    assert!(v.status.success(), "{report}");
    assert!(report.contains("drivers 2019"), "{report}");
}

#[test]
fn the_documentation_names_every_key() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/STUDY.md")).unwrap();
    fn keys(v: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
        if let Some(m) = v.as_object() {
            for (k, sub) in m {
                out.push(if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") });
                keys(sub, k, out);
            }
        }
    }
    let mut all = Vec::new();
    keys(&serde_json::to_value(rsei_pipeline::study::schema::StudySection::default()).unwrap(), "", &mut all);
    keys(&serde_json::to_value(rsei_pipeline::study::schema::DataSection::default()).unwrap(), "", &mut all);
    keys(&serde_json::to_value(rsei_pipeline::study::schema::AreaEntry::default()).unwrap(), "", &mut all);
    keys(&serde_json::to_value(rsei_pipeline::options::RseiRunOptions::default()).unwrap(), "", &mut all);
    keys(&serde_json::to_value(rsei_pipeline::study::schema::MineKeys::default()).unwrap(), "", &mut all);
    keys(&serde_json::to_value(rsei_pipeline::mining::MiningRunOptions::default()).unwrap(), "", &mut all);
    keys(&serde_json::to_value(rsei_pipeline::study::schema::DriverKeys::default()).unwrap(), "", &mut all);
    keys(&serde_json::to_value(rsei_pipeline::drivers::DriverRunOptions::default()).unwrap(), "", &mut all);
    // a key as `key`, a table as the end of its header ([rsei.composite])
    let missing: Vec<&String> = all
        .iter()
        .filter(|k| {
            let last = k.rsplit('.').next().unwrap_or(k);
            !doc.contains(&format!("`{last}`")) && !doc.contains(&format!(".{last}]"))
        })
        .collect();
    assert!(missing.is_empty(), "docs/STUDY.md does not document {missing:?}");
}
