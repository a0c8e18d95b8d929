//! Inventory of a folder of MODIS files: granules by (product, tile, date) and the layers each has.
//!
//! [`scan_dir`] walks a folder recursively (entries in name order), identifies every file with
//! [`crate::read::identify`] (name first, metadata as fallback; HDF layers from the subdataset list,
//! per-layer GeoTIFFs from their names or tags — no pixel is read) and groups the layers into
//! [`Granule`]s. Every file it cannot use is listed in [`Inventory::rejected`] with the reason:
//! not a MODIS name and no tags, unreadable or truncated (GDAL's message), a product or layer we do
//! not handle, a product not asked for, a granule missing a required layer, a duplicate.
//!
//! Duplicates: when two files provide the same layer of the same granule, the one with the higher
//! collection, then the later production stamp, then the HDF granule, then the first path wins; the
//! other is rejected (or, if it still provides other layers, noted in the granule).
//!
//! Sidecar files (`*.aux.xml`, `*.ovr`, `*.msk`, NASA's `*.hdf.xml`) and hidden files (names
//! starting with `.`, e.g. our temporary outputs) are skipped silently.
//!
//! Granules are sorted by (product, tile, date), rejections by path: the inventory is the same
//! whatever the file-system order.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use serde::{Deserialize, Serialize};

use crate::error::{IoError, Result};
use crate::naming::{ModisDate, Tile};
use crate::products::{Layer, Product, ProductKind};
use crate::read::{identify, Container, Identity, LayerSource};

/// Which layers a granule must have to be usable.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequiredLayers {
    /// The layers the default method needs ([`ProductKind::required_layers`]).
    #[default]
    ProductDefault,
    /// Accept any granule with at least one layer.
    None,
    /// These layers, where the product has them.
    Layers(Vec<Layer>),
}

/// Options of [`scan_dir`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanOptions {
    /// Restrict to these product families (`None`: every handled product).
    pub products: Option<Vec<ProductKind>>,
    /// Completeness rule.
    pub required: RequiredLayers,
    /// Follow symbolic links to folders (files behind links are always read).
    pub follow_links: bool,
}

/// One granule: the layers of one product, tile and date.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Granule {
    pub product: Product,
    pub tile: Tile,
    pub date: ModisDate,
    pub collection: Option<String>,
    /// Where each layer is.
    pub layers: BTreeMap<Layer, LayerSource>,
    /// The files contributing layers, sorted.
    pub files: Vec<PathBuf>,
    /// Remarks (metadata fallbacks, disagreements, ignored duplicates).
    pub notes: Vec<String>,
}

impl Granule {
    /// The source of a layer, or an error naming the granule's files and the layers it has.
    pub fn layer(&self, layer: Layer) -> Result<&LayerSource> {
        self.layers.get(&layer).ok_or_else(|| IoError::MissingLayer {
            path: self.files.first().cloned().unwrap_or_default(),
            layer: layer.id().into(),
            available: self.layers.keys().map(|l| l.id().to_string()).collect(),
        })
    }
    /// `MOD09A1 h18v04 2017-193`.
    pub fn label(&self) -> String {
        format!("{} {} {}", self.product, self.tile, self.date)
    }
}

/// A file that could not be used, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    pub path: PathBuf,
    pub reason: String,
}

/// What [`scan_dir`] found.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    /// Usable granules, sorted by (product, tile, date).
    pub granules: Vec<Granule>,
    /// Unusable files, sorted by path.
    pub rejected: Vec<Rejected>,
}

/// One line of [`Inventory::summary`]: a product and tile over time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryRow {
    pub product: String,
    pub tile: Tile,
    pub first: ModisDate,
    pub last: ModisDate,
    pub n_dates: usize,
    /// Layers present in every granule of the row.
    pub layers: Vec<Layer>,
}

