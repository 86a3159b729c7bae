//! Website chat (issue 16, groundwork): a chat channel's settings as an admin writes them, and
//! what a visitor may send. Checked here, in words, so the admin form (with or without
//! JavaScript) and the server say the same thing.

use super::chat_origin::AllowedOrigins;
use serde::{Deserialize, Serialize};

/// The longest greeting or offline message.
pub const MAX_NOTICE: usize = 500;
/// The longest channel name.
pub const MAX_NAME: usize = 80;
/// The longest message a visitor may send, in characters.
pub const MAX_VISITOR_TEXT: usize = 4_000;
/// How long since a visitor's widget was last there (a request or its stream's heartbeat)
/// before they count as gone.
pub const GONE_FOR_MS: i64 = 60_000;
/// White text on the widget's colour must reach this contrast ratio (WCAG 2.1 AA, 1.4.3).
pub const MIN_CONTRAST: f64 = 4.5;

/// Whether the pre-chat form asks for a field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldRule {
    #[default]
    Off,
    Optional,
    Required,
}

impl FieldRule {
    pub fn parse(s: &str) -> Option<FieldRule> {
        match s {
            "off" | "" => Some(FieldRule::Off),
            "optional" => Some(FieldRule::Optional),
            "required" => Some(FieldRule::Required),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            FieldRule::Off => "off",
            FieldRule::Optional => "optional",
            FieldRule::Required => "required",
        }
    }
}

/// The admin form as submitted: every field a string, as a browser posts it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatForm {
    pub name: String,
    /// One allowed site per line.
    pub origins: String,
    pub greeting: String,
    pub offline_message: String,
    /// `#rrggbb`.
    pub colour: String,
    pub name_field: String,
    pub email_field: String,
    pub phone_field: String,
    /// The pre-chat form offers a consent checkbox for support answers by email/SMS.
    pub ask_support_consent: bool,
    /// … and one for marketing.
    pub ask_marketing_consent: bool,
    /// Visitors' `identify()` calls must carry a valid hash.
    pub require_verified_identity: bool,
}

/// A chat channel's checked settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatSettings {
    pub name: String,
    /// The allowed origins in normal form, one per line (see [`AllowedOrigins`]).
    pub origins: String,
    pub greeting: String,
    pub offline_message: String,
    pub colour: String,
    pub name_field: FieldRule,
    pub email_field: FieldRule,
    pub phone_field: FieldRule,
    pub ask_support_consent: bool,
    pub ask_marketing_consent: bool,
    pub require_verified_identity: bool,
}

