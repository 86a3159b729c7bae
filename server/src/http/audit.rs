//! `GET /admin/audit.csv`: the audit trail (as filtered on the admin page) as CSV, for admins;
//! the export is itself recorded. Also the one place other exports record themselves.

use super::auth::{need, Authorized};
use super::download::download_response;
use app::domain::audit::{since_ms, AuditAction};
use app::domain::localtime::{format_rfc3339, Zone};
use app::ssr::AppState;
use app::store::audit::{self, Filter, NewEntry};
use app::store::users::UserRow;
use app::store::{now_ms, Db};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::net::SocketAddr;

/// The most rows one export holds (newest first); a longer trail is exported by period.
const MAX_ROWS: usize = 100_000;
const PAGE: i64 = 1_000;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    period: String,
}

/// Records that `user` exported `what` from `ip`.
pub async fn record_export(db: &Db, user: &UserRow, what: &str, ip: Option<SocketAddr>) {
    let actor = app::ssr::audit::who(&user.view());
    let ip = ip.map(|a| a.ip().to_string());
    app::ssr::audit::write(
        db,
        &NewEntry {
            actor_id: Some(user.id),
            actor: &actor,
            action: AuditAction::Export,
            target: what,
            detail: "",
            ip: ip.as_deref(),
        },
    )
    .await
}

pub async fn export_handler(
    admin: Authorized<need::ManageUsers>,
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Query(q): Query<AuditQuery>,
) -> Response {
    let mut filter = Filter {
        action: AuditAction::parse(q.action.trim()),
        actor: Some(q.actor.clone()),
        since: since_ms(q.period.trim(), now_ms()),
        before: None,
    };
    let utc = Zone::utc_fallback();
    let mut out = String::new();
    app::domain::csv::push_row(
        &mut out,
        [
            "time (UTC)",
            "actor",
            "action",
            "target",
            "detail",
            "address",
        ]
        .into_iter(),
    );
    let mut rows = 0usize;
    loop {
        let page = match audit::list(&state.db, &filter, PAGE).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "audit export");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The audit trail could not be read; try again.",
                )
                    .into_response();
            }
        };
        let Some(last) = page.last().map(|e| e.id) else {
            break;
        };
        for e in &page {
            let time = format_rfc3339(e.at, &utc);
            let action = AuditAction::parse(&e.action).map_or(e.action.as_str(), |a| a.label());
            app::domain::csv::push_row(
                &mut out,
                [
                    time.as_str(),
                    &e.actor,
                    action,
                    &e.target,
                    &e.detail,
                    e.ip.as_deref().unwrap_or(""),
                ]
                .into_iter(),
            );
            rows += 1;
        }
        if rows >= MAX_ROWS || (page.len() as i64) < PAGE {
            break;
        }
        filter.before = Some(last);
    }
    record_export(
        &state.db,
        &admin.user,
        &format!("audit trail ({rows} entries)"),
        Some(ip),
    )
    .await;
    download_response(out.into_bytes(), "text/csv", "audit-trail.csv", "no-store")
}
