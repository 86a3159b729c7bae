//! Consent per identifier and purpose: read it with its history (every role), record a change
//! with a reason (marketing consent: every role; support consent: agents and admins).

use crate::model::CustomerConsent;
use leptos::prelude::*;

/// Every identifier of the customer with the consent that holds and its changes.
#[server(endpoint = "customer/consent", output = crate::api::codec::JsonText)]
pub async fn get_customer_consent(customer_id: i64) -> Result<CustomerConsent, ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    auth::require(Permission::ReadConversations).await?;
    crate::store::consent::customer_consent(&st.db, customer_id)
        .await
        .map_err(errors::store)
}

/// Records a consent change for one identifier: `purpose` support or marketing, `granted`
/// yes or no, the `reason` in words; `all_channels` (a checkbox) makes a marketing opt-out
/// apply to every identifier of the customer.
#[server(endpoint = "customer/consent/record")]
pub async fn record_consent(
    identifier_id: i64,
    purpose: String,
    granted: String,
    reason: String,
    all_channels: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::domain::consent::Purpose;
    use crate::domain::Permission;

    use crate::service::consent::{record_by_agent, AgentChange};
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    let u = auth::require(Permission::ManageConsent).await?;
    let purpose = Purpose::parse(purpose.trim())
        .ok_or_else(|| errors::bad_request("Choose support or marketing."))?;
    if purpose == Purpose::Support && !u.role.allows(Permission::ManageConversations) {
        return Err(errors::fail(
            http::StatusCode::FORBIDDEN,
            "You do not have permission to change consent to support answers; you may record marketing consent.",
        ));
    }
    let granted = match granted.trim() {
        "yes" | "granted" => true,
        "no" | "opted_out" => false,
        _ => return Err(errors::bad_request("Choose granted or opted out.")),
    };
    let all_channels = all_channels
        .as_deref()
        .map(str::trim)
        .is_some_and(|v| !matches!(v, "" | "no" | "false" | "off"));
    let change = AgentChange {
        identifier_id,
        purpose,
        granted,
        reason,
        all_channels,
    };
    let conversation = record_by_agent(&st.db, &change, u.id, &u.name)
        .await
        .map_err(errors::store)?;
    crate::ssr::audit::record(
        &st.db,
        Some(&u),
        None,
        crate::domain::audit::AuditAction::ConsentChanged,
        &format!("identifier {identifier_id}"),
        &format!(
            "{} {}{}{}",
            change.purpose.as_str(),
            if change.granted {
                "granted"
            } else {
                "opted out"
            },
            if change.all_channels {
                " on every channel"
            } else {
                ""
            },
            if change.reason.trim().is_empty() {
                String::new()
            } else {
                format!(": {}", change.reason.trim())
            }
        ),
    )
    .await;
    if let Some(c) = conversation {
        st.hub.conversation_changed(c).await;
    }
    Ok(())
}
