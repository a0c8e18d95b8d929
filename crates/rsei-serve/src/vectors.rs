//! Area outlines and mine polygons as GeoJSON (longitude/latitude).
//!
//! Outlines come from the vector file the results' manifests name as the area's source when it
//! can be read (and reading inputs is allowed), else they are traced from the rasters: the
//! boundary between the cells inside the area (`water.tif` ≠ 255, or a finite RSEI) and those
//! outside. Mines come from the mine layer named by `mining/manifest.json`, with the filter the
//! analysis used, joined with the per-year means of `mining/mines.json`. Only geometries and
//! names are served, never the files themselves.

use std::path::{Path, PathBuf};

use geo_types::MultiPolygon;
use rsei_core::Crs;
use rsei_io::vector::{read_polygons, FeatureFilter, VectorOptions};
use serde_json::{json, Map, Value};

use crate::catalog::Area;
use crate::geo::{self, Dir};
use crate::layers::LayerId;

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

fn multipolygon_json(mp: &MultiPolygon<f64>) -> Value {
    let ring = |r: &geo_types::LineString<f64>| -> Value { r.0.iter().map(|c| json!([round6(c.x), round6(c.y)])).collect() };
    json!({
        "type": "MultiPolygon",
        "coordinates": mp.0.iter().map(|p| {
            let mut rings = vec![ring(p.exterior())];
            rings.extend(p.interiors().iter().map(ring));
            Value::Array(rings)
        }).collect::<Vec<_>>(),
    })
}

/// A file named in a manifest: absolute, or relative to the results folder or its parent.
fn resolve(root: &Path, p: &str) -> Option<PathBuf> {
    let p = PathBuf::from(p);
    if p.is_absolute() {
        return p.is_file().then_some(p);
    }
    [root.join(&p), root.parent().map(|q| q.join(&p)).unwrap_or_default()].into_iter().find(|c| c.is_file())
}

/// `PATH (layer L, feature ID)` → (path, layer, feature id).
fn parse_area_source(s: &str) -> Option<(String, String, String)> {
    let i = s.rfind(" (layer ")?;
    let (path, rest) = (&s[..i], s[i + " (layer ".len()..].strip_suffix(')')?);
    let (layer, feature) = rest.rsplit_once(", feature ")?;
    Some((path.to_string(), layer.to_string(), feature.to_string()))
}

fn outline_from_source(root: &Path, area: &Area) -> Option<Value> {
    let (path, layer, fid) = parse_area_source(area.area_source.as_deref()?)?;
    let file = resolve(root, &path)?;
    let mut o = VectorOptions::new(Crs::new("EPSG:4326"));
    o.layer = Some(layer);
    let l = read_polygons(&file, &o).ok()?;
    let f = l.features.iter().find(|f| f.id == fid)?;
    Some(json!({
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"name": area.name, "source": file.file_name().map(|n| n.to_string_lossy().into_owned())}, "geometry": multipolygon_json(&f.geometry)}],
    }))
}

