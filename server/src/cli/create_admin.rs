//! `server create-admin --email E --name N`: the first admin of a real installation (the
//! password comes from CONVERGENCE_ADMIN_PASSWORD, never from arguments).

use super::{Cli, CommandResult};

#[derive(clap::Args, Clone, Debug)]
pub struct CreateAdminArgs {
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub name: String,
}

pub async fn run(cli: &Cli, args: CreateAdminArgs) -> CommandResult {
    let password = std::env::var("CONVERGENCE_ADMIN_PASSWORD").map_err(|_| {
        "set CONVERGENCE_ADMIN_PASSWORD to the new admin's password (at least 10 characters)"
    })?;
    let db = crate::startup::open_db(&cli.database_url).await?;
    let id = app::store::users::create_user(
        &db,
        &args.email,
        &args.name,
        app::domain::Role::Admin,
        &password,
    )
    .await?;
    println!("created admin #{id} <{}>", args.email);
    Ok(())
}
