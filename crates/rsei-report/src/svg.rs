//! SVG back end: a [`Scene`] as a standalone SVG 1.1 document.
//!
//! The document has no external reference: fonts are a generic family list
//! (`DejaVu Sans, Arial, Helvetica, sans-serif`), images are inline base64 PNG data URIs, and the
//! only `url(#…)` is the plot-area clip path defined in the same document. Its id is derived from
//! the figure's title, size and clip rectangle, so several figures inlined in one HTML page do not
//! collide (two figures with the same id have the same clip rectangle). Text is XML-escaped;
//! coordinates are written with at most two decimals.

use crate::color::Rgba;
use crate::font::Weight;
use crate::scene::{marker_polygon, Anchor, MarkerShape, Prim, Scene, Seg, Stroke};
use std::fmt::Write as _;

/// The font family list written on the root element.
pub const FONT_FAMILY: &str = "DejaVu Sans, Arial, Helvetica, sans-serif";

/// Escapes `&`, `<`, `>`, `"` and `'` for XML text and attribute values; drops characters XML 1.0
/// does not allow (control characters other than tab, newline and carriage return).
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// The `<svg>…</svg>` element of a document from [`crate::to_svg`] or
/// [`crate::render_map_svg`], without the XML declaration, for inlining in an HTML page.
///
/// ```
/// let doc = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<svg></svg>\n";
/// assert_eq!(rsei_report::svg_fragment(doc), "<svg></svg>\n");
/// ```
pub fn svg_fragment(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

/// A coordinate with at most two decimals and no trailing zeros (`12`, `3.5`, `-0.25`).
fn n(v: f32) -> String {
    let r = (v * 100.0).round() / 100.0;
    let s = format!("{r:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".to_string()
    } else {
        s.to_string()
    }
}

fn opacity(c: Rgba) -> Option<String> {
    (c.a != 255).then(|| {
        let s = format!("{:.3}", c.a as f32 / 255.0);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    })
}

fn paint_attrs(out: &mut String, fill: Option<Rgba>, stroke: Option<&Stroke>) {
    match fill {
        Some(c) => {
            let _ = write!(out, " fill=\"{}\"", c.to_hex());
            if let Some(o) = opacity(c) {
                let _ = write!(out, " fill-opacity=\"{o}\"");
            }
        }
        None => out.push_str(" fill=\"none\""),
    }
    if let Some(s) = stroke {
        let _ = write!(
            out,
            " stroke=\"{}\" stroke-width=\"{}\"",
            s.color.to_hex(),
            n(s.width)
        );
        if let Some(o) = opacity(s.color) {
            let _ = write!(out, " stroke-opacity=\"{o}\"");
        }
        if !s.dash.is_empty() {
            let d: Vec<String> = s.dash.iter().map(|&v| n(v)).collect();
            let _ = write!(out, " stroke-dasharray=\"{}\"", d.join(" "));
        }
        if s.round {
            out.push_str(" stroke-linecap=\"round\" stroke-linejoin=\"round\"");
        }
    }
}

fn path_data(segs: &[Seg]) -> String {
    let mut d = String::with_capacity(segs.len() * 12);
    for s in segs {
        match *s {
            Seg::M(x, y) => {
                let _ = write!(d, "M{} {}", n(x), n(y));
            }
            Seg::L(x, y) => {
                let _ = write!(d, "L{} {}", n(x), n(y));
            }
            Seg::Z => d.push('Z'),
        }
    }
    d
}

fn marker_data(shape: MarkerShape, centers: &[(f32, f32)], r: f32) -> String {
    let mut d = String::with_capacity(centers.len() * 24);
    for &(cx, cy) in centers {
        match marker_polygon(shape, cx, cy, r) {
            None => {
                // a circle as two half arcs
                let _ = write!(
                    d,
                    "M{} {}a{} {} 0 1 0 {} 0a{} {} 0 1 0 {} 0Z",
                    n(cx - r),
                    n(cy),
                    n(r),
                    n(r),
                    n(2.0 * r),
                    n(r),
                    n(r),
                    n(-2.0 * r)
                );
            }
            Some(pts) => {
                for (i, (x, y)) in pts.iter().enumerate() {
                    let _ = write!(d, "{}{} {}", if i == 0 { 'M' } else { 'L' }, n(*x), n(*y));
                }
                d.push('Z');
            }
        }
    }
    d
}

/// FNV-1a, for a short deterministic id.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Standard base64 (RFC 4648, with padding).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for ch in bytes.chunks(3) {
        let b = [ch[0], *ch.get(1).unwrap_or(&0), *ch.get(2).unwrap_or(&0)];
        let v = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        out.push(A[(v >> 18) as usize & 63] as char);
        out.push(A[(v >> 12) as usize & 63] as char);
        out.push(if ch.len() > 1 {
            A[(v >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if ch.len() > 2 {
            A[v as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// Writes `scene` as an SVG 1.1 document.
pub(crate) fn scene_to_svg(scene: &Scene) -> crate::Result<String> {
    let mut out = String::with_capacity(16 * 1024);
    let (w, h) = (n(scene.width), n(scene.height));
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n");
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" version=\"1.1\" \
         width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"{FONT_FAMILY}\">"
    );
    if !scene.title.is_empty() {
        let _ = writeln!(out, "<title>{}</title>", escape_xml(&scene.title));
    }
    let clip_id = scene.clip.map(|r| {
        let key = format!("{}|{}|{}|{}|{}|{}|{}", scene.title, scene.width, scene.height, r.x, r.y, r.w, r.h);
        let id = format!("rsei-clip-{:012x}", fnv1a(key.as_bytes()) & 0xffff_ffff_ffff);
        let _ = writeln!(
            out,
            "<defs><clipPath id=\"{id}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath></defs>",
            n(r.x),
            n(r.y),
            n(r.w),
            n(r.h)
        );
        id
    });
    if let Some(bg) = scene.background {
        let mut a = String::new();
        paint_attrs(&mut a, Some(bg), None);
        let _ = writeln!(
            out,
            "<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\"{a}/>"
        );
    }
    let clip_attr = |clip: bool| match (&clip_id, clip) {
        (Some(id), true) => format!(" clip-path=\"url(#{id})\""),
        _ => String::new(),
    };
    for p in &scene.prims {
        match p {
            Prim::GroupStart(class) => {
                let _ = writeln!(out, "<g class=\"{}\">", escape_xml(class));
            }
            Prim::GroupEnd => out.push_str("</g>\n"),
            Prim::Path {
                segs,
                fill,
                stroke,
                clip,
            } => {
                if segs.is_empty() {
                    continue;
                }
                let mut a = String::new();
                paint_attrs(&mut a, *fill, stroke.as_ref());
                let _ = writeln!(
                    out,
                    "<path d=\"{}\"{a}{}/>",
                    path_data(segs),
                    clip_attr(*clip)
                );
            }
            Prim::Markers {
                shape,
                centers,
                radius,
                fill,
                stroke,
                clip,
            } => {
                if centers.is_empty() {
                    continue;
                }
                let mut a = String::new();
                paint_attrs(&mut a, *fill, stroke.as_ref());
                let _ = writeln!(
                    out,
                    "<path d=\"{}\"{a}{}/>",
                    marker_data(*shape, centers, *radius),
                    clip_attr(*clip)
                );
            }
            Prim::Text(t) => {
                let mut a = String::new();
                let _ = write!(
                    a,
                    " x=\"{}\" y=\"{}\" font-size=\"{}\"",
                    n(t.x),
                    n(t.y),
                    n(t.size)
                );
                if t.weight == Weight::Bold {
                    a.push_str(" font-weight=\"bold\"");
                }
                match t.anchor {
                    Anchor::Start => {}
                    Anchor::Middle => a.push_str(" text-anchor=\"middle\""),
                    Anchor::End => a.push_str(" text-anchor=\"end\""),
                }
                let _ = write!(a, " fill=\"{}\"", t.color.to_hex());
                if let Some(o) = opacity(t.color) {
                    let _ = write!(a, " fill-opacity=\"{o}\"");
                }
                if t.angle != 0.0 {
                    let _ = write!(
                        a,
                        " transform=\"rotate({} {} {})\"",
                        n(t.angle),
                        n(t.x),
                        n(t.y)
                    );
                }
                let _ = writeln!(out, "<text{a}>{}</text>", escape_xml(&t.text));
            }
            Prim::Image { x, y, w, h, image } => {
                let png = crate::raster::encode_rgba_png(
                    image.width,
                    image.height,
                    &image.rgba,
                    "embedded image",
                )?;
                let _ = writeln!(
                    out,
                    "<image x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" preserveAspectRatio=\"none\" \
                     image-rendering=\"optimizeSpeed\" style=\"image-rendering:pixelated\" \
                     xlink:href=\"data:image/png;base64,{}\"/>",
                    n(*x),
                    n(*y),
                    n(*w),
                    n(*h),
                    base64(&png)
                );
            }
        }
    }
    out.push_str("</svg>\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape_xml("R&D <b> \"q\" 'a'\u{1}"),
            "R&amp;D &lt;b&gt; &quot;q&quot; &apos;a&apos;"
        );
    }

    #[test]
    fn base64_rfc4648_vectors() {
        // RFC 4648 §10 test vectors
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
        assert_eq!(base64(b"fooba"), "Zm9vYmE=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(n(12.0), "12");
        assert_eq!(n(3.504), "3.5");
        assert_eq!(n(-0.001), "0");
        assert_eq!(n(-0.25), "-0.25");
    }
}
