//! The providers' wire formats that both sides of a webhook need: the server's channel adapters
//! (which verify what providers send) and the provider stand-in (which signs what it sends the
//! way the provider does). Pure functions over bytes and strings; no I/O.
//!
//! - [`twilio`] holds form bodies, `X-Twilio-Signature` and message SIDs;
//! - [`meta`] holds `X-Hub-Signature-256`;
//! - [`constant_time_eq`] compares secrets and signatures.

pub mod meta;
pub mod twilio;

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
