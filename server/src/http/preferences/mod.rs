//! `GET` and `POST /p/{token}`: the customer's preference center (issue 18), reached by the
//! signed link every email carries (and SMS HELP answers, and agents send).
//!
//! The token (`app::ssr::pref_token`) is the authentication: no account, no password. The
//! routes sit outside the staff session; a POST must come from our own origin (checked here,
//! so the refusal is a page in the customer's words) and is rate-limited per address and per
//! link in `rate_counters` (every process shares them). `GET` never changes anything.
//!
//! Forms (`action`): `save` (channels per purpose, preferred channel, quiet hours, time zone,
//! marketing frequency), `code` (send a code to an address to add), `confirm` (type it),
//! `remove` (ask us to stop using an address), `fresh` (a new link, sent where the old one
//! went, when it expired or the customer was merged).

mod page;

use crate::http::csrf;
use app::domain::consent::Purpose;
use app::domain::pref_words::{fill, Lang, Words};
use app::domain::preferences::{parse_frequency, parse_quiet, QuietError, ZONES};
use app::domain::{ChannelKind, IdentifierKind};
use app::service::preferences::{self as prefs, Choices, CodeAsked, CodeChecked, Fresh, Opened};
use app::ssr::pref_token::{self, Claims, TokenError};
use app::ssr::AppState;
use app::store::{now_ms, rate_counters, StoreError};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::net::SocketAddr;

/// Form bodies are small: a few dozen boxes at most.
const MAX_BODY: usize = 16 * 1024;
/// Requests per window: per client address, per link, and fresh links per identifier.
const WINDOW_MS: i64 = 10 * 60_000;
const PER_ADDRESS: i64 = 60;
const PER_LINK: i64 = 30;
const FRESH_PER_IDENTIFIER: i64 = 1;

/// `GET` and `POST /p/{token}`. Merge it after the session and CSRF layers.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/p/{token}", get(page_handler).post(form_handler))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
}

/// The language: `?lang=` when it names one we have, else the browser's.
fn language(q: &HashMap<String, String>, headers: &HeaderMap) -> (Lang, bool) {
    if let Some(l) = q.get("lang").and_then(|l| Lang::from_code(l)) {
        return (l, true);
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    (Lang::negotiate(accept), false)
}

fn action_url(token: &str, lang: Lang, explicit: bool) -> String {
    if explicit {
        format!("/p/{token}?lang={}", lang.code())
    } else {
        format!("/p/{token}")
    }
}

fn failed(lang: Lang, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "preference center");
    let w = lang.words();
    page::message(
        StatusCode::INTERNAL_SERVER_ERROR,
        lang,
        w.failed_title,
        w.failed,
        None,
    )
}

/// The page for a token that is not (or no longer) good, offering a fresh link where one can
/// go.
fn refused(lang: Lang, e: TokenError, action: &str) -> Response {
    let w = lang.words();
    match e {
        TokenError::Garbled => page::message(
            StatusCode::BAD_REQUEST,
            lang,
            w.link_garbled_title,
            w.link_garbled,
            None,
        ),
        TokenError::Forged => page::message(
            StatusCode::NOT_FOUND,
            lang,
            w.link_forged_title,
            w.link_forged,
            None,
        ),
        TokenError::Expired(_) => page::message(
            StatusCode::GONE,
            lang,
            w.link_old_title,
            w.link_expired,
            Some(&page::fresh_form(w, action)),
        ),
    }
}

fn stale(lang: Lang, o: &Opened, action: &str) -> Response {
    let w = lang.words();
    match o {
        Opened::Merged => page::message(
            StatusCode::GONE,
            lang,
            w.link_old_title,
            w.link_merged,
            Some(&page::fresh_form(w, action)),
        ),
        _ => page::message(
            StatusCode::GONE,
            lang,
            w.link_old_title,
            w.link_removed,
            Some(&page::fresh_form(w, action)),
        ),
    }
}

