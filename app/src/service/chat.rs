//! Website chat identities (issue 16): who a visitor is, as the site or the visitor says.
//!
//! - A **verified** sign-in (the site's HMAC of its user id checked by the edge) joins the
//!   visitor to the customer it names: the customer holding the verified email, else the one
//!   the same signed-in user chatted as before (on another device). Joining is the reversible
//!   merge, recorded on the timeline. The email becomes a verified identifier.
//! - An **unverified** email (typed into the pre-chat form, or an unsigned `identify()` where
//!   the chat allows it) never joins anyone: when another customer has it, a merge suggestion
//!   says so for an agent to decide; when nobody has it, it is added as a suggested
//!   (unverified) identifier of the visitor.
//!
//! The visitor's customer is made here when they have none yet (before their first message),
//! so the message that follows threads into it.

use super::merge::{merge_by, MergeActor};
use crate::domain::consent::{source, Purpose};
use crate::domain::identifier::{clean_label, normalize_email, IdentifierKind};
use crate::store::{consent, customers, identifiers, now_ms, suggestions, Db, Result, StoreError};
use sqlx::AnyConnection;

/// The name a visitor's customer starts with until they give one.
pub const VISITOR_NAME: &str = "Website visitor";
/// The merge suggestion reason for an address typed into the chat that another customer holds
/// (the same reason as an agent adding one: two customers claim one address).
pub const TYPED_ADDRESS: &str = crate::domain::merge::CONFLICT;

/// What the site or the visitor said about who the visitor is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Claim {
    /// The site's user id, when the site signed it (verified by the caller).
    pub verified_user: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    /// Consent boxes the visitor ticked (for the email and phone they typed).
    pub consent: Vec<Purpose>,
}

/// What identifying did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identified {
    /// The visitor's customer now.
    pub customer: i64,
    /// A customer the visitor was joined to (merged into), if any.
    pub joined: Option<i64>,
    /// A customer an unverified email pointed at (a merge suggestion was recorded).
    pub suggested: Option<i64>,
    /// Conversations whose timeline changed (for live updates).
    pub changed: Vec<i64>,
}

/// The chat identifier of a signed-in site user: the same on every device, so a second device
/// joins the first one's customer. A hash, so the site's ids are not stored as they are.
pub fn user_visitor(chat: i64, user_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("chat-user\n{chat}\n{user_id}").as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("u{hex}")
}

/// The customer of visitor `visitor`, made (with its chat identifier) when there is none.
async fn visitor_customer(conn: &mut AnyConnection, visitor: &str, name: &str) -> Result<i64> {
    if let Some((customer, _)) = identifiers::find(conn, IdentifierKind::Chat, visitor).await? {
        return customers::current(conn, customer).await;
    }
    let at = now_ms();
    let customer = customers::create(conn, name, at).await?;
    match identifiers::insert_if_new(
        conn,
        customer,
        IdentifierKind::Chat,
        visitor,
        "Website chat visitor",
        at,
        true,
    )
    .await?
    {
        Some(_) => Ok(customer),
        // Made meanwhile by the visitor's first message: use that one.
        None => {
            customers::delete(conn, customer).await?;
            let (c, _) = identifiers::find(conn, IdentifierKind::Chat, visitor)
                .await?
                .ok_or(StoreError::NotFound)?;
            customers::current(conn, c).await
        }
    }
}

/// Applies `claim` to visitor `visitor` of chat `chat`.
pub async fn identify(db: &Db, chat: i64, visitor: &str, claim: &Claim) -> Result<Identified> {
    let name = claim
        .name
        .as_deref()
        .map(|n| clean_label(&n.split_whitespace().collect::<Vec<_>>().join(" ")))
        .filter(|n| !n.is_empty());
    let email = match claim
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        Some(e) => Some(
            normalize_email(e)
                .map_err(|_| StoreError::Invalid(format!("{e:?} is not an email address.")))?,
        ),
        None => None,
    };
    let phone = match claim
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(p) => Some(
            super::identifiers::normalize(
                IdentifierKind::Phone,
                p,
                &super::identifiers::default_region(),
            )
            .map_err(|_| {
                StoreError::Invalid(format!(
                    "{p:?} is not a phone number; include the country code, as +44 20 7946 0958."
                ))
            })?,
        ),
        None => None,
    };
    let at = now_ms();
    let mut tx = db.write.begin().await?;
    let mine = visitor_customer(&mut tx, visitor, name.as_deref().unwrap_or(VISITOR_NAME)).await?;
    if let Some(n) = &name {
        if customers::name_of(&mut tx, mine).await? == VISITOR_NAME {
            customers::rename(&mut tx, mine, n).await?;
        }
    }
    let mut out = Identified {
        customer: mine,
        ..Default::default()
    };
    let Some(user) = claim.verified_user.as_deref() else {
        // Unverified: suggest, never join.
        let typed = [
            (IdentifierKind::Email, email.clone()),
            (IdentifierKind::Phone, phone.clone()),
        ];
        for (kind, value) in typed {
            let Some(v) = value else { continue };
            let id = match identifiers::find(&mut tx, kind, &v).await? {
                Some((owner, id)) => {
                    let owner = customers::current(&mut tx, owner).await?;
                    if owner != mine {
                        let their = customers::name_of(&mut tx, owner).await?;
                        let what = if kind == IdentifierKind::Email {
                            "email address"
                        } else {
                            "phone number"
                        };
                        suggestions::record(
                            &mut tx,
                            mine,
                            owner,
                            TYPED_ADDRESS,
                            &format!(
                                "The website chat visitor typed {v}, the {what} of {their}; not verified."
                            ),
                            at,
                        )
                        .await?;
                        out.suggested = Some(owner);
                        // Another customer's address: the visitor's ticks do not change it.
                        continue;
                    }
                    id
                }
                None => identifiers::add_suggested(&mut tx, mine, kind, &v, &v, at).await?,
            };
            for purpose in &claim.consent {
                consent::record(
                    &mut tx,
                    id,
                    *purpose,
                    true,
                    source::CHAT_FORM,
                    Some("ticked in the website chat's form"),
                    None,
                    None,
                )
                .await?;
            }
        }
        tx.commit().await?;
        return Ok(out);
    };
    // Verified: the customer the email or the signed-in user names.
    let device = user_visitor(chat, user);
    let by_email = match &email {
        Some(e) => identifiers::find(&mut tx, IdentifierKind::Email, e).await?,
        None => None,
    };
    let by_user = identifiers::find(&mut tx, IdentifierKind::Chat, &device).await?;
    let target = match by_email.or(by_user) {
        Some((c, _)) => customers::current(&mut tx, c).await?,
        None => mine,
    };
    if let Some(e) = &email {
        if identifiers::insert_if_new(&mut tx, target, IdentifierKind::Email, e, e, at, true)
            .await?
            .is_none()
        {
            // Held already (by the target, or a suggestion on the visitor): verified now.
            if let Some((_, id)) = identifiers::find(&mut tx, IdentifierKind::Email, e).await? {
                identifiers::set_verified(&mut tx, id).await?;
            }
        }
    }
    identifiers::insert_if_new(
        &mut tx,
        target,
        IdentifierKind::Chat,
        &device,
        "Signed-in website user",
        at,
        true,
    )
    .await?;
    tx.commit().await?;
    if target != mine {
        let words = match &email {
            Some(e) => format!("The website chat (a verified sign-in as {e})"),
            None => "The website chat (a verified sign-in)".to_string(),
        };
        let m = merge_by(db, target, mine, MergeActor::System(&words)).await?;
        out.customer = target;
        out.joined = Some(target);
        out.changed.push(m.survivor_conversation);
        out.changed.extend(m.merged_conversation);
    }
    Ok(out)
}

