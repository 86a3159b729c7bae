//! Identifiers: which channel each identifier kind reaches, which kinds customers get, and
//! identifier values that never collide with the ones already in the database.

use super::model::Ctx;
use super::rng::Rng;
use app::domain::{ChannelKind, IdentifierKind};
use std::collections::HashSet;

pub(super) fn channel_of(kind: IdentifierKind) -> ChannelKind {
    match kind {
        IdentifierKind::Email => ChannelKind::Email,
        IdentifierKind::Phone => ChannelKind::Sms,
        IdentifierKind::Whatsapp => ChannelKind::Whatsapp,
        IdentifierKind::Messenger => ChannelKind::Messenger,
        IdentifierKind::Instagram => ChannelKind::Instagram,
        IdentifierKind::Telegram => ChannelKind::Telegram,
        IdentifierKind::Chat => ChannelKind::Chat,
    }
}

pub(super) fn pick_kind(rng: &mut Rng) -> IdentifierKind {
    match rng.below(100) {
        0..=33 => IdentifierKind::Email,
        34..=59 => IdentifierKind::Phone,
        60..=79 => IdentifierKind::Whatsapp,
        80..=87 => IdentifierKind::Messenger,
        88..=94 => IdentifierKind::Instagram,
        _ => IdentifierKind::Telegram,
    }
}

pub(super) fn ident_key(kind: &str, value: &str) -> String {
    format!("{kind}\u{0}{value}")
}

/// `candidate`, or a run-specific variant of it when the database already has that value.
pub(super) fn unique_value(ctx: &mut Ctx, kind: IdentifierKind, candidate: String) -> String {
    if ctx.existing.is_empty() || !ctx.existing.contains(&ident_key(kind.as_str(), &candidate)) {
        return candidate;
    }
    let mut attempt = 0u64;
    loop {
        let v = match kind {
            IdentifierKind::Email => {
                let (local, domain) = candidate
                    .rsplit_once('@')
                    .unwrap_or((&candidate, "example.com"));
                format!("{local}.r{}{attempt}@{domain}", ctx.run)
            }
            _ => format!("{candidate}{}{attempt}", ctx.run),
        };
        let key = ident_key(kind.as_str(), &v);
        if !ctx.existing.contains(&key) {
            ctx.existing.insert(key);
            return v;
        }
        attempt += 1;
    }
}

/// The next unused `+1555xxxxxxx` number (for both the phone and the WhatsApp kinds).
pub(super) fn next_phone(counter: &mut u64, existing: &HashSet<String>) -> String {
    for _ in 0..10_000_000u64 {
        let v = format!("+1555{:07}", *counter % 10_000_000);
        *counter += 1;
        if existing.is_empty()
            || !(existing.contains(&ident_key("phone", &v))
                || existing.contains(&ident_key("whatsapp", &v)))
        {
            return v;
        }
    }
    panic!("all +1555 phone numbers are taken");
}

pub(super) fn phone_label(v: &str) -> String {
    // +1555NNNNNNN -> +1 555 NNN NNNN
    format!("+1 555 {} {}", &v[5..8], &v[8..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_unique_and_normalised() {
        let mut existing = HashSet::new();
        existing.insert(ident_key("phone", "+15551000001"));
        let mut c = 1_000_000;
        let a = next_phone(&mut c, &existing);
        let b = next_phone(&mut c, &existing);
        assert_eq!(a, "+15551000000");
        assert_eq!(b, "+15551000002");
        assert_eq!(
            IdentifierKind::Phone.normalize(&phone_label(&b)).unwrap(),
            b
        );
    }
}
