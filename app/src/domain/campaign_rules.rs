//! Who receives a campaign step, on which channel and when: the channel order (preferred first,
//! then the fallback list), consent for the campaign's topic, each channel's window, quiet
//! hours in the customer's time zone and the daily cap. Pure: the planner and the sender ask
//! the same questions with what the database holds at that moment.

use crate::domain::campaign::{Step, Strategy};
use crate::domain::consent::{refusal, Consent, ConsentStatus, Purpose};
use crate::domain::window::{reply_window, DAY_MS};
use crate::domain::ChannelKind;
use serde::{Deserialize, Serialize};

/// How long after a campaign message a customer's message counts as a reply to it.
pub const REPLY_WINDOW_MS: i64 = 7 * DAY_MS;

/// One identifier of the customer, as the rules need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    pub identifier_id: i64,
    pub channel: ChannelKind,
    /// How the identifier is written ("+1 415 555 0101").
    pub label: String,
    pub last_inbound_at: Option<i64>,
    /// The newest consent recorded for the campaign's topic, if any.
    pub consent: Option<Consent>,
}

/// A customer, as the rules need them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Person {
    pub preferred: Option<ChannelKind>,
    pub contacts: Vec<Contact>,
}

/// Why a customer gets nothing from a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// No identifier on any channel the step uses.
    NoIdentifier,
    /// Consent for the topic was never given (marketing).
    NoConsent,
    /// The customer opted out.
    OptedOut,
    /// The channel's window is closed (WhatsApp without a template, Messenger, Instagram).
    WindowClosed,
}

impl SkipReason {
    pub const ALL: [SkipReason; 4] = [
        SkipReason::NoIdentifier,
        SkipReason::NoConsent,
        SkipReason::OptedOut,
        SkipReason::WindowClosed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::NoIdentifier => "no_identifier",
            SkipReason::NoConsent => "no_consent",
            SkipReason::OptedOut => "opted_out",
            SkipReason::WindowClosed => "window_closed",
        }
    }

    pub fn parse(s: &str) -> Option<SkipReason> {
        SkipReason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            SkipReason::NoIdentifier => "No identifier",
            SkipReason::NoConsent => "No consent",
            SkipReason::OptedOut => "Opted out",
            SkipReason::WindowClosed => "Window closed",
        }
    }
}

/// Why nothing goes to a customer, with the words shown beside them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skip {
    pub reason: SkipReason,
    pub words: String,
}

/// What to send to a customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pick {
    pub channel: ChannelKind,
    pub identifier_id: i64,
    /// WhatsApp outside the 24-hour window (or with no free text): the approved template.
    pub template: bool,
}

/// The channels tried for a customer, in order: the preferred one first (when the strategy
/// says so), then the strategy's list; only channels the step says something on.
pub fn order(strategy: &Strategy, step: &Step, preferred: Option<ChannelKind>) -> Vec<ChannelKind> {
    let mut out = Vec::new();
    if strategy.preferred_first {
        if let Some(p) = preferred {
            out.push(p);
        }
    }
    for c in &strategy.channels {
        if !out.contains(c) {
            out.push(*c);
        }
    }
    out.retain(|c| step.has(*c));
    out
}

/// Whether `contact` may get this step for `topic` at `now`: Ok(template?) or why not.
pub fn allowed(topic: Purpose, step: &Step, contact: &Contact, now: i64) -> Result<bool, Skip> {
    let template = contact.channel == ChannelKind::Whatsapp && {
        let w = &step.whatsapp;
        let inside = inside_day(contact.last_inbound_at, now);
        !w.template.trim().is_empty() && (!inside || w.text.trim().is_empty())
    };
    send_check(
        topic,
        contact.channel,
        contact.consent.as_ref(),
        &contact.label,
        contact.last_inbound_at,
        template,
        now,
    )?;
    Ok(template)
}

fn inside_day(last_inbound_at: Option<i64>, now: i64) -> bool {
    last_inbound_at.is_some_and(|t| now < t + DAY_MS && t <= now + 60_000)
}

