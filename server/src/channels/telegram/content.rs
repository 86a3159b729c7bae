//! What a Telegram `Message` holds, as our text and our file references: its text or caption,
//! the file of a photo (the largest size Telegram lets a bot download), document, voice note,
//! audio, video, video note, animation or sticker, and short readable text for locations,
//! contacts and the other kinds.

use app::ports::MediaRef;
use serde_json::{Map, Value};

/// The most a bot may download from Telegram (getFile's limit), and our own media limit.
pub const MAX_BOT_DOWNLOAD: u64 = 20 * 1024 * 1024;

/// A message's text and files.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Content {
    pub body: String,
    pub media: Vec<MediaRef>,
}

fn str_of<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    m.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn obj_of<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Map<String, Value>> {
    m.get(key).and_then(Value::as_object)
}

/// A file object (`Document`, `Voice`, …) as a [`MediaRef`]; `None` without a `file_id`.
fn file_ref(file: &Map<String, Value>, default_type: &str) -> Option<MediaRef> {
    let file_id = str_of(file, "file_id")?;
    Some(MediaRef {
        locator: file_id.to_string(),
        content_type: Some(
            str_of(file, "mime_type")
                .unwrap_or(default_type)
                .to_ascii_lowercase(),
        ),
        filename: str_of(file, "file_name").map(str::to_string),
    })
}

/// The size of a photo to take: the largest whose `file_size` a bot may download (sizes
/// without `file_size` are compared by pixels); when every size is over the limit, the
/// smallest, for the fetcher to refuse in words.
pub fn pick_photo(sizes: &[Value]) -> Option<&Map<String, Value>> {
    let sizes: Vec<&Map<String, Value>> = sizes
        .iter()
        .filter_map(Value::as_object)
        .filter(|s| str_of(s, "file_id").is_some())
        .collect();
    let bytes = |s: &Map<String, Value>| s.get("file_size").and_then(Value::as_u64);
    let pixels = |s: &Map<String, Value>| {
        let w = s.get("width").and_then(Value::as_u64).unwrap_or(0);
        let h = s.get("height").and_then(Value::as_u64).unwrap_or(0);
        w.saturating_mul(h)
    };
    let rank = |s: &Map<String, Value>| (bytes(s).unwrap_or(0), pixels(s));
    sizes
        .iter()
        .filter(|s| bytes(s).is_none_or(|b| b <= MAX_BOT_DOWNLOAD))
        .max_by_key(|s| rank(s))
        .or_else(|| sizes.iter().min_by_key(|s| rank(s)))
        .copied()
}

/// The text and files of one message.
pub fn content_of(msg: &Map<String, Value>) -> Content {
    let text = str_of(msg, "text").or_else(|| str_of(msg, "caption"));
    let mut body = text.unwrap_or("").to_string();
    let mut media = Vec::new();
    if let Some(sizes) = msg.get("photo").and_then(Value::as_array) {
        if let Some(p) = pick_photo(sizes).and_then(|p| file_ref(p, "image/jpeg")) {
            media.push(MediaRef {
                content_type: Some("image/jpeg".into()),
                ..p
            });
        }
    }
    // An animation message also carries the same file as `document`: take it once.
    let files: [(&str, &str); 6] = [
        ("animation", "video/mp4"),
        ("video", "video/mp4"),
        ("video_note", "video/mp4"),
        ("voice", "audio/ogg"),
        ("audio", "audio/mpeg"),
        ("document", "application/octet-stream"),
    ];
    for (key, default_type) in files {
        if key == "document" && msg.contains_key("animation") {
            continue;
        }
        if let Some(r) = obj_of(msg, key).and_then(|f| file_ref(f, default_type)) {
            media.push(r);
        }
    }
    if let Some(st) = obj_of(msg, "sticker") {
        let ct = if st.get("is_animated").and_then(Value::as_bool) == Some(true) {
            "application/x-tgsticker"
        } else if st.get("is_video").and_then(Value::as_bool) == Some(true) {
            "video/webm"
        } else {
            "image/webp"
        };
        if let Some(r) = file_ref(st, ct) {
            media.push(MediaRef {
                content_type: Some(ct.into()),
                ..r
            });
        }
        if body.is_empty() {
            body = match str_of(st, "emoji") {
                Some(e) => format!("(sticker {e})"),
                None => "(sticker)".into(),
            };
        }
    }
    if body.is_empty() && media.is_empty() {
        body = described(msg);
    }
    Content { body, media }
}

