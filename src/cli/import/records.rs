//! Reading an import file record by record. A record is a create body, or the reason
//! its line could not become one, with the line it started on.

use std::io::{self, BufRead, BufReader, Read};

use serde_json::Value;

use super::csv_records::CsvRecords;
use crate::cli::format::DataFormat;
use crate::domain::{FieldError, ValidationCode};

/// One contact's worth of input.
#[derive(Debug)]
pub struct Record {
    /// 1-based line number in the file (for CSV, the line the row starts on).
    pub line: u64,
    /// The JSON body `POST /v1/contacts` would have received, or why there is none.
    pub body: Result<Value, FieldError>,
}

/// The records of an NDJSON or CSV input, read lazily: memory does not grow with the
/// file.
pub enum Records {
    Ndjson(NdjsonRecords),
    Csv(CsvRecords),
}

impl Records {
    /// Starts reading; for CSV this reads and checks the header, whose problems (an
    /// unknown column, no phone column) stop the import before anything is written.
    pub fn open(format: DataFormat, input: Box<dyn Read + Send>) -> anyhow::Result<Self> {
        Ok(match format {
            DataFormat::Ndjson => Self::Ndjson(NdjsonRecords::new(input)),
            DataFormat::Csv => Self::Csv(CsvRecords::new(input)?),
        })
    }

    /// The next record, `None` at the end, `Err` only for a failure to read.
    pub fn next_record(&mut self) -> io::Result<Option<Record>> {
        match self {
            Self::Ndjson(records) => records.next_record(),
            Self::Csv(records) => records.next_record(),
        }
    }

    /// Bytes consumed so far, for progress against the file's size.
    pub fn bytes_read(&self) -> u64 {
        match self {
            Self::Ndjson(records) => records.bytes_read,
            Self::Csv(records) => records.bytes_read(),
        }
    }
}

/// One JSON object per line; blank lines are skipped (but counted in line numbers).
pub struct NdjsonRecords {
    input: BufReader<Box<dyn Read + Send>>,
    buf: Vec<u8>,
    line: u64,
    bytes_read: u64,
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

impl NdjsonRecords {
    fn new(input: Box<dyn Read + Send>) -> Self {
        Self {
            input: BufReader::with_capacity(1 << 20, input),
            buf: Vec::with_capacity(4096),
            line: 0,
            bytes_read: 0,
        }
    }

