//! `tools`: what developers run around the product, kept out of the product binary. `seed`
//! fills a database with a large data set; `bench`, `bench-email`, `bench-webhooks` and
//! `bench-campaign` measure the pages, the email import, the inbound webhooks and campaigns
//! (the Makefile's bench targets run them).

mod bench;
mod bench_campaign;
mod bench_chat;
mod bench_email;
mod bench_webhooks;
mod in_process;
mod seed;
mod stats;

use clap::{Parser, Subcommand};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Parser, Debug)]
#[command(
    name = "tools",
    about = "Convergence developer tools: seed a large data set, run the benchmarks."
)]
struct Cli {
    /// Database URL. `sqlite://FILE` (created when missing) or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        env = "CONVERGENCE_DATABASE_URL",
        default_value = "sqlite://data/convergence.db",
        global = true
    )]
    database_url: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
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
        /// Client counts to measure at, one run each (comma-separated).
        #[arg(
            long,
            alias = "concurrency",
            value_delimiter = ',',
            default_value = "1,4"
        )]
        clients: Vec<usize>,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Measure the reports instead: the 90-day support overview and cross-channel page, and
        /// the consent and reach tab without a target (as the seed's marketing user unless
        /// --email is given).
        #[arg(long)]
        reports: bool,
        /// Measure search instead: a common word, a rare word, a phrase, a phone number and a
        /// word with filters through `/api/search`, and the searched inbox page.
        #[arg(long)]
        search: bool,
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
    /// Measure the website chat: `streams` open widget streams, then visitors' messages at each
    /// number of `clients` for `seconds` (messages/s; send and delivery latency p50/p90/p99/max)
    /// against the real router and workers (uses CONVERGENCE_DATABASE_URL, a fresh database).
    BenchChat {
        #[arg(long, default_value_t = 1000)]
        streams: usize,
        #[arg(long, default_value = "1,4", value_delimiter = ',')]
        clients: Vec<usize>,
        #[arg(long, default_value_t = 15)]
        seconds: u64,
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
    /// Measure campaigns on a seeded database (uses CONVERGENCE_DATABASE_URL): plan a support
    /// campaign to every customer, then send to the customers reachable on SMS through the
    /// provider stand-in at each worker count.
    BenchCampaign {
        /// The provider stand-in's binary, started on a free port.
        #[arg(long, default_value = "target/release/standin")]
        standin: String,
        /// Client (planning) and worker (sending) counts to measure at (comma-separated).
        #[arg(long, alias = "clients", value_delimiter = ',', default_value = "1,4")]
        workers: Vec<usize>,
        /// Campaigns planned one after the other at one client.
        #[arg(long, default_value_t = 3)]
        plan_runs: usize,
        /// Messages to send in each send run (0: every planned recipient).
        #[arg(long, default_value_t = 20_000)]
        send: u64,
        /// Point the Twilio account at a fresh account SID this often while sending (0: never,
        /// the default: the stand-in's signed status callbacks then reach the webhook router
        /// and the inbound worker in process, as in production).
        #[arg(long, default_value_t = 0)]
        rotate_ms: u64,
    },
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CONVERGENCE_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn,tower_sessions=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<(), BoxError> {
    let database_url = cli.database_url;
    match cli.command {
        Command::Seed {
            customers,
            messages,
            big,
        } => {
            let db = server::startup::open_db(&database_url).await?;
            let r = seed::run(
                &db,
                &seed::SeedOptions {
                    customers,
                    messages,
                    big_conversation_messages: big,
                },
            )
            .await?;
            println!(
                "seeded {} customers and {} messages in {:.1} s; big conversation id {}",
                r.customers, r.messages, r.seconds, r.big_conversation_id
            );
            Ok(())
        }
        Command::Bench {
            base_url,
            email,
            password,
            clients,
            seconds,
            reports,
            search,
        } => {
            let email = if reports && email == seed::BENCH_EMAIL {
                seed::BENCH_MARKETING_EMAIL.to_string()
            } else {
                email
            };
            bench::run(&bench::BenchOptions {
                base_url,
                database_url,
                email,
                password,
                clients,
                seconds,
                reports,
                search,
            })
            .await
        }
        Command::BenchEmail {
            imap_host,
            imap_port,
            user,
            password,
            messages,
            no_fill,
        } => {
            bench_email::run(&bench_email::EmailBenchOptions {
                database_url,
                imap_host,
                imap_port,
                user,
                password,
                messages,
                no_fill,
            })
            .await
        }
        Command::BenchChat {
            streams,
            clients,
            seconds,
        } => {
            bench_chat::run(&bench_chat::ChatBenchOptions {
                database_url,
                streams,
                clients,
                seconds,
            })
            .await
        }
        Command::BenchWebhooks {
            concurrency,
            seconds,
        } => {
            bench_webhooks::run(&bench_webhooks::WebhookBenchOptions {
                database_url,
                concurrency,
                seconds,
            })
            .await
        }
        Command::BenchCampaign {
            standin,
            workers,
            plan_runs,
            send,
            rotate_ms,
        } => {
            bench_campaign::run(&bench_campaign::CampaignBenchOptions {
                database_url,
                standin,
                workers,
                plan_runs,
                send,
                rotate_ms,
            })
            .await
        }
    }
}
