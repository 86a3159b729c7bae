//! The Telegram webhook: every update carries `X-Telegram-Bot-Api-Secret-Token`, the secret we
//! gave `setWebhook`. It is compared first, in constant time; no secret configured means
//! refuse. Then the body must be a JSON object with an integer `update_id`, the dedupe key.

use crate::channels::webhook::{constant_time_eq, Accepted, Refusal, Webhook, WebhookRequest};
use app::store::channel_accounts::AccountRow;
use serde_json::Value;

/// The header Telegram sends the webhook secret in.
pub const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

pub struct TelegramWebhook;

impl Webhook for TelegramWebhook {
    fn accept(&self, account: &AccountRow, req: &WebhookRequest) -> Result<Accepted, Refusal> {
        verify_secret(&account.secret("secret_token"), req.header(SECRET_HEADER))?;
        let update_id = update_id(req.body).map_err(Refusal::Malformed)?;
        Ok(Accepted {
            dedupe_key: format!("update:{update_id}"),
            content_type: "application/json".into(),
        })
    }
}

/// Checks the secret header against the configured secret.
pub fn verify_secret(expected: &str, given: Option<&str>) -> Result<(), Refusal> {
    if expected.is_empty() {
        return Err(Refusal::Forbidden(
            "the webhook secret of this Telegram account is not configured".into(),
        ));
    }
    let Some(given) = given else {
        return Err(Refusal::Forbidden(format!("no {SECRET_HEADER} header")));
    };
    if !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        return Err(Refusal::Forbidden(format!("wrong {SECRET_HEADER}")));
    }
    Ok(())
}

/// The `update_id` of an update, or why the body is not one.
pub fn update_id(body: &[u8]) -> Result<i64, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON ({e})"))?;
    let Value::Object(obj) = v else {
        return Err("the body is JSON but not an object; a Telegram update is an object".into());
    };
    match obj.get("update_id") {
        None => Err("the update has no update_id".into()),
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| format!("update_id {n} is not an integer")),
        Some(other) => Err(format!(
            "update_id must be an integer, not {}",
            kind_of(other)
        )),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::webhook::HookKind;
    use app::domain::ChannelKind;
    use axum::http::HeaderMap;

    fn account(secrets: &str) -> AccountRow {
        AccountRow {
            id: 1,
            channel: ChannelKind::Telegram,
            provider: "telegram".into(),
            name: "Bot".into(),
            address: "acme_bot".into(),
            settings: "{}".into(),
            secrets: secrets.into(),
            enabled: true,
            state: "ok".into(),
            state_detail: None,
        }
    }

    fn accept(secrets: &str, header: Option<&str>, body: &[u8]) -> Result<Accepted, Refusal> {
        let mut headers = HeaderMap::new();
        if let Some(h) = header {
            headers.insert(SECRET_HEADER, h.parse().unwrap());
        }
        TelegramWebhook.accept(
            &account(secrets),
            &WebhookRequest {
                url: "https://inbox.example.com/webhooks/telegram/1",
                kind: HookKind::Events,
                headers: &headers,
                body,
            },
        )
    }

    const S: &str = r#"{"secret_token":"s3cr3t_-X"}"#;

    #[test]
    fn a_right_secret_and_an_update_id_are_accepted() {
        let a = accept(S, Some("s3cr3t_-X"), br#"{"update_id":42,"message":{}}"#).unwrap();
        assert_eq!(a.dedupe_key, "update:42");
        assert_eq!(a.content_type, "application/json");
    }

    #[test]
    fn the_secret_is_checked_before_the_body() {
        let body = b"not json at all";
        assert!(
            matches!(accept(S, None, body), Err(Refusal::Forbidden(w)) if w.contains("no X-Telegram"))
        );
        assert!(
            matches!(accept(S, Some("s3cr3t_-Y"), body), Err(Refusal::Forbidden(w)) if w.contains("wrong"))
        );
        assert!(matches!(
            accept(S, Some(""), body),
            Err(Refusal::Forbidden(_))
        ));
        match accept("{}", Some("anything"), br#"{"update_id":1}"#) {
            Err(Refusal::Forbidden(w)) => assert!(w.contains("not configured"), "{w}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            accept(r#"{"secret_token":""}"#, Some(""), br#"{"update_id":1}"#),
            Err(Refusal::Forbidden(_))
        ));
    }

    #[test]
    fn malformed_bodies_are_refused_with_their_reason() {
        let m = |body: &[u8]| match accept(S, Some("s3cr3t_-X"), body) {
            Err(Refusal::Malformed(w)) => w,
            other => panic!("{other:?}"),
        };
        assert!(m(b"{nope").contains("not JSON"));
        assert!(m(b"[1,2]").contains("not an object"));
        assert!(m(br#"{"message":{}}"#).contains("no update_id"));
        assert!(m(br#"{"update_id":"5"}"#).contains("not a string"));
        assert!(m(br#"{"update_id":1.5}"#).contains("not an integer"));
        assert!(m(br#"{"update_id":null}"#).contains("null"));
        assert!(m(b"").contains("not JSON"));
    }
}
