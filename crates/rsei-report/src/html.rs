//! One self-contained HTML page in the manner of a journal article: title block, table of
//! contents, numbered sections, numbered figures (inline SVG) and tables with captions,
//! numbered equations, call-out boxes, cross-references, and a style sheet for screen and for
//! A4 print.
//!
//! This module lays out what it is given; it computes nothing. A [`Document`] is a tree of
//! [`Section`]s holding [`Block`]s; [`Document::render`] numbers sections (1, 1.1 …), figures,
//! tables and equations in document order, resolves cross-references and writes the page.
//!
//! **Self-contained and offline.** The style sheet is inline; figures are inline SVG (maps carry
//! their raster as a base64 PNG inside the SVG); the page has no script, no `<link>`, no `src=`
//! attribute and no URL. Inlined SVG documents lose their XML declaration and their namespace
//! declarations (the HTML parser puts `<svg>` in the SVG namespace by itself), `xlink:href`
//! becomes the SVG 2 `href`, and every `id` inside a figure is prefixed with the figure's own id,
//! so two figures never share an id ([`inline_svg`]).
//!
//! **Text markup.** Paragraphs, captions, list items and equations take a small markup, escaped
//! for HTML as they are rendered:
//!
//! | markup | result |
//! |---|---|
//! | `*text*` | emphasis |
//! | `**text**` | strong |
//! | `` `text` `` | code (literal) |
//! | `_{text}` / `^{text}` | subscript / superscript |
//! | `{ref:ID}` | link to the section, figure, table or equation `ID`, e.g. "Figure 3" |
//! | `\c` | the character `c` itself |
//!
//! Text that comes from data (names, notes, paths) is passed through [`escape_markup`] first.
//! An unknown reference renders as "??" (as LaTeX does) and is listed by [`Document::problems`],
//! together with duplicate ids.
//!
//! **Reproducible.** The page holds no date or time: the same document gives the same bytes.
//!
//! ```
//! use rsei_report::html::{Block, Document, Figure, Section, TableBlock, TCell};
//! let mut doc = Document::new("RSEI of Demo City");
//! let mut s = Section::new("results", "Results");
//! s.blocks.push(Block::Paragraph("Mean RSEI is shown in {ref:fig-mean}; see also {ref:tab-mean}.".into()));
//! s.blocks.push(Block::Figure(Figure::single("fig-mean", "<svg viewBox=\"0 0 10 10\"></svg>", "Mean RSEI per year.")));
//! let mut t = TableBlock::new("tab-mean", "Mean RSEI.", vec![TCell::head("Year"), TCell::head("RSEI")]);
//! t.push(vec![TCell::text("2019"), TCell::num(Some(0.4567), 3)]);
//! s.blocks.push(Block::Table(t));
//! doc.sections.push(s);
//! assert!(doc.problems().is_empty());
//! let html = doc.render();
//! assert!(html.contains("<a class=\"xref\" href=\"#fig-mean\">Figure 1</a>"));
//! assert!(html.contains("<span class=\"label\">Table 1.</span>"));
//! assert!(html.contains("<td class=\"num\">0.457</td>"));
//! assert!(!html.contains("http://") && !html.contains("<script"));
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::svg::escape_xml;
use crate::ticks::format_fixed;

// ---------------------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------------------

/// The whole page.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    /// Title (plain text; also the `<title>` of the page).
    pub title: String,
    /// A line below the title (markup).
    pub subtitle: Option<String>,
    /// Small lines below the subtitle, e.g. software and input folder (markup).
    pub byline: Vec<String>,
    /// Call-outs shown right below the title block (e.g. that the data are synthetic).
    pub banners: Vec<Callout>,
    /// An abstract-like box of key results (blocks), shown before the contents.
    pub summary: Vec<Block>,
    /// Heading of the summary box (default "Summary").
    pub summary_title: Option<String>,
    /// Show a table of contents (default true).
    pub toc: bool,
    pub sections: Vec<Section>,
    /// A closing line (markup), e.g. how the page was made.
    pub footer: Option<String>,
}

/// A section: heading, blocks, then subsections. Top-level sections are numbered 1, 2, …;
/// subsections 1.1, 1.2, … (unless `numbered` is false, e.g. for references).
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Anchor id (unique in the document).
    pub id: String,
    /// Heading (plain text).
    pub title: String,
    pub blocks: Vec<Block>,
    pub subsections: Vec<Section>,
    /// Start a new page in print.
    pub page_break: bool,
    pub numbered: bool,
    /// Extra CSS class of the `<section>` (e.g. `area`).
    pub class: Option<String>,
}

/// A block of content.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A paragraph (markup).
    Paragraph(String),
    /// A bulleted list (markup items).
    List(Vec<String>),
    /// Term → description pairs (markup both).
    Definitions(Vec<(String, String)>),
    /// A displayed, numbered equation (markup).
    Equation { id: Option<String>, markup: String },
    Figure(Figure),
    Table(TableBlock),
    Callout(Callout),
}

/// A figure: one or more SVG panels side by side, a numbered caption below.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Anchor id (unique); also the prefix of the ids inside its SVGs.
    pub id: String,
    pub panels: Vec<Panel>,
    /// Caption (markup), after "Figure N.".
    pub caption: String,
    /// Panels per row (default: all in one row, at most 2).
    pub columns: Option<usize>,
    /// Let the figure use the whole page width on screen (maps side by side).
    pub wide: bool,
}

/// One panel of a figure: an SVG document (from [`crate::to_svg`] or [`crate::render_map_svg`])
/// and an optional label such as "(a) 2001".
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub svg: String,
    pub label: Option<String>,
}

/// A table with a numbered caption above, a header row, body rows and notes below.
#[derive(Debug, Clone, PartialEq)]
pub struct TableBlock {
    pub id: String,
    /// Caption (markup), after "Table N.".
    pub caption: String,
    /// Header cells (one row).
    pub head: Vec<TCell>,
    pub rows: Vec<TRow>,
    /// Notes below the table (markup).
    pub notes: Vec<String>,
}

/// A body row: cells, a group heading spanning the table (e.g. a city in Table A1), or a thin
/// rule above the next row (e.g. before summary rows).
#[derive(Debug, Clone, PartialEq)]
pub enum TRow {
    Cells(Vec<TCell>),
    Group(String),
    Rule,
}

/// What a cell holds, for alignment and styling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    /// Left-aligned text.
    Text,
    /// Right-aligned number in tabular figures.
    Num,
    /// A header cell (column header in `head`, row header in the body).
    Head,
    /// A missing value (shown as an en dash).
    Missing,
}

/// One table cell (plain text, escaped when rendered).
#[derive(Debug, Clone, PartialEq)]
pub struct TCell {
    pub text: String,
    pub kind: CellKind,
    /// Highlighted as a warning (e.g. NDBSI or LST loading positively).
    pub warn: bool,
    /// Hover text.
    pub title: Option<String>,
}

/// A boxed note.
#[derive(Debug, Clone, PartialEq)]
pub struct Callout {
    pub kind: CalloutKind,
    /// Heading (plain text).
    pub title: Option<String>,
    /// Paragraphs (markup).
    pub paragraphs: Vec<String>,
}

