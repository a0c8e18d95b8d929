//! The study report (`rsei report`) on a small synthetic study: two cities, RSEI 2019–2020, the
//! mining analysis and the drivers of 2019, run once through `rsei run` and shared by the tests.
//! Checks the structure (sections, figures and their SVGs per area, tables), that the numbers
//! shown are the ones in the outputs, that the page is self-contained and well-formed, that it
//! degrades when outputs are missing, that bad folders give clear errors, and — when Node and
//! Chromium are installed — what a browser shows (no console error, every figure and table in the
//! DOM, a full-page screenshot kept as `target/report-screenshot.png`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use rsei_pipeline::report_html::{write_report, ReportOptions};
use serde_json::Value;

mod common;
use common::*;

/// The two cities of the synthetic scene, their output folders and the report's ids for them.
const AREAS: [(&str, &str, &str); 2] = [("Demo City", "Demo_City", "demo-city"), ("Second City", "Second_City", "second-city")];

const STUDY: &str = r#"
[study]
name = "Report test (synthetic data)"
output = "results"
years = "2019-2020"

[data]
modis = "data/modis"
landcover = "data/landcover/MCD12Q1.A2020001.synthetic.061_LC_Type1.tif"

[[area]]
file = "data/vectors/city.geojson"
name_field = "name_en"

[rsei.water]
landcover_water_classes = [17, 11]

[rsei.output]
overviews = false

[mining]
mines = "data/vectors/mines.geojson"
where = "\"Mine Type\" = 'mine boundary'"
id_field = "id"
name_field = "Mine Name"

[drivers]
year = 2019
dem = "data/drivers/dem_30s.tif"
barrier = "data/drivers/barrier.geojson"
ntree = 100

[drivers.rasters]
Prec = "data/drivers/prec_2019_*.tif"
GDP = "data/drivers/gdp_2019.tif"
NTL = "data/drivers/ntl_2019.tif"
Elec = "data/drivers/elec_2019.tif"
CO2 = "data/drivers/co2_2019.tif"
"PM2.5" = "data/drivers/pm25_2019.tif"
"#;

/// The results folder of the synthetic study (archive of the seasons 2018–2021, driver rasters,
/// `rsei run`), made once per test process.
fn results() -> &'static Path {
    static F: OnceLock<PathBuf> = OnceLock::new();
    F.get_or_init(|| {
        remove_stale_fixtures("rsei-report-fixture-");
        let root = std::env::temp_dir().join(format!("rsei-report-fixture-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let data = root.join("data");
        rsei_pipeline::demo::archive::generate_years(&data, 42, 2018, 2021).expect("generating the synthetic archive");
        rsei_pipeline::demo::drivers::generate(&data.join("drivers"), 42).expect("generating the synthetic drivers");
        let study = root.join("study.toml");
        std::fs::write(&study, STUDY).unwrap();
        let o = rsei(&["--quiet", "run", &study.display().to_string()]);
        assert!(o.status.success(), "rsei run failed: {}", text(&o));
        root.join("results")
    })
    .as_path()
}

/// The report of the shared results, written once (to a file beside them).
fn report() -> &'static str {
    static R: OnceLock<String> = OnceLock::new();
    R.get_or_init(|| {
        let p = write_report(results(), &ReportOptions::default()).expect("writing the report");
        assert_eq!(p, results().join("report.html"));
        std::fs::read_to_string(p).unwrap()
    })
}

// ---------------------------------------------------------------------------------------------
// A small HTML check: tags balanced outside SVG, each SVG well-formed XML, ids unique
// ---------------------------------------------------------------------------------------------

const VOID: [&str; 8] = ["meta", "br", "hr", "img", "input", "link", "wbr", "col"];

