//! Colours and palettes.
//!
//! - [`OKABE_ITO`]: the eight-colour qualitative palette of Okabe & Ito (2008), distinguishable
//!   under the common forms of colour-vision deficiency; series take it in the order of
//!   [`series_color`] (blue, vermillion, bluish green, orange, reddish purple, sky blue, yellow, black).
//! - [`sequential`]: `n` ordered colours from *viridis* (perceptually uniform, colour-blind safe),
//!   for many ordered series such as 22 years of density curves.
//! - [`Ramp`]: piecewise-linear colour ramps: [`Ramp::viridis`], the diverging ColorBrewer *RdBu*
//!   ([`Ramp::red_blue`], for correlations: negative red, positive blue) and *RdYlGn*
//!   ([`Ramp::red_yellow_green`], for RSEI maps: low red, high green, as in the paper's figures).
//! - [`RSEI_GRADE_COLORS`] / [`RSEI_GRADE_NAMES`]: the five RSEI grades (METHOD §4.5).
//!
//! ```
//! use rsei_report::color::{Rgba, Ramp};
//! let r = Ramp::red_blue();
//! assert_eq!(r.at(0.5), Rgba::hex(0xf7f7f7)); // the neutral middle of the diverging ramp
//! assert_eq!(Rgba::hex(0x0072b2).to_hex(), "#0072b2");
//! ```

/// A colour with straight (not premultiplied) alpha, 8 bits per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgba {
    pub r: u8,
    pub g: u8,
    pub b: u8,
    pub a: u8,
}

impl Rgba {
    /// An opaque colour.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Self {
        Rgba { r, g, b, a: 255 }
    }
    /// An opaque colour from `0xRRGGBB`.
    pub const fn hex(v: u32) -> Self {
        Rgba {
            r: ((v >> 16) & 0xff) as u8,
            g: ((v >> 8) & 0xff) as u8,
            b: (v & 0xff) as u8,
            a: 255,
        }
    }
    /// The same colour with opacity `alpha` ∈ [0, 1] (clamped).
    pub fn with_alpha(self, alpha: f32) -> Self {
        let a = (alpha.clamp(0.0, 1.0) * 255.0).round() as u8;
        Rgba { a, ..self }
    }
    /// Fully transparent.
    pub const TRANSPARENT: Rgba = Rgba {
        r: 0,
        g: 0,
        b: 0,
        a: 0,
    };
    /// Opaque white.
    pub const WHITE: Rgba = Rgba::rgb(255, 255, 255);
    /// Opaque black.
    pub const BLACK: Rgba = Rgba::rgb(0, 0, 0);

    /// `#rrggbb` (alpha is written separately by the SVG writer).
    pub fn to_hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }
    /// Relative luminance (WCAG, sRGB), 0 = black … 1 = white; used to pick a readable text colour.
    pub fn luminance(self) -> f64 {
        fn lin(c: u8) -> f64 {
            let c = c as f64 / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        }
        0.2126 * lin(self.r) + 0.7152 * lin(self.g) + 0.0722 * lin(self.b)
    }
    /// Black or white, whichever reads better on `self` as a background.
    pub fn contrasting_text(self) -> Rgba {
        // (L + 0.05)/(0.05) vs (1.05)/(L + 0.05): black wins when L > ~0.179
        if self.luminance() > 0.179 {
            Rgba::hex(0x111111)
        } else {
            Rgba::WHITE
        }
    }
    /// Linear interpolation in sRGB between `self` (t = 0) and `other` (t = 1).
    pub fn lerp(self, other: Rgba, t: f64) -> Rgba {
        let t = t.clamp(0.0, 1.0);
        let m = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * t).round() as u8;
        Rgba {
            r: m(self.r, other.r),
            g: m(self.g, other.g),
            b: m(self.b, other.b),
            a: m(self.a, other.a),
        }
    }
}

/// Okabe & Ito's colour-blind-safe qualitative palette, in their published order:
/// black, orange, sky blue, bluish green, yellow, blue, vermillion, reddish purple.
pub const OKABE_ITO: [Rgba; 8] = [
    Rgba::hex(0x000000),
    Rgba::hex(0xe69f00),
    Rgba::hex(0x56b4e9),
    Rgba::hex(0x009e73),
    Rgba::hex(0xf0e442),
    Rgba::hex(0x0072b2),
    Rgba::hex(0xd55e00),
    Rgba::hex(0xcc79a7),
];

/// The order in which chart series take the Okabe–Ito colours: strong, well-separated hues
/// first; the pale yellow (weak on white) comes last but one.
const SERIES_ORDER: [usize; 8] = [5, 6, 3, 1, 7, 2, 4, 0];

/// The default colour of the `i`-th series (cycles after eight).
pub fn series_color(i: usize) -> Rgba {
    OKABE_ITO[SERIES_ORDER[i % SERIES_ORDER.len()]]
}

/// Neutral greys used for axes, grid lines and labels.
pub mod ink {
    use super::Rgba;
    /// Axis lines, tick marks and tick labels.
    pub const AXIS: Rgba = Rgba::hex(0x333333);
    /// Titles.
    pub const TEXT: Rgba = Rgba::hex(0x1a1a1a);
    /// Light grid lines behind the data.
    pub const GRID: Rgba = Rgba::hex(0xe3e3e3);
    /// Reference lines and their labels.
    pub const REFERENCE: Rgba = Rgba::hex(0x555555);
    /// Missing cells in heat maps.
    pub const MISSING: Rgba = Rgba::hex(0xd9d9d9);
}

