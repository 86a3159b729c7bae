//! `server serve` (also the command when none is given): the web server and the workers.

use super::{Cli, CommandResult};
use crate::channels::http_client::AddressPolicy;
use crate::startup::{self, ServeConfig};

pub async fn run(cli: &Cli) -> CommandResult {
    let media_policy = AddressPolicy::parse(&cli.media_allow_addresses)
        .map_err(|e| format!("CONVERGENCE_MEDIA_ALLOW_ADDRESSES: {e}"))?;
    startup::serve(&ServeConfig {
        media_policy,
        database_url: cli.database_url.clone(),
        listen: cli.listen.clone(),
        public_url: cli.public_url.clone(),
        secret_key: cli.secret(),
        demo_data: cli.demo_data,
        retry_horizon_ms: cli.retry_horizon,
        chat_followup_ms: cli.chat_followup_after,
        metrics_token: metrics_token(cli)?,
    })
    .await
}

/// The `/metrics` token: off when unset; refused when too short to resist guessing.
fn metrics_token(cli: &Cli) -> Result<Option<String>, String> {
    match cli.metrics_token.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if t.len() < 16 => Err(
            "CONVERGENCE_METRICS_TOKEN must be at least 16 characters (a long random string)"
                .into(),
        ),
        Some(t) => Ok(Some(t.to_string())),
    }
}
