//! The campaign editor: name and topic, the audience with its live preview (count, reach per
//! channel, who would be skipped and why, the first customers), the steps with content per
//! channel (the SMS counter and GSM-7 replacements as in the composer), and the strategy
//! (channel order, fallback, quiet hours, cap, throttle).
//!
//! Every closure, timer and task reads and writes the editor's signals with `try_*`: saving a
//! new campaign moves to its page, which disposes this editor while the preview's timer or a
//! last change may still run, and a plain read of a disposed signal panics and stops the page's
//! code.

use super::err_text;
use crate::api::campaigns::{preview_campaign, save_campaign};
use crate::domain::campaign::{ConsentFilter, Definition, Step, MAX_STEPS};
use crate::domain::consent::{ConsentStatus, Purpose};
use crate::domain::{sms, sms_fix, ChannelKind, IdentifierKind};
use crate::model::{AudiencePreview, CampaignChoices};
use leptos::prelude::*;

fn opt_num<T: std::str::FromStr>(s: &str) -> Option<T> {
    s.trim().parse().ok()
}

/// The editor for a new campaign (`id` None) or a draft. `saved` gets the id once saved.
#[component]
pub fn CampaignForm(
    id: Option<i64>,
    name: String,
    definition: Definition,
    choices: CampaignChoices,
    #[prop(into)] saved: Callback<i64>,
) -> impl IntoView {
    let name = RwSignal::new(name);
    let def = RwSignal::new(definition);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let preview = RwSignal::new(None::<Result<AudiencePreview, String>>);
    // The preview follows the audience, strategy and first step, a moment after each change.
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        let Some(d) = def.try_get() else { return };
        let json = serde_json::to_string(&d).unwrap_or_default();
        let n = generation.get_value() + 1;
        generation.set_value(n);
        set_timeout(
            move || {
                // The editor may be gone by now (saving a new campaign opens its page).
                if generation.try_get_value() != Some(n) {
                    return;
                }
                leptos::task::spawn_local(async move {
                    let r = preview_campaign(json).await.map_err(|e| err_text(&e));
                    if generation.try_get_value() == Some(n) {
                        preview.try_set(Some(r));
                    }
                });
            },
            std::time::Duration::from_millis(400),
        );
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        let json = serde_json::to_string(&def.get_untracked()).unwrap_or_default();
        let n = name.get_untracked();
        leptos::task::spawn_local(async move {
            match save_campaign(id, n, json).await {
                Ok(id) => saved.run(id),
                Err(e) => {
                    error.try_set(Some(err_text(&e)));
                }
            }
            busy.try_set(false);
        });
    };
    view! {
        <form class="campaign-form" on:submit=save aria-label="Campaign">
            <label for="campaign-name">"Name"</label>
            <input id="campaign-name" type="text" required maxlength="120"
                prop:value=move || name.get() on:input=move |e| name.set(event_target_value(&e))/>
            <fieldset>
                <legend>"Topic"</legend>
                {[(Purpose::Marketing, "Marketing (needs marketing consent)"), (Purpose::Support, "Transactional (needs support consent; no opt-out)")]
                    .into_iter().map(|(p, words)| view! {
                        <label class="inline">
                            <input type="radio" name="topic" prop:checked=move || def.try_with(|d| d.topic == p).unwrap_or_default()
                                on:change=move |_| def.update(|d| d.topic = p)/>
                            {words}
                        </label>
                    }).collect_view()}
            </fieldset>
            <AudienceFields def choices/>
            <PreviewPanel preview/>
            {move || (0..def.try_with(|d| d.steps.len()).unwrap_or_default()).map(|i| view! { <StepFields def i/> }).collect_view()}
            <button type="button" class="secondary"
                prop:disabled=move || def.try_with(|d| d.steps.len() >= MAX_STEPS).unwrap_or_default()
                on:click=move |_| def.update(|d| d.steps.push(Step { wait_hours: 48, ..Step::default() }))>
                "Add a follow-up step"
            </button>
            <StrategyFields def/>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <div class="actions">
                <button type="submit" prop:disabled=move || busy.get()>
                    {if id.is_some() { "Save changes" } else { "Save draft" }}
                </button>
            </div>
        </form>
    }
}

