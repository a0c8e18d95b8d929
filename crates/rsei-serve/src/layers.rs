//! The layers a results folder offers, how each is coloured, and its legend.

use serde::Serialize;

/// A map layer: one of the per-year result rasters, or one computed from the RSEI of several
/// years.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerId {
    /// RSEI (0 worst … 1 best), drawn in the five grade colours.
    Rsei,
    /// RSEI grade (1 poor … 5 excellent).
    Grade,
    /// NDVI (greenness).
    Ndvi,
    /// WET (tasseled-cap wetness).
    Wet,
    /// NDBSI (dryness).
    Ndbsi,
    /// LST (heat), °C.
    Lst,
    /// MNDWI (water index).
    Mndwi,
    /// RSEI of the year minus RSEI of a reference year (the first year unless asked).
    Change,
    /// Least-squares slope of RSEI over all years, per year.
    Trend,
    /// One raster of the area's `trend/`, `change/` or `difference/` folder, for all years
    /// (the tile's year field holds its index among the area's extras).
    Extra,
}

/// Every layer, in the order the viewer lists them.
pub const ALL_LAYERS: [LayerId; 9] =
    [LayerId::Rsei, LayerId::Grade, LayerId::Ndvi, LayerId::Wet, LayerId::Ndbsi, LayerId::Lst, LayerId::Mndwi, LayerId::Change, LayerId::Trend];

/// The four indicators of the RSEI model, in the order of the PCA table.
pub const INDICATORS: [LayerId; 4] = [LayerId::Ndvi, LayerId::Wet, LayerId::Ndbsi, LayerId::Lst];

/// Colours of the five RSEI grades, poor → excellent (the same as `rsei_report::color::RSEI_GRADE_COLORS`,
/// ColorBrewer RdYlGn with 5 classes).
pub const GRADE_COLORS: [[u8; 3]; 5] = [[0xd7, 0x19, 0x1c], [0xfd, 0xae, 0x61], [0xff, 0xff, 0xbf], [0xa6, 0xd9, 0x6a], [0x1a, 0x96, 0x41]];
/// Names of the five RSEI grades.
pub const GRADE_NAMES: [&str; 5] = ["Poor", "Fair", "Moderate", "Good", "Excellent"];

const VIRIDIS: [u32; 9] = [0x440154, 0x472d7b, 0x3b528b, 0x2c728e, 0x21918c, 0x28ae80, 0x5ec962, 0xaddc30, 0xfde725];
/// Heat: dark purple → red → orange → pale yellow (like matplotlib's inferno).
const HEAT: [u32; 9] = [0x000004, 0x1f0c48, 0x550f6d, 0x88226a, 0xba3655, 0xe35933, 0xf98e09, 0xf9cb35, 0xfcffa4];
/// Diverging: red (RSEI fell) → near white → green (RSEI rose).
const DIVERGING: [u32; 9] = [0xb2182b, 0xd6604d, 0xf4a582, 0xfddbc7, 0xf7f7f7, 0xd9f0d3, 0xa6dba0, 0x5aae61, 0x1b7837];

/// How the values of a layer become colours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Style {
    /// RSEI values: the grade of the value (0.2 steps).
    RseiGrades,
    /// Grade codes 1..=5.
    GradeCodes,
    /// A ramp over `[min, max]` (clamped).
    Ramp { stops: &'static [u32; 9], min: f32, max: f32 },
}

impl Style {
    /// RGBA of a value; `None` for no value (transparent).
    #[inline]
    pub(crate) fn color(&self, v: f32) -> Option<[u8; 4]> {
        if v.is_nan() {
            return None;
        }
        match *self {
            Style::RseiGrades => {
                // the edges of rsei_core::model::GradeTable: 0.2, 0.4, 0.6, 0.8
                let g = [0.2f32, 0.4, 0.6, 0.8].iter().filter(|&&e| v >= e).count();
                let c = GRADE_COLORS[g];
                Some([c[0], c[1], c[2], 255])
            }
            Style::GradeCodes => {
                let k = v.round();
                if (1.0..=5.0).contains(&k) {
                    let c = GRADE_COLORS[k as usize - 1];
                    Some([c[0], c[1], c[2], 255])
                } else {
                    None
                }
            }
            Style::Ramp { stops, min, max } => {
                let t = if max > min { ((v - min) / (max - min)).clamp(0.0, 1.0) } else { 0.5 };
                let p = t * (stops.len() - 1) as f32;
                let i = (p.floor() as usize).min(stops.len() - 2);
                let f = p - i as f32;
                let (a, b) = (stops[i], stops[i + 1]);
                let ch = |s: u32| -> u8 {
                    let (x, y) = (((a >> s) & 0xff) as f32, ((b >> s) & 0xff) as f32);
                    (x + (y - x) * f).round() as u8
                };
                Some([ch(16), ch(8), ch(0), 255])
            }
        }
    }
}

