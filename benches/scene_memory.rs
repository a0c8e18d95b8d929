//! Memory benchmark of a scene run: RSEI of one area from three Landsat 8 Collection 2 Level-2
//! scenes (**synthetic, not real data**: `tests/synthetic_scenes`, 160 × 160 cells at 30 m),
//! computed on a grid much finer than the scenes (`--resolution`, default 0.5 m: 8 640 × 8 640 =
//! 74.6 M cells) under the default memory budget, with the peak resident memory of the run.
//!
//! ```sh
//! cargo bench --bench scene_memory -- [DIR] [--resolution 0.5] [--memory 2GiB]
//! RSEI_BENCH_EXE=/path/to/another/rsei cargo bench --bench scene_memory -- …   # another build
//! ```
//!
//! The fine grid stands for a large area: every cell is read, composited, modelled and written as
//! a 30 m cell of a large scene would be. Kept in memory, such a year needs about 100 bytes a
//! cell (7.5 GB here); under the budget it goes through temporary files in strips.

#[allow(dead_code)]
#[path = "support/mod.rs"]
mod support;
#[allow(dead_code)]
#[path = "../tests/synthetic_scenes/mod.rs"]
mod synthetic_scenes;

use std::path::PathBuf;

use anyhow::Result;
use support::{timed, walk};
use synthetic_scenes as syn;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let mut dir = PathBuf::from("/tmp/rsei-bench-scene-memory");
    let mut resolution = "0.5".to_string();
    let mut memory: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--resolution" => resolution = it.next().cloned().unwrap_or(resolution),
            "--memory" => memory = it.next().cloned(),
            other => dir = PathBuf::from(other),
        }
    }
    let res: f64 = resolution.parse()?;
    let data = dir.join("data");
    let grid = syn::scene_grid(440_010.0, 4_400_010.0, 30.0, syn::ROWS, syn::COLS);
    if !data.join("COMPLETE").exists() {
        let _ = std::fs::remove_dir_all(&data);
        for s in [
            syn::LandsatSpec::l8("2019-06-10", (20, 20, 50, 60), (60, 20, 75, 60)),
            syn::LandsatSpec::l8("2019-07-12", (90, 100, 130, 150), (130, 100, 140, 150)),
            syn::LandsatSpec::l8("2019-08-13", (10, 120, 25, 155), (140, 10, 150, 40)),
        ] {
            syn::write_landsat(&data, &grid, &s);
        }
        std::fs::write(data.join("COMPLETE"), "three synthetic Landsat 8 C2 L2 scenes of 2019\n")?;
    }
    let area = dir.join("area.geojson");
    syn::area_geojson(&area, &grid, 8, 8, 152, 152);
    let side = (144.0 * 30.0 / res).round() as u64;
    let out = dir.join("out");
    let _ = std::fs::remove_dir_all(&out);
    let mut a: Vec<&str> = vec![
        "--quiet", "compute", "--data", data.to_str().unwrap(), "--area", area.to_str().unwrap(), "--out", out.to_str().unwrap(), "--years", "2019", "--window", "0:0", "--crs", "EPSG:32650",
        "--resolution", &resolution, "--no-overviews", "--no-map",
    ];
    if let Some(m) = &memory {
        a.extend(["--memory", m.as_str()]);
    }
    let (secs, peak, _) = timed(&a)?;
    let bytes: u64 = walk(&out).iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum();
    println!("| cells | budget | time | peak memory | outputs |");
    println!("|---:|---|---:|---:|---:|");
    println!(
        "| {side} × {side} = {:.1} M | {} | {secs:.1} s | {peak:.0} MiB | {:.2} GB |",
        (side * side) as f64 / 1e6,
        memory.as_deref().unwrap_or("2GiB (default)"),
        bytes as f64 / 1e9
    );
    Ok(())
}
