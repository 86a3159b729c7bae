//! Campaigns as marketing drafts them: who they reach (the audience), what each step says on
//! each channel, and how it is delivered (the channel order, fallback, quiet hours, caps and
//! throttles). Checked here, in words, before anything is sent; who may receive which message
//! is `campaign_rules`.

use crate::domain::canned;
use crate::domain::consent::{ConsentStatus, Purpose};
use crate::domain::sms;
use crate::domain::window::max_text_chars;
use crate::domain::{ChannelKind, IdentifierKind};
use serde::{Deserialize, Serialize};

/// Where a campaign is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Being written; nothing is sent.
    Draft,
    /// A second person approved it; it can be scheduled or sent.
    Approved,
    /// Waits for its time.
    Scheduled,
    /// Being delivered.
    Sending,
    /// Held by a person: nothing more goes out until it is resumed.
    Paused,
    /// Every step delivered (or skipped) to every recipient.
    Done,
    /// Stopped for good: what was not sent never will be.
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Draft,
        Status::Approved,
        Status::Scheduled,
        Status::Sending,
        Status::Paused,
        Status::Done,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Approved => "approved",
            Status::Scheduled => "scheduled",
            Status::Sending => "sending",
            Status::Paused => "paused",
            Status::Done => "done",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Draft => "Draft",
            Status::Approved => "Approved",
            Status::Scheduled => "Scheduled",
            Status::Sending => "Sending",
            Status::Paused => "Paused",
            Status::Done => "Done",
            Status::Cancelled => "Cancelled",
        }
    }

    /// Whether the content and audience may still change (an edit sends it back to draft).
    pub fn editable(self) -> bool {
        matches!(self, Status::Draft | Status::Approved)
    }
}

/// How a campaign's topic is named: marketing, or transactional (support consent).
pub fn topic_label(topic: Purpose) -> &'static str {
    match topic {
        Purpose::Marketing => "Marketing",
        Purpose::Support => "Transactional",
    }
}

/// Customers with at least one identifier whose consent for `purpose` is `status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentFilter {
    pub purpose: Purpose,
    pub status: ConsentStatus,
}

/// Who a campaign is for: every condition given must hold (none given: every customer).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Audience {
    /// Has a conversation carrying this label.
    pub label_id: Option<i64>,
    /// Has an identifier that reaches this channel.
    pub reachable_on: Option<ChannelKind>,
    pub consent: Option<ConsentFilter>,
    pub preferred: Option<ChannelKind>,
    /// Wrote to us within the last N days.
    pub inbound_within_days: Option<u32>,
    /// Last wrote more than N days ago (or never).
    pub inbound_older_than_days: Option<u32>,
    /// Has (true) or has not (false) an open conversation.
    pub open_conversation: Option<bool>,
    pub identifier_kind: Option<IdentifierKind>,
    /// Customers of the conversations a saved view (a search) finds.
    pub view_id: Option<i64>,
}

/// Most days an "inbound within / older than" condition may name.
pub const MAX_DAYS: u32 = 3650;

impl Audience {
    /// The conditions in words ("label VIP, reachable on SMS"), given a label's and a view's
    /// name; "every customer" when there is none.
    pub fn words(&self, label: Option<&str>, view: Option<&str>) -> String {
        let mut w: Vec<String> = Vec::new();
        if self.label_id.is_some() {
            w.push(format!("label {}", label.unwrap_or("(deleted)")));
        }
        if let Some(c) = self.reachable_on {
            w.push(format!("reachable on {}", c.label()));
        }
        if let Some(c) = self.consent {
            w.push(format!(
                "{} consent: {}",
                c.purpose.label().to_lowercase(),
                c.status.label(c.purpose).to_lowercase()
            ));
        }
        if let Some(c) = self.preferred {
            w.push(format!("prefers {}", c.label()));
        }
        if let Some(d) = self.inbound_within_days {
            w.push(format!("wrote within {d} days"));
        }
        if let Some(d) = self.inbound_older_than_days {
            w.push(format!("silent for more than {d} days"));
        }
        match self.open_conversation {
            Some(true) => w.push("has an open conversation".into()),
            Some(false) => w.push("no open conversation".into()),
            None => {}
        }
        if let Some(k) = self.identifier_kind {
            w.push(format!("has {}", crate::domain::identifier::kind_words(k)));
        }
        if self.view_id.is_some() {
            w.push(format!("in view {}", view.unwrap_or("(deleted)")));
        }
        if w.is_empty() {
            "every customer".into()
        } else {
            w.join(", ")
        }
    }