#[component]
fn AudienceFields(def: RwSignal<Definition>, choices: CampaignChoices) -> impl IntoView {
    let labels = choices.labels.clone();
    let views = choices.views.clone();
    let channel_select = |id: &'static str,
                          get: fn(&Definition) -> Option<ChannelKind>,
                          set: fn(&mut Definition, Option<ChannelKind>)| {
        view! {
            <select id=id on:change=move |e| {
                let v = event_target_value(&e);
                def.update(|d| set(d, ChannelKind::parse(&v)));
            }>
                <option value="" selected=move || def.try_with(|d| get(d).is_none()).unwrap_or_default()>"Any"</option>
                {ChannelKind::ALL.into_iter().map(|c| view! {
                    <option value=c.as_str() selected=move || def.try_with(|d| get(d) == Some(c)).unwrap_or_default()>{c.label()}</option>
                }).collect_view()}
            </select>
        }
    };
    view! {
        <fieldset class="audience">
            <legend>"Audience"</legend>
            <p class="hint">"Every condition given must hold. Merged customers are left out."</p>
            <label for="aud-label">"Label on their conversation"</label>
            <select id="aud-label" on:change=move |e| {
                let v = event_target_value(&e);
                def.update(|d| d.audience.label_id = opt_num(&v));
            }>
                <option value="" selected=move || def.try_with(|d| d.audience.label_id.is_none()).unwrap_or_default()>"Any"</option>
                {labels.into_iter().map(|(id, n)| view! {
                    <option value=id.to_string() selected=move || def.try_with(|d| d.audience.label_id == Some(id)).unwrap_or_default()>{n}</option>
                }).collect_view()}
            </select>
            <label for="aud-reach">"Reachable on"</label>
            {channel_select("aud-reach", |d| d.audience.reachable_on, |d, v| d.audience.reachable_on = v)}
            <label for="aud-pref">"Preferred channel"</label>
            {channel_select("aud-pref", |d| d.audience.preferred, |d, v| d.audience.preferred = v)}
            <label for="aud-consent">"Consent"</label>
            <select id="aud-consent" on:change=move |e| {
                let v = event_target_value(&e);
                def.update(|d| d.audience.consent = consent_filter(&v));
            }>
                <option value="">"Any"</option>
                {[Purpose::Marketing, Purpose::Support].into_iter().flat_map(|p| {
                    [ConsentStatus::Granted, ConsentStatus::OptedOut, ConsentStatus::Default].into_iter().map(move |s| {
                        let key = format!("{}:{}", p.as_str(), s.as_str());
                        let words = format!("{}: {}", p.label(), s.label(p).to_lowercase());
                        view! { <option value=key selected=move || def.try_with(|d| d.audience.consent == Some(ConsentFilter { purpose: p, status: s })).unwrap_or_default()>{words}</option> }
                    })
                }).collect_view()}
            </select>
            <label for="aud-kind">"Has an identifier of kind"</label>
            <select id="aud-kind" on:change=move |e| {
                let v = event_target_value(&e);
                def.update(|d| d.audience.identifier_kind = IdentifierKind::parse(&v).ok());
            }>
                <option value="">"Any"</option>
                {IdentifierKind::ALL.into_iter().map(|k| view! {
                    <option value=k.as_str() selected=move || def.try_with(|d| d.audience.identifier_kind == Some(k)).unwrap_or_default()>{k.label()}</option>
                }).collect_view()}
            </select>
            <label for="aud-within">"Wrote within (days)"</label>
            <input id="aud-within" type="number" min="1" max="3650" inputmode="numeric"
                prop:value=move || def.try_with(|d| d.audience.inbound_within_days.map(|n| n.to_string()).unwrap_or_default()).unwrap_or_default()
                on:input=move |e| { let v = event_target_value(&e); def.update(|d| d.audience.inbound_within_days = opt_num(&v)); }/>
            <label for="aud-older">"Silent for more than (days)"</label>
            <input id="aud-older" type="number" min="1" max="3650" inputmode="numeric"
                prop:value=move || def.try_with(|d| d.audience.inbound_older_than_days.map(|n| n.to_string()).unwrap_or_default()).unwrap_or_default()
                on:input=move |e| { let v = event_target_value(&e); def.update(|d| d.audience.inbound_older_than_days = opt_num(&v)); }/>
            <label for="aud-open">"Open conversation"</label>
            <select id="aud-open" on:change=move |e| {
                let v = event_target_value(&e);
                def.update(|d| d.audience.open_conversation = match v.as_str() { "yes" => Some(true), "no" => Some(false), _ => None });
            }>
                <option value="">"Either"</option>
                <option value="yes" selected=move || def.try_with(|d| d.audience.open_conversation == Some(true)).unwrap_or_default()>"Has one"</option>
                <option value="no" selected=move || def.try_with(|d| d.audience.open_conversation == Some(false)).unwrap_or_default()>"Has none"</option>
            </select>
            <label for="aud-view">"Saved view"</label>
            <select id="aud-view" on:change=move |e| {
                let v = event_target_value(&e);
                def.update(|d| d.audience.view_id = opt_num(&v));
            }>
                <option value="">"None"</option>
                {views.into_iter().map(|(id, n)| view! {
                    <option value=id.to_string() selected=move || def.try_with(|d| d.audience.view_id == Some(id)).unwrap_or_default()>{n}</option>
                }).collect_view()}
            </select>
        </fieldset>
    }
}

