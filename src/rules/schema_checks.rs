//! A metadata schema matched to a run's columns: which rule checks which column, and
//! the notes and file-level problems of the match.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};
use crate::formats::Rewrite;
use crate::normalize::headers::KnownColumn;
use crate::normalize::TableLayout;
use crate::rules::engine::Finding;
use crate::rules::metadata::{MetadataSchema, Property, PropertyType, Violation};
use crate::rules::{names, RuleId, RuleSet};

/// The metadata schema's checks for this run's columns.
#[derive(Default)]
pub(crate) struct SchemaChecks {
    /// (rule-table column, property) for every metadata column the schema defines.
    pub(crate) columns: Vec<(usize, Property)>,
    pub(crate) type_rule: Option<RuleId>,
    pub(crate) required_rule: Option<RuleId>,
    pub(crate) constraint_rule: Option<RuleId>,
    /// The rule an export's unusable JSON metadata fails (set with or without a schema).
    pub(crate) nested_rule: Option<RuleId>,
    /// What matching the schema to the columns found (a required property without a column).
    pub(crate) notes: Vec<String>,
}

impl SchemaChecks {
    /// Matches the schema to the layout; the file-level problems stop the run here.
    pub(crate) fn new(
        schema: &MetadataSchema,
        layout: &TableLayout,
        rules: &RuleSet,
        first_input: &std::path::Path,
    ) -> Result<Self> {
        let mut notes = Vec::new();
        for property in &schema.properties {
            let present = layout.metadata.contains(&property.name);
            if present && matches!(property.kind, PropertyType::Object | PropertyType::Geopoint) {
                return Err(Error::input(
                    first_input,
                    format!(
                        "metadata column '{}' is of type {:?} in the metadata schema, which a CSV import cannot carry",
                        property.name, property.kind
                    ),
                    format!("--drop {} and set it through the API", property.name),
                ));
            }
            if !present && !property.optional {
                // Codes imported without the column inherit the campaign's metadata, which
                // may hold it: whether Voucherify then fails the row is unconfirmed.
                notes.push(format!(
                    "the metadata schema requires '{}', and no input has that column: the codes inherit the campaign's value of it, if the campaign has one (if not, Voucherify may fail every row)",
                    property.name
                ));
            }
        }
        if schema.allow_defined_only {
            let undefined: Vec<&str> = layout
                .metadata
                .iter()
                .filter(|m| schema.property(m).is_none())
                .map(String::as_str)
                .collect();
            if !undefined.is_empty() {
                return Err(Error::input(
                    first_input,
                    format!(
                        "the metadata schema allows defined properties only, and these columns are not defined: {}",
                        undefined.join(", ")
                    ),
                    format!(
                        "leave them out with {}",
                        undefined.iter().map(|u| format!("--drop {u}")).collect::<Vec<_>>().join(" ")
                    ),
                ));
            }
        }
        let columns = layout
            .metadata
            .iter()
            .enumerate()
            .filter_map(|(i, name)| {
                schema
                    .property(name)
                    .map(|p| (KnownColumn::ALL.len() + i, p.clone()))
            })
            .collect();
        Ok(SchemaChecks {
            columns,
            type_rule: rules.find(names::METADATA_TYPE),
            required_rule: rules.find(names::METADATA_REQUIRED),
            constraint_rule: rules.find(names::METADATA_CONSTRAINT),
            nested_rule: rules.find(names::METADATA_NESTED),
            notes,
        })
    }

    /// How a metadata column's values are written: in the schema's canonical spelling.
    pub(crate) fn rewrite(&self, column_name: &str) -> Option<Rewrite> {
        let (_, property) = self.columns.iter().find(|(_, p)| p.name == column_name)?;
        let boolean = property.kind == PropertyType::Boolean;
        match (property.array, property.kind) {
            (true, _) => Some(Rewrite::ArrayItems { boolean }),
            (false, PropertyType::String) => None,
            (false, _) => Some(Rewrite::Lowercase { boolean }),
        }
    }

    pub(crate) fn is_boolean(&self, column_name: &str) -> bool {
        self.columns
            .iter()
            .any(|(_, p)| p.name == column_name && p.kind == PropertyType::Boolean && !p.array)
    }

    /// Adds the schema findings of every row of a batch.
    pub(crate) fn evaluate(
        &self,
        batch: &RecordBatch,
        skip: &[bool],
        findings: &mut [Vec<Finding>],
    ) {
        for (column, property) in &self.columns {
            let values = batch.column(*column).as_string::<i32>();
            for (row, found) in findings.iter_mut().enumerate() {
                if skip[row] {
                    continue;
                }
                let value = values.is_valid(row).then(|| values.value(row));
                let (rule, reason) = match property.check(value) {
                    None => continue,
                    Some(Violation::Type(r)) => (self.type_rule, r),
                    Some(Violation::Required(r)) => (self.required_rule, r),
                    Some(Violation::Constraint(r)) => (self.constraint_rule, r),
                };
                if let Some(rule) = rule {
                    found.push(Finding {
                        error: false,
                        rule,
                        reason,
                    });
                }
            }
        }
    }
}
