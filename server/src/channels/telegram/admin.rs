//! What the admin page does with a bot: check its token (`getMe`) and register our webhook
//! (`setWebhook` with the account's secret). Both answer in words.

use super::api::{self, ApiFailure};
use app::store::channel_accounts::AccountRow;
use serde_json::{json, Value};

/// The updates the webhook asks for: customers' messages and their edits.
pub const ALLOWED_UPDATES: [&str; 2] = ["message", "edited_message"];

fn failure(f: ApiFailure) -> String {
    match f {
        ApiFailure::Refused { code: 401, .. } | ApiFailure::Refused { code: 404, .. } => format!(
            "{} (check the bot token from @BotFather and the API base URL)",
            f.words()
        ),
        other => other.words(),
    }
}

/// `getMe`: "Connected to @username (id)".
pub async fn test_connection(
    client: &reqwest::Client,
    account: &AccountRow,
) -> Result<String, String> {
    let me = api::call(client, account, "getMe", &json!({}))
        .await
        .map_err(failure)?;
    let username = me.get("username").and_then(Value::as_str).unwrap_or("");
    let id = me.get("id").and_then(Value::as_i64);
    let (Some(id), false) = (id, username.is_empty()) else {
        return Err("Telegram answered getMe without the bot's id and username".into());
    };
    let configured = account.setting("bot_username");
    let configured = configured.trim().trim_start_matches('@');
    let mut words = format!("Connected to @{username} ({id})");
    if !configured.is_empty() && !configured.eq_ignore_ascii_case(username) {
        words.push_str(&format!(
            "; note: the account says @{configured}, but this token belongs to @{username}"
        ));
    }
    Ok(words)
}

/// Whether `s` is a secret Telegram accepts: 1 to 256 of `A-Z a-z 0-9 _ -`.
pub fn valid_secret(s: &str) -> bool {
    (1..=256).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `setWebhook` for `url` with the account's secret; answers Telegram's description
/// ("Webhook was set").
pub async fn set_webhook(
    client: &reqwest::Client,
    account: &AccountRow,
    url: &str,
) -> Result<String, String> {
    let secret = account.secret("secret_token");
    if secret.is_empty() {
        return Err(
            "set the webhook secret first: without it every update would be refused".into(),
        );
    }
    if !valid_secret(&secret) {
        return Err(
            "the webhook secret must be 1 to 256 of A-Z a-z 0-9 _ - (Telegram refuses others)"
                .into(),
        );
    }
    let params = json!({
        "url": url,
        "secret_token": secret,
        "allowed_updates": ALLOWED_UPDATES,
    });
    let (result, description) = api::call_described(client, account, "setWebhook", &params)
        .await
        .map_err(failure)?;
    if result == Value::Bool(true) {
        Ok(description.unwrap_or_else(|| "Webhook was set".into()))
    } else {
        Err(format!(
            "Telegram did not confirm the webhook (it answered {result})"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_checked_like_telegram_does() {
        assert!(valid_secret("abc_DEF-123"));
        assert!(valid_secret(&"a".repeat(256)));
        assert!(!valid_secret(&"a".repeat(257)));
        assert!(!valid_secret(""));
        assert!(!valid_secret("with space"));
        assert!(!valid_secret("ünï"));
    }

    #[test]
    fn unauthorized_is_explained() {
        let w = failure(ApiFailure::Refused {
            code: 401,
            description: "Unauthorized".into(),
            retry_after: None,
        });
        assert!(w.contains("Unauthorized") && w.contains("bot token"), "{w}");
    }
}