fn consent_filter(v: &str) -> Option<ConsentFilter> {
    let (p, s) = v.split_once(':')?;
    let purpose = Purpose::parse(p)?;
    let status = [
        ConsentStatus::Granted,
        ConsentStatus::OptedOut,
        ConsentStatus::Default,
    ]
    .into_iter()
    .find(|x| x.as_str() == s)?;
    Some(ConsentFilter { purpose, status })
}

#[component]
fn PreviewPanel(preview: RwSignal<Option<Result<AudiencePreview, String>>>) -> impl IntoView {
    view! {
        <section class="audience-preview" aria-live="polite" aria-label="Audience preview">
            {move || match preview.get() {
                None => view! { <p class="hint">"Counting the audience…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Some(Ok(p)) => view! {
                    <p class="preview-count"><strong>{p.total.to_string()}</strong>" customers match ("{p.words.clone()}"); the first step reaches "
                        <strong>{p.reachable().to_string()}</strong>"."</p>
                    {p.notice.clone().map(|n| view! { <p class="hint">{n}</p> })}
                    <ul class="reach">
                        {p.reach.iter().map(|(c, n)| view! { <li>{format!("{}: {n}", c.label())}</li> }).collect_view()}
                        {p.skipped.iter().map(|(r, n)| view! { <li class="skipped">{format!("Skipped, {}: {n}", r.label().to_lowercase())}</li> }).collect_view()}
                    </ul>
                    <details>
                        <summary>"First customers"</summary>
                        <ul class="sample">
                            {p.sample.iter().map(|r| view! {
                                <li>
                                    <span class="name">{r.name.clone()}</span>" "
                                    {match (&r.channel, &r.why) {
                                        (Some(c), _) => format!("→ {} {}", c.label(), r.identifier.clone().unwrap_or_default()),
                                        (None, Some(w)) => format!("skipped: {w}"),
                                        _ => String::new(),
                                    }}
                                </li>
                            }).collect_view()}
                        </ul>
                    </details>
                }.into_any(),
            }}
        </section>
    }
}

