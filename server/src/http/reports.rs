//! `GET /reports/export.csv` (one table of the reports page, as on screen) and
//! `GET /reports/episodes.csv` (one row per episode of the range and filters), for staff who
//! may read the reports; the cross-channel tables and measures need the marketing reports
//! permission, as on the page.

use super::auth::{need, Authorized};
use super::download::download_response;
use app::domain::Permission;
use app::model::{DrillQuery, ReportQuery};
use app::service::report_view;
use app::ssr::AppState;
use app::store::StoreError;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Deserialize)]
pub struct SectionParam {
    #[serde(default)]
    section: String,
}

/// A CSV download (the headers of every file we serve, not kept by caches).
fn csv(body: String, filename: &str) -> Response {
    download_response(body.into_bytes(), "text/csv", filename, "no-store")
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

pub async fn export_handler(
    staff: Authorized<need::ViewReports>,
    State(state): State<AppState>,
    Query(query): Query<ReportQuery>,
    Query(p): Query<SectionParam>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
) -> Response {
    let marketing = staff.user.role.allows(Permission::ViewMarketingReports);
    if query.marketing_only(None) && !marketing {
        return forbidden();
    }
    let page = match report_view::page(&state.db, &query, marketing).await {
        Ok(p) => p,
        Err(e) => return error(e),
    };
    match report_view::section_csv(&page, &p.section) {
        Some(body) => {
            let name = format!(
                "convergence-{}-{}-{}.csv",
                p.section, page.query.from, page.query.to
            );
            super::audit::record_export(
                &state.db,
                &staff.user,
                &format!("report table {name}"),
                Some(ip),
            )
            .await;
            csv(body, &name)
        }
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
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
) -> Response {
    let marketing = staff.user.role.allows(Permission::ViewMarketingReports);
    if query.marketing_only(Some(&drill)) && !marketing {
        return forbidden();
    }
    match report_view::episodes_csv(&state.db, &query, &drill, marketing).await {
        Ok(body) => {
            super::audit::record_export(
                &state.db,
                &staff.user,
                &format!("report episodes {} to {}", query.from, query.to),
                Some(ip),
            )
            .await;
            csv(body, "convergence-episodes.csv")
        }
        Err(e) => error(e),
    }
}
