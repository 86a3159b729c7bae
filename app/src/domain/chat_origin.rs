//! Website chat: which web origins may embed a chat widget (issue 16, groundwork).
//!
//! An admin lists the sites allowed to embed the widget, one pattern per line:
//! `https://shop.example.com`, `https://*.example.com`, `http://localhost:8080`. A request's
//! `Origin` header (scheme, host, optional port; nothing else) is allowed when it matches one
//! pattern exactly, with `*.` standing for one or more labels of a subdomain (never the bare
//! domain, never across the scheme or port). The same patterns become the iframe's
//! `frame-ancestors` list, so the browser enforces what the server checks.
//!
//! Everything is parsed strictly and compared in lower case; an origin that is not a plain
//! `scheme://host[:port]` never matches (`null`, paths, user info, spaces).

use std::fmt;

/// The most patterns one chat channel may list.
pub const MAX_PATTERNS: usize = 50;
/// The longest pattern or origin considered (DNS names are at most 253 bytes).
const MAX_LEN: usize = 300;

/// One allowed origin pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginPattern {
    scheme: Scheme,
    /// `*.host`: one or more labels before `host`; else `host` exactly.
    wildcard: bool,
    host: String,
    /// The port as written, else the scheme's default.
    port: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
}

impl Scheme {
    fn parse(s: &str) -> Option<Scheme> {
        match s {
            "http" => Some(Scheme::Http),
            "https" => Some(Scheme::Https),
            _ => None,
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// Why a pattern was refused, in words for the admin form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError(pub String);

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `scheme://host[:port]`, with an optional trailing `/` (people paste it); the host is
/// lower-cased. `allow_wildcard`: the host may start with `*.`.
fn split(s: &str, allow_wildcard: bool) -> Result<(Scheme, bool, String, u16), String> {
    if s.len() > MAX_LEN {
        return Err("is too long".into());
    }
    let s = s.strip_suffix('/').unwrap_or(s);
    let (scheme, rest) = s
        .split_once("://")
        .ok_or("must start with https:// (or http://)")?;
    let scheme = Scheme::parse(&scheme.to_ascii_lowercase())
        .ok_or("must start with https:// (or http://)")?;
    if rest.contains(['/', '?', '#', '@', '\\']) || rest.chars().any(char::is_whitespace) {
        return Err("must be a site's address only: no path, query or user name".into());
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => {
            let port: u16 = p
                .parse()
                .ok()
                .filter(|&p| p > 0)
                .ok_or("has a port that is not a number from 1 to 65535")?;
            (h, port)
        }
        _ => (rest, scheme.default_port()),
    };
    let host = host.to_ascii_lowercase();
    let (wildcard, name) = match host.strip_prefix("*.") {
        Some(name) if allow_wildcard => (true, name.to_string()),
        Some(_) => return Err("is not a single site".into()),
        None => (false, host),
    };
    if !valid_host(&name) {
        return Err("has no valid host name".into());
    }
    if wildcard && !name.contains('.') {
        return Err("may use * only below a domain, as in https://*.example.com".into());
    }
    Ok((scheme, wildcard, name, port))
}

/// A DNS name (letters, digits, hyphens; labels of 1 to 63), `localhost`, or an IPv4 address.
fn valid_host(h: &str) -> bool {
    if h.is_empty() || h.len() > 253 || h.contains('*') {
        return false;
    }
    h.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

impl OriginPattern {
    /// Parses one pattern as an admin writes it.
    pub fn parse(s: &str) -> Result<OriginPattern, PatternError> {
        let s = s.trim();
        split(s, true)
            .map(|(scheme, wildcard, host, port)| OriginPattern {
                scheme,
                wildcard,
                host,
                port,
            })
            .map_err(|why| PatternError(format!("{s:?} {why}")))
    }

    /// Whether the request origin `origin` (an `Origin` header's value) matches.
    pub fn matches(&self, origin: &str) -> bool {
        let Ok((scheme, false, host, port)) = split(origin.trim(), false) else {
            return false;
        };
        if scheme != self.scheme || port != self.port {
            return false;
        }
        if self.wildcard {
            host.strip_suffix(&self.host)
                .is_some_and(|head| head.len() > 1 && head.ends_with('.'))
        } else {
            host == self.host
        }
    }

    /// The pattern as a CSP source expression (`frame-ancestors`), in its normal form.
    pub fn csp_source(&self) -> String {
        let host = if self.wildcard {
            format!("*.{}", self.host)
        } else {
            self.host.clone()
        };
        if self.port == self.scheme.default_port() {
            format!("{}://{host}", self.scheme.as_str())
        } else {
            format!("{}://{host}:{}", self.scheme.as_str(), self.port)
        }
    }
}

/// The allowed origins of a chat channel: parsed from the admin's text, one per line (blank
/// lines ignored). Every bad line is reported, not only the first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<OriginPattern>);

impl AllowedOrigins {
    pub fn parse(text: &str) -> Result<AllowedOrigins, Vec<PatternError>> {
        let mut ok = Vec::new();
        let mut bad = Vec::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            match OriginPattern::parse(line) {
                Ok(p) if !ok.contains(&p) => ok.push(p),
                Ok(_) => {}
                Err(e) => bad.push(e),
            }
        }
        if ok.len() > MAX_PATTERNS {
            bad.push(PatternError(format!(
                "at most {MAX_PATTERNS} sites may be listed ({} given)",
                ok.len()
            )));
        }
        if ok.is_empty() && bad.is_empty() {
            bad.push(PatternError(
                "list at least one site that may show the chat, as in https://www.example.com"
                    .into(),
            ));
        }
        if bad.is_empty() {
            Ok(AllowedOrigins(ok))
        } else {
            Err(bad)
        }
    }

    /// Whether a request with this `Origin` header may use the chat.
    pub fn allows(&self, origin: &str) -> bool {
        self.0.iter().any(|p| p.matches(origin))
    }

    /// The `frame-ancestors` directive for the chat iframe.
    pub fn frame_ancestors(&self) -> String {
        let mut out = String::from("frame-ancestors");
        for p in &self.0 {
            out.push(' ');
            out.push_str(&p.csp_source());
        }
        out
    }

    /// The first site listed without a wildcard: where a "continue in the chat" link can open
    /// the chat (a wildcard names no page).
    pub fn first_site(&self) -> Option<String> {
        self.0
            .iter()
            .find(|p| !p.wildcard)
            .map(OriginPattern::csp_source)
    }

    /// The patterns in normal form, one per line (what the admin form shows back).
    pub fn to_text(&self) -> String {
        self.0
            .iter()
            .map(OriginPattern::csp_source)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn allowed(text: &str) -> AllowedOrigins {
        AllowedOrigins::parse(text).expect("valid patterns")
    }

    #[test]
    fn the_first_site_is_the_first_without_a_wildcard() {
        let a = allowed("https://*.example.org\nhttps://shop.example.com/\nhttps://b.example.com");
        assert_eq!(a.first_site().as_deref(), Some("https://shop.example.com"));
        assert_eq!(allowed("https://*.example.org").first_site(), None);
    }

    #[test]
    fn exact_origins_match_only_themselves() {
        let a = allowed("https://shop.example.com\nhttp://localhost:8080/");
        assert!(a.allows("https://shop.example.com"));
        assert!(a.allows("HTTPS://Shop.Example.com"));
        assert!(a.allows("https://shop.example.com:443"));
        assert!(a.allows("http://localhost:8080"));
        assert!(!a.allows("http://shop.example.com"), "another scheme");
        assert!(!a.allows("https://shop.example.com:8443"), "another port");
        assert!(
            !a.allows("http://localhost"),
            "the default port is another port"
        );
        assert!(!a.allows("https://evil-shop.example.com"));
        assert!(!a.allows("https://shop.example.com.evil.test"));
        assert!(!a.allows("https://example.com"));
        assert!(!a.allows("null"), "sandboxed frames and files send null");
        assert!(!a.allows(""));
        assert!(!a.allows("https://shop.example.com/path"));
        assert!(!a.allows("https://user@shop.example.com"));
    }

    #[test]
    fn wildcards_cover_subdomains_but_not_the_domain() {
        let a = allowed("https://*.example.com");
        assert!(a.allows("https://www.example.com"));
        assert!(a.allows("https://a.b.example.com"));
        assert!(!a.allows("https://example.com"));
        assert!(!a.allows("https://badexample.com"));
        assert!(!a.allows("https://www.example.com.evil.test"));
        assert!(!a.allows("http://www.example.com"));
        assert!(
            !a.allows("https://*.example.com"),
            "a request origin is never a pattern"
        );
    }

    #[test]
    fn bad_patterns_are_refused_in_words_every_one() {
        let err =
            AllowedOrigins::parse("example.com\nhttps://*.com\nftp://x.test\nhttps://ok.test")
                .unwrap_err();
        assert_eq!(err.len(), 3, "{err:?}");
        assert!(err[0].0.contains("https://"), "{}", err[0]);
        assert!(err[1].0.contains("below a domain"), "{}", err[1]);
        let err = AllowedOrigins::parse("https://x.test/shop").unwrap_err();
        assert!(err[0].0.contains("no path"), "{}", err[0]);
        let err = AllowedOrigins::parse("https://x.test:99999").unwrap_err();
        assert!(err[0].0.contains("port"), "{}", err[0]);
        let err = AllowedOrigins::parse("  \n ").unwrap_err();
        assert!(err[0].0.contains("at least one site"), "{}", err[0]);
        let many: String = (0..=MAX_PATTERNS)
            .map(|i| format!("https://s{i}.test\n"))
            .collect();
        assert!(AllowedOrigins::parse(&many).is_err());
    }

    #[test]
    fn frame_ancestors_lists_the_normal_forms() {
        let a = allowed("https://Shop.example.com:443/\nhttps://*.example.org\nhttp://localhost:8080\nhttps://shop.example.com");
        assert_eq!(
            a.frame_ancestors(),
            "frame-ancestors https://shop.example.com https://*.example.org http://localhost:8080"
        );
        assert_eq!(
            allowed(&a.to_text()),
            a,
            "the normal form reads back the same"
        );
    }

    proptest! {
        /// Whatever the header says, matching never panics, and a match is always a plain
        /// origin whose host ends with an allowed host.
        #[test]
        fn matching_is_total_and_sound(origin in "\\PC{0,80}") {
            let a = allowed("https://*.example.com\nhttps://shop.test");
            if a.allows(&origin) {
                let lower = origin.trim().to_ascii_lowercase();
                prop_assert!(lower.starts_with("https://"));
                let host = lower.trim_start_matches("https://").trim_end_matches('/');
                let host = host.strip_suffix(":443").unwrap_or(host);
                prop_assert!(host == "shop.test" || host.ends_with(".example.com"), "{}", origin);
            }
        }

        #[test]
        fn subdomains_of_an_allowed_domain_match(labels in proptest::collection::vec("[a-z0-9]{1,10}", 1..4)) {
            let a = allowed("https://*.example.com");
            let origin = format!("https://{}.example.com", labels.join("."));
            prop_assert!(a.allows(&origin));
            let glued = format!("https://{}example.com", labels.join("."));
            prop_assert!(!a.allows(&glued));
        }
    }
}
