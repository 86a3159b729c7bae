//! Files of inbound messages. Messenger and Instagram give a CDN URL, fetched as it is (no
//! token: it is a public link, and our token must not go to whatever host a payload names).
//! WhatsApp gives a media id: `GET {api_base}/{id}` with the token answers the file's URL,
//! type, size and SHA-256; the URL is then fetched with the token and the hash checked.

use super::page::is_http;
use super::{api_base, credentials, graph, http_client, is_graph_id, limit_words};
use crate::channels::{MediaError, MediaFetcher};
use app::ports::{MediaRef, NewAttachment};
use app::store::channel_accounts::AccountRow;
use async_trait::async_trait;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub struct UrlMedia {
    client: reqwest::Client,
    policy: http_client::AddressPolicy,
}

impl UrlMedia {
    /// `client` should be a [`http_client::media_client`] with `policy`.
    pub fn new(client: reqwest::Client, policy: http_client::AddressPolicy) -> UrlMedia {
        UrlMedia { client, policy }
    }
}

pub struct WhatsappMedia {
    /// For the JSON lookup (the API timeout).
    api: reqwest::Client,
    /// For the file itself (a longer timeout; a [`http_client::media_client`] with `policy`).
    files: reqwest::Client,
    policy: http_client::AddressPolicy,
}

impl WhatsappMedia {
    pub fn new(
        api: reqwest::Client,
        files: reqwest::Client,
        policy: http_client::AddressPolicy,
    ) -> WhatsappMedia {
        WhatsappMedia { api, files, policy }
    }
}

/// The media type without parameters, lower case (`audio/ogg; codecs=opus` → `audio/ogg`).
pub fn base_type(ct: &str) -> String {
    ct.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The last path segment of a URL when it looks like a file name.
fn url_file_name(url: &str) -> Option<&str> {
    let path = url.split(['?', '#']).next()?;
    let path = path.split_once("://").map_or(path, |(_, rest)| rest);
    let (_, last) = path.split_once('/')?;
    let name = last.rsplit('/').next()?;
    name.contains('.').then_some(name)
}

fn attachment(data: Vec<u8>, ct: String, given: Option<&str>, stem: &str) -> NewAttachment {
    NewAttachment {
        filename: http_client::media_filename(given, stem, &ct),
        content_type: ct,
        content_id: None,
        data,
    }
}

#[async_trait]
impl MediaFetcher for UrlMedia {
    async fn fetch(&self, _: &AccountRow, media: &MediaRef) -> Result<NewAttachment, MediaError> {
        if !is_http(&media.locator) {
            return Err(MediaError::Permanent(
                "the attachment's link is not an http(s) URL".into(),
            ));
        }
        let (data, ct) =
            http_client::download(self.client.get(&media.locator), Some(&self.policy)).await?;
        let ct = ct
            .filter(|c| c != "application/octet-stream")
            .or_else(|| media.content_type.clone())
            .map(|c| base_type(&c))
            .unwrap_or_else(|| "application/octet-stream".into());
        let given = media
            .filename
            .as_deref()
            .or_else(|| url_file_name(&media.locator));
        Ok(attachment(data, ct, given, "attachment"))
    }
}

/// What `GET /{media_id}` answers.
#[derive(Debug, PartialEq)]
pub struct MediaInfo {
    pub url: String,
    pub mime_type: Option<String>,
    pub sha256: Option<String>,
}

pub fn media_info(body: &[u8]) -> Result<MediaInfo, MediaError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| MediaError::Permanent(format!("WhatsApp's media answer is not JSON: {e}")))?;
    let url = v
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| is_http(u))
        .ok_or_else(|| {
            MediaError::Permanent("WhatsApp's media answer has no http(s) url".into())
        })?;
    let s = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Ok(MediaInfo {
        url: url.to_string(),
        mime_type: s("mime_type"),
        sha256: s("sha256"),
    })
}

