//! HTTP routes: the embedded front end, the JSON API and the tiles.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::assets;
use crate::catalog::Area;
use crate::geo::{self, Dir, MAX_ZOOM};
use crate::layers::{LayerId, INDICATORS};
use crate::error::ApiError;
use crate::render;
use crate::tilemap::TileSpec;
use crate::state::{lock_mutex, AppState};

type St = State<Arc<AppState>>;
type ApiResult<T> = Result<T, ApiError>;

/// Runs blocking work (GDAL, files) off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> ApiResult<T> + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::Internal(format!("a worker failed: {e}")))?
}

/// The routes of the viewer.
pub(crate) fn routes(state: Arc<AppState>) -> Router {
    let r = Router::new()
        .route("/", get(|| async { asset("index.html") }))
        .route("/index.html", get(|| async { asset("index.html") }))
        .route("/app.js", get(|| async { asset("app.js") }))
        .route("/app.css", get(|| async { asset("app.css") }))
        .route("/vendor/{file}", get(|Path(f): Path<String>| async move { asset(&format!("vendor/{f}")) }))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route("/api/config", get(config))
        .route("/api/areas", get(areas))
        .route("/api/areas/{area}", get(area))
        .route("/api/areas/{area}/pca", get(pca))
        .route("/api/areas/{area}/summary", get(summary))
        .route("/api/areas/{area}/outline", get(outline))
        .route("/api/areas/{area}/mines", get(mines))
        .route("/api/areas/{area}/series", get(series))
        .route("/api/stats", get(stats))
        .route("/tiles/{area}/{layer}/{year}/{z}/{x}/{y}", get(tile))
        .fallback(|uri: axum::http::Uri| async move { ApiError::NotFound(format!("nothing is served at {}", uri.path())) });
    let loopback = state.opts.bind.ip().is_loopback();
    let r = r.with_state(state);
    if loopback {
        r.layer(axum::middleware::from_fn(local_host_only))
    } else {
        r
    }
}

/// Whether a `Host` header names this machine: an IP literal or `localhost` (with any port).
pub(crate) fn local_host(host: &str) -> bool {
    if host.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(h, p)| if p.bytes().all(|b| b.is_ascii_digit()) { h } else { host })
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok()
}

/// On a loopback address, requests naming another host are refused: a web page of another site
/// cannot read the results through a DNS name pointed at 127.0.0.1.
async fn local_host_only(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    match req.headers().get(header::HOST).and_then(|h| h.to_str().ok()) {
        Some(h) if !local_host(h) => (
            StatusCode::FORBIDDEN,
            Json(json!({"error": format!("host {h:?} is refused: this server answers requests to 127.0.0.1 or localhost"), "status": 403})),
        )
            .into_response(),
        _ => next.run(req).await,
    }
}

fn asset(name: &str) -> Response {
    match assets::get(name) {
        Some((body, mime)) => {
            ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "no-cache"), (header::X_CONTENT_TYPE_OPTIONS, "nosniff")], body).into_response()
        }
        None => ApiError::NotFound(format!("no file {name} in the viewer")).into_response(),
    }
}

async fn config(State(st): St) -> Json<Value> {
    Json(json!({
        "software": concat!("rsei-serve ", env!("CARGO_PKG_VERSION")),
        "results": st.root.display().to_string(),
        "base_map": st.opts.base_map,
        "tile_size": geo::TILE_SIZE,
        "layers": crate::layers::ALL_LAYERS.iter().map(|l| json!({"id": l.name(), "title": l.meta().title, "unit": l.meta().unit})).collect::<Vec<_>>(),
    }))
}

