//! What a visitor does: start or resume a session, write, see answers, type.

use super::identity::publish_changes;
use super::{address_key, answer, checked, visitor_of, ChatState, Refused};
use super::{
    MESSAGES_PER_ADDRESS, MESSAGES_PER_VISITOR, NEW_VISITORS_PER_ADDRESS, TOKEN_TTL_MS,
    TYPING_PER_VISITOR,
};
use crate::channels::chat::settings::ChatConfig;
use crate::channels::chat::{self, token, VisitorPayload};
use app::domain::consent::Purpose;
use app::domain::IdentifierKind;
use app::model::{LiveEvent, LiveKind, Presence, PresenceState};
use app::ports::NewRaw;
use app::service::chat::Claim;
use app::store::raw_inbound::Stored;
use app::store::{now_ms, sessions};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};

#[derive(Deserialize)]
pub struct SessionBody {
    #[serde(default)]
    site: String,
    #[serde(default)]
    token: Option<String>,
    /// A "continue in the chat" link's token: the chat opens attached to its customer.
    #[serde(default)]
    invite: Option<String>,
}

/// One message as the widget draws it.
#[derive(Serialize)]
pub struct WidgetMessage {
    pub id: i64,
    /// `visitor` or `agent`.
    pub from: &'static str,
    pub text: String,
    pub at: i64,
    /// The widget's id of a visitor message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// An agent's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Answers: whether the visitor has seen it.
    pub seen: bool,
    /// `email` for a message that continued the chat by email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<&'static str>,
}

impl From<app::store::chat::VisitorMessage> for WidgetMessage {
    fn from(m: app::store::chat::VisitorMessage) -> WidgetMessage {
        let visitor = m.direction == "in";
        WidgetMessage {
            id: m.id,
            from: if visitor { "visitor" } else { "agent" },
            text: m.body_text,
            at: m.created_at,
            client_id: m.provider_message_id.filter(|_| visitor),
            // First names only: the visitor needs no more.
            author: m
                .author
                .filter(|_| !visitor)
                .and_then(|a| a.split_whitespace().next().map(str::to_string)),
            seen: m.delivery_state == "read",
            via: (m.channel == "email").then_some("email"),
        }
    }
}

#[derive(Serialize)]
struct SessionAnswer {
    token: String,
    expires: i64,
    settings: crate::channels::chat::settings::WidgetSettings,
    /// Whether a staff member is signed in.
    online: bool,
    /// The visitor has written before (the pre-chat form is not shown again).
    known: bool,
    messages: Vec<WidgetMessage>,
}

pub async fn session_handler(
    State(st): State<ChatState>,
    Path(chat): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<SessionBody>,
) -> Response {
    let (config, site) = match checked(&st, &chat, &headers, &body.site).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let answer_to = session(
        &st,
        &config,
        peer.ip(),
        body.token.as_deref(),
        body.invite.as_deref(),
    )
    .await;
    answer(&site, answer_to.map(|a| Json(a).into_response()))
}

async fn session(
    st: &ChatState,
    config: &ChatConfig,
    ip: IpAddr,
    presented: Option<&str>,
    invite: Option<&str>,
) -> Result<SessionAnswer, Refused> {
    let now = now_ms();
    let chat = config.account_id;
    let known = presented.and_then(|t| token::verify_visitor(st.key(), t, chat, now).ok());
    let visitor = match known {
        Some(v) => v.to_string(),
        None => {
            st.limit(
                &format!("chat-new:{}", address_key(Some(ip))),
                NEW_VISITORS_PER_ADDRESS,
                "Too many chats were started from your network just now; wait a minute and reload the page.",
            )
            .await?;
            token::new_visitor_id()
        }
    };
    app::store::chat::touch(&st.db, chat, &visitor, now)
        .await
        .map_err(Refused::internal)?;
    if let Some(invite) = invite {
        match token::verify_continue(st.key(), invite, chat, now) {
            Ok(customer) => {
                let changed = app::service::chat::attach(&st.db, customer, &visitor)
                    .await
                    .map_err(Refused::internal)?;
                for c in changed {
                    st.hub.conversation_changed(c).await;
                }
            }
            // An old or altered link opens an ordinary chat.
            Err(e) => tracing::info!(error = %e, "a chat continue link was refused"),
        }
    }
    let conversation = app::store::chat::conversation_of(&st.db, &visitor)
        .await
        .map_err(Refused::internal)?;
    let messages = match conversation {
        Some(c) => app::store::chat::recent(&st.db, c)
            .await
            .map_err(Refused::internal)?,
        None => Vec::new(),
    };
    let online = sessions::anyone_signed_in(&st.db, now)
        .await
        .map_err(Refused::internal)?;
    let expires = now + TOKEN_TTL_MS;
    Ok(SessionAnswer {
        token: token::visitor_token(st.key(), chat, &visitor, expires),
        expires,
        settings: config.widget.clone(),
        online,
        known: conversation.is_some(),
        messages: messages.into_iter().map(WidgetMessage::from).collect(),
    })
}