    fn problems(&self, out: &mut Vec<String>) {
        for (d, what) in [
            (self.inbound_within_days, "\"Wrote within\""),
            (self.inbound_older_than_days, "\"Silent for more than\""),
        ] {
            if let Some(d) = d {
                if d == 0 || d > MAX_DAYS {
                    out.push(format!("{what} takes 1 to {MAX_DAYS} days."));
                }
            }
        }
        if let (Some(a), Some(b)) = (self.inbound_within_days, self.inbound_older_than_days) {
            if a <= b {
                out.push(format!(
                    "Nobody wrote within {a} days and is silent for more than {b} days: change one of them."
                ));
            }
        }
    }
}

/// An email step: subject, text and (optionally) HTML; the unsubscribe headers are added by
/// the sender.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmailContent {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A WhatsApp step: an approved template (name, language, its body as approved with `{{1}}`,
/// `{{2}}`… and the parameters that fill them), and optionally free text for customers inside
/// the 24-hour window.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WhatsappContent {
    pub template: String,
    pub language: String,
    pub body: String,
    pub params: Vec<String>,
    /// Sent instead of the template inside the 24-hour window, when given.
    pub text: String,
}

/// What one step says, per channel (an empty field: the step does not use that channel).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Step {
    /// Hours after the previous step began (0 for the first step).
    pub wait_hours: u32,
    pub email: EmailContent,
    pub sms: String,
    pub whatsapp: WhatsappContent,
    pub messenger: String,
    pub instagram: String,
    pub telegram: String,
}

impl Step {
    /// Whether the step has something to say on `channel`.
    pub fn has(&self, channel: ChannelKind) -> bool {
        match channel {
            ChannelKind::Email => !self.email.text.trim().is_empty(),
            ChannelKind::Sms => !self.sms.trim().is_empty(),
            ChannelKind::Whatsapp => {
                !self.whatsapp.template.trim().is_empty() || !self.whatsapp.text.trim().is_empty()
            }
            ChannelKind::Messenger => !self.messenger.trim().is_empty(),
            ChannelKind::Instagram => !self.instagram.trim().is_empty(),
            ChannelKind::Telegram => !self.telegram.trim().is_empty(),
            // Website chat reaches a visitor only while they chat: never a campaign channel.
            ChannelKind::Chat => false,
        }
    }

    /// The plain text of `channel`'s content, as written (placeholders not filled).
    pub fn text(&self, channel: ChannelKind) -> &str {
        match channel {
            ChannelKind::Email => &self.email.text,
            ChannelKind::Sms => &self.sms,
            ChannelKind::Whatsapp => &self.whatsapp.text,
            ChannelKind::Messenger => &self.messenger,
            ChannelKind::Instagram => &self.instagram,
            ChannelKind::Telegram => &self.telegram,
            ChannelKind::Chat => "",
        }
    }
}

/// How a campaign reaches each customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Strategy {
    /// Try the customer's preferred channel first (when the step uses it).
    pub preferred_first: bool,
    /// The channels to try, in order, after the preferred one.
    pub channels: Vec<ChannelKind>,
    /// Fall back to the next channel when a message is not delivered within this many
    /// minutes (0: only when it fails).
    pub fallback_after_minutes: u32,
    /// Quiet hours in the customer's time zone, minutes after midnight: nothing is sent from
    /// `quiet_from` to `quiet_until` (may wrap midnight). Equal: no quiet hours.
    pub quiet_from: u16,
    pub quiet_until: u16,
    /// The time zone used when the customer's is not known (IANA name).
    pub default_zone: String,
    /// Most campaign messages one customer gets in 24 hours, across campaigns (0: no cap).
    pub daily_cap: u32,
    /// Most messages per minute per channel account (0: no throttle).
    pub per_minute: u32,
}

