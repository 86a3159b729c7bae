//! The outgoing HTTP client to the providers: one client configuration (timeouts, few
//! redirects, TLS with the web's roots), bounded downloads, and how a provider's answer maps to
//! a retry or a refusal.
//!
//! Files named by inbound payloads are fetched with [`media_client`], which reaches only public
//! addresses ([`is_public`]) unless an address is allowed in the configuration
//! ([`AddressPolicy`]): its resolver drops every other address a name resolves to (so the
//! connection goes only where the check looked, and DNS rebinding gains nothing), and its
//! redirect policy and [`download`] refuse a URL whose host is a literal address that is not
//! allowed (literals skip the resolver).

use super::{MediaError, SendError};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
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

/// Where media downloads may connect: public addresses, and the addresses the configuration
/// allows (`CONVERGENCE_MEDIA_ALLOW_ADDRESSES`, e.g. a provider stand-in on 127.0.0.1).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AddressPolicy {
    allowed: Arc<Vec<IpAddr>>,
}

impl AddressPolicy {
    pub fn allowing(addresses: impl IntoIterator<Item = IpAddr>) -> AddressPolicy {
        AddressPolicy {
            allowed: Arc::new(addresses.into_iter().map(|a| a.to_canonical()).collect()),
        }
    }

    /// Reads a comma- or space-separated list of IP addresses.
    pub fn parse(list: &str) -> Result<AddressPolicy, String> {
        let mut out = Vec::new();
        for part in list
            .split([',', ' '])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            out.push(
                part.parse::<IpAddr>()
                    .map_err(|_| format!("{part:?} is not an IP address"))?,
            );
        }
        Ok(AddressPolicy::allowing(out))
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.allowed.contains(&ip.to_canonical())
    }

    /// Refuses a URL whose host is a literal address this policy does not permit (a name is
    /// checked by the resolver, at connection time).
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), AddressRefused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(AddressRefused(format!(
                "the link's scheme {:?} is not http(s)",
                url.scheme()
            )));
        }
        // The URL parser has already turned every spelling of an IPv4 address (decimal,
        // octal, hex) into dotted form, and IPv6 into bracketed form.
        let Some(host) = url.host_str() else {
            return Err(AddressRefused("the link has no host".into()));
        };
        let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        else {
            return Ok(());
        };
        if self.permits(ip) {
            Ok(())
        } else {
            Err(AddressRefused(format!(
                "the link points at {ip}, a private or local address"
            )))
        }
    }
}

/// A download refused because of where it would connect.
#[derive(Clone, Debug, PartialEq)]
pub struct AddressRefused(pub String);

impl std::fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AddressRefused {}

/// Whether `ip` is a public unicast address: not loopback, private (10/8, 172.16/12,
/// 192.168/16, fc00::/7), link-local (169.254/16, fe80::/10), unspecified, multicast,
/// broadcast, shared (CGNAT 100.64/10), documentation, benchmarking, reserved, or an IPv6 form
/// of an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo), site-local or discard-only.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] == 0) // Teredo
        || s[0] == 0x2002 // 6to4
        || (s[0] == 0x64 && s[1] == 0xff9b) // NAT64
        || (s[0] == 0x100 && s[1..4] == [0, 0, 0]) // discard-only
        || s[..5] == [0, 0, 0, 0, 0]) // IPv4-mapped (::ffff:0:0/96), -compatible, other ::/80
}

/// Resolves names to the addresses the policy permits; a name with none is an error.
struct GuardedResolver {
    policy: AddressPolicy,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| policy.permits(a.ip()))
                .collect();
            if permitted.is_empty() {
                let list: Vec<String> = found.iter().map(|a| a.ip().to_string()).collect();
                return Err(Box::new(AddressRefused(format!(
                    "{host} resolves to {}, not a public address",
                    if list.is_empty() {
                        "nothing".to_string()
                    } else {
                        list.join(", ")
                    }
                )))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(permitted.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The client for files named by inbound payloads: [`client`]'s settings, but connecting only
/// where `policy` permits, checked after resolution and on every redirect, and never through a
/// proxy (a proxy would resolve the target itself).
pub fn media_client(timeout: Duration, policy: AddressPolicy) -> reqwest::Client {
    let redirects = policy.clone();
    reqwest::Client::builder()
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 3 {
                return attempt.error("too many redirects");
            }
            match redirects.check_url(attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(e) => attempt.error(e),
            }
        }))
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver { policy }))
        .user_agent(concat!("convergence/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client configuration is valid")
}

/// The refusal in an error's causes, if the error is one.
fn address_refusal(e: &reqwest::Error) -> Option<String> {
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        if let Some(r) = inner.downcast_ref::<AddressRefused>() {
            return Some(r.0.clone());
        }
        src = inner.source();
    }
    None
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