impl Inventory {
    /// One row per (product, tile): first and last date, number of dates, layers common to all.
    pub fn summary(&self) -> Vec<SummaryRow> {
        let mut rows: Vec<SummaryRow> = Vec::new();
        for g in &self.granules {
            let have: Vec<Layer> = g.layers.keys().copied().collect();
            match rows.last_mut() {
                Some(r) if r.product == g.product.short_name() && r.tile == g.tile => {
                    r.first = r.first.min(g.date);
                    r.last = r.last.max(g.date);
                    r.n_dates += 1;
                    r.layers.retain(|l| have.contains(l));
                }
                _ => rows.push(SummaryRow {
                    product: g.product.short_name(),
                    tile: g.tile,
                    first: g.date,
                    last: g.date,
                    n_dates: 1,
                    layers: have,
                }),
            }
        }
        rows
    }

    /// The granules of one product family.
    pub fn granules_of(&self, kind: ProductKind) -> impl Iterator<Item = &Granule> {
        self.granules.iter().filter(move |g| g.product.kind == kind)
    }
}

fn is_sidecar_or_hidden(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    name.starts_with('.')
        || l.ends_with(".aux.xml")
        || l.ends_with(".ovr")
        || l.ends_with(".msk")
        || l.ends_with(".hdf.xml")
}

fn walk(dir: &Path, follow_links: bool, out: &mut Vec<PathBuf>, rejected: &mut Vec<Rejected>) {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            rejected.push(Rejected { path: dir.to_path_buf(), reason: format!("cannot list folder: {e}") });
            return;
        }
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        if is_sidecar_or_hidden(&name) {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(&p) else { continue };
        if meta.file_type().is_symlink() {
            match std::fs::metadata(&p) {
                Ok(m) if m.is_dir() && follow_links => walk(&p, follow_links, out, rejected),
                Ok(m) if m.is_file() => out.push(p),
                Ok(_) => {}
                Err(e) => rejected.push(Rejected { path: p, reason: format!("broken link: {e}") }),
            }
        } else if meta.is_dir() {
            walk(&p, follow_links, out, rejected);
        } else if meta.is_file() {
            out.push(p);
        }
    }
}

/// Walks `dir` and returns the inventory of its MODIS granules (see the module docs).
///
/// Errors only when `dir` itself is not a readable folder; every problem with a file inside is a
/// [`Rejected`] entry.
pub fn scan_dir(dir: &Path, opts: &ScanOptions) -> Result<Inventory> {
    let md = std::fs::metadata(dir).map_err(|source| IoError::File { path: dir.to_path_buf(), source })?;
    if !md.is_dir() {
        return Err(IoError::File {
            path: dir.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a folder"),
        });
    }
    let mut files = Vec::new();
    let mut rejected = Vec::new();
    walk(dir, opts.follow_links, &mut files, &mut rejected);
    // Identifying a file opens it with GDAL (≈ 1 ms): done in parallel, results kept in walk order.
    let identified: Vec<(PathBuf, Result<Identity>)> = files.into_par_iter().map(|p| {
        let id = identify(&p);
        (p, id)
    }).collect();
    let ids: Vec<Identity> = identified
        .into_iter()
        .filter_map(|(p, id)| match id {
            Ok(id) => {
                if let Some(sel) = &opts.products {
                    if !sel.contains(&id.product.kind) {
                        rejected.push(Rejected { path: p, reason: format!("product {} was not asked for", id.product) });
                        return None;
                    }
                }
                Some(id)
            }
            Err(e) => {
                rejected.push(Rejected { path: p, reason: e.to_string() });
                None
            }
        })
        .collect();
    let mut inv = group(ids, opts, rejected);
    inv.rejected.sort_by(|a, b| a.path.cmp(&b.path).then_with(|| a.reason.cmp(&b.reason)));
    Ok(inv)
}

/// Collection as a number for ordering (missing = lowest).
fn collection_rank(c: &Option<String>) -> i64 {
    c.as_deref().and_then(|s| s.parse().ok()).unwrap_or(-1)
}

