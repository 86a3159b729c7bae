//! Sending replies by SMTP with lettre: multipart/alternative (text and HTML), our own
//! Message-ID, In-Reply-To/References from the customer's last email, a signed reply
//! address, and a signed unsubscribe link (`List-Unsubscribe`, RFC 8058 one-click).
//! Temporary failures (4xx, network) are retried by the outbox; permanent ones (5xx) fail the
//! message with the server's words.

use super::settings::{EmailAccount, Endpoint};
use crate::channels::{SendError, Sender, Sent};
use app::domain::convert::text_to_html;
use app::domain::email_account::TlsMode;
use app::domain::DeliveryState;
use app::ports::Outbound;
use app::store::channel_accounts::AccountRow;
use app::store::now_ms;
use async_trait::async_trait;
use hmac::{Hmac, Mac};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::Sha256;
use std::time::Duration;

/// How long one SMTP conversation may take before it counts as a temporary failure.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

pub struct EmailSender {
    key: Vec<u8>,
    /// Where unsubscribe links point (`CONVERGENCE_PUBLIC_URL`); None: no link.
    public_url: Option<String>,
}

impl EmailSender {
    pub fn new(secret_key: &str) -> EmailSender {
        EmailSender {
            key: secret_key.as_bytes().to_vec(),
            public_url: None,
        }
    }

    /// Adds `List-Unsubscribe` links under `public_url` to every message.
    pub fn with_public_url(mut self, public_url: &str) -> EmailSender {
        self.public_url = Some(public_url.trim_end_matches('/').to_string())
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"));
        self
    }
}

/// `List-Unsubscribe: <https://…/unsubscribe/{token}>` (RFC 2369).
#[derive(Clone, Debug)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(
            Self::name(),
            format!("<{}>", header_safe(&self.0).replace(' ', "")),
        )
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): mail programs may
/// unsubscribe with one POST to the link, without opening a page.
#[derive(Clone, Debug)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_string())
    }
}

pub fn transport(ep: &Endpoint) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(ep.host.as_str())
        .port(ep.port)
        .timeout(Some(SMTP_TIMEOUT));
    let tls = || TlsParameters::new(ep.host.clone()).map_err(|e| format!("TLS setup: {e}"));
    b = match ep.tls {
        TlsMode::Tls => b.tls(Tls::Wrapper(tls()?)),
        TlsMode::Starttls => b.tls(Tls::Required(tls()?)),
        TlsMode::None => b.tls(Tls::None),
    };
    if !ep.user.is_empty() {
        b = b.credentials(Credentials::new(ep.user.clone(), ep.password.clone()));
    }
    Ok(b.build())
}

