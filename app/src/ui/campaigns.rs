//! Campaigns (`/campaigns`, marketing and admins): the list, a new campaign, and a
//! campaign's page: its editor while it is a draft, its problems, approval by a colleague,
//! send now or schedule, pause, resume and cancel, the report per step and channel, and the
//! recipients with their states. A separate wasm chunk.

use super::campaign_form::CampaignForm;
use super::widgets::Time;
use super::{err_text, no_access, Authed, CurrentUser};
use crate::api::campaigns::{
    approve_campaign, audience_choices, campaign_recipients, control_campaign, get_campaign,
    list_campaigns, start_campaign,
};
use crate::domain::campaign::{topic_label, Definition, Status};
use crate::domain::Permission;
use crate::model::campaigns::state_label;
use crate::model::{CampaignDetail, RecipientItem};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use leptos_router::{lazy_route, LazyRoute};

pub struct CampaignsRoute;

#[lazy_route]
impl LazyRoute for CampaignsRoute {
    fn data() -> Self {
        CampaignsRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <Authed><CampaignList/></Authed> }.into_any()
    }
}

pub struct CampaignRoute;

#[lazy_route]
impl LazyRoute for CampaignRoute {
    fn data() -> Self {
        CampaignRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <Authed><CampaignPage/></Authed> }.into_any()
    }
}

/// False while the page is the server's HTML (no JavaScript yet, or none at all); true once
/// it runs in the browser. The editor and the buttons need it.
fn hydrated() -> RwSignal<bool> {
    let h = RwSignal::new(false);
    Effect::new(move |_| h.set(true));
    h
}

fn needs_js() -> AnyView {
    view! {
        <p class="hint needs-js">"Drafting, approving and sending need JavaScript: turn it on to change this campaign. It can be read without it."</p>
    }
    .into_any()
}

fn status_class(s: Status) -> String {
    format!("badge status-{}", s.as_str())
}

