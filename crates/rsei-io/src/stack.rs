//! Aligning driver rasters onto one grid (METHOD §6), and reading barrier lines.
//!
//! A driver is a named variable (GDP, night-time light, PM2.5 …) given as one raster, or as several
//! rasters that are summed into one (twelve monthly precipitation rasters → the annual total). Each
//! file may have any GDAL format, CRS and resolution: [`warp_driver`] warps band 1 of every file onto
//! the target grid with the driver's resampling (`gdalwarp` semantics, see [`crate::warp`]:
//! bilinear for continuous fields, nearest for classes, average to aggregate fine rasters), then
//! sums them cell by cell. Sums commute with bilinear and average resampling (both are linear), so
//! summing after warping equals warping the sum. A cell is `NaN` when any of the files has no value
//! there (a missing month would bias the total).
//!
//! Checks, each naming the driver and the file:
//! - a file whose footprint does not overlap the target grid (checked on the bounds reprojected
//!   to the target CRS, then on the warped values: no valid cell at all) → [`StackError::NoOverlap`];
//! - an unreadable file, a missing CRS or geotransform → [`StackError::Warp`];
//! - a name that cannot be a band name or table column → [`StackError::InvalidName`].
//!
//! [`read_barrier_lines`] reads the lines of a barrier layer (line strings, and the rings of
//! polygons) in the target CRS, for `rsei_core::drivers::rasterize_barrier`.
//!
//! ```no_run
//! use rsei_core::{Crs, GeoTransform, Grid};
//! use rsei_io::stack::{warp_driver, DriverSource};
//! use rsei_io::warp::Resampling;
//! let grid = Grid::new(50, 60, GeoTransform::new(1_000_000.0, 1000.0, 4_500_000.0, -1000.0), Crs::asia_north_albers());
//! let months: Vec<std::path::PathBuf> = (1..=12).map(|m| format!("prec_2019_{m:02}.tif").into()).collect();
//! let prec = warp_driver(&DriverSource::new("Prec", months, Resampling::Bilinear), &grid).unwrap();
//! println!("{} valid cells", prec.raster.count_valid());
//! ```

use std::path::{Path, PathBuf};

use gdal::vector::LayerAccess;
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};
use rayon::prelude::*;
use rsei_core::{Crs, Grid, Raster};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::crs::{crs_from_spatial_ref, reproject_points, transform_bounds};
use crate::error::IoError;
use crate::gdalutil::QuietErrors;
use crate::plain::raster_grid;
use crate::warp::{warp_to_grid, Resampling};

/// Errors of driver alignment; each names the driver and the file at fault.
#[derive(Debug, Error)]
pub enum StackError {
    /// A driver without any file.
    #[error("driver {driver:?}: no raster file given")]
    NoFiles { driver: String },
    /// A driver name that cannot serve as a band name and table column.
    #[error("invalid driver name {name:?}: {reason}")]
    InvalidName { name: String, reason: String },
    /// A file that does not cover any cell of the target grid.
    #[error("driver {driver:?}: {} does not overlap the study area ({reason})", .path.display())]
    NoOverlap { driver: String, path: PathBuf, reason: String },
    /// A file that cannot be read or warped.
    #[error("driver {driver:?}: {}: {source}", .path.display())]
    Warp {
        driver: String,
        path: PathBuf,
        #[source]
        source: Box<IoError>,
    },
    /// A barrier layer that cannot be used.
    #[error("barrier {}: {reason}", .path.display())]
    Barrier { path: PathBuf, reason: String },
    /// Another I/O error.
    #[error(transparent)]
    Io(Box<IoError>),
}

impl From<IoError> for StackError {
    fn from(e: IoError) -> Self {
        StackError::Io(Box::new(e))
    }
}

/// Result type of this module.
pub type Result<T, E = StackError> = std::result::Result<T, E>;

/// A driver: its name, its file(s) and how to resample them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriverSource {
    /// Band name and table column, e.g. `"GDP"`, `"PM2.5"` (see [`check_driver_name`]).
    pub name: String,
    /// One raster, or several to be summed (e.g. twelve monthly rasters).
    pub paths: Vec<PathBuf>,
    /// Resampling onto the target grid.
    pub resampling: Resampling,
}

