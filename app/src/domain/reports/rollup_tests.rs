use super::*;
use crate::domain::reports::episodes::{episodes, EpisodeConfig};
use proptest::prelude::*;

const H: i64 = 3_600;

fn row(conversation_id: i64, day: i64, first: ChannelKind) -> EpisodeRow {
    EpisodeRow {
        conversation_id,
        day,
        started_at: day * DAY_MS,
        last_message_at: day * DAY_MS,
        resolved_at: None,
        first_channel: first,
        resolution_channel: None,
        channels: vec![first],
        switched: false,
        moved: false,
        reopened: false,
        repeated: false,
        first_response_secs: None,
        resolution_secs: None,
        replies: Vec::new(),
        window_expired: Vec::new(),
        first_response_bh: None,
        resolution_bh: None,
        replies_bh: Vec::new(),
        handled_by: None,
        inbound: 1,
        outbound: 0,
    }
}

/// Applies every delta of `deltas` to `rows`, as the store does.
fn apply_all(
    mut rows: BTreeMap<RollupKey, Figures>,
    deltas: &BTreeMap<RollupKey, Delta>,
) -> Result<BTreeMap<RollupKey, Figures>, Drift> {
    for (key, d) in deltas {
        if let Some(f) = apply(rows.remove(key), d)? {
            rows.insert(key.clone(), f);
        }
    }
    Ok(rows)
}

#[test]
fn local_days_follow_the_offset() {
    assert_eq!(local_day(0, 0), 0);
    assert_eq!(local_day(DAY_MS - 1, 0), 0);
    assert_eq!(local_day(DAY_MS, 0), 1);
    // 23:30 UTC on day 0 is 01:30 on day 1 in UTC+2, and 18:30 on day 0 in UTC-5.
    let t = DAY_MS - 30 * 60_000;
    assert_eq!(local_day(t, 2 * H), 1);
    assert_eq!(local_day(t, -5 * H), 0);
    assert_eq!(local_hour(t, 0), 23);
    assert_eq!(local_hour(t, 2 * H), 1);
    assert_eq!(local_hour(t, -5 * H), 18);
    assert_eq!(
        (
            hour_key(3, 7).metric.as_str(),
            hour_key(3, 7).channel.as_str()
        ),
        ("inbound_hour", "07")
    );
    // Before 1970.
    assert_eq!(local_day(-1, 0), -1);
    assert_eq!(local_day(30 * 60_000, -H), -1);
}

#[test]
fn an_episode_counts_in_its_start_day_channel_and_agent() {
    let mut r = row(7, 100, ChannelKind::Sms);
    r.handled_by = Some(3);
    r.resolved_at = Some(100 * DAY_MS + 5_000);
    r.resolution_channel = Some(ChannelKind::Email);
    r.first_response_secs = Some(60);
    r.resolution_secs = Some(5);
    r.replies = vec![(ChannelKind::Email, 60), (ChannelKind::Sms, 30)];
    r.window_expired = vec![(ChannelKind::Whatsapp, 2)];
    r.switched = true;
    let rows = from_episodes([&r]);
    let get = |metric: &str, channel: &str| {
        rows.get(&RollupKey {
            day: 100,
            metric: metric.into(),
            channel: channel.into(),
            agent: 3,
        })
        .cloned()
    };
    assert_eq!(get(EPISODES, "sms").unwrap().n, 1);
    let customers = RollupKey::new(100, CUSTOMERS, None, None);
    assert_eq!(rows.get(&customers).unwrap().vals, vec![7]);
    assert_eq!(get(RESOLVED, "sms").unwrap().n, 1);
    assert_eq!(get("resolved_on:email", "sms").unwrap().n, 1);
    assert_eq!(get(SWITCHED, "sms").unwrap().n, 1);
    assert_eq!(get(REOPENED, "sms"), None);
    let fr = get(FIRST_RESPONSE, "sms").unwrap();
    assert_eq!((fr.n, fr.total, fr.vals), (1, 60, vec![60]));
    assert_eq!(get(REPLY, "email").unwrap().vals, vec![60]);
    assert_eq!(get(REPLY, "sms").unwrap().vals, vec![30]);
    assert_eq!(get(WINDOW_EXPIRED, "whatsapp").unwrap().n, 2);
}

