//! The audit trail for admins: a filtered page of it, newest first.

use crate::model::AuditPage;
use leptos::prelude::*;

/// Entries per page.
pub const PAGE: i64 = 50;

/// One page of the trail: `action` (a stored action name or empty), `actor` (part of a name or
/// email), `period` (`day`, `week`, `month` or empty for all), `before` (continue after an id).
#[server(endpoint = "admin/audit", output = crate::api::codec::JsonText)]
pub async fn audit_log(
    action: String,
    actor: String,
    period: String,
    before: Option<i64>,
) -> Result<AuditPage, ServerFnError> {
    use crate::domain::{audit, Permission};
    use crate::ssr::{auth, errors};
    use crate::store::audit::{list, Filter};
    let st = auth::state()?;
    auth::require(Permission::ManageUsers).await?;
    let filter = Filter {
        action: audit::AuditAction::parse(action.trim()),
        actor: Some(actor),
        since: audit::since_ms(period.trim(), crate::store::now_ms()),
        before,
    };
    let mut entries = list(&st.db, &filter, PAGE + 1)
        .await
        .map_err(errors::store)?;
    let older = (entries.len() as i64 > PAGE).then(|| {
        entries.truncate(PAGE as usize);
        entries.last().map(|e| e.id).unwrap_or(0)
    });
    Ok(AuditPage { entries, older })
}
