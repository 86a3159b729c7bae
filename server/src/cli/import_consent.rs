//! `server import-consent --file F.csv`: consent given or refused elsewhere (a shop's
//! newsletter list, another helpdesk), recorded with source `import`.
//!
//! One row per change: `kind,value,purpose,granted[,detail[,time]]`, e.g.
//! `phone,(415) 555-0101,marketing,yes,signed up at the counter,2026-03-01`. A first row
//! starting with `kind` is a header. Identifiers are normalised as everywhere else (phones to
//! E.164 with `--region` for national forms). Each line is checked and recorded on its own;
//! errors are reported per line in words. Importing the same file again records nothing new.
//! A line with a time older than the change that holds now is not applied (reported).

use app::domain::consent::Purpose;
use app::domain::IdentifierKind;
use app::service::consent::{self, Imported};
use app::store::{now_ms, Db, StoreError};

/// Longest detail kept from a line, in characters.
const MAX_DETAIL: usize = 500;

/// One line, checked and normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub kind: IdentifierKind,
    pub value: String,
    pub purpose: Purpose,
    pub granted: bool,
    pub detail: Option<String>,
    /// When it was given or refused (unix ms, UTC); None: now.
    pub at: Option<i64>,
}

/// What the import did, line by line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub recorded: usize,
    /// Lines already imported earlier (or twice in the file).
    pub unchanged: usize,
    /// Lines not applied because a later change holds, with its words.
    pub skipped: Vec<(usize, String)>,
    /// Lines refused, with the reason.
    pub errors: Vec<(usize, String)>,
}

impl Report {
    /// The report for people: a line per problem, then the totals.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for (n, e) in &self.errors {
            out.push_str(&format!("line {n}: {e}\n"));
        }
        for (n, s) in &self.skipped {
            out.push_str(&format!(
                "line {n}: not applied, a later change holds: {s}\n"
            ));
        }
        out.push_str(&format!(
            "{} recorded, {} already imported, {} not applied, {} with errors\n",
            self.recorded,
            self.unchanged,
            self.skipped.len(),
            self.errors.len()
        ));
        out
    }
}

/// A CSV record: the line it starts on and its fields.
pub type Record = (usize, Vec<String>);

/// Splits CSV text (RFC 4180: commas, double quotes, `""` inside quotes, CRLF or LF) into
/// records, each with the line number it starts on. Blank lines are skipped. `Err` names the
/// line and what is wrong.
pub fn records(text: &str) -> Result<Vec<Record>, (usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    let mut line = 1;
    let mut start = 1;
    let mut chars = text.chars().peekable();
    let end_record =
        |fields: &mut Vec<String>, field: &mut String, out: &mut Vec<Record>, start: usize| {
            fields.push(std::mem::take(field));
            let f = std::mem::take(fields);
            if !(f.len() == 1 && f[0].trim().is_empty()) {
                out.push((start, f));
            }
        };
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() && !was_quoted => {
                field.clear();
                quoted = true;
                was_quoted = true;
            }
            '"' => return Err((line, "a double quote inside an unquoted field".into())),
            ',' => {
                fields.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                end_record(&mut fields, &mut field, &mut out, start);
                was_quoted = false;
                line += 1;
                start = line;
            }
            c if was_quoted && c.is_whitespace() => {}
            _ if was_quoted => return Err((line, "text after a closing double quote".into())),
            c => field.push(c),
        }
    }
    if quoted {
        return Err((start, "a quoted field is never closed".into()));
    }
    end_record(&mut fields, &mut field, &mut out, start);
    Ok(out)
}

fn parse_kind(s: &str) -> Result<IdentifierKind, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "sms" | "mobile" => Ok(IdentifierKind::Phone),
        k => IdentifierKind::parse(k).map_err(|_| {
            format!(
                "{s:?} is not an identifier kind: use email, phone, whatsapp, messenger, instagram or telegram"
            )
        }),
    }
}

fn parse_granted(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "1" => Ok(true),
        "no" | "n" | "false" | "0" => Ok(false),
        _ => Err(format!("{s:?} is not yes or no (granted)")),
    }
}

