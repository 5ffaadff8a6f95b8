//! Parsing a file of peg-out requests: CSV with a header row, or JSON Lines. Nothing in the
//! file is trusted: every row comes back with its line number and either its fields or the
//! reason it cannot be read; [`super::queue::import`] then checks each row like a typed
//! request and queues all or none.
//!
//! CSV (RFC 4180): a header naming the columns `ref`, `btc_address`, `amount` (required) and
//! `customer`, `note` (optional), in any order; fields may be quoted with `"` (a `""` inside
//! is a quote; quoted fields may hold commas and line breaks); a UTF-8 byte order mark is
//! skipped; blank lines are skipped. JSON Lines: one object per line with the same keys,
//! `amount` a string of BTC (`"0.0015"`), or `amount_sat` an integer; a JSON number for
//! `amount` is refused, since binary floating point cannot hold every amount exactly.
//! Unknown columns or keys are refused, so that a misspelt one is not silently dropped.

use super::RequestInput;
use crate::{Error, Result};

/// The most rows one import may hold.
pub const MAX_ROWS: usize = 100_000;

/// The most bytes one import may hold.
pub const MAX_BYTES: usize = 64 * 1024 * 1024;

/// One row of an import: its first line, and what it holds or why it cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The line of the file where the row starts (1 is the first).
    pub line: usize,
    /// The request it holds, or what is wrong with it.
    pub input: std::result::Result<RequestInput, String>,
}

const COLUMNS: [&str; 5] = ["ref", "btc_address", "amount", "customer", "note"];

/// Parses `text` as CSV with a header, or as JSON Lines when its first non-blank character is
/// `{`. Errors that concern the whole file (too large, no header, a bad header) are an
/// [`Error::ImportRejected`] at line 1; row errors come back in the rows.
pub fn parse(text: &str) -> Result<Vec<Row>> {
    if text.len() > MAX_BYTES {
        return Err(whole_file(format!(
            "the file is larger than {} MiB",
            MAX_BYTES / 1024 / 1024
        )));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rows = if text.trim_start().starts_with('{') {
        parse_json_lines(text)
    } else {
        parse_csv(text)?
    };
    if rows.len() > MAX_ROWS {
        return Err(whole_file(format!(
            "{} rows: at most {MAX_ROWS} per import",
            rows.len()
        )));
    }
    Ok(rows)
}

fn whole_file(reason: String) -> Error {
    Error::ImportRejected {
        rows: vec![(1, reason)],
        total: 0,
        refused: false,
    }
}

fn parse_json_lines(text: &str) -> Vec<Row> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| Row {
            line: i + 1,
            input: json_row(l.trim()),
        })
        .collect()
}

/// A JSON object read with every key once: a key given twice is an error, where
/// `serde_json::Value` would keep the last one silently (`{"ref":"K-10","ref":"K-11"}` would
/// queue K-11).
struct StrictObject(serde_json::Map<String, serde_json::Value>);

impl<'de> serde::Deserialize<'de> for StrictObject {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = StrictObject;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<StrictObject, A::Error> {
                let mut object = serde_json::Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    if object.contains_key(&key) {
                        return Err(serde::de::Error::custom(format!(
                            "key '{}' appears twice",
                            key.escape_default()
                        )));
                    }
                    let value: serde_json::Value = map.next_value()?;
                    object.insert(key, value);
                }
                Ok(StrictObject(object))
            }
        }
        d.deserialize_map(Visit)
    }
}

