//! The demo's outputs, byte for byte.
//!
//! `rsei demo` (the demo study run through the command line) must write exactly the files whose
//! SHA-256 sums are stored in `tests/expected/demo-checksums.txt`: any change of a number, a
//! table, a raster, a chart or the report shows up here. The demo runs in a fixed folder
//! (outputs record absolute input paths); text files are hashed with that folder's path replaced
//! by `<DEMO>`, rasters and images as written. The run state (`results/.rsei/`, which holds file times) is
//! not an output and is left out.
//!
//! A change that alters the outputs on purpose (a new method, a new output, a new report section)
//! updates the list with `RSEI_BLESS=1 cargo test --release --test demo_outputs` and says so in
//! its commit.
//!
//! The same test file checks that `examples/library.rs` (compute + mining through the library,
//! without the command line) writes the same RSEI rasters as the demo for the year it computes.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use common::{rsei, text};

const EXPECTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/expected/demo-checksums.txt");
const TEXT_EXTENSIONS: [&str; 7] = ["json", "csv", "html", "svg", "txt", "toml", "md"];

/// Where the demo runs. Some outputs record the absolute paths of their inputs, and manifests
/// record the size and checksum of such outputs, so the demo always runs in the same folder (and
/// the folder's path is still replaced in text files, as a second guard).
const DEMO_DIR: &str = "/tmp/rsei-demo-outputs";

/// The demo, run once for this test binary in a fresh folder. A lock file keeps two test
/// processes on one machine from sharing the folder (the second waits for the first to end).
fn demo_dir() -> &'static Path {
    static LOCK: OnceLock<std::fs::File> = OnceLock::new();
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let lock = std::fs::File::create(format!("{DEMO_DIR}.lock")).expect("creating the lock file of the demo folder");
        lock.lock().expect("locking the demo folder");
        let _ = LOCK.set(lock);
        let dir = PathBuf::from(DEMO_DIR);
        let _ = std::fs::remove_dir_all(&dir);
        let o = rsei(&["--quiet", "demo", "--out", DEMO_DIR]);
        assert!(o.status.success(), "rsei demo failed:\n{}", text(&o));
        dir
    })
}

fn files_under(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == ".rsei") {
                continue;
            }
            files_under(root, &p, out);
        } else {
            out.push(p.strip_prefix(root).unwrap().to_path_buf());
        }
    }
}

/// SHA-256 of every output file under `results`, text files with the demo folder's path replaced.
fn checksums(demo: &Path) -> BTreeMap<String, String> {
    let results = demo.join("results");
    let mut files = Vec::new();
    files_under(&results, &results, &mut files);
    let spellings: Vec<String> = {
        let mut s = vec![demo.display().to_string()];
        if let Ok(c) = std::fs::canonicalize(demo) {
            s.push(c.display().to_string());
        }
        s.sort_by_key(|x| std::cmp::Reverse(x.len()));
        s
    };
    files
        .into_iter()
        .map(|rel| {
            let bytes = std::fs::read(results.join(&rel)).unwrap();
            let is_text = rel.extension().and_then(|e| e.to_str()).is_some_and(|e| TEXT_EXTENSIONS.contains(&e));
            let bytes = if is_text {
                let mut t = String::from_utf8(bytes).unwrap_or_else(|e| panic!("{}: not UTF-8: {e}", rel.display()));
                for s in &spellings {
                    t = t.replace(s.as_str(), "<DEMO>");
                }
                t.into_bytes()
            } else {
                bytes
            };
            (rel.display().to_string(), format!("{:x}", Sha256::digest(&bytes)))
        })
        .collect()
}

fn read_expected() -> BTreeMap<String, String> {
    let t = std::fs::read_to_string(EXPECTED).unwrap_or_else(|e| panic!("{EXPECTED}: {e} (make it with RSEI_BLESS=1)"));
    t.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (sum, path) = l.split_once("  ").unwrap_or_else(|| panic!("{EXPECTED}: malformed line {l:?}"));
            (path.to_string(), sum.to_string())
        })
        .collect()
}

#[test]
fn demo_outputs_are_byte_identical_to_the_stored_checksums() {
    let demo = demo_dir();
    let got = checksums(demo);
    assert!(got.len() > 100, "the demo wrote only {} files", got.len());
    if std::env::var_os("RSEI_BLESS").is_some() {
        let mut t = String::from("# SHA-256 of every output of `rsei demo` (results/, without the run state .rsei/); text files with\n# the demo folder's path replaced by <DEMO>. Made by `RSEI_BLESS=1 cargo test --release --test demo_outputs`.\n");
        for (p, s) in &got {
            t.push_str(&format!("{s}  {p}\n"));
        }
        std::fs::create_dir_all(Path::new(EXPECTED).parent().unwrap()).unwrap();
        std::fs::write(EXPECTED, t).unwrap();
        return;
    }
    let want = read_expected();
    let changed: Vec<&String> = want.keys().filter(|p| got.get(*p).is_some_and(|s| s != &want[*p])).collect();
    let missing: Vec<&String> = want.keys().filter(|p| !got.contains_key(*p)).collect();
    let new: Vec<&String> = got.keys().filter(|p| !want.contains_key(*p)).collect();
    assert!(
        changed.is_empty() && missing.is_empty() && new.is_empty(),
        "the demo outputs differ from {EXPECTED}:\n  changed: {changed:?}\n  missing: {missing:?}\n  new: {new:?}\n\
         If the change is intended, update the list with RSEI_BLESS=1 cargo test --release --test demo_outputs"
    );

    // running the study again reuses every unit and changes no file
    let study = demo.join("study.toml");
    let o = rsei(&["--quiet", "run", &study.display().to_string()]);
    assert!(o.status.success(), "rsei run failed:\n{}", text(&o));
    assert_eq!(checksums(demo), got, "rsei run after the demo changed outputs");
}

/// The compiled `examples/library.rs` of this build.
fn library_example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test> → target/<profile>/examples/library
    let p = exe.parent().and_then(Path::parent).unwrap().join("examples").join(format!("library{}", std::env::consts::EXE_SUFFIX));
    assert!(p.is_file(), "{} not found: `cargo test` builds the examples; run the tests with cargo", p.display());
    p
}

#[test]
fn the_library_example_computes_the_demo_rasters_without_the_command_line() {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("library-example");
    let _ = std::fs::remove_dir_all(&out);
    let o = Command::new(library_example()).arg(&out).output().expect("running the library example");
    let printed = text(&o);
    assert!(o.status.success(), "examples/library failed:\n{printed}");
    assert!(printed.contains("Demo City 2020: RSEI mean") && printed.contains("mean RSEI inside the mines"), "{printed}");
    // the example computes 2020 from the seasons 2019–2021 of the same synthetic scene and the
    // demo study's options: its rasters are the demo's, bit for bit
    let demo = demo_dir().join("results");
    for area in ["Demo_City", "Second_City"] {
        for f in ["rsei.tif", "grade.tif", "ndvi.tif", "wet.tif", "ndbsi.tif", "lst_celsius.tif", "water.tif"] {
            let a = std::fs::read(out.join("results").join(area).join("2020").join(f)).unwrap();
            let b = std::fs::read(demo.join(area).join("2020").join(f)).unwrap();
            assert!(a == b, "{area}/2020/{f}: the library example and the demo differ");
        }
    }
    // its mining analysis is complete (the manifest is written last)
    assert!(out.join("results/Demo_City/mining/manifest.json").is_file());
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("results/Demo_City/mining/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["years"], serde_json::json!([2020]));
}
