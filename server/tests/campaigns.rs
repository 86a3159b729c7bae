//! Campaigns end to end over the store, the campaign worker's passes and the outbox worker, on
//! both engines: consent decides who is planned and is checked again at sending; an SMS that
//! fails falls back to email; a reply lands in the customer's conversation marked as
//! answering the campaign; STOP keeps the next step away; two workers (and a worker stopped
//! mid-campaign) message each customer once; bad drafts are refused in words.

mod world;

use app::domain::campaign::Status;
use app::domain::consent::{source, Purpose};
use app::domain::keywords::SmsKeyword;
use app::domain::{ChannelKind, IdentifierKind};
use app::service::campaigns as svc;
use app::store::{campaigns, consent, now_ms, Db, StoreError};
use sqlx::Row;
use std::collections::HashSet;
use world::{definition, World};

both_engines!(
    a_campaign_falls_back_counts_replies_and_stops_at_stop,
    two_workers_and_a_stopped_worker_message_each_customer_once,
    bad_drafts_and_bad_moments_are_refused_in_words,
    quiet_hours_and_the_throttle_make_recipients_wait,
    the_customers_own_choices_decide_channel_time_and_frequency,
);

async fn a_campaign_falls_back_counts_replies_and_stops_at_stop(db: Db) {
    let w = World::new(db).await;
    let (ann, ann_ids) = w
        .customer("Ann Lee", Some("+14155550101"), Some("ann@example.com"))
        .await;
    let (bob, bob_ids) = w.customer("Bob Stone", Some("+14155550102"), None).await;
    let (cat, _) = w.customer("Cat Wu", None, Some("cat@example.com")).await;
    let (dan, dan_ids) = w
        .customer("Dan Roe", Some("+14155550104"), Some("dan@example.com"))
        .await;
    let (eve, eve_ids) = w.customer("Eve Park", Some("+14155550105"), None).await;
    let (fay, fay_ids) = w.customer("Fay Ng", Some("+14155550106"), None).await;
    for id in ann_ids
        .iter()
        .chain(&dan_ids)
        .chain(&eve_ids)
        .chain(&fay_ids)
    {
        w.consent(*id, true).await;
    }
    w.consent(bob_ids[0], false).await; // Bob opted out; Cat never agreed.
    w.sms.fail.lock().unwrap().insert("+14155550104".into());

    let id = w.launch(&definition()).await;
    w.settle().await;

    // Step 1: Ann and Eve by SMS; Dan's SMS failed and fell back to email; Bob and Cat skipped.
    assert_eq!(
        w.state_of(id, 0, ann).await,
        ("delivered".into(), Some("sms".into()), String::new())
    );
    assert_eq!(w.state_of(id, 0, eve).await.0, "delivered");
    assert_eq!(
        w.state_of(id, 0, dan).await,
        ("delivered".into(), Some("email".into()), "sms".into())
    );
    assert_eq!(w.state_of(id, 0, bob).await.0, "opted_out");
    assert_eq!(w.state_of(id, 0, cat).await.0, "skipped");
    let dan_msgs: Vec<(String, String)> = sqlx::query(
        "SELECT m.channel, m.delivery_state FROM messages m JOIN campaign_messages c ON c.message_id = m.id WHERE c.customer_id = $1 ORDER BY m.id",
    )
    .bind(dan)
    .fetch_all(&w.db.read)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get("channel"), r.get("delivery_state")))
    .collect();
    assert_eq!(
        dan_msgs,
        vec![
            ("sms".into(), "failed".into()),
            ("email".into(), "delivered".into())
        ]
    );
    // The messages are in each customer's one conversation, with names filled in.
    let text: String = sqlx::query_scalar(
        "SELECT m.body_text FROM messages m JOIN campaign_messages c ON c.message_id = m.id WHERE c.customer_id = $1",
    )
    .bind(ann)
    .fetch_one(&w.db.read)
    .await
    .unwrap();
    // The first marketing text on a channel also carries the preference center link.
    let (first, link) = text.split_once('\n').expect("two lines");
    assert_eq!(first, "Hi Ann, 20% off this week. Reply STOP to opt out.");
    assert!(
        link.starts_with("Choose how we reach you: http://127.0.0.1:3000/p/"),
        "{link}"
    );

    // Ann replies: her conversation gets it, marked as answering the campaign.
    let r = w
        .inbound(
            &w.sms_account,
            IdentifierKind::Phone,
            "+14155550101",
            "Ann Lee",
            "Is it on shoes too?",
        )
        .await;
    let answers: i64 =
        sqlx::query_scalar("SELECT campaign_id FROM campaign_replies WHERE message_id = $1")
            .bind(r.message_id)
            .fetch_one(&w.db.read)
            .await
            .unwrap();
    assert_eq!(answers, id);
    assert_eq!(w.state_of(id, 0, ann).await.0, "replied");
    // The timeline names the campaign on its message and on the answer.
    let page = app::store::timeline::page(&w.db, r.conversation_id, None, 50)
        .await
        .unwrap();
    let named: Vec<(String, bool)> = page
        .items
        .iter()
        .filter_map(|i| match i {
            app::model::TimelineItem::Message(m) => {
                m.campaign.as_ref().map(|c| (c.name.clone(), c.answer))
            }
            _ => None,
        })
        .collect();
    assert!(named.contains(&("Spring sale".into(), true)), "{named:?}");
    assert!(named.contains(&("Spring sale".into(), false)), "{named:?}");
    // Eve texts STOP (the keyword path records the opt-out as it does for any message).
    let stop = w
        .inbound(
            &w.sms_account,
            IdentifierKind::Phone,
            "+14155550105",
            "Eve Park",
            "STOP",
        )
        .await;
    app::service::consent::apply_sms_keyword(
        &w.db,
        stop.conversation_id,
        eve_ids[0],
        SmsKeyword::OptOut { all: false },
        "STOP",
        stop.message_id,
    )
    .await
    .unwrap();
    let marketing = consent::current(&w.db, eve_ids[0], Purpose::Marketing)
        .await
        .unwrap();
    assert!(
        marketing.is_some_and(|c| !c.granted),
        "STOP ends marketing too"
    );

    // Fay opts out another way (no reply): the check at sending stops step 2 for her.
    let mut tx = w.db.write.begin().await.unwrap();
    consent::record(
        &mut tx,
        fay_ids[0],
        Purpose::Marketing,
        false,
        source::UNSUBSCRIBE,
        None,
        None,
        None,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // Step 2 comes due: Dan gets it (by SMS first again); Ann (replied) and Eve (answered
    // STOP) are not in it; Fay is, and is refused at sending as opted out.
    sqlx::query("UPDATE campaigns SET step_due_at = $1 WHERE id = $2 AND step = 1")
        .bind(now_ms() - 1)
        .bind(id)
        .execute(&w.db.write)
        .await
        .unwrap();
    w.settle().await;
    let step2: Vec<(i64, String)> = w
        .recipients(id)
        .await
        .into_iter()
        .filter(|r| r.0 == 1)
        .map(|r| (r.1, r.2))
        .collect();
    assert!(
        !step2.iter().any(|(c, _)| [ann, bob, cat, eve].contains(c)),
        "{step2:?}"
    );
    assert!(step2.contains(&(fay, "opted_out".into())), "{step2:?}");
    assert!(step2.contains(&(dan, "delivered".into())), "{step2:?}");
    let c = campaigns::get(&w.db, id).await.unwrap().unwrap();
    assert_eq!(c.status, "done");

    // The report counts it all.
    let d = svc::detail(&w.db, w.author, id).await.unwrap();
    let r = &d.report;
    let row = |step: i64, ch: ChannelKind| {
        r.rows
            .iter()
            .find(|x| x.step == step && x.channel == Some(ch))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(row(0, ChannelKind::Sms).sent, 3, "Ann, Eve and Fay: {r:?}");
    assert_eq!(
        row(0, ChannelKind::Sms).delivered,
        3,
        "delivered, whatever came after: {r:?}"
    );
    assert_eq!(
        row(0, ChannelKind::Sms).replied,
        2,
        "Ann's question and Eve's STOP: {r:?}"
    );
    assert_eq!(row(1, ChannelKind::Email).fell_back, 1, "Dan again: {r:?}");
    assert_eq!(row(0, ChannelKind::Email).fell_back, 1, "{r:?}");
    assert_eq!(r.replies, 2);
    assert!(
        !r.skipped
            .iter()
            .any(|(_, why, _)| why.as_str() == "no_identifier"),
        "{r:?}"
    );
    assert_eq!(
        r.opt_outs, 2,
        "Eve and Fay opted out after the campaign messaged them"
    );
    assert!(
        r.skipped
            .iter()
            .any(|(s, why, n)| *s == 0 && why.as_str() == "no_consent" && *n == 1),
        "{r:?}"
    );
    // Nothing was sent twice: one message per recipient and channel.
    let dup: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT recipient_id, channel FROM campaign_messages GROUP BY recipient_id, channel HAVING COUNT(*) > 1) x",
    )
    .fetch_one(&w.db.read)
    .await
    .unwrap();
    assert_eq!(dup, 0);
    // The reports page's reach tab lists the campaign with the same counts.
    let q = app::model::ReportQuery {
        tab: "reach".into(),
        range: "7".into(),
        ..Default::default()
    };
    let page = app::service::report_view::page(&w.db, &q, true)
        .await
        .unwrap();
    let section = page
        .sections
        .iter()
        .find(|s| s.id == "campaigns")
        .expect("a campaigns section");
    let cells: Vec<String> = section.table.rows[0]
        .iter()
        .map(|c| c.text.clone())
        .collect();
    // Recipients (6 in step 1, 2 in step 2); sent to 5 of them (Ann, Dan, Eve, Fay, then Dan
    // again), all delivered; none failed on every channel; Dan twice by fallback; two replied
    // (Ann, and Eve's STOP); two opted out (Eve, Fay).
    assert_eq!(
        cells,
        vec!["Spring sale", "8", "5", "5", "0", "2", "2", "2"],
        "{cells:?}"
    );
    assert_eq!(
        section.table.rows[0][0].href.as_deref(),
        Some(format!("/campaigns/{id}").as_str())
    );

    // The list shows the fallback and the opt-out in words.
    let page = svc::recipients(&w.db, id, None, 0).await.unwrap();
    let dan_row = page
        .items
        .iter()
        .find(|i| i.customer_id == dan && i.step == 0)
        .unwrap();
    assert_eq!(dan_row.fell_back_from, vec![ChannelKind::Sms]);
    assert!(
        dan_row
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("SMS failed (30006"),
        "{dan_row:?}"
    );
    let eve_row = page
        .items
        .iter()
        .find(|i| i.customer_id == eve && i.step == 0)
        .unwrap();
    assert_eq!(
        eve_row.state, "opted_out",
        "STOP shows as an opt-out: {eve_row:?}"
    );
}

