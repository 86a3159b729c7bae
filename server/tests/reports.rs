//! Reports (issue 13): the episodes and daily rollups kept current as conversations change
//! equal a rebuild from the messages and events, after random histories with late messages,
//! replies, resolutions, reopenings, moves' hand-offs, merges and undos; and the rows hold the
//! known answers of a hand-built history. Every test runs on SQLite and on PostgreSQL.

use crate::identity::{fx, Fx};
use app::domain::reports::rollup::{self, RollupKey};
use app::domain::{ChannelKind, Status};
use app::service::{self, reports};
use app::store::{now_ms, Db};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

/// A small deterministic generator (the history must be the same on both engines).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

struct Customer {
    phone: String,
    email: String,
    customer_id: Option<i64>,
    sms_ident: Option<i64>,
    email_ident: Option<i64>,
}

/// The customer's conversation, if it still has one (an undone merge may delete it).
async fn conversation(db: &Db, customer: i64) -> Option<i64> {
    service::identifiers::conversation_of(db, customer)
        .await
        .unwrap()
}

async fn rollups_equal_a_rebuild(f: &Fx, seed: u64) {
    let db = &f.db;
    let mut rng = Rng(seed);
    let start = now_ms() - 40 * DAY;
    let mut customers: Vec<Customer> = (0..4)
        .map(|i| Customer {
            phone: format!("+1415555{:02}{i:02}", seed % 100),
            email: format!("c{seed}-{i}@example.com"),
            customer_id: None,
            sms_ident: None,
            email_ident: None,
        })
        .collect();
    let mut merged: Vec<i64> = Vec::new();
    let mut n = 0;
    for step in 0..120 {
        let k = rng.below(customers.len() as u64) as usize;
        let c = &mut customers[k];
        match rng.below(10) {
            // A customer message at a random time of the last 40 days (often older than what
            // the conversation already holds: a late fact).
            0..=3 => {
                n += 1;
                let at = start + (rng.below(40 * 24) as i64) * HOUR + rng.below(HOUR as u64) as i64;
                if rng.below(3) == 0 {
                    let got = f
                        .email_in(&c.email, "Cust", &format!("e{seed}-{n}"), "Hello", at, &[])
                        .await;
                    c.email_ident = Some(got.identifier_id);
                    c.customer_id = Some(got.customer_id);
                } else {
                    let got = f
                        .sms_in(&c.phone, "Cust", &format!("s{seed}-{n}"), "Hi", at)
                        .await;
                    c.sms_ident = Some(got.identifier_id);
                    c.customer_id = Some(got.customer_id);
                }
            }
            // An agent reply (now).
            4 | 5 => {
                let (account, ident) = if rng.below(2) == 0 {
                    (&f.sms, c.sms_ident)
                } else {
                    (&f.email, c.email_ident)
                };
                if let (Some(cust), Some(ident)) = (c.customer_id, ident) {
                    if let Some(conv) = conversation(db, cust).await {
                        // Refused replies (the identifier went back with an undone merge)
                        // change nothing.
                        let _ =
                            service::reply::queue_reply(db, conv, account.id, ident, f.agent, "ok")
                                .await;
                    }
                }
            }
            // Resolve, reopen, pending.
            6 | 7 => {
                if let Some(conv) = match c.customer_id {
                    Some(cust) => conversation(db, cust).await,
                    None => None,
                } {
                    let status =
                        [Status::Resolved, Status::Open, Status::Pending][rng.below(3) as usize];
                    service::conversations::set_status(db, conv, status, None, f.agent)
                        .await
                        .unwrap();
                }
            }
            // Merge two customers, or undo a merge.
            8 => {
                let other = &customers[(k + 1) % customers.len()];
                if let (Some(a), Some(b)) = (customers[k].customer_id, other.customer_id) {
                    if a != b && service::merge::merge(db, a, b, f.agent).await.is_ok() {
                        merged.push(b);
                    }
                }
            }
            _ => {
                if let Some(b) = merged.pop() {
                    let _ = service::merge::unmerge(db, b, f.agent).await;
                }
            }
        }
        if step % 7 == 0 {
            reports::refresh_pending(db).await.unwrap();
        }
    }
    reports::refresh_pending(db).await.unwrap();
    let kept = reports::snapshot(db).await.unwrap();
    let rebuilt = reports::rebuild(db).await.unwrap();
    let fresh = reports::snapshot(db).await.unwrap();
    assert!(rebuilt.episodes > 0, "the history has episodes");
    assert_eq!(
        kept.0, fresh.0,
        "episodes kept current = episodes rebuilt (seed {seed})"
    );
    assert_eq!(
        kept.1, fresh.1,
        "rollups kept current = rollups rebuilt (seed {seed})"
    );
    // The volume rows count every message.
    let messages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
        .fetch_one(&db.read)
        .await
        .unwrap();
    let counted: i64 = fresh
        .1
        .iter()
        .filter(|(k, _)| k.metric == rollup::INBOUND || k.metric == rollup::OUTBOUND)
        .map(|(_, f)| f.n)
        .sum();
    assert_eq!(counted, messages);
    let sum = |hit: &dyn Fn(&str) -> bool| -> i64 {
        fresh
            .1
            .iter()
            .filter(|(k, _)| hit(&k.metric))
            .map(|(_, f)| f.n)
            .sum()
    };
    assert_eq!(
        sum(&|m| m == rollup::INBOUND_HOUR),
        sum(&|m| m == rollup::INBOUND),
        "every inbound message is in the heatmap once"
    );
}