/// Whether `data` has the announced SHA-256 (hex, as the media lookup gives it, or base64, as
/// webhooks do).
pub fn hash_matches(data: &[u8], announced: &str) -> bool {
    let digest = Sha256::digest(data);
    let announced = announced.trim();
    announced.eq_ignore_ascii_case(&hex::encode(digest))
        || announced == base64::engine::general_purpose::STANDARD.encode(digest)
}

#[async_trait]
impl MediaFetcher for WhatsappMedia {
    async fn fetch(
        &self,
        account: &AccountRow,
        media: &MediaRef,
    ) -> Result<NewAttachment, MediaError> {
        let (_, token) = credentials(account).map_err(MediaError::Permanent)?;
        if !is_graph_id(&media.locator) {
            return Err(MediaError::Permanent(format!(
                "{:?} is not a WhatsApp media id",
                media.locator
            )));
        }
        let resp = self
            .api
            .get(format!("{}/{}", api_base(account), media.locator))
            .bearer_auth(&token)
            .send()
            .await
            .map_err(|e| MediaError::Temporary(http_client::words(&e)))?;
        let status = resp.status();
        let body = http_client::read_limited(resp, http_client::MAX_API_BYTES)
            .await
            .map_err(|e| {
                MediaError::Temporary(format!(
                    "WhatsApp's media answer could not be read: {}",
                    limit_words(&e)
                ))
            })?;
        if !status.is_success() {
            return Err(graph::media_error(status, &body));
        }
        let info = media_info(&body)?;
        let (data, ct) = http_client::download(
            self.files.get(&info.url).bearer_auth(&token),
            Some(&self.policy),
        )
        .await?;
        if let Some(announced) = &info.sha256 {
            if !hash_matches(&data, announced) {
                return Err(MediaError::Permanent(
                    "the downloaded file does not match the SHA-256 WhatsApp announced".into(),
                ));
            }
        }
        let ct = info
            .mime_type
            .or_else(|| media.content_type.clone())
            .or(ct)
            .map(|c| base_type(&c))
            .unwrap_or_else(|| "application/octet-stream".into());
        let stem = format!("whatsapp-{}", media.locator);
        Ok(attachment(data, ct, media.filename.as_deref(), &stem))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_lookups_are_read() {
        let body = br#"{"messaging_product":"whatsapp","url":"https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1&ext=2&hash=3","mime_type":"audio/ogg; codecs=opus","sha256":"81d3bd8a","file_size":"303833","id":"2621233374848975"}"#;
        let info = media_info(body).unwrap();
        assert_eq!(
            info.url,
            "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1&ext=2&hash=3"
        );
        assert_eq!(base_type(info.mime_type.as_deref().unwrap()), "audio/ogg");
        assert_eq!(info.sha256.as_deref(), Some("81d3bd8a"));
        assert!(matches!(media_info(b"{}"), Err(MediaError::Permanent(_))));
        assert!(matches!(
            media_info(br#"{"url":"file:///etc/passwd"}"#),
            Err(MediaError::Permanent(_))
        ));
        assert!(matches!(media_info(b"nope"), Err(MediaError::Permanent(_))));
    }

    #[test]
    fn hashes_are_compared_hex_or_base64() {
        let data = b"hello";
        let hex = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        assert!(hash_matches(data, hex));
        assert!(hash_matches(data, &hex.to_uppercase()));
        assert!(hash_matches(
            data,
            "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="
        ));
        assert!(!hash_matches(b"hellO", hex));
        assert!(!hash_matches(data, ""));
    }

    #[test]
    fn file_names_come_from_the_link() {
        assert_eq!(
            url_file_name("https://cdn.example/v/t1/photo_n.png?x=/y.z"),
            Some("photo_n.png")
        );
        assert_eq!(url_file_name("https://cdn.example/v/clip"), None);
        assert_eq!(url_file_name("https://cdn.example"), None);
    }
}
