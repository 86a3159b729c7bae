//! Downloading the files of inbound messages: `getFile {file_id}` names the file's path on
//! Telegram's file server, then `GET {api_base}/file/bot{token}/{file_path}` fetches it. A bot
//! may download at most 20 MB (our own limit too): a bigger file is refused in words.

use super::api::{self, ApiFailure};
use super::content::MAX_BOT_DOWNLOAD;
use crate::channels::{http_client, MediaError, MediaFetcher};
use app::ports::{MediaRef, NewAttachment};
use app::store::channel_accounts::AccountRow;
use async_trait::async_trait;
use serde_json::{json, Value};

/// [`MAX_BOT_DOWNLOAD`] as Telegram's documentation says it.
const LIMIT_WORDS: &str = "20 MB";

pub struct TelegramMedia {
    pub client: reqwest::Client,
}

/// What `getFile` answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    pub file_path: String,
    pub file_size: Option<u64>,
    pub file_unique_id: Option<String>,
}

#[async_trait]
impl MediaFetcher for TelegramMedia {
    async fn fetch(
        &self,
        account: &AccountRow,
        media: &MediaRef,
    ) -> Result<NewAttachment, MediaError> {
        let result = api::call(
            &self.client,
            account,
            "getFile",
            &json!({"file_id": media.locator}),
        )
        .await
        .map_err(get_file_error)?;
        let info = file_info(&result)?;
        let token = account.secret("bot_token");
        let url = api::file_url(account, &token, &info.file_path);
        // The file server is the account's API base, not a host a payload names.
        let (data, served_type) = http_client::download(self.client.get(url), None)
            .await
            .map_err(|e| scrub_error(e, &token))?;
        let content_type = content_type(media, served_type.as_deref(), &info.file_path);
        let given = media
            .filename
            .as_deref()
            .or_else(|| info.file_path.rsplit('/').next());
        let stem = info.file_unique_id.as_deref().unwrap_or("telegram-file");
        Ok(NewAttachment {
            filename: http_client::media_filename(given, stem, &content_type),
            content_type,
            content_id: None,
            data,
        })
    }
}

/// A getFile failure: "file is too big" is Telegram's own 20 MB limit.
pub fn get_file_error(f: ApiFailure) -> MediaError {
    if let ApiFailure::Refused { description, .. } = &f {
        if description.to_ascii_lowercase().contains("file is too big") {
            return MediaError::Refused(format!(
                "the file is over the {LIMIT_WORDS} Telegram lets a bot download ({})",
                f.words()
            ));
        }
    }
    if f.is_temporary() {
        MediaError::Temporary(f.words())
    } else {
        MediaError::Permanent(f.words())
    }
}

/// The `File` of a getFile answer, refusing what is over the download limit.
pub fn file_info(result: &Value) -> Result<FileInfo, MediaError> {
    let size = result.get("file_size").and_then(Value::as_u64);
    if let Some(n) = size.filter(|n| *n > MAX_BOT_DOWNLOAD) {
        return Err(MediaError::Refused(format!(
            "a file of {} is over the {LIMIT_WORDS} Telegram lets a bot download",
            app::domain::text::file_size(n as i64)
        )));
    }
    let path = result
        .get("file_path")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            MediaError::Permanent(
                "Telegram gave no file_path for the file, so it cannot be downloaded".into(),
            )
        })?;
    if path.split('/').any(|seg| seg == "..") || path.contains(['?', '#', '\\']) {
        return Err(MediaError::Permanent(format!(
            "Telegram gave an unusable file_path {path:?}"
        )));
    }
    Ok(FileInfo {
        file_path: path.to_string(),
        file_size: size,
        file_unique_id: result
            .get("file_unique_id")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// The file's type: what the message said, else what the file server said (unless it is the
/// generic octet-stream), else a guess from the path's extension.
pub fn content_type(media: &MediaRef, served: Option<&str>, file_path: &str) -> String {
    if let Some(ct) = media.content_type.as_deref().filter(|c| !c.is_empty()) {
        return ct.to_ascii_lowercase();
    }
    if let Some(ct) = served.filter(|c| *c != "application/octet-stream" && !c.is_empty()) {
        return ct.to_string();
    }
    let ext = file_path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "oga" | "ogg" => "audio/ogg",
        "mp3" => "audio/mpeg",
        "mp4" => "video/mp4",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
    .to_string()
}

/// A download error without the token (the file URL carries it).
fn scrub_error(e: MediaError, token: &str) -> MediaError {
    match e {
        MediaError::Refused(w) => MediaError::Refused(api::scrub(&w, token)),
        MediaError::Temporary(w) => MediaError::Temporary(api::scrub(&w, token)),
        MediaError::Permanent(w) => MediaError::Permanent(api::scrub(&w, token)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_answers_name_a_path_within_the_limit() {
        let ok = file_info(&json!({"file_id": "x", "file_unique_id": "u1", "file_size": 1234, "file_path": "photos/file_0.jpg"})).unwrap();
        assert_eq!(ok.file_path, "photos/file_0.jpg");
        assert_eq!(ok.file_size, Some(1234));
        match file_info(&json!({"file_id": "x", "file_size": 25 * 1024 * 1024})) {
            Err(MediaError::Refused(w)) => {
                assert_eq!(
                    w,
                    "a file of 26.2 MB is over the 20 MB Telegram lets a bot download"
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            file_info(&json!({"file_id": "x"})),
            Err(MediaError::Permanent(_))
        ));
        assert!(matches!(
            file_info(&json!({"file_path": "../../etc/passwd"})),
            Err(MediaError::Permanent(_))
        ));
    }

    #[test]
    fn get_file_errors_are_refusals_retries_or_final() {
        let refused = |code: u16, d: &str| ApiFailure::Refused {
            code,
            description: d.into(),
            retry_after: None,
        };
        assert!(
            matches!(get_file_error(refused(400, "Bad Request: file is too big")), MediaError::Refused(w) if w.contains("20 MB") && w.contains("file is too big"))
        );
        assert!(
            matches!(get_file_error(refused(400, "Bad Request: invalid file_id")), MediaError::Permanent(w) if w.contains("invalid file_id"))
        );
        assert!(matches!(
            get_file_error(refused(500, "Internal Server Error")),
            MediaError::Temporary(_)
        ));
        assert!(matches!(
            get_file_error(ApiFailure::Network("no answer in time".into())),
            MediaError::Temporary(_)
        ));
    }

    #[test]
    fn content_types_come_from_the_message_the_server_or_the_path() {
        let r = |ct: Option<&str>| MediaRef {
            locator: "x".into(),
            content_type: ct.map(str::to_string),
            filename: None,
        };
        assert_eq!(
            content_type(&r(Some("Application/PDF")), Some("image/png"), "a.jpg"),
            "application/pdf"
        );
        assert_eq!(
            content_type(&r(None), Some("image/png"), "a.jpg"),
            "image/png"
        );
        assert_eq!(
            content_type(
                &r(None),
                Some("application/octet-stream"),
                "voice/file_3.oga"
            ),
            "audio/ogg"
        );
        assert_eq!(
            content_type(&r(None), None, "documents/file"),
            "application/octet-stream"
        );
    }

    #[test]
    fn download_errors_lose_the_token() {
        let e = scrub_error(
            MediaError::Temporary("error for url (http://x/file/bot1:SECRET/a.jpg)".into()),
            "1:SECRET",
        );
        assert_eq!(
            e,
            MediaError::Temporary("error for url (http://x/file/bot<bot token>/a.jpg)".into())
        );
    }
}