/// An answer body that is not what the API sends, in words: "" when empty, the title of a web
/// page (a proxy's or a login page), else the start of the text, without control characters.
/// Never a parser's message.
pub fn body_words(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start();
    let lower = trimmed
        .get(..trimmed.len().min(4096))
        .unwrap_or(trimmed)
        .to_ascii_lowercase();
    if lower.starts_with("<!doctype html") || lower.starts_with("<html") || lower.contains("<body")
    {
        let title = lower
            .find("<title")
            .and_then(|i| lower[i..].find('>').map(|j| i + j + 1))
            .and_then(|start| {
                lower[start..]
                    .find("</title")
                    .map(|len| (start, start + len))
            })
            .map(|(a, b)| {
                trimmed[a..b]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .filter(|t| !t.is_empty());
        if let Some(t) = title {
            return format!(
                "a web page titled “{}”",
                t.chars().take(120).collect::<String>()
            );
        }
        // No title: the page's words, without its markup.
        let mut words = String::new();
        let mut in_tag = false;
        for c in trimmed.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => {
                    in_tag = false;
                    words.push(' ');
                }
                c if !in_tag => words.push(if c.is_control() { ' ' } else { c }),
                _ => {}
            }
        }
        let words: String = words.split_whitespace().collect::<Vec<_>>().join(" ");
        let words: String = words.chars().take(120).collect();
        return if words.is_empty() {
            "a web page".to_string()
        } else {
            format!("a web page saying “{words}”")
        };
    }
    let shown: String = trimmed
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    shown.trim().to_string()
}

/// A 2xx answer that is not the API's, in words: what came back and what to check.
pub fn not_the_api(provider: &str, body: &[u8]) -> String {
    let what = match body_words(body) {
        w if w.is_empty() => "an empty answer".to_string(),
        w if w.starts_with("a web page") => w,
        w => format!("“{w}”"),
    };
    format!("{provider} answered with {what}, not its API's answer. Check the API base URL.")
}

