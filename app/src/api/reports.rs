//! Reports: the page of a tab and the episodes behind a number. Support staff see the support
//! tab; the cross-channel tab and its drill-downs need the marketing reports permission.

use crate::model::{DrillQuery, EpisodeList, ReportPage, ReportQuery, ReportSettings};
use leptos::prelude::*;

/// The caller, allowed to see what `query` asks; whether they may see the marketing reports.
#[cfg(feature = "ssr")]
async fn authorize(query: &ReportQuery, drill: Option<&DrillQuery>) -> Result<bool, ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::auth;
    if query.marketing_only(drill) {
        let u = auth::require(Permission::ViewReports).await?;
        if !u.role.allows(Permission::ViewMarketingReports) {
            return Err(crate::ssr::errors::fail(
                http::StatusCode::FORBIDDEN,
                "You do not have permission to see the cross-channel reports: they are for \
                 marketing staff and admins.",
            ));
        }
        return Ok(true);
    }
    let u = auth::require(Permission::ViewReports).await?;
    Ok(u.role.allows(Permission::ViewMarketingReports))
}

#[server(endpoint = "reports", output = crate::api::codec::JsonText)]
pub async fn get_report(query: ReportQuery) -> Result<ReportPage, ServerFnError> {
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    let marketing = authorize(&query, None).await?;
    crate::service::report_view::page(&st.db, &query, marketing)
        .await
        .map_err(errors::store)
}

#[server(endpoint = "reports/episodes", output = crate::api::codec::JsonText)]
pub async fn get_report_episodes(
    query: ReportQuery,
    drill: DrillQuery,
) -> Result<EpisodeList, ServerFnError> {
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    let marketing = authorize(&query, Some(&drill)).await?;
    let zone = crate::api::zone::request_zone();
    crate::service::report_view::episodes(&st.db, &query, &drill, marketing, &zone)
        .await
        .map_err(errors::store)
}

#[server(endpoint = "reports/settings", output = crate::api::codec::JsonText)]
pub async fn get_report_settings() -> Result<ReportSettings, ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    auth::require(Permission::ManageReportSettings).await?;
    crate::service::reports::settings_view(&st.db)
        .await
        .map_err(errors::store)
}

/// Saves the reporting settings; answers in words what happens next.
#[server(endpoint = "reports/settings/save")]
pub async fn save_report_settings(
    time_zone: String,
    inactivity_days: String,
    business_hours: String,
) -> Result<String, ServerFnError> {
    use crate::api::channels::edge;
    use crate::domain::Permission;
    use crate::ssr::auth;
    let st = auth::state()?;
    let me = auth::require(Permission::ManageReportSettings).await?;
    // Refusals keep a plain form post's redirect back to the page, which shows them.
    let days: i64 = inactivity_days.trim().parse().map_err(|_| {
        edge::refuse("the inactivity period must be a whole number of days, from 1 to 90")
    })?;
    let said = crate::service::reports::save_from_form(&st.db, &time_zone, days, &business_hours)
        .await
        .map_err(edge::store)?;
    crate::ssr::audit::record(
        &st.db,
        Some(&me),
        None,
        crate::domain::audit::AuditAction::SettingsChanged,
        "report settings",
        &format!(
            "time zone {}, inactivity {days} days, business hours {}",
            time_zone.trim(),
            business_hours.trim()
        ),
    )
    .await;
    Ok(said)
}
