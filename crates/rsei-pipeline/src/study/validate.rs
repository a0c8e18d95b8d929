//! `rsei validate`: checks a study file and its inputs before a long run, listing every problem
//! at once with its line and column.
//!
//! 1. **Syntax** (`toml_edit`): a syntax error stops here (TOML cannot be read past it).
//! 2. **Keys and values**: every table is walked against the keys of its typed sections
//!    ([`super::walk`]): unknown keys with a "did you mean", values their type refuses, then the
//!    options' own rules (`validate()` of the RSEI, mining and driver options; CRSs understood by PROJ).
//! 3. **Inputs**: files and folders exist; the areas load (filter, name field) and hold at least
//!    one 500 m cell; area names are unique and give distinct output folders; the mine layer holds
//!    polygons; the driver files exist and their names are valid; the driver year is a study year.
//! 4. **Data** (one scan of the MODIS folders, or the inventory an earlier run of the same output
//!    folder saved for exactly the same files, sizes and times; with `[data.stac]`, the items of
//!    the catalogue's search, see [`super::stac`]): each area overlaps the tiles of the archive; each
//!    target year has granules of every product it needs in its composite window over the area
//!    (errors name the products and years); seasons or tiles missing from a window are warnings.
//!
//! Nothing is written. The result carries the typed plan (areas loaded, archive scanned) that
//! `rsei run` executes when there is no error.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use rsei_core::grid::modis;
use rsei_io::products::ProductKind;
use rsei_io::stack::DriverSource;
use rsei_io::vector::{FeatureFilter, VectorOptions};
use serde::de::DeserializeOwned;
use toml_edit::{ImDocument, Item, TableLike};

use super::diag::{self, Diagnostic};
use super::schema::{AreaEntry, DataSection, DriverKeys, MineKeys, MinesRef, StudySection, SECTIONS};
use super::stac::{CheckInput, SearchMode, StacPlan};
use super::walk::{item_span, key_span, unknown_key, value_span, walk_section, Part};
use crate::archive::Archive;
use crate::area::{load_areas, AreaSource, StudyArea};
use crate::compute::StudyGrid;
use crate::drivers::DriverRunOptions;
use crate::mining::{MineSource, MiningRunOptions};
use crate::options::{NdviSource, RseiRunOptions, RunInputs};

/// Folder (inside the output folder) holding the run's own state: the marker of a study output,
/// the checksum cache and the lock. Not an output: it is left out of output comparisons.
pub const STATE_DIR: &str = ".rsei";
/// The marker file of a study output folder (inside [`STATE_DIR`]).
pub const MARKER: &str = "study.json";

/// One study area to compute, with its years.
#[derive(Clone, Debug)]
pub struct PlannedArea {
    /// The area.
    pub area: StudyArea,
    /// The area on the native MODIS grids (500 m and 1 km) with its cells.
    pub study: StudyGrid,
    /// Its target years.
    pub years: Vec<i32>,
    /// The polygon file it came from.
    pub file: PathBuf,
}

/// The mining analysis of a study.
#[derive(Clone, Debug)]
pub struct MiningPlan {
    /// The mine polygons.
    pub mines: MineSource,
    /// Options of the analysis.
    pub options: MiningRunOptions,
}

/// The driver analysis of a study.
#[derive(Clone, Debug)]
pub struct DriversPlan {
    /// Driver year.
    pub year: i32,
    /// Driver rasters.
    pub rasters: Vec<DriverSource>,
    /// DEM (for DEM and slope).
    pub dem: Option<PathBuf>,
    /// Mine polygons (for DisM and MineA).
    pub mines: Option<MineSource>,
    /// Barrier line layer for DisM.
    pub barrier: Option<PathBuf>,
    /// Layer of the barrier file.
    pub barrier_layer: Option<String>,
    /// Options of the analysis.
    pub options: DriverRunOptions,
}

/// A checked study, ready to run: paths resolved, areas loaded, archive scanned.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Study name.
    pub name: String,
    /// The study file.
    pub study_file: PathBuf,
    /// Output folder (absolute).
    pub output: PathBuf,
    /// Data folders and land cover.
    pub inputs: RunInputs,
    /// Areas and their years.
    pub areas: Vec<PlannedArea>,
    /// Options of the RSEI chain.
    pub rsei: RseiRunOptions,
    /// Mining analysis, when the study has one.
    pub mining: Option<MiningPlan>,
    /// Driver analysis, when the study has one.
    pub drivers: Option<DriversPlan>,
    /// The analyses beyond the source study (`[timeseries]`, `[trend]`, …).
    pub analyses: super::analyses::AnalysesPlan,
    /// The inventory of the data folders.
    pub archive: Archive,
    /// How the archive was obtained (scan or cache).
    pub scan: ArchiveScan,
    /// The memory budget of the run (`[study] memory`).
    pub memory: crate::budget::MemoryBudget,
    /// The STAC catalogue of `[data.stac]`, when the study reads one (its granules join the
    /// archive when `rsei run` fetches them).
    pub stac: Option<StacPlan>,
    /// The Landsat / Sentinel-2 scenes of `[data] scenes`, when the study's RSEI comes from them.
    pub scenes: Option<ScenePlan>,
}

/// The scenes of a study (`[data] scenes`).
#[derive(Clone, Debug)]
pub struct ScenePlan {
    /// The scene folders.
    pub folders: Vec<PathBuf>,
    /// The usable scenes (profile of each from its metadata) and those left out.
    pub inventory: rsei_io::scenes::SceneInventory,
    /// QA rules and the heat of Sentinel-2.
    pub options: crate::scenes::SceneOptions,
}

/// The outcome of checking a study file.
pub struct Check {
    /// The study file.
    pub file: PathBuf,
    /// Its text.
    pub text: String,
    /// Every problem, sorted by place.
    pub diagnostics: Vec<Diagnostic>,
    /// The plan, when there is no error.
    pub plan: Option<Plan>,
}

impl Check {
    /// Number of errors.
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
    /// Number of warnings.
    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
    /// The printed report (every problem with its place, then the counts).
    pub fn report(&self) -> String {
        diag::render(&self.file, &self.text, &self.diagnostics)
    }
}

/// Lexically normalised path (`a/./b/../c` → `a/c`), without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `p` relative to `dir` (unless absolute), canonical when it exists.
pub fn resolve(dir: &Path, p: &Path) -> PathBuf {
    let joined = if p.is_absolute() { p.to_path_buf() } else { dir.join(p) };
    std::fs::canonicalize(&joined).unwrap_or_else(|_| normalize(&joined))
}

/// `1999–2001, 2005` from sorted years.
pub fn year_ranges(years: &[i32]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < years.len() {
        let mut j = i;
        while j + 1 < years.len() && years[j + 1] == years[j] + 1 {
            j += 1;
        }
        parts.push(if j > i { format!("{}–{}", years[i], years[j]) } else { years[i].to_string() });
        i = j + 1;
    }
    parts.join(", ")
}

fn tile_name(t: (i64, i64)) -> String {
    format!("h{:02}v{:02}", t.0, t.1)
}

