//! Calling the Bot API: `POST {api_base}/bot{token}/{method}` with a JSON body, answered by
//! `{"ok":true,"result":…}` or `{"ok":false,"error_code","description","parameters"}`.
//!
//! The bot token is part of every URL path, so any text that may carry a URL (reqwest's
//! errors name the URL they failed on) goes through [`scrub`] before it is shown or logged.

use crate::channels::http_client::{self, LimitError};
use app::store::channel_accounts::AccountRow;
use serde_json::Value;

/// Where the Bot API lives unless the account says otherwise.
pub const DEFAULT_API_BASE: &str = "https://api.telegram.org";

/// What stands in for the token in texts we show.
pub const TOKEN_MARK: &str = "<bot token>";

/// The Bot API base URL of `account`, without a trailing slash.
pub fn api_base(account: &AccountRow) -> String {
    let base = account.setting("api_base");
    let base = base.trim().trim_end_matches('/');
    if base.is_empty() {
        DEFAULT_API_BASE.to_string()
    } else {
        base.to_string()
    }
}

/// `{api_base}/bot{token}/{method}`.
pub fn method_url(account: &AccountRow, token: &str, method: &str) -> String {
    format!("{}/bot{token}/{method}", api_base(account))
}

/// `{api_base}/file/bot{token}/{file_path}`: where getFile's answer is downloaded.
pub fn file_url(account: &AccountRow, token: &str, file_path: &str) -> String {
    format!(
        "{}/file/bot{token}/{}",
        api_base(account),
        file_path.trim_start_matches('/')
    )
}

/// Removes every occurrence of `token` from `text`.
pub fn scrub(text: &str, token: &str) -> String {
    if token.is_empty() {
        return text.to_string();
    }
    text.replace(token, TOKEN_MARK)
}

/// A reqwest error in words, with neither its URL nor the token.
pub fn error_words(e: reqwest::Error, token: &str) -> String {
    scrub(&http_client::words(&e.without_url()), token)
}

/// Why a Bot API call did not return a result.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiFailure {
    /// No usable answer: network trouble, a timeout, an unreadable body (already scrubbed).
    Network(String),
    /// The request left and its answer was lost (a timeout or a dropped connection after it
    /// was sent): Telegram may have acted on it.
    Lost(String),
    /// The bot has no token configured.
    NoToken,
    /// Telegram said no: `error_code` (the HTTP status when the body had none), its
    /// `description`, and `parameters.retry_after` (seconds) for flood control.
    Refused {
        code: u16,
        description: String,
        retry_after: Option<u64>,
    },
}

impl ApiFailure {
    /// Whether trying again later may succeed: flood control, Telegram's own trouble, no answer.
    pub fn is_temporary(&self) -> bool {
        match self {
            ApiFailure::Network(_) | ApiFailure::Lost(_) => true,
            ApiFailure::NoToken => false,
            ApiFailure::Refused { code, .. } => *code == 429 || *code == 408 || *code >= 500,
        }
    }

    /// In words, for the agent or the admin.
    pub fn words(&self) -> String {
        match self {
            ApiFailure::Network(w) | ApiFailure::Lost(w) => format!("Telegram did not answer: {w}"),
            ApiFailure::NoToken => "the account has no bot token".into(),
            ApiFailure::Refused {
                code,
                description,
                retry_after,
            } => {
                let what = if description.trim().is_empty() {
                    format!("Telegram answered {code}")
                } else {
                    format!("Telegram answered {code}: {}", description.trim())
                };
                match retry_after {
                    Some(s) => format!("{what} (Telegram asks to wait {s} s before trying again)"),
                    None => what,
                }
            }
        }
    }
}

/// Reads a Bot API answer: the `result` of `{"ok":true}`, else why not. `status` is the HTTP
/// status it came with.
pub fn read_answer(status: u16, body: &[u8], token: &str) -> Result<Value, ApiFailure> {
    read_described(status, body, token).map(|(result, _)| result)
}

/// [`read_answer`] with the `description` Telegram may add to a success ("Webhook was set").
pub fn read_described(
    status: u16,
    body: &[u8],
    token: &str,
) -> Result<(Value, Option<String>), ApiFailure> {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let Some(Value::Object(obj)) = parsed else {
        let shown: String = String::from_utf8_lossy(body).chars().take(200).collect();
        return Err(if (200..300).contains(&status) {
            ApiFailure::Network(scrub(
                &format!("an answer that is not Bot API JSON: {shown:?}"),
                token,
            ))
        } else {
            ApiFailure::Refused {
                code: status,
                description: scrub(shown.trim(), token),
                retry_after: None,
            }
        });
    };
    if obj.get("ok").and_then(Value::as_bool) == Some(true) && (200..300).contains(&status) {
        let description = obj
            .get("description")
            .and_then(Value::as_str)
            .map(|d| scrub(d, token));
        return Ok((
            obj.get("result").cloned().unwrap_or(Value::Null),
            description,
        ));
    }
    let code = obj
        .get("error_code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .unwrap_or(if (200..300).contains(&status) {
            500
        } else {
            status
        });
    let description = obj
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .chars()
        .take(500)
        .collect::<String>();
    let retry_after = obj
        .get("parameters")
        .and_then(|p| p.get("retry_after"))
        .and_then(Value::as_u64);
    Err(ApiFailure::Refused {
        code,
        description: scrub(&description, token),
        retry_after,
    })
}