/// JSON description of an area (blocking: opens its rasters on first use).
fn area_json(st: &AppState, a: &Area) -> Value {
    let layers = a.layers();
    let years: Vec<i32> = a.years.keys().copied().collect();
    let mut v = json!({
        "id": a.id,
        "name": a.name,
        "years": years,
        "tiles": format!("/tiles/{}/{{layer}}/{{year}}/{{z}}/{{x}}/{{y}}.png?v={:x}", encode(&a.id), a.stamp),
        "has_mines": st.opts.read_inputs && a.mines_source.is_some(),
        "has_pca": a.dir.join("pca_table.json").is_file() || st.root.join("pca_table.json").is_file(),
    });
    match st.geo(a) {
        Ok(g) => {
            let ranges = st.ranges(a);
            let b = g.bounds;
            // zoom at which a tile pixel is one cell (web-mercator metres per cell at this latitude)
            let (mx0, _, mx1, _) = g.merc;
            let cell_merc = (mx1 - mx0) / g.info.width.max(1) as f64;
            let native = (2.0 * geo::MERC_ORIGIN / (geo::TILE_SIZE as f64 * cell_merc)).log2();
            v["bounds"] = json!(b);
            v["center"] = json!([(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0]);
            v["native_zoom"] = json!((native * 100.0).round() / 100.0);
            v["size"] = json!([g.info.width, g.info.height]);
            v["levels"] = json!(g.info.levels.len());
            v["problems"] = json!(g.problems.iter().map(|p| json!({"file": p.file, "reason": p.reason})).collect::<Vec<_>>());
            v["layers"] = layers
                .iter()
                .map(|&l| {
                    let r = ranges.get(&l).copied();
                    json!({"id": l.name(), "title": l.meta().title, "unit": l.meta().unit, "years": a.years_of(l), "computed": l.computed(), "legend": l.legend(r)})
                })
                .collect();
            if let Some(list) = v["layers"].as_array_mut() {
                for (k, e) in a.extras.iter().enumerate() {
                    let r = st.extra_range(a, k);
                    list.push(json!({"id": e.id, "title": e.file_name, "unit": "", "years": [], "computed": false, "static": true, "file": e.file_name, "legend": crate::layers::extra_legend(r)}));
                }
            }
        }
        Err(e) => {
            v["error"] = json!(e.message());
            v["layers"] = json!([]);
        }
    }
    v
}

/// Percent-encodes a path segment.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn areas(State(st): St) -> ApiResult<Json<Value>> {
    blocking(move || {
        let cat = st.rescan();
        if cat.areas.is_empty() {
            return Err(ApiError::NotFound(st.no_results_message()));
        }
        Ok(Json(json!({"areas": cat.areas.iter().map(|a| area_json(&st, a)).collect::<Vec<_>>(), "notes": cat.notes})))
    })
    .await
}

async fn area(State(st): St, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let a = st.area(&id)?;
    blocking(move || Ok(Json(area_json(&st, &a)))).await
}

/// A table of the results (`<area>/NAME.json`, else the rows of the run-level `NAME.json` for
/// the area).
fn table(st: &AppState, a: &Area, name: &str) -> ApiResult<Value> {
    let read = |p: std::path::PathBuf| -> Option<Value> {
        let real = std::fs::canonicalize(&p).ok()?;
        if !real.starts_with(&st.root) {
            return None;
        }
        serde_json::from_slice(&std::fs::read(real).ok()?).ok()
    };
    if let Some(v) = read(a.dir.join(format!("{name}.json"))) {
        return Ok(v);
    }
    if let Some(Value::Array(rows)) = read(st.root.join(format!("{name}.json"))) {
        let mine: Vec<Value> = rows.into_iter().filter(|r| r.get("area").and_then(Value::as_str) == Some(a.name.as_str())).collect();
        if !mine.is_empty() {
            return Ok(Value::Array(mine));
        }
    }
    Err(ApiError::NotFound(format!("no {name}.json for {} in the results", a.name)))
}

async fn pca(State(st): St, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let a = st.area(&id)?;
    blocking(move || Ok(Json(json!({"area": a.id, "name": a.name, "rows": table(&st, &a, "pca_table")?})))).await
}

async fn summary(State(st): St, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let a = st.area(&id)?;
    blocking(move || Ok(Json(json!({"area": a.id, "name": a.name, "rows": table(&st, &a, "rsei_summary")?})))).await
}

fn geojson(v: Value) -> Response {
    ([(header::CONTENT_TYPE, "application/geo+json")], Json(v)).into_response()
}

async fn outline(State(st): St, Path(id): Path<String>) -> ApiResult<Response> {
    let a = st.area(&id)?;
    blocking(move || {
        let v = a.outline.get_or_init(|| crate::vectors::outline(&st.root, &a, st.opts.read_inputs));
        v.clone().map(geojson).map_err(|e| ApiError::NotFound(format!("no outline of {}: {e}", a.name)))
    })
    .await
}

async fn mines(State(st): St, Path(id): Path<String>) -> ApiResult<Response> {
    let a = st.area(&id)?;
    blocking(move || {
        let v = a.mines.get_or_init(|| crate::vectors::mines(&st.root, &a, st.opts.read_inputs));
        match v {
            Ok(Some(v)) => Ok(geojson(v.clone())),
            Ok(None) => Err(ApiError::NotFound(format!("{} has no mining analysis with a mine layer", a.name))),
            Err(e) => Err(ApiError::NotFound(format!("mines of {}: {e}", a.name))),
        }
    })
    .await
}

fn number(q: &HashMap<String, String>, k: &str) -> ApiResult<f64> {
    let s = q.get(k).ok_or_else(|| ApiError::BadRequest(format!("missing query parameter {k}")))?;
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| ApiError::BadRequest(format!("{k}={s:?} is not a number")))
}

