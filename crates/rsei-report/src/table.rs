//! Typed tables and their CSV, JSON and HTML forms.
//!
//! A [`Table`] is a list of [`Column`]s (name + optional unit) and rows of [`Cell`]s: text,
//! integer, float with a chosen number of decimals, or missing. Result owners turn their structs
//! into tables by implementing [`TableRow`] (one struct = one row; every slice or `Vec` of them is
//! then [`ToTable`]) or [`ToTable`] directly.
//!
//! Formats:
//! - **CSV** (RFC 4180): a header line, CRLF line ends, fields quoted when they contain a comma,
//!   a double quote, CR or LF (quotes doubled); `.` as decimal separator, ASCII `-`; floats with
//!   exactly their decimals (never `0.30000000000000004`); missing → empty field. The header of a
//!   column with a unit is `name (unit)`.
//! - **JSON**: an array of objects, one per row, keys = column names in column order, numbers as
//!   numbers (floats rounded to their decimals), missing → `null`. Units are not part of JSON keys.
//! - **HTML**: a `<table class="rsei-table">` fragment, header cells with units, numeric cells
//!   `class="num"` (for right alignment), missing cells `–`.
//!
//! Non-finite floats (NaN, ±∞) count as missing in all three forms.
//!
//! ```
//! use rsei_report::table::{Cell, Column, Table};
//! let mut t = Table::new(vec![Column::new("city"), Column::with_unit("area", "km²"), Column::new("mean_rsei")]);
//! t.push_row(vec!["Ma'anshan, AH".into(), Cell::Int(4049), Cell::float(0.1 + 0.2, 3)]).unwrap();
//! t.push_row(vec!["Panzhihua".into(), Cell::Missing, Cell::float(f64::NAN, 3)]).unwrap();
//! assert_eq!(t.to_csv(), "city,area (km²),mean_rsei\r\n\"Ma'anshan, AH\",4049,0.300\r\nPanzhihua,,\r\n");
//! assert_eq!(t.to_json(), "[\n  {\"city\": \"Ma'anshan, AH\", \"area\": 4049, \"mean_rsei\": 0.3},\n  {\"city\": \"Panzhihua\", \"area\": null, \"mean_rsei\": null}\n]\n");
//! ```

use crate::ticks::format_fixed;
use crate::{ReportError, Result};

/// A column: its name and, where it has one, its unit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Column {
    pub name: String,
    pub unit: Option<String>,
}

impl Column {
    /// A column without unit.
    pub fn new(name: impl Into<String>) -> Self {
        Column {
            name: name.into(),
            unit: None,
        }
    }
    /// A column with a unit (e.g. `"km²"`, `"%"`).
    pub fn with_unit(name: impl Into<String>, unit: impl Into<String>) -> Self {
        Column {
            name: name.into(),
            unit: Some(unit.into()),
        }
    }
    /// The header text: `name (unit)` or `name`.
    pub fn header(&self) -> String {
        match &self.unit {
            Some(u) if !u.is_empty() => format!("{} ({u})", self.name),
            _ => self.name.clone(),
        }
    }
}

/// One typed cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A float printed with exactly `decimals` decimals (non-finite = missing).
    Float {
        value: f64,
        decimals: u8,
    },
    Missing,
}

