//! The audit trail on the admin page: who did what, from where, newest first. Filtered by a
//! plain GET form (the URL holds the filter, so it works without JavaScript and can be
//! bookmarked), paged with "Older entries", exported as CSV with the same filter.

use crate::api::audit::audit_log;
use crate::domain::audit::AuditAction;
use crate::domain::text::url_encode;
use crate::ui::err_text;
use crate::ui::widgets::Time;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AuditTrail() -> impl IntoView {
    let query = use_query_map();
    let part = move |k: &str| query.with(|q| q.get(k).unwrap_or_default());
    let filter = move || {
        (
            part("action"),
            part("actor"),
            part("period"),
            part("before").parse::<i64>().ok(),
        )
    };
    let page = Resource::new(filter, |(action, actor, period, before)| {
        audit_log(action, actor, period, before)
    });
    let link = move |extra: &str| {
        let (action, actor, period, _) = filter();
        format!(
            "action={}&actor={}&period={}{extra}",
            url_encode(&action),
            url_encode(&actor),
            url_encode(&period)
        )
    };
    view! {
        <section aria-labelledby="audit-title" id="audit-log">
            <h2 id="audit-title">"Audit trail"</h2>
            <p class="hint">"Sign-ins, user and channel changes, exports, merges, consent changes by staff, campaign approvals and settings. Entries are only ever added."</p>
            <form method="get" action="/admin" class="audit-filter" aria-label="Filter the audit trail">
                <span class="field">
                <label for="audit-action">"Action"</label>
                <select id="audit-action" name="action">
                    <option value="" selected=move || part("action").is_empty()>"Any action"</option>
                    {AuditAction::ALL.into_iter().map(|a| view! {
                        <option value=a.as_str() selected=move || part("action") == a.as_str()>{a.label()}</option>
                    }).collect_view()}
                </select>
                </span>
                <span class="field">
                <label for="audit-actor">"Who"</label>
                <input id="audit-actor" name="actor" type="search" placeholder="Name or email, acting or acted on" prop:value=move || part("actor")/>
                </span>
                <span class="field">
                <label for="audit-period">"When"</label>
                <select id="audit-period" name="period">
                    {[("", "Any time"), ("day", "Last 24 hours"), ("week", "Last 7 days"), ("month", "Last 30 days")].into_iter().map(|(v, l)| view! {
                        <option value=v selected=move || part("period") == v>{l}</option>
                    }).collect_view()}
                </select>
                </span>
                <button type="submit">"Show"</button>
                <a class="button-link" href=move || format!("/admin/audit.csv?{}", link("")) download="">"Export CSV"</a>
            </form>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
                        Ok(p) if p.entries.is_empty() => view! { <p class="empty">"Nothing recorded matches."</p> }.into_any(),
                        Ok(p) => view! {
                            <div class="table-scroll" tabindex="0" role="region" aria-label="Audit entries">
                                <table class="audit">
                                    <thead><tr><th>"When"</th><th>"Who"</th><th>"Action"</th><th>"On"</th><th>"Details"</th><th>"From"</th></tr></thead>
                                    <tbody>
                                        {p.entries.into_iter().map(|e| {
                                            let action = AuditAction::parse(&e.action).map_or(e.action.clone(), |a| a.label().to_string());
                                            view! {
                                                <tr data-action=e.action.clone()>
                                                    <td><Time ms=e.at/></td>
                                                    <td>{e.actor}</td>
                                                    <td>{action}</td>
                                                    <td>{e.target}</td>
                                                    <td class="detail">{e.detail}</td>
                                                    <td>{e.ip.unwrap_or_default()}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            {p.older.map(|id| view! {
                                <a class="older" href=format!("/admin?{}#audit-log", link(&format!("&before={id}")))>"Older entries"</a>
                            })}
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