#[derive(Deserialize)]
pub struct MessageBody {
    #[serde(default)]
    site: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    page: Option<String>,
    /// The pre-chat form (first message only): unverified, so suggestions at most.
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    consent_support: bool,
    #[serde(default)]
    consent_marketing: bool,
}

impl MessageBody {
    /// What the pre-chat form says, checked (refused in words before anything is stored).
    fn claim(&self) -> Result<Option<Claim>, Refused> {
        let bad = |w: String| Refused::new(StatusCode::BAD_REQUEST, w);
        let filled = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let (email, phone) = (filled(&self.email), filled(&self.phone));
        if let Some(e) = &email {
            app::domain::identifier::normalize_email(e)
                .map_err(|_| bad(format!("{e} does not look like an email address.")))?;
        }
        if let Some(p) = &phone {
            app::service::identifiers::normalize(
                IdentifierKind::Phone,
                p,
                &app::service::identifiers::default_region(),
            )
            .map_err(|_| {
                bad(format!(
                    "{p} is not a phone number; include the country code, as +44 20 7946 0958."
                ))
            })?;
        }
        let mut consent = Vec::new();
        if self.consent_support {
            consent.push(Purpose::Support);
        }
        if self.consent_marketing {
            consent.push(Purpose::Marketing);
        }
        if email.is_none() && phone.is_none() && self.name.is_none() {
            return Ok(None);
        }
        Ok(Some(Claim {
            verified_user: None,
            email,
            phone,
            name: self.name.clone(),
            consent,
        }))
    }
}

pub async fn message_handler(
    State(st): State<ChatState>,
    Path(chat): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<MessageBody>,
) -> Response {
    let (config, site) = match checked(&st, &chat, &headers, &body.site).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let stored = receive(&st, &config, peer.ip(), body).await;
    answer(
        &site,
        stored.map(|stored| {
            let duplicate = matches!(stored, Stored::Duplicate);
            (
                StatusCode::ACCEPTED,
                Json(serde_json::json!({ "duplicate": duplicate })),
            )
                .into_response()
        }),
    )
}

