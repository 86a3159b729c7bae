//! Reading Meta's JSON leniently where Meta is lenient (ids and times come as strings or
//! numbers) and strictly where a wrong type means a broken payload.

use serde_json::Value;

/// A string or a number as text (Graph ids are strings but were numbers in older payloads).
pub fn id(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A non-empty string field of `v`.
pub fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// An integer given as a number or as a string of digits.
pub fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The array under `key`: Ok(empty) when it is absent or null, Err in words when it is
/// something else.
pub fn array<'a>(v: &'a Value, key: &str, whose: &str) -> Result<&'a [Value], String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(format!("{whose}.{key} is not an array")),
    }
}

/// A number as it reads in a note: no trailing `.0`, at most 6 decimals.
pub fn coordinate(v: Option<&Value>) -> Option<String> {
    let f = match v? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    if !f.is_finite() {
        return None;
    }
    let s = format!("{f:.6}");
    Some(s.trim_end_matches('0').trim_end_matches('.').to_string())
}

/// Joins the non-empty parts with a newline.
pub fn lines(parts: impl IntoIterator<Item = String>) -> String {
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// When a payload held nothing to store, one `Ignored` event saying what it held instead
/// (`none` when it held nothing at all), kept on the raw row for the admin.
pub fn ignore_if_empty(
    out: &mut Vec<app::ports::InboundEvent>,
    mut skipped: Vec<String>,
    none: &str,
) {
    if out.is_empty() {
        skipped.dedup();
        let what = if skipped.is_empty() {
            none.to_string()
        } else {
            skipped.join("; ")
        };
        out.push(app::ports::InboundEvent::Ignored(format!(
            "Nothing to store: {what}."
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_reads() {
        assert_eq!(id(Some(&json!("12"))), Some("12".into()));
        assert_eq!(id(Some(&json!(12))), Some("12".into()));
        assert_eq!(id(Some(&json!(""))), None);
        assert_eq!(id(Some(&json!({}))), None);
        assert_eq!(int(Some(&json!("1749416383"))), Some(1_749_416_383));
        assert_eq!(int(Some(&json!(17.0))), Some(17));
        assert_eq!(int(Some(&json!("x"))), None);
        assert_eq!(coordinate(Some(&json!(52.5))), Some("52.5".into()));
        assert_eq!(coordinate(Some(&json!(13))), Some("13".into()));
        assert_eq!(
            coordinate(Some(&json!("-0.1234567"))),
            Some("-0.123457".into())
        );
        assert_eq!(
            array(&json!({"a": 1}), "a", "x"),
            Err("x.a is not an array".into())
        );
        assert_eq!(array(&json!({}), "a", "x").unwrap().len(), 0);
        assert_eq!(lines(["a".into(), " ".into(), "b".into()]), "a\nb");
    }
}