async fn two_workers_and_a_stopped_worker_message_each_customer_once(db: Db) {
    let w = World::new(db).await;
    let mut ids = Vec::new();
    for i in 0..60 {
        let (c, idents) = w
            .customer(
                &format!("Customer {i}"),
                Some(&format!("+1415555{:04}", 2000 + i)),
                None,
            )
            .await;
        w.consent(idents[0], true).await;
        ids.push(c);
    }
    let mut def = definition();
    def.steps.truncate(1);
    let id = w.launch(&def).await;
    // A worker that is stopped part-way: its round is dropped mid-flight.
    let db = w.db.clone();
    let stopped = tokio::spawn(async move {
        loop {
            let _ = svc::tick(&db, "US", None, now_ms(), 1).await;
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    stopped.abort();
    let _ = stopped.await;
    // Leases left by the stopped worker expire; two workers then finish the campaign.
    sqlx::query("UPDATE campaign_recipients SET locked_until = NULL")
        .execute(&w.db.write)
        .await
        .unwrap();
    sqlx::query("UPDATE campaigns SET locked_until = NULL")
        .execute(&w.db.write)
        .await
        .unwrap();
    let run = |db: Db| async move {
        for _ in 0..50 {
            svc::tick(&db, "US", None, now_ms(), 2).await.unwrap();
        }
    };
    tokio::join!(run(w.db.clone()), run(w.db.clone()));
    w.settle().await;
    let per_customer: Vec<(i64, i64)> = sqlx::query(
        "SELECT customer_id, COUNT(*) AS n FROM campaign_messages WHERE campaign_id = $1 GROUP BY customer_id",
    )
    .bind(id)
    .fetch_all(&w.db.read)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get("customer_id"), r.get("n")))
    .collect();
    assert_eq!(per_customer.len(), 60);
    assert!(
        per_customer.iter().all(|(_, n)| *n == 1),
        "{per_customer:?}"
    );
    let sent = w.sms.sent.lock().unwrap().clone();
    let unique: HashSet<&String> = sent.iter().collect();
    assert_eq!(sent.len(), 60, "each number got one SMS");
    assert_eq!(unique.len(), 60);
    assert_eq!(
        campaigns::get(&w.db, id).await.unwrap().unwrap().status,
        Status::Done.as_str()
    );
}

async fn bad_drafts_and_bad_moments_are_refused_in_words(db: Db) {
    let w = World::new(db).await;
    let (_, ids) = w.customer("Ann Lee", Some("+14155550101"), None).await;
    w.consent(ids[0], true).await;
    let words = |e: StoreError| match e {
        StoreError::Invalid(w) => w,
        other => panic!("not refused in words: {other:?}"),
    };
    let def = definition();
    let id = svc::create(&w.db, w.author, "Sale", &def).await.unwrap();
    // The author cannot approve their own campaign; nobody sends an unapproved one.
    let e = words(svc::approve(&w.db, &w.who(w.author), id).await.unwrap_err());
    assert!(e.contains("someone other than its author"), "{e}");
    let e = words(
        svc::start(&w.db, &w.who(w.author), id, None)
            .await
            .unwrap_err(),
    );
    assert!(e.contains("approved by a colleague"), "{e}");
    // A schedule in the past.
    svc::approve(&w.db, &w.who(w.approver), id).await.unwrap();
    let e = words(
        svc::start(&w.db, &w.who(w.author), id, Some(now_ms() - 3_600_000))
            .await
            .unwrap_err(),
    );
    assert!(e.contains("in the past"), "{e}");
    // An empty audience.
    let mut empty = definition();
    empty.audience.preferred = Some(ChannelKind::Telegram);
    let e_id = svc::create(&w.db, w.author, "Nobody", &empty)
        .await
        .unwrap();
    let e = words(
        svc::approve(&w.db, &w.who(w.approver), e_id)
            .await
            .unwrap_err(),
    );
    assert!(e.contains("audience is empty"), "{e}");
    // A template with a missing parameter; an SMS over the limit.
    let mut tpl = definition();
    tpl.steps[0].whatsapp.template = "spring_sale".into();
    tpl.steps[0].whatsapp.language = "en".into();
    tpl.steps[0].whatsapp.body = "Hi {{1}}, the sale ends {{2}}".into();
    tpl.steps[0].whatsapp.params = vec!["{{customer.first_name}}".into()];
    tpl.steps[0].sms = "x".repeat(1_700);
    let t_id = svc::create(&w.db, w.author, "Broken", &tpl).await.unwrap();
    let e = words(
        svc::approve(&w.db, &w.who(w.approver), t_id)
            .await
            .unwrap_err(),
    );
    assert!(e.contains("parameter 2 is missing"), "{e}");
    assert!(e.contains("over SMS's limit"), "{e}");
    // Nothing was sent by any of them.
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM campaign_messages")
        .fetch_one(&w.db.read)
        .await
        .unwrap();
    assert_eq!(n, 0);
    // Once sending, a campaign cannot be edited; cancelling stops what was not sent.
    svc::start(&w.db, &w.who(w.author), id, Some(now_ms() + 3_600_000))
        .await
        .unwrap();
    let e = words(svc::update(&w.db, id, "Sale", &def).await.unwrap_err());
    assert!(e.contains("cannot be changed"), "{e}");
    svc::control(&w.db, id, "cancel").await.unwrap();
    let e = words(svc::control(&w.db, id, "resume").await.unwrap_err());
    assert!(e.contains("cannot be resumed"), "{e}");
}

async fn quiet_hours_and_the_throttle_make_recipients_wait(db: Db) {
    let w = World::new(db).await;
    let mut customers = Vec::new();
    for i in 0..3 {
        // London numbers: quiet hours are read in Europe/London.
        let (c, ids) = w
            .customer(
                &format!("Lon {i}"),
                Some(&format!("+4420794600{i:02}")),
                None,
            )
            .await;
        w.consent(ids[0], true).await;
        customers.push(c);
    }
    let mut def = definition();
    def.steps.truncate(1);
    // Quiet hours that cover this minute in London.
    let now = now_ms();
    let london = app::ssr::zone::table("Europe/London", now).unwrap();
    let local = now + london.offset_at(now) as i64 * 1000;
    let minute = (local.rem_euclid(86_400_000) / 60_000) as u16;
    def.strategy.quiet_from = minute.saturating_sub(1) % 1440;
    def.strategy.quiet_until = (minute + 60) % 1440;
    let id = w.launch(&def).await;
    w.settle().await;
    for c in &customers {
        assert_eq!(w.state_of(id, 0, *c).await.0, "waiting");
    }
    let reason: String =
        sqlx::query_scalar("SELECT reason FROM campaign_recipients WHERE campaign_id = $1 LIMIT 1")
            .bind(id)
            .fetch_one(&w.db.read)
            .await
            .unwrap();
    assert!(
        reason.contains("Quiet hours in the customer's time zone") && !reason.contains("UTC"),
        "{reason}"
    );
    // The list carries when each waits until (the page shows it in the reader's zone): the
    // end of the quiet hours, within the next 62 minutes.
    let page = app::service::campaigns::recipients(&w.db, id, Some("waiting"), 0)
        .await
        .unwrap();
    assert_eq!(page.items.len(), customers.len());
    for r in &page.items {
        let until = r.waiting_until.expect("a waiting recipient's due time");
        assert!(
            until > now && until <= now + 62 * 60_000,
            "{until} vs {now}"
        );
    }
    assert!(w.sms.sent.lock().unwrap().is_empty());

    // The throttle: one message a minute on the account; the others wait for the next minute.
    let mut def = definition();
    def.steps.truncate(1);
    def.strategy.per_minute = 1;
    let id = w.launch(&def).await;
    w.settle().await;
    let states: Vec<String> = w.recipients(id).await.into_iter().map(|r| r.2).collect();
    assert_eq!(
        states.iter().filter(|s| *s == "delivered").count(),
        1,
        "{states:?}"
    );
    assert_eq!(
        states.iter().filter(|s| *s == "waiting").count(),
        2,
        "{states:?}"
    );
}

/// What customers chose on their preference center page (issue 18) holds for campaigns: no
/// marketing by SMS sends by email instead; their own quiet hours make them wait; their
/// marketing frequency makes a second campaign wait.
async fn the_customers_own_choices_decide_channel_time_and_frequency(db: Db) {
    use app::domain::preferences::Quiet;
    use app::service::preferences::{save, Choices};
    let w = World::new(db).await;
    let now = now_ms();
    let uniq = world::uuid_ish() % 100_000;
    // Ana: no marketing on SMS (the page unticks it), email allowed.
    let ana_phone = format!("+1415556{:04}", uniq % 10_000);
    let (ana, ana_ids) = w
        .customer(
            "Ana",
            Some(&ana_phone),
            Some(&format!("ana{uniq}@example.com")),
        )
        .await;
    // Ben: quiet hours covering this minute in UTC.
    let (ben, ben_ids) = w
        .customer("Ben", Some(&format!("+1415557{:04}", uniq % 10_000)), None)
        .await;
    // Dee: prefers email (SMS comes first in the campaign's list).
    let (dee, dee_ids) = w
        .customer(
            "Dee",
            Some(&format!("+1415559{:04}", uniq % 10_000)),
            Some(&format!("dee{uniq}@example.com")),
        )
        .await;
    // Cy: marketing at most once a week.
    let (cy, cy_ids) = w
        .customer("Cy", Some(&format!("+1415558{:04}", uniq % 10_000)), None)
        .await;
    for id in ana_ids
        .iter()
        .chain(&ben_ids)
        .chain(&cy_ids)
        .chain(&dee_ids)
    {
        w.consent(*id, true).await;
    }
    let all = |ids: &[i64]| -> Vec<(i64, Purpose)> {
        ids.iter()
            .flat_map(|i| [(*i, Purpose::Support), (*i, Purpose::Marketing)])
            .collect()
    };
    let mut ana_allowed = all(&ana_ids);
    ana_allowed.retain(|(i, p)| !(*i == ana_ids[0] && *p == Purpose::Marketing));
    let saved = save(
        &w.db,
        ana_ids[0],
        ana,
        &Choices {
            allowed: ana_allowed,
            ..Default::default()
        },
        now,
    )
    .await
    .unwrap();
    assert_eq!(saved.changes.len(), 1, "{:?}", saved.changes);
    let minute = ((now.rem_euclid(86_400_000)) / 60_000) as u16;
    save(
        &w.db,
        ben_ids[0],
        ben,
        &Choices {
            allowed: all(&ben_ids),
            time_zone: Some("UTC".into()),
            quiet: Some(Quiet {
                from: minute.saturating_sub(1),
                until: (minute + 90) % 1440,
            }),
            ..Default::default()
        },
        now,
    )
    .await
    .unwrap();
    save(
        &w.db,
        cy_ids[0],
        cy,
        &Choices {
            allowed: all(&cy_ids),
            frequency: (1, 7),
            ..Default::default()
        },
        now,
    )
    .await
    .unwrap();

    save(
        &w.db,
        dee_ids[1],
        dee,
        &Choices {
            allowed: all(&dee_ids),
            preferred: Some(ChannelKind::Email),
            ..Default::default()
        },
        now,
    )
    .await
    .unwrap();

    let mut def = definition();
    def.steps.truncate(1);
    let first = w.launch(&def).await;
    w.settle().await;
    let (state, channel, _) = w.state_of(first, 0, ana).await;
    assert_eq!(
        (state.as_str(), channel.as_deref()),
        ("delivered", Some("email")),
        "Ana by email"
    );
    let (state, ..) = w.state_of(first, 0, ben).await;
    assert_eq!(state, "waiting", "Ben is in his quiet hours");
    let reason: String = sqlx::query_scalar(
        "SELECT reason FROM campaign_recipients WHERE campaign_id = $1 AND customer_id = $2",
    )
    .bind(first)
    .bind(ben)
    .fetch_one(&w.db.read)
    .await
    .unwrap();
    assert!(
        reason.contains("Quiet hours the customer chose"),
        "{reason}"
    );
    let (state, channel, _) = w.state_of(first, 0, cy).await;
    assert_eq!(
        (state.as_str(), channel.as_deref()),
        ("delivered", Some("sms"))
    );
    // The first marketing text on a channel carries the customer's preference center link.
    let body: String = sqlx::query_scalar(
        "SELECT m.body_text FROM campaign_messages c JOIN messages m ON m.id = c.message_id \
         WHERE c.campaign_id = $1 AND c.customer_id = $2",
    )
    .bind(first)
    .bind(cy)
    .fetch_one(&w.db.read)
    .await
    .unwrap();
    assert!(
        body.contains("Choose how we reach you: http://127.0.0.1:3000/p/"),
        "{body}"
    );

    let (state, channel, _) = w.state_of(first, 0, dee).await;
    assert_eq!(
        (state.as_str(), channel.as_deref()),
        ("delivered", Some("email")),
        "Dee's preferred channel comes first"
    );

    // A second campaign the same day: Cy's once-a-week limit makes it wait, in words.
    let second = w.launch(&def).await;
    w.settle().await;
    let (state, ..) = w.state_of(second, 0, cy).await;
    assert_eq!(state, "waiting", "Cy had one this week");
    let reason: String = sqlx::query_scalar(
        "SELECT reason FROM campaign_recipients WHERE campaign_id = $1 AND customer_id = $2",
    )
    .bind(second)
    .bind(cy)
    .fetch_one(&w.db.read)
    .await
    .unwrap();
    assert!(reason.contains("at most once a week"), "{reason}");
    // Nothing went to Ana's phone, ever.
    let texts = w.sms.sent.lock().unwrap().clone();
    assert!(!texts.contains(&ana_phone), "{texts:?}");
}