/// `YYYY-MM-DD`, or with a time `YYYY-MM-DD HH:MM[:SS]` / `YYYY-MM-DDTHH:MM[:SS][Z]`, UTC.
pub fn parse_time(s: &str) -> Result<i64, String> {
    let bad = || {
        format!("{s:?} is not a time: write YYYY-MM-DD or YYYY-MM-DD HH:MM (UTC), e.g. 2026-03-01 14:30")
    };
    let t = s.trim().trim_end_matches(['Z', 'z']);
    let (date, clock) = match t.split_once(['T', 't', ' ']) {
        Some((d, c)) => (d, Some(c)),
        None => (t, None),
    };
    let num = |x: &str, len: usize| -> Result<u32, String> {
        if x.len() == len && x.bytes().all(|b| b.is_ascii_digit()) {
            x.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let mut d = date.split('-');
    let (Some(y), Some(m), Some(day), None) = (d.next(), d.next(), d.next(), d.next()) else {
        return Err(bad());
    };
    let month = time::Month::try_from(num(m, 2)? as u8).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(num(y, 4)? as i32, month, num(day, 2)? as u8)
        .map_err(|_| bad())?;
    let (h, mi, se) = match clock {
        None => (0, 0, 0),
        Some(c) => {
            let mut p = c.split(':');
            match (p.next(), p.next(), p.next(), p.next()) {
                (Some(h), Some(mi), None, None) => (num(h, 2)?, num(mi, 2)?, 0),
                (Some(h), Some(mi), Some(se), None) => (num(h, 2)?, num(mi, 2)?, num(se, 2)?),
                _ => return Err(bad()),
            }
        }
    };
    let clock = time::Time::from_hms(h as u8, mi as u8, se as u8).map_err(|_| bad())?;
    let at = time::PrimitiveDateTime::new(date, clock).assume_utc();
    Ok(at.unix_timestamp() * 1000)
}

/// Checks and normalises one record. `now` bounds the time (no changes from the future).
pub fn parse_line(fields: &[String], region: &str, now: i64) -> Result<Line, String> {
    if !(4..=6).contains(&fields.len()) {
        return Err(format!(
            "{} columns; expected kind, value, purpose, granted, and optionally detail and time",
            fields.len()
        ));
    }
    let kind = parse_kind(&fields[0])?;
    let raw = fields[1].trim();
    let value = match kind {
        IdentifierKind::Phone | IdentifierKind::Whatsapp => {
            app::domain::phone::to_e164(raw, region)?
        }
        k => k.normalize(raw).map_err(|e| {
            let e = e.to_string();
            let mut c = e.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })?,
    };
    let purpose = Purpose::parse(&fields[2].trim().to_ascii_lowercase())
        .ok_or_else(|| format!("{:?} is not a purpose: use support or marketing", fields[2]))?;
    let granted = parse_granted(&fields[3])?;
    let detail = fields
        .get(4)
        .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|d| !d.is_empty());
    if detail
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DETAIL || d.chars().any(char::is_control))
    {
        return Err(format!(
            "the detail is longer than {MAX_DETAIL} characters or holds control characters"
        ));
    }
    let at = match fields.get(5).map(|t| t.trim()).filter(|t| !t.is_empty()) {
        Some(t) => {
            let at = parse_time(t)?;
            if at > now + 60_000 {
                return Err(format!("{t:?} is in the future"));
            }
            Some(at)
        }
        None => None,
    };
    Ok(Line {
        kind,
        value,
        purpose,
        granted,
        detail,
        at,
    })
}

fn is_header(fields: &[String]) -> bool {
    fields
        .first()
        .map(|f| f.trim().to_ascii_lowercase())
        .is_some_and(|f| f == "kind" || f == "identifier kind" || f == "identifier_kind")
}

/// Imports CSV `text`, reading national phone numbers as numbers of `region`. Storage
/// failures stop the import (lines before it are kept); bad lines are reported and skipped.
pub async fn import(db: &Db, text: &str, region: &str) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let recs = match records(text) {
        Ok(r) => r,
        Err((n, e)) => {
            report
                .errors
                .push((n, format!("{e}; nothing was imported")));
            return Ok(report);
        }
    };
    let now = now_ms();
    for (i, (n, fields)) in recs.into_iter().enumerate() {
        if i == 0 && is_header(&fields) {
            continue;
        }
        let line = match parse_line(&fields, region, now) {
            Ok(l) => l,
            Err(e) => {
                report.errors.push((n, e));
                continue;
            }
        };
        match consent::import(
            db,
            line.kind,
            &line.value,
            line.purpose,
            line.granted,
            line.detail.as_deref(),
            line.at,
        )
        .await?
        {
            Imported::Recorded => report.recorded += 1,
            Imported::AlreadyImported => report.unchanged += 1,
            Imported::NewerHolds(words) => report.skipped.push((n, words)),
            Imported::UnknownIdentifier => report.errors.push((
                n,
                format!(
                    "no customer has the {} {}; consent is imported for known identifiers only",
                    line.kind.label().to_lowercase(),
                    line.value
                ),
            )),
        }
    }
    Ok(report)
}

#[derive(clap::Args, Clone, Debug)]
pub struct ImportConsentArgs {
    #[arg(long)]
    pub file: std::path::PathBuf,
    /// Region for phone numbers written in national form (ISO 3166 code, e.g. US, GB).
    #[arg(long, default_value = "US")]
    pub region: String,
}

