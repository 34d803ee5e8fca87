//! The command line. Operators and tests script it: names are a contract.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "openvbo",
    version,
    about = "Open-source Microsoft 365 backup server speaking the Veeam Backup for Microsoft 365 REST API v6"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Run the HTTPS REST API server.
    Serve(ServeArgs),
    /// Run the Microsoft 365 tenant simulator (plain HTTP; tests and demos).
    #[cfg(feature = "simulator")]
    #[command(name = "m365-sim")]
    M365Sim(crate::sim::SimArgs),
    /// Start the simulator with a demo tenant and a server wired to it, and
    /// print how to use them.
    #[cfg(feature = "simulator")]
    Demo(crate::demo::DemoArgs),
    /// Administration of a data dir.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Work on a backup repository without the server (list, extract, check, maintain).
    Repo(openvbo_repo::cli::RepoArgs),
}

/// Every option: flag > environment > config file > default; the settings
/// themselves are one table in `settings.rs`.
#[derive(Args, Debug, Default, Clone)]
pub(crate) struct ServeArgs {
    /// TOML configuration file.
    #[arg(long, env = "OPENVBO_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub settings: crate::settings::Settings,
    /// Begin a new installation although the data dir holds a master key
    /// without its database (refused otherwise: the database was lost).
    #[arg(long)]
    pub initialize: bool,
}

#[derive(Subcommand, Debug)]
pub(crate) enum AdminCommand {
    /// Set a new administrator password (generated unless OPENVBO_ADMIN_PASSWORD
    /// is set) and sign the administrator out everywhere.
    ResetPassword(ResetPasswordArgs),
}

#[derive(Args, Debug)]
pub(crate) struct ResetPasswordArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
    /// The administrator [default: admin, or OPENVBO_ADMIN_USER].
    #[arg(long)]
    pub user: Option<String>,
}

pub(crate) async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => crate::settings::serve(args).await,
        #[cfg(feature = "simulator")]
        Command::M365Sim(args) => crate::sim::run(args).await,
        #[cfg(feature = "simulator")]
        Command::Demo(args) => crate::demo::run(args).await,
        Command::Repo(args) => Ok(openvbo_repo::cli::run(args).await?),
        Command::Admin(AdminCommand::ResetPassword(args)) => {
            crate::admin::reset_password(args).await
        }
    }
}