impl DriverSource {
    /// A driver from its name, files and resampling.
    pub fn new(name: impl Into<String>, paths: Vec<PathBuf>, resampling: Resampling) -> Self {
        DriverSource { name: name.into(), paths, resampling }
    }
}

/// A driver on the target grid.
#[derive(Clone, Debug, PartialEq)]
pub struct AlignedDriver {
    pub name: String,
    /// Values on the target grid (`NaN` = no value).
    pub raster: Raster<f32>,
    /// The files it came from.
    pub files: Vec<PathBuf>,
    pub resampling: Resampling,
}

/// Checks that a driver name can be a band name and a CSV column: 1–32 characters, a letter
/// first, then letters, digits and `_ . - +`.
///
/// ```
/// use rsei_io::stack::check_driver_name;
/// assert!(check_driver_name("PM2.5").is_ok());
/// assert!(check_driver_name("CO2").is_ok());
/// assert!(check_driver_name("2nd").is_err());
/// assert!(check_driver_name("a,b").is_err());
/// ```
pub fn check_driver_name(name: &str) -> Result<()> {
    let bad = |reason: &str| Err(StackError::InvalidName { name: name.into(), reason: reason.into() });
    if name.is_empty() || name.chars().count() > 32 {
        return bad("a name has 1 to 32 characters");
    }
    if !name.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        return bad("a name starts with a letter");
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || "_.-+".contains(*c))) {
        return bad(&format!("character {c:?} is not allowed (letters, digits and _ . - + are)"));
    }
    Ok(())
}

/// Warps one file of a driver onto `target`, checking that it overlaps.
fn warp_one(driver: &str, path: &Path, target: &Grid, resampling: Resampling) -> Result<Raster<f32>> {
    let wrap = |source: IoError| StackError::Warp { driver: driver.into(), path: path.into(), source: Box::new(source) };
    let g = raster_grid(path).map_err(wrap)?;
    // Footprint test on reprojected bounds; a transform failure (e.g. a global raster that cannot be
    // projected whole) leaves the decision to the warped values.
    if let Ok(b) = transform_bounds(&g.bounds(), g.crs(), target.crs()) {
        if !b.intersects(&target.bounds()) {
            return Err(StackError::NoOverlap {
                driver: driver.into(),
                path: path.into(),
                reason: format!(
                    "its extent x {:.0}..{:.0}, y {:.0}..{:.0} in the target CRS misses the grid x {:.0}..{:.0}, y {:.0}..{:.0}",
                    b.xmin,
                    b.xmax,
                    b.ymin,
                    b.ymax,
                    target.bounds().xmin,
                    target.bounds().xmax,
                    target.bounds().ymin,
                    target.bounds().ymax
                ),
            });
        }
    }
    let r = warp_to_grid(&path.to_string_lossy(), 1, target, resampling, None).map_err(wrap)?;
    if r.count_valid() == 0 {
        return Err(StackError::NoOverlap {
            driver: driver.into(),
            path: path.into(),
            reason: "no cell of the grid receives a value (the raster is nodata there)".into(),
        });
    }
    Ok(r)
}

/// Warps every file of `src` onto `target` and sums them (see the module documentation).
pub fn warp_driver(src: &DriverSource, target: &Grid) -> Result<AlignedDriver> {
    check_driver_name(&src.name)?;
    if src.paths.is_empty() {
        return Err(StackError::NoFiles { driver: src.name.clone() });
    }
    let parts: Vec<Raster<f32>> =
        src.paths.par_iter().map(|p| warp_one(&src.name, p, target, src.resampling)).collect::<Result<_>>()?;
    let mut parts = parts.into_iter();
    // `paths` is not empty, so there is a first part
    let mut sum = parts.next().ok_or_else(|| StackError::NoFiles { driver: src.name.clone() })?;
    for p in parts {
        // in file order: the same sum whatever the thread count
        for (a, b) in sum.data_mut().iter_mut().zip(p.data()) {
            *a += *b; // NaN + x = NaN
        }
    }
    Ok(AlignedDriver { name: src.name.clone(), raster: sum, files: src.paths.clone(), resampling: src.resampling })
}

