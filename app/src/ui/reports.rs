//! Reports (`/reports`) and the episodes behind a number (`/reports/episodes`): a separate wasm
//! chunk loaded when opened. The server lays the page out (numbers as text, charts as SVG), so
//! this code only places it; the filters are a plain GET form and every number a link, so the
//! page works the same without JavaScript.

use super::{err_text, no_access, Authed, CurrentUser};
use crate::api::reports::{get_report, get_report_episodes};
use crate::domain::{ChannelKind, Permission};
use crate::model::{Cell, DrillQuery, EpisodeList, ReportPage, ReportQuery, Section};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use leptos_router::{lazy_route, LazyRoute};

pub struct ReportsRoute;

#[lazy_route]
impl LazyRoute for ReportsRoute {
    fn data() -> Self {
        ReportsRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <Authed><Reports/></Authed> }.into_any()
    }
}

pub struct EpisodesRoute;

#[lazy_route]
impl LazyRoute for EpisodesRoute {
    fn data() -> Self {
        EpisodesRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <Authed><Episodes/></Authed> }.into_any()
    }
}

/// The report query of the current URL.
fn url_query() -> Memo<ReportQuery> {
    let q = use_query_map();
    Memo::new(move |_| {
        let m = q.read();
        let get = |k: &str| m.get(k).unwrap_or_default();
        ReportQuery {
            tab: get("tab"),
            range: get("range"),
            from: get("from"),
            to: get("to"),
            group: get("group"),
            channel: get("channel"),
            agent: get("agent"),
        }
    })
}

#[component]
fn Reports() -> impl IntoView {
    if !expect_context::<CurrentUser>().can(Permission::ViewReports) {
        return no_access("Reports");
    }
    let query = url_query();
    let page = Resource::new(move || query.get(), get_report);
    view! {
        <Title text="Reports · Convergence"/>
        <main class="reports" id="main">
            <Transition fallback=|| view! { <h1>"Reports"</h1><p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Err(e) => view! {
                            <h1>"Reports"</h1>
                            <p class="error" role="alert">{err_text(&e)}</p>
                            <p><a href="/reports">"Show the last 30 days"</a></p>
                        }
                        .into_any(),
                        Ok(p) => report(p).into_any(),
                    }
                })}
            </Transition>
        </main>
    }
    .into_any()
}

fn report(p: ReportPage) -> impl IntoView {
    let can_configure = expect_context::<CurrentUser>().can(Permission::ManageReportSettings);
    let q = p.query.clone();
    let qs = q.to_query_string(None);
    let tabs = p
        .tabs
        .iter()
        .map(|t| {
            let current = (t.id == q.tab).then_some("page");
            view! {
                <a href=format!("/reports?{}", q.to_query_string(Some(&t.id))) aria-current=current>
                    {t.label.clone()}
                </a>
            }
        })
        .collect_view();
    let cards = p
        .cards
        .iter()
        .map(|c| {
            let change_class = match c.good {
                Some(true) => "change good",
                Some(false) => "change bad",
                None => "change",
            };
            let body = view! {
                <span class="card-label">{c.label.clone()}</span>
                <strong class="card-value">{c.value.clone()}</strong>
                <span class=change_class>{c.change.clone()}</span>
                {(!c.previous.is_empty()).then(|| view! {
                    <span class="card-previous">"Before: "{c.previous.clone()}</span>
                })}
            };
            match &c.href {
                Some(h) => view! { <li><a class="card" href=h.clone()>{body}</a></li> }.into_any(),
                None => view! { <li><div class="card">{body}</div></li> }.into_any(),
            }
        })
        .collect_view();
    let sections = p.sections.iter().map(|s| section(s, &qs)).collect_view();
    let definitions = p
        .definitions
        .iter()
        .map(|(n, d)| view! { <dt>{n.clone()}</dt><dd>{d.clone()}</dd> })
        .collect_view();
    let episodes_csv = format!("/reports/episodes.csv?{qs}");
    view! {
        <h1>"Reports"</h1>
        <nav class="report-tabs" aria-label="Reports">{tabs}</nav>
        {filters(&p)}
        <p class="report-period">
            <strong>{p.period.clone()}</strong>
            " compared with "{p.previous_period.clone()}". Days in "{p.time_zone.clone()}"."
            {can_configure.then(|| view! { " " <a href="/reports/settings">"Report settings"</a> })}
        </p>
        {p.notice.clone().map(|n| view! { <p class="report-notice" role="status">{n}</p> })}
        <ul class="report-cards" aria-label="Headline figures">{cards}</ul>
        {sections}
        <p class="report-export">
            <a href=episodes_csv download>"Download every episode of this range (CSV)"</a>
        </p>
        <details class="report-definitions">
            <summary>"How is this measured?"</summary>
            <dl>{definitions}</dl>
        </details>
    }
}

fn filters(p: &ReportPage) -> impl IntoView {
    let q = &p.query;
    let option = |value: &str, label: &str, current: &str| {
        view! { <option value=value.to_string() selected=value == current>{label.to_string()}</option> }
    };
    let ranges = [
        ("7", "Last 7 days"),
        ("30", "Last 30 days"),
        ("90", "Last 90 days"),
        ("custom", "From – to below"),
    ]
    .map(|(v, l)| option(v, l, &q.range))
    .into_iter()
    .collect_view();
    let groups = [("day", "Day"), ("week", "Week"), ("month", "Month")]
        .map(|(v, l)| option(v, l, &q.group))
        .into_iter()
        .collect_view();
    let channels = std::iter::once(option("", "All channels", &q.channel))
        .chain(
            ChannelKind::ALL
                .into_iter()
                .map(|c| option(c.as_str(), c.label(), &q.channel)),
        )
        .collect_view();
    let agents = std::iter::once(option("", "All agents", &q.agent))
        .chain(
            p.agents
                .iter()
                .map(|(id, name)| option(&id.to_string(), name, &q.agent)),
        )
        .collect_view();
    view! {
        <form class="report-filters" method="get" action="/reports">
            <input type="hidden" name="tab" value=q.tab.clone()/>
            <label>"Range"<select name="range">{ranges}</select></label>
            <label>"From"<input type="date" name="from" value=q.from.clone()/></label>
            <label>"To"<input type="date" name="to" value=q.to.clone()/></label>
            <label>"Group by"<select name="group">{groups}</select></label>
            <label>"Channel"<select name="channel">{channels}</select></label>
            <label>"Agent"<select name="agent">{agents}</select></label>
            <button type="submit" class="primary">"Show"</button>
        </form>
    }
}

