//! Tests of `campaign` (the draft's checks) and `campaign_rules` (who gets what, where, when).

use super::campaign::*;
use super::campaign_rules::*;
use super::consent::{Consent, Purpose};
use super::window::{DAY_MS, HOUR_MS};
use super::ChannelKind;
use proptest::prelude::{any, prop_assert, prop_assert_eq, proptest};
use proptest::strategy::Strategy as Gen;

fn consent(granted: bool) -> Option<Consent> {
    Some(Consent {
        granted,
        source: "keyword".into(),
        detail: Some(
            if granted {
                "texted START"
            } else {
                "texted STOP"
            }
            .into(),
        ),
        at: 1_000,
    })
}

fn contact(id: i64, channel: ChannelKind, last: Option<i64>, c: Option<Consent>) -> Contact {
    Contact {
        identifier_id: id,
        channel,
        label: format!("id{id}"),
        last_inbound_at: last,
        consent: c,
    }
}

fn step_all() -> Step {
    Step {
        email: EmailContent {
            subject: "Spring".into(),
            text: "Hello {{customer.first_name}}".into(),
            html: String::new(),
        },
        sms: "Hello {{customer.first_name}}, 20% off. Reply STOP to opt out.".into(),
        whatsapp: WhatsappContent {
            template: "spring_sale".into(),
            language: "en".into(),
            body: "Hi {{1}}, our sale starts {{2}}.".into(),
            params: vec!["{{customer.first_name}}".into(), "Monday".into()],
            text: String::new(),
        },
        messenger: "Hello".into(),
        instagram: String::new(),
        telegram: "Hello".into(),
        wait_hours: 0,
    }
}

fn strategy(channels: &[ChannelKind]) -> Strategy {
    Strategy {
        channels: channels.to_vec(),
        ..Strategy::default()
    }
}

const NOW: i64 = 20_000 * DAY_MS + 12 * HOUR_MS;

#[test]
fn the_preferred_channel_comes_first_then_the_list_in_order() {
    let s = strategy(&[ChannelKind::Email, ChannelKind::Sms]);
    let o = order(&s, &step_all(), Some(ChannelKind::Whatsapp));
    assert_eq!(
        o,
        vec![ChannelKind::Whatsapp, ChannelKind::Email, ChannelKind::Sms]
    );
    // A channel the step says nothing on is left out, even when preferred.
    let o = order(&s, &step_all(), Some(ChannelKind::Instagram));
    assert_eq!(o, vec![ChannelKind::Email, ChannelKind::Sms]);
    let off = Strategy {
        preferred_first: false,
        ..s
    };
    assert_eq!(
        order(&off, &step_all(), Some(ChannelKind::Whatsapp)),
        vec![ChannelKind::Email, ChannelKind::Sms]
    );
}

#[test]
fn marketing_needs_granted_consent_support_only_no_opt_out() {
    let step = step_all();
    let c = contact(1, ChannelKind::Sms, None, None);
    let err = allowed(Purpose::Marketing, &step, &c, NOW).unwrap_err();
    assert_eq!(err.reason, SkipReason::NoConsent);
    assert!(
        err.words.contains("not agreed to marketing"),
        "{}",
        err.words
    );
    assert_eq!(allowed(Purpose::Support, &step, &c, NOW), Ok(false));
    let stopped = contact(1, ChannelKind::Sms, None, consent(false));
    let err = allowed(Purpose::Support, &step, &stopped, NOW).unwrap_err();
    assert_eq!(err.reason, SkipReason::OptedOut);
    assert!(err.words.contains("texted STOP"), "{}", err.words);
    let yes = contact(1, ChannelKind::Sms, None, consent(true));
    assert_eq!(allowed(Purpose::Marketing, &step, &yes, NOW), Ok(false));
}