/// State of the check of one file.
struct Ctx<'a> {
    text: &'a str,
    dir: PathBuf,
    diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn err(&mut self, span: Option<Range<usize>>, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(span, msg));
    }
    fn warn(&mut self, span: Option<Range<usize>>, msg: impl Into<String>) {
        self.diags.push(Diagnostic::warning(span, msg));
    }
    fn path(&self, p: &Path) -> PathBuf {
        resolve(&self.dir, p)
    }
    /// A file that must exist.
    fn file(&mut self, span: Option<Range<usize>>, what: &str, p: &Path) -> Option<PathBuf> {
        let r = self.path(p);
        if r.is_file() {
            return Some(r);
        }
        if r.is_dir() {
            self.err(span, format!("{what} {} is a folder, not a file", r.display()));
        } else {
            self.err(span, format!("{what} {} does not exist", r.display()));
        }
        None
    }
}

fn typed<T: DeserializeOwned>(t: &toml::Table) -> Option<T> {
    T::deserialize(toml::Value::Table(t.clone())).ok()
}

/// The span of the key (of `tbl`) named in an option error message, e.g. `ring_step_km` or
/// `composite.min_obs`: the longest dotted path of a present key found in the message.
fn span_named(tbl: &dyn TableLike, msg: &str) -> Option<Range<usize>> {
    fn paths(t: &dyn TableLike, prefix: &str, out: &mut Vec<(String, Option<Range<usize>>)>) {
        for (k, item) in t.iter() {
            let p = if prefix.is_empty() { k.to_string() } else { format!("{prefix}.{k}") };
            out.push((p.clone(), value_span(t, k)));
            if let Some(sub) = item.as_table_like() {
                paths(sub, &p, out);
            }
        }
    }
    let mut all = Vec::new();
    paths(tbl, "", &mut all);
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let found = |needle: &str| {
        msg.match_indices(needle).any(|(i, _)| {
            let before = msg[..i].chars().next_back().map_or(true, |c| !is_word(c));
            let after = msg[i + needle.len()..].chars().next().map_or(true, |c| !(c.is_alphanumeric() || c == '_'));
            before && after
        })
    };
    // the longest dotted suffix of a present key path named in the message ("mod09.max_cirrus"
    // names qa.mod09.max_cirrus)
    let mut best: Option<(usize, Option<Range<usize>>)> = None;
    for (p, span) in &all {
        let segs: Vec<&str> = p.split('.').collect();
        for k in 0..segs.len() {
            let suffix = segs[k..].join(".");
            if found(&suffix) && best.as_ref().map_or(true, |(n, _)| suffix.len() > *n) {
                best = Some((suffix.len(), span.clone()));
            }
        }
    }
    best.and_then(|(_, s)| s)
}

/// Checks a CRS definition with PROJ.
fn check_crs(def: &str) -> Result<(), String> {
    rsei_io::crs::normalize_crs(&rsei_core::Crs::new(def)).map(|_| ()).map_err(|e| e.to_string())
}

/// How [`check_with`] checks.
#[derive(Clone, Copy, Default)]
pub struct CheckSettings<'a> {
    /// How the catalogue of `[data.stac]` is searched (default: the cached answer when there is one).
    pub search: SearchMode,
    /// Told about the search of a catalogue (`None`: nothing is told).
    pub progress: Option<&'a dyn crate::progress::Progress>,
}

/// Checks the study file `file`; `output` overrides its `[study] output`. A catalogue
/// (`[data.stac]`) is searched only when the cache does not hold the answer.
pub fn check(file: &Path, output: Option<&Path>) -> Check {
    check_with(file, output, &CheckSettings::default())
}

/// As [`check`], with the settings of the check.
pub fn check_with(file: &Path, output: Option<&Path>, settings: &CheckSettings<'_>) -> Check {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            return Check { file: file.to_path_buf(), text: String::new(), diagnostics: vec![Diagnostic::error(None, format!("cannot read the study file: {e}"))], plan: None };
        }
    };
    let dir = std::fs::canonicalize(file).ok().and_then(|p| p.parent().map(Path::to_path_buf)).unwrap_or_else(|| PathBuf::from("."));
    let mut ctx = Ctx { text: &text, dir, diags: Vec::new() };
    let plan = check_text(&mut ctx, file, output, settings);
    let mut diagnostics = ctx.diags;
    diag::sort(&text, &mut diagnostics);
    let plan = if diagnostics.iter().any(Diagnostic::is_error) { None } else { plan };
    Check { file: file.to_path_buf(), text, diagnostics, plan }
}

/// The parts (typed key sets) of each section.
fn parts_of(section: &str) -> Vec<Part> {
    match section {
        "study" => vec![Part::of::<StudySection>()],
        "data" => vec![Part::from_sample(DataSection::with_every_key())],
        "area" => vec![Part::of::<AreaEntry>()],
        "rsei" => vec![Part::of::<RseiRunOptions>()],
        "mining" => vec![Part::of::<MineKeys>(), Part::of::<MiningRunOptions>()],
        "drivers" => vec![Part::of::<DriverKeys>().with_maps(&["rasters"]), Part::of::<DriverRunOptions>()],
        s => super::analyses::parts_of(s),
    }
}

/// A walked section: its table in the document, its typed parts (`None` when refused) and the
/// place of its header.
struct Section<'d> {
    tbl: Option<&'d dyn TableLike>,
    tables: Vec<toml::Table>,
    errors: usize,
    span: Option<Range<usize>>,
}

fn walk_named<'d>(ctx: &mut Ctx<'_>, root: &'d toml_edit::Table, vals: &toml::Table, name: &str) -> Section<'d> {
    let Some(item) = root.get(name) else { return Section { tbl: None, tables: Vec::new(), errors: 0, span: None } };
    let span = item_span(item).or_else(|| key_span(root, name));
    let (Some(tbl), Some(toml::Value::Table(vt))) = (item.as_table_like(), vals.get(name)) else {
        ctx.err(span.clone(), format!("`{name}` must be a table: write a [{name}] header and its keys below it"));
        return Section { tbl: None, tables: Vec::new(), errors: 1, span };
    };
    let w = walk_section(&format!("[{name}]"), tbl, vt, &parts_of(name), &mut ctx.diags);
    Section { tbl: Some(tbl), tables: w.tables, errors: w.errors, span }
}

/// An area loaded from its source, before its grid is made.
struct Candidate {
    area: StudyArea,
    years: Vec<i32>,
    file: PathBuf,
}

/// An area with the places of its `[[area]]` header and of its `years`.
type Planned = (Candidate, Option<Range<usize>>, Option<Range<usize>>);

struct AreaItem<'d> {
    tbl: &'d dyn TableLike,
    span: Option<Range<usize>>,
    entry: Option<AreaEntry>,
}

