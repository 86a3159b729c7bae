//! `server demo`: loads the demo data (`demo_data`) into an empty database.

use super::{Cli, CommandResult};

pub async fn run(cli: &Cli) -> CommandResult {
    let db = crate::startup::open_db(&cli.database_url).await?;
    let loaded = crate::demo_data::load_if_empty(&db).await?;
    println!(
        "{}",
        if loaded {
            "demo data loaded"
        } else {
            "database not empty: demo data skipped"
        }
    );
    Ok(())
}