#[test]
fn whatsapp_uses_free_text_inside_the_window_and_the_template_outside() {
    let mut step = step_all();
    step.whatsapp.text = "Hi there".into();
    let inside = contact(1, ChannelKind::Whatsapp, Some(NOW - HOUR_MS), consent(true));
    let outside = contact(
        1,
        ChannelKind::Whatsapp,
        Some(NOW - 2 * DAY_MS),
        consent(true),
    );
    assert_eq!(allowed(Purpose::Marketing, &step, &inside, NOW), Ok(false));
    assert_eq!(allowed(Purpose::Marketing, &step, &outside, NOW), Ok(true));
    step.whatsapp.template.clear();
    let err = allowed(Purpose::Marketing, &step, &outside, NOW).unwrap_err();
    assert_eq!(err.reason, SkipReason::WindowClosed);
    // A template alone also serves customers inside the window.
    let only_template = step_all();
    assert_eq!(
        allowed(Purpose::Marketing, &only_template, &inside, NOW),
        Ok(true)
    );
}

#[test]
fn messenger_marketing_needs_the_24_hour_window_support_gets_seven_days() {
    let step = step_all();
    let two_days = contact(
        1,
        ChannelKind::Messenger,
        Some(NOW - 2 * DAY_MS),
        consent(true),
    );
    assert_eq!(
        allowed(Purpose::Marketing, &step, &two_days, NOW)
            .unwrap_err()
            .reason,
        SkipReason::WindowClosed
    );
    assert_eq!(allowed(Purpose::Support, &step, &two_days, NOW), Ok(false));
    let old = contact(1, ChannelKind::Messenger, Some(NOW - 8 * DAY_MS), None);
    assert!(allowed(Purpose::Support, &step, &old, NOW).is_err());
}

#[test]
fn pick_falls_through_to_the_next_channel_and_names_the_first_refusal() {
    let s = strategy(&[ChannelKind::Sms, ChannelKind::Email]);
    let person = Person {
        preferred: None,
        contacts: vec![
            contact(1, ChannelKind::Sms, None, consent(false)),
            contact(2, ChannelKind::Email, None, consent(true)),
        ],
    };
    let p = pick(Purpose::Marketing, &s, &step_all(), &person, &[], NOW).unwrap();
    assert_eq!((p.channel, p.identifier_id), (ChannelKind::Email, 2));
    // Email tried already: nothing left, and the reason is the SMS opt-out.
    let err = pick(
        Purpose::Marketing,
        &s,
        &step_all(),
        &person,
        &[ChannelKind::Email],
        NOW,
    )
    .unwrap_err();
    assert_eq!(err.reason, SkipReason::OptedOut);
    let nobody = Person::default();
    let err = pick(Purpose::Marketing, &s, &step_all(), &nobody, &[], NOW).unwrap_err();
    assert_eq!(err.reason, SkipReason::NoIdentifier);
    assert_eq!(err.words, "No identifier on SMS, Email.");
}

#[test]
fn the_identifier_written_from_last_is_tried_first() {
    let s = strategy(&[ChannelKind::Email]);
    let person = Person {
        preferred: None,
        contacts: vec![
            contact(1, ChannelKind::Email, Some(NOW - 5 * DAY_MS), consent(true)),
            contact(2, ChannelKind::Email, Some(NOW - DAY_MS), consent(true)),
            contact(3, ChannelKind::Email, None, consent(true)),
        ],
    };
    let p = pick(Purpose::Marketing, &s, &step_all(), &person, &[], NOW).unwrap();
    assert_eq!(p.identifier_id, 2);
}