/// Static description of a layer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LayerMeta {
    pub name: &'static str,
    pub title: &'static str,
    pub unit: &'static str,
    /// File of the year folder (`None` for computed layers).
    pub file: Option<&'static str>,
    stops: Option<&'static [u32; 9]>,
}

impl LayerId {
    pub(crate) fn meta(self) -> LayerMeta {
        let m = |name, title, unit, file, stops| LayerMeta { name, title, unit, file, stops };
        match self {
            LayerId::Rsei => m("rsei", "RSEI", "1", Some("rsei.tif"), None),
            LayerId::Grade => m("grade", "RSEI grade", "", Some("grade.tif"), None),
            LayerId::Ndvi => m("ndvi", "NDVI (greenness)", "1", Some("ndvi.tif"), Some(&VIRIDIS)),
            LayerId::Wet => m("wet", "WET (wetness)", "1", Some("wet.tif"), Some(&VIRIDIS)),
            LayerId::Ndbsi => m("ndbsi", "NDBSI (dryness)", "1", Some("ndbsi.tif"), Some(&VIRIDIS)),
            LayerId::Lst => m("lst", "LST (heat)", "°C", Some("lst_celsius.tif"), Some(&HEAT)),
            LayerId::Mndwi => m("mndwi", "MNDWI (water)", "1", Some("mndwi.tif"), Some(&VIRIDIS)),
            LayerId::Change => m("change", "RSEI change", "1", None, Some(&DIVERGING)),
            LayerId::Trend => m("trend", "RSEI trend", "1/yr", None, Some(&DIVERGING)),
            LayerId::Extra => m("extra", "extra raster", "", None, Some(&VIRIDIS)),
        }
    }

    /// The layer of a name used in URLs.
    pub fn from_name(s: &str) -> Option<LayerId> {
        ALL_LAYERS.into_iter().find(|l| l.meta().name == s)
    }

    /// Its name in URLs and JSON.
    pub fn name(self) -> &'static str {
        self.meta().name
    }

    /// Whether it is computed from the RSEI of several years.
    pub(crate) fn computed(self) -> bool {
        matches!(self, LayerId::Change | LayerId::Trend)
    }

    /// Whether its colours come from a value range (and so need one).
    pub(crate) fn ranged(self) -> bool {
        self.meta().stops.is_some()
    }

    /// The colouring, given the layer's value range when it has one.
    pub(crate) fn style(self, range: Option<(f32, f32)>) -> Style {
        match (self, self.meta().stops) {
            (LayerId::Rsei, _) => Style::RseiGrades,
            (LayerId::Grade, _) => Style::GradeCodes,
            (_, Some(stops)) => {
                let (min, max) = range.unwrap_or((0.0, 1.0));
                Style::Ramp { stops, min, max }
            }
            (_, None) => Style::RseiGrades,
        }
    }

    /// The legend the viewer draws (JSON).
    pub(crate) fn legend(self, range: Option<(f32, f32)>) -> serde_json::Value {
        let meta = self.meta();
        match self {
            LayerId::Rsei | LayerId::Grade => serde_json::json!({
                "kind": "classes",
                "classes": (0..5).map(|i| serde_json::json!({
                    "label": if self == LayerId::Rsei {
                        format!("{} ({:.1}–{:.1})", GRADE_NAMES[i], i as f64 * 0.2, (i + 1) as f64 * 0.2)
                    } else {
                        format!("{} {}", i + 1, GRADE_NAMES[i])
                    },
                    "color": hex(GRADE_COLORS[i]),
                })).collect::<Vec<_>>(),
            }),
            _ => {
                let (min, max) = range.unwrap_or((0.0, 1.0));
                let stops = meta.stops.map(|s| s.iter().map(|&c| format!("#{c:06x}")).collect::<Vec<_>>()).unwrap_or_default();
                let r = |v: f32| (f64::from(v) * 1e6).round() / 1e6 + 0.0;
                serde_json::json!({"kind": "ramp", "min": r(min), "max": r(max), "stops": stops, "unit": meta.unit})
            }
        }
    }
}

