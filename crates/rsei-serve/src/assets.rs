//! The front end, embedded in the binary: the viewer needs no network and no files beside it.
//!
//! `vendor/` holds MapLibre GL JS 4.7.1 from the npm registry with its licence (see
//! `assets/vendor/VENDOR.md`).

/// (path, bytes, media type) of every embedded file.
const FILES: &[(&str, &[u8], &str)] = &[
    ("index.html", include_bytes!("../assets/index.html"), "text/html; charset=utf-8"),
    ("app.js", include_bytes!("../assets/app.js"), "text/javascript; charset=utf-8"),
    ("app.css", include_bytes!("../assets/app.css"), "text/css; charset=utf-8"),
    ("vendor/maplibre-gl.js", include_bytes!("../assets/vendor/maplibre-gl.js"), "text/javascript; charset=utf-8"),
    ("vendor/maplibre-gl.css", include_bytes!("../assets/vendor/maplibre-gl.css"), "text/css; charset=utf-8"),
    ("vendor/LICENSE.txt", include_bytes!("../assets/vendor/LICENSE.txt"), "text/plain; charset=utf-8"),
];

/// The bytes and media type of an embedded file (exact names only: no path is ever resolved).
pub(crate) fn get(name: &str) -> Option<(&'static [u8], &'static str)> {
    FILES.iter().find(|f| f.0 == name).map(|f| (f.1, f.2))
}