/// Attaches visitor `visitor` to customer `customer`, who opened a "continue in the chat" link
/// sent to them: the visitor's chat is theirs from now on. A visitor who had chatted as someone
/// else (an anonymous chat in the same browser) is joined to the customer by the reversible
/// merge. Answers the conversations that changed.
pub async fn attach(db: &Db, customer: i64, visitor: &str) -> Result<Vec<i64>> {
    let mut tx = db.write.begin().await?;
    let target = customers::current(&mut tx, customer).await?;
    let current = match identifiers::find(&mut tx, IdentifierKind::Chat, visitor).await? {
        Some((c, _)) => Some(customers::current(&mut tx, c).await?),
        None => {
            identifiers::insert_if_new(
                &mut tx,
                target,
                IdentifierKind::Chat,
                visitor,
                "Website chat visitor",
                now_ms(),
                true,
            )
            .await?;
            None
        }
    };
    tx.commit().await?;
    match current {
        Some(c) if c != target => {
            let m = merge_by(
                db,
                target,
                c,
                MergeActor::System("The website chat (a continue link sent to the customer)"),
            )
            .await?;
            Ok(std::iter::once(m.survivor_conversation)
                .chain(m.merged_conversation)
                .collect())
        }
        _ => Ok(Vec::new()),
    }
}

/// How long an agent's "continue in the chat" link stays valid.
pub const INVITE_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

/// The website chat an agent's invitation opens, among `accounts`: the first enabled chat that
/// lists a site without a wildcard, as (account id, name, site). None when there is no such
/// chat (the composer then offers no invitation).
pub fn invite_site(
    accounts: &[crate::store::channel_accounts::AccountRow],
) -> Option<(i64, String, String)> {
    use crate::domain::chat_origin::AllowedOrigins;
    accounts
        .iter()
        .filter(|a| a.channel == crate::domain::ChannelKind::Chat && a.enabled)
        .find_map(|a| {
            let site = AllowedOrigins::parse(&a.setting("origins"))
                .ok()?
                .first_site()?;
            Some((a.id, a.name.clone(), site))
        })
}

/// An agent's invitation to continue conversation `conversation` in the website chat: the
/// chat's name and a signed link to its first site that opens the chat attached to the
/// customer (`sign(chat, customer)` makes the link's token). None when no enabled chat lists a
/// site without a wildcard ([`invite_site`]).
pub async fn invite_link(
    db: &Db,
    conversation: i64,
    sign: impl Fn(i64, i64) -> String,
) -> Result<Option<(String, String)>> {
    let mut conn = db.read.acquire().await?;
    let customer = crate::store::conversations::customer_of(&mut conn, conversation)
        .await?
        .ok_or(StoreError::NotFound)?;
    drop(conn);
    let accounts = crate::store::channel_accounts::list(db).await?;
    let Some((chat, name, site)) = invite_site(&accounts) else {
        return Ok(None);
    };
    Ok(Some((
        name,
        format!("{site}/?convergence_chat={}", sign(chat, customer)),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_in_user_has_one_visitor_id_per_chat() {
        let a = user_visitor(7, "user-42");
        assert_eq!(a, user_visitor(7, "user-42"));
        assert_ne!(a, user_visitor(8, "user-42"));
        assert_ne!(a, user_visitor(7, "user-43"));
        assert_eq!(a.len(), 33);
        assert!(a
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    }
}
