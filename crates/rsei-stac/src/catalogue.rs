//! One catalogue as a run uses it: the HTTP client, the signer and the cache, a cached search, and
//! the fetch of the assets.

use std::path::PathBuf;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::cache::{key_of, Cache, DEFAULT_LIMIT_BYTES};
use crate::error::{Result, StacError};
use crate::fetch::Fetcher;
use crate::http::{Http, RetryPolicy};
use crate::item::Item;
use crate::search::{check_collections, is_static, search_api, search_static, RawItem, SearchParams};
use crate::sign::{Signer, PC_TOKEN_ENDPOINT};
use crate::time::format_date;

/// The Planetary Computer STAC API.
pub const PLANETARY_COMPUTER_API: &str = "https://planetarycomputer.microsoft.com/api/stac/v1";
/// NASA CMR-STAC, LP DAAC cloud holdings.
pub const CMR_LPCLOUD_API: &str = "https://cmr.earthdata.nasa.gov/stac/LPCLOUD";

/// How asset URLs are signed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignMode {
    /// Planetary Computer signing when the catalogue URL is the Planetary Computer's, else none.
    #[default]
    Auto,
    /// Never sign.
    None,
    /// Always sign with Planetary Computer SAS tokens.
    PlanetaryComputer,
}

/// Everything that configures a catalogue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CatalogueOptions {
    /// STAC API root, or a static catalogue / collection / item collection (URL or path ending in `.json`).
    pub url: String,
    /// Collection ids (empty: the defaults of the catalogue for the products a run needs).
    pub collections: Vec<String>,
    /// Signing of asset URLs.
    pub sign: SignMode,
    /// Token endpoint of Planetary Computer signing.
    pub token_endpoint: String,
    /// Cache folder (default: `.rsei-cache` under the output folder, chosen by the caller).
    pub cache_dir: Option<PathBuf>,
    /// Cache size limit in bytes (deserialised from a number of bytes or a size such as `"10GiB"`).
    #[serde(deserialize_with = "size_or_bytes")]
    pub cache_limit_bytes: u64,
    /// Run from the cache only.
    pub offline: bool,
    /// Items per page asked of the API.
    pub page_limit: u32,
    /// Assets fetched at once.
    pub workers: usize,
    /// Retries of a failed request.
    pub max_retries: u32,
    /// First retry delay in milliseconds (doubled at each retry).
    pub retry_delay_ms: u64,
    /// Timeout of one request in seconds.
    pub timeout_s: u64,
    /// Environment variable holding a bearer token sent with every request (NASA Earthdata:
    /// `EARTHDATA_TOKEN`); its value is never written anywhere.
    pub token_env: Option<String>,
    /// Scene collections only: the largest `eo:cloud_cover` (%) of an item used (`None`: no limit).
    pub max_cloud: Option<f64>,
    /// Scene collections only: the `platform` values accepted (`landsat-8`, `sentinel-2b`;
    /// case-insensitive); empty: all.
    pub platforms: Vec<String>,
}

impl Default for CatalogueOptions {
    fn default() -> Self {
        CatalogueOptions {
            url: String::new(),
            collections: Vec::new(),
            sign: SignMode::Auto,
            token_endpoint: PC_TOKEN_ENDPOINT.into(),
            cache_dir: None,
            cache_limit_bytes: DEFAULT_LIMIT_BYTES,
            offline: false,
            page_limit: 100,
            workers: 4,
            max_retries: 4,
            retry_delay_ms: 500,
            timeout_s: 120,
            token_env: None,
            max_cloud: None,
            platforms: Vec::new(),
        }
    }
}

impl CatalogueOptions {
    /// Checks the values; the first problem names the option.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &str, reason: &str| Err(StacError::InvalidOption { name: name.into(), reason: reason.into() });
        if self.url.trim().is_empty() {
            return bad("stac url", "empty");
        }
        if self.page_limit == 0 || self.page_limit > 10_000 {
            return bad("page_limit", "must be 1..=10000");
        }
        if self.workers == 0 || self.workers > 64 {
            return bad("workers", "must be 1..=64");
        }
        if self.timeout_s == 0 {
            return bad("timeout_s", "must be at least 1");
        }
        if self.cache_limit_bytes < (1 << 20) {
            return bad("cache_limit", "must be at least 1 MiB");
        }
        if self.max_cloud.is_some_and(|c| !(0.0..=100.0).contains(&c)) {
            return bad("max_cloud", "a percentage, 0 to 100");
        }
        if self.platforms.iter().any(|p| p.trim().is_empty()) {
            return bad("platforms", "a platform name is empty");
        }
        Ok(())
    }

    /// Whether the URL is the Planetary Computer's (so that `Auto` signs).
    pub fn is_planetary_computer(&self) -> bool {
        self.url.contains("planetarycomputer.microsoft.com")
    }
}

/// Raw items parsed as scenes, sorted by date and id.
fn scene_items(raw: &[RawItem]) -> Result<Vec<crate::scene::SceneItem>> {
    let mut items = Vec::with_capacity(raw.len());
    for r in raw {
        items.push(crate::scene::SceneItem::from_json(&r.json, &r.base, r.collection_hint.as_deref())?);
    }
    items.sort_by(|a, b| (a.datetime, &a.id).cmp(&(b.datetime, &b.id)));
    Ok(items)
}

