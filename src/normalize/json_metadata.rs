//! An export's JSON `metadata` column spread into metadata columns: one per key (the union over
//! the whole input, in first-seen order). Strings and numbers become text, booleans
//! `true`/`false`, arrays are comma-joined, `null` is empty; a nested object cannot be a CSV
//! cell and rejects the row (`metadata_nested`).

use serde_json::Value;

/// Adds the keys of one cell's JSON object to `keys` (in first-seen order); other cells add
/// nothing (their problem is reported when the row is read).
pub fn collect_keys(cell: &str, keys: &mut Vec<String>) {
    if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(cell) {
        for key in object.keys() {
            if !keys.iter().any(|k| k == key) {
                keys.push(key.clone());
            }
        }
    }
}

/// The value of each of `keys` in one cell, or why the cell cannot be spread.
pub fn spread(cell: &str, keys: &[String]) -> Result<Vec<Option<String>>, String> {
    let mut values = vec![None; keys.len()];
    if cell.trim().is_empty() {
        return Ok(values);
    }
    let object = match serde_json::from_str::<Value>(cell) {
        Ok(Value::Object(object)) => object,
        Ok(_) => return Err("metadata is not a JSON object".to_owned()),
        Err(e) => return Err(format!("metadata is not valid JSON: {e}")),
    };
    for (key, value) in object {
        let text = match &value {
            Value::Null => None,
            Value::Array(items) => {
                let mut parts = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::Object(_) | Value::Array(_) => {
                            return Err(format!("metadata.{key} holds a nested value, which a CSV import cannot carry"));
                        }
                        Value::Null => {}
                        scalar => parts.push(scalar_text(scalar)),
                    }
                }
                Some(parts.join(","))
            }
            Value::Object(_) => {
                return Err(crate::reasons::metadata_nested(&key));
            }
            scalar => Some(scalar_text(scalar)),
        };
        if let Some(index) = keys.iter().position(|k| *k == key) {
            values[index] = text;
        }
    }
    Ok(values)
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_union_in_first_seen_order() {
        let mut keys = Vec::new();
        collect_keys(r#"{"region":"EU","tier":"gold"}"#, &mut keys);
        collect_keys(r#"{"vip":true,"region":"US"}"#, &mut keys);
        collect_keys("not json", &mut keys);
        assert_eq!(keys, ["region", "tier", "vip"]);
    }

    #[test]
    fn values_become_cells() {
        let keys: Vec<String> = ["region", "vip", "tags", "n", "gone"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let values = spread(
            r#"{"region":"EU","vip":false,"tags":["a",1,true],"n":12.5,"gone":null}"#,
            &keys,
        )
        .unwrap();
        assert_eq!(
            values,
            vec![
                Some("EU".into()),
                Some("false".into()),
                Some("a,1,true".into()),
                Some("12.5".into()),
                None
            ]
        );
        assert_eq!(spread("", &keys).unwrap(), vec![None; 5]);
    }

    #[test]
    fn nested_and_broken_cells_are_problems() {
        let keys = vec!["address".to_string()];
        assert!(spread(r#"{"address":{"city":"Paris"}}"#, &keys)
            .unwrap_err()
            .contains("metadata.address is a nested object"));
        assert!(spread("[1,2]", &keys)
            .unwrap_err()
            .contains("not a JSON object"));
        assert!(spread("{oops", &keys)
            .unwrap_err()
            .contains("not valid JSON"));
    }
}
