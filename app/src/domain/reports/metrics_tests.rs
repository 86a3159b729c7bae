//! Tests of [`super`] (metrics.rs) on hand-built histories with known answers.

use super::super::episodes::{episodes, EpisodeConfig};
use super::super::hours::{business_secs, Schedule};
use super::*;
use ChannelKind::{Email, Sms, Whatsapp};

const H: i64 = 3_600;
const DAY: i64 = 86_400;
/// 2024-01-01T00:00:00Z, a Monday.
const MONDAY: i64 = 1_704_067_200;

fn fact(at: i64, kind: FactKind) -> Fact {
    Fact { at, kind }
}

fn inbound(at: i64, channel: ChannelKind) -> Fact {
    fact(at, FactKind::Inbound { channel })
}

fn reply(at: i64, channel: ChannelKind, agent: i64) -> Fact {
    fact(at, FactKind::AgentReply { channel, agent })
}

fn resolved(at: i64, agent: Option<i64>) -> Fact {
    fact(at, FactKind::Resolved { agent })
}

fn run(facts: &[Fact]) -> Vec<Episode> {
    episodes(facts, &EpisodeConfig::default(), MONDAY + 365 * DAY)
}

#[test]
fn definitions_are_unique_and_nonempty() {
    let names: BTreeSet<&str> = DEFINITIONS.iter().map(|(name, _)| *name).collect();
    assert_eq!(names.len(), DEFINITIONS.len());
    assert!(DEFINITIONS.iter().all(|(_, text)| text.ends_with('.')));
}

#[test]
fn percentiles_by_nearest_rank() {
    let four = Summary::of(&[4, 1, 3, 2]);
    assert_eq!(four.median, Some(2));
    assert_eq!(four.average, Some(2.5));
    let ten: Vec<i64> = (1..=10).collect();
    let s = Summary::of(&ten);
    assert_eq!((s.count, s.median, s.p90), (10, Some(5), Some(9)));
    assert_eq!(percentile(&ten, 100), Some(10));
    assert_eq!(percentile(&ten, 0), Some(1));
    assert_eq!(percentile(&[7], 90), Some(7));
    assert_eq!(Summary::of(&[]), Summary::default());
    assert_eq!(Summary::of(&[]).median, None);
    let big = Summary::of(&[i64::MAX, i64::MAX]);
    assert_eq!(big.average, Some(i64::MAX as f64));
}

#[test]
fn rates_and_matrix() {
    let mut facts = vec![
        // Episode 1: email -> reply on sms (moved), resolved.
        inbound(0, Email),
        fact(
            10,
            FactKind::Moved {
                from: Email,
                to: Sms,
                agent: Some(1),
            },
        ),
        reply(20, Sms, 1),
        resolved(30, Some(1)),
        // Episode 2: email, resolved, reopened, resolved again.
        inbound(100, Email),
        reply(110, Email, 2),
        resolved(120, Some(2)),
        fact(130, FactKind::Reopened),
        resolved(140, Some(2)),
        // Episode 3: whatsapp, no agent reply, resolved.
        inbound(150, Whatsapp),
        resolved(160, None),
    ];
    // Episode 4: sms then email (switch), still open.
    facts.extend([inbound(200, Sms), inbound(210, Email)]);
    let eps = run(&facts);
    assert_eq!(eps.len(), 4);
    assert_eq!(reopen_rate(&eps), Rate { count: 1, total: 3 });
    assert_eq!(switch_rate(&eps), Rate { count: 1, total: 4 });
    assert_eq!(moved_rate(&eps), Rate { count: 1, total: 4 });
    assert_eq!(repeated_rate(&eps).value(), Some(0.25));
    assert_eq!(Rate::default().value(), None);
    let matrix = channel_matrix(&eps);
    let expected = BTreeMap::from([
        ((Email, Email), 1),
        ((Email, Sms), 1),
        ((Whatsapp, Whatsapp), 1),
    ]);
    assert_eq!(matrix, expected);
    let r = report(&eps, &Clock::Wall);
    assert_eq!((r.episodes, r.resolved), (4, 3));
    assert_eq!(r.resolution.count, 3);
    assert_eq!(r.first_response.count, 2);
}

#[test]
fn per_agent_figures() {
    let facts = [
        inbound(0, Email),
        reply(100, Email, 1),
        resolved(1_000, Some(2)),
        inbound(2_000, Email),
        reply(2_300, Email, 1),
        inbound(3_000, Sms),
        resolved(3_500, Some(2)),
        inbound(4_000, Sms),
        resolved(4_500, Some(2)),
        inbound(5_000, Email),
    ];
    let eps = run(&facts);
    let agents = per_agent(&eps, &Clock::Wall);
    assert_eq!(agents.len(), 2);
    let one = agents[&1];
    assert_eq!(one.episodes, 2);
    assert_eq!(one.first_response.median, Some(100));
    assert_eq!(one.first_response.average, Some(200.0));
    assert_eq!(one.resolution.count, 2);
    assert_eq!(one.resolution.median, Some(1_000));
    assert_eq!(one.resolution.p90, Some(1_500));
    let two = agents[&2];
    assert_eq!(two.episodes, 1);
    assert_eq!(two.first_response.count, 0);
    assert_eq!(two.resolution.median, Some(500));
}

