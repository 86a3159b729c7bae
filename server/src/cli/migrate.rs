//! `server migrate`: applies the database migrations and exits.

use super::{Cli, CommandResult};

pub async fn run(cli: &Cli) -> CommandResult {
    let db = crate::startup::open_db(&cli.database_url).await?;
    println!("migrations applied to {}", redact(&cli.database_url));
    db.close().await;
    Ok(())
}

/// The URL with its user information (a password) hidden.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(a)) if a > s => format!("{}://***{}", &url[..s], &url[a..]),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            super::redact("postgres://me:secret@db.example.com/inbox"),
            "postgres://***@db.example.com/inbox"
        );
        assert_eq!(
            super::redact("sqlite://data/convergence.db"),
            "sqlite://data/convergence.db"
        );
    }
}
