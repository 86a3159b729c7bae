//! Tests of [`super`] (episodes.rs) on hand-built histories with known answers.

use super::*;

const H: i64 = 3_600;
const DAY: i64 = 86_400;

fn inbound(at: i64, channel: ChannelKind) -> Fact {
    Fact {
        at,
        kind: FactKind::Inbound { channel },
    }
}

fn reply(at: i64, channel: ChannelKind, agent: i64) -> Fact {
    Fact {
        at,
        kind: FactKind::AgentReply { channel, agent },
    }
}

fn auto(at: i64, channel: ChannelKind) -> Fact {
    Fact {
        at,
        kind: FactKind::AutoReply { channel },
    }
}

fn resolved(at: i64, agent: Option<i64>) -> Fact {
    Fact {
        at,
        kind: FactKind::Resolved { agent },
    }
}

fn reopened(at: i64) -> Fact {
    Fact {
        at,
        kind: FactKind::Reopened,
    }
}

fn run(facts: &[Fact], now: i64) -> Vec<Episode> {
    episodes(facts, &EpisodeConfig::default(), now)
}

use ChannelKind::{Email, Instagram, Messenger, Sms, Whatsapp};

#[test]
fn channel_helpers_follow_channel_kind() {
    for (i, channel) in ChannelKind::ALL.into_iter().enumerate() {
        assert_eq!(channel_index(channel), i);
        assert_eq!(ChannelKind::parse(channel.as_str()), Some(channel));
    }
    let windowed: Vec<ChannelKind> = ChannelKind::ALL
        .into_iter()
        .filter(|&channel| has_service_window(channel))
        .collect();
    assert_eq!(windowed, vec![Whatsapp, Messenger, Instagram]);
    assert_eq!(ChannelKind::parse("fax"), None);
}

#[test]
fn simple_episode() {
    let facts = [
        inbound(100, Email),
        reply(400, Email, 7),
        resolved(1_000, Some(7)),
    ];
    let eps = run(&facts, 10_000);
    assert_eq!(eps.len(), 1);
    let ep = &eps[0];
    assert_eq!(ep.started_at, 100);
    assert_eq!(ep.end, EndKind::Resolved);
    assert_eq!(ep.ended_at, Some(1_000));
    assert_eq!(ep.first_channel, Email);
    assert_eq!(ep.resolution_channel, Some(Email));
    assert_eq!(ep.first_response_secs, Some(300));
    assert_eq!(ep.reply_secs, vec![300]);
    assert_eq!(ep.resolution_secs, Some(900));
    assert_eq!(ep.handled_by, Some(7));
    assert_eq!((ep.inbound, ep.outbound), (1, 1));
    assert!(!ep.reopened && !ep.switched && !ep.moved && !ep.repeated);
}

#[test]
fn empty_history_and_outbound_only() {
    assert!(run(&[], 0).is_empty());
    let campaign = [reply(10, Sms, 1), auto(20, Sms), resolved(30, None)];
    assert!(run(&campaign, 100).is_empty());
}

#[test]
fn new_inbound_after_resolution_is_a_new_episode() {
    let facts = [
        inbound(0, Email),
        reply(60, Email, 1),
        resolved(120, Some(1)),
        inbound(3_600, Email),
    ];
    let eps = run(&facts, 4_000);
    assert_eq!(eps.len(), 2);
    assert_eq!(eps[0].end, EndKind::Resolved);
    assert!(!eps[0].reopened && !eps[1].reopened);
    assert_eq!(eps[1].started_at, 3_600);
    assert_eq!(eps[1].end, EndKind::Open);
    assert_eq!(eps[1].ended_at, None);
}

#[test]
fn explicit_reopen_keeps_the_same_episode() {
    let facts = [
        inbound(0, Email),
        reply(60, Email, 1),
        resolved(120, Some(1)),
        reopened(500),
        reply(600, Sms, 2),
        resolved(900, Some(2)),
    ];
    let eps = run(&facts, 10_000);
    assert_eq!(eps.len(), 1);
    let ep = &eps[0];
    assert!(ep.reopened);
    assert_eq!(ep.resolved_at, Some(900));
    assert_eq!(ep.resolution_secs, Some(900));
    assert_eq!(ep.resolution_channel, Some(Sms));
    assert_eq!(ep.handled_by, Some(1));
    // The second reply answered nothing new: one reply span only.
    assert_eq!(ep.reply_secs, vec![60]);
}

#[test]
fn reopen_after_the_inactivity_window_is_ignored() {
    let facts = [
        inbound(0, Email),
        resolved(10, None),
        reopened(DEFAULT_INACTIVITY_SECS + 1),
    ];
    let eps = run(&facts, 30 * DAY);
    assert_eq!(eps.len(), 1);
    assert!(!eps[0].reopened);
    assert_eq!(eps[0].end, EndKind::Resolved);
}

#[test]
fn inactivity_boundary() {
    let week = DEFAULT_INACTIVITY_SECS;
    // Exactly 7 days: same episode.
    let same = run(&[inbound(0, Email), inbound(week, Email)], week);
    assert_eq!(same.len(), 1);
    assert_eq!(same[0].inbound, 2);
    assert_eq!(same[0].end, EndKind::Open);
    // 7 days + 1 s: the first lapses, a second one starts.
    let split = run(&[inbound(0, Email), inbound(week + 1, Email)], week + 1);
    assert_eq!(split.len(), 2);
    assert_eq!(split[0].end, EndKind::Inactive);
    assert_eq!(split[0].ended_at, Some(0));
    assert_eq!(split[1].started_at, week + 1);
    // Same rule at `now`.
    assert_eq!(run(&[inbound(0, Email)], week)[0].end, EndKind::Open);
    assert_eq!(
        run(&[inbound(0, Email)], week + 1)[0].end,
        EndKind::Inactive
    );
}