impl Cell {
    /// A float cell with `decimals` decimals.
    pub fn float(value: f64, decimals: u8) -> Self {
        Cell::Float { value, decimals }
    }
    /// An optional float (`None` → missing).
    pub fn opt_float(value: Option<f64>, decimals: u8) -> Self {
        value.map_or(Cell::Missing, |v| Cell::float(v, decimals))
    }
    /// The cell as plain text (CSV/HTML), `None` when missing.
    pub fn display(&self) -> Option<String> {
        match self {
            Cell::Text(s) => Some(s.clone()),
            Cell::Int(i) => Some(i.to_string()),
            Cell::Float { value, decimals } if value.is_finite() => {
                Some(format_fixed(*value, *decimals as usize))
            }
            Cell::Float { .. } | Cell::Missing => None,
        }
    }
    fn is_numeric(&self) -> bool {
        matches!(self, Cell::Int(_) | Cell::Float { .. })
    }
    fn json(&self) -> String {
        match self {
            Cell::Text(s) => json_string(s),
            Cell::Int(i) => i.to_string(),
            Cell::Float { value, decimals } if value.is_finite() => {
                // round to the decimals, then print the shortest form of that double
                let s = format_fixed(*value, *decimals as usize);
                match s.parse::<f64>() {
                    Ok(v) => serde_json::Number::from_f64(v)
                        .map_or_else(|| "null".to_string(), |n| n.to_string()),
                    Err(_) => "null".to_string(),
                }
            }
            Cell::Float { .. } | Cell::Missing => "null".to_string(),
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}
impl From<i64> for Cell {
    fn from(v: i64) -> Self {
        Cell::Int(v)
    }
}
impl From<i32> for Cell {
    fn from(v: i32) -> Self {
        Cell::Int(v as i64)
    }
}
impl From<u32> for Cell {
    fn from(v: u32) -> Self {
        Cell::Int(v as i64)
    }
}
impl From<u64> for Cell {
    /// Values above `i64::MAX` (never a real count) become missing.
    fn from(v: u64) -> Self {
        i64::try_from(v).map_or(Cell::Missing, Cell::Int)
    }
}
impl From<usize> for Cell {
    fn from(v: usize) -> Self {
        i64::try_from(v).map_or(Cell::Missing, Cell::Int)
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "null".to_string())
}

/// A table: columns and rows of cells (one cell per column).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

/// Something that turns itself into a table (implemented by the owners of result structs).
pub trait ToTable {
    fn to_table(&self) -> Table;
}

/// A struct that is one row of a table; slices and `Vec`s of it are [`ToTable`].
///
/// ```
/// use rsei_report::table::{Cell, Column, TableRow, ToTable};
/// struct Ring { distance_km: f64, mean_rsei: f64 }
/// impl TableRow for Ring {
///     fn columns() -> Vec<Column> { vec![Column::with_unit("distance", "km"), Column::new("mean_rsei")] }
///     fn cells(&self) -> Vec<Cell> { vec![Cell::float(self.distance_km, 0), Cell::float(self.mean_rsei, 3)] }
/// }
/// let t = vec![Ring { distance_km: 1.0, mean_rsei: 0.4567 }].to_table();
/// assert_eq!(t.to_csv(), "distance (km),mean_rsei\r\n1,0.457\r\n");
/// ```
pub trait TableRow {
    fn columns() -> Vec<Column>;
    fn cells(&self) -> Vec<Cell>;
}

impl<T: TableRow> ToTable for [T] {
    fn to_table(&self) -> Table {
        Table {
            columns: T::columns(),
            rows: self.iter().map(TableRow::cells).collect(),
        }
    }
}

impl<T: TableRow> ToTable for Vec<T> {
    fn to_table(&self) -> Table {
        self.as_slice().to_table()
    }
}

/// RFC 4180 field: quoted when it contains `,` `"` CR or LF; quotes doubled.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn escape_html(s: &str) -> String {
    crate::svg::escape_xml(s)
}

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: Vec<Column>) -> Self {
        Table {
            columns,
            rows: Vec::new(),
        }
    }

    /// Appends a row; it must have one cell per column.
    pub fn push_row(&mut self, cells: Vec<Cell>) -> Result<()> {
        if cells.len() != self.columns.len() {
            return Err(ReportError::RowLength {
                row: self.rows.len() + 1,
                got: cells.len(),
                expected: self.columns.len(),
            });
        }
        self.rows.push(cells);
        Ok(())
    }

    /// Checks that every row has one cell per column and that column names are distinct.
    pub fn validate(&self) -> Result<()> {
        for (i, r) in self.rows.iter().enumerate() {
            if r.len() != self.columns.len() {
                return Err(ReportError::RowLength {
                    row: i + 1,
                    got: r.len(),
                    expected: self.columns.len(),
                });
            }
        }
        for (i, c) in self.columns.iter().enumerate() {
            if self.columns[..i].iter().any(|d| d.name == c.name) {
                return Err(ReportError::DuplicateColumn {
                    name: c.name.clone(),
                });
            }
        }
        Ok(())
    }

    /// CSV text (see the module docs). Rows shorter than the header are padded with empty
    /// fields; use [`Table::validate`] first to reject them instead.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let header: Vec<String> = self
            .columns
            .iter()
            .map(|c| csv_field(&c.header()))
            .collect();
        out.push_str(&header.join(","));
        out.push_str("\r\n");
        for r in &self.rows {
            let fields: Vec<String> = (0..self.columns.len().max(r.len()))
                .map(|k| {
                    r.get(k)
                        .and_then(Cell::display)
                        .map(|s| csv_field(&s))
                        .unwrap_or_default()
                })
                .collect();
            out.push_str(&fields.join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// JSON text: an array of objects, one per line (see the module docs).
    pub fn to_json(&self) -> String {
        if self.rows.is_empty() {
            return "[]\n".to_string();
        }
        let mut out = String::from("[\n");
        for (i, r) in self.rows.iter().enumerate() {
            let members: Vec<String> = self
                .columns
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    format!(
                        "{}: {}",
                        json_string(&c.name),
                        r.get(k).map_or_else(|| "null".to_string(), Cell::json)
                    )
                })
                .collect();
            out.push_str("  {");
            out.push_str(&members.join(", "));
            out.push('}');
            if i + 1 < self.rows.len() {
                out.push(',');
            }
            out.push('\n');
        }
        out.push_str("]\n");
        out
    }

    /// An HTML `<table>` fragment (see the module docs).
    pub fn to_html(&self) -> String {
        let mut out = String::from("<table class=\"rsei-table\">\n<thead><tr>");
        for c in &self.columns {
            out.push_str("<th>");
            out.push_str(&escape_html(&c.name));
            if let Some(u) = c.unit.as_deref().filter(|u| !u.is_empty()) {
                out.push_str(" <span class=\"unit\">(");
                out.push_str(&escape_html(u));
                out.push_str(")</span>");
            }
            out.push_str("</th>");
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for r in &self.rows {
            out.push_str("<tr>");
            for k in 0..self.columns.len() {
                let cell = r.get(k).unwrap_or(&Cell::Missing);
                match cell.display() {
                    Some(s) if cell.is_numeric() => {
                        out.push_str("<td class=\"num\">");
                        out.push_str(&escape_html(&s).replacen('-', "\u{2212}", 1));
                    }
                    Some(s) => {
                        out.push_str("<td>");
                        out.push_str(&escape_html(&s));
                    }
                    None => out.push_str("<td class=\"missing\">\u{2013}"),
                }
                out.push_str("</td>");
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(vec![
            Column::new("name"),
            Column::with_unit("area", "km²"),
            Column::new("r"),
        ]);
        t.push_row(vec!["a,b".into(), Cell::Int(-3), Cell::float(-0.0004, 3)])
            .unwrap();
        t.push_row(vec![
            "say \"hi\"".into(),
            Cell::Missing,
            Cell::float(1.0 / 3.0, 2),
        ])
        .unwrap();
        t.push_row(vec![
            "two\nlines".into(),
            Cell::Int(7),
            Cell::float(f64::INFINITY, 2),
        ])
        .unwrap();
        t
    }

    #[test]
    fn csv_quotes_and_numbers() {
        let csv = sample().to_csv();
        // hand-written expectation (RFC 4180 §2.6, 2.7): quotes doubled, fields with , " LF quoted
        let want = "name,area (km²),r\r\n\"a,b\",-3,0.000\r\n\"say \"\"hi\"\"\",,0.33\r\n\"two\nlines\",7,\r\n";
        assert_eq!(csv, want);
    }

    #[test]
    fn floats_have_no_noise() {
        let mut t = Table::new(vec![Column::new("v")]);
        for v in [0.1 + 0.2, 1e-7, 123456.789, 2.675] {
            t.push_row(vec![Cell::float(v, 2)]).unwrap();
        }
        // 2.675 is 2.67499999999999982236431605997495353221893310546875 in binary → 2.67
        assert_eq!(t.to_csv(), "v\r\n0.30\r\n0.00\r\n123456.79\r\n2.67\r\n");
        assert_eq!(
            t.to_json(),
            "[\n  {\"v\": 0.3},\n  {\"v\": 0.0},\n  {\"v\": 123456.79},\n  {\"v\": 2.67}\n]\n"
        );
    }

    #[test]
    fn json_nulls_and_escapes() {
        let j = sample().to_json();
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v[0]["name"], "a,b");
        assert_eq!(v[0]["area"], -3);
        assert_eq!(v[0]["r"], 0.0);
        assert!(v[1]["area"].is_null());
        assert_eq!(v[1]["r"], 0.33);
        assert_eq!(v[1]["name"], "say \"hi\"");
        assert!(v[2]["r"].is_null(), "infinite floats are missing");
        assert_eq!(v[2]["name"], "two\nlines");
        // keys keep column order
        assert!(j.find("\"name\"").unwrap() < j.find("\"area\"").unwrap());
    }

    #[test]
    fn html_escapes_and_classes() {
        let mut t = Table::new(vec![Column::with_unit("<b>", "µg/m³"), Column::new("n")]);
        t.push_row(vec!["R&D".into(), Cell::Int(-2)]).unwrap();
        t.push_row(vec![Cell::Missing, Cell::float(1.5, 1)])
            .unwrap();
        let h = t.to_html();
        assert!(h.contains("<th>&lt;b&gt; <span class=\"unit\">(µg/m³)</span></th>"));
        assert!(h.contains("<td>R&amp;D</td><td class=\"num\">\u{2212}2</td>"));
        assert!(h.contains("<td class=\"missing\">\u{2013}</td><td class=\"num\">1.5</td>"));
    }

    #[test]
    fn row_length_and_duplicate_checks() {
        let mut t = Table::new(vec![Column::new("a"), Column::new("b")]);
        let e = t.push_row(vec![Cell::Int(1)]).unwrap_err();
        assert!(
            matches!(
                e,
                ReportError::RowLength {
                    row: 1,
                    got: 1,
                    expected: 2
                }
            ),
            "{e}"
        );
        t.columns.push(Column::new("a"));
        assert!(matches!(
            t.validate(),
            Err(ReportError::DuplicateColumn { .. })
        ));
    }

    #[test]
    fn empty_table() {
        let t = Table::new(vec![Column::new("a")]);
        assert_eq!(t.to_csv(), "a\r\n");
        assert_eq!(t.to_json(), "[]\n");
    }
}
