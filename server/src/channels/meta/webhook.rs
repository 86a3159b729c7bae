//! The webhook of the three Meta channels: signature first, then the envelope's shape, then
//! the dedupe key; and Meta's GET subscription check (`hub.challenge`).

use super::{signature, Product};
use crate::channels::webhook::{constant_time_eq, Accepted, Refusal, Webhook, WebhookRequest};
use app::store::channel_accounts::AccountRow;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub const JSON: &str = "application/json";

pub struct MetaWebhook {
    product: Product,
}

impl MetaWebhook {
    pub fn new(product: Product) -> MetaWebhook {
        MetaWebhook { product }
    }
}

/// The key a batch is stored under: a hash of its bytes. Meta sends one batch per POST and
/// resends the same bytes on retry; the events inside de-duplicate on their own ids.
pub fn dedupe_key(body: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(body)))
}

/// The JSON type of `v` in words, for refusals.
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses `body` as Meta's envelope for `product`: an object whose `object` is the product's
/// and whose `entry` is an array. Err in words.
pub fn envelope(product: Product, body: &[u8]) -> Result<Value, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("The body is not JSON: {e}."))?;
    let Some(obj) = v.as_object() else {
        return Err(format!("The body is {}, not a JSON object.", kind_of(&v)));
    };
    match obj.get("object") {
        None => return Err("The \"object\" field is missing.".into()),
        Some(Value::String(s)) if s == product.object() => {}
        Some(Value::String(s)) => {
            return Err(format!(
                "\"object\" is {s:?}, but a {} webhook takes {:?}.",
                product.label(),
                product.object()
            ))
        }
        Some(other) => return Err(format!("\"object\" is {}, not a string.", kind_of(other))),
    }
    match obj.get("entry") {
        None => return Err("The \"entry\" field is missing.".into()),
        Some(Value::Array(_)) => {}
        Some(other) => return Err(format!("\"entry\" is {}, not an array.", kind_of(other))),
    }
    Ok(v)
}

impl Webhook for MetaWebhook {
    fn accept(&self, account: &AccountRow, req: &WebhookRequest) -> Result<Accepted, Refusal> {
        signature::verify(
            &account.secret("app_secret"),
            req.header(signature::HEADER),
            req.body,
        )?;
        envelope(self.product, req.body).map_err(Refusal::Malformed)?;
        Ok(Accepted {
            dedupe_key: dedupe_key(req.body),
            content_type: JSON.into(),
        })
    }

    fn challenge(
        &self,
        account: &AccountRow,
        query: &HashMap<String, String>,
    ) -> Result<String, Refusal> {
        let mut ours = account.setting("verify_token");
        if ours.is_empty() {
            ours = account.secret("verify_token");
        }
        if ours.is_empty() {
            return Err(Refusal::Forbidden(
                "No verify token is configured for this channel account.".into(),
            ));
        }
        if query.get("hub.mode").map(String::as_str) != Some("subscribe") {
            return Err(Refusal::Forbidden("hub.mode must be \"subscribe\".".into()));
        }
        let given = query
            .get("hub.verify_token")
            .map(String::as_str)
            .unwrap_or("");
        if !constant_time_eq(given.as_bytes(), ours.as_bytes()) {
            return Err(Refusal::Forbidden(
                "hub.verify_token does not match this channel account's verify token.".into(),
            ));
        }
        match query.get("hub.challenge") {
            Some(c) if !c.is_empty() && c.len() <= 256 && !c.chars().any(char::is_control) => {
                Ok(c.clone())
            }
            _ => Err(Refusal::Malformed(
                "hub.challenge is missing or not a short text.".into(),
            )),
        }
    }

