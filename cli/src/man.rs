//! Man pages for the whole command tree, rendered with clap_mangen plus an EXIT STATUS section.

use clap::Command;

/// The roff text of the EXIT STATUS section, shared by every page.
fn exit_status_section() -> String {
    let mut roff = String::from(".SH \"EXIT STATUS\"\n");
    for line in crate::args::EXIT_STATUS_HELP.lines().skip(1) {
        let line = line.trim();
        if let Some((code, text)) = line.split_once(char::is_whitespace) {
            roff.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", text.trim()));
        }
    }
    roff
}

fn render_page(command: &Command) -> Vec<u8> {
    let man = clap_mangen::Man::new(command.clone())
        .date("")
        .source("liquid-otc");
    let mut page = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = man.render_title(&mut page);
    let _ = man.render_name_section(&mut page);
    let _ = man.render_synopsis_section(&mut page);
    let _ = man.render_description_section(&mut page);
    if command.get_arguments().any(|a| !a.is_hide_set()) {
        let _ = man.render_options_section(&mut page);
    }
    if command.has_subcommands() {
        let _ = man.render_subcommands_section(&mut page);
    }
    page.extend_from_slice(exit_status_section().as_bytes());
    let _ = man.render_version_section(&mut page);
    page
}

fn collect(command: &Command, parent: Option<(&str, &str)>, pages: &mut Vec<(String, Vec<u8>)>) {
    let (name, bin) = match parent {
        None => (
            command.get_name().to_string(),
            command.get_name().to_string(),
        ),
        Some((page, bin)) => (
            format!("{page}-{}", command.get_name()),
            format!("{bin} {}", command.get_name()),
        ),
    };
    let page_command = command.clone().name(name.clone()).bin_name(bin.clone());
    pages.push((format!("{name}.1"), render_page(&page_command)));
    for sub in command.get_subcommands() {
        if sub.get_name() != "help" {
            collect(sub, Some((&name, &bin)), pages);
        }
    }
}

/// Every man page as `(file name, roff bytes)`, one per command and subcommand.
pub fn pages() -> Vec<(String, Vec<u8>)> {
    let mut command = crate::command();
    command.build();
    let mut pages = Vec::new();
    collect(&command, None, &mut pages);
    pages
}