/// Directed boundary edges of the `inside` cells (clockwise around them, rows down), chained
/// into closed rings of cell-corner vertices (col, row), collinear vertices dropped.
pub(crate) fn trace_rings(inside: &[bool], w: usize, h: usize) -> Vec<Vec<(usize, usize)>> {
    let at = |c: isize, r: isize| c >= 0 && r >= 0 && (c as usize) < w && (r as usize) < h && inside[r as usize * w + c as usize];
    let mut edges: Vec<((usize, usize), (usize, usize))> = Vec::new();
    for r in 0..h {
        for c in 0..w {
            if !inside[r * w + c] {
                continue;
            }
            let (ci, ri) = (c as isize, r as isize);
            if !at(ci, ri - 1) {
                edges.push(((c, r), (c + 1, r)));
            }
            if !at(ci + 1, ri) {
                edges.push(((c + 1, r), (c + 1, r + 1)));
            }
            if !at(ci, ri + 1) {
                edges.push(((c + 1, r + 1), (c, r + 1)));
            }
            if !at(ci - 1, ri) {
                edges.push(((c, r + 1), (c, r)));
            }
        }
    }
    let mut from: std::collections::HashMap<(usize, usize), Vec<usize>> = std::collections::HashMap::new();
    for (k, e) in edges.iter().enumerate() {
        from.entry(e.0).or_default().push(k);
    }
    let mut used = vec![false; edges.len()];
    let mut rings = Vec::new();
    for start in 0..edges.len() {
        if used[start] {
            continue;
        }
        let mut ring = vec![edges[start].0];
        let mut k = start;
        loop {
            used[k] = true;
            let end = edges[k].1;
            ring.push(end);
            if end == edges[start].0 {
                break;
            }
            // at a vertex shared by two rings (cells touching at a corner) turn right, so that the
            // rings stay apart
            let d = (edges[k].1 .0 as isize - edges[k].0 .0 as isize, edges[k].1 .1 as isize - edges[k].0 .1 as isize);
            let dir = |n: usize| (edges[n].1 .0 as isize - edges[n].0 .0 as isize, edges[n].1 .1 as isize - edges[n].0 .1 as isize);
            let rank = |n: usize| [(-d.1, d.0), d, (d.1, -d.0)].iter().position(|&q| q == dir(n)).unwrap_or(3);
            match from.get(&end).and_then(|v| v.iter().copied().filter(|&n| !used[n]).min_by_key(|&n| rank(n))) {
                Some(n) => k = n,
                None => break,
            }
        }
        // drop vertices between two collinear edges
        let mut s: Vec<(usize, usize)> = Vec::with_capacity(ring.len());
        for p in ring {
            while s.len() >= 2 {
                let (a, b) = (s[s.len() - 2], s[s.len() - 1]);
                if (a.0 == b.0 && b.0 == p.0) || (a.1 == b.1 && b.1 == p.1) {
                    s.pop();
                } else {
                    break;
                }
            }
            s.push(p);
        }
        rings.push(s);
    }
    rings
}

fn outline_from_rasters(root: &Path, area: &Area) -> Result<Value, String> {
    let year = *area.years.keys().next().ok_or("no year")?;
    let (file, water) = match water_file(root, area, year) {
        Some(f) => (f, true),
        None => (area.file(LayerId::Rsei, year).ok_or("no RSEI raster")?.clone(), false),
    };
    let info = file.info().map_err(|p| format!("{}: {}", p.file, p.reason))?.clone();
    let (w, h, data) = if info.width * info.height <= 16 << 20 {
        let c = file.cells(0, 0, 0, info.width, info.height).map_err(|p| format!("{}: {}", p.file, p.reason))?;
        (c.width, c.height, c.data)
    } else {
        file.decimated(4096).map_err(|p| format!("{}: {}", p.file, p.reason))?
    };
    // water.tif: 255 (nodata, read as NaN) outside, 0/1 inside; RSEI: finite inside
    let inside: Vec<bool> = data.iter().map(|v| if water { v.is_finite() && *v != 255.0 } else { v.is_finite() }).collect();
    let rings = trace_rings(&inside, w, h);
    let (sx, sy) = (info.width as f64 / w as f64, info.height as f64 / h as f64);
    let mut lines = Vec::new();
    for ring in rings {
        let (mut xs, mut ys): (Vec<f64>, Vec<f64>) = ring.iter().map(|&(c, r)| info.xy(c as f64 * sx, r as f64 * sy)).unzip();
        geo::transform(&info.crs, Dir::SrcToLonLat, &mut xs, &mut ys)?;
        let line: Vec<Value> = xs.iter().zip(&ys).filter(|(x, _)| x.is_finite()).map(|(x, y)| json!([round6(*x), round6(*y)])).collect();
        if line.len() >= 2 {
            lines.push(Value::Array(line));
        }
    }
    Ok(json!({
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"name": area.name, "source": format!("traced from {}", file.rel)}, "geometry": {"type": "MultiLineString", "coordinates": lines}}],
    }))
}

