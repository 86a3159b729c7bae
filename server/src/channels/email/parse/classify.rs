//! Auto-replies, bulk mail and delivery-status reports (bounces).

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------
// Automatic mail and bounces.

pub(super) fn classify(
    message: &Message<'_>,
    raw: &[u8],
    order: &[usize],
    parent: &[Option<usize>],
    from: Option<&Mailbox>,
    subject: Option<&str>,
    text: &str,
) -> (Option<AutoKind>, Option<Bounce>) {
    let parts = &message.parts;
    let root = &parts[0];
    let report_type = |part: &MessagePart<'_>| {
        part.content_type()
            .filter(|_| is_type(part, "multipart", &["report"]))
            .and_then(|ct| ct.attribute("report-type"))
            .map(|r| r.trim().to_ascii_lowercase())
    };
    let is_dsn = order.iter().any(|&id| {
        report_type(&parts[id])
            .is_some_and(|r| r == "delivery-status" || r == "global-delivery-status")
    });
    let is_mdn = report_type(root).is_some_and(|r| r == "disposition-notification");

    // The attached original (its Message-ID), for bounces.
    let original_id = || {
        order.iter().find_map(|&id| {
            let p = &parts[id];
            if matches!(p.body, PartType::Message(_))
                || is_type(p, "message", &["rfc822", "global", "global-headers"])
            {
                let boundary = parent[id]
                    .and_then(|up| parts[up].content_type())
                    .and_then(|ct| ct.attribute("boundary"));
                message_id_in(&message_bytes(raw, p, boundary).0)
            } else if is_type(p, "text", &["rfc822-headers"]) {
                message_id_in(&decoded_body(raw, p))
            } else {
                None
            }
        })
    };

    if is_dsn {
        let bounce = order
            .iter()
            .find(|&&id| {
                is_type(
                    &parts[id],
                    "message",
                    &["delivery-status", "global-delivery-status"],
                )
            })
            .map(|&id| {
                let mut b = dsn_bounce(&decoded_body(raw, &parts[id]));
                b.original_message_id = original_id();
                b
            });
        return (Some(AutoKind::Bounce), bounce);
    }

    // Bounces from mail systems that do not send RFC 3464 reports.
    let daemon = from.is_some_and(|f| {
        let local = f
            .address
            .split('@')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        local == "mailer-daemon" || local == "postmaster"
    });
    let bounce_subject = subject.is_some_and(|s| {
        let s = s.to_ascii_lowercase();
        [
            "undelivered mail returned to sender",
            "delivery status notification (failure)",
            "mail delivery failed",
            "undeliverable:",
            "returned mail:",
            "failure notice",
            "delivery failure",
        ]
        .iter()
        .any(|p| s.starts_with(p))
    });
    if daemon && bounce_subject {
        let bounce = original_id().map(|orig| Bounce {
            original_message_id: Some(orig),
            recipient: None,
            action: "failed".into(),
            reason: smtp_error_line(text)
                .or_else(|| subject.map(str::to_string))
                .unwrap_or_else(|| "undeliverable".into()),
        });
        return (Some(AutoKind::Bounce), bounce);
    }

    let token = |v: &str| {
        v.split([';', '(', ' ', '\t'])
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    };
    let auto_submitted = root_text(message, "Auto-Submitted").is_some_and(|v| {
        let t = token(&v);
        !t.is_empty() && t != "no"
    });
    let x_auto = ["X-Autoreply", "X-Autorespond"].iter().any(|h| {
        root_text(message, h).is_some_and(|v| {
            let t = token(&v);
            t != "no" && t != "false" && t != "0"
        })
    });
    let precedence = root_text(message, "Precedence").map(|v| token(&v));
    if auto_submitted || x_auto || is_mdn || precedence.as_deref() == Some("auto_reply") {
        return (Some(AutoKind::AutoReply), None);
    }
    let bulk = matches!(precedence.as_deref(), Some("bulk" | "junk" | "list"))
        || root_header(message, "List-Id").is_some()
        || root_header(message, "List-Unsubscribe").is_some();
    if bulk {
        return (Some(AutoKind::Bulk), None);
    }
    (None, None)
}

