//! `backup --to FILE`: a consistent copy of the SQLite database, taken while the app runs.
//! The copy is written beside the target under a temporary name, checked, then renamed, so
//! `FILE` is either absent or a whole, verified backup. PostgreSQL uses `pg_dump` (README).

use super::{Cli, CommandResult};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args, Clone, Debug)]
pub struct BackupArgs {
    /// Where to write the backup (a new file; an existing one is never overwritten).
    #[arg(long = "to")]
    pub to: PathBuf,
}

pub async fn run(cli: &Cli, args: BackupArgs) -> CommandResult {
    let to = args.to;
    if to.exists() {
        return Err(format!("{} exists already; name a new file", to.display()).into());
    }
    let partial = partial_path(&to);
    let _ = std::fs::remove_file(&partial);
    let started = Instant::now();
    let db = crate::startup::open_db(&cli.database_url).await?;
    let written = db.backup_into(&partial.to_string_lossy()).await;
    db.close().await;
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(format!("backup failed: {e}").into());
    }
    // Open the copy as a restore would, and let SQLite check every page of it.
    let copy = app::store::Db::connect(&format!("sqlite://{}", partial.display())).await?;
    let check = copy.integrity().await;
    let messages: Result<i64, _> = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
        .fetch_one(&copy.read)
        .await;
    copy.close().await;
    let (check, messages) = match (check, messages) {
        (Ok(c), Ok(m)) if c == "ok" => (c, m),
        (c, m) => {
            let _ = std::fs::remove_file(&partial);
            return Err(
                format!("the copy failed its check ({c:?}, {m:?}); nothing was written").into(),
            );
        }
    };
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", partial.display()));
    }
    std::fs::rename(&partial, &to)?;
    let bytes = std::fs::metadata(&to).map(|m| m.len()).unwrap_or(0);
    println!(
        "backup written to {} ({bytes} bytes, {messages} messages, integrity {check}) in {} ms",
        to.display(),
        started.elapsed().as_millis()
    );
    Ok(())
}

fn partial_path(to: &Path) -> PathBuf {
    let mut name = to.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    to.with_file_name(name)
}
