//! Resolutions and reopenings: most threads end with an agent resolving the conversation a
//! little after the last message, and a few are reopened (and mostly resolved again), so the
//! reports have resolution times, reopen rates and per-agent figures to show.

use super::model::{Ctx, Plan};
use super::rng::mix;
use super::sql::{Stopped, Writer};
use super::{load::Batch, HOUR, MINUTE};
use std::collections::HashMap;
use std::fmt::Write as _;
use tokio::sync::mpsc;

/// The agent who answers thread `thread` (and resolves it).
pub(super) fn agent_of(ctx: &Ctx, thread: u32) -> i64 {
    ctx.agents[mix(u64::from(thread) ^ 0xa9e7) as usize % ctx.agents.len()]
}

/// (time, status, agent, conversation index) of every status change to write, in time order.
fn plan_events(ctx: &Ctx, plan: &Plan) -> Vec<(i64, &'static str, i64, usize)> {
    let mut last: HashMap<(u32, u32), i64> = HashMap::new();
    for m in &plan.msgs {
        if m.cust as usize != plan.big {
            last.insert((m.cust, m.thread), m.at);
        }
    }
    let mut ends: Vec<((u32, u32), i64)> = last.into_iter().collect();
    ends.sort_unstable();
    let mut out = Vec::new();
    for ((cust, thread), at) in ends {
        let h = mix((u64::from(cust) << 32) | u64::from(thread));
        // A quarter of the threads are left unresolved.
        if h % 100 >= 75 {
            continue;
        }
        let agent = agent_of(ctx, thread);
        let resolved = at + MINUTE + ((h >> 8) % (2 * HOUR) as u64) as i64;
        if resolved >= ctx.now {
            continue;
        }
        out.push((resolved, "resolved", agent, cust as usize));
        // 6% are reopened by an agent within hours; most of those are resolved again.
        if (h >> 24) % 100 < 6 {
            let reopened = resolved + 10 * MINUTE + ((h >> 32) % (6 * HOUR) as u64) as i64;
            if reopened < ctx.now {
                out.push((reopened, "open", agent, cust as usize));
                let again = reopened + 5 * MINUTE + ((h >> 40) % HOUR as u64) as i64;
                if (h >> 48) % 4 != 0 && again < ctx.now {
                    out.push((again, "resolved", agent, cust as usize));
                }
            }
        }
    }
    out.sort_unstable_by_key(|e| (e.0, e.3));
    out
}

/// Writes the status events; their ids start at `first_id`.
pub(super) fn write_status_events(
    tx: &mpsc::Sender<Batch>,
    ctx: &Ctx,
    plan: &Plan,
    first_id: i64,
) -> Result<(), Stopped> {
    let events = plan_events(ctx, plan);
    let mut w = Writer::new(
        tx,
        "events",
        events.len(),
        "INSERT INTO events (id, conversation_id, kind, actor_user_id, body, data, created_at) VALUES ",
    );
    for (j, (at, status, agent, ci)) in events.iter().enumerate() {
        let r = w.row();
        let _ = write!(
            r,
            "({},{},'status',{agent},NULL,'{{\"status\":\"{status}\"}}',{at})",
            first_id + j as i64,
            ctx.bases.conversation + *ci as i64,
        );
        w.end_row()?;
    }
    w.flush()
}