async fn rollups_kept_current_equal_a_rebuild(db: Db) {
    let f = fx(db).await;
    for seed in [7, 1_234_567, 99] {
        rollups_equal_a_rebuild(&f, seed).await;
    }
}

/// A hand-built history with known answers: first response, resolution, reply times, a
/// channel switch and the first-contact → resolution matrix.
async fn a_known_history_gives_known_rows(db: Db) {
    let f = fx(db.clone()).await;
    // 20 minutes ago by SMS, 10 minutes ago by email: the customer switched channels and
    // repeated themselves (the SMS was unanswered).
    let t0 = now_ms() - 20 * MIN;
    let a = f
        .sms_in("+14155550123", "Ada", "k-1", "Where is my order?", t0)
        .await;
    f.email_in(
        "ada@example.com",
        "Ada",
        "k-2",
        "Order?",
        t0 + 10 * MIN,
        &[],
    )
    .await;
    // The email joined another customer: merge it in, so the history is one conversation.
    let email_customer: i64 =
        sqlx::query_scalar("SELECT customer_id FROM identifiers WHERE value = 'ada@example.com'")
            .fetch_one(&db.read)
            .await
            .unwrap();
    service::merge::merge(&db, a.customer_id, email_customer, f.agent)
        .await
        .unwrap();
    // The agent answers by email now and resolves.
    let email_ident: i64 =
        sqlx::query_scalar("SELECT id FROM identifiers WHERE value = 'ada@example.com'")
            .fetch_one(&db.read)
            .await
            .unwrap();
    service::reply::queue_reply(
        &db,
        a.conversation_id,
        f.email.id,
        email_ident,
        f.agent,
        "Shipped",
    )
    .await
    .unwrap();
    service::conversations::set_status(&db, a.conversation_id, Status::Resolved, None, f.agent)
        .await
        .unwrap();
    reports::refresh_pending(&db).await.unwrap();

    let (episodes, rows) = reports::snapshot(&db).await.unwrap();
    assert_eq!(episodes.len(), 1, "{episodes:?}");
    let ep = &episodes[0];
    assert_eq!(ep.first_channel, ChannelKind::Sms);
    assert_eq!(ep.resolution_channel, Some(ChannelKind::Email));
    assert!(ep.switched && ep.repeated && !ep.reopened);
    assert_eq!(ep.handled_by, Some(f.agent));
    assert_eq!((ep.inbound, ep.outbound), (2, 1));
    // About 20 minutes to the first response (t0 is whole seconds away from "now").
    let fr = ep.first_response_secs.unwrap();
    assert!(
        (20 * 60..20 * 60 + 30).contains(&fr),
        "first response {fr} s"
    );
    // One reply answering the oldest unanswered message (the SMS).
    assert_eq!(ep.replies.len(), 1);
    assert_eq!(ep.replies[0].0, ChannelKind::Email);
    assert_eq!(ep.replies[0].1, fr);
    let get = |metric: &str, channel: &str| {
        rows.iter()
            .find(|(k, _)| {
                *k == RollupKey {
                    day: ep.day,
                    metric: metric.into(),
                    channel: channel.into(),
                    agent: f.agent,
                }
            })
            .map(|(_, fig)| fig.clone())
    };
    assert_eq!(get(rollup::EPISODES, "sms").unwrap().n, 1);
    assert_eq!(get("resolved_on:email", "sms").unwrap().n, 1);
    assert_eq!(get(rollup::SWITCHED, "sms").unwrap().n, 1);
    assert_eq!(get(rollup::FIRST_RESPONSE, "sms").unwrap().vals, vec![fr]);
    assert_eq!(get(rollup::REPLY, "email").unwrap().vals, vec![fr]);
    // The rebuild agrees.
    reports::rebuild(&db).await.unwrap();
    assert_eq!(reports::snapshot(&db).await.unwrap().1, rows);
}

