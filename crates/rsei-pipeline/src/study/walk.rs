//! Walks one table of a study file against the keys of typed sections, reporting every unknown
//! key (with a "did you mean") and every value that its type refuses, each at its place.
//!
//! The keys of a section come from the serialisation of its type's `Default` (a struct field is a
//! key; a field whose default serialises to a table is a sub-table and is walked in turn). A value
//! is checked by deserialising the section type from a table that holds only that value (every
//! other field takes its default), so the type's own rules and messages apply, and a wrong value
//! does not hide the next one. The document is read twice from the same text: with `toml_edit`
//! for the places of keys and values, and with `toml` for the values.

use std::ops::Range;

use serde::de::DeserializeOwned;
use serde::Serialize;
use toml_edit::{Item, TableLike};

use super::diag::{suggest, Diagnostic};

/// One typed part of a section: its keys (from the type's default) and a checker of values.
pub struct Part {
    keys: serde_json::Map<String, serde_json::Value>,
    /// The default as TOML (fields without a default value left out): the background a value is
    /// checked against, so that types without `serde(default)` see their other fields.
    background: toml::Table,
    /// Keys whose value is a table with free keys (each entry checked on its own).
    maps: &'static [&'static str],
    check: fn(toml::Value) -> Result<(), String>,
}

fn check_as<T: DeserializeOwned>(v: toml::Value) -> Result<(), String> {
    T::deserialize(v).map(|_| ()).map_err(|e| e.message().trim().to_string())
}

impl Part {
    /// The part of type `T`.
    pub fn of<T: Default + Serialize + DeserializeOwned>() -> Part {
        Part::from_sample(T::default())
    }
    /// The part of type `T` whose keys (and sub-tables) are those of `sample`: for a type whose
    /// default leaves out a sub-table (an `Option` of a table) that must be walked key by key.
    pub fn from_sample<T: Serialize + DeserializeOwned>(sample: T) -> Part {
        let keys = match serde_json::to_value(sample) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        let background = match json_to_toml(&serde_json::Value::Object(keys.clone())) {
            Some(toml::Value::Table(t)) => t,
            _ => toml::Table::new(),
        };
        Part { keys, background, maps: &[], check: check_as::<T> }
    }
    /// Declares keys whose tables have free keys (e.g. driver names).
    pub fn with_maps(mut self, maps: &'static [&'static str]) -> Part {
        self.maps = maps;
        self
    }
    /// The keys of the part.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }
    /// Whether `key` belongs to the part.
    pub fn has(&self, key: &str) -> bool {
        self.keys.contains_key(key)
    }
}

/// Place of an item: its value, or a table's header.
pub fn item_span(item: &Item) -> Option<Range<usize>> {
    item.span()
}

/// Place of `key` in `tbl`, else of its value.
pub fn key_span(tbl: &dyn TableLike, key: &str) -> Option<Range<usize>> {
    tbl.key(key).and_then(|k| k.span()).or_else(|| tbl.get(key).and_then(Item::span))
}

/// Place of the value of `key` in `tbl`, else of the key.
pub fn value_span(tbl: &dyn TableLike, key: &str) -> Option<Range<usize>> {
    tbl.get(key).and_then(Item::span).or_else(|| tbl.key(key).and_then(|k| k.span()))
}

/// A JSON value as TOML; `null`s (fields without a value) are left out.
fn json_to_toml(v: &serde_json::Value) -> Option<toml::Value> {
    use serde_json::Value as J;
    Some(match v {
        J::Null => return None,
        J::Bool(b) => toml::Value::Boolean(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64()?),
        },
        J::String(s) => toml::Value::String(s.clone()),
        J::Array(a) => toml::Value::Array(a.iter().filter_map(json_to_toml).collect()),
        J::Object(m) => toml::Value::Table(m.iter().filter_map(|(k, v)| Some((k.clone(), json_to_toml(v)?))).collect()),
    })
}

