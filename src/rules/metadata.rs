//! Metadata schemas: Voucherify's voucher metadata schema (`--metadata-schema`, the response of
//! `GET /v1/metadata-schemas` or one schema object) checked at home, so that what Voucherify
//! would fail after upload is rejected here with the same kind of message.

use std::path::Path;

use serde_json::Value;

use super::functions::parse_voucherify_datetime;
use crate::error::{Error, Result};

/// A property's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyType {
    /// Text.
    String,
    /// A number: digits with an optional dot and decimals.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A date, `YYYY-MM-DD`.
    Date,
    /// A date with a time, in one of Voucherify's ISO 8601 forms.
    Datetime,
    /// An http(s) URL of an image.
    ImageUrl,
    /// Cannot come from a CSV cell.
    Object,
    /// Cannot come from a CSV cell.
    Geopoint,
}

impl PropertyType {
    /// Every type, as Voucherify spells it.
    const NAMES: [(PropertyType, &'static str); 8] = [
        (PropertyType::String, "string"),
        (PropertyType::Number, "number"),
        (PropertyType::Boolean, "boolean"),
        (PropertyType::Date, "date"),
        (PropertyType::Datetime, "datetime"),
        (PropertyType::ImageUrl, "image_url"),
        (PropertyType::Object, "object"),
        (PropertyType::Geopoint, "geopoint"),
    ];

    /// The type Voucherify spells so.
    pub fn parse(name: &str) -> Option<PropertyType> {
        Self::NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(t, _)| *t)
    }

    /// As Voucherify spells it (`boolean`, `image_url`).
    pub fn as_str(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(t, _)| *t == self)
            .map_or("string", |(_, n)| n)
    }
}

/// One defined metadata property.
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    /// The metadata key, which is the column's name.
    pub name: String,
    /// The type of its values.
    pub kind: PropertyType,
    /// The value is an array of `kind` (comma-separated in a cell).
    pub array: bool,
    /// The value may be empty.
    pub optional: bool,
    /// The value must be one of these (`eq`).
    pub eq: Vec<String>,
    /// The value must be none of these (`ne`).
    pub ne: Vec<String>,
    /// A number must be below this (`lt`).
    pub lt: Option<f64>,
    /// A number must be at most this (`lte`).
    pub lte: Option<f64>,
    /// A number must be above this (`gt`).
    pub gt: Option<f64>,
    /// A number must be at least this (`gte`).
    pub gte: Option<f64>,
    /// Text must have at least this many characters (`minLength`).
    pub min_length: Option<usize>,
    /// Text must have at most this many characters (`maxLength`).
    pub max_length: Option<usize>,
    /// Text must have exactly this many characters (`exactLength`).
    pub exact_length: Option<usize>,
}

/// The voucher metadata schema.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetadataSchema {
    /// Defined, not deleted, properties.
    pub properties: Vec<Property>,
    /// Only the properties defined may be set (`allow_defined_only`).
    pub allow_defined_only: bool,
}

/// What a value fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// Not of the property's type.
    Type(String),
    /// Empty where the property is required.
    Required(String),
    /// Of the type, but outside eq/ne/lt/.../length.
    Constraint(String),
}

impl MetadataSchema {
    /// Each defined property's type, by name, as Voucherify spells it.
    pub fn types(&self) -> std::collections::BTreeMap<String, String> {
        self.properties
            .iter()
            .map(|p| (p.name.clone(), p.kind.as_str().to_owned()))
            .collect()
    }

