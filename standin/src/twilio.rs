//! Twilio's REST API as the stand-in plays it (see the module above): sending a message
//! (`POST /2010-04-01/Accounts/{sid}/Messages.json`, answered with Twilio's Message resource and
//! followed by signed status callbacks), reading the Account resource, and serving MMS media.
//! HTTP Basic `AccountSid:AuthToken` is required everywhere, as Twilio does. The control
//! endpoints under `/_standin/twilio/` are in `control`.

mod control;
mod segments;

use crate::{now_secs, StandIn};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};
use wire::twilio::form;

const PROVIDER: &str = "twilio";
pub const API_VERSION: &str = "2010-04-01";

pub fn routes() -> Router<StandIn> {
    Router::new()
        // `{sid}` is `AC….json`: the router takes no suffix after a parameter.
        .route("/2010-04-01/Accounts/{sid}", get(account))
        .route(
            "/2010-04-01/Accounts/{sid}/Messages.json",
            post(create_message).get(list_messages),
        )
        .route(
            "/2010-04-01/Accounts/{sid}/Messages/{message}/Media/{media}",
            get(media),
        )
        .merge(control::routes())
}

/// Twilio's error document.
pub fn error(status: StatusCode, code: u32, message: &str) -> Response {
    let body = json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status.as_u16(),
    });
    let mut r = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            "Basic realm=\"Twilio API\"".parse().expect("valid header"),
        );
    }
    r
}

/// The (user, password) of an HTTP Basic `Authorization` header.
fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = v.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let (user, pass) = String::from_utf8(decoded)
        .ok()?
        .split_once(':')
        .map(|(u, p)| (u.to_string(), p.to_string()))?;
    Some((user, pass))
}

/// A refused authentication: Twilio's 401.
struct Denied;

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        error(StatusCode::UNAUTHORIZED, 20003, "Authenticate")
    }
}

