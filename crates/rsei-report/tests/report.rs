//! Integration tests of rsei-report: SVG structure, PNG pixels, maps, writers, errors.
//!
//! PNG pixels are located through the SVG of the same figure (the plot area is the SVG's clip
//! rectangle; legend swatches and the map image are SVG elements): both back ends draw one layout,
//! so coordinates read from the SVG, times the PNG scale, land on the same things in the PNG.

#![allow(clippy::unwrap_used)]

use rsei_report::chart::{
    Annotation, Axis, BoxItem, Chart, Corner, Legend, LegendPosition, MarkerShape, Series,
};
use rsei_report::color::{Rgba, RSEI_GRADE_COLORS};
use rsei_report::map::{MapPalette, MapStyle, Outline};
use rsei_report::table::{Cell, Column, Table};
use rsei_report::{
    render_map, render_map_svg, to_png, to_svg, write_csv, write_json, write_png, write_svg,
    ReportError,
};
use std::path::PathBuf;

/// A fresh temporary folder per test.
fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rsei-report-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Decoded RGBA image.
struct Img {
    w: u32,
    h: u32,
    px: Vec<u8>,
}

impl Img {
    fn at(&self, x: f64, y: f64) -> Rgba {
        let (x, y) = (x.floor() as u32, y.floor() as u32);
        assert!(
            x < self.w && y < self.h,
            "({x}, {y}) outside {}×{}",
            self.w,
            self.h
        );
        let o = ((y * self.w + x) * 4) as usize;
        Rgba {
            r: self.px[o],
            g: self.px[o + 1],
            b: self.px[o + 2],
            a: self.px[o + 3],
        }
    }
}

fn decode(png_bytes: &[u8]) -> Img {
    let dec = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgba);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    buf.truncate(info.buffer_size());
    Img {
        w: info.width,
        h: info.height,
        px: buf,
    }
}

fn attr(n: &roxmltree::Node, a: &str) -> f64 {
    n.attribute(a)
        .unwrap_or_else(|| panic!("missing {a}"))
        .parse()
        .unwrap()
}

/// The plot rectangle (x, y, w, h) of a chart SVG: its clip path.
fn plot_rect(svg: &str) -> (f64, f64, f64, f64) {
    let doc = roxmltree::Document::parse(svg).unwrap();
    let r = doc
        .descendants()
        .find(|n| n.has_tag_name("clipPath"))
        .unwrap()
        .first_element_child()
        .unwrap();
    (
        attr(&r, "x"),
        attr(&r, "y"),
        attr(&r, "width"),
        attr(&r, "height"),
    )
}

/// All `<text>` contents of an SVG.
fn texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").to_string())
        .collect()
}

/// Elements inside `<g class="{class}">`.
fn group_children<'a>(doc: &'a roxmltree::Document, class: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some(class))
        .flat_map(|g| g.children().filter(|c| c.is_element()).collect::<Vec<_>>())
        .collect()
}

fn line_chart() -> Chart {
    Chart::new(
        "RSEI & <trend> \"2001–2022\"",
        Axis::linear("Distance to mine", Some("km")),
        Axis::linear("Mean RSEI", None),
    )
    .with_series(
        Series::line(
            "2001",
            vec![(0.0, 0.31), (1.0, 0.38), (2.0, 0.45), (3.0, 0.47)],
        )
        .with_marker(MarkerShape::Circle),
    )
    .with_series(Series::line_with_band(
        "2022",
        vec![(0.0, 0.35), (1.0, 0.4), (2.0, 0.5), (3.0, 0.52)],
        vec![(0.3, 0.4), (0.35, 0.45), (0.44, 0.56), (0.47, 0.57)],
    ))
    .with_annotation(Annotation::VLine {
        x: 1.5,
        label: "turning point".into(),
    })
}

