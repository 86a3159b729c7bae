//! `server serve` (also the command when none is given): the web server and the workers.

use super::{Cli, CommandResult};
use crate::startup::{self, ServeConfig};

pub async fn run(cli: &Cli) -> CommandResult {
    startup::serve(&ServeConfig {
        database_url: cli.database_url.clone(),
        listen: cli.listen.clone(),
        public_url: cli.public_url.clone(),
        secret_key: cli.secret(),
        demo_data: cli.demo_data,
    })
    .await
}
