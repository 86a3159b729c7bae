//! The files of an MMS. Twilio gives each as a `MediaUrl` on its API host
//! (`/2010-04-01/Accounts/{sid}/Messages/{MessageSid}/Media/{MediaSid}`), readable with the
//! account's credentials. A URL on any other host is refused: a forged or replayed payload must
//! not make us fetch (with our credentials) from wherever it names.

use super::{api_base, origin};
use crate::channels::{http_client, MediaError, MediaFetcher};
use app::ports::{MediaRef, NewAttachment};
use app::store::channel_accounts::AccountRow;
use async_trait::async_trait;

pub struct TwilioMedia {
    client: reqwest::Client,
    policy: http_client::AddressPolicy,
}

impl TwilioMedia {
    /// `client` should be a [`http_client::media_client`] with `policy`.
    pub fn new(client: reqwest::Client, policy: http_client::AddressPolicy) -> TwilioMedia {
        TwilioMedia { client, policy }
    }
}

/// Refuses a media URL that is not on the account's API host.
pub fn check_url(account: &AccountRow, url: &str) -> Result<(), MediaError> {
    let base = api_base(account);
    match (origin(url), origin(&base)) {
        (Some(a), Some(b)) if a == b => Ok(()),
        (_, None) => Err(MediaError::Permanent(format!(
            "the account's API base URL {base:?} is not an http(s) URL"
        ))),
        _ => Err(MediaError::Permanent(format!(
            "the media URL {url:?} is not on the Twilio API host ({base}); it was not downloaded"
        ))),
    }
}

/// The media SID (`ME…`) at the end of the URL, or its last path segment.
fn stem_of(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or("");
    path.trim_end_matches('/').rsplit('/').next().unwrap_or("")
}

#[async_trait]
impl MediaFetcher for TwilioMedia {
    async fn fetch(
        &self,
        account: &AccountRow,
        media: &MediaRef,
    ) -> Result<NewAttachment, MediaError> {
        check_url(account, &media.locator)?;
        let mut req = self.client.get(&media.locator);
        let sid = account.setting("account_sid");
        let token = account.secret("auth_token");
        if !sid.is_empty() && !token.is_empty() {
            req = req.basic_auth(&sid, Some(&token));
        }
        let (data, served_type) = http_client::download(req, Some(&self.policy)).await?;
        let content_type = media
            .content_type
            .clone()
            .or(served_type)
            .unwrap_or_else(|| "application/octet-stream".to_string());
        Ok(NewAttachment {
            filename: http_client::media_filename(
                media.filename.as_deref(),
                stem_of(&media.locator),
                &content_type,
            ),
            content_type,
            content_id: None,
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::twilio::tests::account;

    #[test]
    fn only_the_api_host_is_trusted() {
        let acc = account();
        assert!(check_url(
            &acc,
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
        )
        .is_ok());
        assert!(check_url(&acc, "https://API.twilio.com:443/x").is_ok());
        for bad in [
            "http://api.twilio.com/x",
            "https://api.twilio.com:8443/x",
            "https://api.twilio.com.evil.example/x",
            "https://api.twilio.com@evil.example/x",
            "http://169.254.169.254/latest/meta-data",
            "file:///etc/passwd",
            "",
        ] {
            assert!(
                matches!(check_url(&acc, bad), Err(MediaError::Permanent(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn file_names_come_from_the_media_sid() {
        assert_eq!(
            stem_of("https://api.twilio.com/a/Media/ME12ab?x=1"),
            "ME12ab"
        );
        assert_eq!(
            http_client::media_filename(None, stem_of("https://h/Media/ME12/"), "image/png"),
            "ME12.png"
        );
    }
}
