//! The JSON Schemas in `schemas/`: equal to the ones the Rust types give
//! (`UPDATE_GOLDEN=1 cargo test --test tests schemas` rewrites them), and every golden JSON
//! output valid against its schema.
//!
//! The validator here covers the keywords schemars writes (`$ref`, `type`, `enum`, `format`,
//! `minimum`, `properties`, `required`, `additionalProperties`, `items`, `allOf`, `anyOf`,
//! `oneOf`, and the annotations) and refuses any other keyword, so that a schema it does not
//! understand can never pass by being ignored. (A validator crate would do, but the one that
//! covers this draft builds DataFusion's dependencies with other features, doubling the first
//! test build.)

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::ROOT;

fn schema(name: &str) -> serde_json::Value {
    let path = Path::new(ROOT).join("schemas").join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// Panics with every violation unless `instance` is valid against `schemas/<name>`.
pub fn assert_valid(name: &str, instance: &Value) {
    let errors = violations(&schema(name), instance);
    assert!(errors.is_empty(), "not valid against {name}: {errors:#?}");
}

/// Every way `instance` breaks `root` (a schema with its `definitions`), with where.
fn violations(root: &Value, instance: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(root, root, instance, "", &mut errors);
    errors
}

fn check(root: &Value, schema: &Value, instance: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = match schema {
        Value::Bool(true) => return,
        Value::Bool(false) => return errors.push(format!("{at}: nothing is allowed here")),
        Value::Object(schema) => schema,
        other => panic!("not a schema: {other}"),
    };
    for (keyword, value) in schema {
        match keyword.as_str() {
            "$schema" | "title" | "description" | "default" | "definitions" => {}
            "$ref" => {
                let name = value
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/definitions/"))
                    .unwrap_or_else(|| panic!("unsupported $ref {value}"));
                let target = &root["definitions"][name];
                assert!(!target.is_null(), "$ref to a missing definition {name}");
                check(root, target, instance, at, errors);
            }
            "type" => {
                let allowed: Vec<&str> = match value {
                    Value::String(one) => vec![one.as_str()],
                    Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
                    other => panic!("unsupported type {other}"),
                };
                if !allowed.iter().any(|kind| is_of_type(instance, kind)) {
                    errors.push(format!("{at}: {instance} is not of type {allowed:?}"));
                }
            }
            "enum" => {
                if !value
                    .as_array()
                    .is_some_and(|items| items.contains(instance))
                {
                    errors.push(format!("{at}: {instance} is not one of {value}"));
                }
            }
            "format" => {
                let unsigned = value.as_str().is_some_and(|f| f.starts_with("uint"));
                if unsigned && instance.is_number() && instance.as_u64().is_none() {
                    errors.push(format!("{at}: {instance} is not an unsigned integer"));
                }
            }
            "minimum" => {
                if let (Some(n), Some(min)) = (instance.as_f64(), value.as_f64()) {
                    if n < min {
                        errors.push(format!("{at}: {n} is below {min}"));
                    }
                }
            }
            "properties" => {
                if let Some(object) = instance.as_object() {
                    for (key, property) in value.as_object().expect("properties is an object") {
                        if let Some(child) = object.get(key) {
                            check(root, property, child, &format!("{at}/{key}"), errors);
                        }
                    }
                }
            }
            "required" => {
                if let Some(object) = instance.as_object() {
                    for key in value.as_array().expect("required is a list") {
                        let key = key.as_str().expect("a property name");
                        if !object.contains_key(key) {
                            errors.push(format!("{at}: '{key}' is required"));
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(object) = instance.as_object() {
                    let known = schema.get("properties").and_then(Value::as_object);
                    for (key, child) in object {
                        if !known.is_some_and(|k| k.contains_key(key)) {
                            check(root, value, child, &format!("{at}/{key}"), errors);
                        }
                    }
                }
            }
            "items" => {
                if let Some(items) = instance.as_array() {
                    for (i, item) in items.iter().enumerate() {
                        check(root, value, item, &format!("{at}/{i}"), errors);
                    }
                }
            }
            "allOf" | "anyOf" | "oneOf" => {
                let branches = value.as_array().expect("a list of schemas");
                let passing = branches
                    .iter()
                    .filter(|branch| {
                        let mut found = Vec::new();
                        check(root, branch, instance, at, &mut found);
                        found.is_empty()
                    })
                    .count();
                let ok = match keyword.as_str() {
                    "allOf" => passing == branches.len(),
                    "anyOf" => passing > 0,
                    _ => passing == 1,
                };
                if !ok {
                    errors.push(format!(
                        "{at}: {instance} fails {keyword} ({passing} of {} branches pass)",
                        branches.len()
                    ));
                }
            }
            other => {
                panic!("the schema uses the keyword '{other}', which this validator does not check")
            }
        }
    }
}

fn is_of_type(instance: &Value, kind: &str) -> bool {
    match kind {
        "object" => instance.is_object(),
        "array" => instance.is_array(),
        "string" => instance.is_string(),
        "boolean" => instance.is_boolean(),
        "null" => instance.is_null(),
        "number" => instance.is_number(),
        "integer" => instance.is_i64() || instance.is_u64(),
        other => panic!("unknown type {other}"),
    }
}

#[test]
fn the_schema_files_are_the_schemas_of_the_types() {
    for (name, schema) in voucher_import::json_schemas() {
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
    crate::util::paths_below(&crate::util::cases_dir())
        .into_iter()
        .filter(|path| path.file_name().is_some_and(|n| n == named))
        .collect()
}

#[test]
fn every_golden_summary_is_valid_against_its_schema() {
    let summaries = golden_files("summary.json");
    assert!(summaries.len() > 20, "{summaries:?}");
    for path in summaries {
        let value = unscrubbed(&path).expect("a golden summary.json is JSON");
        assert_eq!(
            value["schema_version"],
            voucher_import::SCHEMA_VERSION,
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
    let summary = schema("summary.schema.json");
    assert!(violations(&summary, &good).is_empty());
    let mut wrong_type = good.clone();
    wrong_type["accepted"] = "many".into();
    assert!(!violations(&summary, &wrong_type).is_empty());
    let mut negative = good.clone();
    negative["accepted"] = (-1).into();
    assert!(
        !violations(&summary, &negative).is_empty(),
        "counts are unsigned"
    );
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("batches");
    assert!(
        !violations(&summary, &missing).is_empty(),
        "batches is required"
    );
    let mut bad_kind = good.clone();
    bad_kind["campaign"]["campaign_type"] = "COUPONS".into();
    assert!(
        !violations(&summary, &bad_kind).is_empty(),
        "campaign types are an enum"
    );
    let mut bad_batch = good;
    bad_batch["batches"][0]["rows"] = "ten".into();
    assert!(
        !violations(&summary, &bad_batch).is_empty(),
        "nested through $ref"
    );
    let check = schema("check.schema.json");
    let mut bad_entry =
        serde_json::json!({"schema_version": 1, "summary": {}, "rejected_rows": [{}]});
    bad_entry["summary"] = unscrubbed(&golden_files("summary.json").remove(0)).unwrap();
    assert!(
        !violations(&check, &bad_entry).is_empty(),
        "an empty rejected row is not one"
    );
}