#[test]
fn svg_is_wellformed_with_escaped_title_ticks_and_a_path_per_series() {
    let svg = to_svg(&line_chart(), 600.0, 400.0).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("SVG parses as XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    assert_eq!(root.attribute("version"), Some("1.1"));
    assert_eq!(root.attribute("width"), Some("600"));
    assert_eq!(
        root.attribute("font-family"),
        Some("DejaVu Sans, Arial, Helvetica, sans-serif")
    );
    // the title is escaped in the source and round-trips through the parser
    assert!(svg.contains("RSEI &amp; &lt;trend&gt; &quot;2001–2022&quot;"));
    assert!(texts(&svg)
        .iter()
        .any(|t| t == "RSEI & <trend> \"2001–2022\""));
    // one <path> per line series (plus markers for the first)
    let lines = group_children(&doc, "series line");
    assert_eq!(
        lines
            .iter()
            .filter(|n| n.has_tag_name("path") && n.attribute("fill") == Some("none"))
            .count(),
        2
    );
    assert_eq!(group_children(&doc, "band").len(), 1);
    // tick labels and axis titles as text. x: data 0..3, about 6 ticks → range nice(3) = 5,
    // step nice(1) = 1 → 0, 1, 2, 3. y: data 0.3..0.57 (band included) → step 0.1, 0.3..0.6
    let t = texts(&svg);
    for want in [
        "0",
        "1",
        "2",
        "3",
        "0.3",
        "0.4",
        "0.5",
        "0.6",
        "Distance to mine (km)",
        "Mean RSEI",
        "2001",
        "2022",
        "turning point",
    ] {
        assert!(
            t.iter().any(|s| s == want),
            "missing text {want:?} in {t:?}"
        );
    }
    // no external references
    for bad in ["href=\"http", "url(http", "@import", "<script"] {
        assert!(!svg.contains(bad), "external reference {bad}");
    }
}

#[test]
fn every_chart_kind_renders_to_valid_svg_and_png() {
    let cats = ["A & B", "C", "D"];
    let charts = vec![
        line_chart(),
        Chart::new(
            "scatter",
            Axis::linear("Observed", None),
            Axis::linear("Predicted", None),
        )
        .with_series(
            Series::scatter(
                "pixels",
                (0..300)
                    .map(|i| (i as f64 / 300.0, (i as f64 / 300.0).powf(1.1)))
                    .collect(),
            )
            .with_one_to_one(),
        )
        .with_annotation(Annotation::Note {
            text: "R² = 0.95\nRMSE = 0.03".into(),
            corner: Corner::TopLeft,
        }),
        Chart::new(
            "bars",
            Axis::categories("City", cats),
            Axis::linear("RSEI", None),
        )
        .with_series(
            Series::bars("city", vec![(0.0, 0.5), (1.0, 0.4), (2.0, -0.1)]).with_value_labels(2),
        )
        .with_series(Series::bars(
            "mines",
            vec![(0.0, 0.3), (1.0, 0.35), (2.0, 0.2)],
        )),
        Chart::new(
            "importance",
            Axis::linear("%IncMSE", Some("%")),
            Axis::categories("", ["DisM", "DEM", "GDP"]),
        )
        .with_series(
            Series::horizontal_bars("imp", vec![(0.0, 90.0), (1.0, 60.0), (2.0, 30.0)])
                .with_value_labels(1),
        ),
        Chart::new(
            "density",
            Axis::linear("RSEI", None),
            Axis::linear("Density", None),
        )
        .with_series(Series::area(
            "2001",
            (0..=20)
                .map(|i| (i as f64 / 20.0, (i as f64 / 20.0 * 3.0).sin().abs()))
                .collect(),
        ))
        .with_series(Series::histogram(
            "hist",
            vec![0.0, 0.5, 1.0],
            vec![0.4, 0.8],
        )),
        Chart::new(
            "boxes",
            Axis::categories("Area class", ["<0.25", "≥1"]),
            Axis::linear("RSEI", None),
        )
        .with_series(Series::boxes(
            "2019",
            vec![
                BoxItem {
                    position: 0.0,
                    min: 0.1,
                    q1: 0.3,
                    median: 0.4,
                    q3: 0.5,
                    max: 0.7,
                    outliers: vec![0.95],
                },
                BoxItem {
                    position: 1.0,
                    min: 0.2,
                    q1: 0.25,
                    median: 0.3,
                    q3: 0.4,
                    max: 0.5,
                    outliers: vec![],
                },
            ],
        )),
        Chart::new(
            "heat",
            Axis::categories("", ["DEM", "GDP"]),
            Axis::categories("", ["AS", "HD", "HS"]),
        )
        .with_series(Series::heat_map(
            vec![vec![0.5, -0.25], vec![f64::NAN, 0.0], vec![1.0, -1.0]],
            (-1.0, 1.0),
            2,
            "r",
        )),
        Chart::new(
            "profile",
            Axis::linear("Latitude", Some("°N")),
            Axis::linear("RSEI", None),
        )
        .with_y2_axis(Axis::linear("Mines", None))
        .with_series(Series::line(
            "mean",
            vec![(40.0, 0.5), (40.1, f64::NAN), (40.2, 0.4), (40.3, 0.45)],
        ))
        .with_series(
            Series::bars(
                "mines",
                vec![(40.0, 2.0), (40.1, 5.0), (40.2, 1.0), (40.3, 0.0)],
            )
            .on_secondary_axis(),
        )
        .with_annotation(Annotation::HLine {
            y: 0.45,
            label: "city mean".into(),
            secondary: false,
        }),
    ];
    for c in &charts {
        let svg = to_svg(c, 520.0, 360.0).unwrap_or_else(|e| panic!("{}: {e}", c.title));
        roxmltree::Document::parse(&svg)
            .unwrap_or_else(|e| panic!("{}: SVG does not parse: {e}", c.title));
        let png = to_png(c, 520.0, 360.0, 2.0).unwrap();
        let img = decode(&png);
        assert_eq!((img.w, img.h), (1040, 720), "{}", c.title);
    }
    // heat map cells print their values with the decimals asked for, missing cells stay blank
    let heat = to_svg(&charts[6], 520.0, 360.0).unwrap();
    let t = texts(&heat);
    for want in ["0.50", "\u{2212}0.25", "0.00", "1.00", "\u{2212}1.00"] {
        assert!(
            t.iter().any(|s| s == want),
            "heat map value {want:?} missing"
        );
    }
    assert!(!t.iter().any(|s| s.contains("NaN")));
    // category labels are escaped
    let bars = to_svg(&charts[2], 520.0, 360.0).unwrap();
    assert!(bars.contains(">A &amp; B</text>"));
    assert!(
        texts(&bars).iter().any(|s| s == "\u{2212}0.10"),
        "value label of the negative bar"
    );
}

#[test]
fn png_shows_background_and_series_colour_where_the_svg_puts_them() {
    // one bar filling category 0 from 0 to 1 on a fixed 0..1 axis: the bar covers the middle 80 %
    // (group width 0.8 of the category, 0.92 of that drawn) horizontally and the full height
    let blue = Rgba::hex(0x0072b2);
    let c = Chart::new(
        "",
        Axis::categories("", ["only"]),
        Axis::linear("v", None).with_range(0.0, 1.0),
    )
    .with_series(Series::bars("", vec![(0.0, 1.0)]).with_color(blue))
    .with_series(Series::line("", vec![(-0.5, 0.5), (0.5, 0.5)]).with_color(Rgba::hex(0xd55e00)));
    let svg = to_svg(&c, 400.0, 300.0).unwrap();
    let (x, y, w, h) = plot_rect(&svg);
    let img = decode(&to_png(&c, 400.0, 300.0, 2.0).unwrap());
    let s = 2.0;
    // bar: at 1/4 of the plot height (value 0.75), horizontally centred
    assert_eq!(img.at((x + w / 2.0) * s, (y + h * 0.25) * s), blue);
    // the line at value 0.5, 1.8 px wide: its centre row is fully covered
    assert_eq!(
        img.at((x + w / 2.0) * s, (y + h * 0.5) * s),
        Rgba::hex(0xd55e00)
    );
    // plot background beside the bar (5 % from the left edge, outside the 10–90 % bar): white
    assert_eq!(img.at((x + w * 0.05) * s, (y + h * 0.25) * s), Rgba::WHITE);
    // left of the plot at the axis line: the axis colour (#333333), 1 px wide at x
    let axis = img.at((x) * s, (y + h * 0.6) * s);
    assert!(
        axis.r < 0x80 && axis.r == axis.g && axis.g == axis.b,
        "axis pixel {axis:?}"
    );
}

#[test]
fn png_text_is_drawn() {
    // a chart whose only dark pixels right of the plot would be the y2 tick labels: check that text
    // rasterises (some pixels in the title band are dark)
    let c = Chart::new("TITLE", Axis::linear("x", None), Axis::linear("y", None))
        .with_series(Series::line("", vec![(0.0, 0.0), (1.0, 1.0)]));
    let img = decode(&to_png(&c, 300.0, 200.0, 2.0).unwrap());
    let dark = (0..img.w)
        .flat_map(|x| (0..40).map(move |y| (x, y)))
        .filter(|&(x, y)| img.at(x as f64, y as f64).r < 100)
        .count();
    assert!(dark > 100, "title glyphs should darken pixels ({dark})");
}

#[test]
fn auto_legend_avoids_data_and_goes_outside_when_needed() {
    // data only in the lower left: the legend takes the top-right corner, inside the plot
    let c = Chart::new(
        "",
        Axis::linear("x", None).with_range(0.0, 10.0),
        Axis::linear("y", None).with_range(0.0, 10.0),
    )
    .with_series(Series::line("low", vec![(0.0, 0.0), (3.0, 2.0)]));
    let svg = to_svg(&c, 500.0, 300.0).unwrap();
    let (x, y, w, _) = plot_rect(&svg);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let label = doc
        .descendants()
        .find(|n| n.has_tag_name("text") && n.text() == Some("low"))
        .unwrap();
    assert!(
        attr(&label, "x") > x + w / 2.0 && attr(&label, "y") < y + 40.0,
        "legend in the top-right corner"
    );
    // data everywhere: the legend goes outside, right of the plot
    let full: Vec<(f64, f64)> = (0..=40)
        .map(|i| (i as f64 / 4.0, if i % 2 == 0 { 0.0 } else { 10.0 }))
        .collect();
    let c2 = Chart::new(
        "",
        Axis::linear("x", None).with_range(0.0, 10.0),
        Axis::linear("y", None).with_range(0.0, 10.0),
    )
    .with_series(Series::line("zigzag", full));
    let svg2 = to_svg(&c2, 500.0, 300.0).unwrap();
    let (x2, _, w2, _) = plot_rect(&svg2);
    let doc2 = roxmltree::Document::parse(&svg2).unwrap();
    let label2 = doc2
        .descendants()
        .find(|n| n.has_tag_name("text") && n.text() == Some("zigzag"))
        .unwrap();
    assert!(attr(&label2, "x") > x2 + w2, "legend outside the plot");
    // hidden legend: no entry text
    let c3 = c.clone().with_legend(Legend {
        position: LegendPosition::Hidden,
        title: None,
    });
    assert!(!texts(&to_svg(&c3, 500.0, 300.0).unwrap())
        .iter()
        .any(|t| t == "low"));
}

#[test]
fn long_category_labels_rotate() {
    let names = [
        "Changjiang Li Autonomous County",
        "Ma'anshan City",
        "Panzhihua City",
        "Huangshi City",
    ];
    let c = Chart::new("", Axis::categories("", names), Axis::linear("RSEI", None))
        .with_series(Series::bars("", (0..4).map(|i| (i as f64, 0.5)).collect()));
    let svg = to_svg(&c, 360.0, 300.0).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let label = doc
        .descendants()
        .find(|n| n.has_tag_name("text") && n.text() == Some(names[0]))
        .unwrap();
    assert!(
        label
            .attribute("transform")
            .is_some_and(|t| t.starts_with("rotate(-35")),
        "rotated label"
    );
}

#[test]
fn rendering_is_deterministic() {
    let c = line_chart();
    assert_eq!(
        to_svg(&c, 500.0, 300.0).unwrap(),
        to_svg(&c, 500.0, 300.0).unwrap()
    );
    assert_eq!(
        to_png(&c, 500.0, 300.0, 2.0).unwrap(),
        to_png(&c, 500.0, 300.0, 2.0).unwrap()
    );
}

#[test]
fn chart_errors_name_the_chart_and_problem() {
    let heat = Chart::new(
        "Correlations",
        Axis::categories("", ["a", "b"]),
        Axis::categories("", ["x"]),
    )
    .with_series(Series::heat_map(
        vec![vec![0.1, 0.2, 0.3]],
        (-1.0, 1.0),
        2,
        "",
    ));
    let e = to_svg(&heat, 400.0, 300.0).unwrap_err();
    assert!(matches!(e, ReportError::InvalidChart { .. }), "{e}");
    assert!(
        e.to_string().contains("Correlations") && e.to_string().contains("3 values"),
        "{e}"
    );

    let sec = Chart::new("P", Axis::linear("x", None), Axis::linear("y", None))
        .with_series(Series::line("m", vec![(0.0, 1.0)]).on_secondary_axis());
    assert!(to_svg(&sec, 400.0, 300.0)
        .unwrap_err()
        .to_string()
        .contains("secondary"));

    let empty = Chart::new("Empty", Axis::linear("x", None), Axis::linear("y", None))
        .with_series(Series::line("m", vec![(f64::NAN, 1.0)]));
    assert!(matches!(
        to_svg(&empty, 400.0, 300.0),
        Err(ReportError::NoData { .. })
    ));

    let ok = line_chart();
    assert!(matches!(
        to_svg(&ok, 50.0, 300.0),
        Err(ReportError::InvalidSize { .. })
    ));
    assert!(matches!(
        to_png(&ok, 400.0, 300.0, 0.0),
        Err(ReportError::InvalidSize { .. })
    ));
    assert!(matches!(
        to_png(&ok, 400.0, 300.0, f64::NAN),
        Err(ReportError::InvalidSize { .. })
    ));

    let hist = Chart::new("H", Axis::linear("x", None), Axis::linear("y", None))
        .with_series(Series::histogram("h", vec![0.0, 1.0], vec![1.0, 2.0]));
    assert!(to_svg(&hist, 400.0, 300.0)
        .unwrap_err()
        .to_string()
        .contains("one more edge"));

    let bx = Chart::new("B", Axis::categories("", ["a"]), Axis::linear("y", None)).with_series(
        Series::boxes(
            "b",
            vec![BoxItem {
                position: 0.0,
                min: 0.5,
                q1: 0.4,
                median: 0.6,
                q3: 0.7,
                max: 0.8,
                outliers: vec![],
            }],
        ),
    );
    assert!(to_svg(&bx, 400.0, 300.0)
        .unwrap_err()
        .to_string()
        .contains("not ordered"));

    let range = Chart::new(
        "R",
        Axis::linear("x", None).with_range(1.0, 1.0),
        Axis::linear("y", None),
    )
    .with_series(Series::line("m", vec![(0.0, 1.0)]));
    assert!(matches!(
        to_svg(&range, 400.0, 300.0),
        Err(ReportError::InvalidChart { .. })
    ));
}

fn grade_map() -> (Vec<f32>, usize, usize) {
    // 10 rows × 50 cols: five vertical stripes of 10 columns, one per grade (values 0.1, 0.3 … 0.9)
    let (rows, cols) = (10, 50);
    let v = (0..rows * cols)
        .map(|i| 0.1 + 0.2 * ((i % cols) / 10) as f32)
        .collect();
    (v, rows, cols)
}

#[test]
fn map_legend_and_raster_colours_equal_the_palette() {
    let (v, rows, cols) = grade_map();
    let style = MapStyle {
        title: "Grades".into(),
        cell_size_m: Some(500.0),
        ..MapStyle::default()
    };
    let svg = render_map_svg(&v, rows, cols, &style).unwrap();
    let png = render_map(&v, rows, cols, &style).unwrap();
    let img = decode(&png);
    let s = style.scale;
    let doc = roxmltree::Document::parse(&svg).unwrap();
    // legend swatches: five filled rectangles in the grade colours, top = excellent
    let swatches: Vec<(Rgba, f64, f64)> = group_children(&doc, "legend")
        .into_iter()
        .filter(|n| n.has_tag_name("path") && n.attribute("fill").is_some_and(|f| f != "none"))
        .map(|n| {
            let fill = n.attribute("fill").unwrap();
            let c = Rgba::hex(u32::from_str_radix(&fill[1..], 16).unwrap());
            // "Mx yL…": centre of a swatch 18 × 12 px from its top-left corner
            let d = n.attribute("d").unwrap();
            let xy: Vec<f64> = d[1..]
                .split('L')
                .next()
                .unwrap()
                .split(' ')
                .map(|t| t.parse().unwrap())
                .collect();
            (c, xy[0] + 9.0, xy[1] + 6.0)
        })
        .collect();
    let mut want: Vec<Rgba> = RSEI_GRADE_COLORS.to_vec();
    want.reverse();
    assert_eq!(swatches.iter().map(|s| s.0).collect::<Vec<_>>(), want);
    for (c, x, y) in &swatches {
        assert_eq!(img.at(x * s, y * s), *c, "PNG legend swatch at ({x}, {y})");
    }
    // raster: the embedded image's stripe centres show the grade colours
    let image = doc.descendants().find(|n| n.has_tag_name("image")).unwrap();
    let (ix, iy, iw, ih) = (
        attr(&image, "x"),
        attr(&image, "y"),
        attr(&image, "width"),
        attr(&image, "height"),
    );
    assert!(image
        .attribute((("http://www.w3.org/1999/xlink"), "href"))
        .unwrap()
        .starts_with("data:image/png;base64,"));
    for (k, c) in RSEI_GRADE_COLORS.iter().enumerate() {
        let x = ix + iw * (k as f64 * 0.2 + 0.1);
        assert_eq!(img.at(x * s, (iy + ih / 2.0) * s), *c, "stripe {k}");
    }
    // legend text and scale bar: 50 cells × 500 m = 25 km wide; a third = 8.3 km → 5 km bar
    let t = texts(&svg);
    assert!(
        t.iter().any(|s| s == "Poor (0.0–0.2)") && t.iter().any(|s| s == "Excellent (0.8–1.0)")
    );
    assert!(
        t.iter().any(|s| s == "5") && t.iter().any(|s| s == "2.5") && t.iter().any(|s| s == "km")
    );
}

#[test]
fn map_water_nodata_outlines_and_large_rasters() {
    let (rows, cols) = (40, 60);
    let mut v = vec![0.5f32; rows * cols];
    let mut water = vec![false; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            if c < 10 {
                v[r * cols + c] = f32::NAN;
            }
            if c >= 50 {
                water[r * cols + c] = true;
            }
        }
    }
    let outline = Outline {
        rings: vec![vec![(20.0, 10.0), (40.0, 10.0), (40.0, 30.0), (20.0, 30.0)]],
        color: Rgba::hex(0x000000),
        width: 1.5,
        label: Some("Mine".into()),
    };
    let style = MapStyle {
        water_mask: Some(&water),
        outlines: vec![outline],
        ..MapStyle::default()
    };
    let svg = render_map_svg(&v, rows, cols, &style).unwrap();
    let img = decode(&render_map(&v, rows, cols, &style).unwrap());
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let image = doc.descendants().find(|n| n.has_tag_name("image")).unwrap();
    let (ix, iy, iw, ih) = (
        attr(&image, "x"),
        attr(&image, "y"),
        attr(&image, "width"),
        attr(&image, "height"),
    );
    let px = |cx: f64, cy: f64| img.at((ix + iw * cx) * 2.0, (iy + ih * cy) * 2.0);
    assert_eq!(px(5.0 / 60.0, 0.5), style.nodata_color, "nodata column");
    assert_eq!(px(55.0 / 60.0, 0.5), style.water_color, "water column");
    assert_eq!(
        px(15.0 / 60.0, 0.9),
        RSEI_GRADE_COLORS[2],
        "moderate cell outside the outline"
    );
    // the outline's left edge (x = 20 cells) is drawn in black
    let edge = px(20.0 / 60.0, 0.5);
    assert!(edge.r < 60 && edge.g < 60, "outline pixel {edge:?}");
    let t = texts(&svg);
    for want in ["Water", "No data", "Mine", "N"] {
        assert!(t.iter().any(|s| s == want), "{want} in legend");
    }

    // a 2400 × 2400 raster is shown at 800 × 800 (k = 3)
    let n = 2400;
    let big = vec![0.7f32; n * n];
    let svg = render_map_svg(&big, n, n, &MapStyle::default()).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let image = doc.descendants().find(|n| n.has_tag_name("image")).unwrap();
    assert_eq!(
        (attr(&image, "width"), attr(&image, "height")),
        (800.0, 800.0)
    );
}