/// [`warp_driver`] for several drivers (in parallel, results in input order). Duplicate names
/// are refused.
pub fn warp_drivers(srcs: &[DriverSource], target: &Grid) -> Result<Vec<AlignedDriver>> {
    for (i, s) in srcs.iter().enumerate() {
        if srcs[..i].iter().any(|o| o.name.eq_ignore_ascii_case(&s.name)) {
            return Err(StackError::InvalidName { name: s.name.clone(), reason: "two drivers have this name".into() });
        }
    }
    srcs.par_iter().map(|s| warp_driver(s, target)).collect()
}

/// Lines (vertex lists in map coordinates) and notes of [`read_barrier_lines`].
pub type BarrierLines = (Vec<Vec<(f64, f64)>>, Vec<String>);

/// Barrier lines of a vector file, in `target_crs`: every line string, and every ring of every
/// polygon (a coastline may come as the land polygon). Points are skipped. Returns the lines and
/// notes (layer choice, skipped features).
///
/// Errors: the file cannot be opened, the layer has no CRS, no line or polygon in it.
pub fn read_barrier_lines(path: &Path, layer: Option<&str>, target_crs: &Crs) -> Result<BarrierLines> {
    let err = |reason: String| StackError::Barrier { path: path.into(), reason };
    let ds = {
        let _q = QuietErrors::new();
        Dataset::open_ex(path, DatasetOptions { open_flags: GdalOpenFlags::GDAL_OF_VECTOR, ..Default::default() })
            .map_err(|e| IoError::open(path, e))?
    };
    let mut notes = Vec::new();
    let mut lyr = match layer {
        Some(name) => {
            let _q = QuietErrors::new();
            ds.layer_by_name(name).map_err(|_| err(format!("no layer {name:?}")))?
        }
        None => {
            if ds.layer_count() == 0 {
                return Err(err("the file holds no vector layer".into()));
            }
            if ds.layer_count() > 1 {
                notes.push(format!("{} layers in the barrier file; using the first", ds.layer_count()));
            }
            ds.layer(0).map_err(|e| IoError::gdal(format!("{}: first layer", path.display()), e))?
        }
    };
    let srs = lyr.spatial_ref().ok_or_else(|| err("the layer has no CRS".into()))?;
    let source_crs = crs_from_spatial_ref(&srs)?;
    let mut lines: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut skipped = 0usize;
    for f in lyr.features() {
        let Some(g) = f.geometry() else {
            skipped += 1;
            continue;
        };
        let geo = g.to_geo().map_err(|e| err(format!("feature {:?}: {}", f.fid(), crate::error::gdal_message(&e))))?;
        let before = lines.len();
        collect_lines(&geo, &mut lines);
        if lines.len() == before {
            skipped += 1;
        }
    }
    if skipped > 0 {
        notes.push(format!("{skipped} barrier feature(s) without a line or polygon skipped"));
    }
    if lines.is_empty() {
        return Err(err("no line or polygon feature".into()));
    }
    let lines = lines
        .iter()
        .map(|l| reproject_points(l, &source_crs, target_crs))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok((lines, notes))
}

