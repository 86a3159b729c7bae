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
    })
    .await
}