pub async fn test_connection(acc: &EmailAccount) -> Result<String, String> {
    if acc.smtp.host.is_empty() {
        return Err("no SMTP server".into());
    }
    let t = transport(&acc.smtp)?;
    match t.test_connection().await {
        Ok(true) => Ok(format!(
            "SMTP: {}:{} accepts our connection{}",
            acc.smtp.host,
            acc.smtp.port,
            if acc.smtp.user.is_empty() {
                String::new()
            } else {
                format!(" and signs in {}", acc.smtp.user)
            }
        )),
        Ok(false) => Err(format!(
            "{}:{} did not answer NOOP",
            acc.smtp.host, acc.smtp.port
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// Header text from user input: no CR, LF or other control characters, ever.
pub fn header_safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Our Message-ID for outbound message `id`: stable across retries (a resend after a lost
/// answer carries the same id, so mail programs see one message) and not guessable.
pub fn message_id(key: &[u8], id: i64, domain: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(format!("convergence-message:{id}").as_bytes());
    let tag = mac.finalize().into_bytes();
    let hex: String = tag[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{id}.{hex}@{}", header_safe(domain).replace(' ', ""))
}

/// The subject of a reply: ours if the agent wrote one, else `Re:` the customer's.
pub fn reply_subject(ours: Option<&str>, theirs: Option<&str>, from_name: &str) -> String {
    if let Some(s) = ours.map(header_safe).filter(|s| !s.is_empty()) {
        return s;
    }
    match theirs.map(header_safe).filter(|s| !s.is_empty()) {
        Some(t) if t.len() >= 3 && t[..3].eq_ignore_ascii_case("re:") => t,
        Some(t) => format!("Re: {t}"),
        None if from_name.trim().is_empty() => "Your message".into(),
        None => format!("Message from {}", header_safe(from_name)),
    }
}

/// Builds the MIME message for `msg`; `Err` is permanent (bad address, bad settings). With
/// `public_url`, it carries the recipient's signed unsubscribe link.
pub fn build(
    acc: &EmailAccount,
    key: &[u8],
    public_url: Option<&str>,
    msg: &Outbound,
) -> Result<(Message, String), String> {
    let from_addr = acc
        .address
        .parse()
        .map_err(|e| format!("our From address {:?} is not valid: {e}", acc.address))?;
    let from = Mailbox::new(
        Some(header_safe(&acc.from_name)).filter(|n| !n.is_empty()),
        from_addr,
    );
    let reply_addr = super::token::reply_address(&acc.address, msg.conversation_id, key);
    let reply_to = Mailbox::new(
        from.name.clone(),
        reply_addr
            .parse()
            .map_err(|e| format!("reply address {reply_addr:?}: {e}"))?,
    );
    let to: Mailbox = header_safe(&msg.to)
        .parse()
        .map_err(|e| format!("the customer's address {:?} is not valid: {e}", msg.to))?;
    let id = message_id(key, msg.message_id, acc.domain());
    let mut b = Message::builder()
        .from(from)
        .reply_to(reply_to)
        .to(to)
        .subject(reply_subject(
            msg.subject.as_deref(),
            msg.reply.subject.as_deref(),
            &acc.from_name,
        ))
        .message_id(Some(format!("<{id}>")))
        .date_now();
    if let Some(url) = public_url {
        b = b
            .header(ListUnsubscribe(super::unsubscribe::link(
                url,
                key,
                msg.identifier_id,
            )))
            .header(ListUnsubscribePost);
    }
    if let Some(parent) = &msg.reply.in_reply_to {
        b = b.in_reply_to(format!("<{}>", header_safe(parent)));
    }
    if !msg.reply.references.is_empty() {
        let refs: Vec<String> = msg
            .reply
            .references
            .iter()
            .map(|r| format!("<{}>", header_safe(r)))
            .collect();
        b = b.references(refs.join(" "));
    }
    // A campaign's email shows its unsubscribe link in the text too (the headers are not
    // shown by every mail program), and carries the HTML its author wrote.
    let unsubscribe = public_url
        .filter(|_| msg.campaign.is_some())
        .map(|url| super::unsubscribe::link(url, key, msg.identifier_id));
    // Every email carries the customer's preference center link (issue 18).
    // Not twice: an agent may have put it in the reply already ("Let the customer choose").
    let choose = public_url.filter(|url| {
        !msg.body_text
            .contains(&format!("{}/p/", url.trim_end_matches('/')))
    });
    let choose = choose.map(|url| {
        app::ssr::pref_token::link(url, key, msg.identifier_id, msg.customer_id, now_ms())
    });
    let mut footer_lines = Vec::new();
    if let Some(link) = &choose {
        footer_lines.push(format!("Choose how we reach you: {link}"));
    }
    if let Some(link) = &unsubscribe {
        footer_lines.push(format!("Unsubscribe: {link}"));
    }
    let text = if footer_lines.is_empty() {
        msg.body_text.clone()
    } else {
        format!(
            "{}\n\n--\n{}\n",
            msg.body_text.trim_end(),
            footer_lines.join("\n")
        )
    };
    let authored = msg
        .campaign
        .as_ref()
        .and_then(|c| c.extra.html.as_deref())
        .filter(|h| !h.trim().is_empty());
    let mut html = match authored {
        Some(h) => h.to_string(),
        None => format!(
            "<!doctype html><html><body style=\"font-family:sans-serif\">{}</body></html>",
            text_to_html(&msg.body_text)
        ),
    };
    let mut links = Vec::new();
    if let Some(link) = &choose {
        links.push(format!(
            "<a href=\"{}\">Choose how we reach you</a>",
            app::domain::text::escape_html(link)
        ));
    }
    if let Some(link) = &unsubscribe {
        links.push(format!(
            "<a href=\"{}\">Unsubscribe</a>",
            app::domain::text::escape_html(link)
        ));
    }
    if !links.is_empty() {
        let footer = format!(
            "<p style=\"font-size:12px;color:#555\">{}</p>",
            links.join(" · ")
        );
        match html.rfind("</body>") {
            Some(i) => html.insert_str(i, &footer),
            None => html.push_str(&footer),
        }
    }
    let body = MultiPart::alternative_plain_html(text, html);
    let m = if msg.files.is_empty() {
        b.multipart(body)
    } else {
        let mut mixed = MultiPart::mixed().multipart(body);
        for f in &msg.files {
            let ct = ContentType::parse(&f.content_type)
                .unwrap_or_else(|_| ContentType::parse("application/octet-stream").expect("valid"));
            mixed = mixed
                .singlepart(Attachment::new(header_safe(&f.filename)).body(f.data.clone(), ct));
        }
        b.multipart(mixed)
    }
    .map_err(|e| format!("cannot build the message: {e}"))?;
    Ok((m, id))
}

#[async_trait]
impl Sender for EmailSender {
    async fn send(&self, account: &AccountRow, msg: &Outbound) -> Result<Sent, SendError> {
        let acc =
            EmailAccount::from_row(account).map_err(|e| SendError::Permanent(e.to_string()))?;
        if acc.smtp.host.is_empty() {
            return Err(SendError::Permanent(
                "this mailbox has no SMTP server configured".into(),
            ));
        }
        if msg.body_text.trim().is_empty() {
            return Err(SendError::Permanent("empty message".into()));
        }
        let (m, id) = build(&acc, &self.key, self.public_url.as_deref(), msg)
            .map_err(SendError::Permanent)?;
        let t = transport(&acc.smtp).map_err(SendError::Permanent)?;
        match t.send(m).await {
            Ok(_) => Ok(Sent {
                provider_message_id: format!("mid:{id}"),
                state: DeliveryState::Sent,
                rfc_message_id: Some(id),
            }),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(format!(
                "the mail server refused it: {e}"
            ))),
            Err(e) => Err(SendError::Temporary(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::ports::ReplyContext;

    fn account() -> EmailAccount {
        EmailAccount {
            id: 1,
            address: "support@shop.test".into(),
            from_name: "Shop\r\nBcc: evil@x.test".into(),
            imap: Endpoint {
                host: "h".into(),
                port: 1,
                tls: TlsMode::None,
                user: String::new(),
                password: String::new(),
            },
            smtp: Endpoint {
                host: "h".into(),
                port: 1,
                tls: TlsMode::None,
                user: String::new(),
                password: String::new(),
            },
            folder: "INBOX".into(),
            import_since: None,
        }
    }

    fn outbound() -> Outbound {
        Outbound {
            message_id: 7,
            conversation_id: 3,
            channel: app::domain::ChannelKind::Email,
            account_id: 1,
            to: "ann@example.com".into(),
            subject: None,
            body_text: "Hello\n\nSee https://shop.test/track".into(),
            reply: ReplyContext {
                in_reply_to: Some("abc@mail.example.com".into()),
                references: vec!["root@x".into(), "abc@mail.example.com".into()],
                subject: Some("Where is my order?\r\nBcc: evil@x.test".into()),
            },
            files: vec![],
            last_inbound_at: None,
            identifier_id: 1,
            recipient_label: String::new(),
            customer_id: 1,
            automatic: false,
            campaign: None,
        }
    }

    #[test]
    fn reply_threads_and_keeps_headers_clean() {
        let (m, id) = build(&account(), b"k", None, &outbound()).unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        let head = raw.split("\r\n\r\n").next().unwrap();
        assert!(head.contains(&format!("Message-ID: <{id}>")), "{head}");
        assert!(
            head.contains("In-Reply-To: <abc@mail.example.com>"),
            "{head}"
        );
        assert!(
            head.contains("References: <root@x> <abc@mail.example.com>"),
            "{head}"
        );
        assert!(head.contains("Subject: Re: Where is my order? Bcc: evil@x.test"));
        assert!(!head.lines().any(|l| l.starts_with("Bcc:")), "{head}");
        assert!(head.contains("Reply-To:") && head.contains("support+c3-"));
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("text/html"));
        assert!(!head.contains("Auto-Submitted"));
        assert!(id.ends_with("@shop.test"));
    }

    #[test]
    fn files_are_attached() {
        let mut o = outbound();
        o.files.push(app::ports::OutboundFile {
            filename: "label\r\n.pdf".into(),
            content_type: "application/pdf".into(),
            data: b"%PDF-1.4".to_vec(),
        });
        let (m, _) = build(&account(), b"k", None, &o).unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(raw.contains("multipart/mixed"));
        assert!(
            raw.contains("Content-Disposition: attachment; filename=\"label .pdf\""),
            "{raw}"
        );
    }

    #[test]
    fn unsubscribe_link_is_signed_and_one_click() {
        let (m, _) = build(
            &account(),
            b"k",
            Some("https://inbox.example.com"),
            &outbound(),
        )
        .unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        let head = raw.split("\r\n\r\n").next().unwrap();
        let want = format!(
            "List-Unsubscribe: <{}>",
            crate::channels::email::unsubscribe::link("https://inbox.example.com", b"k", 1)
        );
        assert!(head.contains(&want), "{head}");
        assert!(
            head.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
            "{head}"
        );
        let token = want.rsplit('/').next().unwrap().trim_end_matches('>');
        assert_eq!(
            crate::channels::email::unsubscribe::verify(b"k", token),
            Ok((1, app::domain::consent::Purpose::Marketing))
        );
        // Without a public URL there is no link to give.
        let (m, _) = build(&account(), b"k", None, &outbound()).unwrap();
        assert!(!String::from_utf8(m.formatted())
            .unwrap()
            .contains("List-Unsubscribe"));
    }

    /// Every email carries the customer's preference center link, once, in text and HTML; it
    /// names the recipient identifier and its customer.
    #[test]
    fn every_email_carries_the_preference_center_link_once() {
        let url = "https://inbox.example.com";
        let (m, _) = build(&account(), b"k", Some(url), &outbound()).unwrap();
        let raw = String::from_utf8(m.formatted())
            .unwrap()
            .replace("=\r\n", "");
        let at = raw
            .find("Choose how we reach you: https://inbox.example.com/p/")
            .expect("text link");
        let token: String = raw[at..]
            .trim_start_matches("Choose how we reach you: https://inbox.example.com/p/")
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect();
        let c = app::ssr::pref_token::verify(b"k", &token, app::store::now_ms()).unwrap();
        assert_eq!((c.identifier_id, c.customer_id), (1, 1));
        assert!(raw.contains(">Choose how we reach you</a>"), "HTML link");
        // An agent put it in the reply already: not again in the footer.
        let mut o = outbound();
        o.body_text = format!("See {url}/p/{token} to choose.");
        let (m, _) = build(&account(), b"k", Some(url), &o).unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(!raw.contains("Choose how we reach you"), "{raw}");
    }

    #[test]
    fn message_ids_are_stable_and_keyed() {
        assert_eq!(message_id(b"k", 7, "a.test"), message_id(b"k", 7, "a.test"));
        assert_ne!(message_id(b"k", 7, "a.test"), message_id(b"j", 7, "a.test"));
        assert_ne!(message_id(b"k", 7, "a.test"), message_id(b"k", 8, "a.test"));
    }

    #[test]
    fn subjects() {
        assert_eq!(reply_subject(None, Some("RE: x"), "S"), "RE: x");
        assert_eq!(reply_subject(None, Some("x"), "S"), "Re: x");
        assert_eq!(reply_subject(Some("New"), Some("x"), "S"), "New");
        assert_eq!(reply_subject(None, None, "Shop"), "Message from Shop");
    }

    #[test]
    fn bad_customer_address_is_permanent() {
        let mut o = outbound();
        o.to = "not an address".into();
        assert!(build(&account(), b"k", None, &o).is_err());
    }
}