impl ChatForm {
    /// The settings, or every problem in words (one per field at most).
    pub fn check(&self) -> Result<ChatSettings, Vec<String>> {
        let mut problems = Vec::new();
        let name = one_line(&self.name);
        if name.is_empty() {
            problems.push("Give the chat a name, as in \"Website chat\".".to_string());
        } else if name.chars().count() > MAX_NAME {
            problems.push(format!("The name is longer than {MAX_NAME} characters."));
        }
        let origins = match AllowedOrigins::parse(&self.origins) {
            Ok(o) => o.to_text(),
            Err(errs) => {
                let words: Vec<String> = errs.iter().map(|e| e.0.clone()).collect();
                problems.push(format!("Allowed websites: {}.", words.join("; ")));
                String::new()
            }
        };
        let notice = |text: &str, what: &str, problems: &mut Vec<String>| {
            let t = text.trim().to_string();
            if t.chars().count() > MAX_NOTICE {
                problems.push(format!(
                    "The {what} is longer than {MAX_NOTICE} characters."
                ));
            }
            t
        };
        let greeting = notice(&self.greeting, "greeting", &mut problems);
        let offline_message = notice(&self.offline_message, "offline message", &mut problems);
        let colour = self.colour.trim().to_ascii_lowercase();
        match parse_colour(&colour) {
            None => problems.push(format!(
                "Colour: {:?} is not a colour; write it as #1f6feb.",
                self.colour.trim()
            )),
            Some(rgb) => {
                let ratio = contrast_with_white(rgb);
                if ratio < MIN_CONTRAST {
                    problems.push(format!(
                        "Colour: white text on {colour} has a contrast of {ratio:.1}:1, too faint to read; \
                         choose a darker colour (at least {MIN_CONTRAST}:1)."
                    ));
                }
            }
        }
        let rule = |s: &str, what: &str, problems: &mut Vec<String>| {
            FieldRule::parse(s.trim()).unwrap_or_else(|| {
                problems.push(format!(
                    "The {what} field must be off, optional or required (not {s:?})."
                ));
                FieldRule::Off
            })
        };
        let name_field = rule(&self.name_field, "name", &mut problems);
        let email_field = rule(&self.email_field, "email", &mut problems);
        let phone_field = rule(&self.phone_field, "phone", &mut problems);
        let asks_consent = self.ask_support_consent || self.ask_marketing_consent;
        if asks_consent && email_field == FieldRule::Off && phone_field == FieldRule::Off {
            problems.push(
                "A consent checkbox needs an email or phone field to apply to: turn one on."
                    .to_string(),
            );
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(ChatSettings {
            name,
            origins,
            greeting,
            offline_message,
            colour,
            name_field,
            email_field,
            phone_field,
            ask_support_consent: self.ask_support_consent,
            ask_marketing_consent: self.ask_marketing_consent,
            require_verified_identity: self.require_verified_identity,
        })
    }
}

/// The one line a site pastes into its pages to show chat channel `channel`.
pub fn snippet(public_url: &str, channel: i64) -> String {
    format!(
        "<script src=\"{}/chat/widget.js\" data-chat=\"{channel}\" async></script>",
        public_url.trim_end_matches('/')
    )
}

/// Collapses whitespace (newlines included) to single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `#rrggbb` to its channels.
fn parse_colour(s: &str) -> Option<[u8; 3]> {
    let hex = s.strip_prefix('#')?;
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let c = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([c(0)?, c(2)?, c(4)?])
}

/// The WCAG contrast ratio of white on `rgb`.
fn contrast_with_white(rgb: [u8; 3]) -> f64 {
    let lin = |v: u8| {
        let c = f64::from(v) / 255.0;
        if c <= 0.040_45 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2]);
    1.05 / (l + 0.05)
}