impl Default for Strategy {
    fn default() -> Strategy {
        Strategy {
            preferred_first: true,
            channels: vec![ChannelKind::Email],
            fallback_after_minutes: 120,
            quiet_from: 21 * 60,
            quiet_until: 9 * 60,
            default_zone: "UTC".into(),
            daily_cap: 2,
            per_minute: 600,
        }
    }
}

impl Strategy {
    /// `channels` in order, sent at once: no preferred channel first, no timed fallback, no
    /// quiet hours, cap or throttle (what the tests and the benchmark start from).
    pub fn at_once(channels: Vec<ChannelKind>) -> Strategy {
        Strategy {
            preferred_first: false,
            channels,
            fallback_after_minutes: 0,
            quiet_from: 0,
            quiet_until: 0,
            default_zone: "UTC".into(),
            daily_cap: 0,
            per_minute: 0,
        }
    }
}

/// Longest fallback wait: a week.
pub const MAX_FALLBACK_MINUTES: u32 = 7 * 24 * 60;
/// Most steps in one campaign, and the longest wait between two.
pub const MAX_STEPS: usize = 5;
pub const MAX_WAIT_HOURS: u32 = 60 * 24;
/// Longest campaign name, email subject and any one text.
pub const MAX_NAME_CHARS: usize = 120;
pub const MAX_SUBJECT_CHARS: usize = 200;
pub const MAX_TEXT_CHARS: usize = 20_000;
pub const MAX_HTML_BYTES: usize = 200_000;
/// Most WhatsApp template parameters.
pub const MAX_PARAMS: usize = 20;

/// A campaign as drafted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Definition {
    /// Marketing (needs marketing consent) or support (transactional: needs support consent).
    pub topic: Purpose,
    pub audience: Audience,
    pub steps: Vec<Step>,
    pub strategy: Strategy,
}

impl Default for Definition {
    fn default() -> Definition {
        Definition {
            topic: Purpose::Marketing,
            audience: Audience::default(),
            steps: vec![Step::default()],
            strategy: Strategy::default(),
        }
    }
}

/// The `{{n}}` numbers a template body uses, in order of first appearance.
pub fn template_slots(body: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find("{{") {
        rest = &rest[i + 2..];
        let Some(j) = rest.find("}}") else { break };
        if let Ok(n) = rest[..j].trim().parse::<usize>() {
            if n >= 1 && !out.contains(&n) {
                out.push(n);
            }
        }
        rest = &rest[j + 2..];
    }
    out
}

