//! Planning (blocking thread): the whole data set in memory. Customers with their identifiers,
//! when each message was sent and on which identifier, and the per-customer summaries the
//! conversation rows are built from. Ids are not stored: they follow from positions and `Bases`.

use super::identifiers::{channel_of, next_phone, phone_label, pick_kind, unique_value};
use super::model::{Ctx, Cust, Ident, Msg, Plan, Sum, OUT};
use super::rng::Rng;
use super::threads::gen_threads;
use super::vocabulary::{FIRST_NAMES, LAST_NAMES};
use super::{big, DAY, SPAN};
use app::domain::IdentifierKind;
use std::time::Instant;

pub(super) fn plan(ctx: &mut Ctx, rng: &mut Rng) -> Plan {
    let t0 = Instant::now();
    let counts = message_counts(ctx, rng);
    let custs = customers(ctx, rng);
    let msgs = messages(ctx, rng, &counts, &custs);
    let sums = summarise(&custs, &msgs);
    eprintln!(
        "seed: planned {} messages in {:.1} s",
        msgs.len(),
        t0.elapsed().as_secs_f64()
    );
    Plan {
        big: custs.len() - 1,
        custs,
        msgs,
        sums,
    }
}

/// How many messages each customer gets: at least one, log-normally skewed; the big customer
/// gets `ctx.big_messages`.
fn message_counts(ctx: &Ctx, rng: &mut Rng) -> Vec<usize> {
    let n = ctx.customers;
    let big = n - 1;
    let mut counts = vec![1usize; n];
    counts[big] = ctx.big_messages;
    let others = n - 1;
    if others > 0 {
        let total = ctx.messages.saturating_sub(ctx.big_messages).max(others);
        let extra = total - others;
        let weights: Vec<f64> = (0..others).map(|_| (rng.normal() * 1.1).exp()).collect();
        let sum: f64 = weights.iter().sum();
        let mut assigned = 0usize;
        for (c, w) in counts.iter_mut().zip(&weights) {
            let e = (extra as f64 * w / sum).floor() as usize;
            *c += e;
            assigned += e;
        }
        while assigned < extra {
            counts[rng.below(others as u64) as usize] += 1;
            assigned += 1;
        }
    }
    counts
}

/// Customers and their identifiers, the big customer last.
fn customers(ctx: &mut Ctx, rng: &mut Rng) -> Vec<Cust> {
    let n = ctx.customers;
    let big = n - 1;
    let b = ctx.bases;
    let mut phone_counter: u64 = 1_000_000;
    let mut custs = Vec::with_capacity(n);
    for i in 0..n {
        let cid = b.customer + i as i64;
        if i == big {
            custs.push(big::customer(ctx, &mut phone_counter, cid));
        } else {
            custs.push(customer(ctx, rng, &mut phone_counter, cid));
        }
    }
    custs
}

/// An ordinary customer: a random name and one to three identifiers of different kinds.
fn customer(ctx: &mut Ctx, rng: &mut Rng, phone_counter: &mut u64, cid: i64) -> Cust {
    let first = FIRST_NAMES[rng.below(FIRST_NAMES.len() as u64) as usize];
    let last = LAST_NAMES[rng.below(LAST_NAMES.len() as u64) as usize];
    let k = match rng.below(100) {
        0..=49 => 1,
        50..=84 => 2,
        _ => 3,
    };
    let mut kinds: Vec<IdentifierKind> = Vec::with_capacity(k);
    while kinds.len() < k {
        let kind = pick_kind(rng);
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    let mut phone: Option<String> = None;
    let mut idents = Vec::with_capacity(k);
    for kind in kinds {
        let (value, label) = match kind {
            IdentifierKind::Email => {
                let local = format!("{}.{}.{cid}", first.to_lowercase(), last.to_lowercase());
                let v = unique_value(ctx, kind, format!("{local}@example.com"));
                let label = if v.starts_with(&local) {
                    format!("{first}.{last}.{cid}@example.com")
                } else {
                    v.clone()
                };
                (v, label)
            }
            IdentifierKind::Phone | IdentifierKind::Whatsapp => {
                // A customer with both uses the same number for SMS and WhatsApp.
                let p = phone
                    .get_or_insert_with(|| next_phone(phone_counter, &ctx.existing))
                    .clone();
                (p.clone(), phone_label(&p))
            }
            IdentifierKind::Messenger => {
                let v = unique_value(ctx, kind, format!("25{cid:012}"));
                (v.clone(), v)
            }
            IdentifierKind::Instagram => {
                let v = unique_value(ctx, kind, format!("1784{cid:012}"));
                (v.clone(), v)
            }
            IdentifierKind::Telegram => {
                let v = unique_value(ctx, kind, format!("{}", 600_000_000 + cid));
                (v.clone(), v)
            }
            // Not picked by `pick_kind` (the seed has no website chat yet).
            IdentifierKind::Chat => {
                let v = unique_value(ctx, kind, format!("seedvisitor{cid:015}"));
                (v.clone(), "Chat visitor".to_string())
            }
        };
        idents.push(Ident { kind, value, label });
    }
    let preferred = if rng.chance(0.2) {
        Some(channel_of(idents[0].kind))
    } else {
        None
    };
    Cust {
        name: format!("{first} {last}"),
        preferred,
        idents,
    }
}

/// Messages: threads of a few messages on one channel, spread over each customer's history;
/// returned in time order.
fn messages(ctx: &Ctx, rng: &mut Rng, counts: &[usize], custs: &[Cust]) -> Vec<Msg> {
    let now = ctx.now;
    let big = custs.len() - 1;
    let total_msgs: usize = counts.iter().sum();
    let mut msgs: Vec<Msg> = Vec::with_capacity(total_msgs);
    for (i, &k) in counts.iter().enumerate() {
        let nslots = custs[i].idents.len() as u64;
        if i == big {
            big::messages(rng, i as u32, k, now, nslots, &mut msgs);
        } else {
            let start = now - SPAN + rng.below((SPAN - DAY) as u64) as i64;
            gen_threads(rng, i as u32, k, start, now, nslots, &mut msgs);
        }
    }
    msgs.sort_unstable_by_key(|m| (m.at, m.cust));
    msgs
}

/// Each customer's summary, from the time-ordered messages.
fn summarise(custs: &[Cust], msgs: &[Msg]) -> Vec<Sum> {
    let mut sums = vec![
        Sum {
            first_at: i64::MAX,
            last: 0,
            last_in_at: None,
            last_in_ch: None,
            last_out_ch: None,
            mask: 0,
            ident_last_in: [None; 4],
        };
        custs.len()
    ];
    for (idx, m) in msgs.iter().enumerate() {
        let s = &mut sums[m.cust as usize];
        let ch = channel_of(custs[m.cust as usize].idents[m.slot as usize].kind);
        if s.first_at == i64::MAX {
            s.first_at = m.at;
        }
        s.last = idx;
        s.mask |= ch.bit();
        if m.flags & OUT == 0 {
            s.last_in_at = Some(m.at);
            s.last_in_ch = Some(ch);
            s.ident_last_in[m.slot as usize] = Some(m.at);
        } else {
            s.last_out_ch = Some(ch);
        }
    }
    sums
}