#[component]
fn CampaignList() -> impl IntoView {
    if !expect_context::<CurrentUser>().can(Permission::ManageCampaigns) {
        return no_access("Campaigns");
    }
    let list = Resource::new(|| (), |_| list_campaigns());
    view! {
        <Title text="Campaigns · Convergence"/>
        <main class="campaigns-page" id="main">
            <div class="page-head">
                <h1>"Campaigns"</h1>
                <a class="button" href="/campaigns/new">"New campaign"</a>
            </div>
            <p class="hint">"Each customer is reached on their preferred channel first, with consent and quiet hours checked when each message leaves. A colleague approves a campaign before it is sent."</p>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
                        Ok(items) if items.is_empty() => view! { <p>"No campaigns yet."</p> }.into_any(),
                        Ok(items) => view! {
                            <table class="campaign-list">
                                <thead><tr><th scope="col">"Name"</th><th scope="col">"Status"</th><th scope="col">"Topic"</th><th scope="col">"Author"</th><th scope="col">"Created"</th></tr></thead>
                                <tbody>
                                    {items.into_iter().map(|c| view! {
                                        <tr>
                                            <td><a href=format!("/campaigns/{}", c.id)>{c.name.clone()}</a></td>
                                            <td><span class=status_class(c.status)>{c.status.label()}</span></td>
                                            <td>{topic_label(c.topic)}</td>
                                            <td>{c.author.clone()}</td>
                                            <td><Time ms=c.created_at/></td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
    .into_any()
}

#[component]
fn CampaignPage() -> impl IntoView {
    if !expect_context::<CurrentUser>().can(Permission::ManageCampaigns) {
        return no_access("Campaign");
    }
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<i64>().ok()));
    let version = RwSignal::new(0u32);
    // Kept here, so the page's refreshes while sending keep the recipients' filter.
    let filter = RwSignal::new(String::new());
    let choices = Resource::new(|| (), |_| audience_choices());
    let detail = Resource::new(
        move || (id(), version.get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_campaign(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    // One timer for the page (the campaign's view is rebuilt on each refresh): a campaign
    // under way is read again every 3 s, a finished one every 10 s for the week replies
    // count. In the browser only: effects do not run on the server.
    Effect::new(move |_| {
        let tick = StoredValue::new(0u64);
        let handle = set_interval_with_handle(
            move || {
                let n = tick.get_value() + 1;
                tick.set_value(n);
                let every = match detail.get_untracked() {
                    Some(Ok(Some(d))) => refresh_every(&d),
                    _ => None,
                };
                if every.is_some_and(|e| n.is_multiple_of(e)) {
                    version.update(|v| *v += 1);
                }
            },
            std::time::Duration::from_secs(1),
        );
        if let Ok(h) = handle {
            on_cleanup(move || h.clear());
        }
    });
    view! {
        <Title text="Campaign · Convergence"/>
        <main class="campaign-page" id="main">
            <p><a href="/campaigns">"← Campaigns"</a></p>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let choices = choices.await.unwrap_or_default();
                    match detail.await {
                        Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
                        Ok(None) => {
                            let ready = hydrated();
                            view! {
                                <h1>"New campaign"</h1>
                                {move || if ready.get() {
                                    let navigate = use_navigate();
                                    let choices = choices.clone();
                                    view! {
                                        <CampaignForm id=None name=String::new() definition=Definition::default() choices
                                            saved=move |id: i64| navigate(&format!("/campaigns/{id}"), Default::default())/>
                                    }.into_any()
                                } else {
                                    needs_js()
                                }}
                            }.into_any()
                        }
                        Ok(Some(d)) => view! { <Detail d choices version filter/> }.into_any(),
                    }
                })}
            </Transition>
        </main>
    }
    .into_any()
}

/// How often (seconds) a campaign's page reads it again, if at all.
fn refresh_every(d: &CampaignDetail) -> Option<u64> {
    let recent = d.finished_at.is_some_and(|t| {
        crate::api::zone::now_ms() - t < crate::domain::campaign_rules::REPLY_WINDOW_MS
    });
    match d.status {
        Status::Sending | Status::Scheduled => Some(3),
        Status::Done if recent => Some(10),
        _ => None,
    }
}

#[component]
fn Detail(
    d: CampaignDetail,
    choices: crate::model::CampaignChoices,
    version: RwSignal<u32>,
    filter: RwSignal<String>,
) -> impl IntoView {
    let id = d.id;
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let run = move |f: std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<(), ServerFnError>>>,
    >| {
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            if let Err(e) = f.await {
                error.set(Some(err_text(&e)));
            }
            busy.set(false);
            version.update(|v| *v += 1);
        });
    };
    let at = RwSignal::new(String::new());
    let ready = hydrated();
    let can_approve = d.can_approve;
    let waits = d.step_waits_until;
    let next_step = d.step + 1;
    let no_problems = d.problems.is_empty();
    let (name, definition) = (d.name.clone(), d.definition.clone());
    let status = d.status;
    let editable = status.editable();
    view! {
        <div class="page-head">
            <h1>{d.name.clone()}</h1>
            <span class=status_class(status)>{status.label()}</span>
        </div>
        <p class="meta">
            {format!("{} · drafted by {}", topic_label(d.definition.topic), d.author)}
            {d.approver.clone().map(|a| format!(" · approved by {a}"))}
        </p>
        {(!d.problems.is_empty()).then(|| view! {
            <section class="problems" aria-label="Before it can be approved">
                <h2>"Before it can be approved"</h2>
                <ul>{d.problems.iter().map(|p| view! { <li>{p.clone()}</li> }).collect_view()}</ul>
            </section>
        })}
        {move || if !ready.get() { needs_js() } else { view! {
        <div class="campaign-actions" role="group" aria-label="Campaign actions">
            {can_approve.then(|| view! {
                <button type="button" prop:disabled=move || busy.get() on:click=move |_| run(Box::pin(approve_campaign(id)))>"Approve"</button>
            })}
            {(status == Status::Draft && !can_approve && no_problems).then(|| view! {
                <p class="hint">"A colleague (an admin or another marketing user) approves this draft before it can be sent."</p>
            })}
            {(status == Status::Approved).then(|| view! {
                <button type="button" prop:disabled=move || busy.get() on:click=move |_| run(Box::pin(start_campaign(id, None)))>"Send now"</button>
                <label for="schedule-at">"Or schedule for (your time)"</label>
                <input id="schedule-at" type="datetime-local" prop:value=move || at.get() on:input=move |e| at.set(event_target_value(&e))/>
                <button type="button" class="secondary" prop:disabled=move || busy.get()
                    on:click=move |_| run(Box::pin(start_campaign(id, Some(at.get_untracked()))))>"Schedule"</button>
            })}
            {waits.map(|t| view! {
                <p class="hint">{format!("Step {} starts at ", next_step)}<Time ms=t/>"."</p>
                <button type="button" prop:disabled=move || busy.get() on:click=move |_| run(Box::pin(control_campaign(id, "next_now".into())))>
                    {format!("Start step {next_step} now")}
                </button>
            })}
            {matches!(status, Status::Sending | Status::Scheduled).then(|| view! {
                <button type="button" class="secondary" prop:disabled=move || busy.get() on:click=move |_| run(Box::pin(control_campaign(id, "pause".into()))) >"Pause"</button>
            })}
            {(status == Status::Paused).then(|| view! {
                <button type="button" prop:disabled=move || busy.get() on:click=move |_| run(Box::pin(control_campaign(id, "resume".into())))>"Resume"</button>
            })}
            {(!matches!(status, Status::Done | Status::Cancelled)).then(|| view! {
                <button type="button" class="danger" prop:disabled=move || busy.get() on:click=move |_| run(Box::pin(control_campaign(id, "cancel".into())))>"Cancel campaign"</button>
            })}
        </div>
        }.into_any() }}
        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        {d.scheduled_at.filter(|_| status == Status::Scheduled).map(|t| view! { <p>"Scheduled for "<Time ms=t/></p> })}
        <Summary def=d.definition.clone() choices=choices.clone()/>
        <Report d=d.clone()/>
        {(!matches!(status, Status::Draft | Status::Approved)).then(|| view! { <Recipients id version state=filter/> })}
        {move || (editable && ready.get()).then(|| {
            let (name, definition, choices) = (name.clone(), definition.clone(), choices.clone());
            view! {
                <h2>"Edit"</h2>
                {(status == Status::Approved).then(|| view! { <p class="hint">"Saving a change withdraws the approval."</p> })}
                <CampaignForm id=Some(id) name definition choices
                    saved=move |_| version.update(|v| *v += 1)/>
            }
        })}
    }
}

/// What the campaign says and how it is sent, in words: what a reviewer approves, and what
/// was sent once it is under way. Rendered by the server (readable without JavaScript).
#[component]
fn Summary(def: Definition, choices: crate::model::CampaignChoices) -> impl IntoView {
    use crate::domain::ChannelKind;
    let label = def.audience.label_id.and_then(|id| {
        choices
            .labels
            .iter()
            .find(|(l, _)| *l == id)
            .map(|(_, n)| n.clone())
    });
    let view_name = def.audience.view_id.and_then(|id| {
        choices
            .views
            .iter()
            .find(|(v, _)| *v == id)
            .map(|(_, n)| n.clone())
    });
    let s = &def.strategy;
    let mut order: Vec<&str> = Vec::new();
    if s.preferred_first {
        order.push("the customer's preferred channel");
    }
    order.extend(s.channels.iter().map(|c| c.label()));
    let hhmm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
    let how = format!(
        "{}. {}. {}. {}. {}.",
        format_args!("Tries {}", order.join(", then ")),
        if s.fallback_after_minutes == 0 {
            "Falls back when a message fails".to_string()
        } else {
            format!(
                "Falls back when a message fails or is not delivered within {} minutes",
                s.fallback_after_minutes
            )
        },
        if s.quiet_from == s.quiet_until {
            "No quiet hours".to_string()
        } else {
            format!(
                "Quiet from {} to {} in the customer's time zone (else {})",
                hhmm(s.quiet_from),
                hhmm(s.quiet_until),
                s.default_zone
            )
        },
        if s.daily_cap == 0 {
            "No daily cap".to_string()
        } else {
            format!(
                "At most {} campaign messages per customer a day",
                s.daily_cap
            )
        },
        if s.per_minute == 0 {
            "No throttle".to_string()
        } else {
            format!("At most {} a minute per channel account", s.per_minute)
        },
    );
    view! {
        <section class="campaign-summary" aria-label="What it says">
            <h2>"What it says"</h2>
            <p><strong>"Audience: "</strong>{def.audience.words(label.as_deref(), view_name.as_deref())}</p>
            <p><strong>"Sending: "</strong>{how}</p>
            {def.steps.iter().enumerate().map(|(i, step)| {
                let lines: Vec<(String, String)> = ChannelKind::ALL.into_iter().filter(|c| step.has(*c)).map(|c| {
                    let text = match c {
                        ChannelKind::Email => format!("{}: {}", step.email.subject, step.email.text),
                        ChannelKind::Whatsapp if !step.whatsapp.template.trim().is_empty() => format!(
                            "template {} ({}): {}", step.whatsapp.template, step.whatsapp.language,
                            crate::domain::campaign::fill_template(&step.whatsapp.body, &step.whatsapp.params)),
                        _ => step.text(c).to_string(),
                    };
                    (c.label().to_string(), text)
                }).collect();
                view! {
                    <h3>{if i == 0 { "Step 1".to_string() } else { format!("Step {} ({} hours later)", i + 1, step.wait_hours) }}</h3>
                    <dl class="step-content">
                        {lines.into_iter().map(|(c, t)| view! { <dt>{c}</dt><dd>{t}</dd> }).collect_view()}
                    </dl>
                }
            }).collect_view()}
        </section>
    }
}

#[component]
fn Report(d: CampaignDetail) -> impl IntoView {
    let r = d.report;
    if r.rows.is_empty() && r.skipped.is_empty() && r.pending.is_empty() {
        return ().into_any();
    }
    view! {
        <section class="campaign-report" aria-label="Report">
            <h2>"Report"</h2>
            <p>{format!("{} repl{} · {} opted out after being messaged{}", r.replies, if r.replies == 1 { "y" } else { "ies" }, r.opt_outs,
                if r.cancelled > 0 { format!(" · {} cancelled before sending", r.cancelled) } else { String::new() })}</p>
            <p class="hint">"Email reports no delivery: for email, sent is as far as it goes."</p>
            <div class="table-scroll" tabindex="0" role="region" aria-label="Counts by step and channel">
            <table>
                <thead><tr>
                    <th scope="col">"Step"</th><th scope="col">"Channel"</th><th scope="col">"Sent"</th>
                    <th scope="col">"Delivered"</th><th scope="col">"Failed"</th><th scope="col">"By fallback"</th><th scope="col">"Replied"</th>
                </tr></thead>
                <tbody>
                    {r.rows.iter().map(|row| view! {
                        <tr>
                            <td>{(row.step + 1).to_string()}</td>
                            <td>{row.channel.map(|c| c.label()).unwrap_or("none")}</td>
                            <td>{row.sent.to_string()}</td>
                            <td>{row.delivered.to_string()}</td>
                            <td>{row.failed.to_string()}</td>
                            <td>{row.fell_back.to_string()}</td>
                            <td>{row.replied.to_string()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            </div>
            <ul class="skips">
                {r.pending.iter().map(|(s, n)| view! { <li>{format!("Step {}: {n} still to send", s + 1)}</li> }).collect_view()}
                {r.skipped.iter().map(|(s, why, n)| view! { <li>{format!("Step {}: {n} skipped ({})", s + 1, why.label().to_lowercase())}</li> }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}

#[component]
fn Recipients(id: i64, version: RwSignal<u32>, state: RwSignal<String>) -> impl IntoView {
    let items = RwSignal::new(Vec::<RecipientItem>::new());
    let next = RwSignal::new(None::<i64>);
    let error = RwSignal::new(None::<String>);
    let load = move |after: Option<i64>| {
        let s = state.get_untracked();
        leptos::task::spawn_local(async move {
            match campaign_recipients(id, Some(s), after).await {
                Ok(page) => {
                    if after.is_some() {
                        items.update(|v| v.extend(page.items));
                    } else {
                        items.set(page.items);
                    }
                    next.set(page.next);
                    error.set(None);
                }
                Err(e) => error.set(Some(err_text(&e))),
            }
        });
    };
    Effect::new(move |_| {
        version.track();
        state.track();
        load(None);
    });
    view! {
        <section class="recipients" aria-label="Recipients">
            <h2>"Recipients"</h2>
            <label for="recipient-state">"Show"</label>
            <select id="recipient-state" on:change=move |e| state.set(event_target_value(&e))>
                <option value="" selected=move || state.get().is_empty()>"All"</option>
                {["planned", "waiting", "sent", "delivered", "failed", "skipped", "replied", "opted_out", "cancelled"]
                    .into_iter().map(|s| view! { <option value=s selected=move || state.get() == s>{state_label(s)}</option> }).collect_view()}
            </select>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <ul class="recipient-list">
                {move || items.get().into_iter().map(|r| view! {
                    <li class=format!("recipient state-{}", r.state)>
                        <span class="name">
                            {match r.conversation_id {
                                Some(c) => view! { <a href=format!("/inbox/{c}")>{r.name.clone()}</a> }.into_any(),
                                None => view! { <span>{r.name.clone()}</span> }.into_any(),
                            }}
                        </span>
                        <span class="badge">{state_label(&r.state)}</span>
                        {r.channel.map(|c| view! { <span class="channel">{format!("on {}", c.label())}</span> })}
                        {(!r.fell_back_from.is_empty()).then(|| view! {
                            <span class="fell-back">{format!("fell back from {}", r.fell_back_from.iter().map(|c| c.label()).collect::<Vec<_>>().join(", "))}</span>
                        })}
                        <span class="step">{format!("step {}", r.step + 1)}</span>
                        {r.reason.clone().map(|w| view! { <span class="reason">{w}</span> })}
                        {r.waiting_until.map(|t| view! { <span class="until">"Waits until "<Time ms=t/></span> })}
                    </li>
                }).collect_view()}
            </ul>
            {move || next.get().map(|n| view! {
                <button type="button" class="secondary" on:click=move |_| load(Some(n))>"More recipients"</button>
            })}
        </section>
    }
}