/// A number of bytes, or a size such as `"10GiB"` ([`parse_size`]).
fn size_or_bytes<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<u64, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a size in bytes (10737418240) or a text such as \"10GiB\" or \"500MB\"")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom(format!("a size cannot be negative: {v}")))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<u64, E> {
            parse_size(v).ok_or_else(|| E::custom(format!("{v:?} is not a size: use bytes or a size such as \"10GiB\" or \"500MB\"")))
        }
    }
    d.deserialize_any(V)
}

/// Parses a size such as `500MB`, `10GiB`, `2G` or `1048576` into bytes.
pub fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim().to_ascii_lowercase();
    let i = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (n, unit) = t.split_at(i);
    let n: f64 = n.parse().ok()?;
    let mult: f64 = match unit.trim().trim_end_matches('b').trim_end_matches('i') {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024.0f64.powi(4),
        _ => return None,
    };
    (n >= 0.0).then_some((n * mult) as u64)
}

/// A catalogue ready to search and fetch.
#[derive(Debug)]
pub struct Catalogue {
    pub options: CatalogueOptions,
    pub http: Http,
    pub signer: Signer,
    pub cache: Cache,
}

/// A short description of a search for messages.
pub fn describe_search(url: &str, p: &SearchParams) -> String {
    let when: Vec<String> = p.intervals.iter().map(|(a, b)| format!("{}..{}", format_date(*a), format_date(*b))).collect();
    let bbox = p.bbox.map(|b| format!("bbox [{:.4}, {:.4}, {:.4}, {:.4}]", b[0], b[1], b[2], b[3])).unwrap_or_else(|| "no bbox".into());
    format!(
        "collection(s) {} at {url}, {bbox}, dates {}",
        p.collections.join(", "),
        if when.is_empty() { "any".into() } else { when.join(", ") }
    )
}

/// The items of a search answer, sorted by product, tile, date and id; none is [`StacError::EmptySearch`].
fn parse_items(url: &str, p: &SearchParams, raw: &[RawItem]) -> Result<Vec<Item>> {
    if raw.is_empty() {
        return Err(StacError::EmptySearch { what: describe_search(url, p) });
    }
    let mut items = Vec::with_capacity(raw.len());
    for r in raw {
        items.push(Item::from_json(&r.json, &r.base, r.collection_hint.as_deref())?);
    }
    items.sort_by(|a, b| (a.product, a.tile, a.date, &a.id).cmp(&(b.product, b.tile, b.date, &b.id)));
    Ok(items)
}