fn group(mut ids: Vec<Identity>, opts: &ScanOptions, mut rejected: Vec<Rejected>) -> Inventory {
    // winners first within each granule
    ids.sort_by(|a, b| {
        (a.product, a.tile, a.date)
            .cmp(&(b.product, b.tile, b.date))
            .then_with(|| Reverse(collection_rank(&a.collection)).cmp(&Reverse(collection_rank(&b.collection))))
            .then_with(|| Reverse(a.production.clone()).cmp(&Reverse(b.production.clone())))
            .then_with(|| (a.container != Container::Hdf4Eos).cmp(&(b.container != Container::Hdf4Eos)))
            .then_with(|| a.path.cmp(&b.path))
    });
    let mut granules: Vec<Granule> = Vec::new();
    for id in ids {
        let same = granules.last().is_some_and(|g| (g.product, g.tile, g.date) == (id.product, id.tile, id.date));
        if !same {
            granules.push(Granule {
                product: id.product,
                tile: id.tile,
                date: id.date,
                collection: id.collection.clone(),
                layers: BTreeMap::new(),
                files: Vec::new(),
                notes: Vec::new(),
            });
        }
        let Some(g) = granules.last_mut() else { continue };
        let mut used = Vec::new();
        let mut dup = Vec::new();
        for src in &id.layers {
            if let Some(prev) = g.layers.get(&src.layer) {
                dup.push((src.layer, prev.path.clone()));
            } else {
                g.layers.insert(src.layer, src.clone());
                used.push(src.layer);
            }
        }
        if used.is_empty() && !dup.is_empty() {
            let others: BTreeSet<String> = dup.iter().map(|(_, p)| p.display().to_string()).collect();
            rejected.push(Rejected {
                path: id.path.clone(),
                reason: format!(
                    "duplicate: every layer of {} {} {} is already provided by {}",
                    id.product,
                    id.tile,
                    id.date,
                    others.into_iter().collect::<Vec<_>>().join(", ")
                ),
            });
            continue;
        }
        for (l, p) in dup {
            g.notes.push(format!("layer {l} of {} ignored: already provided by {}", id.path.display(), p.display()));
        }
        if id.collection != g.collection {
            g.notes.push(format!(
                "{} is collection {:?}, the granule's first file {:?}",
                id.path.display(),
                id.collection,
                g.collection
            ));
        }
        g.notes.extend(id.notes.iter().map(|n| format!("{}: {n}", id.path.file_name().map(|s| s.to_string_lossy()).unwrap_or_default())));
        g.files.push(id.path.clone());
    }

    // completeness
    let mut kept = Vec::with_capacity(granules.len());
    for mut g in granules {
        let required: Vec<Layer> = match &opts.required {
            RequiredLayers::ProductDefault => g.product.kind.required_layers().to_vec(),
            RequiredLayers::None => Vec::new(),
            RequiredLayers::Layers(ls) => ls.iter().copied().filter(|l| g.product.spec(*l).is_some()).collect(),
        };
        let missing: Vec<&str> = required.iter().filter(|l| !g.layers.contains_key(l)).map(|l| l.id()).collect();
        if missing.is_empty() && !g.layers.is_empty() {
            g.files.sort();
            kept.push(g);
        } else {
            let has: Vec<&str> = g.layers.keys().map(|l| l.id()).collect();
            for f in &g.files {
                rejected.push(Rejected {
                    path: f.clone(),
                    reason: format!(
                        "granule {} lacks required layer(s) {} (has: {})",
                        g.label(),
                        missing.join(", "),
                        if has.is_empty() { "none".to_string() } else { has.join(", ") }
                    ),
                });
            }
        }
    }
    Inventory { granules: kept, rejected }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecars_are_skipped() {
        for n in [".x.tif.tmp-1-0.tif", "a.tif.aux.xml", "a.ovr", "MOD09A1.A2019177.h27v05.061.2019186034017.hdf.xml"] {
            assert!(is_sidecar_or_hidden(n), "{n}");
        }
        assert!(!is_sidecar_or_hidden("MOD09A1.A2019177.h27v05.061.2019186034017.hdf"));
    }
}
