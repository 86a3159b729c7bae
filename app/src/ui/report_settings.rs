//! Report settings (`/reports/settings`, admins): the reporting time zone, the inactivity
//! period that ends an episode, and business hours. A separate wasm chunk. Saving asks the
//! server for a rebuild of the report rollups, which runs in the background; the page says so
//! until it is done. Works without JavaScript (the form posts, errors come back in words).

use super::{err_text, forget_error, no_access, Authed, CurrentUser};
use crate::api::reports::{get_report_settings, SaveReportSettings};
use crate::domain::Permission;
use crate::model::ReportSettings;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{lazy_route, LazyRoute};

pub struct ReportSettingsRoute;

#[lazy_route]
impl LazyRoute for ReportSettingsRoute {
    fn data() -> Self {
        ReportSettingsRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <Authed><Settings/></Authed> }.into_any()
    }
}

#[component]
fn Settings() -> impl IntoView {
    if !expect_context::<CurrentUser>().can(Permission::ManageReportSettings) {
        return no_access("Report settings");
    }
    let save = ServerAction::<SaveReportSettings>::new();
    let current = Resource::new(move || save.version().get(), |_| get_report_settings());
    view! {
        <Title text="Report settings · Convergence"/>
        <main class="report-settings" id="main">
            <h1>"Report settings"</h1>
            <p><a href="/reports">"Back to the reports"</a></p>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match current.await {
                        Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
                        Ok(s) => form(save, s).into_any(),
                    }
                })}
            </Transition>
            {move || save.value().get().map(|r| match r {
                Ok(words) => view! { <p class="ok" role="status">{words}</p> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
            })}
        </main>
    }
    .into_any()
}

fn form(save: ServerAction<SaveReportSettings>, s: ReportSettings) -> impl IntoView {
    let forget = forget_error(save);
    view! {
        {s.recomputing.then(|| view! {
            <p class="report-notice" role="status">
                "The reports are being recomputed with these settings; until that is done, some \
                 figures follow the previous ones."
            </p>
        })}
        <ActionForm action=save attr:class="settings-form" on:input=forget on:change=forget>
            <label for="rs-zone">"Time zone"</label>
            <input id="rs-zone" name="time_zone" value=s.time_zone required autocomplete="off" maxlength="64"
                spellcheck="false" aria-describedby="rs-zone-hint"/>
            <p id="rs-zone-hint" class="hint">
                "Days and hours are counted in it: a name such as Europe/Paris, America/New_York \
                 or UTC."
            </p>
            <label for="rs-inactivity">"An episode ends after this many quiet days"</label>
            <input id="rs-inactivity" name="inactivity_days" type="number" min="1" max="90"
                required value=s.inactivity_days.to_string() aria-describedby="rs-inactivity-hint"/>
            <p id="rs-inactivity-hint" class="hint">
                "A customer message after that long, or after a resolution, starts a new episode."
            </p>
            <label for="rs-hours">"Business hours"</label>
            <input id="rs-hours" name="business_hours" value=s.business_hours autocomplete="off" maxlength="300"
                placeholder="Mon-Fri 09:00-17:00" aria-describedby="rs-hours-hint"/>
            <p id="rs-hours-hint" class="hint">
                "Days and opening hours on a 24-hour clock, separated by commas, for example \
                 Mon-Fri 09:00-17:30, Sat 10:00-14:00. Every response and resolution time is then \
                 also shown counted inside them. Leave empty for none."
            </p>
            <button type="submit" class="primary">"Save and recompute"</button>
        </ActionForm>
    }
}