fn water_file(root: &Path, area: &Area, year: i32) -> Option<crate::raster::SharedRaster> {
    // water.tif is not a map layer; it lies beside rsei.tif
    let rsei = area.file(LayerId::Rsei, year)?;
    let real = std::fs::canonicalize(rsei.path.with_file_name("water.tif")).ok()?;
    if !real.starts_with(root) || !real.is_file() {
        return None;
    }
    let md = std::fs::metadata(&real).ok()?;
    let rel = format!("{}/water.tif", rsei.rel.rsplit_once('/').map_or("", |(d, _)| d));
    Some(std::sync::Arc::new(crate::raster::RasterFile::new(rel, real, (md.len(), md.modified().ok()))))
}

/// The outline of an area (see the module documentation).
pub(crate) fn outline(root: &Path, area: &Area, read_inputs: bool) -> Result<Value, String> {
    if read_inputs {
        if let Some(v) = outline_from_source(root, area) {
            return Ok(v);
        }
    }
    outline_from_rasters(root, area)
}

/// The mines of an area's mining analysis, `None` without one (or when inputs may not be read).
pub(crate) fn mines(root: &Path, area: &Area, read_inputs: bool) -> Result<Option<Value>, String> {
    let Some(src) = area.mines_source.as_ref().filter(|_| read_inputs) else { return Ok(None) };
    let s = |k: &str| src.get(k).and_then(Value::as_str).map(str::to_string);
    let Some(path) = s("path") else { return Ok(None) };
    let Some(file) = resolve(root, &path) else {
        return Err(format!("the mine layer {path} named by {}/mining/manifest.json is not there", area.id));
    };
    let mut o = VectorOptions::new(Crs::new("EPSG:4326"));
    o.layer = s("layer");
    o.filter = s("filter").map(FeatureFilter::Where);
    o.id_field = s("id_field");
    o.name_field = s("name_field");
    o.assume_crs = s("assume_crs").map(Crs::new);
    let layer = read_polygons(&file, &o).map_err(|e| e.to_string())?;
    // per-year means of the mining analysis, by mine id
    let rows: Vec<Value> = std::fs::read(area.dir.join("mining").join("mines.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    let features: Vec<Value> = layer
        .features
        .iter()
        .map(|f| {
            let mut props = Map::new();
            props.insert("id".into(), json!(f.id));
            props.insert("name".into(), json!(f.name));
            if let Some(row) = rows.iter().find(|r| r.get("id").and_then(Value::as_str) == Some(f.id.as_str())) {
                for (k, v) in row.as_object().into_iter().flatten() {
                    if k.starts_with("mean_") || k == "area" || k == "size_class" {
                        props.insert(if k == "area" { "area_km2".into() } else { k.clone() }, v.clone());
                    }
                }
            }
            json!({"type": "Feature", "properties": props, "geometry": multipolygon_json(&f.geometry)})
        })
        .collect();
    Ok(Some(json!({"type": "FeatureCollection", "features": features})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_of_a_square_and_an_l() {
        // 2×2 block: one ring of 4 corners (+ closing vertex)
        let r = trace_rings(&[true, true, true, true], 2, 2);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].len(), 5, "{:?}", r[0]);
        assert_eq!(r[0].first(), r[0].last());
        // an L of three cells and a separate cell: two rings
        let m = [true, false, false, true, true, false, false, false, true];
        let r = trace_rings(&m, 3, 3);
        assert_eq!(r.len(), 2, "{r:?}");
        assert!(r.iter().any(|x| x.len() == 7), "{r:?}");
    }

    #[test]
    fn area_sources_parse() {
        assert_eq!(
            parse_area_source("/d/city.geojson (layer cities, feature 0)"),
            Some(("/d/city.geojson".into(), "cities".into(), "0".into()))
        );
        assert_eq!(parse_area_source("/d/city.geojson (layer cities, 3 features dissolved)"), None);
    }
}
