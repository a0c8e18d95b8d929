//! Problems found in a study file, with their place (line and column) in it.
//!
//! A [`Diagnostic`] is an error (the study cannot run) or a warning (it can, but something deserves
//! a look, e.g. a note of the vector reader). Places are byte ranges of the study file turned into
//! 1-based lines and columns (columns count characters, not bytes). The report prints every
//! problem, sorted by place, in the `file:line:column: error: message` form of compilers, followed
//! by the line of the file and a caret under the place.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::Path;

/// How serious a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The study cannot run.
    Error,
    /// The study can run; worth a look.
    Warning,
}

/// One problem of a study file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Byte range in the study file (`None`: the file as a whole).
    pub span: Option<Range<usize>>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(span: Option<Range<usize>>, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Error, span, message: message.into() }
    }
    /// A warning at `span`.
    pub fn warning(span: Option<Range<usize>>, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, span, message: message.into() }
    }
    /// Whether it is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A place in a text: 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    /// Line (1-based).
    pub line: usize,
    /// Column (1-based).
    pub col: usize,
}

/// Line and column of byte offset `pos` of `text` (clamped to the text; an offset inside a
/// multi-byte character counts as that character).
///
/// ```
/// use rsei_pipeline::study::diag::line_col;
/// let t = "a = 1\nbé = 2\n";
/// assert_eq!((line_col(t, 0).line, line_col(t, 0).col), (1, 1));
/// assert_eq!((line_col(t, 6).line, line_col(t, 6).col), (2, 1));
/// // "é" is two bytes: the '=' after it is the 4th character of line 2
/// assert_eq!(line_col(t, 10).col, 4);
/// ```
pub fn line_col(text: &str, pos: usize) -> LineCol {
    let pos = pos.min(text.len());
    let before = text.get(..pos).unwrap_or_else(|| {
        // inside a multi-byte character: go back to its start
        let mut p = pos;
        while !text.is_char_boundary(p) {
            p -= 1;
        }
        &text[..p]
    });
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    LineCol { line, col: before[line_start..].chars().count() + 1 }
}

/// The text of line `line` (1-based), without its line break.
pub fn line_text(text: &str, line: usize) -> &str {
    text.lines().nth(line.saturating_sub(1)).unwrap_or("")
}

/// Where a diagnostic is: line/column of its span start, or `None` for the whole file.
pub fn place(text: &str, d: &Diagnostic) -> Option<LineCol> {
    d.span.as_ref().map(|s| line_col(text, s.start))
}

/// Sorts diagnostics by place (whole-file problems first), then errors before warnings, and
/// removes exact duplicates.
pub fn sort(text: &str, diags: &mut Vec<Diagnostic>) {
    diags.sort_by_key(|d| (place(text, d), d.severity, d.message.clone()));
    diags.dedup();
}

/// The report of every diagnostic: `file:line:col: error: message`, the line, a caret line; then
/// a count.
pub fn render(file: &Path, text: &str, diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    let name = file.display();
    for d in diags {
        let kind = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match (place(text, d), &d.span) {
            (Some(lc), Some(span)) => {
                let _ = writeln!(out, "{name}:{}:{}: {kind}: {}", lc.line, lc.col, d.message);
                let src = line_text(text, lc.line);
                if !src.trim().is_empty() {
                    // caret under the span (up to the end of the line)
                    let end = line_col(text, span.end.max(span.start + 1));
                    let width = if end.line == lc.line { end.col.saturating_sub(lc.col).max(1) } else { src.chars().count().saturating_sub(lc.col - 1).max(1) };
                    let gutter = lc.line.to_string().len();
                    let _ = writeln!(out, "  {:>gutter$} | {src}", lc.line);
                    let _ = writeln!(out, "  {:>gutter$} | {}{}", "", " ".repeat(lc.col - 1), "^".repeat(width));
                }
            }
            _ => {
                let _ = writeln!(out, "{name}: {kind}: {}", d.message);
            }
        }
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, w: &str| if n == 1 { format!("1 {w}") } else { format!("{n} {w}s") };
    let _ = writeln!(out, "{name}: {}, {}", plural(errors, "error"), plural(warnings, "warning"));
    out
}

/// Edit distance between two strings (in characters): insertions, deletions, substitutions and
/// transpositions of neighbouring characters each cost 1 (optimal string alignment distance).
///
/// ```
/// use rsei_pipeline::study::diag::edit_distance;
/// assert_eq!(edit_distance("ring_step_km", "ring_stp_km"), 1);
/// assert_eq!(edit_distance("years", "yeras"), 1); // one transposition
/// assert_eq!(edit_distance("kitten", "sitting"), 3);
/// assert_eq!(edit_distance("", "abc"), 3);
/// ```
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    // d[i][j]: distance between a[..i] and b[..j]
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, v) in d.iter_mut().enumerate().take(w) {
        *v = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j - 1] + cost).min(d[(i - 1) * w + j] + 1).min(d[i * w + j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

/// The known key closest to `key`, if close enough to be a likely typo: the same key in another
/// case, or an edit distance of at most a third of the key's length (at least 1, at most 3).
///
/// ```
/// use rsei_pipeline::study::diag::suggest;
/// let known = ["ring_step_km", "ring_max_km", "rule"];
/// assert_eq!(suggest("ring_stp_km", known.iter().copied()), Some("ring_step_km"));
/// assert_eq!(suggest("Rule", known.iter().copied()), Some("rule"));
/// assert_eq!(suggest("colour", known.iter().copied()), None);
/// ```
pub fn suggest<'a>(key: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (key.chars().count() / 3).clamp(1, 3);
    let mut best: Option<(usize, &'a str)> = None;
    for k in known {
        let d = if k.eq_ignore_ascii_case(key) { 0 } else { edit_distance(&key.to_ascii_lowercase(), &k.to_ascii_lowercase()) };
        if d <= limit && best.map_or(true, |(bd, _)| d < bd) {
            best = Some((d, k));
        }
    }
    best.map(|(_, k)| k)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn places_and_render() {
        let text = "[study]\nname = \"x\"\nyers = 3\n";
        // "yers" starts at byte 8 + 11 = 19: line 3, column 1
        let d = vec![
            Diagnostic::warning(Some(8..12), "a warning on line 2"),
            Diagnostic::error(Some(19..23), "unknown key `yers` in [study]; did you mean `years`?"),
            Diagnostic::error(None, "whole file"),
        ];
        let mut d2 = d.clone();
        sort(text, &mut d2);
        assert_eq!(d2[0].message, "whole file");
        assert_eq!(d2[2].span, Some(19..23));
        let r = render(Path::new("s.toml"), text, &d2);
        assert!(r.contains("s.toml:3:1: error: unknown key `yers`"), "{r}");
        assert!(r.contains("  3 | yers = 3\n    | ^^^^\n"), "{r}");
        assert!(r.contains("s.toml:2:1: warning: a warning on line 2"), "{r}");
        assert!(r.contains("s.toml: error: whole file"), "{r}");
        assert!(r.ends_with("s.toml: 2 errors, 1 warning\n"), "{r}");
    }

    #[test]
    fn suggestions_need_to_be_close() {
        let known = ["name", "output", "years"];
        // a transposition is one edit; the limit for 5 characters is 1
        assert_eq!(suggest("yeras", known), Some("years"));
        assert_eq!(suggest("yrs", known), None);
        assert_eq!(suggest("outptu", known), Some("output"));
        assert_eq!(suggest("nmae", known), Some("name"));
        assert_eq!(suggest("zzzz", known), None);
    }
}
