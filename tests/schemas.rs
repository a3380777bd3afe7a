//! The JSON Schemas in `schemas/`: equal to the ones the Rust types give
//! (`UPDATE_GOLDEN=1 cargo test --test tests schemas` rewrites them), and every golden JSON
//! output valid against its schema.

use std::path::{Path, PathBuf};

use crate::util::ROOT;

fn schema(name: &str) -> serde_json::Value {
    let path = Path::new(ROOT).join("schemas").join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// Panics with every violation unless `instance` is valid against `schemas/<name>`.
pub fn assert_valid(name: &str, instance: &serde_json::Value) {
    let validator = jsonschema::validator_for(&schema(name)).expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "not valid against {name}: {errors:#?}");
}

#[test]
fn the_schema_files_are_the_schemas_of_the_types() {
    for (name, schema) in voucher_import::schemas::all() {
        let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        let path = Path::new(ROOT).join("schemas").join(name);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == text,
            "schemas/{name} is not the schema of its type: UPDATE_GOLDEN=1 cargo test --test tests schemas rewrites it"
        );
    }
}

/// A golden file's JSON with the placeholders the golden harness writes (`util::scrub`) put
/// back as values of their type.
fn unscrubbed(path: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(path).ok()?;
    let text = text.replace("\"elapsed_ms\": \"{elapsed}\"", "\"elapsed_ms\": 0");
    serde_json::from_str(&text).ok()
}

fn golden_files(named: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![Path::new(ROOT).join("tests/golden")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.file_name().is_some_and(|n| n == named) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn every_golden_summary_is_valid_against_its_schema() {
    let summaries = golden_files("summary.json");
    assert!(summaries.len() > 20, "{summaries:?}");
    for path in summaries {
        let value = unscrubbed(&path).expect("a golden summary.json is JSON");
        assert_eq!(
            value["schema_version"],
            voucher_import::report::SCHEMA_VERSION,
            "{path:?}"
        );
        assert_valid("summary.schema.json", &value);
    }
}

#[test]
fn every_golden_json_on_stdout_is_valid_against_its_schema() {
    let mut checked = 0;
    for path in golden_files("stdout") {
        let Some(value) = unscrubbed(&path) else {
            continue; // a table, or text
        };
        let name = if value.get("rejected_rows").is_some() {
            "check.schema.json"
        } else if value.get("error").is_some() {
            "error.schema.json"
        } else if value.get("input_rows").is_some() {
            "summary.schema.json"
        } else {
            continue;
        };
        assert_valid(name, &value);
        checked += 1;
    }
    assert!(checked > 0, "some golden stdout is JSON");
}

#[test]
fn the_schemas_refuse_what_the_types_would_not_write() {
    let path = golden_files("summary.json").remove(0);
    let good = unscrubbed(&path).unwrap();
    let validator = jsonschema::validator_for(&schema("summary.schema.json")).unwrap();
    assert!(validator.is_valid(&good));
    let mut wrong_type = good.clone();
    wrong_type["accepted"] = "many".into();
    assert!(!validator.is_valid(&wrong_type));
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("batches");
    assert!(!validator.is_valid(&missing), "batches is required");
    let mut bad_kind = good;
    bad_kind["campaign"]["campaign_type"] = "COUPONS".into();
    assert!(!validator.is_valid(&bad_kind), "campaign types are an enum");
}
