//! The big conversation: the customer "Bench Big History", with identifiers on four channels,
//! a very long history whose newest message tops the inbox, and a few timeline events.

use super::identifiers::{next_phone, phone_label, unique_value};
use super::load::Batch;
use super::model::{Ctx, Cust, Ident, Msg, Plan, FIRST};
use super::rng::Rng;
use super::sql::{lit, opt_lit, Stopped, Writer};
use super::threads::gen_threads;
use super::{BIG_NAME, SPAN};
use app::domain::{ChannelKind, IdentifierKind};
use std::fmt::Write as _;
use tokio::sync::mpsc;

/// The big customer: email, phone, WhatsApp (the same number) and Telegram; prefers WhatsApp.
pub(super) fn customer(ctx: &mut Ctx, phone_counter: &mut u64, cid: i64) -> Cust {
    let phone = next_phone(phone_counter, &ctx.existing);
    let email = unique_value(
        ctx,
        IdentifierKind::Email,
        format!("bench.big.history.{cid}@example.com"),
    );
    let tg = unique_value(
        ctx,
        IdentifierKind::Telegram,
        format!("{}", 600_000_000 + cid),
    );
    Cust {
        name: BIG_NAME.to_string(),
        preferred: Some(ChannelKind::Whatsapp),
        idents: vec![
            Ident {
                kind: IdentifierKind::Email,
                label: email.clone(),
                value: email,
            },
            Ident {
                kind: IdentifierKind::Phone,
                label: phone_label(&phone),
                value: phone.clone(),
            },
            Ident {
                kind: IdentifierKind::Whatsapp,
                label: phone_label(&phone),
                value: phone,
            },
            Ident {
                kind: IdentifierKind::Telegram,
                label: tg.clone(),
                value: tg,
            },
        ],
    }
}

/// Appends the big customer's `k` messages: threads over the whole span, then the newest one.
pub(super) fn messages(
    rng: &mut Rng,
    cust: u32,
    k: usize,
    now: i64,
    nslots: u64,
    msgs: &mut Vec<Msg>,
) {
    gen_threads(rng, cust, k - 1, now - SPAN, now, nslots, msgs);
    // Its newest message is an inbound WhatsApp one from a minute ago: top of the inbox.
    msgs.push(Msg {
        at: now - 45_000,
        cust,
        thread: rng.next_u32(),
        slot: 2,
        flags: FIRST,
    });
}

/// A few timeline events in the big conversation.
pub(super) fn write_events(
    tx: &mpsc::Sender<Batch>,
    ctx: &Ctx,
    plan: &Plan,
) -> Result<(), Stopped> {
    let b = ctx.bases;
    let big = plan.big;
    let s = &plan.sums[big];
    let first = s.first_at;
    let span = (plan.msgs[s.last].at - first).max(1);
    let status = |st: &str| format!("{{\"status\":\"{st}\"}}");
    let events: Vec<(f64, &str, Option<&str>, String)> = vec![
        (
            0.05,
            "note",
            Some("Long-time customer. Prefers WhatsApp for quick questions, email for invoices."),
            "{}".into(),
        ),
        (0.20, "status", None, status("pending")),
        (0.35, "status", None, status("resolved")),
        (0.50, "status", None, status("open")),
        (
            0.65,
            "note",
            Some("Escalated the double charge to billing; they'll refund within 5 days."),
            "{}".into(),
        ),
        (0.80, "status", None, status("resolved")),
        (
            0.95,
            "note",
            Some("Checked the order history: no outstanding refunds or replacements."),
            "{}".into(),
        ),
        (0.999, "status", None, status("open")),
    ];
    let mut w = Writer::new(
        tx,
        "events",
        events.len(),
        "INSERT INTO events (id, conversation_id, kind, actor_user_id, body, data, created_at) VALUES ",
    );
    for (j, (frac, kind, body, data)) in events.iter().enumerate() {
        let r = w.row();
        let _ = write!(
            r,
            "({},{},'{kind}',{},",
            b.event + j as i64,
            b.conversation + big as i64,
            ctx.bench_user
        );
        opt_lit(r, *body);
        r.push(',');
        lit(r, data);
        let _ = write!(r, ",{})", first + (span as f64 * frac) as i64);
        w.end_row()?;
    }
    w.flush()
}