fn check_text(ctx: &mut Ctx<'_>, file: &Path, output: Option<&Path>, settings: &CheckSettings<'_>) -> Option<Plan> {
    let text = ctx.text.to_string();
    let doc = match ImDocument::parse(text.clone()) {
        Ok(d) => d,
        Err(e) => {
            let msg = e.message().trim().replace('\n', "; ");
            ctx.err(e.span(), format!("TOML syntax error: {msg} (nothing after it can be read)"));
            return None;
        }
    };
    let vals: toml::Table = match toml::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            ctx.err(e.span(), format!("TOML syntax error: {}", e.message().trim()));
            return None;
        }
    };
    let root = doc.as_table();

    // ---- top level: only the sections
    for (k, _) in root.iter() {
        if SECTIONS.contains(&k) {
            continue;
        }
        let owner = SECTIONS.iter().find(|s| parts_of(s).iter().any(|p| p.has(k)));
        let span = key_span(root, k);
        match owner {
            Some(s) if diag::suggest(k, SECTIONS).is_none() => {
                let header = if *s == "area" { "[[area]]".to_string() } else { format!("[{s}]") };
                ctx.err(span, format!("unknown key `{k}` at the top of the file; it belongs in {header} (write it below that header)"))
            }
            _ => ctx.diags.push(unknown_key("the study file (top level)", k, &SECTIONS, span)),
        }
    }

    // ---- sections
    let study = walk_named(ctx, root, &vals, "study");
    let data = walk_named(ctx, root, &vals, "data");
    super::stac::explain_misplaced_keys(&mut ctx.diags);
    let rsei = walk_named(ctx, root, &vals, "rsei");
    let mining = walk_named(ctx, root, &vals, "mining");
    let drivers = walk_named(ctx, root, &vals, "drivers");
    let mut areas: Vec<AreaItem<'_>> = Vec::new();
    match (root.get("area"), vals.get("area")) {
        (None, _) => ctx.err(None, "the study has no area: add an [[area]] table naming a polygon file (see docs/STUDY.md)"),
        (Some(Item::ArrayOfTables(arr)), Some(toml::Value::Array(va))) => {
            for (t, v) in arr.iter().zip(va) {
                let Some(vt) = v.as_table() else { continue };
                let w = walk_section("[[area]]", t, vt, &parts_of("area"), &mut ctx.diags);
                let entry = typed::<AreaEntry>(&w.tables[0]);
                areas.push(AreaItem { tbl: t, span: t.span(), entry });
            }
        }
        (Some(item), Some(toml::Value::Table(vt))) if item.is_table_like() => {
            // a single [area] table is read as one [[area]]
            if let Some(t) = item.as_table_like() {
                let w = walk_section("[area]", t, vt, &parts_of("area"), &mut ctx.diags);
                let entry = typed::<AreaEntry>(&w.tables[0]);
                areas.push(AreaItem { tbl: t, span: item_span(item).or_else(|| key_span(root, "area")), entry });
            }
        }
        (Some(item), _) => ctx.err(item_span(item).or_else(|| key_span(root, "area")), "`area` must be a list of tables: write each area as an [[area]] header with its keys"),
    }

    // ---- [study]
    let st: StudySection = study.tables.first().and_then(typed).unwrap_or_default();
    let name = st.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| file.file_stem().map_or_else(|| "study".to_string(), |s| s.to_string_lossy().into_owned()));
    let out_span = study.tbl.and_then(|t| value_span(t, "output"));
    let output = match output {
        Some(o) => std::env::current_dir().map(|c| resolve(&c, o)).unwrap_or_else(|_| o.to_path_buf()),
        None => ctx.path(st.output.as_deref().unwrap_or(Path::new("results"))),
    };
    check_output(ctx, &output, out_span.clone().or(study.span.clone()));
    let years_span = study.tbl.and_then(|t| value_span(t, "years"));
    let study_years: Option<Vec<i32>> = st.years.clone().map(|y| y.0);

    // ---- [rsei]
    let rsei_opts: Option<RseiRunOptions> = match rsei.tables.first() {
        Some(t) => typed(t),
        None => Some(RseiRunOptions::default()),
    };
    // the typed options exist when every known key has a valid value (unknown keys left out)
    let mut rsei_ok = rsei_opts.is_some();
    if let Some(o) = &rsei_opts {
        if let Err(e) = o.validate() {
            let span = rsei.tbl.and_then(|t| span_named(t, &e.to_string())).or(rsei.span.clone());
            ctx.err(span, format!("invalid [rsei] option: {e:#}"));
            rsei_ok = false;
        }
        if let Some(c) = &o.output.crs {
            if let Err(e) = check_crs(c) {
                let span = rsei.tbl.and_then(|t| t.get("output")).and_then(Item::as_table_like).and_then(|t| value_span(t, "crs")).or(rsei.span.clone());
                ctx.err(span, format!("[rsei.output] crs {c:?} is not a CRS PROJ understands: {e}"));
                rsei_ok = false;
            }
        }
    }
    // the data checks need valid options (composite window, platforms, NDVI source)
    let rsei_opts = if rsei_ok { rsei_opts } else { None };

    // ---- [data]
    let dt: DataSection = data.tables.first().and_then(typed).unwrap_or_default();
    let modis_span = data.tbl.and_then(|t| value_span(t, "modis"));
    let mut modis_dirs = Vec::new();
    match (&dt.modis, data.tbl) {
        (Some(ps), _) => {
            for p in &ps.0 {
                let r = ctx.path(p);
                if r.is_dir() {
                    modis_dirs.push(r);
                } else if r.exists() {
                    ctx.err(modis_span.clone(), format!("MODIS data folder {} is a file, not a folder", r.display()));
                } else {
                    ctx.err(modis_span.clone(), format!("MODIS data folder {} does not exist", r.display()));
                }
            }
        }
        (None, Some(_)) if data.errors == 0 && dt.stac.is_none() && dt.scenes.is_none() => ctx.err(
            data.span.clone(),
            "[data] needs `modis` (the folder(s) of MODIS granules), `scenes` (folders of Landsat C2 L2 / Sentinel-2 L2A scenes) or a [data.stac] table (a STAC catalogue: `url = …`)",
        ),
        (None, None) => ctx.err(None, "the study has no [data] table: add one with `modis = \"folder of MODIS granules\"` (or a [data.stac] table with the `url` of a STAC catalogue)"),
        _ => {}
    }
    let landcover = match (&dt.landcover, data.tbl) {
        (Some(p), Some(t)) => ctx.file(value_span(t, "landcover"), "land-cover raster", p),
        _ => None,
    };
    let scenes_span = data.tbl.and_then(|t| value_span(t, "scenes"));
    let mut scene_dirs = Vec::new();
    for p in dt.scenes.iter().flat_map(|ps| &ps.0) {
        let r = ctx.path(p);
        if r.is_dir() {
            scene_dirs.push(r);
        } else if r.exists() {
            ctx.err(scenes_span.clone(), format!("scene folder {} is a file, not a folder", r.display()));
        } else {
            ctx.err(scenes_span.clone(), format!("scene folder {} does not exist", r.display()));
        }
    }
    let mut scene_options = crate::scenes::SceneOptions::default();
    if let Some(h) = &dt.s2_heat {
        match crate::scenes::S2Heat::parse(h) {
            Ok(v) => scene_options.s2_heat = v,
            Err(_) => ctx.err(data.tbl.and_then(|t| value_span(t, "s2_heat")), format!("s2_heat {h:?}: expected \"mod11a2\" (MOD11A2 LST from the `modis` folders) or \"landsat\" (Landsat C2 L2SP scenes of the `scenes` folders)")),
        }
    }
    if dt.scenes.is_some() && dt.stac.is_some() {
        ctx.err(
            data.tbl.and_then(|t| key_span(t, "stac")).or(scenes_span.clone()),
            "`scenes` folders and [data.stac] cannot be combined in a study: take the scenes either from folders (`scenes`) or from a catalogue ([data.stac] with the scene collections landsat-c2-l2 / sentinel-2-l2a in `collections`), not both; MOD11A2 for Sentinel-2's heat may come from `modis` folders",
        );
    }
    let scene_plan = if dt.scenes.is_some() && !scene_dirs.is_empty() {
        match crate::scenes::scan(&scene_dirs) {
            Ok(inv) => {
                for r in &inv.rejected {
                    ctx.warn(scenes_span.clone(), format!("{}: not used: {}", r.path.display(), r.reason));
                }
                if inv.scenes.is_empty() {
                    let dirs: Vec<String> = scene_dirs.iter().map(|d| d.display().to_string()).collect();
                    ctx.err(scenes_span.clone(), format!("no usable Landsat C2 L2 or Sentinel-2 L2A scene in {}", dirs.join(", ")));
                    None
                } else {
                    Some(ScenePlan { folders: scene_dirs.clone(), inventory: inv, options: scene_options.clone() })
                }
            }
            Err(e) => {
                ctx.err(scenes_span.clone(), format!("cannot scan the scene folders: {e:#}"));
                None
            }
        }
    } else {
        None
    };

    // ---- [[area]]: sources, names, cells
    let mut planned: Vec<Planned> = Vec::new();
    for a in &areas {
        let Some(e) = &a.entry else { continue };
        let file_span = value_span(a.tbl, "file");
        let Some(f) = &e.file else {
            ctx.err(a.span.clone(), "[[area]] needs `file`: the polygon file of the area(s)");
            continue;
        };
        let Some(path) = ctx.file(file_span.clone(), "area file", f) else { continue };
        let years_of = e.years.clone().map(|y| y.0).or_else(|| study_years.clone());
        let area_years_span = value_span(a.tbl, "years").or(years_span.clone());
        let Some(years) = years_of else {
            ctx.err(a.span.clone(), "no target years: give `years` in [study] (or in this [[area]])");
            continue;
        };
        if e.dissolve.is_some() && e.name_field.is_some() {
            ctx.warn(value_span(a.tbl, "name_field"), "`name_field` is not used when `dissolve` names the merged area");
        }
        if let Some(c) = &e.crs {
            if let Err(msg) = check_crs(c) {
                ctx.err(value_span(a.tbl, "crs"), format!("crs {c:?} is not a CRS PROJ understands: {msg}"));
                continue;
            }
        }
        let src = AreaSource {
            path: path.clone(),
            layer: e.layer.clone(),
            filter: e.where_.clone().map(FeatureFilter::Where),
            name_field: e.name_field.clone(),
            dissolve_as: e.dissolve.clone(),
            assume_crs: e.crs.clone(),
        };
        let loaded = match load_areas(&src) {
            Ok(v) => v,
            Err(err) => {
                let msg = format!("{err:#}");
                let span = if msg.contains("attribute") { value_span(a.tbl, "name_field") } else if e.where_.is_some() && (msg.contains("SQL") || msg.to_lowercase().contains("filter") || msg.contains("where")) { value_span(a.tbl, "where") } else { None };
                ctx.err(span.or(file_span.clone()), format!("cannot read the study areas: {msg}"));
                continue;
            }
        };
        if loaded.is_empty() {
            let how = e.where_.as_ref().map_or_else(String::new, |w| format!(" matching `{w}`"));
            ctx.err(value_span(a.tbl, "where").or(file_span.clone()), format!("{}: no polygon feature{how}", path.display()));
            continue;
        }
        let mut notes_seen = BTreeSet::new();
        for area in loaded {
            for n in &area.notes {
                if notes_seen.insert(n.clone()) {
                    ctx.warn(file_span.clone(), format!("{}: {n}", path.display()));
                }
            }
            planned.push((Candidate { area, years: years.clone(), file: path.clone() }, a.span.clone(), area_years_span.clone()));
        }
    }
    // names: duplicates, shared folders, reserved names
    let mut by_folder: BTreeMap<String, (String, Option<Range<usize>>)> = BTreeMap::new();
    for (p, span, _) in &planned {
        let slug = p.area.slug();
        let key = slug.to_lowercase();
        if slug == crate::drivers::RUN_FOLDER || slug.starts_with('.') {
            ctx.err(span.clone(), format!("area name {:?} gives the output folder {slug:?}, which the study uses for itself: rename the area", p.area.name));
            continue;
        }
        match by_folder.get(&key) {
            Some((other, other_span)) => {
                let line = other_span.as_ref().map(|s| diag::line_col(ctx.text, s.start).line);
                let at = line.map_or_else(String::new, |l| format!(" (the [[area]] at line {l})"));
                if *other == p.area.name {
                    ctx.err(span.clone(), format!("duplicate area name {:?}: another area has the same name{at}; areas must have unique names (use `name_field`, `where` or `dissolve`)", p.area.name));
                } else {
                    ctx.err(span.clone(), format!("area names {other:?}{at} and {:?} overlap: both write to the output folder {slug:?}; rename one", p.area.name));
                }
            }
            None => {
                by_folder.insert(key, (p.area.name.clone(), span.clone()));
            }
        }
    }
    // cells on the grid
    let clip = rsei_opts.as_ref().map(|o| o.clip_rule).unwrap_or_default();
    let mut grids: Vec<Option<StudyGrid>> = Vec::new();
    for (p, span, _) in &planned {
        match crate::run::study_grid(&p.area, clip) {
            Ok(g) => grids.push(Some(g)),
            Err(e) => {
                ctx.err(span.clone(), format!("area {:?}: {e:#}", p.area.name));
                grids.push(None);
            }
        }
    }

    // ---- archive: one scan (or the inventory of an earlier run over the same files), then data
    // for every area and year
    let listing = listing_hash(&modis_dirs);
    let mut archive = Archive { folders: modis_dirs.clone(), ..Archive::default() };
    let mut scan = ArchiveScan { listing: listing.clone(), from_cache: false, complete: true };
    match cached_inventory(&output, &modis_dirs, listing.as_deref()) {
        Some(inv) => {
            archive.inventory = inv;
            scan.from_cache = true;
        }
        None => {
            for d in &modis_dirs {
                match Archive::scan(std::slice::from_ref(d)) {
                    Ok(a) => {
                        archive.inventory.granules.extend(a.inventory.granules);
                        archive.inventory.rejected.extend(a.inventory.rejected);
                    }
                    Err(e) => {
                        scan.complete = false;
                        ctx.err(modis_span.clone(), format!("cannot scan {}: {e:#}", d.display()));
                    }
                }
            }
            archive.inventory.granules.sort_by_key(|g| (g.product, g.tile, g.date));
            archive.inventory.rejected.sort_by(|a, b| a.path.cmp(&b.path));
        }
    }
    if !archive.inventory.rejected.is_empty() {
        ctx.warn(modis_span.clone(), format!("{} file(s) in the MODIS folder(s) cannot be used (`rsei scan` lists them with the reason)", archive.inventory.rejected.len()));
    }
    // ---- [data.stac]: the search; its items join the coverage of the folders
    let stac_plan = match &dt.stac {
        Some(o) if dt.scenes.is_none() => check_catalogue(ctx, o, data.tbl, &planned, &grids, rsei_opts.as_ref(), &archive, (scene_options.s2_heat, !modis_dirs.is_empty()), settings),
        _ => None,
    };
    // scenes from the catalogue: a Level-2 scene item in the composite window of every area's
    // every year
    let scene_catalogue = stac_plan.as_ref().and_then(|s| s.scenes.as_ref().map(|sc| (s, sc)));
    if let (Some(opts), Some((s, sc))) = (&rsei_opts, scene_catalogue) {
        for (p, span, yspan) in &planned {
            for &year in &p.years {
                match super::stac::scene_items_of_year(sc, &p.area, opts, year) {
                    Ok((used, _)) if !used.is_empty() => {}
                    Ok((_, left_out)) => {
                        let why = if left_out.is_empty() {
                            String::new()
                        } else {
                            let first: Vec<String> = left_out.iter().take(3).map(|(it, why)| format!("{}: {why}", it.id)).collect();
                            format!("; {} item(s) of that window are not used ({}{})", left_out.len(), first.join("; "), if left_out.len() > first.len() { "; …" } else { "" })
                        };
                        ctx.err(
                            yspan.clone().or(span.clone()),
                            format!("area {:?}: no Level-2 scene item for {year} ({}) in the catalogue {} ({}){why}", p.area.name, opts.composite.describe(year), s.options.url, s.options.collections.join(", ")),
                        );
                    }
                    Err(e) => ctx.err(span.clone(), format!("area {:?}: {}", p.area.name, e.chain_text())),
                }
            }
        }
    }
    let coverage = stac_plan.as_ref().filter(|s| s.scenes.is_none()).map(|s| {
        let mut a = archive.clone();
        a.folders.push(PathBuf::from(&s.options.url));
        a.inventory.granules.extend(super::stac::item_granules(&s.items));
        a.inventory.granules.sort_by_key(|g| (g.product, g.tile, g.date));
        a
    });
    let no_local = !modis_dirs.is_empty() && archive.inventory.granules.is_empty() && ctx.diags.iter().all(|d| !d.message.starts_with("cannot scan")) && dt.scenes.is_none();
    if no_local {
        let msg = format!("no MOD09A1, MOD13A1 or MOD11A2 granule in {}", modis_dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", "));
        if dt.stac.is_some() {
            ctx.warn(modis_span.clone(), format!("{msg}: every granule comes from the catalogue of [data.stac]"));
        } else {
            ctx.err(modis_span.clone(), msg);
        }
    }
    // a catalogue that could not be searched has been reported: no coverage errors on top
    let data_known = if scene_catalogue.is_some() {
        false
    } else if dt.stac.is_some() {
        coverage.is_some()
    } else { !modis_dirs.is_empty() && !no_local && dt.scenes.is_none() };
    // scenes: a scene in the composite window of every area's every year
    if let (Some(opts), Some(sp)) = (&rsei_opts, &scene_plan) {
        for (p, span, yspan) in &planned {
            for &year in &p.years {
                if crate::scenes::scenes_of_year(&sp.inventory, opts, year).is_empty() {
                    let dirs: Vec<String> = sp.folders.iter().map(|d| d.display().to_string()).collect();
                    ctx.err(yspan.clone().or(span.clone()), format!("area {:?}: no scene for {year} ({}) in {}", p.area.name, opts.composite.describe(year), dirs.join(", ")));
                }
            }
        }
    }
    if let (Some(opts), true) = (&rsei_opts, data_known) {
        for ((p, span, yspan), g) in planned.iter().zip(&grids) {
            if let Some(g) = g {
                check_data(ctx, coverage.as_ref().unwrap_or(&archive), opts, p, g, span.clone(), yspan.clone());
            }
        }
    }

    // ---- [mining]
    let mining_plan = check_mining(ctx, &mining);

    // ---- [drivers]
    let drivers_plan = check_drivers(ctx, &drivers, mining_plan.as_ref(), &planned);

    // ---- [timeseries], [trend], [change], [geodetector], [autocorrelation]
    let facts = super::analyses::StudyFacts {
        areas: planned.iter().map(|(p, _, _)| (p.area.name.clone(), p.years.clone())).collect(),
        drivers: drivers_plan.as_ref().map(|d| {
            let rasters: Vec<String> = d.rasters.iter().map(|r| r.name.clone()).collect();
            (super::analyses::driver_names(d.dem.is_some(), &rasters, d.mines.is_some()), d.options.crs.clone(), d.options.resolution_m)
        }),
        has_drivers_table: drivers.tbl.is_some(),
        pooled_rsei: rsei_opts.as_ref().map(|o| o.rsei.clone()).filter(|r| r.pooled),
    };
    let analyses_plan = super::analyses::check(root, &vals, &facts, &mut ctx.diags);

    let rsei_opts = rsei_opts?;
    Some(Plan {
        name,
        study_file: file.to_path_buf(),
        output,
        inputs: RunInputs { data: scene_dirs.into_iter().chain(modis_dirs).collect(), landcover },
        areas: planned.into_iter().zip(grids).filter_map(|((p, _, _), g)| Some(PlannedArea { area: p.area, study: g?, years: p.years, file: p.file })).collect(),
        rsei: rsei_opts,
        mining: mining_plan,
        drivers: drivers_plan,
        analyses: analyses_plan,
        archive,
        scan,
        memory: st.memory.unwrap_or_default(),
        stac: stac_plan,
        scenes: scene_plan,
    })
}