    /// Reads a schema file (see [`MetadataSchema::from_json`]).
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = crate::text_file::read_settings_file(path, "--metadata-schema")?;
        Self::from_json(&text).map_err(|message| {
            Error::input(
                path,
                message,
                "pass the response of GET /v1/metadata-schemas, or one schema object",
            )
        })
    }

    /// Reads the response of `GET /v1/metadata-schemas` (the voucher schema is used) or one schema object, with camelCase or snake_case keys.
    pub fn from_json(text: &str) -> std::result::Result<Self, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let schema = match value.get("schemas").and_then(Value::as_array) {
            Some(schemas) => schemas
                .iter()
                .find(|s| s.get("related_object").and_then(Value::as_str) == Some("voucher"))
                .ok_or("the list has no schema whose related_object is 'voucher'")?,
            None => &value,
        };
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .ok_or("the schema has no 'properties' object")?;
        let mut parsed = Vec::new();
        for (name, definition) in properties {
            let field =
                |camel: &str, snake: &str| definition.get(camel).or_else(|| definition.get(snake));
            if field("deleted", "deleted").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let named = field("type", "type").and_then(Value::as_str);
            let Some(kind) = named.and_then(PropertyType::parse) else {
                return Err(format!("property '{name}' has an unknown type {named:?}"));
            };
            let texts = |key: &str| -> Vec<String> {
                match definition.get(key) {
                    Some(Value::Array(items)) => items.iter().map(scalar_text).collect(),
                    Some(Value::Null) | None => Vec::new(),
                    Some(other) => vec![scalar_text(other)],
                }
            };
            let number = |key: &str| definition.get(key).and_then(Value::as_f64);
            let length = |camel: &str, snake: &str| {
                field(camel, snake)
                    .and_then(Value::as_u64)
                    .map(|n| n as usize)
            };
            parsed.push(Property {
                name: name.clone(),
                kind,
                array: field("array", "array")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                optional: field("optional", "optional")
                    .and_then(Value::as_bool)
                    .unwrap_or(true),
                eq: texts("eq"),
                ne: texts("ne"),
                lt: number("lt"),
                lte: number("lte"),
                gt: number("gt"),
                gte: number("gte"),
                min_length: length("minLength", "min_length"),
                max_length: length("maxLength", "max_length"),
                exact_length: length("exactLength", "exact_length"),
            });
        }
        Ok(MetadataSchema {
            properties: parsed,
            allow_defined_only: schema
                .get("allow_defined_only")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    /// The property of this name, if the schema defines it.
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Property {
    /// The whole definition, as Voucherify spells it in its failure reasons: `must be a
    /// number, property is required, must be at least 0`.
    pub fn definition(&self) -> String {
        let (one, many) = match self.kind {
            PropertyType::String => ("a string", "strings"),
            PropertyType::Number => ("a number", "numbers"),
            PropertyType::Boolean => ("a boolean (true or false)", "booleans (true or false)"),
            PropertyType::Date => ("a date (YYYY-MM-DD)", "dates (YYYY-MM-DD)"),
            PropertyType::Datetime => (
                "a datetime (ISO 8601, e.g. 2026-12-31T23:59:59Z)",
                "datetimes (ISO 8601, e.g. 2026-12-31T23:59:59Z)",
            ),
            PropertyType::ImageUrl => (
                "an image URL (http:// or https://)",
                "image URLs (http:// or https://)",
            ),
            PropertyType::Object => ("an object", "objects"),
            PropertyType::Geopoint => ("a geopoint", "geopoints"),
        };
        let mut parts = vec![if self.array {
            format!("must be a list of {many}")
        } else {
            format!("must be {one}")
        }];
        if !self.optional {
            parts.push("property is required".to_owned());
        }
        if !self.eq.is_empty() {
            parts.push(format!("must be equal to one of {}", self.eq.join(",")));
        }
        if !self.ne.is_empty() {
            parts.push(format!("must not be equal to any of {}", self.ne.join(",")));
        }
        for (bound, words) in [
            (self.lt, "less than"),
            (self.lte, "at most"),
            (self.gt, "more than"),
            (self.gte, "at least"),
        ] {
            if let Some(b) = bound {
                parts.push(format!("must be {words} {b}"));
            }
        }
        for (length, words) in [
            (self.exact_length, "exactly"),
            (self.min_length, "at least"),
            (self.max_length, "at most"),
        ] {
            if let Some(l) = length {
                parts.push(format!("must be {words} {l} characters long"));
            }
        }
        parts.join(", ")
    }

    /// Checks one cell (trimmed; None when empty).
    pub fn check(&self, value: Option<&str>) -> Option<Violation> {
        // The literal `null` (any case) is Voucherify's documented way to leave a typed
        // property empty: it is no value, not a wrong one.
        let typed = !matches!(self.kind, PropertyType::String);
        let value = value.filter(|v| !(typed && v.eq_ignore_ascii_case("null")));
        let Some(value) = value else {
            return (!self.optional).then(|| {
                Violation::Required(format!(
                    "{}: {} (the cell is empty)",
                    self.name,
                    self.definition()
                ))
            });
        };
        let items: Vec<&str> = if self.array {
            value.split(',').map(str::trim).collect()
        } else {
            vec![value]
        };
        for item in items {
            if let Some(v) = self.check_one(item) {
                return Some(v);
            }
        }
        None
    }

    fn check_one(&self, item: &str) -> Option<Violation> {
        let name = &self.name;
        // Every reason reads like Voucherify's own: the property, its whole definition, the
        // actual value; the kind of violation decides the rule.
        let reason = || format!("{name}: {} (actual value is '{item}')", self.definition());
        let type_error = || Some(Violation::Type(reason()));
        let number = match self.kind {
            PropertyType::String | PropertyType::Object | PropertyType::Geopoint => None,
            PropertyType::Number => match parse_number(item) {
                Some(n) => Some(n),
                None => return type_error(),
            },
            PropertyType::Boolean => {
                if !item.eq_ignore_ascii_case("true") && !item.eq_ignore_ascii_case("false") {
                    return type_error();
                }
                None
            }
            PropertyType::Date => {
                if item.len() != 10 || parse_voucherify_datetime(item).is_none() {
                    return type_error();
                }
                None
            }
            PropertyType::Datetime => {
                if parse_voucherify_datetime(item).is_none() {
                    return type_error();
                }
                None
            }
            PropertyType::ImageUrl => {
                let rest = item
                    .strip_prefix("https://")
                    .or_else(|| item.strip_prefix("http://"));
                if !rest.is_some_and(|r| {
                    !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace)
                }) {
                    return type_error();
                }
                None
            }
        };
        let constraint = || Some(Violation::Constraint(reason()));
        let same = |allowed: &String| match (number, parse_number(allowed)) {
            (Some(a), Some(b)) => a == b,
            _ => allowed == item,
        };
        if !self.eq.is_empty() && !self.eq.iter().any(same) {
            return constraint();
        }
        if self.ne.iter().any(same) {
            return constraint();
        }
        if let Some(n) = number {
            let out_of_bounds = self.lt.is_some_and(|b| n >= b)
                || self.lte.is_some_and(|b| n > b)
                || self.gt.is_some_and(|b| n <= b)
                || self.gte.is_some_and(|b| n < b);
            if out_of_bounds {
                return constraint();
            }
        }
        let length = item.chars().count();
        let wrong_length = self.exact_length.is_some_and(|l| length != l)
            || self.min_length.is_some_and(|l| length < l)
            || self.max_length.is_some_and(|l| length > l);
        if wrong_length {
            return constraint();
        }
        None
    }
}

/// A number in metadata: an optional minus, digits, and any number of decimals after a dot
/// (`1.234`, `-0.5`). "At most 2 decimals" is documented for the constraint values of a number
/// definition, not for the values. Forms no source settles (`1e2`, `+1`, `.5`, `1,5`) are
/// refused.
fn parse_number(text: &str) -> Option<f64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let ok = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && !(digits.contains('.') && fraction.is_empty());
    ok.then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMAS: &str = r#"{"object":"list","data_ref":"schemas","total":2,"schemas":[
      {"id":"ms_c","related_object":"customer","properties":{}},
      {"id":"ms_v","related_object":"voucher","allow_defined_only":true,"properties":{
        "priority":{"type":"number","optional":false,"gte":0,"lt":100},
        "vip":{"type":"boolean"},
        "tier":{"type":"string","eq":["gold","silver","bronze"]},
        "tags":{"type":"string","array":true,"maxLength":5},
        "issued_on":{"type":"date"},
        "code_hint":{"type":"string","exact_length":4},
        "old":{"type":"number","deleted":true},
        "logo":{"type":"image_url"}
      }}]}"#;

    #[test]
    fn the_voucher_schema_is_taken_from_the_list() {
        let schema = MetadataSchema::from_json(SCHEMAS).unwrap();
        assert!(schema.allow_defined_only);
        assert!(
            schema.property("old").is_none(),
            "deleted definitions check nothing"
        );
        assert_eq!(schema.property("code_hint").unwrap().exact_length, Some(4));
        assert!(!schema.property("priority").unwrap().optional);
    }

    #[test]
    fn values_are_checked_like_voucherify() {
        let schema = MetadataSchema::from_json(SCHEMAS).unwrap();
        let check = |name: &str, value: Option<&str>| schema.property(name).unwrap().check(value);
        assert_eq!(check("priority", Some("12.5")), None);
        assert_eq!(
            check("priority", Some("n/a")),
            Some(Violation::Type(
                "priority: must be a number, property is required, must be less than 100, must be at least 0 (actual value is 'n/a')".into()
            ))
        );
        assert_eq!(check("priority", Some("1.234")), None);
        assert!(
            matches!(
                check("priority", Some("-0.5")),
                Some(Violation::Constraint(_))
            ),
            "a number, below gte 0"
        );
        for unsettled in ["1e2", "+1", ".5", "1,5", "1.", "--1"] {
            assert!(
                matches!(check("priority", Some(unsettled)), Some(Violation::Type(_))),
                "{unsettled}"
            );
        }
        assert!(
            matches!(check("priority", Some("100")), Some(Violation::Constraint(m)) if m.contains("must be less than 100"))
        );
        assert!(matches!(
            check("priority", None),
            Some(Violation::Required(_))
        ));
        assert_eq!(check("vip", None), None);
        assert!(matches!(
            check("vip", Some("perhaps")),
            Some(Violation::Type(_))
        ));
        assert!(
            matches!(check("tier", Some("platinum")), Some(Violation::Constraint(m)) if m.contains("must be equal to one of gold,silver,bronze"))
        );
        assert_eq!(check("tags", Some("a,bb, ccc")), None);
        assert!(matches!(
            check("tags", Some("a,toolong")),
            Some(Violation::Constraint(_))
        ));
        assert!(matches!(
            check("issued_on", Some("31/02/2026")),
            Some(Violation::Type(_))
        ));
        assert_eq!(check("issued_on", Some("2026-02-28")), None);
        assert!(matches!(
            check("code_hint", Some("abc")),
            Some(Violation::Constraint(_))
        ));
        assert_eq!(check("logo", Some("https://cdn.example.com/a.png")), None);
        assert!(matches!(
            check("logo", Some("ftp://x")),
            Some(Violation::Type(_))
        ));
    }
}