#[test]
fn durations_in_business_hours() {
    let schedule = Schedule::weekdays(9 * 60, 17 * 60, 0).unwrap();
    let friday = MONDAY + 4 * DAY;
    // Friday 16:00 message, Monday 10:00 reply, Monday 11:00 resolve.
    let facts = [
        inbound(friday + 16 * H, Email),
        reply(friday + 3 * DAY + 10 * H, Email, 1),
        resolved(friday + 3 * DAY + 11 * H, Some(1)),
    ];
    let eps = run(&facts);
    let clock = Clock::Business(&schedule);
    assert_eq!(
        durations(&eps, DurationMetric::FirstResponse, &clock),
        vec![2 * H]
    );
    assert_eq!(durations(&eps, DurationMetric::Reply, &clock), vec![2 * H]);
    assert_eq!(
        durations(&eps, DurationMetric::Resolution, &clock),
        vec![3 * H]
    );
    assert_eq!(eps[0].first_response_secs, Some(2 * DAY + 18 * H));
}

#[test]
fn daily_volume() {
    let day_of = |at: i64| at.div_euclid(DAY);
    let a = [
        reply(MONDAY, Sms, 1), // campaign before any inbound
        inbound(MONDAY + H, Sms),
        inbound(MONDAY + 2 * H, Sms),
        reply(MONDAY + 3 * H, Sms, 1),
        inbound(MONDAY + DAY, Email),
    ];
    let b = [
        inbound(MONDAY + H, Sms),
        fact(MONDAY + H, FactKind::AutoReply { channel: Sms }),
    ];
    // Same customer as `a`, another conversation.
    let c = [inbound(MONDAY + 5 * H, Whatsapp)];
    let (ea, eb, ec) = (run(&a), run(&b), run(&c));
    let conversations = [
        ConversationRef {
            customer: 1,
            facts: &a,
            episodes: &ea,
        },
        ConversationRef {
            customer: 2,
            facts: &b,
            episodes: &eb,
        },
        ConversationRef {
            customer: 1,
            facts: &c,
            episodes: &ec,
        },
    ];
    let volume = volume_per_day(&conversations, &day_of);
    let monday = MONDAY / DAY;
    let sms = volume.by_day_channel[&(monday, Sms)];
    assert_eq!(
        sms,
        DayChannelVolume {
            episodes_opened: 2,
            inbound: 3,
            outbound: 3,
            unique_customers: 2
        }
    );
    let wa = volume.by_day_channel[&(monday, Whatsapp)];
    assert_eq!((wa.episodes_opened, wa.unique_customers), (1, 1));
    let tuesday_mail = volume.by_day_channel[&(monday + 1, Email)];
    assert_eq!(
        tuesday_mail,
        DayChannelVolume {
            episodes_opened: 0,
            inbound: 1,
            outbound: 0,
            unique_customers: 1
        }
    );
    assert_eq!(volume.unique_customers_by_day[&monday], 2);
    assert_eq!(volume.unique_customers_by_day[&(monday + 1)], 1);
}

#[test]
fn heatmap_by_local_weekday_and_hour() {
    let a = [
        inbound(MONDAY + 9 * H + 30, Email),
        reply(MONDAY + 10 * H, Email, 1),
    ];
    let b = [
        inbound(MONDAY - H, Sms),
        inbound(MONDAY + 9 * H + 59 * 60, Sms),
    ];
    let utc = inbound_heatmap([&a[..], &b[..]], &|_| 0);
    assert_eq!(utc[0][9], 2);
    assert_eq!(utc[6][23], 1); // Sunday 23:00
    assert_eq!(utc.iter().flatten().sum::<u64>(), 3);
    let plus_two = inbound_heatmap([&b[..]], &|_| 7_200);
    assert_eq!(plus_two[0][1], 1); // Monday 01:00 local
    assert_eq!(plus_two[0][11], 1);
}

/// Small xorshift64 generator for the property test.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_history(rng: &mut XorShift) -> Vec<Fact> {
    let len = rng.below(40);
    let mut at = MONDAY + rng.below(30 * DAY as u64) as i64;
    let mut facts = Vec::new();
    for _ in 0..len {
        // Distinct, increasing times; sometimes a gap over 7 days.
        at += 1 + match rng.below(10) {
            0 => 6 * DAY + rng.below(2 * DAY as u64) as i64,
            1..=3 => rng.below(2 * DAY as u64) as i64,
            _ => rng.below(4 * H as u64) as i64,
        };
        let channel = ChannelKind::ALL[rng.below(ChannelKind::ALL.len() as u64) as usize];
        let agent = rng.below(4) as i64;
        let kind = match rng.below(12) {
            0..=3 => FactKind::Inbound { channel },
            4..=6 => FactKind::AgentReply { channel, agent },
            7 => FactKind::AutoReply { channel },
            8 | 9 => FactKind::Resolved {
                agent: Some(agent).filter(|&a| a > 0),
            },
            10 => FactKind::Reopened,
            _ => FactKind::Moved {
                from: channel,
                to: ChannelKind::Sms,
                agent: None,
            },
        };
        facts.push(Fact { at, kind });
    }
    facts
}