/// Calls `method` with a JSON body and returns its `result`.
pub async fn call(
    client: &reqwest::Client,
    account: &AccountRow,
    method: &str,
    params: &Value,
) -> Result<Value, ApiFailure> {
    call_described(client, account, method, params)
        .await
        .map(|(result, _)| result)
}

/// [`call`], with the answer's `description` too.
pub async fn call_described(
    client: &reqwest::Client,
    account: &AccountRow,
    method: &str,
    params: &Value,
) -> Result<(Value, Option<String>), ApiFailure> {
    let token = account.secret("bot_token");
    if token.trim().is_empty() {
        return Err(ApiFailure::NoToken);
    }
    let resp = client
        .post(method_url(account, &token, method))
        .json(params)
        .send()
        .await
        .map_err(|e| {
            // Only a request that never connected surely did nothing.
            if e.is_connect() {
                ApiFailure::Network(error_words(e, &token))
            } else {
                ApiFailure::Lost(error_words(e, &token))
            }
        })?;
    let status = resp.status().as_u16();
    let body = match http_client::read_limited(resp, http_client::MAX_API_BYTES).await {
        Ok(b) => b,
        Err(LimitError::TooLarge(n)) => {
            return Err(ApiFailure::Lost(format!(
                "an answer of {n} bytes, over the limit"
            )))
        }
        Err(LimitError::Io(e)) => return Err(ApiFailure::Lost(scrub(&e, &token))),
    };
    read_described(status, &body, &token)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "123456:AAE-secret_token";

    #[test]
    fn answers_are_read_as_results_or_refusals() {
        let ok = read_answer(200, br#"{"ok":true,"result":{"message_id":7}}"#, TOKEN).unwrap();
        assert_eq!(ok["message_id"], 7);
        let set = read_described(
            200,
            br#"{"ok":true,"result":true,"description":"Webhook was set"}"#,
            TOKEN,
        )
        .unwrap();
        assert_eq!(set, (Value::Bool(true), Some("Webhook was set".into())));
        let flood = read_answer(
            429,
            br#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}"#,
            TOKEN,
        )
        .unwrap_err();
        assert!(flood.is_temporary());
        assert_eq!(
            flood.words(),
            "Telegram answered 429: Too Many Requests: retry after 3 (Telegram asks to wait 3 s before trying again)"
        );
        let blocked = read_answer(
            403,
            br#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#,
            TOKEN,
        )
        .unwrap_err();
        assert!(!blocked.is_temporary());
        assert!(blocked.words().contains("bot was blocked by the user"));
    }

    #[test]
    fn unreadable_answers_are_failures_in_words() {
        let gateway = read_answer(502, b"<html>Bad Gateway</html>", TOKEN).unwrap_err();
        assert!(gateway.is_temporary(), "{gateway:?}");
        let garbage = read_answer(200, b"not json", TOKEN).unwrap_err();
        assert!(matches!(garbage, ApiFailure::Network(_)));
        let not_ok = read_answer(200, br#"{"ok":false}"#, TOKEN).unwrap_err();
        assert!(
            not_ok.is_temporary(),
            "an ok:false without a code is Telegram's trouble"
        );
        let unauthorized = read_answer(
            401,
            br#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#,
            TOKEN,
        )
        .unwrap_err();
        assert!(!unauthorized.is_temporary());
    }

    #[test]
    fn the_token_is_scrubbed_from_texts() {
        let t = format!(
            "error sending request for url (https://api.telegram.org/bot{TOKEN}/sendMessage)"
        );
        let s = scrub(&t, TOKEN);
        assert!(!s.contains(TOKEN));
        assert!(!s.contains("secret_token"));
        assert!(s.contains("/bot<bot token>/sendMessage"));
        assert_eq!(scrub("nothing here", ""), "nothing here");
        let echoed = read_answer(
            400,
            format!(r#"{{"ok":false,"error_code":400,"description":"bad {TOKEN}"}}"#).as_bytes(),
            TOKEN,
        )
        .unwrap_err();
        assert!(!echoed.words().contains(TOKEN));
    }

    #[tokio::test]
    async fn network_errors_carry_neither_url_nor_token() {
        // A server that hangs up without answering: reqwest's error names the URL it called.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                drop(sock);
            }
        });
        let e = reqwest::Client::new()
            .post(format!("http://{addr}/bot{TOKEN}/sendMessage"))
            .send()
            .await
            .unwrap_err();
        assert!(e.to_string().contains(TOKEN), "reqwest names the URL: {e}");
        let w = error_words(e, TOKEN);
        assert!(!w.contains(TOKEN) && !w.contains("secret_token"), "{w}");
        assert!(!w.is_empty());

        let account = AccountRow {
            id: 1,
            channel: app::domain::ChannelKind::Telegram,
            provider: "telegram".into(),
            name: "Bot".into(),
            address: "bot".into(),
            settings: serde_json::json!({"api_base": format!("http://{addr}/")}).to_string(),
            secrets: serde_json::json!({"bot_token": TOKEN}).to_string(),
            enabled: true,
            state: "ok".into(),
            state_detail: None,
        };
        let client = http_client::client(std::time::Duration::from_secs(2));
        match call(&client, &account, "getMe", &serde_json::json!({})).await {
            Err(f @ (ApiFailure::Network(_) | ApiFailure::Lost(_))) => {
                assert!(f.is_temporary());
                let w = f.words();
                assert!(w.starts_with("Telegram did not answer: "), "{w}");
                assert!(!w.contains(TOKEN) && !w.contains("secret_token"), "{w}");
            }
            other => panic!("{other:?}"),
        }
    }
}
