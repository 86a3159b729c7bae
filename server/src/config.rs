//! Configuration: command-line flags, each also readable from a `CONVERGENCE_*` variable.

use clap::{Parser, Subcommand};

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
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
    /// Load the demo data into an empty database.
    Demo,
    /// Generate a large dataset for benchmarks.
    Seed {
        #[arg(long, default_value_t = 100_000)]
        customers: i64,
        #[arg(long, default_value_t = 1_000_000)]
        messages: i64,
        /// Messages in the one very long conversation.
        #[arg(long, default_value_t = 10_000)]
        big: i64,
    },
    /// Measure the inbox page and the long conversation against a running server.
    Bench {
        #[arg(long, default_value = "http://127.0.0.1:3000")]
        base_url: String,
        #[arg(long, default_value = "bench@convergence.test")]
        email: String,
        #[arg(long, default_value = "bench-password-1")]
        password: String,
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Connect a mailbox from the command line (the admin page does the same). Passwords come
    /// from CONVERGENCE_IMAP_PASSWORD and CONVERGENCE_SMTP_PASSWORD, never from arguments.
    AddEmailAccount {
        #[arg(long)]
        name: String,
        /// Our From address.
        #[arg(long)]
        address: String,
        #[arg(long, default_value = "")]
        from_name: String,
        #[arg(long)]
        imap_host: String,
        #[arg(long, default_value_t = 993)]
        imap_port: u16,
        /// tls, starttls or none
        #[arg(long, default_value = "tls")]
        imap_tls: String,
        #[arg(long)]
        imap_user: String,
        #[arg(long, default_value = "INBOX")]
        folder: String,
        #[arg(long, default_value = "")]
        smtp_host: String,
        #[arg(long, default_value_t = 465)]
        smtp_port: u16,
        #[arg(long, default_value = "tls")]
        smtp_tls: String,
        #[arg(long, default_value = "")]
        smtp_user: String,
    },
    /// Fill an IMAP mailbox with varied messages and measure importing them into conversations
    /// (uses CONVERGENCE_DATABASE_URL, which should be a fresh database).
    BenchEmail {
        #[arg(long, default_value = "127.0.0.1")]
        imap_host: String,
        #[arg(long)]
        imap_port: u16,
        #[arg(long, default_value = "support@shop.test")]
        user: String,
        #[arg(long, default_value = "bench-password")]
        password: String,
        #[arg(long, default_value_t = 10_000)]
        messages: usize,
        /// The mailbox already holds the messages.
        #[arg(long)]
        no_fill: bool,
    },
    /// Connect a messaging provider account (twilio, whatsapp, messenger, instagram, telegram)
    /// from the command line; the admin page does the same. Settings are a JSON object of the
    /// provider's fields; secrets come from CONVERGENCE_CHANNEL_SECRETS (a JSON object), never
    /// from arguments. Prints the account id and its webhook URL.
    AddChannelAccount {
        #[arg(long)]
        provider: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "{}")]
        settings: String,
    },
    /// Measure inbound SMS webhooks: signed Twilio posts at `concurrency` connections for
    /// `seconds` against the real router and workers (uses CONVERGENCE_DATABASE_URL, which
    /// should be a fresh SQLite database).
    BenchWebhooks {
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        #[arg(long, default_value_t = 30)]
        seconds: u64,
    },
    /// Import consent from a CSV file: `kind,value,purpose,granted[,detail[,time]]` per line
    /// (kind email, phone, whatsapp, messenger, instagram or telegram; purpose support or
    /// marketing; granted yes or no; time YYYY-MM-DD[ HH:MM] UTC). Recorded with source
    /// "import"; errors are reported per line; importing the same file again adds nothing.
    ImportConsent {
        #[arg(long)]
        file: std::path::PathBuf,
        /// Region for phone numbers written in national form (ISO 3166 code, e.g. US, GB).
        #[arg(long, default_value = "US")]
        region: String,
    },
    /// Run the provider stand-in (Twilio, Meta Graph, Telegram Bot API wire formats) for
    /// development and browser tests. Never point a production server at it.
    #[command(hide = true)]
    Standin {
        #[arg(long, default_value = "127.0.0.1:3210")]
        listen: String,
    },
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
