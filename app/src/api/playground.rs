use crate::model::PlaygroundMessage;
use leptos::prelude::*;

/// Writes as a customer on a playground channel. The message is stored raw and goes through
/// the same ingest worker as a real channel's webhook.
#[server(endpoint = "playground/send")]
pub async fn playground_send(
    channel: String,
    identifier: String,
    name: String,
    body: String,
) -> Result<(), ServerFnError> {
    use crate::domain::{ChannelKind, Permission};
    use crate::ssr::{auth, errors};
    use crate::store::{channel_accounts, now_ms, raw_inbound};
    let st = auth::state()?;
    auth::require(Permission::UsePlayground).await?;
    let ch = ChannelKind::parse(&channel).ok_or_else(|| errors::bad_request("choose a channel"))?;
    ch.identifier_kind()
        .normalize(&identifier)
        .map_err(|e| errors::bad_request(e.to_string()))?;
    if body.trim().is_empty() {
        return Err(errors::bad_request("write a message"));
    }
    if body.chars().count() > 10_000 {
        return Err(errors::bad_request(
            "a playground message can have at most 10,000 characters",
        ));
    }
    let account = channel_accounts::playground_for(&st.db, ch)
        .await
        .map_err(errors::store)?
        .ok_or_else(|| errors::bad_request("no playground account for that channel"))?;
    let id = format!("pg-{}-{:016x}", now_ms(), rand::random::<u64>());
    let payload = serde_json::json!({
        "id": id, "from": identifier.trim(), "name": name.trim(), "text": body, "at": now_ms(),
    });
    raw_inbound::store(
        &st.db,
        account.id,
        &id,
        "application/json",
        payload.to_string().as_bytes(),
    )
    .await
    .map_err(errors::store)?;
    st.wake.inbound.notify_one();
    Ok(())
}

/// The thread between one customer identifier and the business on a playground channel, as
/// the customer sees it.
#[server(endpoint = "playground/thread", output = crate::api::codec::JsonText)]
pub async fn playground_thread(
    channel: String,
    identifier: String,
) -> Result<Vec<PlaygroundMessage>, ServerFnError> {
    use crate::domain::{ChannelKind, Permission};
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    auth::require(Permission::UsePlayground).await?;
    let Some(ch) = ChannelKind::parse(&channel) else {
        return Ok(vec![]);
    };
    crate::store::messages::playground_thread(&st.db, ch, &identifier)
        .await
        .map_err(errors::store)
}