/// The per-pixel time series of an area at a point: RSEI, the four indicators, grade and MNDWI.
pub(crate) fn series_at(st: &AppState, a: &Area, lon: f64, lat: f64) -> ApiResult<Value> {
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(ApiError::BadRequest(format!("({lon}, {lat}) is not a longitude/latitude")));
    }
    let g = st.geo(a)?;
    let (mut xs, mut ys) = (vec![lon], vec![lat]);
    geo::transform(&g.info.crs, Dir::LonLatToSrc, &mut xs, &mut ys).map_err(ApiError::Internal)?;
    let (x, y) = (xs[0], ys[0]);
    let outside = || ApiError::NotFound(format!("the point ({lon:.5}, {lat:.5}) lies outside the rasters of {}", a.name));
    if !x.is_finite() {
        return Err(outside());
    }
    let (c, r) = g.info.col_row(x, y);
    if c < 0.0 || r < 0.0 || c >= g.info.width as f64 || r >= g.info.height as f64 {
        return Err(outside());
    }
    let (col, row) = (c.floor() as usize, r.floor() as usize);
    let (cx, cy) = g.info.xy(col as f64 + 0.5, row as f64 + 0.5);
    // the centre, then the corners of the cell
    let pts = [(0.5, 0.5), (0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)];
    let (mut cxs, mut cys): (Vec<f64>, Vec<f64>) = pts.iter().map(|&(dc, dr)| g.info.xy(col as f64 + dc, row as f64 + dr)).unzip();
    geo::transform(&g.info.crs, Dir::SrcToLonLat, &mut cxs, &mut cys).map_err(ApiError::Internal)?;
    let corners: Vec<[f64; 2]> = cxs[1..].iter().zip(&cys[1..]).map(|(&x, &y)| [x, y]).collect();
    let years: Vec<i32> = a.years.keys().copied().collect();
    let mut problems = Vec::new();
    let mut any = false;
    let layers = [LayerId::Rsei].into_iter().chain(INDICATORS).chain([LayerId::Grade, LayerId::Mndwi]);
    let mut series = Vec::new();
    for l in layers {
        if !a.years.values().any(|m| m.contains_key(&l)) {
            continue;
        }
        let mut values = Vec::new();
        for year in &years {
            let v = match a.file(l, *year) {
                None => None,
                Some(f) => match f.info() {
                    Err(p) => {
                        problems.push(json!({"file": p.file, "reason": p.reason}));
                        None
                    }
                    Ok(info) => {
                        // the file's own grid (the same as the area's in results written by rsei)
                        let (fc, fr) = info.col_row(x, y);
                        if fc < 0.0 || fr < 0.0 || fc >= info.width as f64 || fr >= info.height as f64 {
                            None
                        } else {
                            match f.pixel(fc.floor() as usize, fr.floor() as usize) {
                                Ok(v) if v.is_finite() => Some(f64::from(v)),
                                Ok(_) => None,
                                Err(p) => {
                                    problems.push(json!({"file": p.file, "reason": p.reason}));
                                    None
                                }
                            }
                        }
                    }
                },
            };
            any |= v.is_some() && l != LayerId::Grade;
            values.push(v);
        }
        series.push(json!({"layer": l.name(), "title": l.meta().title, "unit": l.meta().unit, "values": values}));
    }
    if !any && problems.is_empty() {
        return Err(ApiError::NotFound(format!(
            "no data at ({lon:.5}, {lat:.5}): the cell (row {row}, col {col}) lies outside the study area {}",
            a.name
        )));
    }
    Ok(json!({
        "area": a.id,
        "name": a.name,
        "lon": lon,
        "lat": lat,
        "cell": {"row": row, "col": col, "x": cx, "y": cy, "lon": cxs[0], "lat": cys[0], "outline": corners},
        "years": years,
        "series": series,
        "problems": problems,
    }))
}

async fn series(State(st): St, Path(id): Path<String>, Query(q): Query<HashMap<String, String>>) -> ApiResult<Json<Value>> {
    let a = st.area(&id)?;
    let (lon, lat) = (number(&q, "lon")?, number(&q, "lat")?);
    AppState::count(&st.counters.series);
    blocking(move || series_at(&st, &a, lon, lat).map(Json)).await
}

async fn stats(State(st): St) -> Json<Value> {
    let c = &st.counters;
    let caches: serde_json::Map<String, Value> = st.cache_stats().into_iter().map(|(k, s)| (k.to_string(), json!(s))).collect();
    let ld = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
    Json(json!({
        "tiles_rendered": ld(&c.tiles_rendered),
        "tiles_empty": ld(&c.tiles_empty),
        "tile_errors": ld(&c.tile_errors),
        "series": ld(&c.series),
        "caches": caches,
    }))
}