#[test]
fn quiet_hours_wrap_midnight_and_end_on_the_minute() {
    let s = Strategy::default(); // 21:00 to 09:00
    let midnight = 20_000 * DAY_MS;
    // 22:30 UTC: waits until 09:00 the next day.
    let at = midnight + 22 * HOUR_MS + 30 * 60_000 + 15_000;
    assert_eq!(
        quiet_until(&s, 0, at),
        Some(midnight + DAY_MS + 9 * HOUR_MS)
    );
    // 12:00 UTC is 03:00 in a zone 9 hours behind: quiet until 09:00 there (18:00 UTC).
    let noon = midnight + 12 * HOUR_MS;
    assert_eq!(
        quiet_until(&s, -9 * 3600, noon),
        Some(midnight + 18 * HOUR_MS)
    );
    assert_eq!(quiet_until(&s, 0, noon), None);
    // 09:00 sharp is no longer quiet; 20:59 is not quiet yet.
    assert_eq!(quiet_until(&s, 0, midnight + 9 * HOUR_MS), None);
    assert_eq!(quiet_until(&s, 0, midnight + 21 * HOUR_MS - 60_000), None);
    let none = Strategy {
        quiet_from: 0,
        quiet_until: 0,
        ..Strategy::default()
    };
    assert_eq!(quiet_until(&none, 0, at), None);
    let daytime = Strategy {
        quiet_from: 12 * 60,
        quiet_until: 14 * 60,
        ..Strategy::default()
    };
    assert_eq!(
        quiet_until(&daytime, 0, noon + 60_000),
        Some(midnight + 14 * HOUR_MS)
    );
}

#[test]
fn the_daily_cap_counts_the_last_24_hours_across_campaigns() {
    assert_eq!(cap_until(0, &[NOW, NOW, NOW], NOW), None);
    assert_eq!(cap_until(2, &[NOW - HOUR_MS], NOW), None);
    assert_eq!(
        cap_until(
            2,
            &[NOW - HOUR_MS, NOW - 3 * HOUR_MS, NOW - 2 * DAY_MS],
            NOW
        ),
        Some(NOW - 3 * HOUR_MS + DAY_MS)
    );
}

#[test]
fn fallback_waits_for_the_set_time_or_only_failures() {
    let s = Strategy {
        fallback_after_minutes: 120,
        ..Strategy::default()
    };
    assert!(!fallback_due(&s, NOW, NOW + 119 * 60_000));
    assert!(fallback_due(&s, NOW, NOW + 120 * 60_000));
    let never = Strategy {
        fallback_after_minutes: 0,
        ..Strategy::default()
    };
    assert!(!fallback_due(&never, NOW, NOW + 30 * DAY_MS));
}

#[test]
fn phone_numbers_suggest_a_time_zone() {
    assert_eq!(zone_for_phone("+14155550101"), Some("America/Los_Angeles"));
    assert_eq!(zone_for_phone("+12125550101"), Some("America/New_York"));
    assert_eq!(zone_for_phone("+13125550101"), Some("America/Chicago"));
    assert_eq!(zone_for_phone("+442071234567"), Some("Europe/London"));
    assert_eq!(zone_for_phone("+353861234567"), Some("Europe/Dublin"));
    assert_eq!(zone_for_phone("+4930123456"), Some("Europe/Berlin"));
    assert_eq!(zone_for_phone("+999123"), None);
    assert_eq!(zone_for_phone("alice@example.com"), None);
    assert_eq!(zone_for_phone("+1"), None);
}

fn valid() -> Definition {
    Definition {
        topic: Purpose::Marketing,
        audience: Default::default(),
        steps: vec![step_all()],
        strategy: strategy(&[ChannelKind::Sms, ChannelKind::Email]),
    }
}

#[test]
fn a_complete_draft_has_no_problems() {
    assert_eq!(valid().problems("Spring sale"), Vec::<String>::new());
}

