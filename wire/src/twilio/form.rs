//! `application/x-www-form-urlencoded` bodies, as Twilio posts them and as its API takes them.
//!
//! Decoding is strict about UTF-8 (a payload that is not text is refused, not patched with
//! replacement characters), and keeps every pair in order, repeats included: the signature
//! covers them all.

/// Decodes a form body into its (name, value) pairs, in order.
pub fn decode(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, part) in body.split(|b| *b == b'&').enumerate() {
        if part.is_empty() {
            continue;
        }
        let (name, value) = match part.iter().position(|b| *b == b'=') {
            Some(eq) => (&part[..eq], &part[eq + 1..]),
            None => (part, &[][..]),
        };
        let name = unescape(name).map_err(|e| format!("field {} has a name that {e}", i + 1))?;
        let value = unescape(value).map_err(|e| format!("field {name:?} has a value that {e}"))?;
        out.push((name, value));
    }
    Ok(out)
}

/// `+` is a space, `%XX` a byte; a `%` not followed by two hex digits stays as it is (as
/// browsers and Twilio's own parsers read it). The bytes must be UTF-8.
fn unescape(s: &[u8]) -> Result<String, String> {
    let mut bytes = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => bytes.push(b' '),
            b'%' => match (s.get(i + 1).and_then(hex), s.get(i + 2).and_then(hex)) {
                (Some(h), Some(l)) => {
                    bytes.push(h << 4 | l);
                    i += 2;
                }
                _ => bytes.push(b'%'),
            },
            b => bytes.push(b),
        }
        i += 1;
    }
    String::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_string())
}

fn hex(b: &u8) -> Option<u8> {
    (*b as char).to_digit(16).map(|d| d as u8)
}

/// Encodes pairs as a form body (the reverse of [`decode`]).
pub fn encode<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        escape_into(&mut out, name);
        out.push('=');
        escape_into(&mut out, value);
    }
    out
}

fn escape_into(out: &mut String, s: &str) {
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
}

/// The first value of `name`, if the form has it.
pub fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_twilio_bodies() {
        let f =
            decode(b"Body=Hello+there%21+%F0%9F%98%80&From=%2B15005550006&NumMedia=0&Empty=&Flag")
                .unwrap();
        assert_eq!(get(&f, "Body"), Some("Hello there! 😀"));
        assert_eq!(get(&f, "From"), Some("+15005550006"));
        assert_eq!(get(&f, "Empty"), Some(""));
        assert_eq!(get(&f, "Flag"), Some(""));
        assert_eq!(get(&f, "Missing"), None);
    }

    #[test]
    fn keeps_repeats_in_order_and_odd_percents() {
        let f = decode(b"A=2&A=1&&B=100%&C=%zz").unwrap();
        assert_eq!(
            f,
            vec![
                ("A".into(), "2".into()),
                ("A".into(), "1".into()),
                ("B".into(), "100%".into()),
                ("C".into(), "%zz".into())
            ]
        );
    }

    #[test]
    fn refuses_bytes_that_are_not_text() {
        assert!(decode(b"Body=%FF%FE").unwrap_err().contains("not UTF-8"));
        assert!(decode(b"\xff\xfe=1").is_err());
    }

    proptest! {
        #[test]
        fn encode_then_decode_round_trips(pairs in proptest::collection::vec((".{0,12}", ".{0,24}"), 0..8)) {
            let body = encode(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            prop_assert_eq!(decode(body.as_bytes()).unwrap(), pairs);
        }

        #[test]
        fn decoding_never_panics(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&body);
        }
    }
}
