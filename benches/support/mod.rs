//! Shared by the benches (`#[path = "support/mod.rs"] mod support;`): hash noise for the synthetic
//! archives, a timed run of the release binary with its peak memory, a recursive file listing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Result;

/// A hash of two integers in 0..1.
pub fn hash(a: u64, b: u64) -> f32 {
    let mut z = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_add(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32
}

/// Smooth value noise in 0..1 with a lattice of `scale` cells, at cell (r, c) (r, c < 2²⁰ · scale).
pub fn field(seed: u64, r: usize, c: usize, scale: f32) -> f32 {
    let (y, x) = (r as f32 / scale, c as f32 / scale);
    let (yi, xi) = (y.floor(), x.floor());
    let (fy, fx) = (y - yi, x - xi);
    let (fy, fx) = (fy * fy * (3.0 - 2.0 * fy), fx * fx * (3.0 - 2.0 * fx));
    let h = |dy: f32, dx: f32| hash(seed, ((yi + dy) as u64) << 20 | (xi + dx) as u64);
    let a = h(0.0, 0.0) + (h(0.0, 1.0) - h(0.0, 0.0)) * fx;
    let b = h(1.0, 0.0) + (h(1.0, 1.0) - h(1.0, 0.0)) * fx;
    a + (b - a) * fy
}

/// Runs the release binary `rsei` (or the one `RSEI_BENCH_EXE` names: another build, for a
/// before/after comparison) with `args`; returns (seconds, peak memory MiB, stdout + stderr).
pub fn timed(args: &[&str]) -> Result<(f64, f64, String)> {
    let exe = std::env::var("RSEI_BENCH_EXE").unwrap_or_else(|_| env!("CARGO_BIN_EXE_rsei").to_string());
    let t = Instant::now();
    let mut child = Command::new(&exe).args(args).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn()?;
    let pid = child.id();
    let (out, err) = (child.stdout.take(), child.stderr.take());
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut o) = out {
            let _ = std::io::Read::read_to_string(&mut o, &mut s);
        }
        if let Some(mut e) = err {
            let _ = std::io::Read::read_to_string(&mut e, &mut s);
        }
        s
    });
    let mut peak_kb = 0.0f64;
    loop {
        if let Ok(st) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            if let Some(kb) = st.lines().find(|l| l.starts_with("VmHWM")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok()) {
                peak_kb = peak_kb.max(kb);
            }
        }
        if child.try_wait()?.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = child.wait()?;
    let log = reader.join().unwrap_or_default();
    anyhow::ensure!(status.success(), "rsei {} failed ({status}):\n{log}", args.join(" "));
    Ok((t.elapsed().as_secs_f64(), peak_kb / 1024.0, log))
}

/// Every file under `dir`.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(p);
                }
            }
        }
    }
    out
}