/// Renders the page for `c` with `notice`.
async fn show(
    st: &AppState,
    lang: Lang,
    c: Claims,
    token: &str,
    action: &str,
    status: StatusCode,
    notice: Option<(bool, String)>,
) -> Response {
    match prefs::open(&st.db, c.identifier_id, c.customer_id, now_ms()).await {
        Ok(Opened::Ready(p)) => {
            let body = page::page(lang, &p, action, token, notice);
            page::html(status, lang, lang.words().title, &body)
        }
        Ok(other) => stale(lang, &other, action),
        Err(e) => failed(lang, e),
    }
}

/// The page. Never changes anything.
async fn page_handler(
    State(st): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let (lang, explicit) = language(&q, &headers);
    let action = action_url(&token, lang, explicit);
    let c = match pref_token::verify(st.settings.secret_key.as_bytes(), &token, now_ms()) {
        Ok(c) => c,
        Err(e) => return refused(lang, e, &action),
    };
    show(&st, lang, c, &token, &action, StatusCode::OK, None).await
}

/// Counts a hit on `key`; true when over `max` in the window.
async fn over(st: &AppState, key: &str, max: i64) -> Result<bool, StoreError> {
    Ok(rate_counters::hit(&st.db, key, now_ms(), WINDOW_MS).await? > max)
}

/// Counts a hit on `key`; the refusal page when over `max` in the window.
async fn limit(st: &AppState, lang: Lang, key: &str, max: i64) -> Result<(), Response> {
    let w = lang.words();
    match over(st, key, max).await {
        Ok(false) => Ok(()),
        Ok(true) => Err(page::message(
            StatusCode::TOO_MANY_REQUESTS,
            lang,
            w.failed_title,
            w.too_many,
            None,
        )),
        Err(e) => Err(failed(lang, e)),
    }
}

/// Every form of the page.
async fn form_handler(
    State(st): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (lang, explicit) = language(&q, &headers);
    let w = lang.words();
    let action = action_url(&token, lang, explicit);
    let get = |n: header::HeaderName| headers.get(n).and_then(|v| v.to_str().ok());
    if !csrf::allowed(
        &axum::http::Method::POST,
        "/p",
        get(header::ORIGIN),
        get(header::REFERER),
        &st.settings.public_origin(),
    ) {
        return page::message(
            StatusCode::FORBIDDEN,
            lang,
            w.failed_title,
            w.other_site,
            None,
        );
    }
    let address = app::ssr::login_limit::LoginLimiter::address_key(Some(peer.ip()));
    if let Err(r) = limit(&st, lang, &format!("pref:a:{address}"), PER_ADDRESS).await {
        return r;
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(&body)
        .take(200)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let now = now_ms();
    let claims = match pref_token::verify(st.settings.secret_key.as_bytes(), &token, now) {
        Ok(c) => c,
        Err(TokenError::Expired(c)) if field("action") == "fresh" => {
            return fresh(&st, lang, c).await
        }
        Err(e) => return refused(lang, e, &action),
    };
    let link_key = format!("pref:l:{}", claims.identifier_id);
    if let Err(r) = limit(&st, lang, &link_key, PER_LINK).await {
        return r;
    }
    let outcome = match field("action") {
        "save" => on_save(&st, w, &form, claims, now).await,
        "code" => {
            let kind = match field("kind") {
                "phone" => IdentifierKind::Phone,
                _ => IdentifierKind::Email,
            };
            on_code(&st, w, claims, kind, field("value"), now).await
        }
        "confirm" => on_confirm(&st, w, claims, field("code"), now).await,
        "remove" => on_remove(&st, w, claims, field("target"), now).await,
        "fresh" => return fresh(&st, lang, claims).await,
        _ => Ok(Notice::refused(StatusCode::BAD_REQUEST, w.nothing_changed)),
    };
    match outcome {
        Ok(n) => {
            let status = n.status;
            show(
                &st,
                lang,
                claims,
                &token,
                &action,
                status,
                Some((n.ok, n.text)),
            )
            .await
        }
        Err(StoreError::Conflict(_)) => stale_now(&st, lang, claims, &action).await,
        Err(e) => failed(lang, e),
    }
}

/// What a form did, shown above the page.
struct Notice {
    status: StatusCode,
    ok: bool,
    text: String,
}

impl Notice {
    fn done(text: impl Into<String>) -> Notice {
        Notice {
            status: StatusCode::OK,
            ok: true,
            text: text.into(),
        }
    }

    fn refused(status: StatusCode, text: impl Into<String>) -> Notice {
        Notice {
            status,
            ok: false,
            text: text.into(),
        }
    }
}

/// Channels per purpose, preferred channel, quiet hours, zone, frequency.
async fn on_save(
    st: &AppState,
    w: &Words,
    form: &[(String, String)],
    c: Claims,
    now: i64,
) -> Result<Notice, StoreError> {
    let choices = match read_choices(w, form, st, c).await {
        Ok(choices) => choices,
        Err(words) => return Ok(Notice::refused(StatusCode::UNPROCESSABLE_ENTITY, words)),
    };
    match prefs::save(&st.db, c.identifier_id, c.customer_id, &choices, now).await {
        Ok(saved) => {
            if let Some(conv) = saved.conversation_id {
                st.hub.conversation_changed(conv).await;
            }
            Ok(Notice::done(if saved.changes.is_empty() {
                w.nothing_changed
            } else {
                w.saved
            }))
        }
        Err(StoreError::Invalid(_)) => Ok(Notice::refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            w.nothing_changed,
        )),
        Err(e) => Err(e),
    }
}

