//! Helpers shared by the integration tests (each test file includes this module).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh temporary folder for one test, removed when dropped. Named after the test file and the
/// process, so that test files running at the same time never share one.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("rsei-{}-test-{}-{name}", env!("CARGO_CRATE_NAME"), std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Removes the fixture folders `<prefix><pid>` of earlier test processes that have ended.
pub fn remove_stale_fixtures(prefix: &str) {
    if !cfg!(target_os = "linux") {
        return;
    }
    let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix(prefix).and_then(|p| p.parse::<u32>().ok()) {
            if !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

/// Runs the `rsei` binary of this build.
pub fn rsei(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rsei")).args(args).output().expect("running rsei")
}

/// Standard output and standard error of a run.
pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A JSON file; a missing or damaged file fails the test naming it.
pub fn json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Copies a folder and everything under it.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// Every file under `dir` with its bytes, by path relative to `dir`.
pub fn file_bytes(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    files_where(dir, |_| true)
}

/// The results under `dir`: every file but manifests (which name their inputs' paths) and the
/// hidden folders (state, caches), with its bytes.
pub fn result_bytes(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    files_where(dir, |p| {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if p.is_dir() { !name.starts_with('.') } else { name != "manifest.json" }
    })
}

/// The files under `dir` (and the folders entered) that `keep` accepts, with their bytes.
fn files_where(dir: &Path, keep: impl Fn(&Path) -> bool) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if !keep(&p) {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The units a `rsei run` log says it computed (`compute  LABEL (why)`), sorted.
pub fn computed(log: &str) -> Vec<String> {
    let mut v: Vec<String> = log.lines().filter_map(|l| l.strip_prefix("compute  ")).map(|l| l.rsplit_once(" (").map_or(l, |(a, _)| a).to_string()).collect();
    v.sort();
    v
}