/// What a visitor's message becomes before it is stored: trimmed, with control characters
/// other than newlines and tabs removed (they would only hide text), or a refusal in words.
/// The text is stored and shown as text, never as markup.
pub fn visitor_text(raw: &str) -> Result<String, String> {
    if raw.len() > MAX_VISITOR_TEXT * 4 {
        return Err(format!(
            "This message is longer than {MAX_VISITOR_TEXT} characters; send it in parts."
        ));
    }
    let cleaned: String = raw
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect();
    let text = cleaned.trim();
    if text.is_empty() {
        return Err("Write a message first.".into());
    }
    if text.chars().count() > MAX_VISITOR_TEXT {
        return Err(format!(
            "This message is longer than {MAX_VISITOR_TEXT} characters; send it in parts."
        ));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn form() -> ChatForm {
        ChatForm {
            name: "  Website\n chat ".into(),
            origins: "https://shop.example.com\nhttps://*.example.org/".into(),
            greeting: " Hi! How can we help? ".into(),
            offline_message: "We answer by email within a day.".into(),
            colour: "#1F6FEB".into(),
            name_field: "optional".into(),
            email_field: "required".into(),
            phone_field: "off".into(),
            ask_support_consent: true,
            ask_marketing_consent: true,
            require_verified_identity: false,
        }
    }

    #[test]
    fn a_good_form_becomes_normal_settings() {
        let s = form().check().unwrap();
        assert_eq!(s.name, "Website chat");
        assert_eq!(s.origins, "https://shop.example.com\nhttps://*.example.org");
        assert_eq!(s.greeting, "Hi! How can we help?");
        assert_eq!(s.colour, "#1f6feb");
        assert_eq!(s.email_field, FieldRule::Required);
        assert_eq!(s.phone_field, FieldRule::Off);
    }

    #[test]
    fn every_problem_is_said_at_once() {
        let f = ChatForm {
            name: " ".into(),
            origins: "shop.example.com".into(),
            greeting: "x".repeat(MAX_NOTICE + 1),
            colour: "blue".into(),
            name_field: "maybe".into(),
            email_field: "off".into(),
            phone_field: "off".into(),
            ask_marketing_consent: true,
            ..form()
        };
        let p = f.check().unwrap_err();
        assert_eq!(p.len(), 6, "{p:#?}");
        assert!(p[0].contains("name"), "{}", p[0]);
        assert!(
            p[1].starts_with("Allowed websites") && p[1].contains("https://"),
            "{}",
            p[1]
        );
        assert!(p[2].contains("greeting"), "{}", p[2]);
        assert!(p[3].contains("#1f6feb"), "{}", p[3]);
        assert!(p[4].contains("off, optional or required"), "{}", p[4]);
        assert!(p[5].contains("consent checkbox"), "{}", p[5]);
    }

    #[test]
    fn a_colour_too_light_for_white_text_is_refused() {
        let light = ChatForm {
            colour: "#ffd700".into(),
            ..form()
        };
        let p = light.check().unwrap_err();
        assert!(
            p[0].contains("too faint") && p[0].contains(":1"),
            "{}",
            p[0]
        );
        // Black on white is 21:1; white on pure blue about 8.6:1; #767676 is the lightest
        // grey that passes AA.
        assert!((contrast_with_white([0, 0, 0]) - 21.0).abs() < 0.01);
        assert!((contrast_with_white([0, 0, 255]) - 8.59).abs() < 0.01);
        assert!(contrast_with_white([0x76, 0x76, 0x76]) >= MIN_CONTRAST);
        assert!(contrast_with_white([0x77, 0x77, 0x77]) < MIN_CONTRAST);
    }

    #[test]
    fn visitor_text_is_kept_as_text_within_limits() {
        assert_eq!(
            visitor_text("  <b>hi</b>\u{0}\u{1b}[31m\n").unwrap(),
            "<b>hi</b>[31m"
        );
        assert_eq!(visitor_text("a\n\tb").unwrap(), "a\n\tb");
        assert!(visitor_text(" \u{7}\n ")
            .unwrap_err()
            .contains("Write a message"));
        assert!(visitor_text(&"é".repeat(MAX_VISITOR_TEXT)).is_ok());
        assert!(visitor_text(&"é".repeat(MAX_VISITOR_TEXT + 1))
            .unwrap_err()
            .contains("in parts"));
        assert!(visitor_text(&"x".repeat(10_000_000)).is_err());
    }

    proptest! {
        #[test]
        fn visitor_text_never_panics_and_keeps_no_control_characters(raw in "\\PC{0,300}|[\\x00-\\x1f a-z]{0,50}") {
            if let Ok(t) = visitor_text(&raw) {
                prop_assert!(!t.is_empty());
                prop_assert!(t.chars().all(|c| !c.is_control() || c == '\n' || c == '\t'));
                prop_assert!(t.chars().count() <= MAX_VISITOR_TEXT);
            }
        }

        #[test]
        fn every_hex_colour_is_read_and_judged(r in any::<u8>(), g in any::<u8>(), b in any::<u8>()) {
            let s = format!("#{r:02x}{g:02x}{b:02x}");
            prop_assert_eq!(parse_colour(&s), Some([r, g, b]));
            let ratio = contrast_with_white([r, g, b]);
            prop_assert!((1.0..=21.0 + 1e-9).contains(&ratio));
        }
    }
}
