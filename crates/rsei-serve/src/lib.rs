//! # rsei-serve — a read-only map viewer of rsei results
//!
//! `rsei serve RESULTS_DIR` serves a results folder (as `rsei run`, a study or `rsei demo`
//! write it) to the browser: a MapLibre GL JS map with a year slider, a layer switcher, a swipe
//! or side-by-side comparison of two years, legends, the area outlines and mines, and a
//! time-series chart of RSEI and its four indicators at a clicked cell.
//!
//! - Read-only and confined: the API takes area names, layer names, years and coordinates, never
//!   paths; only files whose real path lies inside the results folder are read, except, when
//!   [`ServeOptions::read_inputs`] is on, the area and mine vector layers the results' own
//!   manifests name (their geometries are served, never the files).
//! - Offline: the front end (with MapLibre GL JS) is embedded in the binary; the base map is
//!   optional ([`ServeOptions::base_map`]).
//! - Tiles: 256-pixel web-mercator PNG tiles rendered from the result COGs through their
//!   overviews, reprojected from the rasters' CRS (MODIS sinusoidal or any other) with GDAL, and
//!   kept in a bounded in-memory LRU cache.
//! - Bad input answers 4xx with a JSON message (`{"error": …, "status": …}`) and the server goes
//!   on: an empty results folder (404), a corrupted COG (422), a tile or point outside the data
//!   (404), a malformed request (400).
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the viewer (`/app.js`, `/app.css`, `/vendor/maplibre-gl.{js,css}`, `/vendor/LICENSE.txt`) |
//! | `GET /api/config` | software, results folder, base map, layer names |
//! | `GET /api/areas` | every area: years, bounds, layers with legends, tile URL template (rescans the folder) |
//! | `GET /api/areas/{area}` | one area |
//! | `GET /api/areas/{area}/pca` | the PCA table rows of the area (`pca_table.json`) |
//! | `GET /api/areas/{area}/summary` | the RSEI summary rows of the area (`rsei_summary.json`) |
//! | `GET /api/areas/{area}/outline` | GeoJSON outline |
//! | `GET /api/areas/{area}/mines` | GeoJSON mine polygons with their per-year RSEI means |
//! | `GET /api/areas/{area}/series?lon=&lat=` | per-cell time series: RSEI, NDVI, WET, NDBSI, LST, grade, MNDWI |
//! | `GET /tiles/{area}/{layer}/{year}/{z}/{x}/{y}.png` | a tile; layers `rsei grade ndvi wet ndbsi lst mndwi change trend`; `change` takes `?from=YEAR`; rasters of an area's `trend/`, `change/`, `difference/` folders are layers named by their path (`change.rsei_diff`) |
//! | `GET /api/stats` | counters and cache statistics |
//!
//! ```no_run
//! use rsei_serve::{serve, ServeOptions};
//!
//! let opts = ServeOptions::new("rsei-demo/results");
//! serve(opts, |addr| println!("serving on http://{addr}/"))?;
//! # Ok::<(), rsei_serve::ServeError>(())
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used))]
#![warn(missing_docs)]

mod api;
mod assets;
mod cache;
mod error;
mod extent;
mod catalog;
mod geo;
mod layers;
mod raster;
mod render;
mod state;
mod tilemap;
mod vectors;

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

pub use geo::{MAX_ZOOM, TILE_SIZE};

/// Address the server binds by default: the loopback interface, a free port.
pub const DEFAULT_BIND: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// What to serve and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeOptions {
    /// The results folder (as `rsei run`, a study or `rsei demo` write it; one area's folder works too).
    pub root: PathBuf,
    /// Address and port to listen on (port 0: a free port, reported to `on_ready`).
    pub bind: SocketAddr,
    /// Optional XYZ raster base map drawn under the results, e.g.
    /// `https://tile.openstreetmap.org/{z}/{x}/{y}.png`; `None`: a plain background (offline).
    pub base_map: Option<String>,
    /// Read the area and mine vector layers the results' manifests name (outside the results
    /// folder: their geometries and names are served, never the files). Off: outlines are traced
    /// from the rasters and mines are not shown.
    pub read_inputs: bool,
    /// Budget of the rendered-tile cache, bytes.
    pub tile_cache_bytes: usize,
    /// Budget of the cache of decoded raster levels, bytes (tile maps get a quarter of it more).
    pub raster_cache_bytes: usize,
}

impl ServeOptions {
    /// Serves `root` on [`DEFAULT_BIND`], without base map, reading the inputs' vectors, with a
    /// 64 MiB tile cache and a 512 MiB raster cache.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ServeOptions {
            root: root.into(),
            bind: DEFAULT_BIND,
            base_map: None,
            read_inputs: true,
            tile_cache_bytes: 64 << 20,
            raster_cache_bytes: 512 << 20,
        }
    }
}

