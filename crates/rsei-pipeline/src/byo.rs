//! "Bring your own indicators": the RSEI model on four indicator rasters computed elsewhere
//! (for example from Landsat), with an optional validity mask — same model, same outputs.

use std::path::{Path, PathBuf};

use crate::error::{Context, Result};
use rsei_core::model::{self, GradeTable, RseiOptions};
use rsei_core::{Grid, Raster};
use rsei_io::plain::read_plain;
use rsei_io::{write_raster, WriteOptions};

use crate::error::Error;
use crate::outputs::{checksum, render_rsei_map, write_area_tables, InputFile, SOFTWARE};
use crate::run::YearSummary;

fn same_grid(reference: &Grid, ref_path: &Path, g: &Grid, path: &Path) -> Result<Grid> {
    if reference.same_as(g) {
        return Ok(g.clone());
    }
    // the same CRS may be spelled differently by different writers
    let same_crs = rsei_io::crs::crs_equivalent(reference.crs(), g.crs()).unwrap_or(false);
    let g2 = g.clone().with_crs(reference.crs().clone());
    if same_crs && reference.same_as(&g2) {
        return Ok(g2);
    }
    let why = match reference.check_same(&g2) {
        Err(e) if same_crs => e.to_string(),
        _ if !same_crs => format!("different CRS ({} vs {})", reference.crs(), g.crs()),
        _ => "different grids".into(),
    };
    Err(Error::input(path, format!(
        "{} and {} are not on the same grid: {why}; warp them onto one grid first (e.g. gdalwarp -tap)",
        ref_path.display(),
        path.display()
    )))
}

/// Four indicator rasters made elsewhere (same grid), and where the RSEI outputs go.
///
/// ```no_run
/// use rsei_pipeline::byo::{run, IndicatorRequest};
///
/// let req = IndicatorRequest {
///     ndvi: "ndvi.tif".into(), wet: "wet.tif".into(), ndbsi: "ndbsi.tif".into(), lst: "lst.tif".into(),
///     valid: None, name: "Tangshan".into(), year: 2019, out: "out".into(), options: Default::default(),
/// };
/// let summary = run(&req)?;
/// println!("mean RSEI {:?}, PC1 {:.1} %", summary.rsei_mean, 100.0 * summary.model.pc1_contribution);
/// # Ok::<(), rsei_pipeline::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct IndicatorRequest {
    /// Greenness raster (e.g. NDVI).
    pub ndvi: PathBuf,
    /// Wetness raster.
    pub wet: PathBuf,
    /// Dryness raster (NDBSI).
    pub ndbsi: PathBuf,
    /// Heat raster (LST).
    pub lst: PathBuf,
    /// Validity mask (non-zero = usable), e.g. a water/cloud mask made with the indicators.
    pub valid: Option<PathBuf>,
    /// Name of the area (for tables and maps).
    pub name: String,
    /// Year (for tables and maps).
    pub year: i32,
    /// Output folder.
    pub out: PathBuf,
    /// Options of the RSEI model (normalisation, PC1 orientation).
    pub options: RseiOptions,
}

