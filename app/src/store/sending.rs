//! Whether a reply may go out to an identifier on a channel now: consent and the channel's
//! reply window. The composer shows the answer before the agent writes; the outbox asks
//! again right before sending, whatever the screen showed.

use super::consent::{self, Consent};
use super::{Db, Result};
use crate::domain::consent::Purpose;
use crate::domain::window::reply_window;
use crate::domain::ChannelKind;
use sqlx::Row;
use std::collections::HashMap;

/// What decides about sending to one identifier.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Gate {
    pub last_inbound_at: Option<i64>,
    pub support: Option<Consent>,
}

pub async fn gate(db: &Db, identifier_id: i64) -> Result<Gate> {
    let last_inbound_at = sqlx::query("SELECT last_inbound_at FROM identifiers WHERE id = $1")
        .bind(identifier_id)
        .fetch_optional(&db.read)
        .await?
        .map(|r| r.try_get::<Option<i64>, _>("last_inbound_at"))
        .transpose()?
        .flatten();
    Ok(Gate {
        last_inbound_at,
        support: consent::current(db, identifier_id, Purpose::Support).await?,
    })
}

/// The gate of every identifier of `customer_id`, given the consent that holds for them
/// ([`consent::latest_for_customer`]): one query.
pub async fn gates_from(
    db: &Db,
    customer_id: i64,
    consents: &consent::Latest,
) -> Result<HashMap<i64, Gate>> {
    let rows = sqlx::query("SELECT id, last_inbound_at FROM identifiers WHERE customer_id = $1")
        .bind(customer_id)
        .fetch_all(&db.read)
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in rows {
        let id: i64 = r.try_get("id")?;
        out.insert(
            id,
            Gate {
                last_inbound_at: r.try_get("last_inbound_at")?,
                support: consents.get(&(id, Purpose::Support)).cloned(),
            },
        );
    }
    Ok(out)
}

impl Gate {
    /// `Err(reason)` when a support reply on `channel` to `label` is refused now; otherwise
    /// `Ok(notice)` with what the agent should know, if anything.
    pub fn check(
        &self,
        channel: ChannelKind,
        label: &str,
        now: i64,
    ) -> Result<Option<String>, String> {
        let s = self.support.as_ref();
        if let Some(why) = crate::domain::consent::refusal(
            Purpose::Support,
            s.map(|c| c.granted),
            s.and_then(|c| c.detail.as_deref()),
            s.map(|c| c.at),
            label,
        ) {
            return Err(why);
        }
        let w = reply_window(channel, self.last_inbound_at, now);
        let notice = w.notice(channel, now);
        if w.allows_reply() {
            Ok(notice)
        } else {
            Err(notice.unwrap_or_else(|| "The reply window is closed.".into()))
        }
    }
}
