//! The planned data set's shapes: the run's context, customers with their identifiers, messages
//! (only what cannot be derived from their id) and the per-customer summaries.

use super::rng::mix;
use super::HOUR;
use app::domain::{ChannelKind, IdentifierKind};
use std::collections::HashSet;

/// The first id of each table for this run.
#[derive(Clone, Copy)]
pub(super) struct Bases {
    pub(super) customer: i64,
    pub(super) identifier: i64,
    pub(super) conversation: i64,
    pub(super) message: i64,
    pub(super) event: i64,
}

pub(super) struct Ctx {
    pub(super) now: i64,
    pub(super) run: u64,
    pub(super) accounts: [i64; 6],
    pub(super) bench_user: i64,
    /// Agents who write the replies and resolve (the bench user first).
    pub(super) agents: Vec<i64>,
    pub(super) bases: Bases,
    pub(super) existing: HashSet<String>,
    pub(super) customers: usize,
    pub(super) messages: usize,
    pub(super) big_messages: usize,
}

pub(super) struct Ident {
    pub(super) kind: IdentifierKind,
    pub(super) value: String,
    pub(super) label: String,
}

pub(super) struct Cust {
    pub(super) name: String,
    pub(super) preferred: Option<ChannelKind>,
    pub(super) idents: Vec<Ident>,
}

/// One planned message; everything else about it is derived from its id.
#[derive(Clone, Copy)]
pub(super) struct Msg {
    pub(super) at: i64,
    pub(super) cust: u32,
    pub(super) thread: u32,
    pub(super) slot: u8,
    pub(super) flags: u8,
}
pub(super) const OUT: u8 = 1;
pub(super) const FIRST: u8 = 2;

/// Per-customer summary, computed from the time-ordered messages.
#[derive(Clone)]
pub(super) struct Sum {
    pub(super) first_at: i64,
    pub(super) last: usize,
    pub(super) last_in_at: Option<i64>,
    pub(super) last_in_ch: Option<ChannelKind>,
    pub(super) last_out_ch: Option<ChannelKind>,
    pub(super) mask: i64,
    pub(super) ident_last_in: [Option<i64>; 4],
}

/// The planned data set. Customer `i` has conversation `i`; the big customer is the last one.
pub(super) struct Plan {
    pub(super) custs: Vec<Cust>,
    /// In time order; message `idx` gets id `bases.message + idx`.
    pub(super) msgs: Vec<Msg>,
    pub(super) sums: Vec<Sum>,
    pub(super) big: usize,
}

impl Plan {
    /// When customer `i` (and its identifiers) was created: within the hour before its first
    /// message.
    pub(super) fn customer_created(&self, b: &Bases, i: usize) -> i64 {
        self.sums[i].first_at - (mix(b.customer as u64 + i as u64) % HOUR as u64) as i64
    }
}
