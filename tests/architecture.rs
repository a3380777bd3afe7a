//! The house rules the layout section of the README states, checked on the sources: the
//! library's top-level modules import each other without a cycle, and no source file is over
//! 500 lines (but the CSV splitter, one state machine).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use crate::util::{paths_below, ROOT};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    paths_below(dir)
        .into_iter()
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .collect()
}

/// The top-level module a file of `src/` belongs to (`upload` for `src/upload/client.rs`,
/// `formats` for `src/formats.rs`); None for `lib.rs` and for test files.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).unwrap();
    let parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let is_test = parts
        .iter()
        .any(|p| p == "tests" || p == "tests.rs" || p.ends_with("_tests.rs"));
    match parts.as_slice() {
        [file] if file == "lib.rs" => None,
        _ if is_test => None,
        [file] => Some(file.trim_end_matches(".rs").to_owned()),
        [folder, ..] => Some(folder.clone()),
        [] => None,
    }
}

/// Every `crate::MODULE` a file's code names (comments and its `#[cfg(test)] mod tests` left
/// out), with the line it is on.
fn imports(text: &str) -> Vec<(String, usize)> {
    let code = text
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default();
    let mut found = Vec::new();
    for (number, line) in code.lines().enumerate() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                .collect();
            if !name.is_empty() {
                found.push((name, number + 1));
            }
        }
    }
    found
}

#[test]
fn the_library_modules_import_each_other_without_a_cycle() {
    let src = Path::new(ROOT).join("src");
    // module -> module it imports -> where
    let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for file in rust_files(&src) {
        let Some(module) = module_of(&src, &file) else {
            continue;
        };
        let text = fs::read_to_string(&file).unwrap();
        for (imported, line) in imports(&text) {
            if imported != module {
                graph
                    .entry(module.clone())
                    .or_default()
                    .entry(imported)
                    .or_insert_with(|| format!("{}:{line}", file.display()));
            }
        }
    }
    assert!(graph.len() > 10, "the modules were found: {graph:?}");
    // Depth-first search; a module met again on the path closes a cycle.
    fn visit(
        module: &str,
        graph: &BTreeMap<String, BTreeMap<String, String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| m == module) {
            let mut cycle = path[at..].to_vec();
            cycle.push(module.to_owned());
            return Some(cycle);
        }
        if done.contains(module) {
            return None;
        }
        path.push(module.to_owned());
        for next in graph.get(module).into_iter().flat_map(|edges| edges.keys()) {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(module.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        if let Some(cycle) = visit(module, &graph, &mut Vec::new(), &mut done) {
            let edges: Vec<String> = cycle
                .windows(2)
                .map(|pair| format!("{} -> {} ({})", pair[0], pair[1], graph[&pair[0]][&pair[1]]))
                .collect();
            panic!(
                "the modules import each other in a cycle:\n{}",
                edges.join("\n")
            );
        }
    }
}

#[test]
fn no_source_file_is_over_500_lines_but_the_csv_splitter() {
    let mut long = Vec::new();
    for dir in ["src", "crates"] {
        for file in rust_files(&Path::new(ROOT).join(dir)) {
            let lines = fs::read_to_string(&file).unwrap().lines().count();
            if lines > 500 && !file.ends_with("crates/read/src/split.rs") {
                long.push(format!("{} ({lines} lines)", file.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "split along a concept: {}",
        long.join(", ")
    );
}

/// The folders of the repository that are not its files: build output, caches, the fuzzer's
/// working folders, the wheels `scripts/build-wheel` writes.
fn is_generated(path: &Path) -> bool {
    let relative = path.strip_prefix(ROOT).unwrap_or(path);
    let first = relative
        .iter()
        .next()
        .and_then(|p| p.to_str())
        .unwrap_or("");
    matches!(first, "target" | ".git" | "dist")
        || relative.starts_with("fuzz/target")
        || relative.starts_with("fuzz/corpus")
        || relative.starts_with("fuzz/artifacts")
        || relative.starts_with("fuzz/coverage")
        || relative
            .iter()
            .any(|p| p == "__pycache__" || p == ".pytest_cache" || p == ".venv")
}

/// The repository's text files (sources, documents, scripts, manifests).
fn text_files() -> Vec<PathBuf> {
    paths_below(Path::new(ROOT))
        .into_iter()
        .filter(|path| !is_generated(path))
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            matches!(
                extension,
                "rs" | "md" | "py" | "sh" | "toml" | "yml" | "sql" | "pyi"
            ) || matches!(name, "run" | "build-wheel")
        })
        .collect()
}

#[test]
fn the_repository_refers_to_no_file_outside_it() {
    let files = text_files();
    assert!(
        files.len() > 100,
        "the repository's files were found: {}",
        files.len()
    );
    // Folders beside the repository's own, and tools a clone does not come with (written in
    // pieces, so that this file does not hold what it looks for).
    let outside = [
        concat!("../", "shared"),
        concat!("/wo", "rk/"),
        concat!("farm", "-studio"),
        concat!("duplicates", " --change"),
    ];
    let mut found = Vec::new();
    for file in &files {
        let Ok(text) = fs::read_to_string(file) else {
            continue;
        };
        for (number, line) in text.lines().enumerate() {
            for pattern in outside {
                if line.contains(pattern) {
                    found.push(format!("{}:{}: {pattern}", file.display(), number + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "files refer outside the repository:\n{}",
        found.join("\n")
    );
}

#[test]
fn every_relative_link_of_the_documents_resolves_and_the_python_readme_has_none() {
    let mut broken = Vec::new();
    for file in text_files() {
        if file.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap();
        // The package index shows the Python package's README without the repository.
        let standalone =
            file.ends_with("python/README.md") || file.ends_with("crates/read/README.md");
        let mut rest = text.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let target = rest.split(')').next().unwrap_or("");
            if target.starts_with("http")
                || target.starts_with('#')
                || target.starts_with("mailto:")
            {
                continue;
            }
            let path = target.split('#').next().unwrap_or("");
            if standalone {
                broken.push(format!(
                    "{}: a link into the repository: {target}",
                    file.display()
                ));
            } else if !file.parent().unwrap().join(path).exists() {
                broken.push(format!("{}: {target} does not exist", file.display()));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}
