//! RSEI and the mining impact computed with the `rsei-pipeline` library alone, without the
//! command line:
//!
//! ```sh
//! cargo run --release --example library -- OUT_DIR
//! ```
//!
//! It writes a small SYNTHETIC MODIS archive (three seasons of the demo scene: mines, a city, a
//! river, clouds) to `OUT_DIR/data`, computes RSEI of 2020 for every city of the scene
//! (`OUT_DIR/results/<city>/2020/`), then the mining analysis of the first city
//! (`OUT_DIR/results/<city>/mining/`), and prints what each step returned. Progress is recorded
//! by a [`Recorder`] and printed at the end: the library itself never prints.

use std::path::PathBuf;

use rsei_pipeline::archive::Archive;
use rsei_pipeline::area::{load_areas, AreaSource};
use rsei_pipeline::demo::archive::generate_years;
use rsei_pipeline::mining::{self, AreaInput, MineSource, MiningRequest, MiningRunOptions};
use rsei_pipeline::options::{RseiRunOptions, RunInputs};
use rsei_pipeline::progress::Recorder;
use rsei_pipeline::{run, ComputeRequest};

fn main() -> Result<(), rsei_pipeline::Error> {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "rsei-library-example".into()));
    let year = 2020;

    // 1. a synthetic archive: the seasons of 2019–2021 (the ±1-year window of 2020)
    let data = generate_years(&out.join("data"), 42, year - 1, year + 1)?;

    // 2. RSEI of every city in the scene
    let inputs = RunInputs { data: vec![data.modis_dir.clone()], landcover: Some(data.landcover.clone()) };
    let archive = Archive::scan(&inputs.data)?;
    let areas = load_areas(&AreaSource::file(&data.city))?;
    // every option keeps the METHOD.md default but the water classes: the synthetic land cover is
    // coded as MCD12Q1 LC_Type1 (17 water bodies, 11 permanent wetlands), as in the demo study
    let mut options = RseiRunOptions::default();
    options.water.landcover_water_classes = vec![17, 11];
    let results = out.join("results");
    let progress = Recorder::new();
    let req = ComputeRequest { archive: &archive, inputs: &inputs, areas: &areas, years: &[year], options: &options, out_dir: &results };
    let years = run::run(&req, &progress)?;
    for y in &years {
        let [ndvi, wet, ndbsi, lst] = y.model.pc1;
        println!(
            "{} {}: RSEI mean {:.4} over {} pixels; PC1 loadings NDVI {ndvi:+.3} WET {wet:+.3} NDBSI {ndbsi:+.3} LST {lst:+.3}",
            y.area,
            y.year,
            y.rsei_mean.unwrap_or(f64::NAN),
            y.n_pixels
        );
    }

    // 3. mining impact in the first city, from the RSEI just written
    let area = areas[0].clone();
    let mining_dir = results.join(area.slug()).join("mining");
    let req = MiningRequest {
        rsei_dir: results.clone(),
        area: AreaInput::Loaded { area, file: Some(data.city.clone()) },
        years: None,
        mines: MineSource::file(&data.mines),
        options: MiningRunOptions::default(),
    };
    let m = mining::run(&req, &mining_dir)?;
    for d in &m.per_year {
        println!(
            "{} {}: mean RSEI inside the mines {:.4}, whole city {:.4}",
            m.area,
            d.year,
            d.mines_mean.unwrap_or(f64::NAN),
            d.city_mean.unwrap_or(f64::NAN)
        );
    }
    match m.peak_distance_km {
        Some(km) => println!("{}: RSEI peaks in the ring at {km} km from the mines", m.area),
        None => println!("{}: no peak distance (too few rings)", m.area),
    }
    for line in progress.lines() {
        println!("note: {line}");
    }
    println!("outputs in {}", results.display());
    Ok(())
}