/// Sends a code to an address to add.
async fn on_code(
    st: &AppState,
    w: &Words,
    c: Claims,
    kind: IdentifierKind,
    value: &str,
    now: i64,
) -> Result<Notice, StoreError> {
    let region = app::service::identifiers::default_region();
    let asked = prefs::ask_code(
        &st.db,
        c.identifier_id,
        c.customer_id,
        kind,
        value,
        &region,
        w.code_message,
        now,
    )
    .await?;
    let unprocessable = |t: &str| Notice::refused(StatusCode::UNPROCESSABLE_ENTITY, t);
    Ok(match asked {
        CodeAsked::Sent {
            value,
            conversation_id,
        } => {
            st.hub.conversation_changed(conversation_id).await;
            st.wake.outbox.notify_one();
            Notice::done(fill(w.code_sent, &value))
        }
        CodeAsked::Invalid => unprocessable(w.add_invalid),
        CodeAsked::CannotSend => unprocessable(w.cannot_send_there),
        CodeAsked::Limited => Notice::refused(StatusCode::TOO_MANY_REQUESTS, w.code_limit),
    })
}

/// Checks the code typed.
async fn on_confirm(
    st: &AppState,
    w: &Words,
    c: Claims,
    code: &str,
    now: i64,
) -> Result<Notice, StoreError> {
    let checked = prefs::check_code(&st.db, c.identifier_id, c.customer_id, code, now).await?;
    Ok(match checked {
        CodeChecked::Added { value, changed } => {
            for conv in changed {
                st.hub.conversation_changed(conv).await;
            }
            Notice::done(fill(w.code_added, &value))
        }
        CodeChecked::Wrong => Notice::refused(StatusCode::UNPROCESSABLE_ENTITY, w.code_wrong),
        CodeChecked::Expired => Notice::refused(StatusCode::UNPROCESSABLE_ENTITY, w.code_expired),
    })
}

/// Asks us to stop using one of the customer's addresses.
async fn on_remove(
    st: &AppState,
    w: &Words,
    c: Claims,
    target: &str,
    now: i64,
) -> Result<Notice, StoreError> {
    let not_theirs = Notice::refused(StatusCode::UNPROCESSABLE_ENTITY, w.nothing_changed);
    let Ok(target) = target.parse::<i64>() else {
        return Ok(not_theirs);
    };
    match prefs::ask_removal(&st.db, c.identifier_id, c.customer_id, target, now).await {
        Ok((masked, conv)) => {
            if let Some(conv) = conv {
                st.hub.conversation_changed(conv).await;
            }
            Ok(Notice::done(fill(w.removal_done, &masked)))
        }
        Err(StoreError::NotFound) => Ok(not_theirs),
        Err(e) => Err(e),
    }
}