/// Checks `[data.stac]` (see [`super::stac::check`]) for the areas that have a grid.
#[allow(clippy::too_many_arguments)]
fn check_catalogue(
    ctx: &mut Ctx<'_>,
    options: &rsei_stac::CatalogueOptions,
    data: Option<&dyn TableLike>,
    planned: &[Planned],
    grids: &[Option<StudyGrid>],
    rsei: Option<&RseiRunOptions>,
    archive: &Archive,
    (s2_heat, modis_folders): (crate::scenes::S2Heat, bool),
    settings: &CheckSettings<'_>,
) -> Option<StacPlan> {
    let item = data.and_then(|t| t.get("stac"));
    let areas: Vec<StudyArea> = planned.iter().zip(grids).filter(|(_, g)| g.is_some()).map(|((p, _, _), _)| p.area.clone()).collect();
    let mut years: Vec<i32> = planned.iter().flat_map(|(p, _, _)| p.years.iter().copied()).collect();
    years.sort_unstable();
    years.dedup();
    let dir = ctx.dir.clone();
    let resolve_here = |p: &Path| resolve(&dir, p);
    let silent = crate::progress::Silent;
    let input = CheckInput {
        options,
        table: item.and_then(Item::as_table_like),
        span: item.and_then(item_span).or_else(|| data.and_then(|t| key_span(t, "stac"))),
        resolve: &resolve_here,
        areas: &areas,
        years: &years,
        rsei,
        local: &archive.inventory,
        mode: settings.search,
        progress: settings.progress.unwrap_or(&silent),
        s2_heat,
        modis_folders,
    };
    super::stac::check(&input, &mut ctx.diags)
}

