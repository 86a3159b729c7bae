//! Small pieces used across pages.

use crate::domain::localtime::{self, Zone};
use crate::domain::{ChannelKind, DeliveryState};
use leptos::prelude::*;

/// A channel icon with its name for assistive technology.
#[component]
pub fn ChannelIcon(channel: ChannelKind) -> impl IntoView {
    view! {
        <span class="channel-icon" data-channel=channel.as_str() aria-label=channel.label() title=channel.label() role="img">
            {channel.glyph()}
        </span>
    }
}

/// A channel badge: the channel's name in its colour.
#[component]
pub fn ChannelBadge(channel: ChannelKind) -> impl IntoView {
    view! { <span class="badge" data-channel=channel.as_str()>{channel.label()}</span> }
}

#[component]
pub fn Delivery(state: DeliveryState, reason: Option<String>) -> impl IntoView {
    let title = reason.clone().unwrap_or_default();
    view! {
        <span class="delivery" data-state=state.as_str() title=title>{state.as_str()}</span>
        {reason.map(|r| view! { <span class="delivery-reason">{r}</span> })}
    }
}

/// The agent's time zone for every [`Time`]: from the request's `tz` cookie on the server, from
/// the page (`<body data-zone>`, written by the server) in the browser, so both render the same
/// text. Once hydrated, the browser's own zone (`Intl`) is saved in the cookie and its offset
/// table fetched when it differs.
#[derive(Clone, Copy)]
pub struct ZoneCtx(pub RwSignal<Zone>);

pub fn provide_zone() {
    let zone = RwSignal::new(initial_zone());
    provide_context(ZoneCtx(zone));
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| learn_browser_zone(zone));
}

/// The `data-zone` attribute of `<body>` for the shell: the zone the server renders with.
#[cfg(feature = "ssr")]
pub fn page_zone_attr() -> String {
    serde_json::to_string(&crate::api::zone::request_zone()).unwrap_or_default()
}
#[cfg(not(feature = "ssr"))]
pub fn page_zone_attr() -> String {
    String::new()
}

#[cfg(feature = "ssr")]
fn initial_zone() -> Zone {
    crate::api::zone::request_zone()
}
#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
fn initial_zone() -> Zone {
    document()
        .body()
        .and_then(|b| b.get_attribute("data-zone"))
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_else(Zone::utc_fallback)
}
#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
fn initial_zone() -> Zone {
    Zone::utc_fallback()
}

#[cfg(feature = "hydrate")]
fn learn_browser_zone(zone: RwSignal<Zone>) {
    use wasm_bindgen::JsCast;
    let opts = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
        .resolved_options();
    let Some(name) = js_sys::Reflect::get(&opts, &"timeZone".into())
        .ok()
        .and_then(|v| v.as_string())
        .filter(|n| crate::domain::localtime::plausible_zone_name(n))
    else {
        return;
    };
    if zone.with_untracked(|z| z.known && z.name == name) {
        return;
    }
    if let Ok(doc) = document().dyn_into::<web_sys::HtmlDocument>() {
        let _ = doc.set_cookie(&format!(
            "tz={name}; path=/; max-age=31536000; samesite=lax"
        ));
    }
    leptos::task::spawn_local(async move {
        if let Ok(z) = crate::api::zone::zone_table(name).await {
            zone.set(z);
        }
    });
}

fn current_zone() -> Signal<Zone> {
    match use_context::<ZoneCtx>() {
        Some(z) => z.0.into(),
        None => Signal::stored(Zone::utc_fallback()),
    }
}

/// A time in the agent's zone: "Today 14:03", with the full date, time and zone on hover.
#[component]
pub fn Time(ms: i64) -> impl IntoView {
    let zone = current_zone();
    let now = crate::api::zone::now_ms();
    let iso = localtime::format_rfc3339(ms, &Zone::utc_fallback());
    view! {
        <time
            datetime=iso
            title=move || zone.with(|z| localtime::format_full(ms, z))
        >
            {move || zone.with(|z| localtime::format_short(ms, now, z))}
        </time>
    }
}

/// "Times in UTC" while the agent's zone is not known (no JavaScript, or before it reported).
#[component]
pub fn ZoneNote() -> impl IntoView {
    let zone = current_zone();
    move || {
        zone.with(|z| !z.known).then(|| {
            view! {
                <span class="zone-note" title="Your time zone is not known yet: times are shown in UTC.">
                    "Times in UTC"
                </span>
            }
        })
    }
}