/// A template body with its `{{n}}` replaced by `params[n-1]` (placeholders in the
/// parameters already filled by the caller); a slot without a parameter stays as written.
pub fn fill_template(body: &str, params: &[String]) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        match after.find("}}") {
            Some(j) => match after[..j].trim().parse::<usize>() {
                Ok(n) if n >= 1 && n <= params.len() => {
                    out.push_str(&params[n - 1]);
                    rest = &after[j + 2..];
                }
                _ => {
                    out.push_str("{{");
                    rest = after;
                }
            },
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// The longest a placeholder may grow when filled (a customer's name, an identifier), so a
/// text that fits when written still fits when sent.
pub const PLACEHOLDER_ROOM: usize = 60;

/// The length of `text` once its placeholders are filled with values of at most
/// [`PLACEHOLDER_ROOM`] characters: what a channel limit is checked against.
pub fn filled_length_bound(text: &str) -> usize {
    let filled = canned::fill(
        text,
        &canned::Fill {
            customer_name: "x".repeat(PLACEHOLDER_ROOM),
            agent_name: "x".repeat(PLACEHOLDER_ROOM),
            identifier: Some("x".repeat(PLACEHOLDER_ROOM)),
        },
    );
    chars(&filled)
}

fn check_text(channel: ChannelKind, step: usize, text: &str, out: &mut Vec<String>) {
    let at = format!("Step {} {}", step + 1, channel.label());
    if let Err(e) = canned::check_placeholders(text) {
        out.push(format!("{at}: {e}"));
    }
    if chars(text) > MAX_TEXT_CHARS {
        out.push(format!(
            "{at}: keep the text under {MAX_TEXT_CHARS} characters."
        ));
        return;
    }
    if let Some(max) = max_text_chars(channel) {
        let n = filled_length_bound(text);
        if n > max {
            out.push(format!(
                "{at}: the text can reach {n} characters once names are filled in, over {}'s limit of {max}. Shorten it.",
                channel.label()
            ));
        }
    }
    if channel == ChannelKind::Sms {
        let info = sms::analyze(text);
        if info.segments > 4 {
            out.push(format!(
                "{at}: {} SMS segments per customer ({}); keep campaign texts to 4 segments or fewer.",
                info.segments,
                if info.non_gsm.is_empty() {
                    "GSM-7".to_string()
                } else {
                    "UCS-2 because of characters outside GSM-7: replace them to fit more in each segment".to_string()
                }
            ));
        }
    }
}

fn check_whatsapp(step: usize, w: &WhatsappContent, out: &mut Vec<String>) {
    let at = format!("Step {} WhatsApp", step + 1);
    let uses_template = !w.template.trim().is_empty();
    if !uses_template {
        // Free text alone is allowed: it reaches customers inside the 24-hour window only
        // (the audience preview counts the others as "window closed").
        check_text(ChannelKind::Whatsapp, step, &w.text, out);
        return;
    }
    if !w
        .template
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        || w.template.len() > 512
    {
        out.push(format!(
            "{at}: a template name is lowercase letters, digits and underscores (as approved by WhatsApp)."
        ));
    }
    let lang_ok = {
        let l = w.language.trim();
        (2..=8).contains(&l.len())
            && l.chars().all(|c| c.is_ascii_alphabetic() || c == '_')
            && l.chars().next().is_some_and(|c| c.is_ascii_lowercase())
    };
    if !lang_ok {
        out.push(format!(
            "{at}: give the template's language code, such as en or en_US."
        ));
    }
    if w.body.trim().is_empty() {
        out.push(format!(
            "{at}: paste the template's approved body (with its {{{{1}}}}, {{{{2}}}}…), so the preview and the timeline show what the customer reads."
        ));
    }
    let slots = template_slots(&w.body);
    let needed = slots.iter().copied().max().unwrap_or(0);
    if w.params.len() > MAX_PARAMS {
        out.push(format!("{at}: at most {MAX_PARAMS} parameters."));
    }
    for n in 1..=needed {
        match w.params.get(n - 1) {
            Some(p) if !p.trim().is_empty() => {
                if let Err(e) = canned::check_placeholders(p) {
                    out.push(format!("{at} parameter {{{{{n}}}}}: {e}"));
                }
            }
            _ => out.push(format!(
                "{at}: the template uses {{{{{n}}}}} but parameter {n} is missing; WhatsApp refuses a template with a missing parameter."
            )),
        }
    }
    if w.params.len() > needed {
        out.push(format!(
            "{at}: {} parameters given but the template body uses {needed}; remove the extra ones.",
            w.params.len()
        ));
    }
    if !w.text.trim().is_empty() {
        check_text(ChannelKind::Whatsapp, step, &w.text, out);
    }
}

impl Definition {
    /// Every problem that stops this campaign from being approved or sent, in words (empty:
    /// none). `name` is the campaign's name.
    pub fn problems(&self, name: &str) -> Vec<String> {
        let mut out = Vec::new();
        let name = name.trim();
        if name.is_empty() {
            out.push("Give the campaign a name.".into());
        } else if chars(name) > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            out.push(format!(
                "Keep the name under {MAX_NAME_CHARS} characters, on one line."
            ));
        }
        self.audience.problems(&mut out);
        let s = &self.strategy;
        if s.channels.is_empty() && !s.preferred_first {
            out.push("Choose at least one channel to send on.".into());
        }
        let mut seen = Vec::new();
        for c in &s.channels {
            if seen.contains(c) {
                out.push(format!(
                    "{} is listed twice in the channel order.",
                    c.label()
                ));
            }
            seen.push(*c);
        }
        if s.fallback_after_minutes > MAX_FALLBACK_MINUTES {
            out.push("Fall back within a week at most.".into());
        }
        if s.quiet_from >= 24 * 60 || s.quiet_until >= 24 * 60 {
            out.push("Quiet hours run from 00:00 to 23:59.".into());
        }
        if !crate::domain::localtime::plausible_zone_name(&s.default_zone) {
            out.push(format!(
                "{:?} is not a time zone name (such as Europe/Berlin or UTC).",
                s.default_zone
            ));
        }
        if s.per_minute > 100_000 {
            out.push("A throttle above 100,000 messages a minute is no throttle: leave it at 0 for none.".into());
        }
        if self.steps.is_empty() {
            out.push("A campaign needs at least one step.".into());
        }
        if self.steps.len() > MAX_STEPS {
            out.push(format!("At most {MAX_STEPS} steps."));
        }
        for (i, step) in self.steps.iter().enumerate() {
            if i > 0 && (step.wait_hours == 0 || step.wait_hours > MAX_WAIT_HOURS) {
                out.push(format!(
                    "Step {} waits 1 to {MAX_WAIT_HOURS} hours after the step before it.",
                    i + 1
                ));
            }
            let used: Vec<ChannelKind> = ChannelKind::ALL
                .into_iter()
                .filter(|c| step.has(*c))
                .collect();
            if used.is_empty() {
                out.push(format!("Step {} says nothing on any channel.", i + 1));
                continue;
            }
            if !s.preferred_first && !used.iter().any(|c| s.channels.contains(c)) {
                out.push(format!(
                    "Step {} has content only for channels the campaign does not send on.",
                    i + 1
                ));
            }
            if step.has(ChannelKind::Email) {
                let e = &step.email;
                if e.subject.trim().is_empty() {
                    out.push(format!("Step {} Email: give a subject.", i + 1));
                } else if chars(&e.subject) > MAX_SUBJECT_CHARS {
                    out.push(format!(
                        "Step {} Email: keep the subject under {MAX_SUBJECT_CHARS} characters.",
                        i + 1
                    ));
                }
                if let Err(err) = canned::check_placeholders(&e.subject) {
                    out.push(format!("Step {} Email subject: {err}", i + 1));
                }
                if e.html.len() > MAX_HTML_BYTES {
                    out.push(format!(
                        "Step {} Email: the HTML is over {} KB.",
                        i + 1,
                        MAX_HTML_BYTES / 1000
                    ));
                }
                check_text(ChannelKind::Email, i, &e.text, &mut out);
            }
            for c in [
                ChannelKind::Sms,
                ChannelKind::Messenger,
                ChannelKind::Instagram,
                ChannelKind::Telegram,
            ] {
                if step.has(c) {
                    check_text(c, i, step.text(c), &mut out);
                }
            }
            if step.has(ChannelKind::Whatsapp) {
                check_whatsapp(i, &step.whatsapp, &mut out);
            }
        }
        out
    }
}

/// Why a schedule is refused: in the past, or too far ahead.
pub fn check_schedule(at: i64, now: i64) -> Result<(), String> {
    if at < now - 60_000 {
        return Err(format!(
            "{} UTC is in the past: choose a later time, or send now.",
            crate::domain::text::format_time(at)
        ));
    }
    if at > now + 365 * 86_400_000 {
        return Err("Schedule within a year.".into());
    }
    Ok(())
}

/// Who may approve: anyone allowed to but the author.
pub fn check_approver(author: i64, approver: i64) -> Result<(), String> {
    if author == approver {
        Err("A campaign is approved by someone other than its author: ask a colleague (an admin or another marketing user) to review it.".into())
    } else {
        Ok(())
    }
}
