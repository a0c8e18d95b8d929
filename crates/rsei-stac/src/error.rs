//! Errors of the STAC crate: each names the URL, collection, item or asset at fault.

use std::path::PathBuf;

use thiserror::Error;

/// Everything that can go wrong while searching a catalogue or fetching its assets.
#[derive(Debug, Error)]
pub enum StacError {
    /// An HTTP request failed for good (after the retries), with the status or transport error.
    #[error("{what}: {method} {url} failed: {reason}")]
    Http { what: String, method: &'static str, url: String, reason: String },
    /// A response (or a file) that is not the JSON expected.
    #[error("{what}: {url} is not valid STAC JSON: {reason}")]
    BadJson { what: String, url: String, reason: String },
    /// The catalogue does not know a collection.
    #[error("collection {collection:?} is not in the catalogue {url}{}", available_list(.available))]
    UnknownCollection { collection: String, url: String, available: Vec<String> },
    /// A collection whose items are not a product rsei reads.
    #[error("collection {collection:?}: item {item} is {product}, not a product rsei reads ({handled})")]
    UnsupportedCollection { collection: String, item: String, product: String, handled: String },
    /// The search found no item.
    #[error("the search found no item: {what}")]
    EmptySearch { what: String },
    /// An item lacks the asset that holds a layer.
    #[error("item {item} ({collection}) has no asset {key:?} for layer {layer} (its assets: {})", .available.join(", "))]
    MissingAsset { item: String, collection: String, layer: String, key: String, available: Vec<String> },
    /// An item whose metadata cannot be used (no date, no tile, disagreeing fields).
    #[error("item {item} ({collection}): {reason}")]
    BadItem { item: String, collection: String, reason: String },
    /// The item's encoding of an asset disagrees with the product table.
    #[error("asset {key:?} of item {item}: {reason}")]
    Encoding { item: String, key: String, reason: String },
    /// Reading the window of an asset failed (after the retries).
    #[error("asset {key:?} of item {item} ({url}): {reason}")]
    Asset { item: String, key: String, url: String, reason: String },
    /// A SAS token could not be had.
    #[error("Planetary Computer SAS token for {account}/{container} from {url}: {reason}")]
    Token { account: String, container: String, url: String, reason: String },
    /// Offline, and the cache lacks something the run needs.
    #[error("offline: {what} is not in the cache {}; run once without --offline (in a study file: without `offline = true`) to fetch it", .cache.display())]
    NotCached { what: String, cache: PathBuf },
    /// The cache folder cannot be written (full disk, permissions).
    #[error("cache {}: {reason}", .path.display())]
    Cache { path: PathBuf, reason: String },
    /// A bad option value.
    #[error("invalid option {name}: {reason}")]
    InvalidOption { name: String, reason: String },
}

fn available_list(v: &[String]) -> String {
    if v.is_empty() {
        String::new()
    } else {
        format!(" (it has: {})", v.join(", "))
    }
}

/// The crate's result type.
pub type Result<T, E = StacError> = std::result::Result<T, E>;

/// A cache write error, with the full-disk case spelled out.
pub fn cache_write_error(path: &std::path::Path, e: &std::io::Error) -> StacError {
    // ENOSPC (28 on Linux and the BSDs); `ErrorKind::StorageFull` is newer than our MSRV
    let full = e.raw_os_error() == Some(28) || e.to_string().contains("No space left");
    let reason = if full {
        format!(
            "the disk is full (no space left on device) while writing {}: free some space, lower the cache size limit or choose another cache folder",
            path.display()
        )
    } else {
        format!("cannot write {}: {e}", path.display())
    };
    StacError::Cache { path: path.parent().map(|p| p.to_path_buf()).unwrap_or_default(), reason }
}
