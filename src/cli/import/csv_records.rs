//! CSV import: a header naming contact fields, then one contact per row.

use std::io::{self, Read};

use anyhow::{bail, Context};
use serde_json::{Map, Value};

use super::records::Record;
use crate::cli::format::{decode_custom_field_cell, decode_tags, CUSTOM_FIELD_PREFIX};
use crate::domain::{FieldError, ValidationCode};

/// What a header cell says a column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    Phone,
    Name,
    Email,
    /// `;`-separated, or a JSON array.
    Tags,
    /// A JSON object, all custom fields at once.
    CustomFields,
    /// One custom field, by key.
    CustomField(String),
}

pub struct CsvRecords {
    reader: csv::Reader<Box<dyn Read + Send>>,
    columns: Vec<Column>,
    row: csv::ByteRecord,
}

impl CsvRecords {
    pub(super) fn new(input: Box<dyn Read + Send>) -> anyhow::Result<Self> {
        // flexible: a row with the wrong number of cells is that row's problem (a
        // reject), not a reason to stop the import.
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
        let header = reader.byte_headers().context("reading the CSV header")?;
        let columns = parse_header(header)?;
        Ok(Self {
            reader,
            columns,
            row: csv::ByteRecord::new(),
        })
    }

    pub(super) fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }

    pub(super) fn next_record(&mut self) -> io::Result<Option<Record>> {
        match self.reader.read_byte_record(&mut self.row) {
            Ok(false) => Ok(None),
            Ok(true) => Ok(Some(Record {
                line: self.row.position().map_or(0, csv::Position::line),
                body: row_body(&self.columns, &self.row),
            })),
            Err(err) => {
                let line = err.position().map_or(0, csv::Position::line);
                match err.into_kind() {
                    csv::ErrorKind::Io(err) => Err(err),
                    other => Ok(Some(Record {
                        line,
                        body: Err(malformed_row(format!("{other:?}"))),
                    })),
                }
            }
        }
    }
}

fn parse_header(header: &csv::ByteRecord) -> anyhow::Result<Vec<Column>> {
    let mut columns = Vec::with_capacity(header.len());
    for (index, raw) in header.iter().enumerate() {
        let mut name = std::str::from_utf8(raw)
            .with_context(|| format!("CSV header cell {} is not UTF-8", index + 1))?;
        if index == 0 {
            name = name.trim_start_matches('\u{feff}');
        }
        let column = match name.trim() {
            "phone" => Column::Phone,
            "name" => Column::Name,
            "email" => Column::Email,
            "tags" => Column::Tags,
            "custom_fields" => Column::CustomFields,
            other => match other.strip_prefix(CUSTOM_FIELD_PREFIX) {
                Some(key) if !key.is_empty() => Column::CustomField(key.to_owned()),
                _ => bail!(
                    "unknown CSV column {other:?}; the columns are phone, name, email, tags, \
                     and custom_fields (a JSON object) or custom_fields.KEY (one per field)"
                ),
            },
        };
        if columns.contains(&column) {
            bail!("the CSV header names column {name:?} twice");
        }
        columns.push(column);
    }
    if !columns.contains(&Column::Phone) {
        bail!("the CSV header has no phone column, and every contact needs a phone");
    }
    let whole = columns.contains(&Column::CustomFields);
    if whole && columns.iter().any(|c| matches!(c, Column::CustomField(_))) {
        bail!("use either a custom_fields column or custom_fields.KEY columns, not both");
    }
    Ok(columns)
}

/// The create body a row stands for. An empty cell means "absent" (for a single custom
/// field too: a custom field value cannot be null); validation is left to
/// `NewContact::from_json`, exactly as for an API request.
fn row_body(columns: &[Column], row: &csv::ByteRecord) -> Result<Value, FieldError> {
    if row.len() != columns.len() {
        return Err(malformed_row(format!(
            "the row has {} cells but the header has {}",
            row.len(),
            columns.len()
        )));
    }
    let mut body = Map::new();
    let mut custom = Map::new();
    for (column, raw) in columns.iter().zip(row.iter()) {
        let cell = std::str::from_utf8(raw)
            .map_err(|_| FieldError::invalid(column_name(column), "the cell is not UTF-8"))?;
        if cell.is_empty() && *column != Column::Phone {
            continue;
        }
        let value = match column {
            Column::Tags => decode_tags(cell).map_err(|msg| FieldError::invalid("tags", msg))?,
            Column::CustomFields => serde_json::from_str(cell).map_err(|err| {
                FieldError::invalid(
                    "custom_fields",
                    format!("the custom_fields cell must be a JSON object: {err}"),
                )
            })?,
            Column::CustomField(key) => {
                custom.insert(key.clone(), decode_custom_field_cell(cell));
                continue;
            }
            Column::Phone | Column::Name | Column::Email => Value::String(cell.to_owned()),
        };
        body.insert(column_name(column), value);
    }
    if !custom.is_empty() {
        body.insert("custom_fields".into(), Value::Object(custom));
    }
    Ok(Value::Object(body))
}

fn column_name(column: &Column) -> String {
    match column {
        Column::Phone => "phone".into(),
        Column::Name => "name".into(),
        Column::Email => "email".into(),
        Column::Tags => "tags".into(),
        Column::CustomFields => "custom_fields".into(),
        Column::CustomField(key) => format!("{CUSTOM_FIELD_PREFIX}{key}"),
    }
}

/// A row that is not a well-formed record: the CSV counterpart of a body that is not
/// a JSON object, so it gets the same code.
fn malformed_row(message: String) -> FieldError {
    FieldError::whole(ValidationCode::InvalidJson, message)
}
