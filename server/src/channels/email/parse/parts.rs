//! MIME parts: types, transfer encodings, decoded bodies, attached messages.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------
// Parts: their type, their decoded bytes.

pub(super) fn mime_type(part: &MessagePart<'_>) -> Option<(String, String)> {
    let ct = part.content_type()?;
    let t = ct.ctype().trim().to_ascii_lowercase();
    let s = ct.subtype()?.trim().to_ascii_lowercase();
    let token = |x: &str| {
        !x.is_empty()
            && x.len() <= 64
            && x.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    (token(&t) && token(&s)).then_some((t, s))
}

pub(super) fn is_type(part: &MessagePart<'_>, t: &str, s: &[&str]) -> bool {
    mime_type(part).is_some_and(|(pt, ps)| pt == t && s.contains(&ps.as_str()))
}

pub(super) fn transfer_encoding(part: &MessagePart<'_>) -> Option<String> {
    part.headers
        .iter()
        .find(|h| h.name == HeaderName::ContentTransferEncoding)
        .map(|h| match &h.value {
            HeaderValue::ContentType(ct) => ct.ctype().trim().to_ascii_lowercase(),
            HeaderValue::Text(t) => t.trim().to_ascii_lowercase(),
            _ => String::new(),
        })
}

/// The part's body as transmitted.
pub(super) fn raw_body<'a>(raw: &'a [u8], part: &MessagePart<'_>) -> &'a [u8] {
    let (s, e) = (part.offset_body as usize, part.offset_end as usize);
    raw.get(s..e.max(s)).unwrap_or_default()
}

/// The part's body with its Content-Transfer-Encoding undone (as the bytes were, when the
/// encoding is broken).
pub(super) fn decoded_body<'a>(raw: &'a [u8], part: &'a MessagePart<'a>) -> Cow<'a, [u8]> {
    let body = raw_body(raw, part);
    let decoded = match transfer_encoding(part).as_deref() {
        Some("base64") => MessageStream::new(body).decode_base64_mime(b""),
        Some("quoted-printable") => MessageStream::new(body).decode_quoted_printable_mime(b""),
        _ => {
            return match &part.body {
                PartType::Binary(b) | PartType::InlineBinary(b) => Cow::Borrowed(b.as_ref()),
                PartType::Text(t) | PartType::Html(t) => Cow::Borrowed(t.as_bytes()),
                _ => Cow::Borrowed(body),
            }
        }
    };
    match decoded {
        (usize::MAX, _) => Cow::Borrowed(body),
        (_, bytes) => Cow::Owned(bytes.into_owned()),
    }
}

/// A text part's content as Unicode.
pub(super) fn part_text<'a>(raw: &'a [u8], part: &'a MessagePart<'a>) -> Cow<'a, str> {
    if !matches!(
        transfer_encoding(part).as_deref(),
        Some("base64") | Some("quoted-printable")
    ) {
        if let PartType::Text(t) | PartType::Html(t) = &part.body {
            return Cow::Borrowed(t.as_ref());
        }
    }
    let bytes = decoded_body(raw, part);
    let decoder = part
        .content_type()
        .and_then(|ct| ct.attribute("charset"))
        .and_then(|c| charset_decoder(c.trim().as_bytes()));
    match decoder {
        Some(d) => Cow::Owned(d(&bytes)),
        None => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

/// The Message-ID in a block of headers (an attached message or `text/rfc822-headers`).
pub(super) fn message_id_in(bytes: &[u8]) -> Option<String> {
    MessageParser::default()
        .parse_headers(bytes)
        .and_then(|m| clean_id(m.message_id()?))
}

/// The bytes of an attached message part, decoded, and whether mail-parser's view of the parts
/// after it is unreliable.
///
/// mail-parser (as configured here, decoding nothing) reads an encoded `message/rfc822` part
/// as a message whose header block is the encoded text; when no blank line follows that text,
/// the header block runs over the next boundary and the part after it. The encoded text itself
/// ends at the parent's boundary, found here with mail-parser's decoder, as its normal parse
/// does.
pub(super) fn message_bytes(
    raw: &[u8],
    part: &MessagePart<'_>,
    boundary: Option<&str>,
) -> (Vec<u8>, bool) {
    let cte = transfer_encoding(part);
    if !matches!(cte.as_deref(), Some("base64") | Some("quoted-printable")) {
        return (raw_body(raw, part).to_vec(), false);
    }
    let start = part.offset_body as usize;
    let Some(from_body) = raw.get(start..) else {
        return (Vec::new(), false);
    };
    let boundary = boundary.unwrap_or("").as_bytes();
    let mut stream = MessageStream::new(from_body);
    let (end, bytes) = if cte.as_deref() == Some("base64") {
        stream.decode_base64_mime(boundary)
    } else {
        stream.decode_quoted_printable_mime(boundary)
    };
    if end == usize::MAX {
        return (decoded_body(raw, part).into_owned(), false);
    }
    // What mail-parser took for this part beyond the encoded text: more than the closing
    // delimiter means it swallowed something.
    let seen_end = (part.offset_end as usize).max(start);
    let extra = seen_end.saturating_sub(start + end);
    (bytes.into_owned(), extra > boundary.len() + 8)
}
