//! "Test connection": one cheap authenticated Graph call, `GET /{page_id}?fields=name,id` or
//! `GET /{phone_number_id}?fields=display_phone_number,verified_name`, answered in words.

use super::graph::GraphError;
use super::{api_base, credentials, http_client, limit_words, snippet, WHATSAPP};
use app::store::channel_accounts::AccountRow;
use serde_json::Value;

pub async fn test_connection(
    client: &reqwest::Client,
    account: &AccountRow,
) -> Result<String, String> {
    let (id, token) = credentials(account)?;
    let whatsapp = account.provider == WHATSAPP;
    let fields = if whatsapp {
        "display_phone_number,verified_name"
    } else {
        "name,id"
    };
    let url = format!("{}/{id}?fields={fields}", api_base(account));
    let resp = client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .map_err(|e| {
            format!(
                "The Graph API could not be reached: {}",
                http_client::words(&e)
            )
        })?;
    let status = resp.status();
    let body = http_client::read_limited(resp, http_client::MAX_API_BYTES)
        .await
        .map_err(|e| {
            format!(
                "The Graph API's answer could not be read: {}",
                limit_words(&e)
            )
        })?;
    if !status.is_success() {
        return Err(match GraphError::read(&body) {
            Some(e) => format!("{} (HTTP {})", e.words(), status.as_u16()),
            None => format!(
                "The Graph API answered HTTP {}: {}",
                status.as_u16(),
                snippet(&body)
            ),
        });
    }
    let v: Value = serde_json::from_slice(&body)
        .map_err(|_| http_client::not_the_api("The Graph API", &body))?;
    describe(whatsapp, &id, &v)
}

fn describe(whatsapp: bool, id: &str, v: &Value) -> Result<String, String> {
    let s = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let shown_id = s("id").unwrap_or(id);
    if whatsapp {
        let number = s("display_phone_number").ok_or_else(|| {
            format!("Graph object {shown_id} is not a WhatsApp phone number (it has no display_phone_number).")
        })?;
        let number = if number.starts_with('+') {
            number.to_string()
        } else {
            format!("+{number}")
        };
        Ok(match s("verified_name") {
            Some(name) => format!("Connected to WhatsApp number {number} ({name})"),
            None => format!("Connected to WhatsApp number {number}"),
        })
    } else {
        let name = s("name")
            .ok_or_else(|| format!("Graph object {shown_id} has no name: is it a page?"))?;
        Ok(format!("Connected to page “{name}” ({shown_id})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_in_words() {
        assert_eq!(
            describe(false, "1001", &json!({"name": "Acme Shoes", "id": "1001"})),
            Ok("Connected to page “Acme Shoes” (1001)".into())
        );
        assert_eq!(
            describe(
                true,
                "2002",
                &json!({"display_phone_number": "1 555-078-3881", "verified_name": "Acme", "id": "2002"})
            ),
            Ok("Connected to WhatsApp number +1 555-078-3881 (Acme)".into())
        );
        assert!(describe(true, "2002", &json!({"name": "x"}))
            .unwrap_err()
            .contains("not a WhatsApp phone number"));
        assert!(describe(false, "1001", &json!({"id": "1001"}))
            .unwrap_err()
            .contains("has no name"));
    }
}
