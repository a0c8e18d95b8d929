//! # rsei-report — tables, charts and map images for rsei results
//!
//! This crate formats results; it never computes them. Other crates hand it numbers (means,
//! box-plot statistics, correlations, importances, RSEI rasters) and get back files that look
//! like the figures and tables of a journal paper.
//!
//! | module | what |
//! |---|---|
//! | [`chart`] | declarative [`Chart`]s (lines ± bands, scatter + 1:1, grouped/horizontal bars, areas, histograms, box plots, heat maps, reference lines) → [`to_svg`] / [`to_png`] |
//! | [`sankey`] | two-column flow diagrams (e.g. grade transfers between two years) → SVG / PNG |
//! | [`map`] | RSEI raster → PNG or SVG map image with legend, scale bar, north arrow, outlines |
//! | [`table`] | typed [`Table`]s → CSV (RFC 4180), JSON, HTML; the [`ToTable`] / [`TableRow`] traits |
//! | [`output`] | atomic `write_svg`, `write_png`, `write_csv`, `write_json` |
//! | [`ticks`] | Heckbert nice ticks, noise-free number formatting |
//! | [`color`] | colour-blind-safe palettes (Okabe–Ito, viridis, RdBu), RSEI grade colours |
//!
//! Both chart back ends draw the same laid-out scene: the SVG uses the generic font list
//! `DejaVu Sans, Arial, Helvetica, sans-serif` and has no external references (it can be inlined
//! in an offline HTML report); the PNG is rasterised with tiny-skia, with text drawn from an
//! embedded subset of DejaVu Sans (no system fonts needed). Output is deterministic: the same
//! input gives byte-identical files.
//!
//! Errors are [`ReportError`] values naming the chart, map, table or file at fault.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod chart;
pub mod color;
pub mod error;
pub mod font;
pub mod html;
pub mod map;
pub mod output;
mod raster;
pub mod sankey;
mod scene;
mod svg;
pub mod table;
pub mod ticks;

pub use chart::{
    to_png, to_svg, Annotation, Axis, BoxItem, Chart, Corner, Legend, LegendPosition, Series,
    SeriesKind,
};
pub use error::{ReportError, Result};
pub use map::{
    render_map, render_map_svg, render_raster_map, MapClass, MapPalette, MapStyle, Outline,
};
pub use output::{write_csv, write_json, write_png, write_svg};
pub use scene::MarkerShape;
pub use svg::{escape_xml, svg_fragment};
pub use table::{Cell, Column, Table, TableRow, ToTable};
