//! The composer's aids, shown once the agent writes: the characters that force an SMS into
//! UCS-2 with their one-click replacements (the SMS culprit tables) and the preview converted
//! for the chosen channel. A wasm chunk of its own, fetched when the first character is typed;
//! a page without JavaScript never shows them.

use super::draft::Draft;
use crate::domain::{convert, sms, sms_fix, ChannelKind};
use leptos::prelude::*;

/// What the aids follow: the draft, the channel the reply goes out on, and the channel the
/// draft was written for when that differs. All owned by the composer.
#[derive(Clone, Copy)]
pub struct AidsInput {
    pub draft: Draft,
    pub channel: Signal<Option<ChannelKind>>,
    pub switched: Signal<Option<ChannelKind>>,
}

#[leptos::lazy]
pub fn composer_aids(input: AidsInput) -> AnyView {
    let AidsInput {
        draft,
        channel,
        switched,
    } = input;
    let body = draft.body;
    // `try_`: a live update may dispose the composer while a change to the draft still runs
    // these closures; they then draw nothing.
    view! {
        {move || {
            (channel.try_get().flatten() == Some(ChannelKind::Sms))
                .then(|| body.try_with(|b| ucs2_fixes(draft, b)).flatten())
                .flatten()
        }}
        {move || {
            let ch = channel.try_get().flatten()?;
            let from = switched.try_get().flatten();
            body.try_with(|b| (!b.trim().is_empty()).then(|| preview(ch, b, from))).flatten()
        }}
    }
    .into_any()
}

/// The characters that forced UCS-2, each with its one-click replacement.
fn ucs2_fixes(draft: Draft, text: &str) -> Option<AnyView> {
    let offenders = sms_fix::offenders(text);
    if offenders.is_empty() {
        return None;
    }
    let body = draft.body;
    let several = sms_fix::fixable(&offenders) > 1;
    let items = offenders
        .into_iter()
        .map(|o| {
            let shown = o.shown();
            let times = if o.count > 1 { format!(" ×{}", o.count) } else { String::new() };
            let button = o.replacement.map(|r| {
                let c = o.ch;
                let words = if r.is_empty() {
                    format!("Remove {shown}")
                } else {
                    format!("Replace {shown} with {r}")
                };
                view! {
                    <button type="button" class="small" on:click=move |_| body.update(|b| *b = sms_fix::apply(b, c))>
                        {words}
                    </button>
                }
            });
            let none = o.replacement.is_none().then(|| view! { <span class="hint">"no GSM-7 equivalent"</span> });
            view! { <li><code class="char">{shown}</code>{times}" "{button}{none}</li> }
        })
        .collect_view();
    let all = several.then(|| {
        view! {
            <button type="button" class="small" on:click=move |_| body.update(|b| *b = sms::replace_lookalikes(b))>
                "Replace all"
            </button>
        }
    });
    Some(
        view! {
            <div class="ucs2" role="group" aria-label="Characters that force UCS-2">
                <p>"These characters make the SMS use UCS-2 (70 characters per segment instead of 160):"</p>
                <ul>{items}</ul>
                {all}
            </div>
        }
        .into_any(),
    )
}

/// What the customer receives on the chosen channel, converted; marked when the draft was
/// written for another channel.
fn preview(channel: ChannelKind, text: &str, from: Option<ChannelKind>) -> AnyView {
    let c = convert::for_channel(channel, text);
    let heading = match from {
        Some(f) => format!(
            "Converted from {} — what the customer receives on {}",
            f.label(),
            channel.label()
        ),
        None => format!("Preview: what the customer receives on {}", channel.label()),
    };
    let content = match c.html {
        Some(html) => view! { <div class="preview-html" inner_html=html></div> }.into_any(),
        None => view! { <pre class="preview-text">{c.text}</pre> }.into_any(),
    };
    let notes = (!c.notes.is_empty()).then(|| {
        view! { <ul class="notes">{c.notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul> }
    });
    view! {
        <section class="preview" class:converted=from.is_some() aria-label="Preview">
            <h2>{heading}</h2>
            {content}
            {notes}
        </section>
    }
    .into_any()
}
