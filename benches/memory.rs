//! Memory benchmark: RSEI of one area of 20 000 × 20 000 cells at 500 m (400 M cells, ≈ 9 270 km
//! square on the sinusoidal grid, 9 × 9 MODIS tiles) under the default memory budget, with the
//! peak resident memory of the run.
//!
//! ```sh
//! cargo bench --bench memory -- [DIR] [--cells N] [--memory 2GiB] [--threads N]
//! ```
//!
//! The archive (**synthetic, not real data**) is generated once into DIR (default
//! `/tmp/rsei-bench-memory`) and reused: tiles h14–h22 × v04–v12, one date of each product in the
//! 2019 growing season (MOD09A1 and MOD11A2 on day 193, MOD13A1 on day 193), per-layer deflate
//! GeoTIFFs. Each tile holds the same landscape of smooth noise (vegetation, bare soil, built-up
//! land, water) shifted by the tile's position, so the 81 tiles are distinct files and every cell
//! of the area has data. The area is a rectangle of N × N cells (default 20 000) inside the
//! mosaic, given as a GeoJSON polygon in WGS 84 (its corners are exact on the sinusoidal grid).
//!
//! The run is the release binary `rsei compute --window 0:0` (one season), timed, with its peak
//! memory (`VmHWM` of the child, polled every 20 ms). Kept in memory, such an area would need
//! about 40 bytes per cell for its composites and indicators alone (16 GB).

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use rayon::prelude::*;
use rsei_core::grid::modis::{self, Resolution};
use rsei_core::{GeoTransform, Grid, Raster};
use rsei_io::write::WriteValue;
use rsei_io::{write_raster, Compression, Overviews, RasterFormat, WriteOptions};
use support::{field, timed, walk};

const H: std::ops::RangeInclusive<u8> = 14..=22;
const V: std::ops::RangeInclusive<u8> = 4..=12;
const YEAR: i32 = 2019;
const DOY: u32 = 193;
/// Sphere radius of the MODIS sinusoidal grid (m).
const R: f64 = 6_371_007.181;



/// Cover fractions (vegetation, soil, built-up, water) at global 500 m cell (r, c).
fn cover(r: usize, c: usize) -> [f32; 4] {
    let veg = field(1, r, c, 90.0) * 0.7 + field(2, r, c, 17.0) * 0.3;
    let water = if field(3, r, c, 60.0) > 0.82 { 1.0 } else { 0.0 };
    let urban = (field(4, r, c, 40.0) - 0.65).max(0.0) * 2.5;
    let urban = urban.min(1.0 - water);
    let veg = (veg * (1.0 - urban - water)).max(0.0);
    [veg, (1.0 - veg - urban - water).max(0.0), urban, water]
}

/// Endmember reflectances of MODIS bands 1–7 (red, NIR, blue, green, 1240, 1640, 2130 nm).
const ENDMEMBERS: [[f32; 7]; 4] = [
    [0.04, 0.40, 0.03, 0.07, 0.38, 0.20, 0.09],
    [0.25, 0.32, 0.15, 0.20, 0.35, 0.40, 0.33],
    [0.18, 0.22, 0.14, 0.16, 0.23, 0.25, 0.22],
    [0.03, 0.02, 0.05, 0.05, 0.01, 0.01, 0.005],
];

fn reflectance(m: [f32; 4]) -> [f32; 7] {
    let mut rho = [0f32; 7];
    for (k, e) in ENDMEMBERS.iter().enumerate() {
        for b in 0..7 {
            rho[b] += m[k] * e[b];
        }
    }
    rho
}

fn tile_grid(h: u8, v: u8, res: Resolution) -> Grid {
    let n = if res == Resolution::M500 { 2400 } else { 1200 };
    let cs = modis::TILE_SIZE_M / n as f64;
    let x0 = modis::X_MIN + f64::from(h) * modis::TILE_SIZE_M;
    let y0 = modis::Y_MAX - f64::from(v) * modis::TILE_SIZE_M;
    Grid::new(n, n, GeoTransform::new(x0, cs, y0, -cs), rsei_core::Crs::modis_sinusoidal())
}

