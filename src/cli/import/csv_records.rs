//! CSV import: a header naming contact fields, then one contact per row.

use std::collections::VecDeque;
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
    reader: csv::Reader<LineBreaks>,
    columns: Vec<Column>,
    row: csv::ByteRecord,
}

impl CsvRecords {
    pub(super) fn new(input: Box<dyn Read + Send>) -> anyhow::Result<Self> {
        let input = LineBreaks {
            input,
            read: 0,
            breaks: VecDeque::new(),
            ended: 0,
            last_cr: None,
        };
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
                line: self.reader.get_mut().line_at(self.row.position()),
                body: row_body(&self.columns, &self.row),
            })),
            Err(err) => {
                let line = self.reader.get_mut().line_at(err.position());
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

/// The input, noting where its line breaks are as the CSV reader reads it, so that a
/// row's byte offset can be turned into the line its first cell is on.
///
/// Why not `csv::Position::line`: it counts a row that follows a `\r\n` or a blank line
/// as starting on the line before (rust-csv issues 395 and 208), and files saved by
/// spreadsheets on Windows end their lines with `\r\n`. The row's byte offset is
/// right up to that: it is where the terminator before the row ends, or where the
/// blank lines before it start.
struct LineBreaks {
    input: Box<dyn Read + Send>,
    /// Bytes handed to the CSV reader so far.
    read: u64,
    /// The offset of every `\r` and `\n` read and not yet passed by a row, with whether
    /// it is a `\n`. Rows come in file order, so each break is counted once and then
    /// forgotten: what is kept is at most the CSV reader's read-ahead.
    breaks: VecDeque<(u64, bool)>,
    /// Lines ended before the last row. A line ends with `\n`, `\r\n` or a lone `\r`,
    /// as a row does for the CSV reader.
    ended: u64,
    /// Where the last `\r` was: a `\n` right after it ends no further line.
    last_cr: Option<u64>,
}

impl Read for LineBreaks {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.input.read(buf)?;
        for (at, byte) in (self.read..).zip(&buf[..n]) {
            if matches!(byte, b'\r' | b'\n') {
                self.breaks.push_back((at, *byte == b'\n'));
            }
        }
        self.read += n as u64;
        Ok(n)
    }
}

impl LineBreaks {
    /// The line of the row that starts at `position`.
    fn line_at(&mut self, position: Option<&csv::Position>) -> u64 {
        let Some(start) = position.map(csv::Position::byte) else {
            return 0;
        };
        let mut content = start;
        while let Some(&(at, newline)) = self.breaks.front() {
            // Breaks before the row, then those it opens with: a row's own first byte
            // is never a bare line break (one inside a cell is quoted).
            if at > content {
                break;
            }
            if at == content {
                content += 1;
            }
            let after_cr = self.last_cr.is_some_and(|cr| cr + 1 == at);
            if !(newline && after_cr) {
                self.ended += 1;
            }
            self.last_cr = (!newline).then_some(at);
            self.breaks.pop_front();
        }
        self.ended + 1
    }
}

fn parse_header(header: &csv::ByteRecord) -> anyhow::Result<Vec<Column>> {
    if header.is_empty() {
        bail!("the CSV file is empty; its first line must be the header, naming a phone column");
    }
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