/// One step's fields: the wait (after the first), and content per channel.
#[component]
fn StepFields(def: RwSignal<Definition>, i: usize) -> impl IntoView {
    let p = format!("step{i}");
    let get = move |f: fn(&Step) -> String| {
        move || {
            def.try_with(|d| d.steps.get(i).map(f).unwrap_or_default())
                .unwrap_or_default()
        }
    };
    let set = move |f: fn(&mut Step, String)| {
        move |e: leptos::ev::Event| {
            let v = event_target_value(&e);
            def.update(|d| {
                if let Some(s) = d.steps.get_mut(i) {
                    f(s, v)
                }
            })
        }
    };
    let id = |f: &str| format!("{p}-{f}");
    let sms_text = Signal::derive(move || {
        def.try_with(|d| d.steps.get(i).map(|s| s.sms.clone()).unwrap_or_default())
            .unwrap_or_default()
    });
    view! {
        <fieldset class="step">
            <legend>{format!("Step {}", i + 1)}</legend>
            {(i > 0).then(|| view! {
                <label for=id("wait")>"Hours after the step before"</label>
                <input id=id("wait") type="number" min="1" max="1440" inputmode="numeric"
                    prop:value=move || def.try_with(|d| d.steps.get(i).map(|s| s.wait_hours.to_string()).unwrap_or_default()).unwrap_or_default()
                    on:input=move |e| { let v = event_target_value(&e); def.update(|d| if let Some(s) = d.steps.get_mut(i) { s.wait_hours = v.trim().parse().unwrap_or(0) }); }/>
                <button type="button" class="secondary" on:click=move |_| def.update(|d| { if d.steps.len() > 1 { d.steps.remove(i); } })>
                    {format!("Remove step {}", i + 1)}
                </button>
            })}
            <p class="hint">"Leave a channel empty to not use it in this step. Placeholders: {{customer.first_name}}, {{customer.name}}, {{agent.name}}."</p>
            <details open=i == 0>
                <summary>"Email"</summary>
                <label for=id("subject")>"Subject"</label>
                <input id=id("subject") type="text" maxlength="200" prop:value=get(|s| s.email.subject.clone()) on:input=set(|s, v| s.email.subject = v)/>
                <label for=id("text")>"Text"</label>
                <textarea id=id("text") rows="4" prop:value=get(|s| s.email.text.clone()) on:input=set(|s, v| s.email.text = v)></textarea>
                <label for=id("html")>"HTML (optional; the text is sent beside it)"</label>
                <textarea id=id("html") rows="3" prop:value=get(|s| s.email.html.clone()) on:input=set(|s, v| s.email.html = v)></textarea>
                <p class="hint">"Every email carries the unsubscribe link, in its headers and its footer."</p>
            </details>
            <details open=i == 0>
                <summary>"SMS"</summary>
                <label for=id("sms")>"Text"</label>
                <textarea id=id("sms") rows="3" prop:value=get(|s| s.sms.clone()) on:input=set(|s, v| s.sms = v)
                    aria-describedby=id("sms-count")></textarea>
                <SmsCounter id=id("sms-count") text=sms_text def i/>
            </details>
            <details>
                <summary>"WhatsApp"</summary>
                <label for=id("tpl")>"Approved template name"</label>
                <input id=id("tpl") type="text" spellcheck="false" prop:value=get(|s| s.whatsapp.template.clone()) on:input=set(|s, v| s.whatsapp.template = v)/>
                <label for=id("lang")>"Template language"</label>
                <input id=id("lang") type="text" spellcheck="false" placeholder="en" prop:value=get(|s| s.whatsapp.language.clone()) on:input=set(|s, v| s.whatsapp.language = v)/>
                <label for=id("body")>"Template body as approved (with {{1}}, {{2}}…)"</label>
                <textarea id=id("body") rows="2" prop:value=get(|s| s.whatsapp.body.clone()) on:input=set(|s, v| s.whatsapp.body = v)></textarea>
                <label for=id("params")>"Parameters, one per line ({{1}} first)"</label>
                <textarea id=id("params") rows="2" prop:value=get(|s| s.whatsapp.params.join("\n"))
                    on:input=set(|s, v| s.whatsapp.params = if v.trim().is_empty() { Vec::new() } else { v.lines().map(str::to_string).collect() })></textarea>
                <label for=id("wtext")>"Free text (only inside the 24-hour window)"</label>
                <textarea id=id("wtext") rows="2" prop:value=get(|s| s.whatsapp.text.clone()) on:input=set(|s, v| s.whatsapp.text = v)></textarea>
            </details>
            <details>
                <summary>"Messenger, Instagram, Telegram"</summary>
                <p class="hint">"Messenger and Instagram allow marketing only within 24 hours of the customer's last message."</p>
                <label for=id("messenger")>"Messenger"</label>
                <textarea id=id("messenger") rows="2" prop:value=get(|s| s.messenger.clone()) on:input=set(|s, v| s.messenger = v)></textarea>
                <label for=id("instagram")>"Instagram"</label>
                <textarea id=id("instagram") rows="2" prop:value=get(|s| s.instagram.clone()) on:input=set(|s, v| s.instagram = v)></textarea>
                <label for=id("telegram")>"Telegram"</label>
                <textarea id=id("telegram") rows="2" prop:value=get(|s| s.telegram.clone()) on:input=set(|s, v| s.telegram = v)></textarea>
            </details>
        </fieldset>
    }
}