/// A customer writes on Friday at 16:00 (Paris, UTC+1 in January); the agent answers on Monday
/// at 10:00 and resolves at 11:00. Wall clock: 66 h and 67 h. Business hours Mon-Fri 9-17:
/// one hour on Friday and one (two) on Monday.
#[test]
fn business_hours_rows_count_only_opening_hours() {
    // 2024-01-05 was a Friday; 15:00 UTC is 16:00 in Paris.
    let friday = 1_704_466_800;
    let monday = friday + 66 * H;
    let sms = ChannelKind::Sms;
    let facts = vec![
        Fact {
            at: friday,
            kind: FactKind::Inbound { channel: sms },
        },
        Fact {
            at: monday,
            kind: FactKind::AgentReply {
                channel: sms,
                agent: 4,
            },
        },
        Fact {
            at: monday + H,
            kind: FactKind::Resolved { agent: Some(4) },
        },
    ];
    let hours = super::super::Schedule::parse("Mon-Fri 09:00-17:00")
        .unwrap()
        .unwrap();
    let eps = episodes(&facts, &EpisodeConfig::default(), monday + 2 * H);
    let row = EpisodeRow::new(1, &eps[0], |_| H, Some(&hours));
    assert_eq!(row.first_response_secs, Some(66 * H));
    assert_eq!(row.first_response_bh, Some(2 * H));
    assert_eq!(row.resolution_bh, Some(3 * H));
    assert_eq!(row.replies_bh, vec![(sms, 2 * H)]);
    let rows = from_episodes([&row]);
    let day = local_day(friday * 1000, H);
    let bh = &rows[&RollupKey::new(day, FIRST_RESPONSE_BH, Some(sms), Some(4))];
    assert_eq!((bh.n, bh.total, bh.vals.clone()), (1, 2 * H, vec![2 * H]));
    // Without a schedule, no business-hours rows.
    let plain = EpisodeRow::new(1, &eps[0], |_| H, None);
    assert_eq!(plain.first_response_bh, None);
    assert!(from_episodes([&plain])
        .keys()
        .all(|k| !k.metric.ends_with("_bh")));
}

#[test]
fn a_diff_turns_old_rollups_into_new_ones() {
    let mut a = row(1, 10, ChannelKind::Sms);
    a.first_response_secs = Some(120);
    let b = row(2, 10, ChannelKind::Sms);
    let before = from_episodes([&a, &b]);
    // Conversation 1's episode gets a resolution and another reply time.
    let mut a2 = a.clone();
    a2.resolved_at = Some(10 * DAY_MS + 9_000);
    a2.resolution_secs = Some(9);
    a2.resolution_channel = Some(ChannelKind::Sms);
    a2.replies = vec![(ChannelKind::Sms, 120)];
    let after = apply_all(before, &diff(&[a.clone()], &[a2.clone()])).unwrap();
    assert_eq!(after, from_episodes([&a2, &b]));
    // Removing an episode that was never added is drift, not a silent negative count.
    let lone = from_episodes([&b]);
    assert!(apply_all(lone, &diff(&[a], &[])).is_err());
}

#[test]
fn unchanged_episodes_make_no_changes() {
    let mut a = row(1, 10, ChannelKind::Email);
    a.first_response_secs = Some(5);
    assert!(diff(&[a.clone()], &[a]).is_empty());
}