/// Days are counted in the reporting time zone: a message at 23:30 UTC is the next day in
/// Paris; changing the zone rebuilds the rows.
async fn days_follow_the_reporting_time_zone(db: Db) {
    let f = fx(db.clone()).await;
    let midnight = (now_ms() / DAY - 3) * DAY;
    f.sms_in("+14155550188", "Bo", "tz-1", "Late", midnight - 30 * MIN)
        .await;
    reports::refresh_pending(&db).await.unwrap();
    let day_of = |rows: &[(RollupKey, rollup::Figures)]| {
        rows.iter()
            .find(|(k, _)| k.metric == rollup::INBOUND)
            .map(|(k, _)| k.day)
            .unwrap()
    };
    let utc = day_of(&reports::snapshot(&db).await.unwrap().1);
    assert_eq!(utc, midnight / DAY - 1);
    let settings = app::store::rollups::Settings {
        time_zone: "Europe/Paris".into(),
        inactivity_secs: 7 * 86_400,
        business_hours: String::new(),
        rebuild_requested: None,
    };
    reports::set_settings(&db, &settings).await.unwrap();
    let (episodes, rows) = reports::snapshot(&db).await.unwrap();
    assert_eq!(day_of(&rows), midnight / DAY);
    assert_eq!(episodes[0].day, midnight / DAY);
    let bad = app::store::rollups::Settings {
        time_zone: "Mars/Olympus".into(),
        inactivity_secs: 7 * 86_400,
        business_hours: String::new(),
        rebuild_requested: None,
    };
    let err = reports::set_settings(&db, &bad).await.unwrap_err();
    assert!(err.to_string().contains("not a time zone"), "{err}");
}