/// Why the server cannot start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The results folder is missing or not a folder.
    #[error("results folder {}: {reason}", .path.display())]
    Root {
        /// The folder given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The base-map URL is not an `http(s)://` XYZ template with `{z}`, `{x}` and `{y}`.
    #[error("base map {url:?}: {reason}")]
    BaseMap {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The address cannot be listened on.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The system's reason.
        source: std::io::Error,
    },
    /// The async runtime cannot be built.
    #[error("cannot start the server's runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The server failed while running.
    #[error("the server failed: {0}")]
    Serve(#[source] std::io::Error),
    /// The server's thread ended without a result.
    #[error("the server thread stopped unexpectedly")]
    Thread,
}

fn check(opts: &ServeOptions) -> Result<PathBuf, ServeError> {
    let root = std::fs::canonicalize(&opts.root).map_err(|e| ServeError::Root { path: opts.root.clone(), reason: e.to_string() })?;
    if !root.is_dir() {
        return Err(ServeError::Root { path: opts.root.clone(), reason: "not a folder".into() });
    }
    if let Some(url) = &opts.base_map {
        let bad = |reason: &str| Err(ServeError::BaseMap { url: url.clone(), reason: reason.into() });
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return bad("must start with http:// or https://");
        }
        if !(url.contains("{z}") && url.contains("{x}") && url.contains("{y}")) {
            return bad("must be an XYZ template with {z}, {x} and {y}");
        }
        if url.contains(['"', '<', '>', '\\']) || url.chars().any(char::is_whitespace) {
            return bad("contains characters a URL cannot hold");
        }
    }
    Ok(root)
}

/// The routes of the viewer for `opts` (without listening): for tests in process, or to mount
/// in another axum application. Request handlers read files in `tokio::task::spawn_blocking`,
/// so the router needs a multi-thread tokio runtime.
pub fn router(opts: &ServeOptions) -> Result<axum::Router, ServeError> {
    let root = check(opts)?;
    let state = state::AppState::new(root, opts.clone()).map_err(|e| ServeError::Root { path: opts.root.clone(), reason: e.message() })?;
    Ok(api::routes(Arc::new(state)))
}

fn run(opts: ServeOptions, on_ready: impl FnOnce(SocketAddr) + Send, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
    let app = router(&opts)?;
    let listener = std::net::TcpListener::bind(opts.bind).map_err(|source| ServeError::Bind { addr: opts.bind, source })?;
    listener.set_nonblocking(true).map_err(|source| ServeError::Bind { addr: opts.bind, source })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind { addr: opts.bind, source })?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(4)
        .thread_name("rsei-serve")
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).map_err(ServeError::Serve)?;
        on_ready(addr);
        axum::serve(listener, app).with_graceful_shutdown(shutdown).await.map_err(ServeError::Serve)
    })
}

/// Serves `opts.root` until the process ends (blocking). Builds its own tokio runtime (two
/// worker threads; file reads on up to four blocking threads), listens on `opts.bind`, then
/// calls `on_ready` with the address listened on (the port chosen when `bind` has port 0).
///
/// Fails before `on_ready` when the folder is missing, the base map URL is malformed or the
/// address cannot be listened on. A folder without results is not an error: the viewer and the
/// API say so (HTTP 404 with a message).
pub fn serve(opts: ServeOptions, on_ready: impl FnOnce(SocketAddr) + Send) -> Result<(), ServeError> {
    run(opts, on_ready, std::future::pending())
}

/// A server running on its own thread, stopped by [`Server::stop`] or when dropped.
///
/// ```no_run
/// let server = rsei_serve::Server::start(rsei_serve::ServeOptions::new("results"))?;
/// println!("{}", server.url());
/// server.stop()?;
/// # Ok::<(), rsei_serve::ServeError>(())
/// ```
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), ServeError>>>,
}

impl Server {
    /// Starts serving on a new thread; returns once the server listens.
    pub fn start(opts: ServeOptions) -> Result<Server, ServeError> {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("rsei-serve".into())
            .spawn(move || {
                run(
                    opts,
                    move |a| {
                        let _ = ready_tx.send(a);
                    },
                    async move {
                        let _ = rx.await;
                    },
                )
            })
            .map_err(ServeError::Runtime)?;
        match ready_rx.recv() {
            Ok(addr) => Ok(Server { addr, stop: Some(tx), thread: Some(thread) }),
            Err(_) => Err(thread.join().map_err(|_| ServeError::Thread)?.err().unwrap_or(ServeError::Thread)),
        }
    }

    /// The address listened on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Stops the server (open requests finish first) and waits for its thread.
    pub fn stop(mut self) -> Result<(), ServeError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), ServeError> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match self.thread.take() {
            Some(t) => t.join().map_err(|_| ServeError::Thread)?,
            None => Ok(()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}