fn parse_tile(a: &Area, layer: &str, year: &str, z: &str, x: &str, y: &str, q: &HashMap<String, String>) -> ApiResult<TileSpec> {
    let extra = a.extra(layer).map(|(k, _)| k);
    let layer = match extra {
        Some(_) => LayerId::Extra,
        None => LayerId::from_name(layer).ok_or_else(|| {
            let mut names: Vec<String> = a.layers().iter().map(|l| l.name().to_string()).collect();
            names.extend(a.extras.iter().map(|e| e.id.clone()));
            ApiError::BadRequest(format!("unknown layer {layer:?} (layers of {}: {})", a.name, names.join(", ")))
        })?,
    };
    if layer != LayerId::Extra && !a.layers().contains(&layer) {
        return Err(ApiError::NotFound(format!("{} has no {} layer", a.name, layer.meta().title)));
    }
    let int = |k: &str, s: &str| -> ApiResult<i64> { s.parse::<i64>().map_err(|_| ApiError::BadRequest(format!("{k} {s:?} is not a whole number"))) };
    let y = y.strip_suffix(".png").ok_or_else(|| ApiError::BadRequest(format!("tiles are PNG: {y:?} should end in .png")))?;
    let (z, x, y) = (int("zoom", z)?, int("x", x)?, int("y", y)?);
    if !(0..=i64::from(MAX_ZOOM)).contains(&z) {
        return Err(ApiError::BadRequest(format!("zoom {z} is outside 0..={MAX_ZOOM}")));
    }
    let n = 1i64 << z;
    if !(0..n).contains(&x) || !(0..n).contains(&y) {
        return Err(ApiError::BadRequest(format!("tile {z}/{x}/{y} does not exist (x and y must be in 0..{n} at zoom {z})")));
    }
    let years = a.years_of(layer);
    let first = years.first().copied().unwrap_or_default();
    let year = if layer == LayerId::Trend {
        first
    } else if let Some(k) = extra {
        k as i32
    } else {
        let y = int("year", year)? as i32;
        if !years.contains(&y) {
            return Err(ApiError::NotFound(format!("{} has no {} raster for {y} (years: {years:?})", a.name, layer.meta().title)));
        }
        y
    };
    let from = match (layer, q.get("from")) {
        (LayerId::Change, Some(f)) => {
            let f = int("from", f)? as i32;
            if !years.contains(&f) {
                return Err(ApiError::NotFound(format!("{} has no RSEI raster for {f} (years: {years:?})", a.name)));
            }
            f
        }
        (LayerId::Change, None) => first,
        _ => 0,
    };
    Ok(TileSpec { layer, year, from, z: z as u8, x: x as u32, y: y as u32 })
}

fn png(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "public, max-age=600")], body).into_response()
}

/// Renders one tile and keeps it in the tile cache.
pub(crate) fn render_tile(st: &AppState, a: &Area, t: TileSpec) -> ApiResult<Bytes> {
    let key = (a.id.clone(), a.stamp, t);
    let g = st.geo(a)?;
    let r = render::render(st, a, g, &t);
    let bytes = match r {
        Ok(Some(png)) => {
            AppState::count(&st.counters.tiles_rendered);
            Bytes::from(png)
        }
        Ok(None) => {
            AppState::count(&st.counters.tiles_empty);
            st.empty_png.clone()
        }
        Err(e) => {
            AppState::count(&st.counters.tile_errors);
            return Err(e);
        }
    };
    lock_mutex(&st.tiles).insert(key, bytes.clone(), bytes.len() + 64);
    Ok(bytes)
}

async fn tile(
    State(st): St,
    Path((id, layer, year, z, x, y)): Path<(String, String, String, String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let a = st.area(&id)?;
    let t = parse_tile(&a, &layer, &year, &z, &x, &y, &q)?;
    // a cached tile needs no worker thread
    if let Some(b) = lock_mutex(&st.tiles).get(&(a.id.clone(), a.stamp, t)) {
        return Ok(png(b));
    }
    blocking(move || render_tile(&st, &a, t)).await.map(png)
}

#[cfg(test)]
mod tests {
    #[test]
    fn local_hosts() {
        for h in ["127.0.0.1:8080", "localhost:1", "LOCALHOST", "[::1]:9000", "10.1.2.3", "::1"] {
            assert!(super::local_host(h), "{h}");
        }
        for h in ["evil.example:8080", "evil.example", "127.0.0.1.nip.io:80", "[evil]:1"] {
            assert!(!super::local_host(h), "{h}");
        }
    }
}