/// The five RSEI grades at 0.2 steps (METHOD §4.5), lowest first.
pub const RSEI_GRADE_NAMES: [&str; 5] = ["Poor", "Fair", "Moderate", "Good", "Excellent"];

/// Colours of the five RSEI grades: red → orange → yellow → light green → dark green
/// (ColorBrewer RdYlGn, 5 classes).
pub const RSEI_GRADE_COLORS: [Rgba; 5] = [
    Rgba::hex(0xd7191c),
    Rgba::hex(0xfdae61),
    Rgba::hex(0xffffbf),
    Rgba::hex(0xa6d96a),
    Rgba::hex(0x1a9641),
];

/// Colours of the ten RSEI classes at 0.1 steps (paper Fig. 4a; ColorBrewer RdYlGn, 10 classes).
pub const RSEI_TEN_CLASS_COLORS: [Rgba; 10] = [
    Rgba::hex(0xa50026),
    Rgba::hex(0xd73027),
    Rgba::hex(0xf46d43),
    Rgba::hex(0xfdae61),
    Rgba::hex(0xfee08b),
    Rgba::hex(0xd9ef8b),
    Rgba::hex(0xa6d96a),
    Rgba::hex(0x66bd63),
    Rgba::hex(0x1a9850),
    Rgba::hex(0x006837),
];

/// A colour ramp: evenly spaced stops, linearly interpolated in sRGB; `at(t)` clamps `t` to [0, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct Ramp {
    pub stops: Vec<Rgba>,
}

impl Ramp {
    /// A ramp through `stops` (at least one).
    pub fn new(stops: Vec<Rgba>) -> Self {
        Ramp { stops }
    }
    /// Viridis (matplotlib), 9 stops: dark purple → blue → green → yellow.
    pub fn viridis() -> Self {
        Ramp::new(
            [
                0x440154, 0x472d7b, 0x3b528b, 0x2c728e, 0x21918c, 0x28ae80, 0x5ec962, 0xaddc30,
                0xfde725,
            ]
            .into_iter()
            .map(Rgba::hex)
            .collect(),
        )
    }
    /// Diverging red → white → blue (ColorBrewer RdBu, 9 classes): for correlation coefficients.
    pub fn red_blue() -> Self {
        Ramp::new(
            [
                0xb2182b, 0xd6604d, 0xf4a582, 0xfddbc7, 0xf7f7f7, 0xd1e5f0, 0x92c5de, 0x4393c3,
                0x2166ac,
            ]
            .into_iter()
            .map(Rgba::hex)
            .collect(),
        )
    }
    /// Red → yellow → green (ColorBrewer RdYlGn, 11 classes): the continuous RSEI ramp.
    pub fn red_yellow_green() -> Self {
        Ramp::new(
            [
                0xa50026, 0xd73027, 0xf46d43, 0xfdae61, 0xfee08b, 0xffffbf, 0xd9ef8b, 0xa6d96a,
                0x66bd63, 0x1a9850, 0x006837,
            ]
            .into_iter()
            .map(Rgba::hex)
            .collect(),
        )
    }
    /// The colour at `t` ∈ [0, 1] (clamped; NaN gives the first stop).
    pub fn at(&self, t: f64) -> Rgba {
        let n = self.stops.len();
        if n == 0 {
            return Rgba::hex(0x808080);
        }
        if n == 1 || t.is_nan() || t <= 0.0 {
            return self.stops[0];
        }
        if t >= 1.0 {
            return self.stops[n - 1];
        }
        let p = t * (n - 1) as f64;
        let i = (p.floor() as usize).min(n - 2);
        self.stops[i].lerp(self.stops[i + 1], p - i as f64)
    }
}

/// `n` ordered colours sampled from viridis over [0, 0.9] (the palest yellow end is left out so
/// that every colour stays visible on white). `n = 1` gives the dark end.
pub fn sequential(n: usize) -> Vec<Rgba> {
    let r = Ramp::viridis();
    (0..n)
        .map(|i| {
            if n <= 1 {
                r.at(0.0)
            } else {
                r.at(0.9 * i as f64 / (n - 1) as f64)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramp_interpolates_between_stops() {
        let r = Ramp::new(vec![Rgba::rgb(0, 0, 0), Rgba::rgb(200, 100, 50)]);
        // halfway: (0+200)/2 = 100, 50, 25
        assert_eq!(r.at(0.5), Rgba::rgb(100, 50, 25));
        assert_eq!(r.at(-1.0), Rgba::rgb(0, 0, 0));
        assert_eq!(r.at(2.0), Rgba::rgb(200, 100, 50));
        // three stops: t = 0.75 is halfway between stop 1 and 2
        let r3 = Ramp::new(vec![
            Rgba::rgb(0, 0, 0),
            Rgba::rgb(100, 0, 0),
            Rgba::rgb(100, 200, 0),
        ]);
        assert_eq!(r3.at(0.75), Rgba::rgb(100, 100, 0));
    }

    #[test]
    fn contrast_text_choice() {
        assert_eq!(Rgba::hex(0x2166ac).contrasting_text(), Rgba::WHITE);
        assert_eq!(Rgba::hex(0xf7f7f7).contrasting_text(), Rgba::hex(0x111111));
    }

    #[test]
    fn sequential_is_ordered_and_distinct() {
        let c = sequential(22);
        assert_eq!(c.len(), 22);
        assert_eq!(c[0], Rgba::hex(0x440154));
        for w in c.windows(2) {
            assert_ne!(w[0], w[1]);
        }
    }
}
