//! The embedded font: text measurement for layout (both back ends) and glyph outlines for PNG.
//!
//! Subsets of DejaVu Sans and DejaVu Sans Bold (≈ 40 KB each; ASCII, Latin-1, Latin Extended-A,
//! Greek, dashes and quotes, super/subscripts such as `km²` and `CO₂`, arrows, `− ± ≤ ≥ ≈ ∞`,
//! `● ▲ ■`; see `fonts/subset.sh` and `fonts/LICENSE-DejaVu.txt`). The SVG names the same family
//! first in its `font-family`, so a viewer with DejaVu installed shows exactly the measured widths;
//! others fall back to Arial/Helvetica, whose widths differ by a few per cent.
//!
//! No kerning or shaping: glyphs are placed by their advance widths. A character missing from the
//! subset is drawn as the font's `.notdef` box.

use std::sync::OnceLock;
use ttf_parser::{Face, GlyphId, OutlineBuilder};

static REGULAR_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans-subset.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold-subset.ttf");

/// Font weight of a text item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

/// Vertical metrics of DejaVu Sans as fractions of the font size (units per em = 2048).
pub(crate) mod metrics {
    /// Cap height 1493/2048: the height of `H` above the baseline.
    pub const CAP_HEIGHT: f32 = 0.729;
    /// Descender depth 483/2048 (below the baseline).
    pub const DESCENT: f32 = 0.236;
}

fn face(weight: Weight) -> Option<&'static Face<'static>> {
    static REGULAR: OnceLock<Option<Face<'static>>> = OnceLock::new();
    static BOLD: OnceLock<Option<Face<'static>>> = OnceLock::new();
    match weight {
        Weight::Regular => REGULAR
            .get_or_init(|| Face::parse(REGULAR_TTF, 0).ok())
            .as_ref(),
        Weight::Bold => BOLD.get_or_init(|| Face::parse(BOLD_TTF, 0).ok()).as_ref(),
    }
}

fn glyph_of(face: &Face<'_>, c: char) -> GlyphId {
    face.glyph_index(c).unwrap_or(GlyphId(0))
}

/// Width in px of `text` set at `size` px (sum of glyph advances).
pub fn text_width(text: &str, size: f32, weight: Weight) -> f32 {
    match face(weight) {
        Some(f) => {
            let upem = f.units_per_em() as f32;
            let units: u32 = text
                .chars()
                .map(|c| f.glyph_hor_advance(glyph_of(f, c)).unwrap_or(0) as u32)
                .sum();
            units as f32 * size / upem
        }
        // unreachable with the embedded font (checked by a test); a plausible estimate otherwise
        None => text.chars().count() as f32 * size * 0.6,
    }
}

/// Receives glyph outlines in px, y down, already placed.
pub(crate) trait PathSink {
    fn move_to(&mut self, x: f32, y: f32);
    fn line_to(&mut self, x: f32, y: f32);
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32);
    fn cubic_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32);
    fn close(&mut self);
}

struct Placed<'a, S: PathSink> {
    sink: &'a mut S,
    // affine: px = ox + s·(cos·u − sin·v'), where v' = −v (font units are y up)
    ox: f32,
    oy: f32,
    s: f32,
    cos: f32,
    sin: f32,
    pen: f32,
}

impl<S: PathSink> Placed<'_, S> {
    fn map(&self, x: f32, y: f32) -> (f32, f32) {
        let u = (x + self.pen) * self.s;
        let v = -y * self.s;
        (
            self.ox + u * self.cos - v * self.sin,
            self.oy + u * self.sin + v * self.cos,
        )
    }
}

impl<S: PathSink> OutlineBuilder for Placed<'_, S> {
    fn move_to(&mut self, x: f32, y: f32) {
        let (a, b) = self.map(x, y);
        self.sink.move_to(a, b);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        let (a, b) = self.map(x, y);
        self.sink.line_to(a, b);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (a1, b1) = self.map(x1, y1);
        let (a, b) = self.map(x, y);
        self.sink.quad_to(a1, b1, a, b);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (a1, b1) = self.map(x1, y1);
        let (a2, b2) = self.map(x2, y2);
        let (a, b) = self.map(x, y);
        self.sink.cubic_to(a1, b1, a2, b2, a, b);
    }
    fn close(&mut self) {
        self.sink.close();
    }
}

/// Emits the outlines of `text` with its baseline starting at (`x`, `y`) px, rotated by
/// `angle_deg` (clockwise, y down, as SVG `rotate`) around that point.
pub(crate) fn outline_text<S: PathSink>(
    sink: &mut S,
    text: &str,
    x: f32,
    y: f32,
    size: f32,
    weight: Weight,
    angle_deg: f32,
) {
    let Some(f) = face(weight) else { return };
    let s = size / f.units_per_em() as f32;
    let (sin, cos) = angle_deg.to_radians().sin_cos();
    let mut p = Placed {
        sink,
        ox: x,
        oy: y,
        s,
        cos,
        sin,
        pen: 0.0,
    };
    for c in text.chars() {
        let g = glyph_of(f, c);
        let _ = f.outline_glyph(g, &mut p);
        p.pen += f.glyph_hor_advance(g).unwrap_or(0) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_fonts_parse_and_cover_needed_characters() {
        for w in [Weight::Regular, Weight::Bold] {
            let f = face(w).expect("embedded font parses");
            assert_eq!(f.units_per_em(), 2048);
            for c in "Aa0.,()%−±²₂°≤≥µσ–—…’ÉéČ".chars() {
                assert!(
                    f.glyph_index(c).is_some(),
                    "glyph for {c:?} missing from the subset"
                );
            }
        }
    }

    #[test]
    fn widths_follow_advances() {
        // DejaVu Sans: every digit advances 1303/2048 em; "10" at 2048 px = 2606 px
        assert_eq!(text_width("10", 2048.0, Weight::Regular), 2606.0);
        // at 11 px: 2·1303·11/2048 = 13.997 px
        assert!((text_width("10", 11.0, Weight::Regular) - 13.997).abs() < 1e-3);
        assert!(
            text_width("Title", 12.0, Weight::Bold) > text_width("Title", 12.0, Weight::Regular)
        );
        assert_eq!(text_width("", 12.0, Weight::Regular), 0.0);
    }
}
