//! An outbound message whose delivery failed or has an unknown outcome: an agent retries it,
//! sends it again, or cancels it; an admin retries every failed message of a channel account.

#[cfg(feature = "ssr")]
use crate::model::{LiveEvent, LiveKind};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
async fn publish(st: &crate::ssr::AppState, conversation_id: i64, message_id: i64) {
    st.hub
        .publish(LiveEvent {
            kind: LiveKind::Delivery,
            conversation_id: Some(conversation_id),
            message_id: Some(message_id),
            presence: None,
        })
        .await;
}

/// Queues a failed or delivery-unknown message again ("Retry", "Send again"), with a fresh
/// retry horizon. Answers whether it was queued (false: it was not in such a state).
#[server(endpoint = "message/retry")]
pub async fn retry_message(id: i64) -> Result<bool, ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    use crate::store::outbox;
    let st = auth::state()?;
    auth::require(Permission::Reply).await?;
    let Some(conversation) = outbox::conversation_of(&st.db, id)
        .await
        .map_err(errors::store)?
    else {
        return Err(errors::bad_request("There is no such outgoing message."));
    };
    let queued = outbox::requeue(&st.db, id, true)
        .await
        .map_err(errors::store)?;
    if queued {
        st.wake.outbox.notify_one();
        publish(&st, conversation, id).await;
    }
    Ok(queued)
}

/// Cancels a failed, delivery-unknown or retrying message: it is not sent (again), and no
/// longer offered for retry. Answers whether it was cancelled (false: it is being sent now,
/// or was sent).
#[server(endpoint = "message/cancel")]
pub async fn cancel_message(id: i64) -> Result<bool, ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    use crate::store::outbox;
    let st = auth::state()?;
    let u = auth::require(Permission::Reply).await?;
    let Some(conversation) = outbox::conversation_of(&st.db, id)
        .await
        .map_err(errors::store)?
    else {
        return Err(errors::bad_request("There is no such outgoing message."));
    };
    let reason = format!("Cancelled by {}: not sent.", u.name);
    let cancelled = outbox::cancel(&st.db, id, &reason)
        .await
        .map_err(errors::store)?;
    if cancelled {
        publish(&st, conversation, id).await;
    }
    Ok(cancelled)
}

/// Queues every failed message of channel account `id` again (admins). Answers how many.
#[server(endpoint = "admin/channels/retry-failed")]
pub async fn retry_account_failed(id: i64) -> Result<i64, ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::{auth, errors};
    use crate::store::outbox;
    let st = auth::state()?;
    auth::require(Permission::ManageChannels).await?;
    let mut n = 0;
    for mid in outbox::failed_of_account(&st.db, id)
        .await
        .map_err(errors::store)?
    {
        if outbox::requeue(&st.db, mid, false)
            .await
            .map_err(errors::store)?
        {
            n += 1;
            if let Ok(Some(c)) = outbox::conversation_of(&st.db, mid).await {
                publish(&st, c, mid).await;
            }
        }
    }
    if n > 0 {
        st.wake.outbox.notify_one();
    }
    Ok(n)
}