fn collect_lines(g: &geo_types::Geometry<f64>, out: &mut Vec<Vec<(f64, f64)>>) {
    use geo_types::Geometry as G;
    let ls = |l: &geo_types::LineString<f64>| -> Vec<(f64, f64)> { l.0.iter().map(|c| (c.x, c.y)).collect() };
    match g {
        G::LineString(l) => out.push(ls(l)),
        G::MultiLineString(m) => out.extend(m.0.iter().map(ls)),
        G::Line(l) => out.push(vec![(l.start.x, l.start.y), (l.end.x, l.end.y)]),
        G::Polygon(p) => {
            out.push(ls(p.exterior()));
            out.extend(p.interiors().iter().map(ls));
        }
        G::MultiPolygon(m) => {
            for p in &m.0 {
                out.push(ls(p.exterior()));
                out.extend(p.interiors().iter().map(ls));
            }
        }
        G::Rect(r) => collect_lines(&G::Polygon(r.to_polygon()), out),
        G::Triangle(t) => collect_lines(&G::Polygon(t.to_polygon()), out),
        G::GeometryCollection(c) => c.0.iter().for_each(|x| collect_lines(x, out)),
        G::Point(_) | G::MultiPoint(_) => {}
    }
    out.retain(|l| !l.is_empty());
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::write::{write_raster, WriteOptions};
    use rsei_core::GeoTransform;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rsei-stack-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn months_are_summed_and_nan_propagates() {
        let dir = tmp("months");
        let crs = Crs::new("EPSG:32650");
        let g = Grid::new(2, 2, GeoTransform::new(500_000.0, 1000.0, 4_000_000.0, -1000.0), crs.clone());
        let mut paths = Vec::new();
        for m in 0..3 {
            // month m: cell values (m + 1)·(1, 2, 3, 4), one NaN in the last month at cell 3
            let mut v: Vec<f32> = (1..=4).map(|k| ((m + 1) * k) as f32).collect();
            if m == 2 {
                v[3] = f32::NAN;
            }
            let p = dir.join(format!("m{m}.tif"));
            write_raster(&p, &Raster::new(g.clone(), v).unwrap(), &WriteOptions::continuous().with_format(crate::RasterFormat::GTiff)).unwrap();
            paths.push(p);
        }
        // same grid, nearest: sums (1 + 2 + 3)·k = 6k; cell 3 NaN
        let d = warp_driver(&DriverSource::new("Prec", paths, Resampling::Nearest), &g).unwrap();
        assert_eq!(&d.raster.data()[..3], &[6.0, 12.0, 18.0]);
        assert!(d.raster.data()[3].is_nan());
        // a grid far away: no overlap, naming the driver and the file
        let far = Grid::new(2, 2, GeoTransform::new(900_000.0, 1000.0, 2_000_000.0, -1000.0), crs);
        let e = warp_driver(&DriverSource::new("Prec", vec![dir.join("m0.tif")], Resampling::Bilinear), &far).unwrap_err();
        assert!(matches!(e, StackError::NoOverlap { .. }), "{e}");
        let s = e.to_string();
        assert!(s.contains("\"Prec\"") && s.contains("m0.tif"), "{s}");
        // bad names, duplicates, missing files
        assert!(warp_driver(&DriverSource::new("Prec", vec![], Resampling::Bilinear), &g).is_err());
        let e = warp_driver(&DriverSource::new("GDP", vec![dir.join("missing.tif")], Resampling::Bilinear), &g).unwrap_err();
        assert!(e.to_string().contains("missing.tif") && e.to_string().contains("GDP"), "{e}");
        let dup = vec![DriverSource::new("a", vec![dir.join("m0.tif")], Resampling::Nearest), DriverSource::new("A", vec![dir.join("m1.tif")], Resampling::Nearest)];
        assert!(matches!(warp_drivers(&dup, &g), Err(StackError::InvalidName { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn barrier_lines_from_lines_and_polygons() {
        let dir = tmp("barrier");
        let p = dir.join("coast.geojson");
        std::fs::write(
            &p,
            r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[117.0,39.0],[117.1,39.1]]}},
{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[117.0,39.0],[117.2,39.0],[117.2,39.2],[117.0,39.0]]]}},
{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[117.0,39.0]}}]}"#,
        )
        .unwrap();
        let (lines, notes) = read_barrier_lines(&p, None, &Crs::new("EPSG:4326")).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], vec![(117.0, 39.0), (117.1, 39.1)]);
        assert_eq!(lines[1].len(), 4);
        assert!(notes.iter().any(|n| n.contains("1 barrier feature")), "{notes:?}");
        // reprojected to UTM 50N: 117° E is the central meridian ⇒ x = 500 000 m
        let (l, _) = read_barrier_lines(&p, None, &Crs::new("EPSG:32650")).unwrap();
        assert!((l[0][0].0 - 500_000.0).abs() < 1e-6);
        std::fs::write(dir.join("pts.geojson"), r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,2]}}]}"#).unwrap();
        assert!(read_barrier_lines(&dir.join("pts.geojson"), None, &Crs::new("EPSG:4326")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
