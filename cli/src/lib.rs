//! The liquid-otc command line: a thin clap layer over `wallet-core`.
//!
//! It parses arguments, asks for secrets and confirmations, renders results (human or JSON)
//! and maps every error to a stable code and exit status.

mod arg_groups;
pub mod args;
mod asset_names;
mod cmd;
mod config;
mod context;
pub mod error;
mod input;
pub mod man;
mod output;
mod pay;
mod sandbox_record;
mod signing;
mod values;
mod view;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};

use args::{Cli, Command};
use cmd::asset::AssetGroup;
use context::Context;
use error::{CliError, CliResult, Exit};
use output::Output;

/// The complete clap command tree (for completions, man pages and tests).
pub fn command() -> clap::Command {
    values_may_be_negative(Cli::command())
}

/// No flag of this tool is a number, so `-1` after an option is its value, for the value's
/// own parser to refuse with a message naming the option ("no sign"), not clap's
/// "unexpected argument '-1'".
fn values_may_be_negative(command: clap::Command) -> clap::Command {
    let names: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_owned())
        .collect();
    names
        .iter()
        .fold(command.allow_negative_numbers(true), |command, name| {
            command.mut_subcommand(name, values_may_be_negative)
        })
}

/// Runs the command line and returns the process exit code.
pub fn run() -> i32 {
    let matches = match command().try_get_matches() {
        Ok(matches) => matches,
        Err(err) => return usage_error(err),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => return usage_error(err),
    };
    let network_explicit = !matches!(
        matches.value_source("network"),
        Some(ValueSource::DefaultValue) | None
    );
    let g = &cli.global;
    let fallback = Output::new(g.json, g.quiet, g.verbose, g.color);
    let result = Context::new(g, network_explicit)
        .and_then(|ctx| dispatch(&ctx, &cli.command).map_err(|err| in_asset_units(&ctx, err)));
    match result {
        Ok(()) => 0,
        Err(err) => {
            fallback.error(&err);
            err.exit as i32
        }
    }
}

fn dispatch(ctx: &Context, command: &Command) -> CliResult<()> {
    match command {
        Command::Wallet(sub) => cmd::wallet::run(ctx, sub),
        Command::Address(sub) => cmd::address::run(ctx, sub),
        Command::Send(args) => cmd::send::run(ctx, args),
        Command::Pset(sub) => cmd::pset::run(ctx, sub),
        Command::Asset(AssetGroup::Wallet(sub)) => cmd::asset::run(ctx, sub),
        Command::Asset(AssetGroup::Label(args)) => cmd::label::label(ctx, args),
        Command::Asset(AssetGroup::Unlabel(args)) => cmd::label::unlabel(ctx, args),
        Command::Asset(AssetGroup::Labels) => cmd::label::labels(ctx),
        Command::Pegout(sub) => cmd::pegout::run(ctx, sub),
        Command::Offer(sub) => cmd::offer::run(ctx, sub),
        Command::Deal(sub) => cmd::deal::run(ctx, sub),
        Command::Sync(args) => cmd::sync::run(ctx, args),
        Command::Balance(args) => cmd::sync::balance(ctx, args),
        Command::Txs(args) => cmd::history::txs(ctx, args),
        Command::Utxos => cmd::history::utxos(ctx),
        Command::Tx(sub) => cmd::tx::run(ctx, sub),
        Command::Sandbox(sub) => cmd::sandbox::run(ctx, sub),
        Command::Demo => cmd::demo::run(ctx),
        Command::Completions(args) => cmd::completions::run(args),
    }
}

/// An insufficient-funds error said in the asset's precision, with the names the wallet (or,
/// without one, the data folder) trusts; any other error as it is.
fn in_asset_units(ctx: &Context, err: CliError) -> CliError {
    if err.shortfall.is_none() {
        return err;
    }
    let names = ctx
        .open_wallet()
        .and_then(|wallet| ctx.asset_names(&wallet))
        .or_else(|_| ctx.trusted_asset_names());
    match names {
        Ok(names) => err.in_asset_units(&names),
        Err(_) => err,
    }
}

/// Help and version go to stdout with status 0; real usage errors exit 2, as JSON when the
/// command line asked for `--json`.
fn usage_error(err: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                Exit::Usage as i32
            } else {
                0
            }
        }
        _ => {
            if std::env::args().any(|a| a == "--json") {
                let message = err
                    .render()
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or("invalid arguments")
                    .trim_start_matches("error: ")
                    .to_string();
                let cli_err = CliError::usage("usage", message)
                    .hint("run with --help to see the accepted arguments");
                Output::new(true, false, false, args::ColorArg::Never).error(&cli_err);
            } else {
                let _ = err.print();
            }
            Exit::Usage as i32
        }
    }
}