/// The look of a call-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalloutKind {
    /// Neutral remark.
    Note,
    /// Something the reader must keep in mind (warnings of a model, missing outputs).
    Warning,
    /// About the data themselves (e.g. synthetic data).
    Data,
}

impl Document {
    /// An empty document with a title and a table of contents.
    pub fn new(title: impl Into<String>) -> Self {
        Document { title: title.into(), toc: true, ..Document::default() }
    }
}

impl Section {
    /// A numbered section without content.
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Self {
        Section { id: id.into(), title: title.into(), blocks: Vec::new(), subsections: Vec::new(), page_break: false, numbered: true, class: None }
    }
    /// Adds a block (builder style).
    pub fn with(mut self, b: Block) -> Self {
        self.blocks.push(b);
        self
    }
    /// Adds a paragraph of markup.
    pub fn para(&mut self, markup: impl Into<String>) {
        self.blocks.push(Block::Paragraph(markup.into()));
    }
}

impl Figure {
    /// A figure of one panel.
    pub fn single(id: impl Into<String>, svg: impl Into<String>, caption: impl Into<String>) -> Self {
        Figure { id: id.into(), panels: vec![Panel { svg: svg.into(), label: None }], caption: caption.into(), columns: None, wide: false }
    }
    /// A figure of several panels.
    pub fn panels(id: impl Into<String>, panels: Vec<Panel>, caption: impl Into<String>) -> Self {
        Figure { id: id.into(), panels, caption: caption.into(), columns: None, wide: false }
    }
}

impl TableBlock {
    /// A table with a header and no rows yet.
    pub fn new(id: impl Into<String>, caption: impl Into<String>, head: Vec<TCell>) -> Self {
        TableBlock { id: id.into(), caption: caption.into(), head, rows: Vec::new(), notes: Vec::new() }
    }
    /// Appends a row of cells.
    pub fn push(&mut self, cells: Vec<TCell>) {
        self.rows.push(TRow::Cells(cells));
    }
    /// Appends a group heading row.
    pub fn group(&mut self, title: impl Into<String>) {
        self.rows.push(TRow::Group(title.into()));
    }
    /// Draws a thin rule above the next row.
    pub fn rule(&mut self) {
        self.rows.push(TRow::Rule);
    }
    /// A table from a typed [`crate::table::Table`]: column headers with their units, numbers
    /// right-aligned with the decimals of their cells, missing cells as dashes.
    pub fn from_table(id: impl Into<String>, caption: impl Into<String>, t: &crate::table::Table) -> Self {
        let head = t.columns.iter().map(|c| TCell::head(c.header())).collect();
        let mut out = TableBlock::new(id, caption, head);
        for r in &t.rows {
            let cells = (0..t.columns.len())
                .map(|k| match r.get(k) {
                    Some(c @ (crate::table::Cell::Int(_) | crate::table::Cell::Float { .. })) => match c.display() {
                        Some(s) => TCell { text: s.replacen('-', "\u{2212}", 1), kind: CellKind::Num, warn: false, title: None },
                        None => TCell::missing(),
                    },
                    Some(crate::table::Cell::Text(s)) => TCell::text(s.clone()),
                    _ => TCell::missing(),
                })
                .collect();
            out.push(cells);
        }
        out
    }
}

impl TCell {
    /// A text cell.
    pub fn text(s: impl Into<String>) -> Self {
        TCell { text: s.into(), kind: CellKind::Text, warn: false, title: None }
    }
    /// A header cell (column header, or row header in the body).
    pub fn head(s: impl Into<String>) -> Self {
        TCell { text: s.into(), kind: CellKind::Head, warn: false, title: None }
    }
    /// A missing value.
    pub fn missing() -> Self {
        TCell { text: String::new(), kind: CellKind::Missing, warn: false, title: None }
    }
    /// A number with exactly `decimals` decimals and the typographic minus sign; `None` and
    /// non-finite values are missing.
    pub fn num(v: Option<f64>, decimals: usize) -> Self {
        match v {
            Some(x) if x.is_finite() => TCell { text: format_fixed(x, decimals).replacen('-', "\u{2212}", 1), kind: CellKind::Num, warn: false, title: None },
            _ => TCell::missing(),
        }
    }
    /// An integer.
    pub fn int(v: i64) -> Self {
        TCell { text: v.to_string().replacen('-', "\u{2212}", 1), kind: CellKind::Num, warn: false, title: None }
    }
    /// Pre-formatted numeric text (right-aligned), e.g. "0.71 ± 0.15".
    pub fn num_text(s: impl Into<String>) -> Self {
        TCell { text: s.into(), kind: CellKind::Num, warn: false, title: None }
    }
    /// Marks the cell as a warning (builder style).
    pub fn warned(mut self, on: bool) -> Self {
        self.warn = on;
        self
    }
    /// Sets the hover text (builder style).
    pub fn with_title(mut self, t: impl Into<String>) -> Self {
        self.title = Some(t.into());
        self
    }
}

impl Callout {
    /// A call-out with a title and paragraphs of markup.
    pub fn new(kind: CalloutKind, title: Option<&str>, paragraphs: Vec<String>) -> Self {
        Callout { kind, title: title.map(str::to_string), paragraphs }
    }
}

// ---------------------------------------------------------------------------------------------
// Markup
// ---------------------------------------------------------------------------------------------

/// Escapes the markup characters `\ * ` { } _ ^` of a data string with a backslash, so that it
/// shows as it is inside markup.
///
/// ```
/// assert_eq!(rsei_report::html::escape_markup("prec_*.tif"), "prec\\_\\*.tif");
/// ```
pub fn escape_markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if matches!(c, '\\' | '*' | '`' | '{' | '}' | '_' | '^') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Labels of the anchors of a document: id → ("Figure", "3").
type Labels = BTreeMap<String, (String, String)>;

