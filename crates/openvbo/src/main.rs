//! `openvbo`: the server, the Microsoft 365 simulator, a one-command demo,
//! and administration. Everything real lives in the library crates.

mod admin;
mod cli;
mod console;
mod demo;
mod settings;
mod sim;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
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