/// Reads the file (UTF-8 CSV), imports it and prints the report; fails when a line could not
/// be imported (the others are).
pub async fn run(cli: &super::Cli, args: ImportConsentArgs) -> super::CommandResult {
    let (file, region) = (args.file, args.region);
    if !app::domain::phone::is_region(&region) {
        return Err(format!(
            "--region {region:?} is not a region: use a two-letter code such as US or GB"
        )
        .into());
    }
    let bytes = std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("{} is not UTF-8 text: save it as UTF-8 CSV", file.display()))?;
    let db = crate::startup::open_db(&cli.database_url).await?;
    let report = import(&db, &text, &region).await?;
    db.close().await;
    print!("{}", report.text());
    if report.errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} line{} could not be imported (listed above); the others were",
            report.errors.len(),
            if report.errors.len() == 1 { "" } else { "s" }
        )
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn f(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn csv_records_with_quotes_and_line_numbers() {
        let text = "\u{feff}kind,value,purpose,granted\r\n\nemail,\"Ann@Example.com\",marketing,yes,\"said \"\"yes\"\", twice\"\nphone,\"+1 415\n555 0101\",support,no\n";
        let r = records(text).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0], (1, f(&["kind", "value", "purpose", "granted"])));
        assert_eq!(r[1].0, 3);
        assert_eq!(r[1].1[4], "said \"yes\", twice");
        assert_eq!(r[2].0, 4);
        assert_eq!(r[2].1[1], "+1 415\n555 0101");
        assert!(records("a,\"b\nc").is_err());
        assert!(records("a,b\"c\n").is_err());
        assert!(records("a,\"b\"c\n").is_err());
        assert_eq!(records("").unwrap(), vec![]);
    }

    #[test]
    fn lines_are_checked_and_normalised() {
        let now = parse_time("2026-06-01").unwrap();
        let l = parse_line(
            &f(&[
                "Phone",
                "(415) 555-0101",
                "Marketing",
                "YES",
                "  at the  counter ",
                "2026-03-01 14:30",
            ]),
            "US",
            now,
        )
        .unwrap();
        assert_eq!(l.value, "+14155550101");
        assert_eq!(l.purpose, Purpose::Marketing);
        assert!(l.granted);
        assert_eq!(l.detail.as_deref(), Some("at the counter"));
        assert_eq!(l.at, Some(parse_time("2026-03-01T14:30:00Z").unwrap()));
        let l = parse_line(
            &f(&["email", " Ann@Example.COM ", "support", "no"]),
            "US",
            now,
        )
        .unwrap();
        assert_eq!(l.value, "ann@example.com");
        assert_eq!((l.detail, l.at), (None, None));
        let gb = parse_line(&f(&["sms", "020 7946 0958", "marketing", "n"]), "GB", now).unwrap();
        assert_eq!(gb.value, "+442079460958");
        for (bad, words) in [
            (
                f(&["fax", "1", "marketing", "yes"]),
                "not an identifier kind",
            ),
            (
                f(&["email", "nope", "marketing", "yes"]),
                "not an email address",
            ),
            (f(&["phone", "12", "marketing", "yes"]), "phone"),
            (
                f(&["email", "a@b.co", "newsletter", "yes"]),
                "not a purpose",
            ),
            (
                f(&["email", "a@b.co", "marketing", "maybe"]),
                "not yes or no",
            ),
            (f(&["email", "a@b.co", "marketing"]), "3 columns"),
            (
                f(&["email", "a@b.co", "marketing", "yes", "", "2026-02-30"]),
                "not a time",
            ),
            (
                f(&["email", "a@b.co", "marketing", "yes", "", "2027-01-01"]),
                "in the future",
            ),
        ] {
            let e = parse_line(&bad, "US", now).unwrap_err();
            assert!(e.contains(words), "{bad:?}: {e}");
        }
    }

    #[test]
    fn times_are_utc() {
        assert_eq!(parse_time("1970-01-01").unwrap(), 0);
        assert_eq!(parse_time("1970-01-02 00:00:01").unwrap(), 86_401_000);
        assert_eq!(
            parse_time("2026-03-01T14:30Z").unwrap(),
            parse_time("2026-03-01 14:30:00").unwrap()
        );
        for bad in [
            "2026-3-1",
            "2026-13-01",
            "yesterday",
            "2026-03-01 25:00",
            "2026-03-01T14",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_report_names_each_line() {
        let r = Report {
            recorded: 2,
            unchanged: 1,
            skipped: vec![(4, "opted out on 2026-05-01 10:00 UTC (texted STOP)".into())],
            errors: vec![(3, "\"maybe\" is not yes or no (granted)".into())],
        };
        let t = r.text();
        assert!(t.contains("line 3: \"maybe\" is not yes or no"), "{t}");
        assert!(
            t.contains("line 4: not applied, a later change holds: opted out"),
            "{t}"
        );
        assert!(
            t.ends_with("2 recorded, 1 already imported, 1 not applied, 1 with errors\n"),
            "{t}"
        );
    }

    proptest! {
        #[test]
        fn any_text_parses_or_fails_in_words(s in "\\PC{0,300}") {
            match records(&s) {
                Ok(r) => {
                    for (_, fields) in r {
                        let _ = parse_line(&fields, "US", 0);
                    }
                }
                Err((n, e)) => prop_assert!(n >= 1 && !e.is_empty()),
            }
        }

        #[test]
        fn quoted_fields_round_trip(a in "[^\\r]{0,40}", b in "[a-z]{0,10}") {
            let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
            let r = records(&format!("{},{}\n", q(&a), b)).unwrap();
            if a.trim().is_empty() && b.is_empty() {
                // A record of blank fields still has two fields, so it is kept.
                prop_assert_eq!(r.len(), 1);
            }
            prop_assert_eq!(&r[0].1, &vec![a.clone(), b.clone()]);
        }
    }
}
