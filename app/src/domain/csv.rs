//! CSV for the exports (reports, episodes, the audit trail): one writer, so every file quotes
//! and defuses formulas alike.

/// One CSV line; fields quoted when needed, and a leading `=`, `+`, `-` or `@` defused so a
/// spreadsheet does not run a customer's name as a formula. Lines end in CRLF (RFC 4180).
pub fn push_row<'a>(out: &mut String, fields: impl Iterator<Item = &'a str>) {
    for (i, f) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        let risky = f.starts_with(['=', '+', '@', '\t', '\r'])
            || (f.starts_with('-') && f.parse::<f64>().is_err());
        let f = if risky {
            format!("'{f}")
        } else {
            f.to_string()
        };
        if f.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&f);
        }
    }
    out.push_str("\r\n");
}