/// The check made again right before a campaign message leaves: consent for `topic` and the
/// channel's window (a WhatsApp `template` goes out whatever the window).
pub fn send_check(
    topic: Purpose,
    channel: ChannelKind,
    consent: Option<&Consent>,
    label: &str,
    last_inbound_at: Option<i64>,
    template: bool,
    now: i64,
) -> Result<(), Skip> {
    if !ConsentStatus::of(consent.map(|c| c.granted)).allows(topic) {
        let reason = match consent.map(|c| c.granted) {
            Some(false) => SkipReason::OptedOut,
            _ => SkipReason::NoConsent,
        };
        let words = refusal(
            topic,
            consent.map(|c| c.granted),
            consent.and_then(|c| c.detail.as_deref()),
            consent.map(|c| c.at),
            label,
        )
        .unwrap_or_default();
        return Err(Skip { reason, words });
    }
    let closed = |words: String| Skip {
        reason: SkipReason::WindowClosed,
        words,
    };
    let inside = inside_day(last_inbound_at, now);
    match channel {
        ChannelKind::Email | ChannelKind::Sms | ChannelKind::Telegram => Ok(()),
        ChannelKind::Chat => Err(closed(format!(
            "{label}: website chat reaches a visitor only while they chat, never by campaign."
        ))),
        ChannelKind::Whatsapp if template || inside => Ok(()),
        ChannelKind::Whatsapp => Err(closed(format!(
            "{label}: outside the 24-hour WhatsApp window, and the step has no approved template."
        ))),
        ChannelKind::Messenger | ChannelKind::Instagram => {
            // Outside 24 hours Meta allows the human agent tag for support answers only,
            // never for marketing.
            let ok = match topic {
                Purpose::Marketing => inside,
                Purpose::Support => reply_window(channel, last_inbound_at, now).allows_reply(),
            };
            if ok {
                Ok(())
            } else {
                Err(closed(format!(
                    "{label}: {} allows {} only within {} of the customer's last message.",
                    channel.label(),
                    if topic == Purpose::Marketing {
                        "marketing messages"
                    } else {
                        "messages"
                    },
                    if topic == Purpose::Marketing {
                        "24 hours"
                    } else {
                        "7 days"
                    }
                )))
            }
        }
    }
}

/// Where a step goes for this customer, given the channels `tried` already: the first channel
/// in [`order`] with an identifier that may receive it, or why none can. Among several
/// identifiers on one channel, the one the customer wrote from last is tried first.
pub fn pick(
    topic: Purpose,
    strategy: &Strategy,
    step: &Step,
    person: &Person,
    tried: &[ChannelKind],
    now: i64,
) -> Result<Pick, Skip> {
    let channels = order(strategy, step, person.preferred);
    let mut first_refusal: Option<Skip> = None;
    for channel in channels.iter().filter(|c| !tried.contains(c)) {
        let mut on: Vec<&Contact> = person
            .contacts
            .iter()
            .filter(|c| c.channel == *channel)
            .collect();
        on.sort_by_key(|c| (std::cmp::Reverse(c.last_inbound_at), c.identifier_id));
        for contact in on {
            match allowed(topic, step, contact, now) {
                Ok(template) => {
                    return Ok(Pick {
                        channel: *channel,
                        identifier_id: contact.identifier_id,
                        template,
                    })
                }
                Err(skip) => {
                    first_refusal.get_or_insert(skip);
                }
            }
        }
    }
    Err(first_refusal.unwrap_or_else(|| {
        let left: Vec<&str> = channels
            .iter()
            .filter(|c| !tried.contains(c))
            .map(|c| c.label())
            .collect();
        Skip {
            reason: SkipReason::NoIdentifier,
            words: if left.is_empty() {
                "No channel of this step is left to try.".into()
            } else {
                format!("No identifier on {}.", left.join(", "))
            },
        }
    }))
}

/// The end of quiet hours when `now` falls in them for a customer whose UTC offset is
/// `offset_secs`, else None. Quiet hours may wrap midnight (21:00 to 09:00).
pub fn quiet_until(strategy: &Strategy, offset_secs: i32, now: i64) -> Option<i64> {
    let (from, until) = (strategy.quiet_from as i64, strategy.quiet_until as i64);
    if from == until {
        return None;
    }
    let local_ms = now + offset_secs as i64 * 1000;
    let minute = local_ms.rem_euclid(DAY_MS) / 60_000;
    let inside = if from < until {
        minute >= from && minute < until
    } else {
        minute >= from || minute < until
    };
    if !inside {
        return None;
    }
    let wait_minutes = (until - minute).rem_euclid(24 * 60);
    // The start of the current minute, plus the wait.
    Some(now - local_ms.rem_euclid(60_000) + wait_minutes * 60_000)
}

/// When the daily cap allows another message: None when it does now. `recent` holds the times
/// of the campaign messages the customer got (any campaign), any order.
pub fn cap_until(cap: u32, recent: &[i64], now: i64) -> Option<i64> {
    if cap == 0 {
        return None;
    }
    let mut inside: Vec<i64> = recent
        .iter()
        .copied()
        .filter(|t| *t > now - DAY_MS)
        .collect();
    if inside.len() < cap as usize {
        return None;
    }
    inside.sort_unstable();
    // The oldest that must leave the window for one more to fit.
    Some(inside[inside.len() - cap as usize] + DAY_MS)
}

/// Whether a message sent at `sent_at` and not delivered yet has waited long enough to fall
/// back to the next channel.
pub fn fallback_due(strategy: &Strategy, sent_at: i64, now: i64) -> bool {
    strategy.fallback_after_minutes > 0
        && now >= sent_at + strategy.fallback_after_minutes as i64 * 60_000
}

/// Why a recipient waits.
pub fn wait_words(quiet: bool) -> String {
    if quiet {
        "Quiet hours in the customer's time zone.".into()
    } else {
        "Daily cap reached for this customer.".into()
    }
}