    fn ack(&self) -> (&'static str, &'static str) {
        ("text/plain; charset=utf-8", "EVENT_RECEIVED")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::meta::tests::{page_account, wa_account, SECRET};
    use crate::channels::webhook::HookKind;
    use axum::http::HeaderMap;

    fn request(
        hook: &MetaWebhook,
        account: &AccountRow,
        body: &[u8],
        sig: Option<String>,
    ) -> Result<Accepted, Refusal> {
        let mut h = HeaderMap::new();
        if let Some(s) = sig {
            h.insert(signature::HEADER, s.parse().unwrap());
        }
        hook.accept(
            account,
            &WebhookRequest {
                url: "https://inbox.example/webhooks/messenger/3",
                kind: HookKind::Events,
                headers: &h,
                body,
            },
        )
    }

    fn signed(hook: &MetaWebhook, account: &AccountRow, body: &[u8]) -> Result<Accepted, Refusal> {
        request(
            hook,
            account,
            body,
            Some(signature::header_value(SECRET, body)),
        )
    }

    #[test]
    fn a_signed_batch_is_accepted_under_its_hash() {
        let hook = MetaWebhook::new(Product::Messenger);
        let body = br#"{"object":"page","entry":[{"id":"1001","time":1,"messaging":[]}]}"#;
        let a = signed(&hook, &page_account(Product::Messenger), body).unwrap();
        assert_eq!(a.dedupe_key, dedupe_key(body));
        assert!(a.dedupe_key.starts_with("sha256:") && a.dedupe_key.len() == 7 + 64);
        assert_eq!(a.content_type, JSON);
        assert_eq!(hook.ack().1, "EVENT_RECEIVED");
    }

    #[test]
    fn signature_comes_before_shape() {
        let hook = MetaWebhook::new(Product::Whatsapp);
        let acc = wa_account();
        // Not JSON and unsigned: refused as unsigned, not as malformed.
        assert!(matches!(
            request(&hook, &acc, b"not json", None),
            Err(Refusal::Forbidden(_))
        ));
        let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
        assert!(matches!(
            request(
                &hook,
                &acc,
                body,
                Some(signature::header_value("wrong", body))
            ),
            Err(Refusal::Forbidden(_))
        ));
        let mut no_secret = acc.clone();
        no_secret.secrets = serde_json::json!({"access_token": "x"}).to_string();
        match signed(&hook, &no_secret, body) {
            Err(Refusal::Forbidden(why)) => assert!(why.contains("not configured")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_envelopes_are_refused_with_reasons() {
        let acc = page_account(Product::Instagram);
        let hook = MetaWebhook::new(Product::Instagram);
        for (body, words) in [
            (&b"{\"object\":"[..], "not JSON"),
            (b"[1,2]", "an array, not a JSON object"),
            (b"{\"entry\":[]}", "\"object\" field is missing"),
            (b"{\"object\":\"page\",\"entry\":[]}", "takes \"instagram\""),
            (b"{\"object\":7,\"entry\":[]}", "a number, not a string"),
            (b"{\"object\":\"instagram\"}", "\"entry\" field is missing"),
            (
                b"{\"object\":\"instagram\",\"entry\":{}}",
                "\"entry\" is an object, not an array",
            ),
        ] {
            match signed(&hook, &acc, body) {
                Err(Refusal::Malformed(why)) => assert!(why.contains(words), "{why} / {words}"),
                other => panic!("{}: {other:?}", String::from_utf8_lossy(body)),
            }
        }
    }

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_subscription_check_needs_our_verify_token() {
        let hook = MetaWebhook::new(Product::Messenger);
        let acc = page_account(Product::Messenger);
        let ok = query(&[
            ("hub.mode", "subscribe"),
            ("hub.challenge", "1158201444"),
            ("hub.verify_token", "let me in"),
        ]);
        assert_eq!(hook.challenge(&acc, &ok), Ok("1158201444".into()));
        for bad in [
            query(&[
                ("hub.mode", "subscribe"),
                ("hub.challenge", "1"),
                ("hub.verify_token", "let me"),
            ]),
            query(&[("hub.mode", "subscribe"), ("hub.challenge", "1")]),
            query(&[
                ("hub.mode", "unsubscribe"),
                ("hub.challenge", "1"),
                ("hub.verify_token", "let me in"),
            ]),
        ] {
            assert!(matches!(
                hook.challenge(&acc, &bad),
                Err(Refusal::Forbidden(_))
            ));
        }
        let mut none = acc.clone();
        none.settings = "{}".into();
        match hook.challenge(&none, &ok) {
            Err(Refusal::Forbidden(why)) => assert!(why.contains("No verify token")),
            other => panic!("{other:?}"),
        }
        let no_challenge = query(&[("hub.mode", "subscribe"), ("hub.verify_token", "let me in")]);
        assert!(matches!(
            hook.challenge(&acc, &no_challenge),
            Err(Refusal::Malformed(_))
        ));
    }
}
