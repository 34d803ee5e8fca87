//! `openvbo`: the server, the Microsoft 365 simulator, a one-command demo,
//! and administration. Everything real lives in the library crates.

mod admin;
mod cli;
mod console;
#[cfg(feature = "simulator")]
mod demo;
mod settings;
#[cfg(feature = "simulator")]
mod sim;

use clap::{CommandFactory, FromArgMatches};

fn main() -> std::process::ExitCode {
    // The settings' help shows the server's own defaults (see settings.rs).
    let matches = settings::document_defaults(cli::Cli::command()).get_matches();
    let cli = match cli::Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("openvbo: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("openvbo: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
