//! Small text helpers shared by server and browser (so SSR and hydration render the same).

/// A one-line preview of at most `max` characters, whitespace collapsed.
pub fn preview(body: &str, max: usize) -> String {
    let mut out = String::with_capacity(max.min(body.len()) + 3);
    let mut n = 0;
    let mut pending_space = false;
    for c in body.chars() {
        if c.is_whitespace() || c.is_control() {
            pending_space = n > 0;
            continue;
        }
        if pending_space {
            if n + 1 >= max {
                out.push('…');
                return out;
            }
            out.push(' ');
            n += 1;
            pending_space = false;
        }
        if n >= max {
            out.push('…');
            return out;
        }
        out.push(c);
        n += 1;
    }
    out
}

/// Formats unix milliseconds as `YYYY-MM-DD HH:MM` UTC. Pure arithmetic, so the server and
/// the browser print the same text and hydration matches.
pub fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `1.2 MB`, `340 KB`, `12 bytes`.
pub fn file_size(bytes: i64) -> String {
    // Integer arithmetic: formatting a float would add float printing to the browser bundle.
    let b = bytes.max(0);
    if b >= 1_000_000 {
        let tenths = (b + 50_000) / 100_000;
        format!("{}.{} MB", tenths / 10, tenths % 10)
    } else if b >= 1_000 {
        format!("{} KB", (b + 500) / 1_000)
    } else {
        format!("{b} bytes")
    }
}

/// The start of a raw payload as text for a person to look at: at most `max_chars`
/// characters, invalid UTF-8 and control characters (but line breaks) shown as U+FFFD.
pub fn payload_preview(payload: &[u8], max_chars: usize) -> String {
    String::from_utf8_lossy(&payload[..payload.len().min(max_chars * 4)])
        .chars()
        .take(max_chars)
        .map(|c| {
            if c.is_control() && c != '\n' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

/// `s` for a URL's query string (`application/x-www-form-urlencoded`: space as `+`).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Escapes text for HTML element content and attribute values.
/// Whether two secrets (codes, hashes of codes) are equal, compared in constant time.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_collapses_and_truncates() {
        assert_eq!(preview("  hello \n\n world  ", 50), "hello world");
        assert_eq!(preview("abcdef", 3), "abc…");
        assert_eq!(preview("", 10), "");
        assert_eq!(preview("ééééé", 5), "ééééé");
        assert!(preview(&"x".repeat(500), 80).chars().count() <= 81);
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_time(0), "1970-01-01 00:00");
        assert_eq!(format_time(951_782_400_000), "2000-02-29 00:00");
        assert_eq!(format_time(1_795_335_840_000), "2026-11-22 08:24");
        assert_eq!(format_time(-60_000), "1969-12-31 23:59");
    }

    #[test]
    fn file_sizes() {
        assert_eq!(super::file_size(12), "12 bytes");
        assert_eq!(super::file_size(340_400), "340 KB");
        assert_eq!(super::file_size(1_234_567), "1.2 MB");
        assert_eq!(super::file_size(999), "999 bytes");
        assert_eq!(super::file_size(999_499), "999 KB");
        assert_eq!(super::file_size(1_000_000), "1.0 MB");
        assert_eq!(super::file_size(1_960_000), "2.0 MB");
        assert_eq!(super::file_size(-5), "0 bytes");
    }

    #[test]
    fn payload_previews_are_bounded_and_printable() {
        assert_eq!(payload_preview(b"a\x07b\nc", 10), "a\u{fffd}b\nc");
        assert_eq!(payload_preview(&[0xff, b'x'], 10), "\u{fffd}x");
        assert_eq!(payload_preview("ééé".as_bytes(), 2), "éé");
        assert_eq!(payload_preview(&vec![b'x'; 5000], 300).len(), 300);
    }
}