/// `background` with `leaf` set at `path` (tables created or replaced on the way).
fn nest(background: &toml::Table, path: &[String], leaf: toml::Value) -> toml::Value {
    fn set(t: &mut toml::Table, path: &[String], leaf: toml::Value) {
        match path {
            [] => {}
            [k] => {
                t.insert(k.clone(), leaf);
            }
            [k, rest @ ..] => {
                let e = t.entry(k.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
                if !e.is_table() {
                    *e = toml::Value::Table(toml::Table::new());
                }
                if let toml::Value::Table(sub) = e {
                    set(sub, rest, leaf);
                }
            }
        }
    }
    let mut t = background.clone();
    set(&mut t, path, leaf);
    toml::Value::Table(t)
}

fn label_of(section: &str, path: &[String]) -> String {
    if path.is_empty() {
        return section.to_string();
    }
    let (open, close) = if section.starts_with("[[") { ("[[", "]]") } else { ("[", "]") };
    let inner = section.trim_start_matches('[').trim_end_matches(']');
    format!("{open}{inner}.{}{close}", path.join("."))
}

/// The outcome of walking a section: the values of each part (unknown keys left out) and
/// whether any problem was found.
pub struct Walked {
    /// Tables found.
    pub tables: Vec<toml::Table>,
    /// Errors reported.
    pub errors: usize,
}

/// Walks the section table `tbl` (values `vals`) labelled `section` (e.g. `[mining]`) against
/// `parts`; problems go to `diags`.
pub fn walk_section(section: &str, tbl: &dyn TableLike, vals: &toml::Table, parts: &[Part], diags: &mut Vec<Diagnostic>) -> Walked {
    let before = diags.iter().filter(|d| d.is_error()).count();
    let mut tables = vec![toml::Table::new(); parts.len()];
    for (key, item) in tbl.iter() {
        let Some(val) = vals.get(key) else { continue };
        match parts.iter().position(|p| p.has(key)) {
            None => {
                let known: Vec<&str> = parts.iter().flat_map(Part::keys).collect();
                diags.push(unknown_key(section, key, &known, key_span(tbl, key)));
            }
            Some(pi) => {
                let part = &parts[pi];
                let path = vec![key.to_string()];
                walk_value(section, part, &path, tbl, key, item, val, &part.keys[key], diags);
                tables[pi].insert(key.to_string(), val.clone());
            }
        }
    }
    let errors = diags.iter().filter(|d| d.is_error()).count() - before;
    Walked { tables, errors }
}

/// The message of an unknown key, with the closest known key or the list of keys.
pub fn unknown_key(section: &str, key: &str, known: &[&str], span: Option<Range<usize>>) -> Diagnostic {
    let hint = match suggest(key, known.iter().copied()) {
        Some(s) => format!("; did you mean `{s}`?"),
        None if known.len() <= 16 => format!(" (known keys: {})", known.join(", ")),
        None => " (see docs/STUDY.md for the known keys)".to_string(),
    };
    Diagnostic::error(span, format!("unknown key `{key}` in {section}{hint}"))
}

#[allow(clippy::too_many_arguments)]
fn walk_value(
    section: &str,
    part: &Part,
    path: &[String],
    parent: &dyn TableLike,
    key: &str,
    item: &Item,
    val: &toml::Value,
    default: &serde_json::Value,
    diags: &mut Vec<Diagnostic>,
) {
    let sub = item.as_table_like();
    // a table with free keys: each entry on its own
    if path.len() == 1 && part.maps.contains(&key) {
        if let (Some(t), toml::Value::Table(vt)) = (sub, val) {
            for (k2, item2) in t.iter() {
                let Some(v2) = vt.get(k2) else { continue };
                let mut p2 = path.to_vec();
                p2.push(k2.to_string());
                check_leaf(section, part, &p2, t, k2, item2, v2, diags);
            }
            return;
        }
    }
    match (default, sub, val) {
        (serde_json::Value::Object(known), Some(t), toml::Value::Table(vt)) => {
            for (k2, item2) in t.iter() {
                let Some(v2) = vt.get(k2) else { continue };
                let mut p2 = path.to_vec();
                p2.push(k2.to_string());
                match known.get(k2) {
                    Some(d2) => walk_value(section, part, &p2, t, k2, item2, v2, d2, diags),
                    None => {
                        let names: Vec<&str> = known.keys().map(String::as_str).collect();
                        diags.push(unknown_key(&label_of(section, path), k2, &names, key_span(t, k2)));
                    }
                }
            }
        }
        _ => check_leaf(section, part, path, parent, key, item, val, diags),
    }
}

#[allow(clippy::too_many_arguments)]
fn check_leaf(section: &str, part: &Part, path: &[String], parent: &dyn TableLike, key: &str, item: &Item, val: &toml::Value, diags: &mut Vec<Diagnostic>) {
    if let Err(msg) = (part.check)(nest(&part.background, path, val.clone())) {
        let span = item_span(item).or_else(|| key_span(parent, key));
        diags.push(Diagnostic::error(span, format!("invalid value of `{key}` in {}: {msg}", label_of(section, &path[..path.len() - 1]))));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::mining::MiningRunOptions;
    use crate::options::RseiRunOptions;

    fn walk(text: &str, section: &str, parts: &[Part]) -> (Vec<Diagnostic>, Walked) {
        let doc = toml_edit::ImDocument::parse(text.to_string()).unwrap();
        let vals: toml::Table = toml::from_str(text).unwrap();
        let name = section.trim_matches(|c| c == '[' || c == ']');
        let tbl = doc.as_table().get(name).unwrap().as_table_like().unwrap();
        let vt = vals.get(name).unwrap().as_table().unwrap();
        let mut d = Vec::new();
        let w = walk_section(section, tbl, vt, parts, &mut d);
        (d, w)
    }

    #[test]
    fn every_unknown_key_and_wrong_value_is_found_at_its_place() {
        let text = "[rsei]\nndvi_source = \"mod09a1\"\nplatform = \"terra\"\n[rsei.composite]\nreducer = \"mode\"\nmin_obs = -1\n[rsei.composite.season]\nstart = [6, 1]\nend = \"x\"\nlength = 3\n";
        let (d, w) = walk(text, "[rsei]", &[Part::of::<RseiRunOptions>()]);
        let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(d.len(), 5, "{msgs:#?}");
        assert_eq!(w.errors, 5);
        assert!(msgs.iter().any(|m| m.contains("unknown key `platform` in [rsei]; did you mean `platforms`?")), "{msgs:#?}");
        assert!(msgs.iter().any(|m| m.contains("`reducer` in [rsei.composite]") && m.contains("unknown variant `mode`")), "{msgs:#?}");
        assert!(msgs.iter().any(|m| m.contains("`min_obs` in [rsei.composite]")), "{msgs:#?}");
        assert!(msgs.iter().any(|m| m.contains("`end` in [rsei.composite.season]")), "{msgs:#?}");
        assert!(msgs.iter().any(|m| m.contains("unknown key `length` in [rsei.composite.season]")), "{msgs:#?}");
        // places: "platform" starts line 3; "mode" is the value on line 5
        let at = |needle: &str| {
            let d = d.iter().find(|d| d.message.contains(needle)).unwrap();
            super::super::diag::line_col(text, d.span.clone().unwrap().start)
        };
        assert_eq!((at("platform").line, at("platform").col), (3, 1));
        assert_eq!((at("reducer").line, at("reducer").col), (5, 11));
        assert_eq!(at("length").line, 10);
        // the known, valid key is kept for the typed pass
        assert!(w.tables[0].contains_key("ndvi_source"));
    }

    #[test]
    fn keys_go_to_their_part() {
        #[derive(Default, serde::Serialize, serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        struct Src {
            mines: Option<String>,
        }
        let text = "[mining]\nmines = \"m.geojson\"\nring_step_km = 2.5\nring_max_km = \"far\"\n";
        let (d, w) = walk(text, "[mining]", &[Part::of::<Src>(), Part::of::<MiningRunOptions>()]);
        assert_eq!(d.len(), 1, "{d:#?}");
        assert!(d[0].message.contains("`ring_max_km` in [mining]"), "{}", d[0].message);
        assert!(w.tables[0].contains_key("mines") && !w.tables[0].contains_key("ring_step_km"));
        assert!(w.tables[1].contains_key("ring_step_km"));
    }
}
