//! What the Meta stand-in posts to our webhook: signed as Meta signs, and the receipts that
//! follow a send.

use super::{control, Subscription};
use crate::{deliver, now_ms, StandIn};
use serde_json::{json, Value};
use wire::meta as signature;

/// Posts `body` to the subscription's webhook, signed as Meta signs (`X-Hub-Signature-256`,
/// and the older SHA-1 `X-Hub-Signature`), unless `signature` overrides it.
pub async fn post_signed(
    s: &StandIn,
    sub: &Subscription,
    body: Vec<u8>,
    signature: Option<String>,
) -> (u16, String) {
    let sig = signature.unwrap_or_else(|| signature::header_value(&sub.app_secret, &body));
    let sha1 = {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(sub.app_secret.as_bytes())
            .expect("any key length");
        mac.update(&body);
        format!("sha1={}", hex::encode(mac.finalize().into_bytes()))
    };
    let headers = [("X-Hub-Signature-256", sig), ("X-Hub-Signature", sha1)];
    deliver(s, &sub.url, &headers, "application/json", body).await
}

/// What Meta posts after a send: Messenger `delivery` then `read` (by watermark), Instagram
/// `read` of the message (messaging_seen; Instagram reports no deliveries), WhatsApp statuses
/// `sent`, `delivered`, `read`.
pub async fn receipts(s: StandIn, sub: Subscription, to: String, mid: String) {
    let with_read = sub.receipts == "read";
    let mut bodies: Vec<Value> = Vec::new();
    if sub.whatsapp() {
        let mut states = vec!["sent", "delivered"];
        if with_read {
            states.push("read");
        }
        for st in states {
            bodies.push(control::whatsapp_envelope(&sub, json!({
                "statuses": [{
                    "id": mid, "status": st, "timestamp": (now_ms() / 1000).to_string(),
                    "recipient_id": to.trim_start_matches('+'),
                    "conversation": {"id": format!("{:032x}", rand::random::<u128>()), "origin": {"type": "service"}},
                    "pricing": {"billable": true, "pricing_model": "CBP", "category": "service"}
                }]
            })));
        }
    } else if sub.object == "instagram" {
        if with_read {
            bodies.push(json!({"read": {"mid": mid}}));
        }
    } else {
        bodies.push(json!({"delivery": {"mids": [mid], "watermark": 0}}));
        if with_read {
            bodies.push(json!({"read": {"watermark": 0}}));
        }
    }
    for b in bodies {
        tokio::time::sleep(super::RECEIPT_DELAY).await;
        let body = if sub.whatsapp() {
            b
        } else {
            page_event(&sub, &to, b)
        };
        let (status, text) = post_signed(&s, &sub, body.to_string().into_bytes(), None).await;
        if status != 200 {
            tracing::warn!(status, answer = %text, "stand-in: our webhook refused a Meta receipt");
        }
    }
}

/// A Messenger/Instagram batch with one event from the customer `from` about us.
fn page_event(sub: &Subscription, from: &str, mut event: Value) -> Value {
    let now = now_ms();
    for key in ["delivery", "read"] {
        if let Some(w) = event.get_mut(key).and_then(|e| e.get_mut("watermark")) {
            *w = json!(now);
        }
    }
    event["sender"] = json!({"id": from});
    event["recipient"] = json!({"id": sub.id});
    event["timestamp"] = json!(now);
    json!({"object": sub.object, "entry": [{"id": sub.id, "time": now, "messaging": [event]}]})
}