    fn next_record(&mut self) -> io::Result<Option<Record>> {
        loop {
            self.buf.clear();
            let read = self.input.read_until(b'\n', &mut self.buf)?;
            if read == 0 {
                return Ok(None);
            }
            self.line += 1;
            self.bytes_read += read as u64;
            let mut text = self.buf.as_slice();
            if self.line == 1 {
                text = text.strip_prefix(UTF8_BOM).unwrap_or(text);
            }
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            // serde_json rejects invalid UTF-8 too, so a bad byte rejects its line
            // instead of stopping the import.
            let body = serde_json::from_slice(text).map_err(|err| {
                FieldError::whole(
                    ValidationCode::InvalidJson,
                    format!("the line is not valid JSON: {err}"),
                )
            });
            return Ok(Some(Record {
                line: self.line,
                body,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(format: DataFormat, input: &'static str) -> Vec<(u64, Result<Value, String>)> {
        let mut records = Records::open(format, Box::new(input.as_bytes())).unwrap();
        let mut out = Vec::new();
        while let Some(record) = records.next_record().unwrap() {
            out.push((
                record.line,
                record.body.map_err(|e| e.code.as_str().to_owned()),
            ));
        }
        assert_eq!(records.bytes_read(), input.len() as u64);
        out
    }

    #[test]
    fn ndjson_skips_blank_lines_but_counts_them_and_rejects_bad_json() {
        let records = read_all(
            DataFormat::Ndjson,
            "\u{feff}{\"phone\":\"1\"}\r\n\n  \n{oops}\n[1]\n{\"phone\":\"2\"}",
        );
        let lines: Vec<u64> = records.iter().map(|r| r.0).collect();
        assert_eq!(lines, [1, 4, 5, 6]);
        assert_eq!(records[0].1, Ok(serde_json::json!({"phone": "1"})));
        assert_eq!(records[1].1, Err("VALIDATION_INVALID_JSON".into()));
        // An array is JSON; NewContact::from_json is what rejects it, as the API does.
        assert!(records[2].1.is_ok());
        assert_eq!(records[3].1, Ok(serde_json::json!({"phone": "2"})));
    }

    #[test]
    fn csv_rows_are_numbered_by_the_line_they_start_on_whatever_the_line_ends() {
        for (input, lines) in [
            ("phone\n628111\n628222\n", &[2, 3][..]),
            ("phone\r\n628111\r\n628222\r\n", &[2, 3][..]),
            // Blank lines are skipped and counted.
            ("phone\n\n628111\n\n\n628222\n", &[3, 6][..]),
            ("phone\r\n\r\n628111\r\n\r\n628222", &[3, 5][..]),
            // A quoted cell across lines, then the next row.
            (
                "phone,name\r\n628111,\"Two\r\nLines\"\r\n628222,x\r\n628333,y",
                &[2, 4, 5][..],
            ),
            ("\u{feff}phone\r628111\r628222\r", &[2, 3][..]),
        ] {
            let found: Vec<u64> = read_all(DataFormat::Csv, input)
                .iter()
                .map(|r| r.0)
                .collect();
            assert_eq!(found, lines, "input {input:?}");
        }
        // Long enough that the reader's buffer ends between a \r and its \n.
        let rows = 20_000;
        let mut input = String::from("phone\r\n");
        for n in 0..rows {
            input.push_str(&format!("628111{n:06}\r\n"));
        }
        let mut records = Records::open(DataFormat::Csv, Box::new(io::Cursor::new(input))).unwrap();
        let mut line = 1;
        while let Some(record) = records.next_record().unwrap() {
            line += 1;
            assert_eq!(record.line, line);
        }
        assert_eq!(line, rows + 1);
    }

    #[test]
    fn csv_rows_become_create_bodies() {
        let records = read_all(
            DataFormat::Csv,
            "phone,name,email,tags,custom_fields.tier,custom_fields.ltv\n\
             628111,Budi,,vip;lead,gold,12500000\n\
             \"628222\",\"Siti, S.Kom\",s@x.co,,,\n\
             628333,too,many,cells,here,x,y\n",
        );
        assert_eq!(records.len(), 3);
        assert_eq!(
            records[0],
            (
                2,
                Ok(serde_json::json!({
                    "phone": "628111", "name": "Budi", "tags": ["vip", "lead"],
                    "custom_fields": {"tier": "gold", "ltv": 12500000}
                }))
            )
        );
        assert_eq!(
            records[1],
            (
                3,
                Ok(
                    serde_json::json!({"phone": "628222", "name": "Siti, S.Kom", "email": "s@x.co"})
                )
            )
        );
        assert_eq!(records[2], (4, Err("VALIDATION_INVALID_JSON".into())));
    }

    #[test]
    fn csv_headers_that_cannot_map_to_contacts_are_refused() {
        for header in [
            "name,email\n",
            "phone,emial\n",
            "phone,phone\n",
            "phone,custom_fields,custom_fields.tier\n",
            "phone,custom_fields.\n",
        ] {
            let input: Box<dyn Read + Send> = Box::new(header.as_bytes());
            assert!(
                Records::open(DataFormat::Csv, input).is_err(),
                "header {header:?}"
            );
        }
    }

    #[test]
    fn an_empty_csv_file_is_refused_as_empty() {
        let input: Box<dyn Read + Send> = Box::new(&b""[..]);
        let Err(error) = Records::open(DataFormat::Csv, input) else {
            panic!("an empty CSV file was accepted");
        };
        assert!(error.to_string().contains("is empty"), "{error}");
    }
}
