//! `X-Twilio-Signature`: Base64(HMAC-SHA1(auth token, URL + the POST fields)).
//!
//! The fields are taken sorted by name, each name once, with its distinct values sorted, each
//! appended as name + value with no separator: what twilio-python's
//! `RequestValidator.compute_signature` does (a name given twice with the same value counts
//! once). Validation accepts the URL with and without its port, as the official validator does,
//! because Twilio signs some URLs with the default port written out and some without.

use crate::constant_time_eq;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// The signature Twilio sends for a POST of `params` to `url`.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut fields: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    // Byte order of UTF-8 is code point order, which is Python's string order.
    fields.sort_unstable();
    fields.dedup();
    let mut mac =
        Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(url.as_bytes());
    for (k, v) in fields {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `header` is the signature of this request, for `url` as written or with its port
/// removed or added (443 for https, 80 for http). Constant time in the header's contents. An
/// empty token never verifies.
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], header: &str) -> bool {
    if auth_token.is_empty() {
        return false;
    }
    let header = header.trim().as_bytes();
    let (with_port, without_port) = port_variants(url);
    let a = constant_time_eq(signature(auth_token, &with_port, params).as_bytes(), header);
    let b = constant_time_eq(
        signature(auth_token, &without_port, params).as_bytes(),
        header,
    );
    a | b
}

/// (`url` with an explicit port, `url` without one). A URL that cannot be read as
/// `scheme://authority/...` is returned unchanged in both.
pub fn port_variants(url: &str) -> (String, String) {
    let Some(scheme_end) = url.find("://") else {
        return (url.to_string(), url.to_string());
    };
    let scheme = url[..scheme_end].to_ascii_lowercase();
    let auth_start = scheme_end + 3;
    let auth_end = url[auth_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| auth_start + i);
    let authority = &url[auth_start..auth_end];
    // The host starts after any user information; an IPv6 literal keeps its colons in brackets.
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let host_port = &authority[host_start..];
    let after_bracket = host_port.rfind(']').map_or(0, |i| i + 1);
    let port_colon = host_port[after_bracket..]
        .rfind(':')
        .map(|i| auth_start + host_start + after_bracket + i);
    let (head, tail) = (&url[..auth_end], &url[auth_end..]);
    match port_colon {
        Some(colon) => {
            let port = &url[colon + 1..auth_end];
            if !port.bytes().all(|b| b.is_ascii_digit()) {
                return (url.to_string(), url.to_string());
            }
            (url.to_string(), format!("{}{tail}", &url[..colon]))
        }
        None => {
            let port = if scheme == "https" { 443 } else { 80 };
            (format!("{head}:{port}{tail}"), url.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    // The vectors of twilio-python's tests/unit/test_request_validator.py (token "12345").
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    fn call_params() -> Vec<(String, String)> {
        p(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
            ("Caller", "+14158675309"),
        ])
    }

    #[test]
    fn matches_the_official_library_vector() {
        assert_eq!(
            signature("12345", URL, &call_params()),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        assert!(verify(
            "12345",
            URL,
            &call_params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
    }

    #[test]
    fn repeated_names_are_sorted_by_value_and_duplicates_count_once() {
        let params = p(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("Digits", "1234"),
        ]);
        assert_eq!(
            signature("12345", URL, &params),
            "IK+Dwps556ElfBT0I3Rgjkr1wJU="
        );
    }

    #[test]
    fn ports_are_tried_with_and_without() {
        let params = call_params();
        // Signed without the port, called with one.
        let with_port = URL.replace(".com", ".com:1234");
        assert!(verify(
            "12345",
            &with_port,
            &params,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        // Signed with the default port written out.
        assert!(verify(
            "12345",
            URL,
            &params,
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        ));
        let http = URL.replace("https", "http");
        assert!(verify(
            "12345",
            &http,
            &params,
            "0ZXoZLH/DfblKGATFgpif+LLRf4="
        ));
        let http_port = with_port.replace("https", "http");
        assert!(verify(
            "12345",
            &http_port,
            &params,
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
        ));
    }

    #[test]
    fn anything_else_fails() {
        let params = call_params();
        let good = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
        assert!(!verify("12346", URL, &params, good));
        assert!(!verify("", URL, &params, good));
        assert!(!verify(
            "12345",
            &URL.replace("foo=1", "foo=2"),
            &params,
            good
        ));
        let mut changed = params.clone();
        changed[1].1 = "1235".into();
        assert!(!verify("12345", URL, &changed, good));
        assert!(!verify("12345", URL, &params, ""));
        assert!(!verify("12345", URL, &params, &good[..good.len() - 1]));
    }

    #[test]
    fn port_variants_handle_user_info_ipv6_and_odd_urls() {
        assert_eq!(
            port_variants("http://127.0.0.1:8080/webhooks/twilio/3"),
            (
                "http://127.0.0.1:8080/webhooks/twilio/3".into(),
                "http://127.0.0.1/webhooks/twilio/3".into()
            )
        );
        assert_eq!(
            port_variants("https://u:p@[::1]/x?y=1"),
            (
                "https://u:p@[::1]:443/x?y=1".into(),
                "https://u:p@[::1]/x?y=1".into()
            )
        );
        assert_eq!(
            port_variants("https://[::1]:8443"),
            ("https://[::1]:8443".into(), "https://[::1]".into())
        );
        assert_eq!(
            port_variants("not a url"),
            ("not a url".into(), "not a url".into())
        );
    }
}
