//! The per-table bulk writers: render the planned customers, identifiers, conversations and
//! messages as multi-row INSERTs (the big conversation's events are written by `big`).

use super::identifiers::channel_of;
use super::load::Batch;
use super::model::{Ctx, Plan, FIRST, OUT};
use super::rng::{mix, Rng};
use super::sql::{lit, opt_lit, opt_num, Stopped, Writer};
use super::statuses;
use super::text::body_text;
use super::vocabulary::SUBJECTS;
use super::DAY;
use app::domain::ChannelKind;
use std::fmt::Write as _;
use tokio::sync::mpsc;

pub(super) fn write_customers(
    tx: &mpsc::Sender<Batch>,
    ctx: &Ctx,
    plan: &Plan,
) -> Result<(), Stopped> {
    let b = ctx.bases;
    let mut w = Writer::new(
        tx,
        "customers",
        plan.custs.len(),
        "INSERT INTO customers (id, name, preferred_channel, created_at, updated_at) VALUES ",
    );
    for (i, c) in plan.custs.iter().enumerate() {
        let r = w.row();
        let _ = write!(r, "({},", b.customer + i as i64);
        lit(r, &c.name);
        r.push(',');
        opt_lit(r, c.preferred.map(|p| p.as_str()));
        let _ = write!(
            r,
            ",{},{})",
            plan.customer_created(&b, i),
            plan.msgs[plan.sums[i].last].at
        );
        w.end_row()?;
    }
    w.flush()
}

/// Writes the identifiers; returns the id of each customer's first identifier (the others
/// follow it, in slot order).
pub(super) fn write_identifiers(
    tx: &mpsc::Sender<Batch>,
    ctx: &Ctx,
    plan: &Plan,
) -> Result<Vec<i64>, Stopped> {
    let b = ctx.bases;
    let total_idents: usize = plan.custs.iter().map(|c| c.idents.len()).sum();
    let mut ident_start = Vec::with_capacity(plan.custs.len());
    let mut w = Writer::new(
        tx,
        "identifiers",
        total_idents,
        "INSERT INTO identifiers (id, customer_id, kind, value, label, last_inbound_at, created_at) VALUES ",
    );
    let mut next_ident = b.identifier;
    for (i, c) in plan.custs.iter().enumerate() {
        ident_start.push(next_ident);
        for (slot, id) in c.idents.iter().enumerate() {
            let r = w.row();
            let _ = write!(r, "({next_ident},{},", b.customer + i as i64);
            lit(r, id.kind.as_str());
            r.push(',');
            lit(r, &id.value);
            r.push(',');
            lit(r, &id.label);
            r.push(',');
            opt_num(r, plan.sums[i].ident_last_in[slot]);
            let _ = write!(r, ",{})", plan.customer_created(&b, i));
            w.end_row()?;
            next_ident += 1;
        }
    }
    w.flush()?;
    Ok(ident_start)
}

/// Writes the conversations with their summary columns; picks each one's status and assignee
/// with `rng` (the big conversation is open and assigned).
pub(super) fn write_conversations(
    tx: &mpsc::Sender<Batch>,
    ctx: &Ctx,
    plan: &Plan,
    rng: &mut Rng,
) -> Result<(), Stopped> {
    let b = ctx.bases;
    let now = ctx.now;
    let mut w = Writer::new(
        tx,
        "conversations",
        plan.custs.len(),
        "INSERT INTO conversations (id, customer_id, status, assignee_id, current_channel, last_activity_at, \
         last_inbound_at, last_inbound_channel, last_preview, last_channel, last_direction, channels_mask, created_at) VALUES ",
    );
    for (i, c) in plan.custs.iter().enumerate() {
        let s = &plan.sums[i];
        let last = plan.msgs[s.last];
        let last_out = last.flags & OUT != 0;
        let last_ch = channel_of(c.idents[last.slot as usize].kind);
        let (status, assigned) = if i == plan.big {
            ("open", true)
        } else {
            let awaiting = !last_out && now - last.at < 3 * DAY;
            let status = if awaiting {
                if rng.chance(0.85) {
                    "open"
                } else {
                    "pending"
                }
            } else {
                match rng.below(100) {
                    0..=21 => "open",
                    22..=39 => "pending",
                    _ => "resolved",
                }
            };
            (status, rng.chance(0.3))
        };
        let body = body_text(b.message + s.last as i64, last_out);
        let preview = app::domain::text::preview(&body, 140);
        let r = w.row();
        let _ = write!(
            r,
            "({},{},'{status}',",
            b.conversation + i as i64,
            b.customer + i as i64
        );
        opt_num(r, assigned.then_some(ctx.bench_user));
        r.push(',');
        opt_lit(r, s.last_out_ch.map(|c| c.as_str()));
        let _ = write!(r, ",{},", last.at);
        opt_num(r, s.last_in_at);
        r.push(',');
        opt_lit(r, s.last_in_ch.map(|c| c.as_str()));
        r.push(',');
        lit(r, &preview);
        let _ = write!(
            r,
            ",'{}','{}',{},{})",
            last_ch.as_str(),
            if last_out { "out" } else { "in" },
            s.mask,
            s.first_at
        );
        w.end_row()?;
    }
    w.flush()
}