/// Segments and encoding of the SMS text, and a button per character that forces UCS-2 with
/// a GSM-7 replacement.
#[component]
fn SmsCounter(
    id: String,
    text: Signal<String>,
    def: RwSignal<Definition>,
    i: usize,
) -> impl IntoView {
    view! {
        <div id=id class="sms-counter">
            {move || {
                let t = text.try_get().unwrap_or_default();
                let info = sms::analyze(&t);
                let offenders = sms_fix::offenders(&t);
                view! {
                    <p class="hint">{format!("{} characters, {} segment{} ({})", info.characters, info.segments,
                        if info.segments == 1 { "" } else { "s" },
                        if info.non_gsm.is_empty() { "GSM-7" } else { "UCS-2" })}</p>
                    {offenders.into_iter().filter(|o| o.replacement.is_some()).map(|o| {
                        let c = o.ch;
                        view! {
                            <button type="button" class="secondary small" on:click=move |_| def.update(|d| if let Some(s) = d.steps.get_mut(i) { s.sms = sms_fix::apply(&s.sms, c) })>
                                {format!("Replace {} ({}×)", sms_fix::name(c), o.count)}
                            </button>
                        }
                    }).collect_view()}
                }
            }}
        </div>
    }
}

#[component]
fn StrategyFields(def: RwSignal<Definition>) -> impl IntoView {
    let num = move |get: fn(&Definition) -> u32, set: fn(&mut Definition, u32)| {
        (
            move || def.try_with(|d| get(d).to_string()).unwrap_or_default(),
            move |e: leptos::ev::Event| {
                let v = event_target_value(&e);
                def.update(|d| set(d, v.trim().parse().unwrap_or(0)))
            },
        )
    };
    let (fb, set_fb) = num(
        |d| d.strategy.fallback_after_minutes,
        |d, v| d.strategy.fallback_after_minutes = v,
    );
    let (cap, set_cap) = num(|d| d.strategy.daily_cap, |d, v| d.strategy.daily_cap = v);
    let (pm, set_pm) = num(|d| d.strategy.per_minute, |d, v| d.strategy.per_minute = v);
    let hhmm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
    let parse_hhmm = |s: &str| -> Option<u16> {
        let (h, m) = s.split_once(':')?;
        Some(h.parse::<u16>().ok()? * 60 + m.parse::<u16>().ok()?)
    };
    view! {
        <fieldset class="strategy">
            <legend>"How it is sent"</legend>
            <label class="inline">
                <input type="checkbox" prop:checked=move || def.try_with(|d| d.strategy.preferred_first).unwrap_or_default()
                    on:change=move |e| { let on = event_target_checked(&e); def.update(|d| d.strategy.preferred_first = on); }/>
                "The customer's preferred channel first"
            </label>
            <p id="order-hint" class="hint">"Then these channels, in this order; the next is tried when one is unavailable, fails or is not delivered in time."</p>
            <ol class="channel-order" aria-describedby="order-hint">
                {move || def.try_with(|d| d.strategy.channels.clone()).unwrap_or_default().into_iter().enumerate().map(|(pos, c)| view! {
                    <li>
                        <span>{c.label()}</span>
                        <button type="button" class="secondary small" prop:disabled=pos == 0
                            aria-label=format!("Move {} up", c.label())
                            on:click=move |_| def.update(|d| if pos > 0 { d.strategy.channels.swap(pos, pos - 1) })>"↑"</button>
                        <button type="button" class="secondary small" aria-label=format!("Remove {}", c.label())
                            on:click=move |_| def.update(|d| d.strategy.channels.retain(|x| *x != c))>"Remove"</button>
                    </li>
                }).collect_view()}
            </ol>
            <label for="add-channel">"Add a channel to the order"</label>
            <select id="add-channel" prop:value=move || { def.track(); "" } on:change=move |e| {
                if let Some(c) = ChannelKind::parse(&event_target_value(&e)) {
                    def.update(|d| if !d.strategy.channels.contains(&c) { d.strategy.channels.push(c) });
                }
            }>
                <option value="">"Choose a channel"</option>
                {move || {
                    let chosen = def.try_with(|d| d.strategy.channels.clone()).unwrap_or_default();
                    ChannelKind::ALL.into_iter().filter(|c| !chosen.contains(c))
                        .map(|c| view! { <option value=c.as_str()>{c.label()}</option> }).collect_view()
                }}
            </select>
            <label for="fallback">"Fall back when not delivered within (minutes; 0: only on failure)"</label>
            <input id="fallback" type="number" min="0" max="10080" inputmode="numeric" prop:value=fb on:input=set_fb/>
            <label for="quiet-from">"Quiet hours from (customer's time)"</label>
            <input id="quiet-from" type="time" prop:value=move || def.try_with(|d| hhmm(d.strategy.quiet_from)).unwrap_or_default()
                on:input=move |e| { if let Some(m) = parse_hhmm(&event_target_value(&e)) { def.update(|d| d.strategy.quiet_from = m) } }/>
            <label for="quiet-until">"Quiet hours until"</label>
            <input id="quiet-until" type="time" prop:value=move || def.try_with(|d| hhmm(d.strategy.quiet_until)).unwrap_or_default()
                on:input=move |e| { if let Some(m) = parse_hhmm(&event_target_value(&e)) { def.update(|d| d.strategy.quiet_until = m) } }/>
            <label for="default-zone">"Time zone when the customer's is not known"</label>
            <input id="default-zone" type="text" spellcheck="false" prop:value=move || def.try_with(|d| d.strategy.default_zone.clone()).unwrap_or_default()
                on:input=move |e| { let v = event_target_value(&e); def.update(|d| d.strategy.default_zone = v) }/>
            <label for="cap">"Most campaign messages per customer per 24 hours (0: no cap)"</label>
            <input id="cap" type="number" min="0" max="100" inputmode="numeric" prop:value=cap on:input=set_cap/>
            <label for="per-minute">"Most messages per minute per channel account (0: no throttle)"</label>
            <input id="per-minute" type="number" min="0" max="100000" inputmode="numeric" prop:value=pm on:input=set_pm/>
        </fieldset>
    }
}