/// The consent and reach tab: consent changes by channel, purpose and source, marketing
/// opt-ins and opt-outs, merges and their undos, as recorded today.
async fn the_reach_tab_counts_consent_and_merges(db: Db) {
    use app::domain::consent::Purpose;
    use app::model::ReportQuery;
    use app::service::consent::{record_by_agent, AgentChange};
    let f = fx(db.clone()).await;
    let a = f
        .sms_in("+14155550177", "Cy", "r-1", "Hi", now_ms() - MIN)
        .await;
    let b = f
        .email_in("cy@example.com", "Cy", "r-2", "Hello", now_ms() - MIN, &[])
        .await;
    for (granted, reason) in [(true, "asked at the counter"), (false, "asked to stop")] {
        record_by_agent(
            &db,
            &AgentChange {
                identifier_id: a.identifier_id,
                purpose: Purpose::Marketing,
                granted,
                reason: reason.into(),
                all_channels: false,
            },
            f.agent,
            "Sam Agent",
        )
        .await
        .unwrap();
    }
    service::merge::merge(&db, a.customer_id, b.customer_id, f.agent)
        .await
        .unwrap();
    service::merge::unmerge(&db, b.customer_id, f.agent)
        .await
        .unwrap();
    // Two replies by SMS: one delivered, one the provider refused.
    let mut sent = Vec::new();
    for text in ["One", "Two"] {
        sent.push(
            service::reply::queue_reply(
                &db,
                a.conversation_id,
                f.sms.id,
                a.identifier_id,
                f.agent,
                text,
            )
            .await
            .unwrap(),
        );
    }
    for (id, state, reason) in [
        (sent[0], "delivered", None),
        (
            sent[1],
            "failed",
            Some("Twilio 30003: Unreachable destination handset"),
        ),
    ] {
        sqlx::query("UPDATE messages SET delivery_state = $1, failure_reason = $2 WHERE id = $3")
            .bind(state)
            .bind(reason)
            .bind(id)
            .execute(&db.write)
            .await
            .unwrap();
    }
    let q = ReportQuery {
        tab: "reach".into(),
        range: "7".into(),
        ..Default::default()
    };
    let page = service::report_view::page(&db, &q, true).await.unwrap();
    let card = |label: &str| {
        page.cards
            .iter()
            .find(|c| c.label == label)
            .unwrap_or_else(|| panic!("no card {label}"))
            .value
            .clone()
    };
    assert_eq!(card("Marketing opt-ins"), "1");
    assert_eq!(card("Marketing opt-outs"), "1");
    assert_eq!(card("Opt-out share"), "50.0%");
    assert_eq!(card("Customers merged"), "1");
    assert_eq!(card("Merges undone"), "1");
    let consent = page.sections.iter().find(|s| s.id == "consent").unwrap();
    let texts: Vec<Vec<String>> = consent
        .table
        .rows
        .iter()
        .map(|r| r.iter().map(|c| c.text.clone()).collect())
        .collect();
    assert!(
        texts.contains(&vec![
            "Phone".to_string(),
            "Marketing".into(),
            "Agent".into(),
            "withdrawn".into(),
            "1".into()
        ]),
        "{texts:?}"
    );
    let table = |id: &str| -> Vec<Vec<String>> {
        page.sections
            .iter()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("no section {id}"))
            .table
            .rows
            .iter()
            .map(|r| r.iter().map(|c| c.text.clone()).collect())
            .collect()
    };
    // Reach now: Cy's phone opted out of marketing, the email was never asked; after the undo
    // they are two customers again.
    let reach = table("reach-now");
    let line = |label: &str| {
        reach
            .iter()
            .find(|r| r[0] == label)
            .unwrap_or_else(|| panic!("no line {label} in {reach:?}"))
            .clone()
    };
    assert_eq!(line("SMS")[1..6], ["1", "0", "1", "0", "0"], "{reach:?}");
    assert_eq!(line("Email")[1..6], ["1", "0", "0", "1", "0"], "{reach:?}");
    assert_eq!(line("Any channel")[1..4], ["2", "0", "1"], "{reach:?}");
    assert_eq!(card("Reachable for marketing now"), "0");
    // Delivery by channel and provider: two sent, one delivered, one failed with its reason.
    let delivery = table("delivery");
    let sms = delivery
        .iter()
        .find(|r| r[0] == "SMS")
        .expect("an SMS line");
    assert_eq!(sms[2..6], ["2", "1", "0", "1"], "{delivery:?}");
    assert_eq!(sms[8], "Twilio 30003: Unreachable destination handset");
    // Channel of choice: Cy opened one episode by SMS and one by email (two customers now).
    let choice = table("choice");
    assert!(
        choice.iter().any(|r| r[0] == "SMS" && r[1] == "1"),
        "{choice:?}"
    );
    // Support staff may not open it.
    assert!(service::report_view::page(&db, &q, false).await.is_err());
}