/// Runs the model on the four rasters of `args` and writes the outputs to `args.out`.
pub fn run(args: &IndicatorRequest) -> Result<YearSummary> {
    let opts = &args.options;
    let paths: [&PathBuf; 4] = [&args.ndvi, &args.wet, &args.ndbsi, &args.lst];
    let names = ["NDVI", "WET", "NDBSI", "LST"];
    let mut layers: Vec<Raster<f32>> = Vec::new();
    for (p, n) in paths.iter().zip(names) {
        layers.push(read_plain(p, 1).with_context(|| format!("reading the {n} raster"))?);
    }
    let grid = layers[0].grid().clone();
    for (k, l) in layers.iter().enumerate().skip(1) {
        same_grid(&grid, paths[0], l.grid(), paths[k])?;
    }
    let mut valid: Vec<bool> = vec![true; grid.len()];
    if let Some(vp) = &args.valid {
        let m = read_plain(vp, 1).context("reading the validity mask")?;
        same_grid(&grid, paths[0], m.grid(), vp)?;
        for (v, &x) in valid.iter_mut().zip(m.data()) {
            *v = x.is_finite() && x != 0.0;
        }
    }
    let four: [&[f32]; 4] = std::array::from_fn(|k| layers[k].data());
    for (k, l) in four.iter().enumerate() {
        if !l.iter().zip(&valid).any(|(x, &v)| v && x.is_finite()) {
            return Err(Error::input(paths[k], format!("{} ({}) has no valid value where the mask allows", paths[k].display(), names[k])));
        }
    }
    let out = model::compute_rsei(four, Some(&valid), grid.rows(), grid.cols(), opts)
        .with_context(|| format!("RSEI model on {} …", paths[0].display()))?;
    let usable: Vec<bool> = (0..grid.len()).map(|i| valid[i] && four.iter().all(|l| l[i].is_finite())).collect();
    let dir = &args.out;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tags = WriteOptions::continuous().with_tag("SOFTWARE", SOFTWARE);
    let mut o = tags.clone();
    o.band.description = Some("RSEI (0 worst .. 1 best)".into());
    let rsei_path = dir.join("rsei.tif");
    write_raster(&rsei_path, &Raster::new(grid.clone(), out.rsei.clone())?, &o)?;
    let grade: Vec<u8> = out.rsei.iter().map(|&v| GradeTable::grade_of(v).map_or(0, |k| k as u8 + 1)).collect();
    let mut o = WriteOptions::classes().with_tag("SOFTWARE", SOFTWARE);
    o.nodata = Some(0.0);
    o.band.description = Some("RSEI grade: 1 poor, 2 fair, 3 moderate, 4 good, 5 excellent".into());
    let grade_path = dir.join("grade.tif");
    write_raster(&grade_path, &Raster::new(grid.clone(), grade)?, &o)?;
    let no_water = vec![false; grid.len()];
    let png = render_rsei_map(&grid, &out.rsei, &no_water, &usable, &format!("RSEI {} {}", args.name, args.year))?;
    let map_path = dir.join("rsei_map.png");
    rsei_report::write_png(&map_path, &png)?;
    let pixel_area_km2 = grid.cell_area() / 1e6;
    let mut m = rsei_core::accum::Moments::default();
    m.update_slice(&out.rsei);
    let mean_of = |l: &[f32]| {
        let mut mm = rsei_core::accum::Moments::default();
        for (x, &u) in l.iter().zip(&usable) {
            if u {
                mm.update(f64::from(*x));
            }
        }
        mm.mean()
    };
    let summary = YearSummary {
        area: args.name.clone(),
        year: args.year,
        n_pixels: out.model.n_pixels,
        n_water: 0,
        pixel_area_km2,
        rsei_mean: m.mean(),
        rsei_std: m.std_sample(),
        model: out.model.clone(),
        rsei0_range: out.rsei0_range,
        grades: out.grades.report(pixel_area_km2),
        indicator_means: [mean_of(four[0]), mean_of(four[1]), mean_of(four[2]), mean_of(four[3])],
        qa: Vec::new(),
        composite: "indicators supplied by the user".into(),
        warnings: out.model.warnings.clone(),
        folder: PathBuf::from("."),
        sensor: None,
    };
    let sp = dir.join("summary.json");
    rsei_core::fsutil::write_atomic(&sp, &serde_json::to_vec_pretty(&summary)?)?;
    write_area_tables(dir, std::slice::from_ref(&summary))?;
    let mut inputs: Vec<InputFile> = paths.iter().map(|p| checksum(p)).collect::<Result<_>>()?;
    if let Some(v) = &args.valid {
        inputs.push(checksum(v)?);
    }
    let outputs: Vec<InputFile> = [&rsei_path, &grade_path, &map_path, &sp].iter().map(|p| checksum(p)).collect::<Result<_>>()?;
    let manifest = serde_json::json!({
        "software": SOFTWARE,
        "inputs": inputs,
        "indicators": {"ndvi": args.ndvi, "wet": args.wet, "ndbsi": args.ndbsi, "lst": args.lst, "valid": args.valid},
        "options": opts,
        "outputs": outputs,
    });
    rsei_core::fsutil::write_atomic(&dir.join("manifest.json"), &serde_json::to_vec_pretty(&manifest)?)?;
    Ok(summary)
}
