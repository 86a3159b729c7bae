//! Small pieces used across pages.

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

/// A UTC time, the same text on the server and in the browser.
#[component]
pub fn Time(ms: i64) -> impl IntoView {
    view! { <time>{crate::domain::text::format_time(ms)}</time> }
}
