//! Meta's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw
//! body)>`, checked over the exact bytes received, before anything reads them. The scheme
//! itself is in the `wire` crate, shared with the provider stand-in.

use crate::channels::webhook::{constant_time_eq, Refusal};

pub use wire::meta::{header_value, hex_hmac, HEADER};

/// Checks `header` (the `X-Hub-Signature-256` value, if any) against `body`. An empty secret
/// refuses everything: an account that cannot check signatures takes nothing.
pub fn verify(secret: &str, header: Option<&str>, body: &[u8]) -> Result<(), Refusal> {
    if secret.is_empty() {
        return Err(Refusal::Forbidden(
            "The app secret is not configured for this channel account, so no webhook can be verified."
                .into(),
        ));
    }
    let Some(header) = header.map(str::trim).filter(|h| !h.is_empty()) else {
        return Err(Refusal::Forbidden(
            "The X-Hub-Signature-256 header is missing.".into(),
        ));
    };
    let given = match header.split_once('=') {
        Some((scheme, hex)) if scheme.eq_ignore_ascii_case("sha256") => hex.to_ascii_lowercase(),
        _ => {
            return Err(Refusal::Forbidden(
                "The X-Hub-Signature-256 header is not of the form sha256=<hex>.".into(),
            ))
        }
    };
    let expected = hex_hmac(secret, body);
    if constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(Refusal::Forbidden(
            "The X-Hub-Signature-256 signature does not match the body (wrong app secret, or the body was changed).".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_checked() {
        let body = br#"{"object":"page","entry":[]}"#;
        let good = header_value("s3cret", body);
        assert_eq!(verify("s3cret", Some(&good), body), Ok(()));
        assert_eq!(
            verify(
                "s3cret",
                Some(&good.to_uppercase().replace("SHA256", "sha256")),
                body
            ),
            Ok(())
        );
        for bad in [
            None,
            Some(""),
            Some("sha1=abc"),
            Some("sha256="),
            Some(
                good.trim_end_matches(|c: char| c != '=')
                    .to_string()
                    .as_str(),
            ),
            Some(header_value("other", body).as_str()),
            Some(&good[..good.len() - 1]),
        ] {
            assert!(
                matches!(verify("s3cret", bad, body), Err(Refusal::Forbidden(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            verify(
                "s3cret",
                Some(&good),
                b"{\"object\":\"page\",\"entry\":[] }"
            ),
            Err(Refusal::Forbidden(_))
        ));
        match verify("", Some(&good), body) {
            Err(Refusal::Forbidden(why)) => assert!(why.contains("not configured")),
            other => panic!("{other:?}"),
        }
    }
}