/// The time zone a phone number suggests (the most populous zone of its country, or of its
/// North American area code), for quiet hours when the customer's own is not stored.
pub fn zone_for_phone(e164: &str) -> Option<&'static str> {
    let digits = e164.strip_prefix('+')?;
    if let Some(nanp) = digits.strip_prefix('1') {
        let area = nanp.get(..3)?;
        return Some(nanp_zone(area));
    }
    COUNTRY_ZONES
        .iter()
        .filter(|(code, _)| digits.starts_with(code))
        .max_by_key(|(code, _)| code.len())
        .map(|(_, z)| *z)
}

fn nanp_zone(area: &str) -> &'static str {
    const PACIFIC: &[&str] = &[
        "206", "209", "213", "253", "279", "310", "323", "341", "360", "408", "415", "424", "425",
        "442", "503", "509", "510", "530", "541", "559", "562", "564", "619", "626", "628", "650",
        "657", "661", "669", "702", "707", "714", "725", "747", "760", "775", "805", "818", "820",
        "831", "858", "909", "916", "925", "949", "951", "971", "604", "778", "236", "250",
    ];
    const MOUNTAIN: &[&str] = &[
        "303", "307", "385", "406", "435", "505", "575", "719", "720", "801", "970", "208", "403",
        "587", "780", "825",
    ];
    const ARIZONA: &[&str] = &["480", "520", "602", "623", "928"];
    const CENTRAL: &[&str] = &[
        "205", "210", "214", "217", "218", "224", "225", "251", "254", "256", "262", "281", "309",
        "312", "314", "316", "318", "319", "320", "325", "331", "337", "346", "361", "402", "405",
        "409", "414", "417", "430", "432", "469", "479", "501", "504", "507", "512", "515", "563",
        "573", "580", "601", "608", "612", "615", "618", "620", "630", "636", "641", "651", "662",
        "682", "708", "712", "713", "715", "731", "737", "763", "773", "785", "806", "815", "816",
        "817", "830", "832", "847", "870", "901", "903", "913", "915", "918", "920", "931", "936",
        "940", "952", "956", "972", "979", "204", "306", "431", "639",
    ];
    if PACIFIC.contains(&area) {
        "America/Los_Angeles"
    } else if MOUNTAIN.contains(&area) {
        "America/Denver"
    } else if ARIZONA.contains(&area) {
        "America/Phoenix"
    } else if CENTRAL.contains(&area) {
        "America/Chicago"
    } else if area == "808" {
        "Pacific/Honolulu"
    } else if area == "907" {
        "America/Anchorage"
    } else {
        "America/New_York"
    }
}

const COUNTRY_ZONES: &[(&str, &str)] = &[
    ("20", "Africa/Cairo"),
    ("27", "Africa/Johannesburg"),
    ("30", "Europe/Athens"),
    ("31", "Europe/Amsterdam"),
    ("32", "Europe/Brussels"),
    ("33", "Europe/Paris"),
    ("34", "Europe/Madrid"),
    ("351", "Europe/Lisbon"),
    ("353", "Europe/Dublin"),
    ("358", "Europe/Helsinki"),
    ("36", "Europe/Budapest"),
    ("39", "Europe/Rome"),
    ("40", "Europe/Bucharest"),
    ("41", "Europe/Zurich"),
    ("420", "Europe/Prague"),
    ("43", "Europe/Vienna"),
    ("44", "Europe/London"),
    ("45", "Europe/Copenhagen"),
    ("46", "Europe/Stockholm"),
    ("47", "Europe/Oslo"),
    ("48", "Europe/Warsaw"),
    ("49", "Europe/Berlin"),
    ("52", "America/Mexico_City"),
    ("54", "America/Argentina/Buenos_Aires"),
    ("55", "America/Sao_Paulo"),
    ("56", "America/Santiago"),
    ("57", "America/Bogota"),
    ("60", "Asia/Kuala_Lumpur"),
    ("61", "Australia/Sydney"),
    ("62", "Asia/Jakarta"),
    ("63", "Asia/Manila"),
    ("64", "Pacific/Auckland"),
    ("65", "Asia/Singapore"),
    ("66", "Asia/Bangkok"),
    ("7", "Europe/Moscow"),
    ("81", "Asia/Tokyo"),
    ("82", "Asia/Seoul"),
    ("84", "Asia/Ho_Chi_Minh"),
    ("86", "Asia/Shanghai"),
    ("90", "Europe/Istanbul"),
    ("91", "Asia/Kolkata"),
    ("92", "Asia/Karachi"),
    ("234", "Africa/Lagos"),
    ("254", "Africa/Nairobi"),
    ("852", "Asia/Hong_Kong"),
    ("880", "Asia/Dhaka"),
    ("886", "Asia/Taipei"),
    ("966", "Asia/Riyadh"),
    ("971", "Asia/Dubai"),
    ("972", "Asia/Jerusalem"),
];