/// The first line of `text` that reads like an SMTP error (`550 …`, `5.1.1 …`).
pub(super) fn smtp_error_line(text: &str) -> Option<String> {
    text.lines().take(200).find_map(|l| {
        let has_code = l
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .any(|w| {
                let b = w.as_bytes();
                (b.len() == 3 && b[0] == b'5' && b.iter().all(u8::is_ascii_digit))
                    || (b.len() >= 5
                        && b[0] == b'5'
                        && b[1] == b'.'
                        && w.split('.').count() == 3
                        && w.split('.').all(|x| !x.is_empty()))
            });
        if has_code {
            clean_line(l, 1000)
        } else {
            None
        }
    })
}

/// The field groups of a `message/delivery-status` body (per-message, then per-recipient), read
/// with mail-parser's header parser one group at a time.
pub(super) fn dsn_groups(bytes: &[u8]) -> Vec<Vec<(String, String)>> {
    let parser = MessageParser::default();
    let mut groups = Vec::new();
    let mut rest = bytes;
    for _ in 0..1000 {
        let skip = rest
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(rest.len());
        rest = &rest[skip..];
        if rest.is_empty() {
            break;
        }
        let Some(m) = parser.parse_headers(rest) else {
            break;
        };
        let Some(root) = m.parts.first() else { break };
        let fields: Vec<(String, String)> = root
            .headers
            .iter()
            .map(|h| {
                let v = rest
                    .get(h.offset_start as usize..h.offset_end as usize)
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default();
                (
                    h.name.as_str().to_ascii_lowercase(),
                    clean_line(&v, 1000).unwrap_or_default(),
                )
            })
            .collect();
        let end = root
            .headers
            .iter()
            .map(|h| h.offset_end as usize)
            .max()
            .unwrap_or(0);
        if fields.is_empty() || end == 0 || end > rest.len() {
            break;
        }
        groups.push(fields);
        rest = &rest[end..];
    }
    groups
}

/// A typed field value without its type: `rfc822; a@b` → `a@b`, `smtp; 550 …` → `550 …`.
pub(super) fn untyped(v: &str) -> &str {
    match v.split_once(';') {
        Some((ty, rest))
            if !ty.trim().is_empty()
                && ty.trim().len() <= 20
                && ty
                    .trim()
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            rest.trim()
        }
        _ => v.trim(),
    }
}

pub(super) fn dsn_bounce(body: &[u8]) -> Bounce {
    let groups = dsn_groups(body);
    let field = |g: &[(String, String)], name: &str| {
        g.iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    let recipients: Vec<&Vec<(String, String)>> = groups
        .iter()
        .filter(|g| field(g, "final-recipient").is_some() || field(g, "action").is_some())
        .collect();
    let chosen = recipients
        .iter()
        .find(|g| field(g, "action").is_some_and(|a| a.eq_ignore_ascii_case("failed")))
        .or(recipients.first());
    let Some(g) = chosen else {
        return Bounce {
            original_message_id: None,
            recipient: None,
            action: "unknown".into(),
            reason: "a delivery report without recipient fields".into(),
        };
    };
    let recipient = field(g, "final-recipient")
        .or_else(|| field(g, "original-recipient"))
        .map(|r| untyped(&r).trim_matches(['<', '>']).to_string())
        .filter(|r| !r.is_empty());
    let action = field(g, "action")
        .map(|a| a.trim().to_ascii_lowercase())
        .unwrap_or_else(|| "unknown".into());
    let reason = field(g, "diagnostic-code")
        .map(|d| untyped(&d).to_string())
        .filter(|d| !d.is_empty())
        .or_else(|| field(g, "status"))
        .unwrap_or_else(|| "no reason given".into());
    Bounce {
        original_message_id: None,
        recipient,
        action,
        reason,
    }
}