/// How the archive of a plan was obtained.
#[derive(Clone, Debug, Default)]
pub struct ArchiveScan {
    /// Hash of the listing of the data folders (every file with its size and modification time);
    /// `None` when a folder could not be listed.
    pub listing: Option<String>,
    /// The inventory came from the cache of an earlier run.
    pub from_cache: bool,
    /// Every folder was scanned without error (the inventory may be cached).
    pub complete: bool,
}

/// The inventory cache of an output folder (inside [`STATE_DIR`]).
pub const INVENTORY_CACHE: &str = "inventory.json";

#[derive(serde::Serialize, serde::Deserialize)]
struct InventoryCache {
    version: u32,
    folders: Vec<PathBuf>,
    listing: String,
    inventory: rsei_io::scan::Inventory,
}

/// Hash of every file under `dirs` (recursively) with its size and modification time, in a fixed
/// order; `None` when a folder cannot be listed.
pub fn listing_hash(dirs: &[PathBuf]) -> Option<String> {
    let mut rows: Vec<String> = Vec::new();
    for d in dirs {
        let mut stack = vec![d.clone()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).ok()?.flatten() {
                let p = e.path();
                let md = std::fs::metadata(&p).ok()?;
                if md.is_dir() {
                    stack.push(p);
                } else {
                    let mtime = md.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |t| t.as_nanos());
                    rows.push(format!("{}\t{}\t{mtime}", p.display(), md.len()));
                }
            }
        }
    }
    rows.sort();
    Some(super::units::sha256_hex(rows.join("\n").as_bytes()))
}