/// Checks that the HTML elements outside SVG are balanced (void elements excepted) and that every
/// SVG parses as XML whose `url(#…)` references point into itself. Returns the element names
/// seen.
fn check_html(html: &str) -> BTreeSet<String> {
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"), "document start");
    let mut stack: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut i = 0;
    let b = html.as_bytes();
    while let Some(k) = html[i..].find('<') {
        let at = i + k;
        let rest = &html[at..];
        if rest.starts_with("<!DOCTYPE") {
            i = at + rest.find('>').unwrap() + 1;
            continue;
        }
        if rest.starts_with("<!--") {
            i = at + rest.find("-->").expect("unclosed comment") + 3;
            continue;
        }
        if rest.starts_with("<svg") {
            let end = at + rest.find("</svg>").unwrap() + 6;
            let svg = &html[at..end];
            let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("SVG at byte {at} is not well-formed: {e}\n{}", &svg[..svg.len().min(300)]));
            assert_eq!(doc.root_element().tag_name().name(), "svg");
            let ids: BTreeSet<&str> = doc.descendants().filter_map(|n| n.attribute("id")).collect();
            for part in svg.split("url(#").skip(1) {
                let id = &part[..part.find(')').unwrap()];
                assert!(ids.contains(id), "url(#{id}) points outside its SVG");
            }
            seen.insert("svg".to_string());
            i = end;
            continue;
        }
        let close = rest.starts_with("</");
        let name_start = at + if close { 2 } else { 1 };
        let mut e = name_start;
        while e < b.len() && (b[e].is_ascii_alphanumeric()) {
            e += 1;
        }
        let name = html[name_start..e].to_ascii_lowercase();
        assert!(!name.is_empty(), "a stray '<' at byte {at}: {:?}", &html[at..(at + 40).min(html.len())]);
        let gt = at + rest.find('>').expect("unclosed tag");
        if close {
            let top = stack.pop().unwrap_or_else(|| panic!("</{name}> without an open element"));
            assert_eq!(top, name, "</{name}> closes <{top}> at byte {at}");
        } else if name == "style" {
            i = at + rest.find("</style>").expect("unclosed style") + 8;
            seen.insert(name);
            continue;
        } else if !VOID.contains(&name.as_str()) {
            assert!(!html[at..gt].ends_with('/'), "self-closing <{name}/> in HTML");
            stack.push(name.clone());
        }
        seen.insert(name);
        i = gt + 1;
    }
    assert!(stack.is_empty(), "elements left open: {stack:?}");
    // ids unique over the page
    let mut ids = BTreeSet::new();
    for part in html.split(" id=\"").skip(1) {
        let id = &part[..part.find('"').unwrap()];
        assert!(ids.insert(id.to_string()), "id {id:?} used twice");
    }
    seen
}

/// The part of the page from the element with `id` to the next `</table>` (tables) or the end of
/// its figure.
fn block<'a>(html: &'a str, id: &str) -> &'a str {
    let i = html.find(&format!(" id=\"{id}\"")).unwrap_or_else(|| panic!("no element with id {id:?}"));
    let rest = &html[i..];
    let end = ["</table>", "</figure>"].iter().filter_map(|e| rest.find(e)).min().unwrap_or(rest.len());
    &rest[..end]
}

/// The section of an area, up to the next area section or the cross-area section.
fn area_part<'a>(html: &'a str, id: &str) -> &'a str {
    let open = format!("<section id=\"{id}\" class=\"area page-break\">");
    let start = html.find(&open).unwrap_or_else(|| panic!("no area section {id}"));
    let body = start + open.len();
    let rest = &html[body..];
    let end = [rest.find("class=\"area page-break\">"), rest.find("<section id=\"across\"")].into_iter().flatten().min().unwrap_or(rest.len());
    &html[start..body + end]
}

/// A number as the report prints it in tables: fixed decimals, typographic minus.
fn shown(v: f64, d: usize) -> String {
    let s = format!("{v:.d$}");
    let s = if s.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') { s.trim_start_matches('-').to_string() } else { s };
    s.replacen('-', "\u{2212}", 1)
}

