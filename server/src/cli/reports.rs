//! `server reports-rebuild [--time-zone Z] [--inactivity-days N] [--business-hours H]`:
//! computes every report episode and daily rollup again from the messages and events (after an
//! upgrade, a restore, or to change the reporting time zone, inactivity period or business
//! hours, which the rollups depend on).

use super::{Cli, CommandResult};
use app::service::reports;
use app::store::rollups;

#[derive(clap::Args, Clone, Debug)]
pub struct RebuildArgs {
    /// Count days in this time zone from now on (an IANA name, e.g. Europe/Paris).
    #[arg(long)]
    pub time_zone: Option<String>,
    /// A quiet conversation's episode ends after this many days without a message.
    #[arg(long)]
    pub inactivity_days: Option<i64>,
    /// Count every duration in these business hours too, e.g. "Mon-Fri 09:00-17:00, Sat
    /// 10:00-14:00" (in the reporting time zone; "" for none).
    #[arg(long)]
    pub business_hours: Option<String>,
}

pub async fn run(cli: &Cli, args: RebuildArgs) -> CommandResult {
    let db = crate::startup::open_db(&cli.database_url).await?;
    let started = std::time::Instant::now();
    let done = if args.time_zone.is_some()
        || args.inactivity_days.is_some()
        || args.business_hours.is_some()
    {
        let mut conn = db.read.acquire().await?;
        let mut s = rollups::settings(&mut conn).await?;
        drop(conn);
        if let Some(tz) = args.time_zone {
            s.time_zone = tz;
        }
        if let Some(days) = args.inactivity_days {
            s.inactivity_secs = days.saturating_mul(86_400);
        }
        if let Some(hours) = args.business_hours {
            s.business_hours = hours;
        }
        reports::set_settings(&db, &s).await?
    } else {
        reports::rebuild(&db).await?
    };
    println!(
        "reports rebuilt in {:.1} s: {} conversations, {} messages, {} episodes, {} daily rows",
        started.elapsed().as_secs_f64(),
        done.conversations,
        done.messages,
        done.episodes,
        done.rows
    );
    db.close().await;
    Ok(())
}