/// Finds the closing `close` at the same level from `i` (skipping escaped characters).
fn find_close(chars: &[char], mut i: usize, close: &[char]) -> Option<usize> {
    while i < chars.len() {
        if chars[i] == '\\' {
            i += 2;
            continue;
        }
        if chars[i..].starts_with(close) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Renders markup as HTML (see the module documentation).
fn inline(markup: &str, labels: &Labels) -> String {
    let chars: Vec<char> = markup.chars().collect();
    let mut out = String::with_capacity(markup.len() + 16);
    let mut text = String::new();
    let flush = |text: &mut String, out: &mut String| {
        out.push_str(&escape_xml(text));
        text.clear();
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let rest = &chars[i..];
        if c == '\\' && i + 1 < chars.len() {
            text.push(chars[i + 1]);
            i += 2;
            continue;
        }
        // **strong**
        if rest.starts_with(&['*', '*']) {
            if let Some(j) = find_close(&chars, i + 2, &['*', '*']).filter(|&j| j > i + 2) {
                flush(&mut text, &mut out);
                let inner: String = chars[i + 2..j].iter().collect();
                let _ = write!(out, "<strong>{}</strong>", inline(&inner, labels));
                i = j + 2;
                continue;
            }
        } else if c == '*' {
            if let Some(j) = find_close(&chars, i + 1, &['*']).filter(|&j| j > i + 1) {
                flush(&mut text, &mut out);
                let inner: String = chars[i + 1..j].iter().collect();
                let _ = write!(out, "<em>{}</em>", inline(&inner, labels));
                i = j + 1;
                continue;
            }
        } else if c == '`' {
            if let Some(j) = find_close(&chars, i + 1, &['`']) {
                flush(&mut text, &mut out);
                // literal, except that a backslash still escapes the next character
                let mut inner = String::new();
                let mut k = i + 1;
                while k < j {
                    if chars[k] == '\\' && k + 1 < j {
                        k += 1;
                    }
                    inner.push(chars[k]);
                    k += 1;
                }
                let _ = write!(out, "<code>{}</code>", escape_xml(&inner));
                i = j + 1;
                continue;
            }
        } else if (c == '_' || c == '^') && rest.get(1) == Some(&'{') {
            if let Some(j) = find_close(&chars, i + 2, &['}']) {
                flush(&mut text, &mut out);
                let inner: String = chars[i + 2..j].iter().collect();
                let tag = if c == '_' { "sub" } else { "sup" };
                let _ = write!(out, "<{tag}>{}</{tag}>", inline(&inner, labels));
                i = j + 1;
                continue;
            }
        } else if rest.starts_with(&['{', 'r', 'e', 'f', ':']) {
            if let Some(j) = chars[i..].iter().position(|&x| x == '}').map(|p| p + i) {
                flush(&mut text, &mut out);
                let id: String = chars[i + 5..j].iter().collect();
                match labels.get(&id) {
                    Some((kind, num)) => {
                        let _ = write!(out, "<a class=\"xref\" href=\"#{}\">{}</a>", escape_xml(&id), escape_xml(&format!("{kind} {num}").replace("Equation ", "Eq. ")));
                    }
                    None => out.push_str("<span class=\"xref missing\">??</span>"),
                }
                i = j + 1;
                continue;
            }
        }
        text.push(c);
        i += 1;
    }
    flush(&mut text, &mut out);
    out
}

/// The `{ref:ID}` targets of a markup string.
fn refs_of(markup: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = markup;
    while let Some(p) = rest.find("{ref:") {
        // an escaped brace is not a reference
        if p > 0 && rest.as_bytes()[p - 1] == b'\\' {
            rest = &rest[p + 5..];
            continue;
        }
        let after = &rest[p + 5..];
        match after.find('}') {
            Some(q) => {
                out.push(after[..q].to_string());
                rest = &after[q + 1..];
            }
            None => break,
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// SVG inlining
// ---------------------------------------------------------------------------------------------

/// Value of attribute `name` in a start tag.
fn attr_value<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let pat = format!(" {name}=\"");
    let i = tag.find(&pat)? + pat.len();
    let j = tag[i..].find('"')? + i;
    Some(&tag[i..j])
}

/// Removes attribute `name` from a start tag.
fn remove_attr(tag: &str, name: &str) -> String {
    let pat = format!(" {name}=\"");
    match tag.find(&pat) {
        Some(i) => {
            let start = i + pat.len();
            match tag[start..].find('"') {
                Some(j) => format!("{}{}", &tag[..i], &tag[start + j + 1..]),
                None => tag.to_string(),
            }
        }
        None => tag.to_string(),
    }
}

/// An SVG document (from [`crate::to_svg`] or [`crate::render_map_svg`]) as an element to inline
/// in an HTML page:
/// - the XML declaration and anything before `<svg` are dropped;
/// - the namespace declarations (`xmlns`, `xmlns:xlink`) are removed and `xlink:href` becomes
///   `href` (no URL is left in the element; HTML places `<svg>` in the SVG namespace);
/// - the fixed `width`/`height` are replaced by a style that scales the figure to its container
///   (never beyond its own width; the `viewBox` keeps the aspect ratio);
/// - every `id="X"` becomes `id="PREFIX-X"`, and the references `url(#X)` and `href="#X"` follow.
///
/// Input without an `<svg` element gives an empty string.
///
/// ```
/// let doc = "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"300\" height=\"200\" viewBox=\"0 0 300 200\">\
///            <defs><clipPath id=\"c\"><rect width=\"1\" height=\"1\"/></clipPath></defs><path clip-path=\"url(#c)\"/></svg>\n";
/// let s = rsei_report::html::inline_svg(doc, "fig-1");
/// assert!(s.starts_with("<svg style=\"width:100%;max-width:300px;height:auto\" viewBox=\"0 0 300 200\">"));
/// assert!(s.contains("<clipPath id=\"fig-1-c\">") && s.contains("url(#fig-1-c)"));
/// assert!(!s.contains("http"));
/// ```
pub fn inline_svg(doc: &str, prefix: &str) -> String {
    let Some(start) = doc.find("<svg") else {
        return String::new();
    };
    let body = doc[start..].trim_end();
    let Some(tag_end) = body.find('>') else {
        return String::new();
    };
    let root = &body[..tag_end];
    let width = attr_value(root, "width").and_then(|w| w.parse::<f64>().ok());
    let mut tag = root.to_string();
    for a in ["xmlns", "xmlns:xlink", "width", "height", "version"] {
        tag = remove_attr(&tag, a);
    }
    let style = match width {
        Some(w) if w.is_finite() && w > 0.0 => format!("width:100%;max-width:{}px;height:auto", format_fixed(w, 0)),
        _ => "width:100%;height:auto".to_string(),
    };
    let tag = tag.replacen("<svg", &format!("<svg style=\"{style}\""), 1);
    let mut rest = body[tag_end..].replace("xlink:href=", "href=");
    // ids defined in the document, longest first so that no id is a prefix of a replaced one
    let mut ids: Vec<String> = Vec::new();
    let mut scan = rest.as_str();
    while let Some(p) = scan.find(" id=\"") {
        let after = &scan[p + 5..];
        if let Some(q) = after.find('"') {
            ids.push(after[..q].to_string());
            scan = &after[q..];
        } else {
            break;
        }
    }
    ids.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    ids.dedup();
    for id in &ids {
        let new = format!("{prefix}-{id}");
        rest = rest
            .replace(&format!(" id=\"{id}\""), &format!(" id=\"{new}\""))
            .replace(&format!("url(#{id})"), &format!("url(#{new})"))
            .replace(&format!("href=\"#{id}\""), &format!("href=\"#{new}\""));
    }
    format!("{tag}{rest}")
}

/// A PNG image (e.g. a map from [`crate::render_map`]) wrapped in an SVG document, so that it can
/// be a figure panel like any chart: the image is embedded as a base64 data URI and shown at
/// `width / scale` × `height / scale` px (`scale` = the device-pixel ratio it was drawn at, 2 for
/// the maps of [`crate::MapStyle::default`]). `None` when the bytes are not a PNG or `scale` is
/// not positive.
///
/// ```
/// use rsei_report::map::{render_map, MapStyle};
/// let png = render_map(&[0.1, 0.9], 1, 2, &MapStyle::default()).unwrap();
/// let svg = rsei_report::html::png_as_svg(&png, 2.0, "Predicted RSEI").unwrap();
/// assert!(svg.contains("<title>Predicted RSEI</title>") && svg.contains("href=\"data:image/png;base64,"));
/// assert!(rsei_report::html::png_as_svg(b"GIF89a", 2.0, "x").is_none());
/// ```
pub fn png_as_svg(png: &[u8], scale: f64, title: &str) -> Option<String> {
    // signature, then the IHDR chunk: length (4), "IHDR" (4), width (4), height (4)
    if png.len() < 24 || &png[..8] != b"\x89PNG\r\n\x1a\n" || &png[12..16] != b"IHDR" || !(scale.is_finite() && scale > 0.0) {
        return None;
    }
    let w = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    let h = u32::from_be_bytes([png[20], png[21], png[22], png[23]]);
    if w == 0 || h == 0 {
        return None;
    }
    let (cw, ch) = (format_fixed(f64::from(w) / scale, 1), format_fixed(f64::from(h) / scale, 1));
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{cw}\" height=\"{ch}\" viewBox=\"0 0 {cw} {ch}\"><title>{}</title><image x=\"0\" y=\"0\" width=\"{cw}\" height=\"{ch}\" href=\"data:image/png;base64,{}\"/></svg>\n",
        escape_xml(title),
        crate::svg::base64(png)
    ))
}

// ---------------------------------------------------------------------------------------------
// Numbering and checks
// ---------------------------------------------------------------------------------------------

/// Section numbers, figure/table/equation numbers by id, in document order.
struct Numbering {
    labels: Labels,
    /// Section id → number ("2.1"), numbered sections only.
    sections: BTreeMap<String, String>,
    /// Duplicate ids.
    duplicates: Vec<String>,
}

fn number(doc: &Document) -> Numbering {
    let mut n = Numbering { labels: Labels::new(), sections: BTreeMap::new(), duplicates: Vec::new() };
    let (mut fig, mut tab, mut eq) = (0usize, 0usize, 0usize);
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut add = |n: &mut Numbering, id: &str, kind: &str, num: String| {
        if !seen.insert(id.to_string()) {
            n.duplicates.push(id.to_string());
            return;
        }
        n.labels.insert(id.to_string(), (kind.to_string(), num));
    };
    fn blocks(bs: &[Block], n: &mut Numbering, fig: &mut usize, tab: &mut usize, eq: &mut usize, add: &mut dyn FnMut(&mut Numbering, &str, &str, String)) {
        for b in bs {
            match b {
                Block::Figure(f) => {
                    *fig += 1;
                    add(n, &f.id, "Figure", fig.to_string());
                }
                Block::Table(t) => {
                    *tab += 1;
                    add(n, &t.id, "Table", tab.to_string());
                }
                Block::Equation { id, .. } => {
                    *eq += 1;
                    if let Some(id) = id {
                        add(n, id, "Equation", format!("({eq})"));
                    }
                }
                _ => {}
            }
        }
    }
    let mut top = 0usize;
    for s in &doc.sections {
        let num = if s.numbered {
            top += 1;
            Some(top.to_string())
        } else {
            None
        };
        if let Some(k) = &num {
            n.sections.insert(s.id.clone(), k.clone());
        }
        add(&mut n, &s.id, "Section", num.clone().unwrap_or_default());
        blocks(&s.blocks, &mut n, &mut fig, &mut tab, &mut eq, &mut add);
        let mut sub = 0usize;
        for ss in &s.subsections {
            let snum = match (&num, ss.numbered) {
                (Some(k), true) => {
                    sub += 1;
                    Some(format!("{k}.{sub}"))
                }
                _ => None,
            };
            if let Some(k) = &snum {
                n.sections.insert(ss.id.clone(), k.clone());
            }
            add(&mut n, &ss.id, "Section", snum.unwrap_or_default());
            blocks(&ss.blocks, &mut n, &mut fig, &mut tab, &mut eq, &mut add);
            for sss in &ss.subsections {
                add(&mut n, &sss.id, "Section", String::new());
                blocks(&sss.blocks, &mut n, &mut fig, &mut tab, &mut eq, &mut add);
            }
        }
    }
    n
}

fn markups_of_blocks(bs: &[Block], out: &mut Vec<String>) {
    for b in bs {
        match b {
            Block::Paragraph(m) => out.push(m.clone()),
            Block::List(items) => out.extend(items.iter().cloned()),
            Block::Definitions(d) => out.extend(d.iter().flat_map(|(a, b)| [a.clone(), b.clone()])),
            Block::Equation { markup, .. } => out.push(markup.clone()),
            Block::Figure(f) => {
                out.push(f.caption.clone());
                out.extend(f.panels.iter().filter_map(|p| p.label.clone()));
            }
            Block::Table(t) => {
                out.push(t.caption.clone());
                out.extend(t.notes.iter().cloned());
            }
            Block::Callout(c) => out.extend(c.paragraphs.iter().cloned()),
        }
    }
}

fn markups_of_section(s: &Section, out: &mut Vec<String>) {
    markups_of_blocks(&s.blocks, out);
    for ss in &s.subsections {
        markups_of_section(ss, out);
    }
}

impl Document {
    /// Duplicate ids and references to unknown ids, one message each (empty when the document is
    /// consistent).
    pub fn problems(&self) -> Vec<String> {
        let n = number(self);
        let mut out: Vec<String> = n.duplicates.iter().map(|d| format!("id {d:?} is used more than once")).collect();
        let mut markups: Vec<String> = Vec::new();
        markups.extend(self.subtitle.clone());
        markups.extend(self.byline.iter().cloned());
        markups.extend(self.banners.iter().flat_map(|c| c.paragraphs.iter().cloned()));
        markups_of_blocks(&self.summary, &mut markups);
        for s in &self.sections {
            markups_of_section(s, &mut markups);
        }
        markups.extend(self.footer.clone());
        let mut missing: BTreeSet<String> = BTreeSet::new();
        for m in &markups {
            for r in refs_of(m) {
                if !n.labels.contains_key(&r) {
                    missing.insert(r);
                }
            }
        }
        out.extend(missing.into_iter().map(|r| format!("reference to unknown id {r:?}")));
        out
    }

    /// The page: `<!DOCTYPE html>` … `</html>`, UTF-8, with the inline style sheet.
    pub fn render(&self) -> String {
        let n = number(self);
        let mut out = String::with_capacity(256 * 1024);
        out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        let _ = writeln!(out, "<title>{}</title>", escape_xml(&self.title));
        let _ = writeln!(out, "<style>\n{STYLE}</style>\n</head>\n<body>\n<div class=\"page\">");
        // title block
        out.push_str("<header class=\"title-block\">\n");
        let _ = writeln!(out, "<h1>{}</h1>", escape_xml(&self.title));
        if let Some(s) = &self.subtitle {
            let _ = writeln!(out, "<p class=\"subtitle\">{}</p>", inline(s, &n.labels));
        }
        for b in &self.byline {
            let _ = writeln!(out, "<p class=\"byline\">{}</p>", inline(b, &n.labels));
        }
        out.push_str("</header>\n");
        for c in &self.banners {
            render_callout(&mut out, c, &n.labels);
        }
        if !self.summary.is_empty() {
            let title = self.summary_title.as_deref().unwrap_or("Summary");
            let _ = writeln!(out, "<section class=\"summary\" aria-label=\"{0}\">\n<h2 class=\"summary-title\">{0}</h2>", escape_xml(title));
            for b in &self.summary {
                render_block(&mut out, b, &n);
            }
            out.push_str("</section>\n");
        }
        if self.toc && !self.sections.is_empty() {
            render_toc(&mut out, self, &n);
        }
        out.push_str("<main>\n");
        for s in &self.sections {
            render_section(&mut out, s, 2, &n);
        }
        out.push_str("</main>\n");
        if let Some(f) = &self.footer {
            let _ = writeln!(out, "<footer class=\"colophon\"><p>{}</p></footer>", inline(f, &n.labels));
        }
        out.push_str("</div>\n</body>\n</html>\n");
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

fn render_toc(out: &mut String, doc: &Document, n: &Numbering) {
    out.push_str("<nav class=\"toc\" aria-label=\"Contents\">\n<h2>Contents</h2>\n<ol>\n");
    for s in &doc.sections {
        let num = n.sections.get(&s.id).map_or_else(String::new, |k| format!("<span class=\"secnum\">{k}</span>"));
        let _ = write!(out, "<li><a href=\"#{}\">{num}{}</a>", escape_xml(&s.id), escape_xml(&s.title));
        let subs: Vec<&Section> = s.subsections.iter().collect();
        if !subs.is_empty() {
            out.push_str("\n<ol>\n");
            for ss in subs {
                let num = n.sections.get(&ss.id).map_or_else(String::new, |k| format!("<span class=\"secnum\">{k}</span>"));
                let _ = writeln!(out, "<li><a href=\"#{}\">{num}{}</a></li>", escape_xml(&ss.id), escape_xml(&ss.title));
            }
            out.push_str("</ol>\n");
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ol>\n</nav>\n");
}

fn render_section(out: &mut String, s: &Section, level: usize, n: &Numbering) {
    let mut classes: Vec<&str> = Vec::new();
    if let Some(c) = &s.class {
        classes.push(c);
    }
    if s.page_break {
        classes.push("page-break");
    }
    let class = if classes.is_empty() { String::new() } else { format!(" class=\"{}\"", escape_xml(&classes.join(" "))) };
    let _ = writeln!(out, "<section id=\"{}\"{class}>", escape_xml(&s.id));
    let num = n.sections.get(&s.id).map_or_else(String::new, |k| format!("<span class=\"secnum\">{k}</span>"));
    let h = level.min(6);
    let _ = writeln!(out, "<h{h}>{num}{}</h{h}>", escape_xml(&s.title));
    for b in &s.blocks {
        render_block(out, b, n);
    }
    for ss in &s.subsections {
        render_section(out, ss, level + 1, n);
    }
    out.push_str("</section>\n");
}

fn render_callout(out: &mut String, c: &Callout, labels: &Labels) {
    let kind = match c.kind {
        CalloutKind::Note => "note",
        CalloutKind::Warning => "warning",
        CalloutKind::Data => "data",
    };
    let _ = writeln!(out, "<aside class=\"callout {kind}\">");
    if let Some(t) = &c.title {
        let _ = writeln!(out, "<p class=\"callout-title\">{}</p>", escape_xml(t));
    }
    for p in &c.paragraphs {
        let _ = writeln!(out, "<p>{}</p>", inline(p, labels));
    }
    out.push_str("</aside>\n");
}

fn label_of(n: &Numbering, id: &str, fallback: &str) -> String {
    n.labels.get(id).map_or_else(|| format!("{fallback} ?"), |(k, v)| format!("{k} {v}"))
}

fn render_block(out: &mut String, b: &Block, n: &Numbering) {
    let labels = &n.labels;
    match b {
        Block::Paragraph(m) => {
            let _ = writeln!(out, "<p>{}</p>", inline(m, labels));
        }
        Block::List(items) => {
            out.push_str("<ul>\n");
            for i in items {
                let _ = writeln!(out, "<li>{}</li>", inline(i, labels));
            }
            out.push_str("</ul>\n");
        }
        Block::Definitions(d) => {
            out.push_str("<dl class=\"defs\">\n");
            for (t, v) in d {
                let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", inline(t, labels), inline(v, labels));
            }
            out.push_str("</dl>\n");
        }
        Block::Equation { id, markup } => {
            let (id_attr, num) = match id {
                Some(i) => (format!(" id=\"{}\"", escape_xml(i)), labels.get(i).map_or_else(String::new, |(_, v)| v.clone())),
                None => (String::new(), String::new()),
            };
            let _ = writeln!(out, "<div class=\"equation\"{id_attr}><span class=\"eq-body\">{}</span><span class=\"eq-num\">{}</span></div>", inline(markup, labels), escape_xml(&num));
        }
        Block::Callout(c) => render_callout(out, c, labels),
        Block::Figure(f) => {
            let cols = f.columns.unwrap_or_else(|| f.panels.len().clamp(1, 2)).max(1);
            let class = if f.wide { "figure wide" } else { "figure" };
            let _ = writeln!(out, "<figure id=\"{}\" class=\"{class}\">", escape_xml(&f.id));
            let _ = writeln!(out, "<div class=\"panels\" style=\"--cols:{cols}\">");
            for (k, p) in f.panels.iter().enumerate() {
                out.push_str("<div class=\"panel\">");
                if let Some(l) = &p.label {
                    let _ = write!(out, "<p class=\"panel-label\">{}</p>", inline(l, labels));
                }
                out.push_str(&inline_svg(&p.svg, &format!("{}-p{}", f.id, k + 1)));
                out.push_str("</div>\n");
            }
            out.push_str("</div>\n");
            let _ = writeln!(out, "<figcaption><span class=\"label\">{}.</span> {}</figcaption>\n</figure>", escape_xml(&label_of(n, &f.id, "Figure")), inline(&f.caption, labels));
        }
        Block::Table(t) => render_table(out, t, n),
    }
}

fn render_cell(out: &mut String, c: &TCell, in_head: bool) {
    let tag = if in_head || c.kind == CellKind::Head { "th" } else { "td" };
    let mut classes: Vec<&str> = Vec::new();
    match c.kind {
        CellKind::Num => classes.push("num"),
        CellKind::Missing => classes.push("missing"),
        CellKind::Head if !in_head => classes.push("rowhead"),
        _ => {}
    }
    if c.warn {
        classes.push("warn");
    }
    let _ = write!(out, "<{tag}");
    if tag == "th" {
        out.push_str(if in_head { " scope=\"col\"" } else { " scope=\"row\"" });
    }
    if !classes.is_empty() {
        let _ = write!(out, " class=\"{}\"", classes.join(" "));
    }
    if let Some(t) = &c.title {
        let _ = write!(out, " title=\"{}\"", escape_xml(t));
    }
    out.push('>');
    if c.kind == CellKind::Missing {
        out.push('\u{2013}');
    } else {
        out.push_str(&escape_xml(&c.text));
    }
    let _ = write!(out, "</{tag}>");
}

fn render_table(out: &mut String, t: &TableBlock, n: &Numbering) {
    let labels = &n.labels;
    let ncols = t.head.len().max(t.rows.iter().map(|r| if let TRow::Cells(c) = r { c.len() } else { 0 }).max().unwrap_or(0)).max(1);
    let id = escape_xml(&t.id);
    let _ = writeln!(out, "<div class=\"table-block\" id=\"{id}\">");
    // the caption above the table, outside it, so that it spans the text column however wide
    // or narrow the table is; the table names it as its label
    let _ = writeln!(out, "<p class=\"table-caption\" id=\"{id}-caption\"><span class=\"label\">{}.</span> {}</p>", escape_xml(&label_of(n, &t.id, "Table")), inline(&t.caption, labels));
    let _ = writeln!(out, "<div class=\"table-wrap\">\n<table class=\"data\" aria-labelledby=\"{id}-caption\">");
    if !t.head.is_empty() {
        out.push_str("<thead><tr>");
        for c in &t.head {
            render_cell(out, c, true);
        }
        out.push_str("</tr></thead>\n");
    }
    out.push_str("<tbody>\n");
    let mut rule = false;
    for r in &t.rows {
        match r {
            TRow::Rule => rule = true,
            TRow::Cells(cells) => {
                out.push_str(if std::mem::take(&mut rule) { "<tr class=\"rule\">" } else { "<tr>" });
                for c in cells {
                    render_cell(out, c, false);
                }
                out.push_str("</tr>\n");
            }
            TRow::Group(g) => {
                rule = false;
                let _ = writeln!(out, "<tr class=\"group\"><th colspan=\"{ncols}\" scope=\"rowgroup\">{}</th></tr>", escape_xml(g));
            }
        }
    }
    out.push_str("</tbody>\n</table>\n</div>\n");
    if !t.notes.is_empty() {
        out.push_str("<div class=\"table-notes\">\n");
        for note in &t.notes {
            let _ = writeln!(out, "<p>{}</p>", inline(note, labels));
        }
        out.push_str("</div>\n");
    }
    out.push_str("</div>\n");
}

/// The style sheet: a serif text face and sans-serif figures, booktabs-like tables, figure and
/// table captions, call-outs; `@media print` for A4 pages with page breaks before sections of
/// class `area` (and any `page-break` section), figures and tables never cut.
pub const STYLE: &str = r#":root {
  --ink: #1b1b1b; --muted: #5b5b5b; --rule: #1b1b1b; --hair: #d9d9d9; --accent: #1f4e79;
  --warn-bg: #fde7b0; --warn-ink: #6b3f00; --paper: #ffffff; --desk: #eeede8;
}
* { box-sizing: border-box; }
html { font-size: 16px; -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--desk); color: var(--ink);
  font-family: "Charter", "Bitstream Charter", "Sitka Text", Cambria, "DejaVu Serif", Georgia, serif;
  line-height: 1.55; font-kerning: normal; }
.page { max-width: 54rem; margin: 2rem auto; background: var(--paper); padding: 3rem 4rem 2.5rem;
  box-shadow: 0 1px 3px rgba(0,0,0,.12), 0 6px 24px rgba(0,0,0,.06); }
h1, h2, h3, h4, .subtitle, .callout-title, nav.toc, figcaption .label, .table-caption .label, .summary-title, th {
  font-family: "Source Sans 3", "Source Sans Pro", "Fira Sans", "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; }
.title-block { border-bottom: 2px solid var(--rule); padding-bottom: 1rem; margin-bottom: 1.5rem; }
h1 { font-size: 2rem; line-height: 1.2; margin: 0 0 .5rem; font-weight: 700; letter-spacing: -.01em; }
.subtitle { font-size: 1.15rem; color: #333; margin: 0 0 .6rem; text-align: left; }
.byline { font-size: .85rem; color: var(--muted); margin: .1rem 0; }
h2 { font-size: 1.45rem; line-height: 1.25; margin: 2.5rem 0 .8rem; padding-bottom: .3rem; border-bottom: 1px solid var(--hair); }
h3 { font-size: 1.15rem; margin: 1.8rem 0 .6rem; }
h4 { font-size: 1rem; margin: 1.4rem 0 .5rem; }
.secnum { color: var(--accent); margin-right: .55em; font-variant-numeric: tabular-nums; }
p { margin: .6rem 0; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.xref.missing { color: #b00020; font-weight: 700; }
code { font-family: "DejaVu Sans Mono", "Fira Mono", Menlo, Consolas, monospace; font-size: .86em; background: #f3f2ee; padding: 0 .2em; border-radius: 2px; word-break: break-word; }
sub, sup { font-size: .72em; line-height: 0; }
ul { padding-left: 1.4rem; }
li { margin: .2rem 0; }
dl.defs { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: .8rem 0; }
dl.defs dt { font-weight: 600; }
dl.defs dd { margin: 0; }
.equation { display: flex; align-items: center; justify-content: space-between; margin: .9rem 0 .9rem 1.5rem; font-size: 1.02rem; }
.equation .eq-body { font-style: normal; }
.equation .eq-num { color: var(--muted); padding-left: 1rem; }
nav.toc { background: #faf9f6; border: 1px solid var(--hair); padding: .8rem 1.4rem 1rem; margin: 1.5rem 0 2rem; font-size: .95rem; }
nav.toc h2 { font-size: 1.05rem; margin: .2rem 0 .5rem; border: 0; padding: 0; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); }
nav.toc ol { list-style: none; padding-left: 0; margin: 0; }
nav.toc ol ol { padding-left: 1.6rem; font-size: .92rem; }
nav.toc li { margin: .15rem 0; }
nav.toc a { color: var(--ink); }
.summary { border-top: 1px solid var(--hair); border-bottom: 1px solid var(--hair); padding: .4rem 0 .8rem; margin: 1.2rem 0; }
.summary-title { font-size: .95rem; text-transform: uppercase; letter-spacing: .08em; color: var(--muted); border: 0; margin: .6rem 0 .2rem; padding: 0; }
.callout { border-left: 4px solid var(--accent); background: #f2f6fa; padding: .6rem 1rem; margin: 1rem 0; font-size: .95rem; }
.callout p { margin: .35rem 0; text-align: left; }
.callout-title { font-weight: 700; }
.callout.warning { border-color: #c77700; background: #fff6e5; }
.callout.data { border-color: #a4262c; background: #fdf0f0; }
figure { margin: 1.6rem 0; }
figure.wide { margin-left: -2.5rem; margin-right: -2.5rem; }
figure .panels { display: grid; grid-template-columns: repeat(var(--cols, 1), minmax(0, 1fr)); gap: .8rem 1.2rem; align-items: start; justify-items: center; }
figure .panel { width: 100%; display: flex; flex-direction: column; align-items: center; }
figure svg { display: block; max-width: 100%; height: auto; }
.panel-label { font-family: "DejaVu Sans", Arial, sans-serif; font-size: .85rem; font-weight: 600; margin: 0 0 .3rem; text-align: center; }
figcaption { font-size: .9rem; line-height: 1.45; margin-top: .6rem; text-align: left; }
figcaption .label, .table-caption .label { font-weight: 700; margin-right: .25em; }
.table-caption { font-size: .9rem; line-height: 1.45; margin: 0 0 .5rem; }
.table-block { margin: 1.6rem 0; }
.table-wrap { overflow-x: auto; }
table.data { border-collapse: collapse; width: auto; min-width: 60%; font-size: .84rem; line-height: 1.35; font-variant-numeric: tabular-nums lining-nums;
  border-top: 2px solid var(--rule); border-bottom: 2px solid var(--rule); }
table.data th, table.data td { padding: .28rem .6rem; vertical-align: baseline; }
table.data thead th { border-bottom: 1px solid var(--rule); font-weight: 600; text-align: center; font-size: .8rem; vertical-align: bottom; }
table.data thead th:first-child, table.data th.rowhead { text-align: left; }
table.data th.rowhead { font-weight: 600; white-space: nowrap; }
table.data td { text-align: left; }
table.data td.num { text-align: right; white-space: nowrap; }
table.data td.missing { text-align: center; color: var(--muted); }
table.data td.warn, table.data th.warn { background: var(--warn-bg); color: var(--warn-ink); font-weight: 700; }
table.data tr.group th { text-align: left; font-style: italic; font-weight: 600; padding-top: .55rem; border-top: 1px solid var(--hair); }
table.data tbody tr:first-child.group th { border-top: 0; }
table.data tr.rule > * { border-top: 1px solid var(--rule); }
.table-notes { font-size: .8rem; color: #333; margin-top: .35rem; }
.table-notes p { margin: .15rem 0; text-align: left; }
section.references ul { list-style: none; padding-left: 1.6rem; }
section.references li { text-indent: -1.6rem; margin: .35rem 0; }
footer.colophon { margin-top: 3rem; padding-top: .8rem; border-top: 1px solid var(--hair); font-size: .8rem; color: var(--muted); }
@media screen and (max-width: 900px) {
  .page { padding: 1.5rem 1.2rem; margin: 0; }
  figure.wide { margin-left: 0; margin-right: 0; }
  figure .panels { grid-template-columns: minmax(0, 1fr); }
}
@page { size: A4; margin: 17mm 15mm 18mm 15mm; }
@media print {
  html { font-size: 10pt; }
  body { background: #fff; }
  .page { max-width: none; margin: 0; padding: 0; box-shadow: none; }
  section.area, section.page-break { break-before: page; }
  figure, .table-block, .equation, .callout, dl.defs { break-inside: avoid; page-break-inside: avoid; }
  figure.wide { margin-left: 0; margin-right: 0; }
  h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
  nav.toc { break-after: page; break-inside: avoid; background: none; font-size: .9rem; }
  nav.toc li { margin: 0; }
  .table-wrap { overflow: visible; }
  table.data { font-size: 7.5pt; }
  a { color: inherit; }
  p { orphans: 3; widows: 3; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn render_inline(m: &str) -> String {
        let mut labels = Labels::new();
        labels.insert("fig-a".into(), ("Figure".into(), "2".into()));
        labels.insert("eq-1".into(), ("Equation".into(), "(1)".into()));
        inline(m, &labels)
    }

    #[test]
    fn markup_by_hand() {
        // each construct, written out by hand
        assert_eq!(render_inline("a *b* **c** `d*e`"), "a <em>b</em> <strong>c</strong> <code>d*e</code>");
        assert_eq!(render_inline("`a\\_b\\`c` d"), "<code>a_b`c</code> d");
        assert_eq!(render_inline("λ_{1} / Σλ, km^{2}"), "λ<sub>1</sub> / Σλ, km<sup>2</sup>");
        assert_eq!(render_inline("see {ref:fig-a} and {ref:eq-1}"), "see <a class=\"xref\" href=\"#fig-a\">Figure 2</a> and <a class=\"xref\" href=\"#eq-1\">Eq. (1)</a>");
        assert_eq!(render_inline("{ref:nope}"), "<span class=\"xref missing\">??</span>");
        // HTML is escaped, unclosed markers stay literal, backslash escapes
        assert_eq!(render_inline("<b> & 3 * 4"), "&lt;b&gt; &amp; 3 * 4");
        assert_eq!(render_inline("\\*x\\* a_b ^c"), "*x* a_b ^c");
        assert_eq!(render_inline("*ρ_{6}*"), "<em>ρ<sub>6</sub></em>");
        // data through escape_markup comes out unchanged (escaped for HTML only)
        let data = "prec_*.tif {ref:x} `q` a^{2} \\";
        assert_eq!(render_inline(&escape_markup(data)), escape_xml(data));
    }

    #[test]
    fn references_found_in_markup() {
        assert_eq!(refs_of("a {ref:x} b {ref:y-2}"), vec!["x".to_string(), "y-2".to_string()]);
        assert!(refs_of("\\{ref:x}").is_empty());
        assert!(refs_of("{ref:unclosed").is_empty());
    }

    fn sample() -> Document {
        let mut doc = Document::new("Report <1>");
        doc.subtitle = Some("Sub *title*".into());
        let mut a = Section::new("a", "Methods");
        a.blocks.push(Block::Equation { id: Some("eq-ndvi".into()), markup: "NDVI = (ρ_{2} − ρ_{1})/(ρ_{2} + ρ_{1})".into() });
        a.blocks.push(Block::Paragraph("As {ref:eq-ndvi}; results in {ref:b}, {ref:fig-2}, {ref:tab-1}.".into()));
        let mut b = Section::new("b", "City");
        b.page_break = true;
        b.class = Some("area".into());
        let mut b1 = Section::new("b-maps", "Maps");
        b1.blocks.push(Block::Figure(Figure::single("fig-1", "<svg width=\"10\" height=\"5\" viewBox=\"0 0 10 5\"><defs><clipPath id=\"k\"/></defs></svg>", "First.")));
        b1.blocks.push(Block::Figure(Figure::panels(
            "fig-2",
            vec![
                Panel { svg: "<svg viewBox=\"0 0 1 1\"><g id=\"k\"/></svg>".into(), label: Some("(a) 2001".into()) },
                Panel { svg: "<svg viewBox=\"0 0 1 1\"><g id=\"k\"/></svg>".into(), label: Some("(b) 2022".into()) },
            ],
            "Second.",
        )));
        let mut t = TableBlock::new("tab-1", "Loadings.", vec![TCell::head("Index"), TCell::head("2001")]);
        t.group("Anshan");
        t.push(vec![TCell::head("LST"), TCell::num(Some(0.764), 3).warned(true)]);
        t.rule();
        t.push(vec![TCell::head("WET"), TCell::num(None, 3)]);
        t.notes.push("Shaded: loads positively.".into());
        b1.blocks.push(Block::Table(t));
        b.subsections.push(b1);
        let mut r = Section::new("refs", "References");
        r.numbered = false;
        doc.sections = vec![a, b, r];
        doc
    }

    #[test]
    fn numbering_references_and_structure() {
        let doc = sample();
        assert!(doc.problems().is_empty(), "{:?}", doc.problems());
        let h = doc.render();
        // sections 1, 2, 2.1; references unnumbered
        assert!(h.contains("<h2><span class=\"secnum\">1</span>Methods</h2>"));
        assert!(h.contains("<h3><span class=\"secnum\">2.1</span>Maps</h3>"));
        assert!(h.contains("<h2>References</h2>"));
        // equation (1), figures 1 and 2, table 1, in that order; references resolved
        assert!(h.contains("<span class=\"eq-num\">(1)</span>"));
        assert!(h.contains("<a class=\"xref\" href=\"#eq-ndvi\">Eq. (1)</a>"));
        assert!(h.contains("<a class=\"xref\" href=\"#b\">Section 2</a>"));
        assert!(h.contains("<a class=\"xref\" href=\"#fig-2\">Figure 2</a>"));
        assert!(h.find("<span class=\"label\">Figure 1.</span> First.").unwrap() < h.find("<span class=\"label\">Figure 2.</span> Second.").unwrap());
        assert!(h.contains("<p class=\"table-caption\" id=\"tab-1-caption\"><span class=\"label\">Table 1.</span> Loadings.</p>"));
        assert!(h.contains("<table class=\"data\" aria-labelledby=\"tab-1-caption\">"));
        // the page-break area section, the warned cell, the group row spanning both columns, the dash
        assert!(h.contains("<section id=\"b\" class=\"area page-break\">"));
        assert!(h.contains("<td class=\"num warn\">0.764</td>"));
        assert!(h.contains("<tr class=\"group\"><th colspan=\"2\" scope=\"rowgroup\">Anshan</th></tr>"));
        assert!(h.contains("<tr class=\"rule\"><th scope=\"row\" class=\"rowhead\">WET</th><td class=\"missing\">\u{2013}</td></tr>"));
        // ids inside the two panels of figure 2 differ
        assert!(h.contains("id=\"fig-2-p1-k\"") && h.contains("id=\"fig-2-p2-k\"") && h.contains("id=\"fig-1-p1-k\""));
        // title escaped, a TOC, print rules, nothing external
        assert!(h.contains("<title>Report &lt;1&gt;</title>"));
        assert!(h.contains("<nav class=\"toc\""));
        assert!(h.contains("@media print") && h.contains("size: A4"));
        for bad in ["http://", "https://", "<script", "<link", "src="] {
            assert!(!h.contains(bad), "{bad}");
        }
        // deterministic
        assert_eq!(h, doc.render());
    }

    #[test]
    fn problems_are_reported() {
        let mut doc = sample();
        doc.sections[0].para("{ref:missing-fig}");
        doc.sections[1].subsections[0].blocks.push(Block::Table(TableBlock::new("fig-1", "dup", vec![])));
        let p = doc.problems();
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("\"fig-1\" is used more than once"));
        assert!(p[1].contains("\"missing-fig\""));
        assert!(doc.render().contains("<span class=\"xref missing\">??</span>"));
    }

    #[test]
    fn svg_is_made_inline() {
        let doc = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" version=\"1.1\" width=\"720\" height=\"440\" viewBox=\"0 0 720 440\" font-family=\"DejaVu Sans\">\n<defs><clipPath id=\"rsei-clip-1\"><rect/></clipPath><clipPath id=\"rsei-clip-12\"><rect/></clipPath></defs>\n<path clip-path=\"url(#rsei-clip-1)\"/><path clip-path=\"url(#rsei-clip-12)\"/>\n<image xlink:href=\"data:image/png;base64,AAAA\"/><use href=\"#rsei-clip-1\"/></svg>\n";
        let s = inline_svg(doc, "f");
        assert!(s.starts_with("<svg style=\"width:100%;max-width:720px;height:auto\" viewBox=\"0 0 720 440\" font-family=\"DejaVu Sans\">"), "{s}");
        assert!(s.contains("id=\"f-rsei-clip-1\"") && s.contains("id=\"f-rsei-clip-12\""));
        assert!(s.contains("url(#f-rsei-clip-1)") && s.contains("url(#f-rsei-clip-12)"));
        assert!(s.contains("<image href=\"data:image/png;base64,AAAA\"/>"));
        assert!(s.contains("<use href=\"#f-rsei-clip-1\"/>"));
        assert!(!s.contains("xmlns") && !s.contains("http") && !s.contains("<?xml"));
        assert!(s.ends_with("</svg>"));
        // well-formed XML without namespaces
        roxmltree::Document::parse(&s).unwrap();
        assert_eq!(inline_svg("no svg here", "x"), "");
    }

    #[test]
    fn a_real_chart_inlines_cleanly() {
        let chart = crate::Chart::new("t", crate::Axis::linear("x", None), crate::Axis::linear("y", None)).with_series(crate::Series::line("a", vec![(0.0, 1.0), (1.0, 2.0)]));
        let svg = crate::to_svg(&chart, 300.0, 200.0).unwrap();
        let s = inline_svg(&svg, "fig-x");
        let d = roxmltree::Document::parse(&s).unwrap();
        assert_eq!(d.root_element().tag_name().name(), "svg");
        // every url(#…) points to an id of the element
        for part in s.split("url(#").skip(1) {
            let id = &part[..part.find(')').unwrap()];
            assert!(s.contains(&format!("id=\"{id}\"")), "dangling {id}");
            assert!(id.starts_with("fig-x-"));
        }
    }

    #[test]
    fn png_wrapped_at_its_css_size() {
        // signature, IHDR length 13, "IHDR", width 400, height 300 (enough for the header read)
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend(400u32.to_be_bytes());
        png.extend(300u32.to_be_bytes());
        let s = png_as_svg(&png, 2.0, "a <map>").unwrap();
        // 400/2 × 300/2 CSS px
        assert!(s.contains("width=\"200.0\" height=\"150.0\" viewBox=\"0 0 200.0 150.0\""), "{s}");
        assert!(s.contains("<title>a &lt;map&gt;</title>"));
        roxmltree::Document::parse(&s).unwrap();
        assert!(png_as_svg(&png, 0.0, "x").is_none());
        assert!(png_as_svg(&png[..20], 2.0, "x").is_none());
        let inlined = inline_svg(&s, "f");
        assert!(inlined.starts_with("<svg style=\"width:100%;max-width:200px;height:auto\" viewBox=\"0 0 200.0 150.0\">"), "{inlined}");
    }

    #[test]
    fn cells_and_tables_from_typed_tables() {
        assert_eq!(TCell::num(Some(-0.5), 2).text, "\u{2212}0.50");
        assert_eq!(TCell::num(Some(-0.0004), 3).text, "0.000");
        assert_eq!(TCell::num(Some(f64::NAN), 3).kind, CellKind::Missing);
        assert_eq!(TCell::int(-3).text, "\u{2212}3");
        let mut t = crate::table::Table::new(vec![crate::table::Column::with_unit("area", "km²"), crate::table::Column::new("name")]);
        t.push_row(vec![crate::table::Cell::float(-1.25, 1), crate::table::Cell::Missing]).unwrap();
        let b = TableBlock::from_table("t", "c", &t);
        assert_eq!(b.head[0].text, "area (km²)");
        // −1.25 is exact in binary: round half to even → −1.2
        assert_eq!(b.rows[0], TRow::Cells(vec![TCell { text: "\u{2212}1.2".into(), kind: CellKind::Num, warn: false, title: None }, TCell::missing()]));
    }
}
