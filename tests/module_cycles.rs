//! No import cycle anywhere in the workspace.
//!
//! Cargo already forbids cycles between crates; this test forbids them between modules. For every
//! module, its child modules are the nodes of one graph, with an edge A → B when any file of A's
//! subtree names a path into B's subtree (`crate::b::…`, `super::b::…`, also inside `use` groups
//! and in expressions). References to an ancestor or into one's own subtree are hierarchy, not
//! edges. A cycle in any of these graphs fails the test and is printed with the files that make it.
//!
//! The scanner strips comments and string/char literals first, so doc text and format strings never
//! count. It is a deliberately small syntactic check (no macro expansion): `crate::`/`super::`
//! paths written out by hand are what it sees, which is how this code base refers to modules.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A crate's source files: module path (e.g. `["study", "runner"]`) → file contents.
type Files = BTreeMap<Vec<String>, (PathBuf, String)>;

/// Module path of a source file below `src`: `lib.rs`/`main.rs` → `[]`, `a/mod.rs` → `[a]`,
/// `a/b.rs` → `[a, b]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if !(stem == "mod" || (parts.is_empty() && (stem == "lib" || stem == "main"))) {
        parts.push(stem.to_string());
    }
    parts
}

fn collect(src: &Path, dir: &Path, out: &mut Files) {
    let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(src, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&path).unwrap();
            out.insert(module_of(src, &path), (path, strip(&text)));
        }
    }
}

