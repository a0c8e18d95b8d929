//! Item search: a STAC API (`POST {api}/search`, pages followed through `next` links, POST-body
//! or GET-href style) or a static catalogue / collection / item collection (JSON file or URL,
//! `child` and `item` links followed, filtered here).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::{Result, StacError};
use crate::http::{parse_json, resolve, Http};
use crate::time::format_date;

/// What to look for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchParams {
    /// Collection ids.
    pub collections: Vec<String>,
    /// `[west, south, east, north]` in degrees.
    pub bbox: Option<[f64; 4]>,
    /// A GeoJSON geometry (lon/lat) used instead of `bbox` when given.
    pub intersects: Option<serde_json::Value>,
    /// Date intervals (first day, last day; day counts since 1970-01-01), one search each.
    pub intervals: Vec<(i64, i64)>,
    /// Page size asked of the API.
    pub limit: u32,
    /// Stop after this many pages per interval (a guard against endless `next` links).
    pub max_pages: u32,
    /// A STAC API `query` (e.g. `{"eo:cloud_cover": {"lte": 20}, "platform": {"in": ["landsat-8"]}}`)
    /// sent with the search; static catalogues ignore it (the caller filters the items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<serde_json::Value>,
}

/// A raw item and where it was read from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RawItem {
    pub json: serde_json::Value,
    pub base: String,
    /// The collection the item was found under (static catalogues).
    pub collection_hint: Option<String>,
}

/// Whether `url` names a static JSON document (catalogue, collection, item collection) rather than
/// an API root.
pub fn is_static(url: &str) -> bool {
    let u = url.split('?').next().unwrap_or(url).to_ascii_lowercase();
    u.ends_with(".json") || u.ends_with(".geojson") || !u.contains("://")
}

fn datetime_of(iv: (i64, i64)) -> String {
    format!("{}T00:00:00Z/{}T23:59:59Z", format_date(iv.0), format_date(iv.1))
}

/// Loads JSON from a URL or a local path.
pub fn load_json(http: &Http, what: &str, url: &str) -> Result<serde_json::Value> {
    if url.contains("://") {
        http.get_json(what, url)
    } else {
        let bytes = std::fs::read(url).map_err(|e| StacError::Http { what: what.into(), method: "GET", url: url.into(), reason: e.to_string() })?;
        parse_json(what, url, &bytes)
    }
}