fn hex(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// Colours of an extra raster: diverging and symmetric when its range holds both signs.
pub(crate) fn extra_style(range: Option<(f32, f32)>) -> (Style, (f32, f32)) {
    let (lo, hi) = range.unwrap_or((0.0, 1.0));
    if lo < 0.0 && hi > 0.0 {
        let m = lo.abs().max(hi);
        (Style::Ramp { stops: &DIVERGING, min: -m, max: m }, (-m, m))
    } else {
        (Style::Ramp { stops: &VIRIDIS, min: lo, max: hi }, (lo, hi))
    }
}

/// Legend of an extra raster.
pub(crate) fn extra_legend(range: Option<(f32, f32)>) -> serde_json::Value {
    let (style, (min, max)) = extra_style(range);
    let stops = match style {
        Style::Ramp { stops, .. } => stops.iter().map(|&c| format!("#{c:06x}")).collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    let r = |v: f32| (f64::from(v) * 1e6).round() / 1e6 + 0.0;
    serde_json::json!({"kind": "ramp", "min": r(min), "max": r(max), "stops": stops, "unit": ""})
}

/// A round range around `lo..hi` (two significant digits of the span).
pub(crate) fn nice_range(lo: f64, hi: f64) -> (f32, f32) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    if hi <= lo {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        return ((lo - d) as f32, (lo + d) as f32);
    }
    let step = 10f64.powf(((hi - lo).log10()).floor() - 1.0);
    ((((lo / step).floor()) * step) as f32, (((hi / step).ceil()) * step) as f32)
}

/// A round symmetric bound `m` for a range `-m..m` holding `x` (at least `min`).
pub(crate) fn nice_bound(x: f64, min: f64) -> f32 {
    let x = if x.is_finite() { x.max(min) } else { min };
    let step = 10f64.powf(x.log10().floor() - 1.0);
    ((x / step).ceil() * step) as f32
}

/// The `p`-quantile (0..=1) of finite values, by sorting (for small samples).
pub(crate) fn quantile(values: &mut [f32], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f32::total_cmp);
    let i = ((values.len() - 1) as f64 * p).round() as usize;
    Some(f64::from(values[i]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsei_values_take_their_grade_colour() {
        let s = LayerId::Rsei.style(None);
        assert_eq!(s.color(0.1), Some([0xd7, 0x19, 0x1c, 255]));
        assert_eq!(s.color(0.2), Some([0xfd, 0xae, 0x61, 255]));
        assert_eq!(s.color(0.95), Some([0x1a, 0x96, 0x41, 255]));
        assert_eq!(s.color(f32::NAN), None);
        let g = LayerId::Grade.style(None);
        assert_eq!(g.color(1.0), s.color(0.1));
        assert_eq!(g.color(0.0), None);
    }

    #[test]
    fn ramps_and_ranges() {
        let s = LayerId::Ndvi.style(Some((0.0, 1.0)));
        assert_eq!(s.color(-5.0), Some([0x44, 0x01, 0x54, 255]));
        assert_eq!(s.color(2.0), Some([0xfd, 0xe7, 0x25, 255]));
        assert_eq!(nice_range(0.0512, 0.8349), (0.05, 0.84));
        assert_eq!(nice_bound(0.0234, 0.01), 0.024);
        let mut v = vec![3.0, 1.0, 2.0];
        assert_eq!(quantile(&mut v, 0.5), Some(2.0));
        for l in ALL_LAYERS {
            assert_eq!(LayerId::from_name(l.name()), Some(l));
        }
    }
}