#[test]
fn auto_reply_is_not_a_first_response() {
    let facts = [inbound(0, Email), auto(5, Email), reply(200, Email, 3)];
    let ep = &run(&facts, 300)[0];
    assert_eq!(ep.first_response_secs, Some(200));
    assert_eq!(ep.reply_secs, vec![200]);
    assert_eq!(ep.outbound, 2);
    let only_auto = &run(&[inbound(0, Email), auto(5, Email)], 300)[0];
    assert_eq!(only_auto.first_response_secs, None);
    assert!(only_auto.reply_secs.is_empty());
    assert_eq!(only_auto.handled_by, None);
}

#[test]
fn reply_time_counts_from_oldest_unanswered_inbound() {
    let facts = [
        inbound(0, Email),
        inbound(100, Email),
        inbound(200, Email),
        reply(500, Email, 1),
        reply(600, Email, 1), // nothing unanswered: no reply time
        inbound(1_000, Email),
        inbound(1_100, Email),
        reply(1_300, Email, 2),
    ];
    let ep = &run(&facts, 2_000)[0];
    assert_eq!(ep.reply_secs, vec![500, 300]);
    assert_eq!(ep.reply_spans, vec![(0, 500), (1_000, 1_300)]);
    assert_eq!(ep.first_response_secs, Some(500));
}

#[test]
fn switch_and_repeated() {
    // Email unanswered when the SMS arrives: switched and repeated.
    let repeated = &run(&[inbound(0, Email), inbound(60, Sms)], 100)[0];
    assert!(repeated.switched && repeated.repeated);
    assert_eq!(repeated.channels_written, vec![Email, Sms]);
    // Email answered before the SMS: switched but not repeated.
    let facts = [inbound(0, Email), reply(30, Email, 1), inbound(60, Sms)];
    let answered = &run(&facts, 100)[0];
    assert!(answered.switched && !answered.repeated);
    // Two emails in a row are neither.
    let same = &run(&[inbound(0, Email), inbound(60, Email)], 100)[0];
    assert!(!same.switched && !same.repeated);
}

#[test]
fn move_is_not_a_switch() {
    let facts = [
        inbound(0, Email),
        Fact {
            at: 10,
            kind: FactKind::Moved {
                from: Email,
                to: Whatsapp,
                agent: Some(1),
            },
        },
        auto(10, Whatsapp),
        reply(20, Whatsapp, 1),
        resolved(30, Some(1)),
    ];
    let ep = &run(&facts, 100)[0];
    assert!(ep.moved && !ep.switched);
    assert_eq!(ep.first_channel, Email);
    assert_eq!(ep.resolution_channel, Some(Whatsapp));
}

#[test]
fn messaging_window_expiry() {
    let late = 25 * H;
    let wa = &run(&[inbound(0, Whatsapp), reply(late, Whatsapp, 1)], late)[0];
    assert_eq!(wa.window_expired_replies, 1);
    let mail = &run(&[inbound(0, Email), reply(late, Email, 1)], late)[0];
    assert_eq!(mail.window_expired_replies, 0);
    // Exactly 24 h is still inside the window.
    let edge = &run(&[inbound(0, Whatsapp), reply(DAY, Whatsapp, 1)], DAY)[0];
    assert_eq!(edge.window_expired_replies, 0);
    // The window is per channel: a fresh e-mail does not reopen WhatsApp.
    let facts = [
        inbound(0, Whatsapp),
        inbound(late - 60, Email),
        reply(late, Whatsapp, 1),
    ];
    assert_eq!(run(&facts, late)[0].window_expired_replies, 1);
}

#[test]
fn resolver_handles_when_nobody_replied() {
    let facts = [inbound(0, Sms), resolved(50, Some(9))];
    let ep = &run(&facts, 100)[0];
    assert_eq!(ep.handled_by, Some(9));
    assert_eq!(ep.resolution_channel, Some(Sms));
    assert_eq!(ep.first_response_secs, None);
}

#[test]
fn unsorted_input_is_sorted_stably() {
    let facts = [
        resolved(1_000, Some(7)),
        reply(400, Email, 7),
        inbound(100, Email),
    ];
    let sorted = [facts[2], facts[1], facts[0]];
    assert_eq!(run(&facts, 5_000), run(&sorted, 5_000));
    // Equal times keep input order: inbound then resolve vs resolve then inbound.
    let a = run(&[inbound(0, Email), resolved(0, None)], 10);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].end, EndKind::Resolved);
    let b = run(&[resolved(0, None), inbound(0, Email)], 10);
    assert_eq!(b[0].end, EndKind::Open);
}

#[test]
fn replies_after_resolution_belong_to_no_episode() {
    let facts = [
        inbound(0, Email),
        resolved(10, Some(1)),
        reply(20, Email, 1),
    ];
    let ep = &run(&facts, 100)[0];
    assert_eq!(ep.outbound, 0);
    assert_eq!(ep.first_response_secs, None);
    assert_eq!(ep.handled_by, Some(1));
}

#[test]
fn extreme_times_do_not_panic() {
    let facts = [
        inbound(i64::MIN, Whatsapp),
        reply(i64::MAX, Whatsapp, 1),
        inbound(i64::MAX, Sms),
    ];
    let eps = run(&facts, i64::MIN);
    assert_eq!(eps.len(), 2);
    assert!(eps.iter().all(|ep| ep.reply_secs.iter().all(|&s| s >= 0)));
}
