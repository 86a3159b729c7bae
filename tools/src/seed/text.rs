//! Text: message bodies of realistic length, derived from the message id.

use super::rng::Rng;
use super::vocabulary::{GREETINGS, IN_SENTENCES, OUT_SENTENCES};
use std::fmt::Write as _;

/// A message body of 20 to 400 characters, derived from the message id.
pub(super) fn body_text(id: i64, out: bool) -> String {
    let salt: u64 = if out { 0xA5A5 << 40 } else { 0x5A5A << 40 };
    let mut rng = Rng::new(id as u64 ^ salt);
    let target = 20 + (rng.unit().powf(1.8) * 380.0) as usize;
    let sentences: &[&str] = if out { OUT_SENTENCES } else { IN_SENTENCES };
    let mut s = String::with_capacity(target + 80);
    if out && rng.chance(0.4) {
        s.push_str(GREETINGS[rng.below(GREETINGS.len() as u64) as usize]);
    }
    while s.len() < target {
        if !s.is_empty() {
            s.push(' ');
        }
        let sentence = sentences[rng.below(sentences.len() as u64) as usize];
        match sentence.split_once("#ORDER") {
            Some((a, b)) => {
                s.push_str(a);
                let _ = write!(s, "#{}", rng.range(10_000, 99_999));
                s.push_str(b);
            }
            None => s.push_str(sentence),
        }
    }
    if s.len() > 400 {
        // ASCII only, so byte and char positions agree.
        let cut = s[..397].rfind(' ').unwrap_or(397);
        s.truncate(cut);
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_between_20_and_400_chars() {
        for id in 0..5_000 {
            for out in [false, true] {
                let b = body_text(id, out);
                let n = b.chars().count();
                assert!((20..=400).contains(&n), "{n}: {b}");
                assert_eq!(b, body_text(id, out), "bodies are deterministic");
            }
        }
    }
}
