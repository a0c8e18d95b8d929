//! Conformance against exactextract (coverage rule) and gdal_rasterize (centre rule).
//!
//! Inputs and expected files live in `conformance/zonal/` at the repository root and are made by
//! `conformance/zonal/make_expected.py` (which runs both tools); this test needs neither tool.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use geo_types::{Coord, LineString, MultiPolygon, Polygon};

use super::{coverage, zonal_stats, PixelRule, ZonalOptions};
use crate::grid::{Crs, GeoTransform, Grid};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conformance/zonal")
}

fn read(name: &str) -> String {
    let p = dir().join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// The ESRI ASCII grid: header keywords, then rows top to bottom; nodata becomes NaN.
fn raster() -> (Grid, Vec<f32>) {
    let text = read("raster.asc");
    let mut hdr = BTreeMap::new();
    let mut vals = Vec::new();
    for line in text.lines() {
        let mut it = line.split_whitespace().peekable();
        match it.peek() {
            Some(t) if t.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) => {
                let k = it.next().unwrap().to_ascii_lowercase();
                let v: f64 = it.next().unwrap().parse().unwrap();
                hdr.insert(k, v);
            }
            _ => vals.extend(it.map(|t| t.parse::<f32>().unwrap())),
        }
    }
    let (rows, cols, cell) = (hdr["nrows"] as usize, hdr["ncols"] as usize, hdr["cellsize"]);
    let nodata = hdr["nodata_value"] as f32;
    let y0 = hdr["yllcorner"] + rows as f64 * cell;
    let grid = Grid::new(rows, cols, GeoTransform::new(hdr["xllcorner"], cell, y0, -cell), Crs::new("EPSG:32650"));
    for v in &mut vals {
        if *v == nodata {
            *v = f32::NAN;
        }
    }
    assert_eq!(vals.len(), grid.len());
    (grid, vals)
}

fn ring(v: &serde_json::Value) -> LineString<f64> {
    LineString(
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| Coord { x: p[0].as_f64().unwrap(), y: p[1].as_f64().unwrap() })
            .collect(),
    )
}

fn polygon(v: &serde_json::Value) -> Polygon<f64> {
    let rings = v.as_array().unwrap();
    Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect())
}

fn polygons() -> Vec<(i64, MultiPolygon<f64>)> {
    let fc: serde_json::Value = serde_json::from_str(&read("polygons.geojson")).unwrap();
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let g = &f["geometry"];
            let mp = match g["type"].as_str().unwrap() {
                "Polygon" => MultiPolygon(vec![polygon(&g["coordinates"])]),
                "MultiPolygon" => MultiPolygon(g["coordinates"].as_array().unwrap().iter().map(polygon).collect()),
                t => panic!("unexpected geometry type {t}"),
            };
            (f["properties"]["id"].as_i64().unwrap(), mp)
        })
        .collect()
}

fn csv(name: &str) -> Vec<Vec<String>> {
    read(name).lines().skip(1).map(|l| l.split(',').map(str::to_owned).collect()).collect()
}

fn num(s: &str) -> f64 {
    s.parse().unwrap()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

#[test]
fn coverage_fractions_match_exactextract() {
    // exactextract lists the covered cells that hold a value (nodata cells are left out)
    let (grid, values) = raster();
    let mut want: BTreeMap<i64, BTreeMap<usize, f64>> = BTreeMap::new();
    for r in csv("expected_coverage_cells.csv") {
        want.entry(num(&r[0]) as i64).or_default().insert(num(&r[1]) as usize, num(&r[2]));
    }
    for (id, mp) in polygons() {
        let cov = coverage(&grid, &mp, PixelRule::Coverage).unwrap();
        let exp = want.remove(&id).unwrap_or_default();
        let Some(cov) = cov else {
            assert!(exp.is_empty(), "polygon {id}: exactextract found cells, we found none");
            continue;
        };
        let ours: BTreeMap<usize, f64> = cov
            .iter()
            .map(|(r, c, f)| (grid.index(r, c), f64::from(f)))
            .filter(|(i, _)| !values[*i].is_nan())
            .collect();
        for (cell, f) in &exp {
            let o = ours.get(cell).copied().unwrap_or(0.0);
            assert!((o - f).abs() <= 6e-8, "polygon {id} cell {cell}: ours {o}, exactextract {f}");
        }
        for (cell, o) in &ours {
            assert!(exp.contains_key(cell) || *o < 1e-6, "polygon {id} cell {cell}: ours {o}, not in exactextract");
        }
    }
}

#[test]
fn coverage_means_match_exactextract() {
    let (grid, values) = raster();
    let polys = polygons();
    let mps: Vec<_> = polys.iter().map(|(_, m)| m.clone()).collect();
    let stats = zonal_stats(&grid, &values, None, &mps, &ZonalOptions::new(PixelRule::Coverage)).unwrap();
    let rows = csv("expected_coverage_mean.csv");
    assert_eq!(rows.len(), polys.len());
    for (r, ((id, _), s)) in rows.iter().zip(polys.iter().zip(&stats)) {
        assert_eq!(num(&r[0]) as i64, *id);
        let (wc, mean, sd, mn, mx) = (num(&r[1]), num(&r[2]), num(&r[3]), num(&r[4]), num(&r[5]));
        if wc == 0.0 {
            assert_eq!(s.count, 0, "polygon {id}");
            assert!(s.mean.is_none());
            continue;
        }
        assert!(rel(s.weighted_count, wc) < 1e-9, "polygon {id}: weighted count {} vs {wc}", s.weighted_count);
        assert!(rel(s.mean.unwrap(), mean) < 1e-9, "polygon {id}: mean {:?} vs {mean}", s.mean);
        let ssd = s.std.unwrap();
        assert!((ssd - sd).abs() <= 1e-9 * mean.abs().max(1.0), "polygon {id}: std {ssd} vs {sd}");
        assert_eq!((s.min, s.max), (Some(mn), Some(mx)), "polygon {id}");
    }
}

#[test]
fn centre_masks_and_means_match_gdal_rasterize() {
    let (grid, values) = raster();
    let polys = polygons();
    let mut want: BTreeMap<i64, BTreeSet<(usize, usize)>> = BTreeMap::new();
    for r in csv("expected_centre_cells.csv") {
        want.entry(num(&r[0]) as i64).or_default().insert((num(&r[1]) as usize, num(&r[2]) as usize));
    }
    for (id, mp) in &polys {
        let ours: BTreeSet<(usize, usize)> = coverage(&grid, mp, PixelRule::Centre)
            .unwrap()
            .map(|c| c.iter().map(|(r, c, _)| (r, c)).collect())
            .unwrap_or_default();
        assert_eq!(ours, want.remove(id).unwrap_or_default(), "polygon {id}: centre mask differs from gdal_rasterize");
    }
    let mps: Vec<_> = polys.iter().map(|(_, m)| m.clone()).collect();
    let stats = zonal_stats(&grid, &values, None, &mps, &ZonalOptions::default()).unwrap();
    for (r, ((id, _), s)) in csv("expected_centre_mean.csv").iter().zip(polys.iter().zip(&stats)) {
        assert_eq!(num(&r[0]) as i64, *id);
        assert_eq!(s.count, num(&r[2]) as u64, "polygon {id}: count");
        if s.count > 0 {
            assert!(rel(s.mean.unwrap(), num(&r[3])) < 1e-12, "polygon {id}: mean {:?} vs {}", s.mean, r[3]);
            assert!((s.std.unwrap() - num(&r[4])).abs() < 1e-9, "polygon {id}: std {:?} vs {}", s.std, r[4]);
        }
    }
}