fn write<T: WriteValue>(dir: &Path, product: &str, layer: &str, (h, v): (u8, u8), grid: &Grid, data: Vec<T>) -> Result<()> {
    let name = format!("{product}.A{YEAR}{DOY:03}.h{h:02}v{v:02}.061.{YEAR}{:03}000000_{layer}.tif", DOY + 9);
    let p = dir.join(product).join(name);
    let mut o = WriteOptions::default()
        .with_format(RasterFormat::GTiff)
        .with_compression(Compression::Deflate, Some(1))
        .with_tag("SYNTHETIC", "synthetic data of the rsei memory benchmark, not real MODIS data")
        .with_tag(rsei_io::naming::TAG_PRODUCT, product)
        .with_tag(rsei_io::naming::TAG_LAYER, layer)
        .with_tag(rsei_io::naming::TAG_DATE, format!("{YEAR}-{DOY:03}"))
        .with_tag(rsei_io::naming::TAG_TILE, format!("h{h:02}v{v:02}"));
    o.overviews = Overviews::None;
    write_raster(&p, &Raster::new(grid.clone(), data)?, &o).with_context(|| format!("writing {}", p.display()))?;
    Ok(())
}

fn generate_tile(dir: &Path, h: u8, v: u8) -> Result<()> {
    let g = tile_grid(h, v, Resolution::M500);
    let (r0, c0) = (usize::from(v - V.start()) * 2400, usize::from(h - H.start()) * 2400);
    let n = g.len();
    let mut bands: Vec<Vec<i16>> = vec![vec![0; n]; 7];
    let mut ndvi = vec![0i16; n];
    let mut state = vec![0u16; n];
    let mut lst_fine = vec![0f32; n];
    for i in 0..n {
        let (r, c) = (r0 + i / 2400, c0 + i % 2400);
        let m = cover(r, c);
        let rho = reflectance(m);
        for b in 0..7 {
            bands[b][i] = (rho[b] * 10_000.0).round() as i16;
        }
        ndvi[i] = ((rho[1] - rho[0]) / (rho[1] + rho[0]) * 10_000.0).round() as i16;
        // clear, land or water, low aerosol, BRDF corrected
        state[i] = (if m[3] > 0.5 { 3 } else { 1 }) << 3 | 1 << 6 | 1 << 14;
        lst_fine[i] = 24.0 + 8.0 * m[2] + 11.0 * m[1] - 6.0 * m[0] - 7.0 * m[3] + 2.0 * field(5, r, c, 300.0);
    }
    for (b, band) in bands.into_iter().enumerate() {
        write(dir, "MOD09A1", &format!("sur_refl_b{:02}", b + 1), (h, v), &g, band)?;
    }
    write(dir, "MOD09A1", "sur_refl_qc_500m", (h, v), &g, vec![3u32 << 30; n])?;
    write(dir, "MOD09A1", "sur_refl_state_500m", (h, v), &g, state)?;
    write(dir, "MOD13A1", "500m_16_days_NDVI", (h, v), &g, ndvi)?;
    write(dir, "MOD13A1", "500m_16_days_pixel_reliability", (h, v), &g, vec![0u8; n])?;
    let g1 = tile_grid(h, v, Resolution::Km1);
    let lst: Vec<u16> = (0..g1.len())
        .map(|k| {
            let (r, c) = (k / 1200, k % 1200);
            let t = (0..4).map(|j| lst_fine[(2 * r + j / 2) * 2400 + 2 * c + j % 2]).sum::<f32>() / 4.0;
            ((t + 273.15) / 0.02).round() as u16
        })
        .collect();
    write(dir, "MOD11A2", "LST_Day_1km", (h, v), &g1, lst)?;
    write(dir, "MOD11A2", "QC_Day", (h, v), &g1, vec![0u8; g1.len()])?;
    Ok(())
}

/// Sinusoidal (x, y) → (lon, lat) in degrees.
fn lonlat(x: f64, y: f64) -> (f64, f64) {
    let lat = y / R;
    ((x / (R * lat.cos())).to_degrees(), lat.to_degrees())
}