/// The page reads rows this process parsed before only while their version holds: every write
/// (a new message, a refresh, a rebuild) shows on the next read.
async fn the_page_shows_every_write(db: Db) {
    use app::model::ReportQuery;
    let f = fx(db.clone()).await;
    let q = ReportQuery {
        range: "7".into(),
        ..Default::default()
    };
    let messages_in = |page: &app::model::ReportPage| {
        page.cards
            .iter()
            .find(|c| c.label == "Messages in")
            .expect("a Messages in card")
            .value
            .clone()
    };
    let page = service::report_view::page(&db, &q, false).await.unwrap();
    assert_eq!(messages_in(&page), "0");
    for (i, expect) in ["1", "2", "3"].into_iter().enumerate() {
        f.sms_in(
            &format!("+1415555020{i}"),
            "Dee",
            &format!("cache-{i}"),
            "Hi",
            now_ms() - MIN,
        )
        .await;
        let page = service::report_view::page(&db, &q, false).await.unwrap();
        assert_eq!(messages_in(&page), expect, "after message {i}");
    }
    // A rebuild writes every row again: the page still counts three.
    reports::rebuild(&db).await.unwrap();
    let page = service::report_view::page(&db, &q, false).await.unwrap();
    assert_eq!(messages_in(&page), "3");
    let episodes = |page: &app::model::ReportPage| {
        page.cards
            .iter()
            .find(|c| c.label == "Episodes")
            .expect("an Episodes card")
            .value
            .clone()
    };
    assert_eq!(episodes(&page), "3");
}

/// Business hours: saving them asks for a rebuild (the page says so until it ran); then each
/// duration is also counted inside them. A Friday 16:00 message answered on Monday at 10:00
/// and resolved at 11:00 (UTC, Mon-Fri 09:00-17:00) waited 2 h of business time and took 3 h.
async fn business_hours_count_only_opening_time(db: Db) {
    use app::model::ReportQuery;
    let f = fx(db.clone()).await;
    // A Friday one to two weeks ago, 16:00 UTC.
    let today = now_ms().div_euclid(DAY);
    let weekday = (today + 3).rem_euclid(7); // 0: Monday
    let friday = (today - (weekday - 4).rem_euclid(7) - 7) * DAY + 16 * HOUR;
    let monday = friday + 66 * HOUR;
    let a = f
        .sms_in("+14155550300", "Flo", "bh-1", "Hello?", friday)
        .await;
    let reply = service::reply::queue_reply(
        &db,
        a.conversation_id,
        f.sms.id,
        a.identifier_id,
        f.agent,
        "Hi Flo",
    )
    .await
    .unwrap();
    service::conversations::set_status(&db, a.conversation_id, Status::Resolved, None, f.agent)
        .await
        .unwrap();
    // Put the reply and the resolution on Monday (the services write them now).
    sqlx::query("UPDATE messages SET created_at = $1 WHERE id = $2")
        .bind(monday)
        .bind(reply)
        .execute(&db.write)
        .await
        .unwrap();
    sqlx::query("UPDATE events SET created_at = $1 WHERE conversation_id = $2 AND kind = 'status'")
        .bind(monday + HOUR)
        .bind(a.conversation_id)
        .execute(&db.write)
        .await
        .unwrap();
    let bad = reports::save_settings(
        &db,
        &app::store::rollups::Settings {
            time_zone: "UTC".into(),
            inactivity_secs: 7 * 86_400,
            business_hours: "Mon-Fri 17:00-09:00".into(),
            rebuild_requested: None,
        },
    )
    .await
    .unwrap_err();
    assert!(bad.to_string().contains("closing time"), "{bad}");
    let (saved, changed) = reports::save_settings(
        &db,
        &app::store::rollups::Settings {
            time_zone: "UTC".into(),
            inactivity_secs: 7 * 86_400,
            business_hours: "mon - fri 9:00-17:00".into(),
            rebuild_requested: None,
        },
    )
    .await
    .unwrap();
    assert!(changed);
    assert_eq!(saved.business_hours, "Mon-Fri 09:00-17:00");
    let q = ReportQuery {
        range: "30".into(),
        ..Default::default()
    };
    let page = service::report_view::page(&db, &q, false).await.unwrap();
    assert!(page.notice.is_some(), "a rebuild is pending");
    assert!(reports::rebuild_if_requested(&db).await.unwrap().is_some());
    assert!(reports::rebuild_if_requested(&db).await.unwrap().is_none());
    let (episodes, _) = reports::snapshot(&db).await.unwrap();
    let ep = episodes
        .iter()
        .find(|e| e.conversation_id == a.conversation_id)
        .expect("Flo's episode");
    assert_eq!(ep.first_response_secs, Some(66 * 3_600));
    assert_eq!(ep.first_response_bh, Some(2 * 3_600));
    assert_eq!(ep.resolution_bh, Some(3 * 3_600));
    let page = service::report_view::page(&db, &q, false).await.unwrap();
    assert_eq!(page.notice, None);
    let times = page.sections.iter().find(|s| s.id == "times").unwrap();
    let row = |label: &str| -> Vec<String> {
        times
            .table
            .rows
            .iter()
            .find(|r| r[0].text == label)
            .unwrap_or_else(|| panic!("no {label} row"))
            .iter()
            .map(|c| c.text.clone())
            .collect()
    };
    assert_eq!(row("First response")[1], "2 d 18 h");
    assert_eq!(
        row("First response, business hours")[1..5],
        ["2 h 00 min", "2 h 00 min", "2 h 00 min", "1"]
    );
    assert_eq!(row("Resolution, business hours")[1], "3 h 00 min");
    // Saving the same settings again asks for nothing.
    let (_, changed) = reports::save_settings(&db, &saved).await.unwrap();
    assert!(!changed);
}