/// Writes the messages; bodies, delivery states and timings are derived from each id.
pub(super) fn write_messages(
    tx: &mpsc::Sender<Batch>,
    ctx: &Ctx,
    plan: &Plan,
    ident_start: &[i64],
) -> Result<(), Stopped> {
    let b = ctx.bases;
    let now = ctx.now;
    let mut w = Writer::new(
        tx,
        "messages",
        plan.msgs.len(),
        "INSERT INTO messages (id, conversation_id, customer_id, direction, channel, channel_account_id, identifier_id, \
         author_user_id, subject, body_text, provider_message_id, delivery_state, failure_reason, created_at, sent_at, \
         delivered_at, updated_at) VALUES ",
    );
    for (idx, m) in plan.msgs.iter().enumerate() {
        let id = b.message + idx as i64;
        let ci = m.cust as usize;
        let kind = plan.custs[ci].idents[m.slot as usize].kind;
        let ch = channel_of(kind);
        let out = m.flags & OUT != 0;
        let body = body_text(id, out);
        let r = w.row();
        let _ = write!(
            r,
            "({id},{},{},'{}','{}',{},{},",
            b.conversation + ci as i64,
            b.customer + ci as i64,
            if out { "out" } else { "in" },
            ch.as_str(),
            ctx.accounts[ch as usize],
            ident_start[ci] + m.slot as i64
        );
        opt_num(r, out.then(|| statuses::agent_of(ctx, m.thread)));
        r.push(',');
        if ch == ChannelKind::Email {
            let subject = SUBJECTS[(m.thread as usize) % SUBJECTS.len()];
            if m.flags & FIRST != 0 {
                lit(r, subject);
            } else {
                r.push_str("'Re: ");
                r.push_str(&subject.replace('\'', "''"));
                r.push('\'');
            }
        } else {
            r.push_str("NULL");
        }
        r.push(',');
        lit(r, &body);
        let h = mix(id as u64 ^ 0xde11_7e57);
        if !out {
            let _ = write!(
                r,
                ",'seed-{}-{id}','received',NULL,{},NULL,NULL,{})",
                ctx.run, m.at, m.at
            );
        } else {
            let sent_at = m.at + 500 + (h % 2500) as i64;
            match h % 100 {
                0..=1 => {
                    r.push_str(",NULL,'failed',");
                    lit(r, failure_reason(ch, h >> 8));
                    let _ = write!(r, ",{},NULL,NULL,{})", m.at, m.at + 5_000);
                }
                2..=11 => {
                    let _ = write!(
                        r,
                        ",'seed-{}-{id}','sent',NULL,{},{sent_at},NULL,{sent_at})",
                        ctx.run, m.at
                    );
                }
                _ => {
                    let delivered = (sent_at + 1_000 + ((h >> 16) % 20_000) as i64).min(now);
                    let _ = write!(
                        r,
                        ",'seed-{}-{id}','delivered',NULL,{},{sent_at},{delivered},{delivered})",
                        ctx.run, m.at
                    );
                }
            }
        }
        w.end_row()?;
    }
    w.flush()
}

/// What a provider said when it gave up on a seeded message: two reasons per channel, as the
/// real providers word them.
fn failure_reason(ch: ChannelKind, h: u64) -> &'static str {
    let pair = match ch {
        ChannelKind::Email => [
            "550 5.1.1 The email account that you tried to reach does not exist",
            "552 5.2.2 Mailbox full",
        ],
        ChannelKind::Sms => [
            "Twilio 30003: Unreachable destination handset",
            "Twilio 30006: Landline or unreachable carrier",
        ],
        ChannelKind::Whatsapp => [
            "131047: Re-engagement message (more than 24 hours since the customer last wrote)",
            "131026: Message undeliverable",
        ],
        ChannelKind::Messenger | ChannelKind::Instagram => [
            "(#10) This message is sent outside of allowed window",
            "(#551) This person isn't available right now",
        ],
        ChannelKind::Telegram => [
            "403: Forbidden: bot was blocked by the user",
            "400: Bad Request: chat not found",
        ],
        ChannelKind::Chat => [
            "files cannot be sent in the website chat yet; send the text, or reply by email",
            "the message is empty",
        ],
    };
    pair[(h % 3).min(1) as usize]
}