/// Checks that the API has each collection; an unknown one is [`StacError::UnknownCollection`]
/// with the collections the API lists.
pub fn check_collections(http: &Http, api: &str, collections: &[String]) -> Result<()> {
    let root = api.trim_end_matches('/');
    for c in collections {
        let url = format!("{root}/collections/{c}");
        match http.get_json("collection", &url) {
            Ok(_) => {}
            Err(StacError::Http { reason, .. }) if reason.starts_with("HTTP 404") => {
                let available = http
                    .get_json("collections", &format!("{root}/collections"))
                    .ok()
                    .and_then(|v| v.get("collections").and_then(|c| c.as_array()).map(|a| a.iter().filter_map(|x| x.get("id").and_then(|i| i.as_str()).map(str::to_string)).collect()))
                    .unwrap_or_default();
                return Err(StacError::UnknownCollection { collection: c.clone(), url: root.into(), available });
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Searches a STAC API; `on_page` is told the number of items after each page.
pub fn search_api(http: &Http, api: &str, p: &SearchParams, on_page: &dyn Fn(usize)) -> Result<Vec<RawItem>> {
    let url = format!("{}/search", api.trim_end_matches('/'));
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let intervals = if p.intervals.is_empty() { vec![None] } else { p.intervals.iter().map(|i| Some(*i)).collect() };
    for iv in intervals {
        let mut body = serde_json::json!({"collections": p.collections, "limit": p.limit.max(1)});
        if let Some(g) = &p.intersects {
            body["intersects"] = g.clone();
        } else if let Some(b) = p.bbox {
            body["bbox"] = serde_json::json!(b);
        }
        if let Some(q) = &p.query {
            body["query"] = q.clone();
        }
        if let Some(iv) = iv {
            body["datetime"] = serde_json::Value::String(datetime_of(iv));
        }
        let mut page = http.post_json("item search", &url, &body)?;
        let mut page_url = url.clone();
        let mut pages = 0;
        loop {
            pages += 1;
            let feats = page.get("features").and_then(|f| f.as_array()).ok_or_else(|| StacError::BadJson {
                what: "item search".into(),
                url: page_url.clone(),
                reason: "no \"features\" array in the answer".into(),
            })?;
            for f in feats {
                let id = f.get("id").and_then(|i| i.as_str()).unwrap_or("").to_string();
                let col = f.get("collection").and_then(|i| i.as_str()).unwrap_or("").to_string();
                if seen.insert((col, id)) {
                    let base = self_link(f).unwrap_or_else(|| page_url.clone());
                    out.push(RawItem { json: f.clone(), base, collection_hint: None });
                }
            }
            on_page(out.len());
            let next = page.get("links").and_then(|l| l.as_array()).and_then(|l| l.iter().find(|x| x.get("rel").and_then(|r| r.as_str()) == Some("next")).cloned());
            let Some(next) = next else { break };
            if feats.is_empty() || pages >= p.max_pages.max(1) {
                break;
            }
            let href = next.get("href").and_then(|h| h.as_str()).map(|h| resolve(&page_url, h)).unwrap_or_else(|| url.clone());
            let method = next.get("method").and_then(|m| m.as_str()).unwrap_or("GET").to_ascii_uppercase();
            page = if method == "POST" {
                let mut b = if next.get("merge").and_then(|m| m.as_bool()).unwrap_or(false) { body.clone() } else { serde_json::json!({}) };
                if let Some(nb) = next.get("body").and_then(|b| b.as_object()) {
                    for (k, v) in nb {
                        b[k] = v.clone();
                    }
                } else if !next.get("merge").and_then(|m| m.as_bool()).unwrap_or(false) {
                    b = body.clone();
                }
                http.post_json("item search (next page)", &href, &b)?
            } else {
                http.get_json("item search (next page)", &href)?
            };
            page_url = href;
        }
    }
    Ok(out)
}

fn self_link(v: &serde_json::Value) -> Option<String> {
    v.get("links")?.as_array()?.iter().find(|l| l.get("rel").and_then(|r| r.as_str()) == Some("self"))?.get("href")?.as_str().map(str::to_string)
}

fn overlaps(a: [f64; 4], b: [f64; 4]) -> bool {
    a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]
}

/// Walks a static catalogue, collection or item collection at `url` (URL or path) and keeps the
/// items of the wanted collections that overlap the bbox and the intervals. A wanted collection
/// the catalogue does not have is [`StacError::UnknownCollection`].
pub fn search_static(http: &Http, url: &str, p: &SearchParams, on_page: &dyn Fn(usize)) -> Result<Vec<RawItem>> {
    let mut items = Vec::new();
    let mut collections_seen = BTreeSet::new();
    let mut stack = vec![(url.to_string(), None::<String>, 0usize)];
    let mut visited = BTreeSet::new();
    while let Some((u, hint, depth)) = stack.pop() {
        if !visited.insert(u.clone()) || depth > 8 {
            continue;
        }
        let v = load_json(http, "static catalogue", &u)?;
        let ty = v.get("type").and_then(|t| t.as_str()).unwrap_or("");
        match ty {
            "FeatureCollection" => {
                for f in v.get("features").and_then(|f| f.as_array()).into_iter().flatten() {
                    if let Some(c) = f.get("collection").and_then(|c| c.as_str()).or(hint.as_deref()) {
                        collections_seen.insert(c.to_string());
                    }
                    items.push(RawItem { json: f.clone(), base: self_link(f).unwrap_or_else(|| u.clone()), collection_hint: hint.clone() });
                }
            }
            "Feature" => {
                if let Some(c) = v.get("collection").and_then(|c| c.as_str()).or(hint.as_deref()) {
                    collections_seen.insert(c.to_string());
                }
                items.push(RawItem { json: v.clone(), base: u.clone(), collection_hint: hint.clone() });
            }
            _ => {
                let here = if ty == "Collection" { v.get("id").and_then(|i| i.as_str()).map(str::to_string) } else { hint.clone() };
                if let Some(c) = &here {
                    collections_seen.insert(c.clone());
                }
                let links = v.get("links").and_then(|l| l.as_array()).cloned().unwrap_or_default();
                // children in reverse so that the stack visits them in catalogue order
                for l in links.iter().rev() {
                    let rel = l.get("rel").and_then(|r| r.as_str()).unwrap_or("");
                    if rel == "child" || rel == "item" {
                        if let Some(h) = l.get("href").and_then(|h| h.as_str()) {
                            stack.push((resolve(&u, h), here.clone(), depth + 1));
                        }
                    }
                }
            }
        }
        on_page(items.len());
    }
    for c in &p.collections {
        if !collections_seen.contains(c) {
            return Err(StacError::UnknownCollection { collection: c.clone(), url: url.into(), available: collections_seen.into_iter().collect() });
        }
    }
    let keep = |r: &RawItem| -> bool {
        let col = r.json.get("collection").and_then(|c| c.as_str()).or(r.collection_hint.as_deref()).unwrap_or("");
        if !p.collections.is_empty() && !p.collections.iter().any(|c| c == col) {
            return false;
        }
        if let (Some(b), Some(ib)) = (p.bbox, r.json.get("bbox").and_then(|b| b.as_array())) {
            let n: Vec<f64> = ib.iter().filter_map(|x| x.as_f64()).collect();
            if n.len() >= 4 && !overlaps(b, [n[0], n[1], n[n.len() / 2], n[n.len() / 2 + 1]]) {
                return false;
            }
        }
        if !p.intervals.is_empty() {
            let props = r.json.get("properties");
            let t0 = props.and_then(|pr| pr.get("start_datetime").or(pr.get("datetime"))).and_then(|t| t.as_str()).and_then(crate::time::parse_rfc3339);
            let t1 = props.and_then(|pr| pr.get("end_datetime").or(pr.get("datetime"))).and_then(|t| t.as_str()).and_then(crate::time::parse_rfc3339).or(t0);
            if let (Some(t0), Some(t1)) = (t0, t1) {
                let (d0, d1) = (t0.div_euclid(86_400), t1.div_euclid(86_400));
                if !p.intervals.iter().any(|(a, b)| d0 <= *b && d1 >= *a) {
                    return false;
                }
            }
        }
        true
    };
    Ok(items.into_iter().filter(keep).collect())
}