/// The source without comments, string literals (plain and raw) and char literals.
fn strip(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if b[i] == b'r' && (b[i..].starts_with(b"r\"") || b[i..].starts_with(b"r#")) && (i == 0 || !is_ident(b[i - 1])) {
            let mut j = i + 1;
            let mut hashes = 0;
            while j < b.len() && b[j] == b'#' {
                hashes += 1;
                j += 1;
            }
            if j < b.len() && b[j] == b'"' {
                let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
                j += 1;
                while j < b.len() && !b[j..].starts_with(&close) {
                    j += 1;
                }
                i = j + close.len();
                out.push_str("\"\"");
            } else {
                out.push('r');
                i += 1;
            }
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' {
            // A char literal ('a', '\n', '\u{..}') or a lifetime ('a): skip only literals.
            let rest = &text[i + 1..];
            if let Some(end) = char_literal_len(rest) {
                i += 1 + end;
                out.push_str("' '");
            } else {
                out.push('\'');
                i += 1;
            }
        } else {
            let ch = text[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn char_literal_len(rest: &str) -> Option<usize> {
    let mut chars = rest.char_indices();
    let (_, c) = chars.next()?;
    if c == '\\' {
        let close = rest.get(2..)?.find('\'')?;
        return Some(close + 3);
    }
    let (j, next) = chars.next()?;
    (next == '\'').then_some(j + 1)
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Every module path named by `crate::…` or `super::…` in `code` of module `here`, as absolute
/// paths (possibly reaching past the last module into an item; callers only use prefixes).
fn references(here: &[String], is_mod_rs: bool, code: &str) -> Vec<Vec<String>> {
    let b = code.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let boundary = i == 0 || !(is_ident(b[i - 1]) || b[i - 1] == b':');
        if boundary && (code[i..].starts_with("crate::") || code[i..].starts_with("super::")) {
            let mut base: Vec<String> = Vec::new();
            let mut j = i;
            if code[i..].starts_with("crate::") {
                j += 7;
            } else {
                // `super` in a file module `a/b.rs` ([a, b]) is [a]; in `a/mod.rs` ([a]) it is [].
                base = here.to_vec();
                let _ = is_mod_rs;
                while code[j..].starts_with("super::") {
                    base.pop();
                    j += 7;
                }
            }
            let (paths, end) = parse_tree(code, j);
            for p in paths {
                let mut full = base.clone();
                full.extend(p);
                found.push(full);
            }
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    found
}

/// Parses a path tree at `start` (`a::b::X`, `a::{b, c::D}`, `{a, b}`), returning its paths.
fn parse_tree(code: &str, start: usize) -> (Vec<Vec<String>>, usize) {
    let b = code.as_bytes();
    let mut i = start;
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    let mut prefix = Vec::new();
    loop {
        skip_ws(&mut i);
        if i < b.len() && b[i] == b'{' {
            i += 1;
            let mut all = Vec::new();
            loop {
                skip_ws(&mut i);
                if i >= b.len() {
                    return (all, i);
                }
                if b[i] == b'}' {
                    i += 1;
                    break;
                }
                if b[i] == b',' {
                    i += 1;
                    continue;
                }
                let (sub, end) = parse_tree(code, i);
                for s in sub {
                    let mut p = prefix.clone();
                    p.extend(s);
                    all.push(p);
                }
                if end == i {
                    i += 1;
                } else {
                    i = end;
                }
            }
            return (all, i);
        }
        let s = i;
        while i < b.len() && is_ident(b[i]) {
            i += 1;
        }
        if s == i {
            return (vec![prefix], i);
        }
        let seg = &code[s..i];
        if seg != "self" {
            prefix.push(seg.to_string());
        }
        if code[i..].starts_with("::") {
            i += 2;
        } else {
            return (vec![prefix], i);
        }
    }
}

/// Cycles among sibling modules: for each parent module, the child → child edges.
fn cycles(files: &Files) -> Vec<String> {
    let modules: BTreeSet<Vec<String>> = files.keys().cloned().collect();
    // parent → (child → child → files that make the edge)
    let mut graphs: BTreeMap<Vec<String>, BTreeMap<String, BTreeMap<String, BTreeSet<PathBuf>>>> = BTreeMap::new();
    for (module, (path, code)) in files {
        let is_mod_rs = path.file_name().is_some_and(|f| f == "mod.rs");
        for target in references(module, is_mod_rs, code) {
            // The deepest existing module named by the path.
            let mut t = target.clone();
            while !t.is_empty() && !modules.contains(&t) {
                t.pop();
            }
            // Longest common prefix: the parent whose children the edge joins.
            let common = module.iter().zip(&t).take_while(|(a, b)| a == b).count();
            if common >= module.len() || common >= t.len() {
                continue; // into one's own subtree, or to an ancestor
            }
            let parent = module[..common].to_vec();
            graphs
                .entry(parent)
                .or_default()
                .entry(module[common].clone())
                .or_default()
                .entry(t[common].clone())
                .or_default()
                .insert(path.clone());
        }
    }
    let mut out = Vec::new();
    for (parent, graph) in &graphs {
        for cycle in find_cycles(graph) {
            let hops: Vec<String> = cycle
                .windows(2)
                .map(|w| {
                    let files: Vec<String> = graph[&w[0]][&w[1]].iter().map(|p| p.display().to_string()).collect();
                    format!("{} → {} ({})", w[0], w[1], files.join(", "))
                })
                .collect();
            out.push(format!("in module `{}`: {}", if parent.is_empty() { "crate".to_string() } else { parent.join("::") }, hops.join("; ")));
        }
    }
    out
}

/// One cycle per strongly connected component with more than one node (as a closed node list).
fn find_cycles(graph: &BTreeMap<String, BTreeMap<String, BTreeSet<PathBuf>>>) -> Vec<Vec<String>> {
    let reach = |from: &String| -> BTreeMap<String, String> {
        // BFS predecessor map from `from`.
        let mut pred = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([from.clone()]);
        while let Some(n) = queue.pop_front() {
            for m in graph.get(&n).map(|e| e.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
                if !pred.contains_key(&m) {
                    pred.insert(m.clone(), n.clone());
                    queue.push_back(m);
                }
            }
        }
        pred
    };
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut cycles = Vec::new();
    for node in graph.keys() {
        if seen.contains(node) {
            continue;
        }
        let pred = reach(node);
        if pred.contains_key(node) {
            // Walk back from `node` to itself.
            let mut cycle = vec![node.clone()];
            let mut cur = pred[node].clone();
            while &cur != node {
                cycle.push(cur.clone());
                cur = pred[&cur].clone();
            }
            cycle.push(node.clone());
            cycle.reverse();
            seen.extend(cycle.iter().cloned());
            cycles.push(cycle);
        }
    }
    cycles
}

fn crate_sources() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut srcs = vec![root.join("src")];
    let mut crates: Vec<_> = fs::read_dir(root.join("crates")).unwrap().map(|e| e.unwrap().path().join("src")).filter(|p| p.is_dir()).collect();
    crates.sort();
    srcs.extend(crates);
    srcs
}

#[test]
fn no_module_cycle_in_the_workspace() {
    let mut problems = Vec::new();
    let mut modules = 0;
    for src in crate_sources() {
        let mut files = Files::new();
        collect(&src, &src, &mut files);
        modules += files.len();
        for c in cycles(&files) {
            problems.push(format!("{}: {c}", src.parent().unwrap().display()));
        }
    }
    assert!(modules > 50, "the scan found only {modules} modules: is the workspace layout what this test expects?");
    assert!(problems.is_empty(), "module cycles:\n{}", problems.join("\n"));
}

fn files_of(list: &[(&str, &str)]) -> Files {
    list.iter()
        .map(|(path, code)| {
            let src = Path::new("src");
            let p = src.join(path);
            (module_of(src, &p), (p, strip(code)))
        })
        .collect()
}

#[test]
fn the_checker_finds_cycles_and_only_cycles() {
    // a → b → a through a `use` group and a `super::` path: one cycle.
    let cyclic = files_of(&[
        ("lib.rs", "mod a; mod b;"),
        ("a.rs", "use crate::{b::Thing, x};"),
        ("b/mod.rs", "mod c;"),
        ("b/c.rs", "fn f() { super::super::a::g() }"),
    ]);
    let found = cycles(&cyclic);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("a → b") && found[0].contains("b → a"), "{found:?}");

    // Parent ↔ child references, comments and strings are not cycles.
    let clean = files_of(&[
        ("lib.rs", "mod a; mod b; use a::x;"),
        ("a/mod.rs", "mod inner; use inner::y; use crate::b::Z;"),
        ("a/inner.rs", "use super::Thing; use crate::a::Other; // crate::b::no and crate::a"),
        ("b.rs", "const S: &str = \"crate::a::nope\"; /* crate::a::nope */ fn f<'a>(c: char) -> bool { c == '\"' }"),
    ]);
    assert!(cycles(&clean).is_empty(), "{:?}", cycles(&clean));
}