#[test]
fn stored_text_round_trips() {
    assert_eq!(
        decode_vals(&encode_vals(&[1, 5, 5, 900])),
        Some(vec![1, 5, 5, 900])
    );
    assert_eq!(decode_vals(""), Some(vec![]));
    assert_eq!(decode_vals("1 x"), None);
    let pairs = vec![(ChannelKind::Sms, 3), (ChannelKind::Email, 0)];
    assert_eq!(decode_pairs(&encode_pairs(&pairs)), Some(pairs));
    assert_eq!(decode_pairs("fax:1"), None);
    let ch = vec![ChannelKind::Telegram, ChannelKind::Instagram];
    assert_eq!(decode_channels(&encode_channels(&ch)), Some(ch));
    let mut entries = Entries::new();
    entries.insert(
        ("sms".into(), 3),
        Figures {
            n: 2,
            total: 70,
            vals: vec![10, 60],
        },
    );
    entries.insert(
        ("".into(), 0),
        Figures {
            n: 5,
            total: 0,
            vals: vec![],
        },
    );
    entries.insert(
        ("07".into(), 0),
        Figures {
            n: 1,
            total: 0,
            vals: vec![],
        },
    );
    assert_eq!(unpack(&pack(&entries)), Some(entries));
    assert_eq!(unpack(""), Some(Entries::new()));
    for bad in ["sms|3|2", "sms|x|1|0|", "a|1|1|1|1 q"] {
        assert_eq!(unpack(bad), None, "{bad}");
    }
}

#[test]
fn hand_offs_and_system_messages_are_not_agent_replies() {
    let sms = ChannelKind::Sms;
    assert_eq!(
        message_fact(1_500, false, sms, Some(4), false).kind,
        FactKind::AgentReply {
            channel: sms,
            agent: 4
        }
    );
    assert_eq!(
        message_fact(1_500, false, sms, Some(4), true).kind,
        FactKind::AutoReply { channel: sms }
    );
    assert_eq!(
        message_fact(1_500, false, sms, None, false).kind,
        FactKind::AutoReply { channel: sms }
    );
    assert_eq!(message_fact(1_999, true, sms, None, false).at, 1);
    assert_eq!(status_fact(0, "pending", Some(1)), None);
    assert_eq!(
        status_fact(0, "open", Some(1)).unwrap().kind,
        FactKind::Reopened
    );
}

fn arb_fact() -> impl Strategy<Value = (i64, u8, usize, i64)> {
    // (seconds since the previous fact, kind, channel, agent)
    (
        prop_oneof![0i64..600, 600i64..90_000, 500_000i64..900_000],
        0u8..6,
        0usize..6,
        1i64..3,
    )
}

fn facts_of(steps: &[(i64, u8, usize, i64)]) -> Vec<Fact> {
    let mut at = 1_700_000_000;
    steps
        .iter()
        .map(|&(gap, kind, ch, agent)| {
            at += gap;
            let channel = ChannelKind::ALL[ch];
            let kind = match kind {
                0 | 1 => FactKind::Inbound { channel },
                2 => FactKind::AgentReply { channel, agent },
                3 => FactKind::Resolved { agent: Some(agent) },
                4 => FactKind::Reopened,
                _ => FactKind::AutoReply { channel },
            };
            Fact { at, kind }
        })
        .collect()
}

proptest! {
    /// Growing a history one fact at a time and applying each diff gives the rollups of the
    /// whole history computed at once.
    #[test]
    fn incremental_diffs_equal_a_recomputation(
        steps in proptest::collection::vec(arb_fact(), 1..60),
        offset in -12i64..14,
        with_hours in any::<bool>(),
    ) {
        let facts = facts_of(&steps);
        let cfg = EpisodeConfig::default();
        let hours = with_hours.then(|| super::super::Schedule::weekdays(540, 1020, 0).unwrap());
        let rows_of = |fs: &[Fact]| -> Vec<EpisodeRow> {
            episodes(fs, &cfg, i64::MAX / 4)
                .iter()
                .map(|ep| EpisodeRow::new(9, ep, |_| offset * H, hours.as_ref()))
                .collect()
        };
        let mut rollups = BTreeMap::new();
        let mut stored: Vec<EpisodeRow> = Vec::new();
        for n in 1..=facts.len() {
            let new = rows_of(&facts[..n]);
            rollups = apply_all(rollups, &diff(&stored, &new)).unwrap();
            stored = new;
        }
        prop_assert_eq!(rollups, from_episodes(&stored));
    }
}
