//! The `liquid-otc` binary: hands the command line to the cli crate and exits with its code.

fn main() {
    std::process::exit(liquid_otc_cli::run());
}