/// A failed request: worth retrying when it never left (no connection could be made);
/// otherwise (a timeout after it was written, a connection dropped before the answer) its
/// outcome is unknown.
pub fn send_failure(e: &reqwest::Error) -> SendError {
    if e.is_connect() || e.is_builder() {
        SendError::Temporary(words(e))
    } else {
        SendError::Unknown(words(e))
    }
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

/// Downloads one file with the size limit; `req` carries the provider's authentication. With
/// a [`media_client`], give its `policy` too: a literal address it does not permit is refused
/// before any connection. A refused address is final, not retried.
pub async fn download(
    req: reqwest::RequestBuilder,
    policy: Option<&AddressPolicy>,
) -> Result<(Vec<u8>, Option<String>), MediaError> {
    let (client, req) = req.build_split();
    let req = req.map_err(|e| MediaError::Permanent(words(&e)))?;
    if let Some(p) = policy {
        p.check_url(req.url())
            .map_err(|r| MediaError::Permanent(format!("not downloaded: {r}")))?;
    }
    let resp = client
        .execute(req)
        .await
        .map_err(|e| match address_refusal(&e) {
            Some(r) => MediaError::Permanent(format!("not downloaded: {r}")),
            None => MediaError::Temporary(words(&e)),
        })?;
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

    #[test]
    fn only_public_addresses_are_public() {
        for bad in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "100.64.0.1",
            "100.127.255.254",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.0.8",
            "198.18.0.1",
            "240.0.0.1",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:8.8.8.8",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:a00:1::1",
            "2001:db8::1",
            "2001:0:1::1",
        ] {
            assert!(!is_public(bad.parse().unwrap()), "{bad}");
        }
        for good in [
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700:4700::1111",
            "2a03:2880:f12f:83:face:b00c::25de",
        ] {
            assert!(is_public(good.parse().unwrap()), "{good}");
        }
    }

    #[test]
    fn literal_addresses_in_links_are_checked() {
        let none = AddressPolicy::default();
        let u = |s: &str| reqwest::Url::parse(s).unwrap();
        for bad in [
            "http://127.0.0.1/x",
            "http://2130706433/x",
            "http://0x7f.1/x",
            "http://[::1]:8080/x",
            "http://[::ffff:169.254.169.254]/x",
            "http://169.254.169.254/latest/meta-data",
            "ftp://8.8.8.8/x",
        ] {
            assert!(none.check_url(&u(bad)).is_err(), "{bad}");
        }
        assert!(none.check_url(&u("https://cdn.example/x")).is_ok());
        assert!(none.check_url(&u("https://8.8.8.8/x")).is_ok());
        let local = AddressPolicy::parse("127.0.0.1, ::1").unwrap();
        assert!(local.check_url(&u("http://127.0.0.1:3210/x")).is_ok());
        assert!(local.check_url(&u("http://[::1]:3210/x")).is_ok());
        assert!(local.check_url(&u("http://127.0.0.2/x")).is_err());
        assert!(AddressPolicy::parse("localhost").is_err());
        assert_eq!(AddressPolicy::parse("").unwrap(), AddressPolicy::default());
    }

    /// A file server on every interface, counting the requests it answers; `/hop` redirects
    /// to `to` + `/file`.
    async fn file_server(to: &'static str) -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
        use axum::routing::get;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let hits = Arc::new(AtomicUsize::new(0));
        let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (h1, h2) = (hits.clone(), hits.clone());
        let app = axum::Router::new()
            .route(
                "/file",
                get(move || async move {
                    h1.fetch_add(1, Ordering::SeqCst);
                    "secret"
                }),
            )
            .route(
                "/hop",
                get(move || async move {
                    h2.fetch_add(1, Ordering::SeqCst);
                    axum::response::Redirect::temporary(&format!("http://{to}:{port}/file"))
                }),
            );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (port, hits)
    }

    #[tokio::test]
    async fn media_downloads_reach_only_permitted_addresses() {
        use std::sync::atomic::Ordering;
        let (port, hits) = file_server("127.0.0.2").await;
        let t = Duration::from_secs(5);
        // The stand-in's address, allowed in configuration: downloaded.
        let allowed = AddressPolicy::allowing(["127.0.0.1".parse().unwrap()]);
        let c = media_client(t, allowed.clone());
        let url = format!("http://127.0.0.1:{port}/file");
        let (data, _) = download(c.get(&url), Some(&allowed)).await.unwrap();
        assert_eq!(data, b"secret");
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        // Another loopback address, not allowed: refused before connecting.
        let other = format!("http://127.0.0.2:{port}/file");
        match download(c.get(&other), Some(&allowed)).await {
            Err(MediaError::Permanent(w)) => assert!(w.contains("127.0.0.2"), "{w}"),
            r => panic!("{r:?}"),
        }
        // A redirect from an allowed address to one that is not: refused at the redirect.
        let hop = format!("http://127.0.0.1:{port}/hop");
        match download(c.get(&hop), Some(&allowed)).await {
            Err(MediaError::Permanent(w)) => assert!(w.contains("127.0.0.2"), "{w}"),
            r => panic!("{r:?}"),
        }
        assert_eq!(hits.load(Ordering::SeqCst), 2, "only the hop was answered");
        // Nothing allowed: a literal loopback address and a name resolving to loopback are
        // both refused, the name by the resolver the connection uses (no rebinding window).
        let none = AddressPolicy::default();
        let c = media_client(t, none.clone());
        match download(c.get(&url), Some(&none)).await {
            Err(MediaError::Permanent(w)) => assert!(w.contains("private or local"), "{w}"),
            r => panic!("{r:?}"),
        }
        let named = format!("http://localhost:{port}/file");
        match download(c.get(&named), Some(&none)).await {
            Err(MediaError::Permanent(w)) => {
                assert!(w.contains("localhost resolves to"), "{w}")
            }
            r => panic!("{r:?}"),
        }
        // Even without the pre-check, the client itself refuses: the resolver for names, the
        // redirect policy for literal addresses after a hop.
        let allowed_only_here = AddressPolicy::allowing(["127.0.0.1".parse().unwrap()]);
        let c = media_client(t, allowed_only_here);
        assert!(c.get(&hop).send().await.is_err());
        let c = media_client(t, AddressPolicy::default());
        assert!(c.get(&named).send().await.is_err());
        assert_eq!(hits.load(Ordering::SeqCst), 3, "the second hop only");
    }

    #[test]
    fn answers_that_are_not_the_apis_are_described_in_words() {
        assert_eq!(body_words(b""), "");
        assert_eq!(body_words(b"  bad\r\ngateway "), "bad  gateway");
        assert_eq!(
            body_words(b"<!DOCTYPE html><html><head><title>\n502 Bad\n Gateway</title></head><body>x</body></html>"),
            "a web page titled “502 Bad Gateway”"
        );
        assert_eq!(
            body_words(b"<html><body><h1>Bad</h1> gateway</body></html>"),
            "a web page saying “Bad gateway”"
        );
        let w = not_the_api(
            "Twilio",
            b"<html><head><title>Sign in</title></head></html>",
        );
        assert_eq!(
            w,
            "Twilio answered with a web page titled “Sign in”, not its API's answer. Check the API base URL."
        );
        assert!(not_the_api("Twilio", b"").contains("an empty answer"));
        assert!(not_the_api("Twilio", b"nope").contains("“nope”"));
    }
}