fn cell(c: &Cell, header: bool) -> AnyView {
    let style = c
        .shade
        .map(|s| format!("--shade: {:.2}", f64::from(s) / 100.0));
    let class = c.shade.map(|_| "shade");
    let inner = match &c.href {
        Some(h) => view! { <a href=h.clone()>{c.text.clone()}</a> }.into_any(),
        None => c.text.clone().into_any(),
    };
    if header {
        view! { <th scope="row">{inner}</th> }.into_any()
    } else {
        view! { <td class=class style=style>{inner}</td> }.into_any()
    }
}

fn section(s: &Section, qs: &str) -> impl IntoView {
    let head = s
        .table
        .head
        .iter()
        .map(|h| view! { <th scope="col">{h.clone()}</th> })
        .collect_view();
    let rows = s
        .table
        .rows
        .iter()
        .map(|r| {
            let cells = r
                .iter()
                .enumerate()
                .map(|(i, c)| cell(c, i == 0))
                .collect_view();
            view! { <tr>{cells}</tr> }
        })
        .collect_view();
    let empty = s.table.rows.is_empty();
    let title_id = format!("report-{}", s.id);
    let labelled_by = title_id.clone();
    let csv = format!("/reports/export.csv?{qs}&section={}", s.id);
    view! {
        <section class="report-section" id=s.id.clone() aria-labelledby=labelled_by>
            <h2 id=title_id>{s.title.clone()}</h2>
            {s.note.clone().map(|n| view! { <p class="hint">{n}</p> })}
            {s.svg.clone().map(|svg| view! { <div class="chart-wrap" aria-hidden="true" inner_html=svg></div> })}
            {if empty {
                view! { <p class="empty">"Nothing in this range."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap" tabindex="0" role="region" aria-label=format!("Table: {}", s.table.caption)>
                        <table>
                            <caption>{s.table.caption.clone()}</caption>
                            <thead><tr>{head}</tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                }
                .into_any()
            }}
            <p class="report-export"><a href=csv download>"Download this table (CSV)"</a></p>
        </section>
    }
}

#[component]
fn Episodes() -> impl IntoView {
    if !expect_context::<CurrentUser>().can(Permission::ViewReports) {
        return no_access("Reports");
    }
    let query = url_query();
    let q = use_query_map();
    let drill = Memo::new(move |_| {
        let m = q.read();
        let get = |k: &str| m.get(k).unwrap_or_default();
        DrillQuery {
            metric: get("metric"),
            first: get("first"),
            resolved_on: get("resolved_on"),
            reply_channel: get("reply_channel"),
            handled_by: get("handled_by"),
        }
    });
    let list = Resource::new(
        move || (query.get(), drill.get()),
        |(q, d)| get_report_episodes(q, d),
    );
    view! {
        <Title text="Episodes · Reports · Convergence"/>
        <main class="reports" id="main">
            <Transition fallback=|| view! { <h1>"Episodes"</h1><p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Err(e) => view! {
                            <h1>"Episodes"</h1>
                            <p class="error" role="alert">{err_text(&e)}</p>
                            <p><a href="/reports">"Back to the reports"</a></p>
                        }
                        .into_any(),
                        Ok(l) => episodes(l, &query.get_untracked(), &drill.get_untracked()).into_any(),
                    }
                })}
            </Transition>
        </main>
    }
    .into_any()
}

fn episodes(l: EpisodeList, q: &ReportQuery, d: &DrillQuery) -> impl IntoView {
    let csv = format!(
        "/reports/episodes.csv?{}{}",
        q.to_query_string(None),
        d.to_query_string()
    );
    let shown = l.lines.len() as i64;
    let rows = l
        .lines
        .into_iter()
        .map(|e| {
            view! {
                <tr>
                    <th scope="row"><a href=format!("/inbox/{}", e.conversation_id)>{e.customer}</a></th>
                    <td>{e.started}</td>
                    <td>{e.first_channel}</td>
                    <td>{e.resolution_channel}</td>
                    <td>{e.first_response}</td>
                    <td>{e.resolution}</td>
                    <td>{e.flags}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p><a href=l.back.clone()>"← Reports"</a></p>
        <h1>{l.title.clone()}</h1>
        <p class="report-period">
            {if l.total > shown {
                format!("{} episodes; the newest {shown} are listed.", l.total)
            } else {
                format!("{} episodes.", l.total)
            }}
        </p>
        <div class="table-wrap" tabindex="0" role="region" aria-label="Table: episodes">
            <table>
                <caption>"Episodes, newest first"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Customer"</th>
                        <th scope="col">"Started"</th>
                        <th scope="col">"First channel"</th>
                        <th scope="col">"Resolved on"</th>
                        <th scope="col">"First response"</th>
                        <th scope="col">"Resolution"</th>
                        <th scope="col">"Notes"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <p class="report-export"><a href=csv download>"Download these episodes (CSV)"</a></p>
    }
}