/// The inventory an earlier run of this output folder saved for exactly these files.
fn cached_inventory(output: &Path, dirs: &[PathBuf], listing: Option<&str>) -> Option<rsei_io::scan::Inventory> {
    let listing = listing?;
    let bytes = std::fs::read(output.join(STATE_DIR).join(INVENTORY_CACHE)).ok()?;
    let c: InventoryCache = serde_json::from_slice(&bytes).ok()?;
    (c.version == 1 && c.folders == dirs && c.listing == listing).then_some(c.inventory)
}

/// Saves the inventory of a plan for the next run over the same files (when it was scanned
/// completely and not read from the cache).
pub fn save_inventory(plan: &Plan) -> crate::Result<()> {
    let (Some(listing), false, true) = (&plan.scan.listing, plan.scan.from_cache, plan.scan.complete) else { return Ok(()) };
    let c = InventoryCache { version: 1, folders: plan.archive.folders.clone(), listing: listing.clone(), inventory: plan.archive.inventory.clone() };
    let p = plan.output.join(STATE_DIR).join(INVENTORY_CACHE);
    rsei_core::fsutil::write_atomic(&p, &serde_json::to_vec(&c)?).map_err(|e| crate::Error::msg(format!("writing {}: {e}", p.display())))
}

/// The output folder must be new, empty, or an earlier output of `rsei run`.
fn check_output(ctx: &mut Ctx<'_>, out: &Path, span: Option<Range<usize>>) {
    if out.is_file() {
        ctx.err(span, format!("output folder {} is a file", out.display()));
        return;
    }
    if !out.is_dir() {
        return;
    }
    // empty but for the run's own state folder (a run stopped before it wrote its marker)
    let empty = std::fs::read_dir(out).map(|r| r.flatten().all(|e| e.file_name() == STATE_DIR)).unwrap_or(false);
    if !empty && !out.join(STATE_DIR).join(MARKER).is_file() {
        ctx.err(
            span,
            format!("output folder {} holds files that `rsei run` did not write: choose a new or empty folder (a study output carries {STATE_DIR}/{MARKER})", out.display()),
        );
    }
}

/// Checks that the archive covers an area in each of its years.
fn check_data(ctx: &mut Ctx<'_>, archive: &Archive, opts: &RseiRunOptions, p: &Candidate, g: &StudyGrid, span: Option<Range<usize>>, years_span: Option<Range<usize>>) {
    let name = &p.area.name;
    // tiles holding the area's cells
    let mut area_tiles: BTreeSet<(i64, i64)> = BTreeSet::new();
    let t = g.grid.transform();
    for r in 0..g.grid.rows() {
        for c in 0..g.grid.cols() {
            if g.inside[g.grid.index(r, c)] {
                let (x, y) = t.xy(r as f64 + 0.5, c as f64 + 0.5);
                area_tiles.insert(modis::tile_of(x, y));
            }
        }
    }
    let kinds: Vec<ProductKind> = [ProductKind::Mod09A1, ProductKind::Mod13A1, ProductKind::Mod11A2]
        .into_iter()
        .filter(|k| *k != ProductKind::Mod13A1 || opts.ndvi_source == NdviSource::Mod13a1)
        .collect();
    let data_tiles: BTreeSet<(i64, i64)> = archive
        .inventory
        .granules
        .iter()
        .filter(|gr| kinds.contains(&gr.product.kind) && opts.platforms.accepts(gr.product.platform))
        .map(|gr| (i64::from(gr.tile.h), i64::from(gr.tile.v)))
        .collect();
    let tiles = |s: &BTreeSet<(i64, i64)>| s.iter().map(|&t| tile_name(t)).collect::<Vec<_>>().join(", ");
    if area_tiles.is_disjoint(&data_tiles) {
        ctx.err(
            span,
            format!(
                "area {name:?} lies outside the data: no granule of its tile(s) {} in {} (the data covers {})",
                tiles(&area_tiles),
                archive.folders.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", "),
                if data_tiles.is_empty() { "no tile".to_string() } else { format!("tile(s) {}", tiles(&data_tiles)) }
            ),
        );
        return;
    }
    let bounds = g.grid.bounds();
    let season_only = rsei_core::composite::CompositeOptions { years_before: 0, years_after: 0, ..opts.composite.clone() };
    // product → years without any granule; (product, season) → years whose window lacks it; tile → years
    let mut missing: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    let mut partial: BTreeMap<(String, i32), Vec<i32>> = BTreeMap::new();
    let mut tile_gaps: BTreeMap<(String, (i64, i64)), Vec<i32>> = BTreeMap::new();
    for &year in &p.years {
        for &kind in &kinds {
            let sel = archive.select(kind, opts.platforms, &opts.composite, year, &bounds);
            let label = kind_name(kind);
            if sel.dates.is_empty() {
                missing.entry(label.to_string()).or_default().push(year);
                continue;
            }
            for s in (year - opts.composite.years_before as i32)..=(year + opts.composite.years_after as i32) {
                let has = sel.dates.iter().any(|(d, _)| season_only.in_window(s, i32::from(d.year), d.doy));
                if !has {
                    partial.entry((label.to_string(), s)).or_default().push(year);
                }
            }
            let seen: BTreeSet<(i64, i64)> = sel.dates.iter().flat_map(|(_, gs)| gs.iter().map(|g| (i64::from(g.tile.h), i64::from(g.tile.v)))).collect();
            for t in area_tiles.difference(&seen) {
                tile_gaps.entry((label.to_string(), *t)).or_default().push(year);
            }
        }
    }
    let window = |y: i32| format!("{}–{}", y - opts.composite.years_before as i32, y + opts.composite.years_after as i32);
    // one error per set of products missing in the same years
    let mut by_years: BTreeMap<Vec<i32>, Vec<String>> = BTreeMap::new();
    for (k, ys) in missing {
        by_years.entry(ys).or_default().push(k);
    }
    for (ys, kinds) in by_years {
        let one = ys.len() == 1;
        ctx.err(
            years_span.clone().or(span.clone()),
            format!(
                "area {name:?}: no {} granule over the area for {} {} (composite window: seasons {}, {})",
                kinds.join(", "),
                if one { "year" } else { "years" },
                year_ranges(&ys),
                if one { window(ys[0]) } else { format!("Y−{} to Y+{}", opts.composite.years_before, opts.composite.years_after) },
                season_text(&opts.composite.season)
            ),
        );
    }
    let mut by_years: BTreeMap<Vec<i32>, Vec<String>> = BTreeMap::new();
    for ((k, s), ys) in partial {
        by_years.entry(ys).or_default().push(format!("{k} {s}"));
    }
    for (ys, what) in by_years {
        ctx.warn(
            years_span.clone().or(span.clone()),
            format!("area {name:?}: the composite of {} lacks a season: no granule of {} (it uses the other seasons of its window)", year_ranges(&ys), what.join(", ")),
        );
    }
    let mut by_years: BTreeMap<Vec<i32>, Vec<String>> = BTreeMap::new();
    for ((k, t), ys) in tile_gaps {
        by_years.entry(ys).or_default().push(format!("{k} {}", tile_name(t)));
    }
    for (ys, what) in by_years {
        ctx.warn(span.clone(), format!("area {name:?}: no granule of {} in the window of {}: the area's cells on that tile are nodata", what.join(", "), year_ranges(&ys)));
    }
}