/// Checks Basic auth the way Twilio does: the user is the account SID of the path and a
/// password is given (and equals the one registered with `/_standin/twilio/account`, if any).
/// Returns the auth token used, which signs the status callbacks.
fn authenticate(s: &StandIn, headers: &HeaderMap, sid: &str) -> Result<String, Denied> {
    let (user, pass) = basic_auth(headers).ok_or(Denied)?;
    if user != sid || pass.is_empty() {
        return Err(Denied);
    }
    let registered = s
        .config(&format!("twilio:account:{sid}"))
        .and_then(|a| {
            a.get("auth_token")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .filter(|t| !t.is_empty());
    match registered {
        Some(expected) if expected != pass => Err(Denied),
        _ => Ok(pass),
    }
}

/// A fresh SID: two letters and 32 hexadecimal digits.
pub fn new_sid(prefix: &str) -> String {
    format!("{prefix}{:032x}", rand::random::<u128>())
}

/// Whether `n` is an E.164 number: `+`, a non-zero digit, at most 15 digits in all.
pub fn is_e164(n: &str) -> bool {
    let Some(digits) = n.strip_prefix('+') else {
        return false;
    };
    (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// (year, month, day, hour, minute, second, weekday with Thursday 0) of a unix time, UTC.
fn civil(unix_secs: i64) -> (i64, i64, i64, i64, i64, i64, usize) {
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = days.rem_euclid(7) as usize;
    (
        year,
        month,
        day,
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        weekday,
    )
}

/// A unix time as RFC 2822 in GMT, as Twilio writes `date_created`.
pub fn rfc2822(unix_secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, mo, d, h, mi, s, wd) = civil(unix_secs);
    format!(
        "{}, {d:02} {} {y} {h:02}:{mi:02}:{s:02} +0000",
        DAYS[wd],
        MONTHS[(mo - 1) as usize]
    )
}

/// `YYMMDDhhmm`, as carriers write `RawDlrDoneDate`.
pub fn dlr_date(unix_secs: i64) -> String {
    let (y, mo, d, h, mi, _, _) = civil(unix_secs);
    format!("{:02}{mo:02}{d:02}{h:02}{mi:02}", y % 100)
}

async fn account(
    State(s): State<StandIn>,
    Path(file): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    s.record(PROVIDER, &method, &uri, &headers, b"");
    let Some(sid) = file.strip_suffix(".json") else {
        return error(
            StatusCode::NOT_FOUND,
            20404,
            &format!("The requested resource {} was not found", uri.path()),
        );
    };
    if let Err(d) = authenticate(&s, &headers, sid) {
        return d.into_response();
    }
    let registered = s
        .config(&format!("twilio:account:{sid}"))
        .unwrap_or(Value::Null);
    let name = registered
        .get("friendly_name")
        .and_then(Value::as_str)
        .unwrap_or("My first Twilio account");
    let status = registered
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("active");
    let date = rfc2822(now_secs());
    Json(json!({
        "date_created": date,
        "date_updated": date,
        "friendly_name": name,
        "owner_account_sid": sid,
        "sid": sid,
        "status": status,
        "subresource_uris": {
            "messages": format!("/2010-04-01/Accounts/{sid}/Messages.json"),
        },
        "type": "Full",
        "uri": format!("/2010-04-01/Accounts/{sid}.json"),
    }))
    .into_response()
}

async fn create_message(
    State(s): State<StandIn>,
    Path(sid): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    s.record(PROVIDER, &method, &uri, &headers, &body);
    let token = match authenticate(&s, &headers, &sid) {
        Ok(t) => t,
        Err(d) => return d.into_response(),
    };
    let fault = s.take_fault(PROVIDER, &body);
    let ok = {
        let s = s.clone();
        move || create(&s, &sid, &token, &body)
    };
    // In a task of its own: Twilio goes on with a request whose client went away (a held
    // request still creates its message after the client's timeout or death).
    let work = tokio::spawn(async move {
        match fault {
            Some(f) => StandIn::apply_fault(&f, ok).await,
            None => ok(),
        }
    });
    work.await.unwrap_or_else(|_| {
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            20500,
            "Internal Server Error",
        )
    })
}

/// `GET .../Messages.json`: the account's messages, newest first, filtered as Twilio does by
/// `To`, `From` and `DateSent` (`DateSent=`, `DateSent<=`, `DateSent>=` with a `YYYY-MM-DD`
/// date, on the day the message was sent), one page of `PageSize` (50 by default, at most 1000).
async fn list_messages(
    State(s): State<StandIn>,
    Path(sid): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    s.record(PROVIDER, &method, &uri, &headers, b"");
    if let Err(d) = authenticate(&s, &headers, &sid) {
        return d.into_response();
    }
    if let Some(f) = s.take_fault(PROVIDER, b"") {
        return StandIn::apply_fault(&f, || {
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                20500,
                "Internal Server Error",
            )
        })
        .await;
    }
    let params = form::decode(uri.query().unwrap_or("").as_bytes()).unwrap_or_default();
    let get = |k: &str| form::get(&params, k).map(str::to_string);
    let page_size = get("PageSize")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(50)
        .clamp(1, 1000);
    let day_of = |m: &Value| {
        m.get("date_sent")
            .and_then(Value::as_str)
            .and_then(|d| d.get(5..16))
            .map(str::to_string)
    };
    let wanted_day = |key: &str| get(key).and_then(|d| date_words(&d));
    let (on, until, from_day) = (
        wanted_day("DateSent"),
        wanted_day("DateSent<"),
        wanted_day("DateSent>"),
    );
    let all = s
        .config(&format!("twilio:messages:{sid}"))
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    let messages: Vec<Value> = all
        .into_iter()
        .rev()
        .filter(|m| get("To").is_none_or(|t| m["to"] == json!(t)))
        .filter(|m| get("From").is_none_or(|f| m["from"] == json!(f)))
        .filter(|m| {
            let Some(day) = day_of(m).and_then(|d| date_key(&d)) else {
                return on.is_none() && until.is_none() && from_day.is_none();
            };
            on.as_ref().is_none_or(|d| date_key(d) == Some(day))
                && until
                    .as_ref()
                    .is_none_or(|d| date_key(d).is_some_and(|u| day <= u))
                && from_day
                    .as_ref()
                    .is_none_or(|d| date_key(d).is_some_and(|f| day >= f))
        })
        .take(page_size)
        .collect();
    let path = format!("/2010-04-01/Accounts/{sid}/Messages.json");
    Json(json!({
        "end": messages.len().saturating_sub(1),
        "first_page_uri": format!("{path}?PageSize={page_size}&Page=0"),
        "next_page_uri": null,
        "page": 0,
        "page_size": page_size,
        "previous_page_uri": null,
        "start": 0,
        "uri": format!("{path}?PageSize={page_size}&Page=0"),
        "messages": messages,
    }))
    .into_response()
}

/// `2023-08-24` as the `24 Aug 2023` of an RFC 2822 date.
fn date_words(iso: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut it = iso.trim().split('-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    let m: usize = m.parse().ok()?;
    let d: u32 = d.parse().ok()?;
    Some(format!("{d:02} {} {y}", MONTHS.get(m.checked_sub(1)?)?))
}

/// `24 Aug 2023` as a sortable (year, month, day).
fn date_key(words: &str) -> Option<(i64, usize, i64)> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut it = words.split_whitespace();
    let d = it.next()?.parse().ok()?;
    let month = it.next()?;
    let m = MONTHS.iter().position(|x| *x == month)? + 1;
    let y = it.next()?.parse().ok()?;
    Some((y, m, d))
}

/// Keeps a created message for the list, with the date Twilio sends it (at once, here).
fn remember(s: &StandIn, account_sid: &str, resource: &Value) {
    let mut m = resource.clone();
    m["date_sent"] = m["date_created"].clone();
    m["status"] = json!("sent");
    s.push_config(&format!("twilio:messages:{account_sid}"), m);
}

/// Validates a send like Twilio does, creates the message and schedules its status callbacks.
fn create(s: &StandIn, account_sid: &str, token: &str, body: &[u8]) -> Response {
    let bad = |code, message: &str| error(StatusCode::BAD_REQUEST, code, message);
    let Ok(params) = form::decode(body) else {
        return bad(20001, "The request body could not be read as a form.");
    };
    let get = |name| form::get(&params, name).unwrap_or("").trim().to_string();
    let (to, from, service, text) = (
        get("To"),
        get("From"),
        get("MessagingServiceSid"),
        form::get(&params, "Body").unwrap_or("").to_string(),
    );
    let media = params.iter().filter(|(k, _)| k == "MediaUrl").count();
    if to.is_empty() {
        return bad(21604, "A 'To' phone number is required.");
    }
    if !is_e164(&to) {
        return bad(
            21211,
            &format!("The 'To' number {to} is not a valid phone number."),
        );
    }
    if from.is_empty() && service.is_empty() {
        return bad(
            21603,
            "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
        );
    }
    if text.trim().is_empty() && media == 0 {
        return bad(21602, "Message body is required.");
    }
    if text.chars().count() > 1600 {
        return bad(
            21617,
            "The concatenated message body exceeds the 1600 character limit.",
        );
    }
    let message_sid = new_sid(if media > 0 { "MM" } else { "SM" });
    let via_service = !service.is_empty();
    let segments = if via_service {
        0
    } else {
        segments::count(&text).max(1)
    };
    let date = rfc2822(now_secs());
    let uri = format!("/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}.json");
    let resource = json!({
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": text,
        "date_created": date,
        "date_sent": null,
        "date_updated": date,
        "direction": "outbound-api",
        "error_code": null,
        "error_message": null,
        "from": if via_service { Value::Null } else { json!(from) },
        "messaging_service_sid": if via_service { json!(service) } else { Value::Null },
        "num_media": media.to_string(),
        "num_segments": segments.to_string(),
        "price": null,
        "price_unit": "USD",
        "sid": message_sid,
        "status": if via_service { "accepted" } else { "queued" },
        "subresource_uris": {
            "media": format!("/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}/Media.json"),
        },
        "to": to,
        "uri": uri,
    });
    remember(s, account_sid, &resource);
    let callback = get("StatusCallback");
    if !callback.is_empty() {
        let report = control::Report {
            url: callback,
            auth_token: token.to_string(),
            account_sid: account_sid.to_string(),
            message_sid: message_sid.clone(),
            from: if via_service { String::new() } else { from },
            to: to.clone(),
            messaging_service_sid: service,
        };
        let outcome = s.config(&format!("twilio:outcome:{to}"));
        let s = s.clone();
        tokio::spawn(async move { control::report_progress(&s, report, outcome).await });
    }
    (StatusCode::CREATED, Json(resource)).into_response()
}

async fn media(
    State(s): State<StandIn>,
    Path((sid, _message, _media)): Path<(String, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    s.record(PROVIDER, &method, &uri, &headers, b"");
    if let Err(d) = authenticate(&s, &headers, &sid) {
        return d.into_response();
    }
    match s.file(uri.path()) {
        Some((ct, data)) => ([(header::CONTENT_TYPE, ct)], data).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            20404,
            &format!("The requested resource {} was not found", uri.path()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc_2822() {
        assert_eq!(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc2822(1_692_853_305), "Thu, 24 Aug 2023 05:01:45 +0000");
        assert_eq!(rfc2822(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
        assert_eq!(dlr_date(1_692_853_305), "2308240501");
    }

    #[test]
    fn numbers_and_sids() {
        assert!(is_e164("+15005550006"));
        assert!(!is_e164("15005550006"));
        assert!(!is_e164("+0123"));
        assert!(!is_e164("+1234567890123456"));
        assert!(!is_e164("+1 500"));
        let sid = new_sid("SM");
        assert!(wire::twilio::is_sid(&sid, &["SM"]), "{sid}");
    }

    #[test]
    fn basic_auth_is_read() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            "Basic QUMxOnNlY3JldDpwYXJ0".parse().unwrap(),
        );
        assert_eq!(basic_auth(&h), Some(("AC1".into(), "secret:part".into())));
        h.insert(header::AUTHORIZATION, "Bearer x".parse().unwrap());
        assert_eq!(basic_auth(&h), None);
    }
}