/// Checks and stores one visitor message (raw, before any processing), then wakes the
/// inbound worker.
async fn receive(
    st: &ChatState,
    config: &ChatConfig,
    ip: IpAddr,
    body: MessageBody,
) -> Result<Stored, Refused> {
    let chat = config.account_id;
    let visitor = visitor_of(st, chat, &body.token)?;
    if !chat::client_id_ok(&body.client_id) {
        return Err(Refused::new(
            StatusCode::BAD_REQUEST,
            "This message has no valid id; reload the page and send it again.",
        ));
    }
    let text = app::domain::chat_settings::visitor_text(&body.text)
        .map_err(|w| Refused::new(StatusCode::BAD_REQUEST, w))?;
    let claim = body.claim()?;
    st.limit(
        &format!("chat-msg:{chat}:{visitor}"),
        MESSAGES_PER_VISITOR,
        "You are sending messages faster than we can read them; wait a minute and send again.",
    )
    .await?;
    st.limit(
        &format!("chat-msg-ip:{}", address_key(Some(ip))),
        MESSAGES_PER_ADDRESS,
        "Too many messages were sent from your network just now; wait a minute and send again.",
    )
    .await?;
    let name = body
        .name
        .as_deref()
        .map(|n| n.chars().take(200).collect::<String>())
        .filter(|n| !n.trim().is_empty());
    let page = body
        .page
        .as_deref()
        .filter(|p| p.starts_with("https://") || p.starts_with("http://"))
        .map(|p| p.chars().take(500).collect::<String>());
    let payload = VisitorPayload {
        visitor: visitor.clone(),
        client_id: body.client_id.clone(),
        text,
        at: now_ms(),
        name,
        page,
    };
    let stored = st
        .writer
        .store(NewRaw {
            account_id: chat,
            dedupe_key: format!("{visitor}:{}", body.client_id),
            content_type: chat::PAYLOAD_TYPE.into(),
            payload: serde_json::to_vec(&payload).map_err(Refused::internal)?,
        })
        .await
        .map_err(Refused::internal)?;
    if let (Some(claim), Stored::New(_)) = (&claim, &stored) {
        // Stored first; who the visitor says they are is applied next (a failure here loses
        // no message: it is logged, and the message goes on).
        match app::service::chat::identify(&st.db, chat, &visitor, claim).await {
            Ok(done) => publish_changes(st, &done).await,
            Err(e) => tracing::warn!(error = %e, "could not apply the pre-chat form"),
        }
    }
    st.wake_inbound.notify_one();
    // No presence write here: the widget that sends holds its stream open, whose heartbeat
    // says the visitor is there (one write fewer per message on SQLite's single writer).
    Ok(stored)
}

#[derive(Deserialize)]
pub struct SeenBody {
    #[serde(default)]
    site: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    upto: i64,
}

/// The token's visitor and the conversation they write in (None before their first message).
async fn visitor_conversation(
    st: &ChatState,
    config: &ChatConfig,
    token: &str,
) -> Result<(String, Option<i64>), Refused> {
    let visitor = visitor_of(st, config.account_id, token)?;
    let conversation = app::store::chat::conversation_of(&st.db, &visitor)
        .await
        .map_err(Refused::internal)?;
    Ok((visitor, conversation))
}

/// The visitor has seen the answers up to message `upto`.
pub async fn seen_handler(
    State(st): State<ChatState>,
    Path(chat): Path<String>,
    headers: HeaderMap,
    Json(body): Json<SeenBody>,
) -> Response {
    let (config, site) = match checked(&st, &chat, &headers, &body.site).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let done = async {
        let (_, Some(conversation)) = visitor_conversation(&st, &config, &body.token).await? else {
            return Ok(());
        };
        let changed = app::store::chat::mark_answers(&st.db, conversation, body.upto, "read")
            .await
            .map_err(Refused::internal)?;
        if changed > 0 {
            st.hub
                .publish(LiveEvent {
                    kind: LiveKind::Delivery,
                    conversation_id: Some(conversation),
                    message_id: None,
                    presence: None,
                })
                .await;
        }
        Ok::<_, Refused>(())
    }
    .await;
    answer(&site, done.map(|()| StatusCode::NO_CONTENT.into_response()))
}

/// The visitor is writing: agents on the conversation see "Visitor is writing".
pub async fn typing_handler(
    State(st): State<ChatState>,
    Path(chat): Path<String>,
    headers: HeaderMap,
    Json(body): Json<SeenBody>,
) -> Response {
    let (config, site) = match checked(&st, &chat, &headers, &body.site).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let done = async {
        let (visitor, conversation) = visitor_conversation(&st, &config, &body.token).await?;
        st.limit(
            &format!("chat-typing:{}:{visitor}", config.account_id),
            TYPING_PER_VISITOR,
            "Typing signals are limited; keep writing.",
        )
        .await?;
        if let Some(conversation) = conversation {
            st.hub
                .publish(LiveEvent {
                    kind: LiveKind::Presence,
                    conversation_id: Some(conversation),
                    message_id: None,
                    presence: Some(Presence {
                        user_id: 0,
                        name: "The visitor".into(),
                        state: PresenceState::Typing,
                    }),
                })
                .await;
        }
        Ok::<_, Refused>(())
    }
    .await;
    answer(&site, done.map(|()| StatusCode::NO_CONTENT.into_response()))
}