fn season_text(s: &rsei_core::composite::Season) -> String {
    format!("{:02}-{:02}..{:02}-{:02}", s.start.0, s.start.1, s.end.0, s.end.1)
}

fn kind_name(k: ProductKind) -> &'static str {
    match k {
        ProductKind::Mod09A1 => "MOD09A1",
        ProductKind::Mod13A1 => "MOD13A1",
        ProductKind::Mod11A2 => "MOD11A2",
        _ => "MODIS",
    }
}

/// Reads a mine layer as the mining analysis will, to check it holds polygons.
fn check_mine_layer(ctx: &mut Ctx<'_>, src: &MineSource, crs: &str, span: Option<Range<usize>>) -> bool {
    let target = match rsei_io::crs::normalize_crs(&rsei_core::Crs::new(crs)) {
        Ok(c) => c,
        Err(_) => rsei_core::Crs::new("EPSG:4326"),
    };
    let mut o = VectorOptions::new(target);
    o.layer = src.layer.clone();
    o.filter = src.filter.clone().map(FeatureFilter::Where);
    o.id_field = src.id_field.clone();
    o.name_field = src.name_field.clone();
    o.assume_crs = src.assume_crs.as_ref().map(rsei_core::Crs::new);
    let file = src.path.display();
    let filter = src.filter.as_ref().map_or_else(String::new, |f| format!(" matching `{f}`"));
    match rsei_io::vector::read_polygons(&src.path, &o) {
        Ok(layer) => {
            for n in &layer.notes {
                ctx.warn(span.clone(), format!("{file}: {n}"));
            }
            true
        }
        Err(rsei_io::vector::VectorError::NoPolygons { detail, .. }) => {
            ctx.err(span, format!("mine layer {file} has no polygon{filter} ({detail}); the mining analysis needs mine polygons"));
            false
        }
        Err(e) => {
            ctx.err(span, format!("cannot read the mine layer: {e}"));
            false
        }
    }
}

fn check_mining(ctx: &mut Ctx<'_>, sec: &Section<'_>) -> Option<MiningPlan> {
    let tbl = sec.tbl?;
    let keys: MineKeys = sec.tables.first().and_then(typed).unwrap_or_default();
    let opts: Option<MiningRunOptions> = sec.tables.get(1).and_then(typed);
    if let Some(o) = &opts {
        if let Err(e) = o.validate() {
            match &e {
                crate::mining::MiningError::InvalidOption { name, reason } if tbl.contains_key(name) => {
                    ctx.err(value_span(tbl, name), format!("invalid value of `{name}` in [mining]: {reason}"));
                }
                _ => ctx.err(sec.span.clone(), format!("invalid [mining] option: {e}")),
            }
        } else if let Err(msg) = check_crs(&o.equal_area_crs) {
            ctx.err(value_span(tbl, "equal_area_crs").or(sec.span.clone()), format!("equal_area_crs {:?} is not a CRS PROJ understands: {msg}", o.equal_area_crs));
        }
    }
    let Some(m) = &keys.mines else {
        if sec.errors == 0 {
            ctx.err(sec.span.clone(), "[mining] needs `mines`: the mine polygon layer");
        }
        return None;
    };
    let span = value_span(tbl, "mines");
    let path = ctx.file(span.clone(), "mine layer", m)?;
    if let Some(c) = &keys.crs {
        if let Err(msg) = check_crs(c) {
            ctx.err(value_span(tbl, "crs"), format!("crs {c:?} is not a CRS PROJ understands: {msg}"));
            return None;
        }
    }
    let src = MineSource { path, layer: keys.layer.clone(), filter: keys.where_.clone(), id_field: keys.id_field.clone(), name_field: keys.name_field.clone(), assume_crs: keys.crs.clone() };
    let opts = opts?;
    if !check_mine_layer(ctx, &src, &opts.equal_area_crs, span) {
        return None;
    }
    (sec.errors == 0).then_some(MiningPlan { mines: src, options: opts })
}