fn coords(loc: &Map<String, Value>) -> Option<(f64, f64)> {
    Some((
        loc.get("latitude")?.as_f64()?,
        loc.get("longitude")?.as_f64()?,
    ))
}

/// Short readable text for a message without text or files.
fn described(msg: &Map<String, Value>) -> String {
    if let Some(v) = obj_of(msg, "venue") {
        let mut s = format!("Venue: {}", str_of(v, "title").unwrap_or("a place"));
        if let Some(address) = str_of(v, "address") {
            s.push_str(", ");
            s.push_str(address);
        }
        if let Some((la, lo)) = obj_of(v, "location").and_then(coords) {
            s.push_str(&format!(" ({la:.6}, {lo:.6})"));
        }
        return s;
    }
    if let Some(l) = obj_of(msg, "location") {
        return match coords(l) {
            Some((la, lo)) => format!(
                "Location: {la:.6}, {lo:.6} (https://www.openstreetmap.org/?mlat={la}&mlon={lo})"
            ),
            None => "Location (without coordinates)".into(),
        };
    }
    if let Some(c) = obj_of(msg, "contact") {
        let name = [str_of(c, "first_name"), str_of(c, "last_name")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let phone = str_of(c, "phone_number").unwrap_or("no phone number");
        return if name.is_empty() {
            format!("Contact: {phone}")
        } else {
            format!("Contact: {name}, {phone}")
        };
    }
    if let Some(p) = obj_of(msg, "poll") {
        return format!("Poll: {}", str_of(p, "question").unwrap_or("(no question)"));
    }
    if let Some(d) = obj_of(msg, "dice") {
        let emoji = str_of(d, "emoji").unwrap_or("🎲");
        return match d.get("value").and_then(Value::as_i64) {
            Some(n) => format!("Dice: {emoji} {n}"),
            None => format!("Dice: {emoji}"),
        };
    }
    const SKIP: [&str; 6] = [
        "message_id",
        "from",
        "chat",
        "date",
        "edit_date",
        "entities",
    ];
    match msg.keys().find(|k| !SKIP.contains(&k.as_str())) {
        Some(k) => format!("(a Telegram message of a kind not shown here: {k})"),
        None => "(an empty Telegram message)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn content(v: Value) -> Content {
        content_of(v.as_object().unwrap())
    }

    #[test]
    fn text_and_captions_are_the_body() {
        assert_eq!(content(json!({"text": "hi"})).body, "hi");
        let c = content(json!({"caption": "look", "photo": [
            {"file_id": "small", "file_unique_id": "s", "file_size": 1200, "width": 90, "height": 90},
            {"file_id": "big", "file_unique_id": "b", "file_size": 80000, "width": 1280, "height": 960},
            {"file_id": "mid", "file_unique_id": "m", "file_size": 20000, "width": 320, "height": 240}
        ]}));
        assert_eq!(c.body, "look");
        assert_eq!(
            c.media,
            vec![MediaRef {
                locator: "big".into(),
                content_type: Some("image/jpeg".into()),
                filename: None
            }]
        );
    }

    #[test]
    fn the_largest_downloadable_photo_is_taken() {
        let sizes = json!([
            {"file_id": "a", "file_size": 1000},
            {"file_id": "huge", "file_size": 30 * 1024 * 1024},
            {"file_id": "b", "file_size": 5000}
        ]);
        assert_eq!(
            pick_photo(sizes.as_array().unwrap()).unwrap()["file_id"],
            "b"
        );
        let by_pixels = json!([{"file_id": "p1", "width": 10, "height": 10}, {"file_id": "p2", "width": 100, "height": 10}]);
        assert_eq!(
            pick_photo(by_pixels.as_array().unwrap()).unwrap()["file_id"],
            "p2"
        );
        let all_big = json!([{"file_id": "x", "file_size": 30_000_000u64}, {"file_id": "y", "file_size": 40_000_000u64}]);
        assert_eq!(
            pick_photo(all_big.as_array().unwrap()).unwrap()["file_id"],
            "x"
        );
        assert!(pick_photo(json!([1, "x", {"width": 3}]).as_array().unwrap()).is_none());
    }

    #[test]
    fn files_of_every_kind_become_media_refs() {
        let one = |v: Value| {
            let c = content(v);
            assert_eq!(c.media.len(), 1, "{c:?}");
            c.media[0].clone()
        };
        let d = one(
            json!({"document": {"file_id": "D", "file_name": "invoice.pdf", "mime_type": "application/PDF"}}),
        );
        assert_eq!(
            (
                d.locator.as_str(),
                d.content_type.as_deref(),
                d.filename.as_deref()
            ),
            ("D", Some("application/pdf"), Some("invoice.pdf"))
        );
        assert_eq!(
            one(json!({"voice": {"file_id": "V", "duration": 3}}))
                .content_type
                .as_deref(),
            Some("audio/ogg")
        );
        assert_eq!(one(json!({"audio": {"file_id": "A", "mime_type": "audio/mp4", "file_name": "song.m4a"}})).filename.as_deref(), Some("song.m4a"));
        assert_eq!(
            one(json!({"video": {"file_id": "Vi"}}))
                .content_type
                .as_deref(),
            Some("video/mp4")
        );
        assert_eq!(
            one(json!({"video_note": {"file_id": "N", "length": 240}})).locator,
            "N"
        );
        assert_eq!(
            one(json!({"animation": {"file_id": "G", "mime_type": "video/mp4"}, "document": {"file_id": "G", "mime_type": "video/mp4"}})).locator,
            "G"
        );
        let st = content(
            json!({"sticker": {"file_id": "S", "emoji": "😀", "is_animated": false, "is_video": false}}),
        );
        assert_eq!(st.body, "(sticker 😀)");
        assert_eq!(st.media[0].content_type.as_deref(), Some("image/webp"));
        assert_eq!(
            one(json!({"sticker": {"file_id": "S2", "is_animated": true}}))
                .content_type
                .as_deref(),
            Some("application/x-tgsticker")
        );
        assert_eq!(
            one(json!({"sticker": {"file_id": "S3", "is_video": true}}))
                .content_type
                .as_deref(),
            Some("video/webm")
        );
        assert!(content(json!({"document": {"file_name": "no id"}}))
            .media
            .is_empty());
    }

    #[test]
    fn other_kinds_are_short_text() {
        let b = |v: Value| content(v).body;
        let loc = b(json!({"location": {"latitude": 52.52, "longitude": 13.405}}));
        assert!(loc.starts_with("Location: 52.520000, 13.405000"), "{loc}");
        assert_eq!(
            b(
                json!({"contact": {"phone_number": "+4915112345678", "first_name": "Ada", "last_name": "L"}})
            ),
            "Contact: Ada L, +4915112345678"
        );
        assert_eq!(
            b(json!({"contact": {"phone_number": "+1555"}})),
            "Contact: +1555"
        );
        assert_eq!(
            b(
                json!({"venue": {"title": "Cafe", "address": "Main St 1", "location": {"latitude": 1.0, "longitude": 2.0}}})
            ),
            "Venue: Cafe, Main St 1 (1.000000, 2.000000)"
        );
        assert_eq!(b(json!({"poll": {"question": "Tea?"}})), "Poll: Tea?");
        assert_eq!(
            b(json!({"dice": {"emoji": "🎯", "value": 6}})),
            "Dice: 🎯 6"
        );
        assert_eq!(
            b(json!({"message_id": 1, "chat": {}, "date": 1, "pinned_message": {}})),
            "(a Telegram message of a kind not shown here: pinned_message)"
        );
        assert_eq!(b(json!({"message_id": 1})), "(an empty Telegram message)");
    }
}
