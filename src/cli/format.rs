//! The file formats `kontak import` reads and `kontak export` writes, and the CSV
//! conventions both directions share, so that whatever export writes, import reads back
//! as the same contact.

use std::path::Path;

use serde_json::{Number, Value};

/// NDJSON (one create body per line) or CSV (a header, then one contact per row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DataFormat {
    Ndjson,
    Csv,
}

impl DataFormat {
    /// The format a file name implies: `.ndjson`/`.jsonl` or `.csv`, any case.
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "ndjson" | "jsonl" => Some(Self::Ndjson),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }
}

/// Separates tags in a CSV `tags` cell.
pub const TAG_SEPARATOR: char = ';';

/// Prefix of a CSV column that holds one custom field: `custom_fields.tier`.
pub const CUSTOM_FIELD_PREFIX: &str = "custom_fields.";

/// A CSV `tags` cell: `;`-separated, or a JSON array when a tag itself contains `;` or
/// the list would otherwise read as one (a cell that starts with `[`).
pub fn encode_tags(tags: &[String]) -> String {
    let joined = tags.join(&TAG_SEPARATOR.to_string());
    let ambiguous =
        tags.iter().any(|t| t.contains(TAG_SEPARATOR)) || joined.trim_start().starts_with('[');
    if ambiguous {
        Value::from(tags.to_vec()).to_string()
    } else {
        joined
    }
}

/// The JSON value of a `tags` cell. A cell starting with `[` is a JSON array (an
/// invalid one is `Err`); otherwise it is split on `;`, and empty pieces (a trailing
/// `;`) are dropped. Validation of each tag is left to `NewContact::from_json`.
pub fn decode_tags(cell: &str) -> Result<Value, String> {
    if cell.trim_start().starts_with('[') {
        return serde_json::from_str(cell).map_err(|err| {
            format!("a tags cell that starts with '[' must be a JSON array: {err}")
        });
    }
    Ok(Value::Array(
        cell.split(TAG_SEPARATOR)
            .filter(|piece| !piece.trim().is_empty())
            .map(|piece| Value::String(piece.to_owned()))
            .collect(),
    ))
}

/// The JSON value of a `custom_fields.KEY` cell: `true`/`false` are booleans, a JSON
/// number (`12500000`, `-3`, `0.25`) is a number, anything else is the text as it is.
/// So `0042` and `+62812` stay text; a number-looking value that must stay text goes in
/// a `custom_fields` JSON column instead.
pub fn decode_custom_field_cell(cell: &str) -> Value {
    match cell {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        // serde_json skips surrounding whitespace; a padded cell is text, not a number.
        _ if cell.trim() != cell => Value::String(cell.to_owned()),
        _ => match serde_json::from_str::<Number>(cell) {
            Ok(number) => Value::Number(number),
            Err(_) => Value::String(cell.to_owned()),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn formats_follow_the_extension() {
        for (name, format) in [
            ("a.ndjson", Some(DataFormat::Ndjson)),
            ("a.JSONL", Some(DataFormat::Ndjson)),
            ("dir/a.csv", Some(DataFormat::Csv)),
            ("a.json", None),
            ("a", None),
        ] {
            assert_eq!(DataFormat::from_path(Path::new(name)), format, "{name}");
        }
    }

    #[test]
    fn tags_round_trip_through_a_cell() {
        for tags in [
            vec![],
            vec!["vip"],
            vec!["customer", "VIP", "a b"],
            vec!["a;b", "c"],
            vec!["[draft]"],
            vec!["\"quoted\"", "x"],
        ] {
            let tags: Vec<String> = tags.into_iter().map(str::to_owned).collect();
            let cell = encode_tags(&tags);
            assert_eq!(decode_tags(&cell).unwrap(), json!(tags), "cell {cell:?}");
        }
    }

    #[test]
    fn empty_pieces_are_dropped_and_bad_json_arrays_are_errors() {
        assert_eq!(decode_tags("vip;;lead;").unwrap(), json!(["vip", "lead"]));
        assert!(decode_tags("[vip").is_err());
    }

    #[test]
    fn custom_field_cells_keep_numbers_and_booleans_typed() {
        for (cell, value) in [
            ("12500000", json!(12500000)),
            ("-3", json!(-3)),
            ("0.25", json!(0.25)),
            ("true", json!(true)),
            ("False", json!("False")),
            ("0042", json!("0042")),
            ("+62812", json!("+62812")),
            ("PT ABC", json!("PT ABC")),
            (" 12", json!(" 12")),
        ] {
            assert_eq!(decode_custom_field_cell(cell), value, "cell {cell:?}");
        }
    }
}