fn json_row(line: &str) -> std::result::Result<RequestInput, String> {
    let StrictObject(object) = serde_json::from_str(line).map_err(|e| {
        // serde_json says "at line 1 column N" of this one line: say the column only, since
        // the row's error already names its line in the file.
        let text = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let what = text.strip_suffix(&suffix).unwrap_or(&text);
        let what = format!("{what} (column {})", e.column());
        if e.is_data() {
            what
        } else {
            format!("not a JSON object: {what}")
        }
    })?;
    let object = &object;
    for key in object.keys() {
        if !COLUMNS.contains(&key.as_str()) && key != "amount_sat" {
            return Err(format!(
                "unknown key '{}' (keys: ref, btc_address, amount or amount_sat, customer, \
                 note)",
                key.escape_default()
            ));
        }
    }
    let text = |key: &str| -> std::result::Result<Option<String>, String> {
        match object.get(key) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("'{key}' must be a string")),
        }
    };
    let amount =
        match (object.get("amount"), object.get("amount_sat")) {
            (Some(serde_json::Value::String(s)), None) => s.clone(),
            (Some(serde_json::Value::Number(_)), None) => return Err(
                "'amount' must be a string of BTC such as \"0.0015\" (a JSON number may not be \
                 exact), or give 'amount_sat' as an integer"
                    .to_owned(),
            ),
            (None, Some(sat)) => {
                let sat = sat
                    .as_u64()
                    .ok_or_else(|| "'amount_sat' must be a whole number of sat".to_owned())?;
                crate::amount::format_amount(sat, 8)
            }
            (Some(_), Some(_)) => return Err("give 'amount' or 'amount_sat', not both".to_owned()),
            (None, None) => return Err("'amount' is missing".to_owned()),
            (Some(_), None) => return Err("'amount' must be a string".to_owned()),
        };
    Ok(RequestInput {
        reference: text("ref")?.ok_or_else(|| "'ref' is missing".to_owned())?,
        btc_address: text("btc_address")?.ok_or_else(|| "'btc_address' is missing".to_owned())?,
        amount,
        customer: text("customer")?,
        note: text("note")?,
    })
}

/// One CSV record: its first line and its fields, or why it cannot be read.
type Record = (usize, std::result::Result<Vec<String>, String>);

/// Splits CSV text into records (RFC 4180), with the line each starts on.
fn csv_records(text: &str) -> Vec<Record> {
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut line = 1usize;
    let mut start = 1usize;
    let mut quoted = false; // inside quotes
    let mut was_quoted = false; // the current field was quoted
    let mut error: Option<String> = None;
    let mut chars = text.chars().peekable();
    let mut end_record = |fields: &mut Vec<String>,
                          field: &mut String,
                          was_quoted: &mut bool,
                          error: &mut Option<String>,
                          start: usize| {
        let value = if *was_quoted {
            std::mem::take(field)
        } else {
            std::mem::take(field).trim().to_owned()
        };
        fields.push(value);
        *was_quoted = false;
        let all_blank = fields.len() == 1 && fields[0].is_empty();
        let taken = std::mem::take(fields);
        if let Some(e) = error.take() {
            records.push((start, Err(e)));
        } else if !all_blank {
            records.push((start, Ok(taken)));
        }
    };
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                other => field.push(other),
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() && !was_quoted => {
                field.clear();
                quoted = true;
                was_quoted = true;
            }
            '"' => {
                error.get_or_insert_with(|| "a quote inside an unquoted field".to_owned());
            }
            ',' => {
                let value = if was_quoted {
                    std::mem::take(&mut field)
                } else {
                    std::mem::take(&mut field).trim().to_owned()
                };
                fields.push(value);
                was_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                end_record(&mut fields, &mut field, &mut was_quoted, &mut error, start);
                line += 1;
                start = line;
            }
            other => {
                if was_quoted && !other.is_whitespace() {
                    error.get_or_insert_with(|| "text after a closing quote".to_owned());
                }
                if !was_quoted {
                    field.push(other);
                }
            }
        }
    }
    if quoted {
        error = Some("a quoted field is not closed".to_owned());
    }
    end_record(&mut fields, &mut field, &mut was_quoted, &mut error, start);
    records
}

