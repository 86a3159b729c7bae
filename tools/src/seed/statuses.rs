//! Resolutions, reopenings and moves: most threads end with an agent resolving the conversation
//! a little after the last message, a few are reopened (and mostly resolved again), and a few
//! are moved to another of the customer's channels, so the reports have resolution times,
//! reopen rates, moves and per-agent figures to show.

use super::identifiers::channel_of;
use super::model::{Ctx, Plan};
use super::rng::mix;
use super::sql::{lit, Stopped, Writer};
use super::{load::Batch, HOUR, MINUTE};
use std::collections::HashMap;
use std::fmt::Write as _;
use tokio::sync::mpsc;

/// The agent who answers thread `thread` (and resolves it).
pub(super) fn agent_of(ctx: &Ctx, thread: u32) -> i64 {
    ctx.agents[mix(u64::from(thread) ^ 0xa9e7) as usize % ctx.agents.len()]
}

/// (time, kind, data, agent, conversation index) of every event to write, in time order.
type Planned = (i64, &'static str, String, i64, usize);

fn status(at: i64, st: &str, agent: i64, ci: usize) -> Planned {
    (at, "status", format!("{{\"status\":\"{st}\"}}"), agent, ci)
}

fn plan_events(ctx: &Ctx, plan: &Plan) -> Vec<Planned> {
    let mut last: HashMap<(u32, u32), (i64, u8)> = HashMap::new();
    for m in &plan.msgs {
        if m.cust as usize != plan.big {
            last.insert((m.cust, m.thread), (m.at, m.slot));
        }
    }
    let mut ends: Vec<((u32, u32), (i64, u8))> = last.into_iter().collect();
    ends.sort_unstable();
    let mut out = Vec::new();
    for ((cust, thread), (at, slot)) in ends {
        let h = mix((u64::from(cust) << 32) | u64::from(thread));
        // 3% of threads are moved by their agent to another of the customer's channels.
        let idents = &plan.custs[cust as usize].idents;
        let from = channel_of(idents[slot as usize].kind);
        if (h >> 56) % 100 < 3 {
            if let Some(to) = idents
                .iter()
                .map(|i| channel_of(i.kind))
                .find(|c| *c != from)
            {
                let moved = at - MINUTE;
                out.push((
                    moved,
                    "channel_switch",
                    format!(
                        "{{\"from\":\"{} · seed\",\"to\":\"{} · seed\",\"channel\":\"{}\"}}",
                        from.label(),
                        to.label(),
                        to.as_str()
                    ),
                    agent_of(ctx, thread),
                    cust as usize,
                ));
            }
        }
        // A quarter of the threads are left unresolved.
        if h % 100 >= 75 {
            continue;
        }
        let agent = agent_of(ctx, thread);
        let resolved = at + MINUTE + ((h >> 8) % (2 * HOUR) as u64) as i64;
        if resolved >= ctx.now {
            continue;
        }
        out.push(status(resolved, "resolved", agent, cust as usize));
        // 6% are reopened by an agent within hours; most of those are resolved again.
        if (h >> 24) % 100 < 6 {
            let reopened = resolved + 10 * MINUTE + ((h >> 32) % (6 * HOUR) as u64) as i64;
            if reopened < ctx.now {
                out.push(status(reopened, "open", agent, cust as usize));
                let again = reopened + 5 * MINUTE + ((h >> 40) % HOUR as u64) as i64;
                if !(h >> 48).is_multiple_of(4) && again < ctx.now {
                    out.push(status(again, "resolved", agent, cust as usize));
                }
            }
        }
    }
    out.sort_by_key(|e| (e.0, e.4));
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
    for (j, (at, kind, data, agent, ci)) in events.iter().enumerate() {
        let r = w.row();
        let _ = write!(
            r,
            "({},{},'{kind}',{agent},NULL,",
            first_id + j as i64,
            ctx.bases.conversation + *ci as i64,
        );
        lit(r, data);
        let _ = write!(r, ",{at})");
        w.end_row()?;
    }
    w.flush()
}
