//! `standin [--listen ADDR]`: the provider stand-in as a process of its own, for the browser
//! tests (`scripts/e2e-server.sh`) and for trying the messaging channels by hand. It accepts any
//! credentials it is told to expect: never point a production server at it.

use clap::Parser;

/// Twilio's REST API, Meta's Graph API and Telegram's Bot API on a local port, with a control
/// API under /_standin/ (see the library's documentation).
#[derive(Parser)]
#[command(name = "standin", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3210")]
    listen: String,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CONVERGENCE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    match standin::spawn(&args.listen).await {
        Ok(running) => {
            println!("provider stand-in listening on {}", running.base_url);
            std::future::pending::<()>().await
        }
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.listen);
            std::process::exit(1);
        }
    }
}
