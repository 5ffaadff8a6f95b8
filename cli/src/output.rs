//! Rendering: results on stdout (human or JSON), notes and errors on stderr.
//!
//! A closed stdout (`| head -1`) is not an error: the reader has what it wanted, so the
//! process ends quietly with status 0 ([`write_stdout`]). A closed stderr is ignored. No
//! write here ever panics.

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
        write_stdout(|out| {
            serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::from)?;
            writeln!(out)
        });
    }

    /// Prints a line on stdout.
    pub fn line(&self, text: &str) {
        write_stdout(|out| writeln!(out, "{text}"));
    }

    /// Prints `label  value` rows with the values aligned.
    pub fn fields(&self, rows: &[(&str, String)]) {
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        write_stdout(|out| {
            for (key, value) in rows {
                let padded = format!("{key:<width$}");
                writeln!(out, "{}  {value}", self.paint(LABEL, &padded))?;
            }
            Ok(())
        });
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
        let head = render(header.iter().map(|h| h.to_string()).collect());
        write_stdout(|out| {
            writeln!(out, "{}", self.paint(LABEL, &head))?;
            for row in rows {
                writeln!(out, "{}", render(row.clone()))?;
            }
            Ok(())
        });
    }

    /// A note on stderr (not in quiet or JSON mode).
    pub fn note(&self, text: &str) {
        if !self.quiet && !self.json {
            write_stderr(text);
        }
    }

    /// A warning on stderr (not in quiet or JSON mode: there stderr holds only the error).
    pub fn warn(&self, text: &str) {
        if !self.quiet && !self.json {
            write_stderr(&format!("{} {text}", self.paint(WARN, "warning:")));
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
            if let Some(s) = &err.shortfall {
                error["asset"] = json!(s.asset.to_string());
                error["needed"] = json!(s.needed);
                error["available"] = json!(s.available);
            }
            let doc = json!({ "error": error });
            write_stderr(&doc.to_string());
            return;
        }
        write_stderr(&format!("{} {}", self.paint(ERROR, "error:"), err.message));
        if self.verbose {
            for cause in &err.causes {
                write_stderr(&format!("  caused by: {cause}"));
            }
        }
        for hint in &err.hints {
            write_stderr(&format!("{} {hint}", self.paint(HINT, "hint:")));
        }
    }
}

/// Writes to stdout through `write` and flushes. A closed stdout (broken pipe) ends the
/// process quietly with status 0: whoever read it has what it wanted. Any other failure
/// (a full disk behind a redirection) ends it with status 1 and a message on stderr, since a
/// truncated result must not look like a complete one.
pub fn write_stdout(write: impl FnOnce(&mut std::io::StdoutLock<'static>) -> std::io::Result<()>) {
    let mut out = std::io::stdout().lock();
    let result = write(&mut out).and_then(|()| out.flush());
    match result {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            write_stderr(&format!("error: cannot write the result to stdout: {e}"));
            std::process::exit(crate::error::Exit::Error as i32);
        }
    }
}

/// Writes one line to stderr; a closed or failing stderr is ignored (there is nowhere left
/// to report it), never a panic.
pub fn write_stderr(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
