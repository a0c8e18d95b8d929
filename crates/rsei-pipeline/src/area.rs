//! Study areas: polygons from any OGR source and CRS, brought onto the MODIS sinusoidal CRS.

use std::path::PathBuf;

use crate::error::{Context, Result};
use geo_types::MultiPolygon;
use rsei_core::grid::Crs;
use rsei_io::vector::{self, FeatureFilter, VectorOptions};
use serde::{Deserialize, Serialize};

/// Where study areas come from: a vector file, optionally a layer and a filter; one study area
/// per feature, named by a field (or one dissolved area named `name`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AreaSource {
    /// The vector file.
    pub path: PathBuf,
    /// The layer of the file (`None`: the first).
    pub layer: Option<String>,
    /// Which features make up the area (`None`: all of them, dissolved).
    pub filter: Option<FeatureFilter>,
    /// Field naming each area (default: `name_en`, `name`, `NAME` when present, else the feature id).
    pub name_field: Option<String>,
    /// Merge every selected feature into one area with this name.
    pub dissolve_as: Option<String>,
    /// CRS to assume when the file has none.
    pub assume_crs: Option<String>,
}

impl AreaSource {
    /// Every feature of the first layer of `path`.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        AreaSource { path: path.into(), layer: None, filter: None, name_field: None, dissolve_as: None, assume_crs: None }
    }
}

/// One study area.
#[derive(Clone, Debug)]
pub struct StudyArea {
    /// Name used for folders and tables (file-system safe, see [`StudyArea::slug`]).
    pub name: String,
    /// The polygon in the MODIS sinusoidal CRS (an equal-area CRS).
    pub polygon: MultiPolygon<f64>,
    /// Area in km² (sinusoidal is equal-area on the MODIS sphere).
    pub area_km2: f64,
    /// Where it came from (file, layer, feature id).
    pub source: String,
    /// Remarks of the reader (skipped geometries, repairs).
    pub notes: Vec<String>,
}

impl StudyArea {
    /// A folder-safe version of the name: letters, digits, `-` and `_`; others become `_`.
    pub fn slug(&self) -> String {
        slug(&self.name)
    }
}

/// A folder-safe name.
pub fn slug(name: &str) -> String {
    let s: String = name.trim().chars().map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    if s.is_empty() {
        "area".into()
    } else {
        s
    }
}

/// Loads the study areas of a source.
pub fn load_areas(src: &AreaSource) -> Result<Vec<StudyArea>> {
    let mut opts = VectorOptions::new(Crs::modis_sinusoidal());
    opts.layer = src.layer.clone();
    opts.filter = src.filter.clone();
    opts.assume_crs = src.assume_crs.as_ref().map(Crs::new);
    let layer = vector::read_polygons(&src.path, &opts).with_context(|| format!("reading study area {}", src.path.display()))?;
    let name_field = src.name_field.clone().or_else(|| {
        let first = layer.features.first()?;
        ["name_en", "name", "NAME", "Name"].iter().find(|f| first.attributes.contains_key(**f)).map(|f| f.to_string())
    });
    if let Some(f) = &src.name_field {
        if let Some(feat) = layer.features.iter().find(|x| !x.attributes.contains_key(f)) {
            crate::bail!(
                "{}: feature {} has no attribute {f:?} to name the study area (attributes: {})",
                src.path.display(),
                feat.id,
                feat.attributes.keys().cloned().collect::<Vec<_>>().join(", ")
            );
        }
    }
    let file = src.path.display().to_string();
    if let Some(name) = &src.dissolve_as {
        let polys: Vec<MultiPolygon<f64>> = layer.features.iter().map(|f| f.geometry.clone()).collect();
        let polygon = vector::union_all(&polys).with_context(|| format!("dissolving the features of {file}"))?;
        let area_km2 = vector::area(&polygon)? / 1e6;
        return Ok(vec![StudyArea {
            name: name.clone(),
            polygon,
            area_km2,
            source: format!("{file} (layer {}, {} features dissolved)", layer.layer, layer.features.len()),
            notes: layer.notes.clone(),
        }]);
    }
    let mut areas = Vec::new();
    for f in &layer.features {
        let name = name_field
            .as_ref()
            .and_then(|nf| f.attributes.get(nf).cloned())
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| format!("feature_{}", f.id));
        let area_km2 = vector::area(&f.geometry)? / 1e6;
        areas.push(StudyArea {
            name,
            polygon: f.geometry.clone(),
            area_km2,
            source: format!("{file} (layer {}, feature {})", layer.layer, f.id),
            notes: layer.notes.clone(),
        });
    }
    // names must be unique: they become folder names
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for a in &areas {
        *seen.entry(a.slug()).or_default() += 1;
    }
    if let Some((dup, n)) = seen.iter().find(|(_, &n)| n > 1) {
        crate::bail!(
            "{file}: {n} study areas are named {dup:?}; choose a name field that is unique (--name-field) or dissolve them into one"
        );
    }
    Ok(areas)
}
