//! Atomic writers for report files.
//!
//! Every writer goes through [`rsei_core::fsutil::write_atomic`]: the bytes are written to a
//! temporary file beside the target, synced, then renamed into place, so an interrupted run never
//! leaves a half-written figure or table under its final name. Missing parent folders are
//! created. Errors name the path.
//!
//! ```
//! use rsei_report::table::{Cell, Column, Table};
//! let dir = std::env::temp_dir().join(format!("rsei-report-doc-{}", std::process::id()));
//! let mut t = Table::new(vec![Column::new("year"), Column::new("mean_rsei")]);
//! t.push_row(vec![Cell::Int(2019), Cell::float(0.4567, 3)]).unwrap();
//! rsei_report::write_csv(&dir.join("means.csv"), &t).unwrap();
//! assert_eq!(std::fs::read_to_string(dir.join("means.csv")).unwrap(), "year,mean_rsei\r\n2019,0.457\r\n");
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use crate::table::Table;
use crate::{ReportError, Result};
use std::path::Path;

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    rsei_core::fsutil::write_atomic(path, bytes).map_err(|source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes an SVG document (from [`crate::to_svg`] or [`crate::render_map_svg`]).
pub fn write_svg(path: &Path, svg: &str) -> Result<()> {
    write(path, svg.as_bytes())
}

/// Writes PNG bytes (from [`crate::to_png`] or [`crate::render_map`]).
pub fn write_png(path: &Path, png: &[u8]) -> Result<()> {
    write(path, png)
}

/// Writes a table as CSV (RFC 4180). Rejects rows of the wrong length.
pub fn write_csv(path: &Path, table: &Table) -> Result<()> {
    table.validate()?;
    write(path, table.to_csv().as_bytes())
}

/// Writes a table as JSON (array of objects, nulls for missing). Rejects rows of the wrong length
/// and duplicate column names.
pub fn write_json(path: &Path, table: &Table) -> Result<()> {
    table.validate()?;
    write(path, table.to_json().as_bytes())
}

/// Writes an HTML table fragment.
pub fn write_html_table(path: &Path, table: &Table) -> Result<()> {
    table.validate()?;
    write(path, table.to_html().as_bytes())
}
