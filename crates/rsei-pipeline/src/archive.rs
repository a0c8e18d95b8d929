//! The granules available to a run: the inventory of one or more folders, and the selection of the
//! granules a composite needs (product, platform, season window, tiles overlapping the study area).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::error::{Context, Result};
use rsei_core::composite::CompositeOptions;
use rsei_core::grid::modis::{self, Resolution};
use rsei_core::Bounds;
use rsei_io::products::ProductKind;
use rsei_io::scan::{scan_dir, Granule, Inventory, Rejected, ScanOptions};
use rsei_io::ModisDate;

use crate::options::Platforms;

/// The MODIS granules of one or more folders.
#[derive(Clone, Debug, Default)]
pub struct Archive {
    /// The folders that were scanned.
    pub folders: Vec<PathBuf>,
    /// What the folders hold, by product, tile and date, and the files that cannot be used.
    pub inventory: Inventory,
}

/// The granules of one product for one composite, grouped by date (sorted), each group holding the
/// tiles of that date.
#[derive(Clone, Debug, Default)]
pub struct Selection<'a> {
    /// The product kind (`None` when the product is absent from the archive).
    pub kind: Option<ProductKind>,
    /// Granules by date, in date order.
    pub dates: Vec<(ModisDate, Vec<&'a Granule>)>,
}

impl Selection<'_> {
    /// Number of granules.
    pub fn granule_count(&self) -> usize {
        self.dates.iter().map(|(_, g)| g.len()).sum()
    }
    /// Every file used, sorted and unique.
    pub fn files(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self.dates.iter().flat_map(|(_, gs)| gs.iter().flat_map(|g| g.files.iter().cloned())).collect();
        v.sort();
        v.dedup();
        v
    }
}

impl Archive {
    /// Scans the folders (recursively) for the products an RSEI run reads.
    pub fn scan(folders: &[PathBuf]) -> Result<Archive> {
        crate::ensure!(!folders.is_empty(), "no data folder given");
        let opts = ScanOptions {
            products: Some(vec![ProductKind::Mod09A1, ProductKind::Mod13A1, ProductKind::Mod11A2]),
            ..ScanOptions::default()
        };
        let mut inventory = Inventory::default();
        for f in folders {
            let inv = scan_dir(f, &opts).with_context(|| format!("scanning {}", f.display()))?;
            inventory.granules.extend(inv.granules);
            inventory.rejected.extend(inv.rejected);
        }
        inventory.granules.sort_by(|a, b| (a.product, a.tile, a.date).cmp(&(b.product, b.tile, b.date)));
        inventory.rejected.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Archive { folders: folders.to_vec(), inventory })
    }

    /// Files that could not be used.
    pub fn rejected(&self) -> &[Rejected] {
        &self.inventory.rejected
    }

    /// The granules of `kind` (and accepted platforms) whose date lies in the composite window of
    /// `year` and whose tile overlaps `bounds` (sinusoidal metres), grouped by date.
    pub fn select(&self, kind: ProductKind, platforms: Platforms, composite: &CompositeOptions, year: i32, bounds: &Bounds) -> Selection<'_> {
        let res = if kind == ProductKind::Mod11A2 { Resolution::Km1 } else { Resolution::M500 };
        let mut by_date: BTreeMap<ModisDate, Vec<&Granule>> = BTreeMap::new();
        for g in self.inventory.granules_of(kind) {
            if !platforms.accepts(g.product.platform) {
                continue;
            }
            if !composite.in_window(year, i32::from(g.date.year), g.date.doy) {
                continue;
            }
            let tile_bounds = modis::tile_grid(g.tile.h, g.tile.v, res).bounds();
            if !tile_bounds.intersects(bounds) {
                continue;
            }
            by_date.entry(g.date).or_default().push(g);
        }
        Selection { kind: Some(kind), dates: by_date.into_iter().collect() }
    }

    /// Years for which the archive holds at least one granule of `kind` in the season.
    pub fn years_with_data(&self, kind: ProductKind, composite: &CompositeOptions) -> Vec<i32> {
        let mut years: Vec<i32> = self
            .inventory
            .granules_of(kind)
            .filter(|g| composite.in_window(i32::from(g.date.year), i32::from(g.date.year), g.date.doy) || {
                // the season may cross New Year: look at the neighbouring target year too
                composite.in_window(i32::from(g.date.year) + 1, i32::from(g.date.year), g.date.doy)
            })
            .map(|g| i32::from(g.date.year))
            .collect();
        years.sort_unstable();
        years.dedup();
        years
    }
}