fn svg_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|rd| rd.flatten().filter(|e| e.path().extension().is_some_and(|x| x == "svg")).count()).unwrap_or(0)
}

/// The ids of every figure and table of the page.
fn figure_and_table_ids(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for pat in ["<figure id=\"", "<div class=\"table-block\" id=\""] {
        for part in html.split(pat).skip(1) {
            out.push(part[..part.find('"').unwrap()].to_string());
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn report_has_every_section_figure_and_table() {
    let out = results();
    let html = report();
    let elements = check_html(html);
    for e in ["html", "head", "body", "main", "nav", "section", "figure", "figcaption", "table", "thead", "tbody", "svg"] {
        assert!(elements.contains(e), "no <{e}>");
    }
    // self-contained: no resource outside the file, no script
    for bad in ["http://", "https://", "<link", "<script", " src=", "@import", "url(http", "xlink:href", "<iframe", "<object"] {
        assert!(!html.contains(bad), "the page contains {bad:?}");
    }
    // sections: methods (with mining and drivers), one per area, across, references
    for id in ["methods", "methods-data", "methods-qa", "methods-indicators", "methods-rsei", "methods-mining", "methods-drivers", "methods-software", "across", "references"] {
        assert!(html.contains(&format!("<section id=\"{id}\"")), "section {id}");
    }
    assert!(html.contains("<nav class=\"toc\""), "table of contents");
    assert!(html.contains("@media print") && html.contains("size: A4") && html.contains("section.area, section.page-break { break-before: page; }"));
    for (name, folder, id) in AREAS {
        let part = area_part(html, id);
        assert!(part.contains("<h2><span class=\"secnum\">") && part.contains(&format!("{name}</h2>")), "{name}: heading");
        for sub in ["maps", "time", "pca", "mining", "drivers", "notes"] {
            assert!(part.contains(&format!("<section id=\"{id}-{sub}\"")), "{name}: subsection {sub}");
        }
        // figures: maps of the first and last year (2 SVGs), the series, the distributions, every
        // figure of the mining folder and of the area's driver folder
        let mining_svgs = svg_files(&out.join(folder).join("mining"));
        let driver_svgs = svg_files(&out.join(folder).join("drivers"));
        assert_eq!(mining_svgs, 6, "{name}: the mining analysis draws five figures and a map");
        assert_eq!(driver_svgs, 2, "{name}: the driver analysis draws importance and validation");
        // and two maps as PNG (prediction, residual), shown wrapped in SVG
        let driver_svgs = driver_svgs + 2;
        assert!(part.contains(&format!("<figure id=\"fig-{id}-prediction\"")));
        assert_eq!(block(part, &format!("fig-{id}-prediction")).matches("href=\"data:image/png;base64,").count(), 2);
        assert_eq!(part.matches("<svg").count(), 4 + mining_svgs + driver_svgs, "{name}: SVGs in the area section");
        for f in ["maps", "series", "distribution", "mines", "distance", "sizes", "latitude", "mine-map", "forest", "prediction"] {
            assert!(part.contains(&format!("<figure id=\"fig-{id}-{f}\"")), "{name}: figure {f}");
        }
        assert_eq!(block(part, &format!("fig-{id}-maps")).matches("<svg").count(), 2, "{name}: two maps");
        assert!(block(part, &format!("fig-{id}-maps")).contains("(a) 2019") && block(part, &format!("fig-{id}-maps")).contains("(b) 2020"));
        // the maps carry their raster as an embedded PNG, a legend and a scale bar
        let maps = block(part, &format!("fig-{id}-maps"));
        assert_eq!(maps.matches("href=\"data:image/png;base64,").count(), 2);
        assert!(maps.contains(">Excellent (0.8") && maps.contains(">km</text>") && maps.contains(">N</text>"), "{name}: legend, scale bar and north arrow");
        for t in ["grades", "pca", "qa", "mines", "drivers"] {
            assert!(part.contains(&format!("<div class=\"table-block\" id=\"tab-{id}-{t}\">")), "{name}: table {t}");
        }

        // the numbers are those of the outputs
        for year in [2019, 2020] {
            let s = json(&out.join(folder).join(year.to_string()).join("summary.json"));
            let pca = block(html, &format!("tab-{id}-pca"));
            for k in 0..4 {
                let v = s["model"]["pc1"][k].as_f64().unwrap();
                assert!(pca.contains(&format!(">{}</td>", shown(v, 3))), "{name} {year}: loading {k} = {v}");
            }
            let c = 100.0 * s["model"]["pc1_contribution"].as_f64().unwrap();
            assert!(pca.contains(&format!(">{}</td>", shown(c, 2))), "{name} {year}: contribution {c}");
            let mean = s["rsei_mean"].as_f64().unwrap();
            assert!(block(html, "tab-summary").contains(&format!(">{}</td>", shown(mean, 3))), "{name} {year}: mean RSEI {mean}");
            assert!(block(html, &format!("tab-{id}-grades")).contains(&format!(">{}</td>", shown(mean, 3))));
        }
        let d = json(&out.join(folder).join("drivers").join("summary.json"));
        let r2 = d["forest"]["r2"].as_f64().unwrap();
        assert!(block(html, "tab-rf").contains(&format!(">{}</td>", shown(r2, 3))), "{name}: forest R² {r2}");
        let p0 = &d["pearson"][0];
        let drivers = block(html, &format!("tab-{id}-drivers"));
        assert!(drivers.contains(&format!(">{}</th><td class=\"num\">{}</td>", p0["driver"].as_str().unwrap(), shown(p0["r"].as_f64().unwrap(), 3))), "{name}: Pearson r of the first driver");
        let m = json(&out.join(folder).join("mining").join("summary.json"));
        let diff = m["mean_abs_diff"].as_f64().unwrap();
        assert!(part.contains(&format!("averaged {}", shown(diff, 3))), "{name}: mean |mines − city| {diff}");
    }
    // across the areas
    for id in ["tab-summary", "tab-rf", "tab-ranking", "tab-drivers"] {
        assert!(html.contains(&format!("<div class=\"table-block\" id=\"{id}\">")), "table {id}");
    }
    for id in ["fig-all-series", "fig-correlation", "fig-ranking"] {
        assert!(html.contains(&format!("<figure id=\"{id}\"")), "figure {id}");
    }
    let ranking = json(&out.join("drivers").join("manifest.json"))["ranking"].clone();
    let first = ranking[0]["name"].as_str().unwrap();
    assert!(block(html, "tab-ranking").contains(&format!("<tbody>\n<tr><th scope=\"row\" class=\"rowhead\">{first}</th>")), "the ranking starts with {first}");
    // total: 14 SVGs per area, the cross-area series, heat map and ranking
    assert_eq!(html.matches("<svg").count(), 2 * 14 + 3);

    // methods from the options actually used
    for s in [
        "0.1147\u{2009}\u{3c1}<sub>1</sub> + 0.2489",
        "\u{2212} 0.6416\u{2009}\u{3c1}<sub>6</sub>",
        "dated 1 June to 30 September of the years Y\u{2212}1, Y and Y+1",
        "<strong>mean</strong>",
        "loading(NDVI) + loading(WET) &gt; 0",
        "classes 17 and 11",
        "steps of 1.0 km up to 30 km",
        "degree 3",
        "ntree = 100, mtry = 3 and nodesize = 5",
        "(seed 1)",
        "The forests have 100 trees; the method&apos;s default",
        "MODLAND QA \u{2208} {0 (ideal), 1 (less than ideal)}",
        "Study \u{201c}Report test (synthetic data)\u{201d}",
    ] {
        assert!(html.contains(s), "methods: {s:?}");
    }
    // data provenance: the synthetic data are named as such, at the top and in the methods
    assert!(html.find("<p class=\"callout-title\">Synthetic data</p>").unwrap() < html.find("<nav class=\"toc\"").unwrap());
    assert!(html.contains("Data provenance: synthetic data") && html.contains("SYNTHETIC DATA generated by"));
    // every cross-reference resolved
    assert!(!html.contains("xref missing"));
    // no date: the same folder gives the same bytes
    let again = TempDir::new("again");
    let p = write_report(out, &ReportOptions { output: Some(again.path().join("r.html")), ..ReportOptions::default() }).unwrap();
    assert_eq!(std::fs::read_to_string(p).unwrap(), html, "two reports of the same folder differ");
}

#[test]
fn the_command_writes_the_report() {
    let t = TempDir::new("command");
    copy_dir(results(), t.path());
    let _ = std::fs::remove_file(t.path().join("report.html"));
    let o = rsei(&["report", &t.path().display().to_string()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("report written to"), "{}", text(&o));
    let html = std::fs::read_to_string(t.path().join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 2 * 14 + 3);
    // atomic write: no temporary file left beside it
    let leftovers: Vec<String> = std::fs::read_dir(t.path()).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.contains("report") && n != "report.html").collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn report_degrades_when_outputs_are_missing() {
    // RSEI only: the year folders and the run tables, no mining, no drivers
    let t = TempDir::new("rsei-only");
    for (_, folder, _) in AREAS {
        for year in ["2019", "2020"] {
            copy_dir(&results().join(folder).join(year), &t.path().join(folder).join(year));
        }
    }
    std::fs::copy(results().join("rsei_summary.json"), t.path().join("rsei_summary.json")).unwrap();
    let p = write_report(t.path(), &ReportOptions::default()).unwrap();
    let html = std::fs::read_to_string(p).unwrap();
    check_html(&html);
    for (name, _, id) in AREAS {
        let part = area_part(&html, id);
        assert_eq!(part.matches("<svg").count(), 4, "{name}: maps, series and distributions only");
        assert!(!part.contains(&format!("id=\"{id}-mining\"")) && !part.contains(&format!("id=\"{id}-drivers\"")));
        // the distributions fall back to the ten classes of the summaries
        assert!(block(part, &format!("fig-{id}-distribution")).contains("share of the pixels in each class of 0.1"));
        assert!(html.contains(&format!("<strong>{name}</strong>: RSEI 2019\u{2013}2020; no mining analysis (<code>rsei mining</code> writes it); no driver analysis (<code>rsei drivers</code> writes it).")));
    }
    for gone in ["methods-mining", "methods-drivers", "fig-correlation", "fig-ranking", "tab-rf", "tab-ranking"] {
        assert!(!html.contains(&format!("id=\"{gone}\"")), "{gone} should be left out");
    }
    assert!(html.contains("id=\"tab-summary\"") && html.contains("id=\"fig-all-series\""));
    assert!(!html.contains("xref missing"));

    // everything, but a figure of each pipeline removed, and one year's manifest
    let t = TempDir::new("partial");
    copy_dir(results(), t.path());
    std::fs::remove_file(t.path().join("Demo_City/mining/fig_latitude.svg")).unwrap();
    std::fs::remove_file(t.path().join("drivers/fig_ranking.svg")).unwrap();
    std::fs::remove_file(t.path().join("Second_City/drivers/fig_validation.svg")).unwrap();
    std::fs::remove_file(t.path().join("Second_City/2020/manifest.json")).unwrap();
    let html = std::fs::read_to_string(write_report(t.path(), &ReportOptions::default()).unwrap()).unwrap();
    check_html(&html);
    assert!(!html.contains("id=\"fig-demo-city-latitude\"") && html.contains("id=\"fig-second-city-latitude\""));
    assert!(!html.contains("id=\"fig-ranking\"") && html.contains("id=\"tab-ranking\""), "the ranking table stays");
    assert_eq!(block(&html, "fig-second-city-forest").matches("<svg").count(), 1);
    assert!(html.contains("Second City 2020: no manifest.json"), "an incomplete year is flagged");
    assert!(!html.contains("xref missing"));
}

#[test]
fn long_series_single_years_and_model_warnings() {
    // fourteen years made from the two computed ones (alternating), the last one with a PC1 that
    // loads LST positively and a model warning
    let t = TempDir::new("long");
    let area = t.path().join("Demo_City");
    for (k, year) in (2001..=2014).enumerate() {
        let src = results().join("Demo_City").join(if k % 2 == 0 { "2019" } else { "2020" });
        let dst = area.join(year.to_string());
        copy_dir(&src, &dst);
        let mut s = json(&dst.join("summary.json"));
        s["year"] = year.into();
        if year == 2014 {
            s["model"]["pc1"][3] = 0.512.into();
            s["model"]["warnings"] = serde_json::json!(["LST loads positively (0.512) after orientation"]);
        }
        std::fs::write(dst.join("summary.json"), serde_json::to_vec_pretty(&s).unwrap()).unwrap();
    }
    let html = std::fs::read_to_string(write_report(t.path(), &ReportOptions::default()).unwrap()).unwrap();
    check_html(&html);
    // more than twelve years: Table A1 transposed, one row per year, the warned year marked
    let pca = block(&html, "tab-demo-city-pca");
    assert!(pca.contains("<thead><tr><th scope=\"col\">Year</th><th scope=\"col\">NDVI</th>"), "transposed header");
    assert_eq!(pca.matches("<tr><th scope=\"row\"").count(), 14);
    assert!(pca.contains(">2014\u{2020}</th>") && !pca.contains(">2013\u{2020}</th>"));
    assert!(pca.contains("<td class=\"num warn\">0.512</td>"), "the positive LST loading is shaded");
    assert_eq!(pca.matches("warn").count(), 1);
    assert!(html.contains("\u{2020} 2014: LST loads positively (0.512) after orientation"));
    assert!(html.contains("<strong>In 2014 the orientation of PC1 is questionable</strong>"));
    // maps of the first and last year, a linear trend over the fourteen yearly means
    assert!(block(&html, "fig-demo-city-maps").contains("(a) 2001") && block(&html, "fig-demo-city-maps").contains("(b) 2014"));
    let summary = block(&html, "tab-summary");
    assert_eq!(summary.matches("<th scope=\"row\"").count(), 14 + 4);
    assert!(!summary.contains("Trend (per decade)</th><td class=\"missing\">"), "a trend over 14 years");

    // one area, one year: one map, no trend
    let t = TempDir::new("one-year");
    copy_dir(&results().join("Second_City/2020"), &t.path().join("Second_City/2020"));
    let html = std::fs::read_to_string(write_report(t.path(), &ReportOptions::default()).unwrap()).unwrap();
    check_html(&html);
    assert_eq!(block(&html, "fig-second-city-maps").matches("<svg").count(), 1);
    assert!(html.contains("RSEI grades of Second City in 2020"));
    assert!(block(&html, "tab-summary").contains("Trend (per decade)</th><td class=\"missing\">"));
    assert!(!html.contains("id=\"fig-all-series\""), "one area: no cross-area series");
    assert!(!html.contains("xref missing"));
}

#[test]
fn bad_folders_give_clear_errors() {
    let t = TempDir::new("bad");
    let missing = t.path().join("nothing-here");
    let o = rsei(&["report", &missing.display().to_string()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("nothing-here: not a folder"), "{}", text(&o));

    let empty = t.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = rsei(&["report", &empty.display().to_string()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no RSEI results"), "{}", text(&o));
    assert!(!empty.join("report.html").exists());

    // a damaged summary is named, and nothing is written
    let broken = t.path().join("broken");
    copy_dir(&results().join("Demo_City/2019"), &broken.join("Demo_City/2019"));
    std::fs::write(broken.join("Demo_City/2019/summary.json"), "{\"area\": \"Demo City\", \"year\": 2019").unwrap();
    let o = rsei(&["report", &broken.display().to_string()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("Demo_City/2019/summary.json") && text(&o).contains("unexpected content"), "{}", text(&o));
    assert!(!broken.join("report.html").exists());

    // a missing raster: the map is replaced by a note naming the file, the rest is written
    let noraster = t.path().join("noraster");
    copy_dir(&results().join("Demo_City/2019"), &noraster.join("Demo_City/2019"));
    copy_dir(&results().join("Demo_City/2020"), &noraster.join("Demo_City/2020"));
    std::fs::remove_file(noraster.join("Demo_City/2020/rsei.tif")).unwrap();
    let html = std::fs::read_to_string(write_report(&noraster, &ReportOptions::default()).unwrap()).unwrap();
    check_html(&html);
    assert!(html.contains("Maps not drawn") && html.contains("2020/rsei.tif"), "the missing raster is named");
    assert_eq!(block(&html, "fig-demo-city-maps").matches("<svg").count(), 1);
}

fn found(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd).args(args).output().is_ok_and(|o| o.status.success())
}

#[test]
fn report_in_a_browser() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() || !found("node", &["--version"]) {
        println!("SKIPPED: the browser check needs node and Chromium ({chromium}; Debian: apt-get install chromium nodejs npm)");
        return;
    }
    let browser = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("browser");
    if !browser.join("node_modules").join("playwright-core").is_dir() {
        let o = Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&browser).output();
        match o {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                println!("SKIPPED: `npm ci` in {} failed (offline?): {}", browser.display(), text(&o));
                return;
            }
            Err(e) => {
                println!("SKIPPED: npm not runnable: {e}");
                return;
            }
        }
    }
    let html = report();
    let t = TempDir::new("browser");
    let page = t.path().join("report.html");
    std::fs::write(&page, html).unwrap();
    let ids = figure_and_table_ids(html);
    assert!(ids.len() >= 2 * 15 + 7, "{} figures and tables", ids.len());
    let expect = serde_json::json!({"ids": ids, "svg_count": html.matches("<svg").count()});
    std::fs::write(t.path().join("expect.json"), expect.to_string()).unwrap();
    let shot = t.path().join("report-screenshot.png");
    let pdf = t.path().join("report-print.pdf");
    let o = Command::new("node")
        .arg(browser.join("check.mjs"))
        .args([&page, &shot, &t.path().join("expect.json"), &pdf])
        .env("CHROMIUM", &chromium)
        .output()
        .expect("running node");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let line = out.lines().last().unwrap_or_default();
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("no result line from check.mjs ({e}): {}", text(&o)));
    assert!(o.status.success() && v["ok"] == true, "browser check failed: {}", text(&o));
    assert_eq!(v["svg_count"], expect["svg_count"]);
    assert_eq!(v["title"], "Ecological quality of Demo City and Second City, 2019\u{2013}2020");
    // the screenshot is a PNG of the whole page (much taller than wide), kept for people to look at
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let (w, h) = (u32::from_be_bytes(png[16..20].try_into().unwrap()), u32::from_be_bytes(png[20..24].try_into().unwrap()));
    assert_eq!(w, 1280);
    assert!(h > 10 * w, "full page: {w}×{h}");
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().to_path_buf();
    std::fs::copy(&shot, target.join("report-screenshot.png")).unwrap();
    std::fs::copy(&pdf, target.join("report-print.pdf")).unwrap();
    println!("screenshot: {} ({w}×{h}); print: {}", target.join("report-screenshot.png").display(), target.join("report-print.pdf").display());
}
