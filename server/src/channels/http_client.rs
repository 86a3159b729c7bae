//! The outgoing HTTP client to the providers: one client configuration (timeouts, few
//! redirects, TLS with the web's roots), bounded downloads, and how a provider's answer maps to
//! a retry or a refusal.

use super::{MediaError, SendError};
use std::time::Duration;

/// Largest file taken from a provider with an inbound message.
pub const MAX_MEDIA_BYTES: usize = 20 * 1024 * 1024;
/// Largest API answer read (JSON from a send, a media lookup).
pub const MAX_API_BYTES: usize = 1024 * 1024;

pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::limited(3))
        .user_agent(concat!("convergence/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client configuration is valid")
}

/// Reads at most `limit` bytes of a response body; more is an error, not a truncation.
pub async fn read_limited(
    mut resp: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, LimitError> {
    if let Some(len) = resp.content_length() {
        if len as usize > limit {
            return Err(LimitError::TooLarge(len as usize));
        }
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| LimitError::Io(words(&e)))? {
        if out.len() + chunk.len() > limit {
            return Err(LimitError::TooLarge(out.len() + chunk.len()));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[derive(Debug, PartialEq)]
pub enum LimitError {
    TooLarge(usize),
    Io(String),
}

/// A reqwest error in words, with its cause (reqwest's own text is often just "error sending
/// request").
pub fn words(e: &reqwest::Error) -> String {
    let mut s = if e.is_timeout() {
        "no answer in time".to_string()
    } else if e.is_connect() {
        "could not connect".to_string()
    } else {
        e.to_string()
    };
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    // Some providers put credentials in the URL (Telegram's bot token): never repeat it.
    if let Some(u) = e.url() {
        s = s.replace(u.as_str(), "<provider URL>");
        if let Some(path) = Some(u.path()).filter(|p| p.len() > 1) {
            s = s.replace(path, "<path>");
        }
    }
    s
}

/// A failed request (no answer) is worth retrying.
pub fn send_failure(e: &reqwest::Error) -> SendError {
    SendError::Temporary(words(e))
}

/// A provider's HTTP error answer: 5xx, 408 and 429 are retried; other 4xx are final. `what`
/// is the provider's own message when its body had one.
pub fn status_failure(status: reqwest::StatusCode, what: &str) -> SendError {
    let text = if what.is_empty() {
        format!("the provider answered {status}")
    } else {
        format!("{what} (HTTP {})", status.as_u16())
    };
    if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
        SendError::Temporary(text)
    } else {
        SendError::Permanent(text)
    }
}

/// Downloads one file with the size limit; `req` carries the provider's authentication.
pub async fn download(
    req: reqwest::RequestBuilder,
) -> Result<(Vec<u8>, Option<String>), MediaError> {
    let resp = req
        .send()
        .await
        .map_err(|e| MediaError::Temporary(words(&e)))?;
    let status = resp.status();
    if status.is_server_error() || status.as_u16() == 429 {
        return Err(MediaError::Temporary(format!(
            "the provider answered {status}"
        )));
    }
    if !status.is_success() {
        return Err(MediaError::Permanent(format!(
            "the provider answered {status} for the file"
        )));
    }
    let ct = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|s| {
            s.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|s| !s.is_empty());
    match read_limited(resp, MAX_MEDIA_BYTES).await {
        Ok(data) => Ok((data, ct)),
        Err(LimitError::TooLarge(n)) => Err(MediaError::Refused(format!(
            "a file of {} is over the {} limit and was not downloaded",
            app::domain::text::file_size(n as i64),
            app::domain::text::file_size(MAX_MEDIA_BYTES as i64)
        ))),
        Err(LimitError::Io(e)) => Err(MediaError::Temporary(e)),
    }
}

/// A file name for a downloaded file: the provider's when it gave one (made safe), else
/// `<stem>.<extension of the type>`.
pub fn media_filename(given: Option<&str>, stem: &str, content_type: &str) -> String {
    if let Some(g) = given {
        let safe: String = g
            .chars()
            .filter(|c| {
                !c.is_control()
                    && !matches!(c, '/' | '\\' | '"' | ':' | '<' | '>' | '|' | '*' | '?')
            })
            .take(120)
            .collect();
        let safe = safe.trim().trim_start_matches('.').to_string();
        if !safe.is_empty() {
            return safe;
        }
    }
    let ext = match content_type {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "audio/ogg" => "ogg",
        "audio/mpeg" => "mp3",
        "audio/amr" => "amr",
        "video/mp4" => "mp4",
        "application/pdf" => "pdf",
        "text/plain" => "txt",
        "text/vcard" | "text/x-vcard" => "vcf",
        _ => "bin",
    };
    let stem: String = stem
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(60)
        .collect();
    format!("{}.{ext}", if stem.is_empty() { "file" } else { &stem })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_errors_are_retried_or_final_by_status() {
        let s = |n| reqwest::StatusCode::from_u16(n).unwrap();
        assert!(matches!(
            status_failure(s(500), ""),
            SendError::Temporary(_)
        ));
        assert!(matches!(
            status_failure(s(429), "slow down"),
            SendError::Temporary(_)
        ));
        assert!(matches!(
            status_failure(s(400), "bad"),
            SendError::Permanent(_)
        ));
        assert_eq!(
            status_failure(s(400), "Attempt to send to unsubscribed recipient"),
            SendError::Permanent("Attempt to send to unsubscribed recipient (HTTP 400)".into())
        );
    }

    #[test]
    fn media_file_names_are_safe() {
        assert_eq!(
            media_filename(Some("../../etc/passwd"), "x", "text/plain"),
            "etcpasswd"
        );
        assert_eq!(
            media_filename(Some("a\r\nb.pdf"), "x", "application/pdf"),
            "ab.pdf"
        );
        assert_eq!(media_filename(None, "ME12/ab", "image/jpeg"), "ME12ab.jpg");
        assert_eq!(media_filename(Some(" .. "), "", "weird/type"), "file.bin");
    }
}
