//! The agent's time zone: the table for a zone name the browser reports, and (on the server)
//! the zone of the request being rendered, from its `tz` cookie.

use crate::domain::localtime::Zone;
use leptos::prelude::*;

/// The offset table of the IANA zone `name` (what `Intl` in the browser reports). Public data:
/// no sign-in needed (the sign-in page shows times too, some day).
#[server(endpoint = "zone")]
pub async fn zone_table(name: String) -> Result<Zone, ServerFnError> {
    use crate::ssr::{errors, zone};
    zone::table(&name, zone::now_ms()).ok_or_else(|| errors::bad_request("unknown time zone"))
}

/// The zone of the request being rendered: its `tz` cookie, or UTC (saying so).
#[cfg(feature = "ssr")]
pub fn request_zone() -> Zone {
    use crate::ssr::zone;
    let cookies = use_context::<http::request::Parts>().map(|p| {
        p.headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join("; ")
    });
    zone::from_cookie_header(cookies.as_deref(), zone::now_ms())
}

/// Milliseconds since the epoch, now (for "today" and "yesterday").
#[cfg(feature = "ssr")]
pub fn now_ms() -> i64 {
    crate::ssr::zone::now_ms()
}
#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}
#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
pub fn now_ms() -> i64 {
    0
}