/// The link stopped applying between the page and the form (a merge, a removal).
async fn stale_now(st: &AppState, lang: Lang, c: Claims, action: &str) -> Response {
    match prefs::open(&st.db, c.identifier_id, c.customer_id, now_ms()).await {
        Ok(o @ (Opened::Merged | Opened::Removed)) => stale(lang, &o, action),
        Ok(Opened::Ready(_)) => stale(lang, &Opened::Merged, action),
        Err(e) => failed(lang, e),
    }
}

/// Sends a fresh link where the link `c` went, at most once per window.
async fn fresh(st: &AppState, lang: Lang, c: Claims) -> Response {
    let id = c.identifier_id;
    let w = lang.words();
    match over(st, &format!("pref:f:{id}"), FRESH_PER_IDENTIFIER).await {
        Ok(false) => {}
        Ok(true) => {
            return page::message(
                StatusCode::TOO_MANY_REQUESTS,
                lang,
                w.link_old_title,
                w.fresh_limit,
                None,
            )
        }
        Err(e) => return failed(lang, e),
    }
    let key = st.settings.secret_key.as_bytes().to_vec();
    let url = st.settings.public_url.clone();
    let body = |identifier: i64, customer: i64| {
        fill(
            w.link_message,
            &pref_token::link(&url, &key, identifier, customer, now_ms()),
        )
    };
    match prefs::send_fresh_link(&st.db, id, c.customer_id, body, now_ms()).await {
        Ok(Fresh::Sent(c)) => {
            st.hub.conversation_changed(c).await;
            st.wake.outbox.notify_one();
            page::message(StatusCode::OK, lang, w.link_old_title, w.fresh_sent, None)
        }
        Ok(Fresh::Nowhere) => page::message(
            StatusCode::GONE,
            lang,
            w.link_old_title,
            w.fresh_nowhere,
            None,
        ),
        Err(e) => failed(lang, e),
    }
}

/// Reads the main form; a mistake comes back in the customer's words.
async fn read_choices(
    w: &Words,
    form: &[(String, String)],
    st: &AppState,
    c: Claims,
) -> Result<Choices, String> {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let mut allowed = Vec::new();
    for (_, v) in form.iter().filter(|(k, _)| k == "allow") {
        let Some((id, p)) = v.split_once(':') else {
            continue;
        };
        let (Ok(id), Some(p)) = (
            id.parse::<i64>(),
            match p {
                "s" => Some(Purpose::Support),
                "m" => Some(Purpose::Marketing),
                _ => None,
            },
        ) else {
            continue;
        };
        allowed.push((id, p));
    }
    let preferred = match field("preferred") {
        "" => None,
        s => Some(ChannelKind::parse(s).ok_or_else(|| w.nothing_changed.to_string())?),
    };
    let quiet = parse_quiet(field("quiet_from"), field("quiet_until")).map_err(|e| {
        match e {
            QuietError::OneMissing => w.quiet_one_missing,
            QuietError::NotATime => w.quiet_not_a_time,
            QuietError::Same => w.quiet_same,
        }
        .to_string()
    })?;
    let zone = field("zone").trim();
    let current = {
        let mut conn = st
            .db
            .read
            .acquire()
            .await
            .map_err(|_| w.failed.to_string())?;
        app::store::customers::chosen(&mut conn, c.customer_id)
            .await
            .map_err(|_| w.failed.to_string())?
            .time_zone
    };
    let time_zone = if zone.is_empty() {
        current.clone()
    } else if ZONES.contains(&zone) || current.as_deref() == Some(zone) {
        Some(zone.to_string())
    } else {
        return Err(w.bad_zone.to_string());
    };
    if quiet.is_some() && time_zone.is_none() {
        return Err(w.quiet_needs_zone.to_string());
    }
    let frequency = match field("frequency") {
        "" => (0, 0),
        f => parse_frequency(f).ok_or_else(|| w.bad_frequency.to_string())?,
    };
    Ok(Choices {
        allowed,
        preferred,
        time_zone,
        quiet,
        frequency,
    })
}
