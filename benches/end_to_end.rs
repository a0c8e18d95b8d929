//! End-to-end benchmark: one full MODIS tile (2400 × 2400 cells at 500 m) over one growing season,
//! from per-layer GeoTIFF granules to every RSEI output.
//!
//! ```sh
//! cargo bench --bench end_to_end -- [DIR] [--threads N]
//! ```
//! The synthetic season (MOD09A1 ×15 dates, MOD13A1 ×8, MOD11A2 ×15; deflate-compressed tiled
//! GeoTIFFs, ≈ 1.6 GB decoded) is generated once into DIR (default `/tmp/rsei-bench-e2e`) and
//! reused. Printed: generation time, run time, cells per second, decoded input volume, peak memory
//! (`VmHWM`). Run under `perf record` to see where the time goes (see BENCHMARKS.md).

use std::path::{Path, PathBuf};
use std::time::Instant;

use geo_types::{polygon, MultiPolygon};
use rayon::prelude::*;
use rsei_pipeline::archive::Archive;
use rsei_pipeline::area::StudyArea;
use rsei_pipeline::options::{RseiRunOptions, RunInputs};
use rsei_pipeline::run::{run, RseiRequest};
use rsei_core::grid::modis::{self, Resolution};
use rsei_core::{Grid, Raster};
use rsei_io::{write_raster, Compression, Overviews, RasterFormat, WriteOptions};

const YEAR: i32 = 2019;
const TILE: (u8, u8) = (27, 5);

