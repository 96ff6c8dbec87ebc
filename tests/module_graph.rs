//! The module graph points one way: no two source files depend on each other, directly or
//! through others. Each file's `crate::` and `super::` paths (comments and unit tests left out)
//! are resolved to the file they name; a path into a `mod.rs` facade follows its `pub use` to
//! the file that defines the item. Facades themselves (lib.rs, mod.rs) are not nodes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// Every source file under `src/` by module path (`src/a/b.rs` and `src/a/b/mod.rs` are
/// `a::b`), with whether it is a facade.
fn source_files(root: &Path) -> BTreeMap<Module, (PathBuf, bool)> {
    let mut files = BTreeMap::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("reads src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path
                .strip_prefix(root)
                .expect("under src")
                .with_extension("");
            let mut module: Module = relative
                .iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect();
            let stem = module.pop().unwrap_or_default();
            let facade = matches!(stem.as_str(), "mod" | "lib");
            if stem == "main" {
                module.push("<main>".into());
            } else if !facade {
                module.push(stem);
            }
            files.insert(module, (path, facade));
        }
    }
    files
}

/// The code of a file without its comments and its `#[cfg(test)] mod tests`.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("reads a source file");
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    text.lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths that start with `crate::` or `super::` in `code`, as segments.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let bytes = code.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut paths = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        let starts = (rest.starts_with(b"crate::") || rest.starts_with(b"super::"))
            && (i == 0 || !is_ident(bytes[i - 1]));
        if !starts {
            i += 1;
            continue;
        }
        let mut end = i;
        while end < bytes.len() && (is_ident(bytes[end]) || bytes[end..].starts_with(b"::")) {
            end += if bytes[end] == b':' { 2 } else { 1 };
        }
        let path: Vec<String> = code[i..end]
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        // `use crate::a::{b, c::d}`: one path per item (its first segment).
        if bytes.get(end) == Some(&b'{') {
            let close = code[end..].find('}').map_or(bytes.len(), |k| end + k);
            for item in code[end + 1..close].split(|c: char| ",{}".contains(c)) {
                let first = item.trim().split("::").next().unwrap_or("").trim();
                let first = first.split_whitespace().next().unwrap_or("");
                if !first.is_empty() && first != "self" {
                    let mut longer = path.clone();
                    longer.push(first.to_owned());
                    paths.push(longer);
                }
            }
        }
        paths.push(path);
        i = end.max(i + 1);
    }
    paths
}

/// Each facade's re-exported names: `(facade, name)` → the module that defines it.
fn re_exports(files: &BTreeMap<Module, (PathBuf, bool)>) -> BTreeMap<(Module, String), Module> {
    let mut names = BTreeMap::new();
    for (module, (path, facade)) in files {
        if !facade {
            continue;
        }
        let code = code_of(path);
        for statement in code.split("pub use ").skip(1) {
            let statement = statement.split(';').next().unwrap_or("");
            let Some((sub, items)) = statement.split_once("::") else {
                continue;
            };
            let mut target = module.clone();
            target.push(sub.trim().to_owned());
            for item in items.split(|c: char| "{},".contains(c) || c.is_whitespace()) {
                let name = item.split("::").next().unwrap_or("");
                if !name.is_empty() && name != "as" {
                    names.insert((module.clone(), name.to_owned()), target.clone());
                }
            }
        }
    }
    names
}

/// The file a path names: its longest module prefix, through facades' re-exports.
fn resolve(
    path: &[String],
    files: &BTreeMap<Module, (PathBuf, bool)>,
    exports: &BTreeMap<(Module, String), Module>,
) -> Option<Module> {
    for k in (0..=path.len()).rev() {
        let prefix = path[..k].to_vec();
        let Some((_, facade)) = files.get(&prefix) else {
            continue;
        };
        if !facade {
            return Some(prefix);
        }
        let next = path.get(k)?;
        let target = exports.get(&(prefix, next.clone()))?;
        let mut rest = target.clone();
        rest.extend(path[k + 1..].iter().cloned());
        return resolve(&rest, files, exports);
    }
    None
}

/// The files each (non-facade) file depends on.
fn dependencies(root: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let files = source_files(root);
    let exports = re_exports(&files);
    let mut graph = BTreeMap::new();
    for (module, (path, facade)) in &files {
        if *facade {
            continue;
        }
        let parent = &module[..module.len() - 1];
        let mut out = BTreeSet::new();
        for segments in paths_in(&code_of(path)) {
            let absolute: Vec<String> = if segments[0] == "crate" {
                segments[1..].to_vec()
            } else {
                let ups = segments.iter().take_while(|s| *s == "super").count();
                let base = &parent[..parent.len().saturating_sub(ups - 1)];
                base.iter().chain(&segments[ups..]).cloned().collect()
            };
            if let Some(target) = resolve(&absolute, &files, &exports)
                && target != *module
            {
                out.insert(target);
            }
        }
        graph.insert(module.clone(), out);
    }
    graph
}

/// A cycle through `start`, if any: the path back to it.
fn cycle_from(start: &Module, graph: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<Module>> {
    let mut stack = vec![(start.clone(), vec![start.clone()])];
    let mut seen = BTreeSet::new();
    while let Some((node, path)) = stack.pop() {
        for next in graph.get(&node).into_iter().flatten() {
            if next == start {
                return Some(path.clone());
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

#[test]
fn no_source_file_depends_on_itself_through_others() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = dependencies(&root);
    assert!(graph.len() > 100, "found {} source files", graph.len());
    let gui_imports_cli = graph
        .iter()
        .any(|(m, deps)| m[0] == "gui" && deps.iter().any(|d| d[0] == "cli"));
    assert!(!gui_imports_cli, "the GUI does not depend on the CLI");
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|module| cycle_from(module, &graph))
        .map(|cycle| {
            cycle
                .iter()
                .map(|m| m.join("::"))
                .collect::<Vec<_>>()
                .join(" -> ")
        })
        .collect();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_checker_sees_a_dependency_through_a_facade() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = dependencies(&root);
    let of = |m: &str| graph[&m.split("::").map(str::to_owned).collect::<Module>()].clone();
    let module = |m: &str| m.split("::").map(str::to_owned).collect::<Module>();
    // `use crate::probes::{AMINO_ACID_GROUPS, ...}` goes through probes/mod.rs.
    assert!(of("analysis::map_table").contains(&module("probes::amino_acid_groups")));
    // `use super::session::Session`.
    assert!(of("gui::legacy_settings").contains(&module("gui::session")));
}