/// Rollups that no longer match the episodes (here a row deleted by hand) do not break the
/// reports: the refresh that finds it asks for a rebuild, the page opens and says so, and the
/// rebuild repairs them.
async fn drifted_rollups_are_rebuilt_and_reports_still_open(db: Db) {
    use app::model::ReportQuery;
    let f = fx(db.clone()).await;
    let a = f
        .sms_in("+14155550400", "Gus", "drift-1", "Hi", now_ms() - HOUR)
        .await;
    let b = f
        .email_in(
            "gus@example.com",
            "Gus",
            "drift-2",
            "Hello",
            now_ms() - MIN,
            &[],
        )
        .await;
    reports::refresh_pending(&db).await.unwrap();
    sqlx::query("DELETE FROM report_daily WHERE metric = 'episodes'")
        .execute(&db.write)
        .await
        .unwrap();
    // The merge takes B's episode away from a count that is no longer there.
    service::merge::merge(&db, a.customer_id, b.customer_id, f.agent)
        .await
        .unwrap();
    let q = ReportQuery {
        range: "7".into(),
        ..Default::default()
    };
    let page = service::report_view::page(&db, &q, false)
        .await
        .expect("the page opens despite the drift");
    assert!(
        page.notice.is_some(),
        "the page says the reports are being rebuilt"
    );
    assert!(reports::rebuild_if_requested(&db).await.unwrap().is_some());
    let page = service::report_view::page(&db, &q, false).await.unwrap();
    assert_eq!(page.notice, None);
    let episodes = page
        .cards
        .iter()
        .find(|c| c.label == "Episodes")
        .unwrap()
        .value
        .clone();
    assert_eq!(episodes, "1", "one customer, one episode after the merge");
    let repaired = reports::snapshot(&db).await.unwrap();
    reports::rebuild(&db).await.unwrap();
    assert_eq!(repaired, reports::snapshot(&db).await.unwrap());
}

both_engines!(
    drifted_rollups_are_rebuilt_and_reports_still_open,
    business_hours_count_only_opening_time,
    the_page_shows_every_write,
    the_reach_tab_counts_consent_and_merges,
    rollups_kept_current_equal_a_rebuild,
    a_known_history_gives_known_rows,
    days_follow_the_reporting_time_zone,
);