fn hash(a: u64, b: u64) -> f32 {
    let mut z = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_add(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32
}

/// Smooth field in 0..1 (bilinear value noise with 64-cell lattice) plus fine noise.
fn field(seed: u64, r: usize, c: usize) -> f32 {
    let (y, x) = (r as f32 / 64.0, c as f32 / 64.0);
    let (yi, xi) = (y.floor(), x.floor());
    let (fy, fx) = (y - yi, x - xi);
    let h = |dy: f32, dx: f32| hash(seed, ((yi + dy) as u64) << 20 | (xi + dx) as u64);
    let a = h(0.0, 0.0) + (h(0.0, 1.0) - h(0.0, 0.0)) * fx;
    let b = h(1.0, 0.0) + (h(1.0, 1.0) - h(1.0, 0.0)) * fx;
    a + (b - a) * fy
}

fn opts() -> WriteOptions {
    let mut o = WriteOptions::default().with_format(RasterFormat::GTiff).with_compression(Compression::Deflate, Some(1));
    o.overviews = Overviews::None;
    o
}

fn name(product: &str, doy: u32, layer: &str) -> String {
    format!("{product}.A{YEAR}{doy:03}.h{:02}v{:02}.061.{YEAR}{:03}000000_{layer}.tif", TILE.0, TILE.1, doy + 9)
}

fn generate(dir: &Path) -> anyhow::Result<()> {
    let g500 = modis::tile_grid(TILE.0, TILE.1, Resolution::M500);
    let g1k = modis::tile_grid(TILE.0, TILE.1, Resolution::Km1);
    let dates8: Vec<u32> = (0..46).map(|k| 1 + 8 * k).filter(|d| (152..=273).contains(d)).collect();
    let dates16: Vec<u32> = (0..23).map(|k| 1 + 16 * k).filter(|d| (152..=273).contains(d)).collect();
    std::fs::create_dir_all(dir)?;
    let n = g500.len();
    let veg: Vec<f32> = (0..n).into_par_iter().map(|i| field(1, i / 2400, i % 2400)).collect();
    let write = |p: PathBuf, grid: &Grid, data: Vec<i16>| write_raster(&p, &Raster::new(grid.clone(), data).unwrap(), &opts());
    let endm = [[0.035f32, 0.42, 0.025, 0.07, 0.40, 0.19, 0.085], [0.22, 0.28, 0.14, 0.18, 0.32, 0.36, 0.30]];
    dates8.par_iter().try_for_each(|&d| -> anyhow::Result<()> {
        let cloud: Vec<bool> = (0..n).map(|i| field(1000 + u64::from(d), i / 2400, i % 2400) > 0.8).collect();
        for b in 0..7 {
            let v: Vec<i16> = (0..n)
                .map(|i| {
                    let f = veg[i];
                    let rho = f * endm[0][b] + (1.0 - f) * endm[1][b] + 0.004 * (hash(u64::from(d) * 7 + b as u64, i as u64) - 0.5);
                    (if cloud[i] { 0.5 } else { rho } * 10_000.0) as i16
                })
                .collect();
            write(dir.join(name("MOD09A1", d, &format!("sur_refl_b{:02}", b + 1))), &g500, v)?;
        }
        let qc: Vec<u32> = cloud.iter().map(|&c| if c { 2 } else { 0 } | (1 << 30)).collect();
        let state: Vec<u16> = cloud.iter().map(|&c| if c { 1 | (1 << 10) } else { 1 << 3 }).collect();
        write_raster(&dir.join(name("MOD09A1", d, "sur_refl_qc_500m")), &Raster::new(g500.clone(), qc)?, &opts())?;
        write_raster(&dir.join(name("MOD09A1", d, "sur_refl_state_500m")), &Raster::new(g500.clone(), state)?, &opts())?;
        let m = g1k.len();
        let lst: Vec<u16> = (0..m).map(|i| ((25.0 + 10.0 * field(7, i / 1200, i % 1200) + 273.15) / 0.02) as u16).collect();
        write_raster(&dir.join(name("MOD11A2", d, "LST_Day_1km")), &Raster::new(g1k.clone(), lst)?, &opts())?;
        write_raster(&dir.join(name("MOD11A2", d, "QC_Day")), &Raster::new(g1k.clone(), vec![0u8; m])?, &opts())?;
        Ok(())
    })?;
    dates16.par_iter().try_for_each(|&d| -> anyhow::Result<()> {
        let v: Vec<i16> = (0..n).map(|i| ((0.2 + 0.6 * veg[i]) * 10_000.0) as i16).collect();
        write(dir.join(name("MOD13A1", d, "500m_16_days_NDVI")), &g500, v)?;
        write_raster(&dir.join(name("MOD13A1", d, "500m_16_days_pixel_reliability")), &Raster::new(g500.clone(), vec![0u8; n])?, &opts())?;
        Ok(())
    })?;
    std::fs::write(dir.join("COMPLETE"), "synthetic benchmark season\n")?;
    Ok(())
}

fn vm_hwm_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok()))
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let mut dir = PathBuf::from("/tmp/rsei-bench-e2e");
    let mut threads = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--threads" => threads = it.next().and_then(|t| t.parse().ok()),
            other => dir = PathBuf::from(other),
        }
    }
    if let Some(t) = threads {
        rayon::ThreadPoolBuilder::new().num_threads(t).build_global()?;
    }
    let data = dir.join("modis");
    if !data.join("COMPLETE").exists() {
        let t = Instant::now();
        generate(&data)?;
        println!("generated the synthetic season in {:.1} s", t.elapsed().as_secs_f64());
    }
    let t0 = Instant::now();
    let archive = Archive::scan(&[data.clone()])?;
    let scan_s = t0.elapsed().as_secs_f64();
    // the whole tile, inset by a quarter cell so that every cell centre is inside
    let b = modis::tile_grid(TILE.0, TILE.1, Resolution::M500).bounds();
    let e = 100.0;
    let poly: MultiPolygon<f64> = MultiPolygon(vec![polygon![
        (x: b.xmin + e, y: b.ymin + e), (x: b.xmax - e, y: b.ymin + e), (x: b.xmax - e, y: b.ymax - e), (x: b.xmin + e, y: b.ymax - e)
    ]]);
    let area = StudyArea { name: "tile h27v05".into(), polygon: poly, area_km2: b.area() / 1e6, source: "benchmark".into(), notes: vec![] };
    let mut options = RseiRunOptions::default();
    options.composite.years_before = 0;
    options.composite.years_after = 0;
    let out = dir.join("out");
    let inputs = RunInputs { data: vec![data], landcover: None };
    let req = RseiRequest { archive: &archive, inputs: &inputs, areas: std::slice::from_ref(&area), years: &[YEAR], options: &options, out_dir: &out };
    let t1 = Instant::now();
    let rows = run(&req, &rsei_pipeline::progress::Silent)?;
    let run_s = t1.elapsed().as_secs_f64();
    let cells = 2400.0 * 2400.0;
    let granule_layers = archive.inventory.granules.iter().map(|g| g.layers.len()).sum::<usize>();
    println!(
        "threads {}: scan {:.2} s, run {:.2} s ({:.2} Mcells/s of output, {} granules / {} layer files), peak memory {:.0} MiB, mean RSEI {:.4}",
        rayon::current_num_threads(),
        scan_s,
        run_s,
        cells / run_s / 1e6,
        archive.inventory.granules.len(),
        granule_layers,
        vm_hwm_mib(),
        rows[0].rsei_mean.unwrap_or(f64::NAN)
    );
    Ok(())
}