fn check_drivers(ctx: &mut Ctx<'_>, sec: &Section<'_>, mining: Option<&MiningPlan>, areas: &[Planned]) -> Option<DriversPlan> {
    let tbl = sec.tbl?;
    let keys: DriverKeys = sec.tables.first().and_then(typed).unwrap_or_default();
    let opts: Option<DriverRunOptions> = sec.tables.get(1).and_then(typed);
    let mut ok = sec.errors == 0;
    if let Some(o) = &opts {
        if let Err(e) = o.validate() {
            match &e {
                crate::drivers::DriversError::InvalidOption { name, reason } if tbl.contains_key(name) => {
                    ctx.err(value_span(tbl, name), format!("invalid value of `{name}` in [drivers]: {reason}"));
                }
                _ => ctx.err(sec.span.clone(), format!("invalid [drivers] option: {e}")),
            }
            ok = false;
        } else if let Err(msg) = check_crs(&o.crs) {
            ctx.err(value_span(tbl, "crs").or(sec.span.clone()), format!("crs {:?} is not a CRS PROJ understands: {msg}", o.crs));
            ok = false;
        }
    }
    let year = match keys.year {
        Some(y) => Some(y),
        None => {
            if sec.errors == 0 {
                ctx.err(sec.span.clone(), "[drivers] needs `year`: the year the driver rasters describe (one of the study's years)");
            }
            None
        }
    };
    if let Some(y) = year {
        let lacking: Vec<&Candidate> = areas.iter().map(|(p, _, _)| p).filter(|p| !p.years.contains(&y)).collect();
        if !lacking.is_empty() {
            let list: Vec<String> = lacking.iter().map(|p| format!("{:?} ({})", p.area.name, year_ranges(&p.years))).collect();
            ctx.err(
                value_span(tbl, "year").or(sec.span.clone()),
                format!("driver year {y} is not a target year of {} {}: its RSEI would not exist", if lacking.len() == 1 { "area" } else { "areas" }, list.join(", ")),
            );
            ok = false;
        }
    }
    // files
    let dem = match &keys.dem {
        Some(p) => {
            let r = ctx.file(value_span(tbl, "dem"), "DEM", p);
            ok &= r.is_some();
            r
        }
        None => None,
    };
    let barrier = match &keys.barrier {
        Some(p) => {
            let r = ctx.file(value_span(tbl, "barrier"), "barrier layer", p);
            ok &= r.is_some();
            r
        }
        None => None,
    };
    let mines_span = value_span(tbl, "mines");
    let mines = match &keys.mines {
        None | Some(MinesRef::Use(true)) => match mining {
            Some(m) => Some(m.mines.clone()),
            None if keys.mines.is_some() => {
                ctx.err(mines_span.clone(), "`mines = true` uses the mine layer of [mining], but the study has no valid [mining] table");
                ok = false;
                None
            }
            None => None,
        },
        Some(MinesRef::Use(false)) => None,
        Some(MinesRef::File(p)) => match ctx.file(mines_span.clone(), "mine layer", p) {
            Some(path) => {
                let src = MineSource { path, layer: keys.mines_layer.clone(), filter: keys.mines_where.clone(), id_field: None, name_field: None, assume_crs: keys.mines_crs.clone() };
                let crs = opts.as_ref().map_or_else(|| DriverRunOptions::default().crs, |o| o.crs.clone());
                ok &= check_mine_layer(ctx, &src, &crs, mines_span.clone());
                Some(src)
            }
            None => {
                ok = false;
                None
            }
        },
    };
    if !matches!(keys.mines, Some(MinesRef::File(_))) {
        for k in ["mines_layer", "mines_where", "mines_crs"] {
            if tbl.contains_key(k) {
                ctx.warn(key_span(tbl, k), format!("`{k}` is not used: it applies to a mine file given by path in `mines`"));
            }
        }
    }
    // rasters, in the order of the file
    let mut rasters = Vec::new();
    if let (Some(map), Some(rt)) = (&keys.rasters, tbl.get("rasters").and_then(Item::as_table_like)) {
        for (name, _) in rt.iter() {
            let Some(entry) = map.get(name) else { continue };
            let span = value_span(rt, name);
            let mut files = Vec::new();
            for f in &entry.files {
                let is_pattern = Path::new(f).file_name().is_some_and(|n| n.to_string_lossy().contains(['*', '?']));
                if is_pattern {
                    let full = ctx.path(Path::new(f));
                    match crate::drivers::parse_driver(&format!("X={}", full.display())) {
                        Ok(d) => files.extend(d.paths),
                        Err(e) => {
                            ctx.err(span.clone(), format!("driver {name}: {e:#}"));
                            ok = false;
                        }
                    }
                } else {
                    match ctx.file(span.clone(), &format!("driver {name}: file"), Path::new(f)) {
                        Some(p) => files.push(p),
                        None => ok = false,
                    }
                }
            }
            if let Err(e) = rsei_io::stack::check_driver_name(name) {
                ctx.err(key_span(rt, name), format!("driver name {name:?}: {e}"));
                ok = false;
            }
            rasters.push(DriverSource::new(name, files, entry.resampling));
        }
    }
    let plan = DriversPlan { year: year?, rasters, dem, mines, barrier, barrier_layer: keys.barrier_layer.clone(), options: opts? };
    let inputs = crate::drivers::DriverInputs {
        rsei_dir: PathBuf::new(),
        year: plan.year,
        drivers: plan.rasters.clone(),
        dem: plan.dem.clone(),
        mines: plan.mines.clone(),
        barrier: plan.barrier.clone(),
        barrier_layer: plan.barrier_layer.clone(),
    };
    if ok {
        if let Err(e) = crate::drivers::check_inputs(&inputs) {
            ctx.err(tbl.get("rasters").and_then(Item::span).or(sec.span.clone()), format!("[drivers]: {e}"));
            ok = false;
        }
    }
    ok.then_some(plan)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn year_ranges_are_compact() {
        assert_eq!(year_ranges(&[2001, 2002, 2003, 2005, 2007, 2008]), "2001–2003, 2005, 2007–2008");
        assert_eq!(year_ranges(&[2019]), "2019");
        assert_eq!(year_ranges(&[]), "");
    }

    #[test]
    fn paths_are_normalised() {
        assert_eq!(normalize(Path::new("/a/b/../c/./d")), PathBuf::from("/a/c/d"));
        assert_eq!(normalize(Path::new("a/../../b")), PathBuf::from("../b"));
        assert_eq!(resolve(Path::new("/nonexistent/x"), Path::new("../y/z.tif")), PathBuf::from("/nonexistent/y/z.tif"));
        assert_eq!(resolve(Path::new("/nonexistent/x"), Path::new("/abs/z.tif")), PathBuf::from("/abs/z.tif"));
    }

    #[test]
    fn option_errors_point_at_the_named_key() {
        let text = "[mining]\nring_step_km = 0\n[mining.x]\nring_max_km = 3\n";
        let doc = ImDocument::parse(text.to_string()).unwrap();
        let t = doc.as_table().get("mining").unwrap().as_table_like().unwrap();
        let s = span_named(t, "invalid mining option ring_step_km: must be > 0, got 0").unwrap();
        assert_eq!(diag::line_col(text, s.start).line, 2);
        // the dotted path wins over a bare segment
        let s = span_named(t, "x.ring_max_km is wrong").unwrap();
        assert_eq!(diag::line_col(text, s.start).line, 4);
        // a suffix of a nested key's path
        let text2 = "[rsei.qa.mod09]\nmax_cirrus = 7\n";
        let doc2 = ImDocument::parse(text2.to_string()).unwrap();
        let t2 = doc2.as_table().get("rsei").unwrap().as_table_like().unwrap();
        let s = span_named(t2, "invalid option mod09.max_cirrus: above 3").unwrap();
        assert_eq!(diag::line_col(text2, s.start).line, 2);
        assert!(span_named(t, "nothing named here").is_none());
    }
}