fn parse_csv(text: &str) -> Result<Vec<Row>> {
    let mut records = csv_records(text).into_iter();
    let Some((header_line, header)) = records.next() else {
        return Ok(Vec::new());
    };
    let header = header.map_err(|e| whole_file(format!("the header: {e}")))?;
    let mut index = [None::<usize>; 5];
    for (i, name) in header.iter().enumerate() {
        let name = name.trim().to_ascii_lowercase();
        let Some(k) = COLUMNS.iter().position(|c| *c == name) else {
            return Err(Error::ImportRejected {
                rows: vec![(
                    header_line,
                    format!(
                        "unknown column '{}' in the header (columns: ref, btc_address, amount, \
                         customer, note)",
                        name.escape_default()
                    ),
                )],
                total: 0,
                refused: false,
            });
        };
        if index[k].is_some() {
            return Err(whole_file(format!(
                "column '{name}' appears twice in the header"
            )));
        }
        index[k] = Some(i);
    }
    for (k, required) in COLUMNS.iter().take(3).enumerate() {
        if index[k].is_none() {
            return Err(Error::ImportRejected {
                rows: vec![(
                    header_line,
                    format!(
                        "the header has no '{required}' column (a CSV import starts with a \
                         header such as ref,btc_address,amount,customer,note)"
                    ),
                )],
                total: 0,
                refused: false,
            });
        }
    }
    Ok(records
        .map(|(line, fields)| Row {
            line,
            input: fields.and_then(|f| {
                if f.len() != header.len() {
                    return Err(format!(
                        "{} fields where the header has {}",
                        f.len(),
                        header.len()
                    ));
                }
                let get = |k: usize| index[k].map(|i| f[i].clone());
                Ok(RequestInput {
                    reference: get(0).unwrap_or_default(),
                    btc_address: get(1).unwrap_or_default(),
                    amount: get(2).unwrap_or_default(),
                    customer: get(3),
                    note: get(4),
                })
            }),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(row: &Row) -> &RequestInput {
        row.input.as_ref().unwrap()
    }

    #[test]
    fn csv_with_quotes_and_line_numbers() {
        let text = "\u{feff}ref,amount,btc_address,note\r\n\
                    T-1,0.001,bcrt1qa,\"a, b\"\r\n\
                    \n\
                    T-2, 0.5 ,bcrt1qb,\"two\nlines \"\"quoted\"\"\"\n\
                    T-3,1,bcrt1qc\n";
        let rows = parse(text).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].line, 2);
        assert_eq!(ok(&rows[0]).note.as_deref(), Some("a, b"));
        assert_eq!(rows[1].line, 4);
        assert_eq!(ok(&rows[1]).amount, "0.5");
        assert_eq!(ok(&rows[1]).note.as_deref(), Some("two\nlines \"quoted\""));
        assert_eq!(rows[2].line, 6);
        assert_eq!(
            rows[2].input,
            Err("3 fields where the header has 4".to_owned())
        );
    }

    #[test]
    fn csv_header_must_name_known_columns() {
        for (text, needle) in [
            ("ref,address,amount\nT,a,1\n", "unknown column 'address'"),
            ("ref,btc_address\nT,a\n", "no 'amount' column"),
            (
                "ref,ref,btc_address,amount\n",
                "column 'ref' appears twice in the header",
            ),
        ] {
            match parse(text) {
                Err(Error::ImportRejected { rows, .. }) => {
                    assert!(rows[0].1.contains(needle), "{rows:?}")
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn csv_malformed_quotes_are_row_errors() {
        let rows = parse("ref,btc_address,amount\nT\"1,a,1\n\"T2\"x,a,1\nT3,\"a,1\n").unwrap();
        assert!(rows[0].input.as_ref().unwrap_err().contains("quote"));
        assert!(rows[1]
            .input
            .as_ref()
            .unwrap_err()
            .contains("closing quote"));
        assert!(rows[2].input.as_ref().unwrap_err().contains("not closed"));
    }

    #[test]
    fn json_lines() {
        let text = "{\"ref\":\"T-1\",\"btc_address\":\"a\",\"amount\":\"0.001\"}\n\n\
                    {\"ref\":\"T-2\",\"btc_address\":\"a\",\"amount_sat\":150000,\"customer\":\"C\"}\n\
                    {\"ref\":\"T-3\",\"btc_address\":\"a\",\"amount\":0.001}\n\
                    {\"ref\":\"T-4\",\"btc_address\":\"a\",\"amount\":\"1\",\"memo\":\"x\"}\n\
                    not json\n\
                    {\"ref\":\"K-10\",\"btc_address\":\"a\",\"ref\":\"K-11\",\"amount\":\"1\"}\n\
                    [1]\n";
        let rows = parse(text).unwrap();
        assert_eq!(rows.len(), 7);
        assert_eq!(rows[5].line, 7);
        assert!(
            rows[5]
                .input
                .as_ref()
                .unwrap_err()
                .starts_with("key 'ref' appears twice"),
            "{:?}",
            rows[5]
        );
        assert!(rows[6]
            .input
            .as_ref()
            .unwrap_err()
            .contains("expected a JSON object"));
        assert_eq!(ok(&rows[0]).amount, "0.001");
        assert_eq!(rows[1].line, 3);
        assert_eq!(ok(&rows[1]).amount, "0.0015");
        assert_eq!(ok(&rows[1]).customer.as_deref(), Some("C"));
        assert!(rows[2]
            .input
            .as_ref()
            .unwrap_err()
            .contains("string of BTC"));
        assert!(rows[3]
            .input
            .as_ref()
            .unwrap_err()
            .contains("unknown key 'memo'"));
        assert!(rows[4]
            .input
            .as_ref()
            .unwrap_err()
            .contains("not a JSON object"));
    }
}