/// The area: a rectangle of `cells` × `cells` 500 m cells, 400 cells in from the mosaic's
/// north-west corner; its corners (and points along its edges) are cell corners.
fn area_geojson(cells: usize) -> String {
    let g = tile_grid(*H.start(), *V.start(), Resolution::M500);
    let t = *g.transform();
    let cs = g.cell_size().0;
    let (x0, y1) = (t.x0 + 400.0 * cs, t.y0 - 400.0 * cs);
    let (x1, y0) = (x0 + cells as f64 * cs, y1 - cells as f64 * cs);
    let steps = 16;
    let mut ring = Vec::new();
    for k in 0..steps {
        ring.push((x0 + (x1 - x0) * k as f64 / steps as f64, y1));
    }
    for k in 0..steps {
        ring.push((x1, y1 - (y1 - y0) * k as f64 / steps as f64));
    }
    for k in 0..steps {
        ring.push((x1 - (x1 - x0) * k as f64 / steps as f64, y0));
    }
    for k in 0..steps {
        ring.push((x0, y0 + (y1 - y0) * k as f64 / steps as f64));
    }
    ring.push(ring[0]);
    let coords: Vec<String> = ring.iter().map(|&(x, y)| lonlat(x, y)).map(|(lon, lat)| format!("[{lon:.10},{lat:.10}]")).collect();
    format!(
        "{{\"type\":\"FeatureCollection\",\"features\":[{{\"type\":\"Feature\",\"properties\":{{\"name\":\"Large area {cells}x{cells}\"}},\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":[[{}]]}}}}]}}\n",
        coords.join(",")
    )
}


fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let mut dir = PathBuf::from("/tmp/rsei-bench-memory");
    let mut cells = 20_000usize;
    let mut memory: Option<String> = None;
    let mut threads: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--cells" => cells = it.next().and_then(|v| v.parse().ok()).unwrap_or(cells),
            "--memory" => memory = it.next().cloned(),
            "--threads" => threads = it.next().cloned(),
            other => dir = PathBuf::from(other),
        }
    }
    anyhow::ensure!(cells + 400 <= 9 * 2400, "--cells {cells}: at most {} (the mosaic is 21 600 cells wide)", 9 * 2400 - 400);
    let data = dir.join("data");
    let tag = "tiles h14-h22 v04-v12, 2019-193, one date per product (noise keys of benches/support)\n";
    if std::fs::read_to_string(data.join("COMPLETE")).ok().as_deref() != Some(tag) {
        let _ = std::fs::remove_dir_all(&data);
        for p in ["MOD09A1", "MOD13A1", "MOD11A2"] {
            std::fs::create_dir_all(data.join("modis").join(p))?;
        }
        let t = Instant::now();
        let tiles: Vec<(u8, u8)> = V.flat_map(|v| H.map(move |h| (h, v))).collect();
        tiles.par_iter().try_for_each(|&(h, v)| generate_tile(&data.join("modis"), h, v))?;
        std::fs::write(data.join("COMPLETE"), tag)?;
        println!("generated the synthetic archive in {:.1} s ({} tiles)", t.elapsed().as_secs_f64(), tiles.len());
    }
    let area = dir.join(format!("area_{cells}.geojson"));
    std::fs::write(&area, area_geojson(cells))?;
    let out = dir.join(format!("out_{cells}"));
    let _ = std::fs::remove_dir_all(&out);
    let modis_dir = data.join("modis");
    let mut a: Vec<&str> = vec!["-q", "compute", "--data", modis_dir.to_str().unwrap_or_default(), "--area"];
    a.extend([area.to_str().unwrap_or_default(), "--years", "2019", "--window", "0:0", "--out", out.to_str().unwrap_or_default()]);
    if let Some(m) = &memory {
        a.extend(["--memory", m.as_str()]);
    }
    if let Some(t) = &threads {
        a.extend(["--threads", t.as_str()]);
    }
    let (secs, peak, log) = timed(&a)?;
    println!(
        "rsei compute of {cells} × {cells} cells ({:.0} M) under the {} budget: {secs:.1} s, peak memory {peak:.0} MiB",
        (cells * cells) as f64 / 1e6,
        memory.as_deref().unwrap_or("default (2GiB)")
    );
    for l in log.lines().filter(|l| l.contains("granule layers read") || l.contains("pixels") || l.starts_with("warning")) {
        println!("  {}", l.trim());
    }
    let bytes: u64 = walk(&out).iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum();
    println!("  outputs: {:.2} GB in {}", bytes as f64 / 1e9, out.display());
    Ok(())
}