#[test]
fn bad_drafts_are_refused_in_words() {
    let d = valid();
    assert!(d.problems("  ")[0].contains("name"));
    let mut missing = valid();
    missing.steps[0].whatsapp.params.pop();
    let p = missing.problems("x").join(" ");
    assert!(p.contains("uses {{2}} but parameter 2 is missing"), "{p}");
    let mut empty_param = valid();
    empty_param.steps[0].whatsapp.params[0] = " ".into();
    assert!(empty_param
        .problems("x")
        .join(" ")
        .contains("parameter 1 is missing"));
    let mut extra = valid();
    extra.steps[0].whatsapp.params.push("3".into());
    assert!(extra.problems("x").join(" ").contains("remove the extra"));
    let mut long = valid();
    long.steps[0].sms = "a".repeat(1_650);
    let p = long.problems("x").join(" ");
    assert!(p.contains("over SMS's limit of 1600"), "{p}");
    let mut many = valid();
    many.steps[0].sms = "ą".repeat(300);
    assert!(many.problems("x").join(" ").contains("SMS segments"));
    let mut nothing = valid();
    nothing.steps[0] = Step::default();
    assert!(nothing.problems("x").join(" ").contains("says nothing"));
    let mut typo = valid();
    typo.steps[0].sms = "Hi {{custmer.name}}".into();
    assert!(typo.problems("x").join(" ").contains("Unknown placeholder"));
    let mut no_subject = valid();
    no_subject.steps[0].email.subject.clear();
    assert!(no_subject.problems("x").join(" ").contains("subject"));
    let mut second = valid();
    second.steps.push(step_all());
    assert!(second.problems("x").join(" ").contains("Step 2 waits"));
    second.steps[1].wait_hours = 48;
    assert!(second.problems("x").is_empty());
    let mut zone = valid();
    zone.strategy.default_zone = "Mars/Olympus<".into();
    assert!(zone.problems("x").join(" ").contains("time zone"));
    let mut days = valid();
    days.audience.inbound_within_days = Some(7);
    days.audience.inbound_older_than_days = Some(30);
    assert!(days.problems("x").join(" ").contains("Nobody wrote within"));
}

#[test]
fn schedules_and_approvals_are_checked() {
    assert!(check_schedule(NOW - HOUR_MS, NOW)
        .unwrap_err()
        .contains("in the past"));
    assert!(check_schedule(NOW + HOUR_MS, NOW).is_ok());
    assert!(check_approver(7, 7).unwrap_err().contains("someone other"));
    assert!(check_approver(7, 8).is_ok());
}

#[test]
fn templates_fill_their_slots() {
    assert_eq!(
        template_slots("Hi {{1}}, {{2}} and {{1}} {{x}}"),
        vec![1, 2]
    );
    assert_eq!(
        fill_template(
            "Hi {{1}}, sale {{2}}. {{3}}",
            &["Ann".into(), "Monday".into()]
        ),
        "Hi Ann, sale Monday. {{3}}"
    );
    assert_eq!(fill_template("{{", &[]), "{{");
}

fn channel() -> impl Gen<Value = ChannelKind> {
    proptest::sample::select(ChannelKind::ALL.to_vec())
}

fn any_contact() -> impl Gen<Value = Contact> {
    (
        1i64..6,
        channel(),
        proptest::option::of(-10 * DAY_MS..DAY_MS),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(id, ch, ago, granted)| {
            contact(
                id,
                ch,
                ago.map(|a| NOW - a.abs()),
                granted.and_then(consent),
            )
        })
}

/// Up to six identifiers, each with its own id (an identifier has one consent).
fn unique_contacts() -> impl Gen<Value = Vec<Contact>> {
    proptest::collection::vec(any_contact(), 0..6).prop_map(|mut v| {
        for (i, c) in v.iter_mut().enumerate() {
            c.identifier_id = i as i64 + 1;
        }
        v
    })
}