impl Catalogue {
    /// Opens the cache and sets up HTTP and signing; `default_cache` is used when the options name none.
    pub fn new(options: CatalogueOptions, default_cache: PathBuf) -> Result<Catalogue> {
        options.validate()?;
        let mut http = Http::new(
            Duration::from_secs(options.timeout_s),
            RetryPolicy { max_retries: options.max_retries, base_delay: Duration::from_millis(options.retry_delay_ms) },
        );
        if let Some(var) = &options.token_env {
            match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => http.headers.push(("Authorization".into(), format!("Bearer {}", v.trim()))),
                _ => {
                    return Err(StacError::InvalidOption { name: "token_env".into(), reason: format!("the environment variable {var} is not set") })
                }
            }
        }
        let sign = match options.sign {
            SignMode::Auto if options.is_planetary_computer() => true,
            SignMode::Auto | SignMode::None => false,
            SignMode::PlanetaryComputer => true,
        };
        let signer = if sign { Signer::planetary_computer(&options.token_endpoint) } else { Signer::None };
        let dir = options.cache_dir.clone().unwrap_or(default_cache);
        let cache = Cache::open(&dir, options.cache_limit_bytes)?;
        Ok(Catalogue { options, http, signer, cache })
    }

    /// The catalogue URL and the cache key of a search.
    fn search_key(&self, p: &SearchParams) -> (String, String) {
        let url = self.options.url.trim_end_matches('/').to_string();
        let key = key_of(&[&url, &serde_json::to_string(p).unwrap_or_default()]);
        (url, key)
    }

    /// Searches, unless the cache holds the answer of the same search (then no request is made);
    /// the flag tells whether the answer came from the cache. For checks before a run, which
    /// should not need the network when the cache can answer.
    pub fn search_prefer_cache(&self, p: &SearchParams, on_page: &dyn Fn(usize)) -> Result<(Vec<Item>, bool)> {
        let (url, key) = self.search_key(p);
        let path = self.cache.search_path(&key);
        if let Ok(bytes) = std::fs::read(&path) {
            let raw: Vec<RawItem> = serde_json::from_slice(&bytes).map_err(|e| StacError::Cache { path: path.clone(), reason: format!("damaged search answer: {e}") })?;
            return Ok((parse_items(&url, p, &raw)?, true));
        }
        Ok((self.search(p, on_page)?, false))
    }

    /// Searches (or, offline, reads the cached answer of the same search) and parses the items.
    /// No item at all is [`StacError::EmptySearch`].
    pub fn search(&self, p: &SearchParams, on_page: &dyn Fn(usize)) -> Result<Vec<Item>> {
        let (url, _) = self.search_key(p);
        let raw = self.search_raw(p, on_page)?;
        parse_items(&url, p, &raw)
    }

    /// Landsat C2 L2 / Sentinel-2 L2A items: as [`Catalogue::search`], parsed as scenes (sorted
    /// by date and id). No item at all is [`StacError::EmptySearch`].
    pub fn search_scenes(&self, p: &SearchParams, on_page: &dyn Fn(usize)) -> Result<Vec<crate::scene::SceneItem>> {
        let (url, _) = self.search_key(p);
        let raw = self.search_raw(p, on_page)?;
        if raw.is_empty() {
            return Err(StacError::EmptySearch { what: describe_search(&url, p) });
        }
        scene_items(&raw)
    }

    /// As [`Catalogue::search_scenes`], answered by the cached answer of the same search when
    /// there is one (no request; `true` beside the items), else searched (unless offline). No
    /// item at all is an empty list, not an error: the caller tells which years lack one.
    pub fn search_scenes_prefer_cache(&self, p: &SearchParams, on_page: &dyn Fn(usize)) -> Result<(Vec<crate::scene::SceneItem>, bool)> {
        let (_, key) = self.search_key(p);
        let path = self.cache.search_path(&key);
        if let Ok(bytes) = std::fs::read(&path) {
            let raw: Vec<RawItem> = serde_json::from_slice(&bytes).map_err(|e| StacError::Cache { path: path.clone(), reason: format!("damaged search answer: {e}") })?;
            return Ok((scene_items(&raw)?, true));
        }
        let from_cache = self.options.offline;
        Ok((scene_items(&self.search_raw(p, on_page)?)?, from_cache))
    }

    /// The raw items of a search (or, offline, of the cached answer of the same search); the
    /// answer is cached.
    pub fn search_raw(&self, p: &SearchParams, on_page: &dyn Fn(usize)) -> Result<Vec<RawItem>> {
        let (url, key) = self.search_key(p);
        let raw: Vec<RawItem> = if self.options.offline {
            let path = self.cache.search_path(&key);
            let bytes = std::fs::read(&path).map_err(|_| StacError::NotCached { what: format!("the search of {}", describe_search(&url, p)), cache: self.cache.dir().to_path_buf() })?;
            serde_json::from_slice(&bytes).map_err(|e| StacError::Cache { path: path.clone(), reason: format!("damaged search answer: {e}") })?
        } else {
            let raw = if is_static(&url) {
                search_static(&self.http, &url, p, on_page)?
            } else {
                check_collections(&self.http, &url, &p.collections)?;
                search_api(&self.http, &url, p, on_page)?
            };
            let json = serde_json::to_vec(&raw).map_err(|e| StacError::Cache { path: self.cache.dir().to_path_buf(), reason: e.to_string() })?;
            self.cache.put_search(&key, &json)?;
            raw
        };
        Ok(raw)
    }

    /// The fetcher of this catalogue.
    pub fn fetcher(&self) -> Fetcher<'_> {
        Fetcher {
            http: &self.http,
            signer: &self.signer,
            cache: &self.cache,
            offline: self.options.offline,
            vsicurl: rsei_io::remote::VsiCurlOptions {
                max_retry: self.options.max_retries,
                retry_delay_s: self.options.retry_delay_ms as f64 / 1000.0,
                timeout_s: self.options.timeout_s.min(u64::from(u32::MAX)) as u32,
            },
            workers: self.options.workers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1048576"), Some(1 << 20));
        assert_eq!(parse_size("10GiB"), Some(10 << 30));
        assert_eq!(parse_size("500MB"), Some(500 << 20));
        assert_eq!(parse_size("2g"), Some(2 << 30));
        assert_eq!(parse_size("lots"), None);
    }

    #[test]
    fn cache_limit_as_bytes_or_size() {
        let o: CatalogueOptions = serde_json::from_str(r#"{"url": "u", "cache_limit_bytes": "500MB"}"#).unwrap();
        assert_eq!(o.cache_limit_bytes, 500 << 20);
        let o: CatalogueOptions = serde_json::from_str(r#"{"url": "u", "cache_limit_bytes": 2097152}"#).unwrap();
        assert_eq!(o.cache_limit_bytes, 2 << 20);
        let o: CatalogueOptions = serde_json::from_str(r#"{"url": "u"}"#).unwrap();
        assert_eq!(o.cache_limit_bytes, DEFAULT_LIMIT_BYTES);
        let e = serde_json::from_str::<CatalogueOptions>(r#"{"url": "u", "cache_limit_bytes": "lots"}"#).unwrap_err();
        assert!(e.to_string().contains("not a size"), "{e}");
        assert!(serde_json::from_str::<CatalogueOptions>(r#"{"url": "u", "cache_limit_bytes": -1}"#).is_err());
        assert!(serde_json::from_str::<CatalogueOptions>(r#"{"urll": "u"}"#).unwrap_err().to_string().contains("unknown field"));
    }
}
