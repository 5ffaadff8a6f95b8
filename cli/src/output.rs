//! Rendering: results on stdout (human or JSON), notes and errors on stderr.

use std::io::{IsTerminal, Write};

use anstyle::{AnsiColor, Style};
use serde_json::{json, Value};

use crate::args::ColorArg;
use crate::error::CliError;

/// How results and messages are shown.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// One JSON document on stdout, JSON errors on stderr.
    pub json: bool,
    /// No notes or warnings.
    pub quiet: bool,
    /// Error causes and extra notes.
    pub verbose: bool,
    /// ANSI styles on stderr and stdout.
    pub color: bool,
}

const LABEL: Style = Style::new().bold();
const ERROR: Style = AnsiColor::Red.on_default().bold();
const HINT: Style = AnsiColor::Cyan.on_default();
const WARN: Style = AnsiColor::Yellow.on_default().bold();

impl Output {
    /// Decides on colors from the flag, `NO_COLOR` and whether stderr is a terminal.
    pub fn new(json: bool, quiet: bool, verbose: bool, color: ColorArg) -> Self {
        let color = match color {
            ColorArg::Always => true,
            ColorArg::Never => false,
            ColorArg::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stderr().is_terminal()
                    && std::io::stdout().is_terminal()
            }
        };
        Output {
            json,
            quiet,
            verbose,
            color: color && !json,
        }
    }

    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }

    /// Prints a JSON document on stdout.
    pub fn json(&self, value: &Value) {
        let mut out = std::io::stdout().lock();
        // A closed pipe (`| head`) is not an error worth reporting.
        let _ = serde_json::to_writer_pretty(&mut out, value);
        let _ = writeln!(out);
    }

    /// Prints a line on stdout.
    pub fn line(&self, text: &str) {
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }

    /// Prints `label  value` rows with the values aligned.
    pub fn fields(&self, rows: &[(&str, String)]) {
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        let mut out = std::io::stdout().lock();
        for (key, value) in rows {
            let padded = format!("{key:<width$}");
            let _ = writeln!(out, "{}  {value}", self.paint(LABEL, &padded));
        }
    }

    /// Prints a table with a header row, columns aligned.
    pub fn table(&self, header: &[&str], rows: &[Vec<String>]) {
        let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
        for row in rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let render = |cells: Vec<String>| -> String {
            let last = cells.len().saturating_sub(1);
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if i == last {
                        c.clone()
                    } else {
                        format!("{c:<w$}", w = widths[i])
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
        };
        let mut out = std::io::stdout().lock();
        let head = render(header.iter().map(|h| h.to_string()).collect());
        let _ = writeln!(out, "{}", self.paint(LABEL, &head));
        for row in rows {
            let _ = writeln!(out, "{}", render(row.clone()));
        }
    }

    /// A note on stderr (not in quiet or JSON mode).
    pub fn note(&self, text: &str) {
        if !self.quiet && !self.json {
            eprintln!("{text}");
        }
    }

    /// A warning on stderr (not in quiet or JSON mode: there stderr holds only the error).
    pub fn warn(&self, text: &str) {
        if !self.quiet && !self.json {
            eprintln!("{} {text}", self.paint(WARN, "warning:"));
        }
    }

    /// Prints an error on stderr: a JSON object in JSON mode, text otherwise.
    pub fn error(&self, err: &CliError) {
        if self.json {
            let mut error = json!({
                "code": err.code,
                "message": err.message,
                "hints": err.hints,
                "exit": err.exit as i32,
            });
            if self.verbose && !err.causes.is_empty() {
                error["causes"] = json!(err.causes);
            }
            let doc = json!({ "error": error });
            eprintln!("{doc}");
            return;
        }
        eprintln!("{} {}", self.paint(ERROR, "error:"), err.message);
        if self.verbose {
            for cause in &err.causes {
                eprintln!("  caused by: {cause}");
            }
        }
        for hint in &err.hints {
            eprintln!("{} {hint}", self.paint(HINT, "hint:"));
        }
    }
}
