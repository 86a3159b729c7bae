//! `GET /reports/export.csv` (one table of the reports page, as on screen) and
//! `GET /reports/episodes.csv` (one row per episode of the range and filters), for staff who
//! may read the reports; the cross-channel tables and measures need the marketing reports
//! permission, as on the page.

use super::auth::{need, Authorized};
use super::download::content_disposition;
use app::domain::Permission;
use app::model::{DrillQuery, ReportQuery};
use app::service::report_view;
use app::ssr::AppState;
use app::store::StoreError;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct SectionParam {
    #[serde(default)]
    section: String,
}

fn csv(body: String, filename: &str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&content_disposition(filename)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn error(e: StoreError) -> Response {
    match e {
        StoreError::Invalid(m) | StoreError::Conflict(m) => {
            (StatusCode::BAD_REQUEST, m).into_response()
        }
        StoreError::NotFound => (StatusCode::NOT_FOUND, "Not found.").into_response(),
        other => {
            tracing::error!(error = %other, "report export");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response()
        }
    }
}

fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        "The cross-channel reports are for marketing staff and admins.",
    )
        .into_response()
}

const MARKETING_MEASURES: [&str; 4] = ["switched", "moved", "repeated", "window_expired"];

pub async fn export_handler(
    staff: Authorized<need::ViewReports>,
    State(state): State<AppState>,
    Query(query): Query<ReportQuery>,
    Query(p): Query<SectionParam>,
) -> Response {
    let marketing = staff.user.role.allows(Permission::ViewMarketingReports);
    if matches!(query.tab.as_str(), "cross" | "reach") && !marketing {
        return forbidden();
    }
    let page = match report_view::page(&state.db, &query, marketing).await {
        Ok(p) => p,
        Err(e) => return error(e),
    };
    match report_view::section_csv(&page, &p.section) {
        Some(body) => csv(
            body,
            &format!(
                "convergence-{}-{}-{}.csv",
                p.section, page.query.from, page.query.to
            ),
        ),
        None => (
            StatusCode::NOT_FOUND,
            format!("There is no table {:?} on this report.", p.section),
        )
            .into_response(),
    }
}

pub async fn episodes_handler(
    staff: Authorized<need::ViewReports>,
    State(state): State<AppState>,
    Query(query): Query<ReportQuery>,
    Query(drill): Query<DrillQuery>,
) -> Response {
    let marketing = staff.user.role.allows(Permission::ViewMarketingReports);
    if (matches!(query.tab.as_str(), "cross" | "reach")
        || MARKETING_MEASURES.contains(&drill.metric.as_str()))
        && !marketing
    {
        return forbidden();
    }
    match report_view::episodes_csv(&state.db, &query, &drill).await {
        Ok(body) => csv(body, "convergence-episodes.csv"),
        Err(e) => error(e),
    }
}
