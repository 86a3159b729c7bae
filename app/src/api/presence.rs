//! Collision: who else has a conversation open and who is writing a reply. Nothing is stored:
//! each browser announces itself every few seconds on the live stream, and the others forget
//! an agent who stopped announcing.

use leptos::prelude::*;

/// Announces the signed-in agent on conversation `id`: `viewing`, `typing` or `left`.
#[server(endpoint = "conversation/presence")]
pub async fn announce_presence(id: i64, state: String) -> Result<(), ServerFnError> {
    use crate::domain::Permission;
    use crate::model::{LiveEvent, LiveKind, Presence, PresenceState};
    use crate::ssr::{auth, errors};
    let st = auth::state()?;
    let u = auth::require(Permission::ReadConversations).await?;
    let state = match state.as_str() {
        "viewing" => PresenceState::Viewing,
        "typing" => PresenceState::Typing,
        "left" => PresenceState::Left,
        _ => return Err(errors::bad_request("state is viewing, typing or left")),
    };
    if id <= 0 {
        return Err(errors::bad_request("no such conversation"));
    }
    st.hub
        .publish(LiveEvent {
            kind: LiveKind::Presence,
            conversation_id: Some(id),
            message_id: None,
            presence: Some(Presence {
                user_id: u.id,
                name: u.name,
                state,
            }),
        })
        .await;
    Ok(())
}