#[test]
fn map_continuous_palette_legend_has_ticks() {
    let (v, rows, cols) = grade_map();
    let style = MapStyle {
        palette: MapPalette::rsei_continuous(),
        legend_title: "RSEI".into(),
        ..MapStyle::default()
    };
    let t = texts(&render_map_svg(&v, rows, cols, &style).unwrap());
    for want in ["RSEI", "0.0", "0.2", "0.4", "0.6", "0.8", "1.0"] {
        assert!(t.iter().any(|s| s == want), "{want}");
    }
}

#[test]
fn writers_are_atomic_and_name_the_path_on_error() {
    let dir = temp_dir("writers");
    let mut t = Table::new(vec![Column::new("city"), Column::with_unit("mean", "RSEI")]);
    t.push_row(vec!["Handan, HE".into(), Cell::float(0.41234, 3)])
        .unwrap();
    write_csv(&dir.join("sub/t.csv"), &t).unwrap();
    write_json(&dir.join("t.json"), &t).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("sub/t.csv")).unwrap(),
        "city,mean (RSEI)\r\n\"Handan, HE\",0.412\r\n"
    );
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("t.json")).unwrap()).unwrap();
    assert_eq!(j[0]["mean"], 0.412);
    let svg = to_svg(&line_chart(), 400.0, 300.0).unwrap();
    write_svg(&dir.join("c.svg"), &svg).unwrap();
    write_png(
        &dir.join("c.png"),
        &to_png(&line_chart(), 400.0, 300.0, 1.0).unwrap(),
    )
    .unwrap();
    assert_eq!(std::fs::read_to_string(dir.join("c.svg")).unwrap(), svg);
    // no temporary files left behind
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    // a parent that is a file: the error names the path
    let blocked = dir.join("t.json").join("x.csv");
    let e = write_csv(&blocked, &t).unwrap_err();
    assert!(matches!(e, ReportError::Write { .. }));
    assert!(e.to_string().contains("x.csv"), "{e}");
    // a malformed table is refused before anything is written
    let bad = Table {
        columns: vec![Column::new("a")],
        rows: vec![vec![Cell::Int(1), Cell::Int(2)]],
    };
    assert!(matches!(
        write_csv(&dir.join("bad.csv"), &bad),
        Err(ReportError::RowLength { .. })
    ));
    assert!(!dir.join("bad.csv").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn raster_maps_and_map_coordinate_outlines() {
    use rsei_core::{Crs, GeoTransform, Grid, Raster};
    let gt = GeoTransform {
        x0: 500_000.0,
        dx: 500.0,
        y0: 4_000_000.0,
        dy: -500.0,
    };
    let grid = Grid::new(
        4,
        6,
        gt,
        Crs::new("+proj=aea +lat_0=30 +lon_0=95 +lat_1=15 +lat_2=65 +datum=WGS84 +units=m"),
    );
    let r = Raster::new(grid, vec![0.9f32; 24]).unwrap();
    let style = MapStyle {
        north_arrow: false,
        ..MapStyle::default()
    };
    let a = rsei_report::render_raster_map(&r, &style).unwrap();
    let b = render_map(&[0.9f32; 24], 4, 6, &style).unwrap();
    assert_eq!(a, b);
    // a ring around cells (row 1..3, col 2..4) in map metres → pixel corners (2, 1) and (4, 3)
    let o = Outline::from_map_coords(
        &[vec![(501_000.0, 3_999_500.0), (502_000.0, 3_998_500.0)]],
        &gt,
        Rgba::BLACK,
        1.0,
        None,
    );
    assert_eq!(o.rings[0], vec![(2.0, 1.0), (4.0, 3.0)]);
}

#[test]
fn extreme_values_outside_fixed_ranges_are_clipped_quickly() {
    // values 12 orders of magnitude beyond a fixed axis: drawn clipped, laid out without
    // stepping over the off-plot geometry
    let c = Chart::new(
        "far",
        Axis::linear("x", None).with_range(0.0, 1.0),
        Axis::linear("y", None).with_range(0.0, 1.0),
    )
    .with_series(Series::bars("b", vec![(0.5, 1e12), (0.6, -1e12)]))
    .with_series(Series::line("l", vec![(-1e12, -1e12), (1e12, 1e12)]))
    .with_series(Series::area("a", vec![(-1e9, 1e9), (1e9, 2e9)]));
    let t = std::time::Instant::now();
    let svg = to_svg(&c, 400.0, 300.0).unwrap();
    roxmltree::Document::parse(&svg).unwrap();
    let img = decode(&to_png(&c, 400.0, 300.0, 1.0).unwrap());
    assert_eq!((img.w, img.h), (400, 300));
    assert!(
        t.elapsed().as_secs_f64() < 10.0,
        "layout must not step over off-plot geometry"
    );
}

#[test]
fn hostile_inputs_give_results_or_errors_never_panics() {
    // a fixed-seed stream of ordinary and nasty numbers fed into every series kind
    let nasty = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        1e-300,
        5e-324,
        1e300,
        -1e300,
        f64::MAX,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e12,
        42.0,
    ];
    let mut state = 0x2545f4914f6cdd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..150 {
        let mut v = |n: usize| -> Vec<f64> {
            (0..n)
                .map(|_| {
                    let r = next();
                    if r % 3 == 0 {
                        nasty[(r / 3) as usize % nasty.len()]
                    } else {
                        (r % 1000) as f64 / 100.0 - 3.0
                    }
                })
                .collect()
        };
        let n = 1 + round % 7;
        let xs = v(n);
        let ys = v(n);
        let pts: Vec<(f64, f64)> = xs.iter().copied().zip(ys.iter().copied()).collect();
        let vals = v(8);
        let band: Vec<(f64, f64)> = pts.iter().map(|p| (p.1 - vals[0], p.1 + vals[1])).collect();
        let cats: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
        let charts = [
            Chart::new("line", Axis::linear("x", None), Axis::linear("y", None))
                .with_series(Series::line_with_band("l", pts.clone(), band)),
            Chart::new("scatter", Axis::linear("x", None), Axis::linear("y", None))
                .with_series(Series::scatter("s", pts.clone()).with_one_to_one()),
            Chart::new(
                "bars",
                Axis::categories("", cats.clone()),
                Axis::linear("y", None),
            )
            .with_series(
                Series::bars(
                    "b",
                    pts.iter()
                        .enumerate()
                        .map(|(i, p)| (i as f64, p.1))
                        .collect(),
                )
                .with_value_labels(2),
            ),
            Chart::new(
                "area",
                Axis::linear("x", None).with_range(0.0, 1.0),
                Axis::linear("y", None),
            )
            .with_series(Series::area("a", pts.clone())),
            Chart::new("hist", Axis::linear("x", None), Axis::linear("y", None)).with_series(
                Series::histogram(
                    "h",
                    xs.iter().copied().chain([vals[2]]).collect(),
                    ys.clone(),
                ),
            ),
            Chart::new("box", Axis::categories("", ["a"]), Axis::linear("y", None)).with_series(
                Series::boxes(
                    "b",
                    vec![BoxItem {
                        position: 0.0,
                        min: vals[0],
                        q1: vals[1],
                        median: vals[2],
                        q3: vals[3],
                        max: vals[4],
                        outliers: vec![vals[5]],
                    }],
                ),
            ),
            Chart::new(
                "heat",
                Axis::categories("", cats.clone()),
                Axis::categories("", ["r"]),
            )
            .with_series(Series::heat_map(
                vec![ys.clone()],
                (vals[6], vals[7]),
                3,
                "r",
            )),
            Chart::new("refs", Axis::linear("x", None), Axis::linear("y", None))
                .with_series(Series::line("l", pts.clone()))
                .with_annotation(Annotation::VLine {
                    x: vals[0],
                    label: "v".into(),
                })
                .with_annotation(Annotation::HLine {
                    y: vals[1],
                    label: "h".into(),
                    secondary: false,
                })
                .with_annotation(Annotation::Text {
                    x: vals[2],
                    y: vals[3],
                    text: "t".into(),
                }),
        ];
        for c in &charts {
            let w = [120.0, 300.0, 640.0][round % 3];
            if let Ok(svg) = to_svg(c, w, 240.0) {
                roxmltree::Document::parse(&svg)
                    .unwrap_or_else(|e| panic!("round {round} {}: {e}", c.title));
            }
            let _ = to_png(c, w, 240.0, 1.0);
        }
        // maps with junk values and outlines
        let mv: Vec<f32> = v(12).iter().map(|&x| x as f32).collect();
        let outline = Outline {
            rings: vec![pts.iter().map(|p| (p.0, p.1)).collect()],
            color: Rgba::BLACK,
            width: 1.0,
            label: None,
        };
        let style = MapStyle {
            outlines: vec![outline],
            cell_size_m: Some(vals[0].abs().max(1e-3)),
            ..MapStyle::default()
        };
        if let Ok(png) = render_map(&mv, 3, 4, &style) {
            let img = decode(&png);
            assert!(img.w > 0 && img.h > 0);
        }
    }
}