#[test]
fn property_invariants_on_random_histories() {
    let schedule = Schedule::weekdays(9 * 60, 17 * 60, 3_600).unwrap();
    let business = |from, to| business_secs(&schedule, from, to);
    let wall = |from: i64, to: i64| to - from;
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut histories = Vec::new();
    let mut total_inbound_all = 0;
    for _ in 0..500 {
        let facts = random_history(&mut rng);
        let now = facts.last().map_or(MONDAY, |f| f.at) + rng.below(10 * DAY as u64) as i64;
        let eps = episodes(&facts, &EpisodeConfig::default(), now);
        let is_inbound = |f: &&Fact| matches!(f.kind, FactKind::Inbound { .. });
        let total_inbound = facts.iter().filter(is_inbound).count();
        total_inbound_all += total_inbound;
        // Each inbound lies in exactly one episode's span.
        for f in facts.iter().filter(is_inbound) {
            let owners = eps
                .iter()
                .filter(|ep| ep.started_at <= f.at && f.at <= ep.last_message_at)
                .count();
            assert_eq!(owners, 1);
        }
        assert_eq!(
            eps.iter().map(|ep| ep.inbound).sum::<usize>(),
            total_inbound
        );
        let outbound = facts.len() - total_inbound;
        assert!(eps.iter().map(|ep| ep.outbound).sum::<usize>() <= outbound);
        // Shuffled input gives the same episodes.
        let mut shuffled = facts.clone();
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, rng.below(i as u64 + 1) as usize);
        }
        assert_eq!(episodes(&shuffled, &EpisodeConfig::default(), now), eps);
        for pair in eps.windows(2) {
            assert!(pair[0].last_message_at < pair[1].started_at);
            assert_ne!(pair[0].end, EndKind::Open);
        }
        for ep in &eps {
            assert!(ep.inbound >= 1);
            assert!(ep.started_at <= ep.last_message_at);
            assert!(ep.ended_at.is_none_or(|end| end >= ep.started_at));
            assert_eq!(ep.end == EndKind::Resolved, ep.resolution_channel.is_some());
            assert_eq!(ep.switched, ep.channels_written.len() >= 2);
            assert!(ep.window_expired_replies <= ep.replies_by_channel.values().sum());
            for measure in [&business as &dyn Fn(i64, i64) -> i64, &wall] {
                let first = ep.first_response_with(measure);
                let resolution = ep.resolution_with(measure);
                let replies = ep.reply_secs_with(measure);
                assert!(first.is_none_or(|s| s >= 0));
                assert!(resolution.is_none_or(|s| s >= 0));
                assert!(replies.iter().all(|&s| s >= 0));
                if let (Some(first), Some(resolution)) = (first, resolution) {
                    assert!(first <= resolution);
                }
            }
            assert_eq!(ep.first_response_with(wall), ep.first_response_secs);
            assert_eq!(ep.resolution_with(wall), ep.resolution_secs);
            assert_eq!(ep.reply_secs_with(wall), ep.reply_secs);
            for &(from, to) in &ep.reply_spans {
                assert!(business(from, to) <= to - from);
            }
            if let Some(at) = ep.resolved_at {
                assert!(business(ep.started_at, at) <= at - ep.started_at);
            }
        }
        histories.push((facts, eps));
    }
    let all_episodes: Vec<Episode> = histories.iter().flat_map(|(_, eps)| eps.clone()).collect();
    assert!(all_episodes.len() > 500);
    let r = report(&all_episodes, &Clock::Business(&schedule));
    assert!(r.reopen_rate.count <= r.reopen_rate.total);
    assert_eq!(r.channel_matrix.values().sum::<usize>(), r.resolved);
    // Volume and heatmap see every inbound and every episode once.
    let conversations: Vec<ConversationRef<'_>> = histories
        .iter()
        .enumerate()
        .map(|(i, (facts, eps))| ConversationRef {
            customer: (i % 50) as i64,
            facts,
            episodes: eps,
        })
        .collect();
    let volume = volume_per_day(&conversations, &|at| (at + 3_600).div_euclid(DAY));
    let cells = volume.by_day_channel.values();
    assert_eq!(
        cells.clone().map(|c| c.inbound).sum::<usize>(),
        total_inbound_all
    );
    assert_eq!(
        cells.map(|c| c.episodes_opened).sum::<usize>(),
        all_episodes.len()
    );
    let heat = inbound_heatmap(histories.iter().map(|(facts, _)| &facts[..]), &|_| 3_600);
    assert_eq!(heat.iter().flatten().sum::<u64>(), total_inbound_all as u64);
}
