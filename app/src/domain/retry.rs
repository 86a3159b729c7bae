//! When a failed delivery is tried again.

/// Exponential backoff with a cap: 2 s, 4 s, 8 s ... up to 10 minutes after attempt `attempt`.
pub fn backoff_ms(attempt: i64) -> i64 {
    let exp = attempt.clamp(1, 20) as u32;
    (1000i64 << exp).min(600_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff_ms(1), 2_000);
        assert_eq!(backoff_ms(2), 4_000);
        assert!(backoff_ms(5) > backoff_ms(4));
        assert_eq!(backoff_ms(60), 600_000);
        assert_eq!(backoff_ms(0), 2_000);
    }
}