proptest! {
    /// Whatever the customer's identifiers, consent and windows: a pick names an identifier
    /// of the customer on a channel of the order not tried yet, whose consent allows the
    /// topic; and when nothing is picked, no identifier on a remaining channel was allowed.
    #[test]
    fn a_pick_is_always_allowed_and_a_skip_always_justified(
        contacts in unique_contacts(),
        preferred in proptest::option::of(channel()),
        list in proptest::sample::subsequence(ChannelKind::ALL.to_vec(), 0..=6),
        tried in proptest::sample::subsequence(ChannelKind::ALL.to_vec(), 0..=2),
        marketing in any::<bool>(),
    ) {
        let topic = if marketing { Purpose::Marketing } else { Purpose::Support };
        let s = strategy(&list);
        let step = step_all();
        let person = Person { preferred, contacts: contacts.clone() };
        let ord = order(&s, &step, preferred);
        match pick(topic, &s, &step, &person, &tried, NOW) {
            Ok(p) => {
                prop_assert!(ord.contains(&p.channel));
                prop_assert!(!tried.contains(&p.channel));
                let c = contacts.iter().find(|c| c.identifier_id == p.identifier_id && c.channel == p.channel);
                prop_assert!(c.is_some());
                let c = c.unwrap();
                prop_assert!(allowed(topic, &step, c, NOW).is_ok());
                if let Some(cons) = &c.consent {
                    prop_assert!(cons.granted);
                } else {
                    prop_assert_eq!(topic, Purpose::Support);
                }
                // No channel earlier in the order had an allowed identifier.
                for earlier in ord.iter().take_while(|c| **c != p.channel).filter(|c| !tried.contains(c)) {
                    for c in contacts.iter().filter(|c| c.channel == *earlier) {
                        prop_assert!(allowed(topic, &step, c, NOW).is_err());
                    }
                }
            }
            Err(skip) => {
                for ch in ord.iter().filter(|c| !tried.contains(c)) {
                    for c in contacts.iter().filter(|c| c.channel == *ch) {
                        prop_assert!(allowed(topic, &step, c, NOW).is_err());
                    }
                }
                if skip.reason == SkipReason::NoIdentifier {
                    prop_assert!(!contacts.iter().any(|c| ord.contains(&c.channel) && !tried.contains(&c.channel)));
                }
                prop_assert!(!skip.words.is_empty());
            }
        }
    }

    /// An opt-out on an identifier is never picked, for either topic.
    #[test]
    fn an_opted_out_identifier_is_never_picked(
        contacts in unique_contacts(),
        marketing in any::<bool>(),
    ) {
        let topic = if marketing { Purpose::Marketing } else { Purpose::Support };
        let s = strategy(&ChannelKind::ALL);
        let person = Person { preferred: None, contacts: contacts.clone() };
        if let Ok(p) = pick(topic, &s, &step_all(), &person, &[], NOW) {
            let refused = contacts.iter().filter(|c| c.identifier_id == p.identifier_id && c.channel == p.channel)
                .all(|c| c.consent.as_ref().is_some_and(|k| !k.granted));
            prop_assert!(!refused);
        }
    }

    /// Quiet hours: the wait always ends at the end of quiet hours, inside a day, and the time
    /// it names is not itself quiet.
    #[test]
    fn quiet_hours_end_where_they_say(
        from in 0u16..1440, until in 0u16..1440,
        offset in -14 * 3600i32..14 * 3600,
        t in 0i64..(30 * DAY_MS),
    ) {
        let s = Strategy { quiet_from: from, quiet_until: until, ..Strategy::default() };
        let now = 19_000 * DAY_MS + t;
        if let Some(end) = quiet_until(&s, offset, now) {
            prop_assert!(end > now - 60_000 && end <= now + DAY_MS);
            prop_assert_eq!(quiet_until(&s, offset, end), None);
        }
    }

    /// The cap: after the time it names, one more message fits.
    #[test]
    fn the_cap_frees_a_place_when_it_says(
        cap in 1u32..4,
        ago in proptest::collection::vec(0i64..(2 * DAY_MS), 0..8),
    ) {
        let recent: Vec<i64> = ago.iter().map(|a| NOW - a).collect();
        match cap_until(cap, &recent, NOW) {
            None => prop_assert!(recent.iter().filter(|t| **t > NOW - DAY_MS).count() < cap as usize),
            Some(at) => {
                prop_assert!(at > NOW);
                prop_assert_eq!(cap_until(cap, &recent, at), None);
            }
        }
    }
}
