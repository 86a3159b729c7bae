//! The `server` binary: parses the command line and runs the one command it names (`cli/`).

use clap::Parser;
use server::cli::{self, Cli, Command};

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("CONVERGENCE_LOG")
        .unwrap_or_else(|_| "info,sqlx=warn,tower_sessions=warn".into());
    if cli.log_json {
        tracing_subscriber::fmt()
            .json()
            .with_current_span(false)
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let done = match cli.command.clone().unwrap_or(Command::Serve) {
        Command::Serve => cli::serve::run(&cli).await,
        Command::Migrate => cli::migrate::run(&cli).await,
        Command::CreateAdmin(args) => cli::create_admin::run(&cli, args).await,
        Command::Demo => cli::demo::run(&cli).await,
        Command::AddEmailAccount(args) => cli::accounts::add_email_account(&cli, args).await,
        Command::AddChannelAccount(args) => cli::accounts::add_channel_account(&cli, args).await,
        Command::ImportConsent(args) => cli::import_consent::run(&cli, args).await,
        Command::ReportsRebuild(args) => cli::reports::run(&cli, args).await,
        Command::Backup(args) => cli::backup::run(&cli, args).await,
    };
    if let Err(e) = done {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
