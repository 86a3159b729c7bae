//! The product's command line: the global flags, each also readable from a `CONVERGENCE_*`
//! variable, and one file per command. `main.rs` parses and calls the command's function.
//!
//! - `serve` (the default): the web server and workers; `migrate`; `create-admin`; `demo`.
//! - `accounts`: `add-email-account` and `add-channel-account`.
//! - `import_consent`: `import-consent --file F.csv`.
//! - `reports`: `reports-rebuild`.
//! - `backup`: `backup --to FILE` (SQLite, online).
//!
//! Seeding and the benchmarks are the `tools` binary; the provider stand-in is `standin`.

pub mod accounts;
pub mod backup;
pub mod create_admin;
pub mod demo;
pub mod import_consent;
pub mod migrate;
pub mod reports;
pub mod serve;

use clap::{Parser, Subcommand};

/// What a command returns: an error is printed in words and the process exits with 1.
pub type CommandResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

#[derive(Parser, Clone, Debug)]
#[command(
    name = "convergence",
    version,
    about = "Convergence: one conversation per customer, across every channel."
)]
pub struct Cli {
    /// Database URL. `sqlite://FILE` (created when missing) or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        env = "CONVERGENCE_DATABASE_URL",
        default_value = "sqlite://data/convergence.db",
        global = true
    )]
    pub database_url: String,

    /// Address the HTTP server listens on.
    #[arg(
        long,
        env = "CONVERGENCE_LISTEN",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub listen: String,

    /// Public base URL as browsers and providers reach the app (Origin checks, webhook URLs).
    #[arg(
        long,
        env = "CONVERGENCE_PUBLIC_URL",
        default_value = "http://127.0.0.1:3000",
        global = true
    )]
    pub public_url: String,

    /// Secret key for signed tokens (32+ characters). Without it a development key is used and
    /// a warning is printed.
    #[arg(
        long,
        env = "CONVERGENCE_SECRET_KEY",
        hide_env_values = true,
        global = true
    )]
    pub secret_key: Option<String>,

    /// Load the demo data (users, customers, conversations) when the database is empty.
    #[arg(long, env = "CONVERGENCE_DEMO_DATA", action = clap::ArgAction::SetTrue,
          value_parser = clap::builder::FalseyValueParser::new(), global = true)]
    pub demo_data: bool,

    /// IP addresses, comma-separated, that files named by inbound provider payloads may be
    /// downloaded from although they are not public (loopback, private, link-local, ...), e.g.
    /// a provider stand-in on 127.0.0.1. Empty: public addresses only.
    #[arg(
        long,
        env = "CONVERGENCE_MEDIA_ALLOW_ADDRESSES",
        default_value = "",
        global = true
    )]
    pub media_allow_addresses: String,
    /// How long a reply that fails for a passing reason (the provider down, a 5xx) is retried
    /// before it is marked failed: `90s`, `30m`, `24h`, `2d`. Channels whose messaging window
    /// closes sooner (Meta's 24 hours from the customer's last message) stop at the window.
    #[arg(long, env = "CONVERGENCE_RETRY_HORIZON", default_value = "24h",
          value_parser = parse_horizon, global = true)]
    pub retry_horizon: i64,
    /// How long a website chat answer stays unseen, with the visitor gone, before it is sent on
    /// by email: `90s`, `3m`.
    #[arg(long, env = "CONVERGENCE_CHAT_FOLLOWUP_AFTER", default_value = "3m",
          value_parser = parse_horizon, global = true)]
    pub chat_followup_after: i64,

    /// A bearer token for `GET /metrics` (Prometheus text format; 16+ characters). Unset:
    /// the endpoint answers 404.
    #[arg(
        long,
        env = "CONVERGENCE_METRICS_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub metrics_token: Option<String>,

    /// Log lines as JSON objects (one per line) instead of text.
    #[arg(long, env = "CONVERGENCE_LOG_JSON", action = clap::ArgAction::SetTrue,
          value_parser = clap::builder::FalseyValueParser::new(), global = true)]
    pub log_json: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Clone, Debug)]
pub enum Command {
    /// Run the web server and workers (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Create an admin user (password from CONVERGENCE_ADMIN_PASSWORD).
    CreateAdmin(create_admin::CreateAdminArgs),
    /// Load the demo data into an empty database.
    Demo,
    /// Connect a mailbox from the command line (the admin page does the same). Passwords come
    /// from CONVERGENCE_IMAP_PASSWORD and CONVERGENCE_SMTP_PASSWORD, never from arguments.
    AddEmailAccount(accounts::EmailAccountArgs),
    /// Connect a messaging provider account (twilio, whatsapp, messenger, instagram, telegram)
    /// from the command line; the admin page does the same. Settings are a JSON object of the
    /// provider's fields; secrets come from CONVERGENCE_CHANNEL_SECRETS (a JSON object), never
    /// from arguments. Prints the account id and its webhook URL.
    AddChannelAccount(accounts::ChannelAccountArgs),
    /// Import consent from a CSV file: `kind,value,purpose,granted[,detail[,time]]` per line
    /// (kind email, phone, whatsapp, messenger, instagram or telegram; purpose support or
    /// marketing; granted yes or no; time YYYY-MM-DD[ HH:MM] UTC). Recorded with source
    /// "import"; errors are reported per line; importing the same file again adds nothing.
    ImportConsent(import_consent::ImportConsentArgs),
    /// Compute the report episodes and daily rollups again from the messages and events; with
    /// --time-zone or --inactivity-days, change those reporting settings first.
    ReportsRebuild(reports::RebuildArgs),
    /// Write a consistent backup of the SQLite database to a new file while the app runs
    /// (checked before it is named FILE). PostgreSQL is backed up with pg_dump (README).
    Backup(backup::BackupArgs),
}

pub const DEV_SECRET: &str = "convergence-development-secret-do-not-use-in-production";

impl Cli {
    pub fn secret(&self) -> String {
        match &self.secret_key {
            Some(k) if k.len() >= 32 => k.clone(),
            Some(_) => {
                tracing::warn!(
                    "CONVERGENCE_SECRET_KEY is shorter than 32 characters; use a longer one"
                );
                self.secret_key.clone().unwrap_or_default()
            }
            None => {
                tracing::warn!("CONVERGENCE_SECRET_KEY is not set: using the development key");
                DEV_SECRET.to_string()
            }
        }
    }
}

/// A retry horizon in milliseconds, from `24h`, `30m`, `90s`, `2d` or bare seconds.
fn parse_horizon(s: &str) -> Result<i64, String> {
    match app::domain::retry::parse_duration_ms(s) {
        Some(ms) if ms > 0 => Ok(ms),
        _ => Err(format!(
            "{s:?} is not a duration: write e.g. 24h, 30m, 90s or 2d"
        )),
    }
}
