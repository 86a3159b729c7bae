//! Who a campaign reaches, read in pages of customers (never all at once): each customer's
//! identifiers with the newest consent for the campaign's topic; and what became of the
//! recipients (the report and the recipient list).

use super::{id_list, Db, Result};
use crate::domain::campaign::Audience;
use crate::domain::consent::{ConsentStatus, Purpose};
use crate::domain::window::DAY_MS;
use crate::domain::ChannelKind;
use sqlx::{AnyConnection, Row};

/// One identifier of a customer (or the customer alone, when it has none).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ContactRow {
    pub customer_id: i64,
    pub name: String,
    pub preferred_channel: Option<String>,
    pub time_zone: Option<String>,
    /// What the customer chose on their preference center page (minutes after local
    /// midnight; at most `marketing_max` marketing messages in `marketing_days` days).
    pub quiet_from: Option<i64>,
    pub quiet_until: Option<i64>,
    pub marketing_max: Option<i64>,
    pub marketing_days: Option<i64>,
    pub identifier_id: Option<i64>,
    pub kind: Option<String>,
    pub value: Option<String>,
    pub label: Option<String>,
    pub last_inbound_at: Option<i64>,
    pub granted: Option<i64>,
    pub source: Option<String>,
    pub detail: Option<String>,
    pub consent_at: Option<i64>,
}

fn conditions(a: &Audience, now: i64) -> Vec<String> {
    let mut w = vec!["c.merged_into_id IS NULL".to_string()];
    if let Some(l) = a.label_id {
        w.push(format!(
            "EXISTS (SELECT 1 FROM conversations v JOIN conversation_labels cl ON cl.conversation_id = v.id \
             WHERE v.customer_id = c.id AND cl.label_id = {l})"
        ));
    }
    for kind in [
        a.reachable_on.map(|c| c.identifier_kind()),
        a.identifier_kind,
    ]
    .into_iter()
    .flatten()
    {
        w.push(format!(
            "EXISTS (SELECT 1 FROM identifiers x WHERE x.customer_id = c.id AND x.kind = '{}')",
            kind.as_str()
        ));
    }
    if let Some(f) = a.consent {
        let p = f.purpose.as_str();
        let newest = format!(
            "(SELECT MAX(e.id) FROM consent_events e WHERE e.identifier_id = x.id AND e.purpose = '{p}')"
        );
        w.push(match f.status {
            ConsentStatus::Granted | ConsentStatus::OptedOut => format!(
                "EXISTS (SELECT 1 FROM identifiers x JOIN consent_events ce ON ce.id = {newest} \
                 WHERE x.customer_id = c.id AND ce.granted = {})",
                (f.status == ConsentStatus::Granted) as i64
            ),
            ConsentStatus::Default => format!(
                "EXISTS (SELECT 1 FROM identifiers x WHERE x.customer_id = c.id AND NOT EXISTS \
                 (SELECT 1 FROM consent_events e WHERE e.identifier_id = x.id AND e.purpose = '{p}'))"
            ),
        });
    }
    if let Some(p) = a.preferred {
        w.push(format!("c.preferred_channel = '{}'", p.as_str()));
    }
    if let Some(d) = a.inbound_within_days {
        w.push(format!(
            "EXISTS (SELECT 1 FROM identifiers x WHERE x.customer_id = c.id AND x.last_inbound_at >= {})",
            now - d as i64 * DAY_MS
        ));
    }
    if let Some(d) = a.inbound_older_than_days {
        w.push(format!(
            "NOT EXISTS (SELECT 1 FROM identifiers x WHERE x.customer_id = c.id AND x.last_inbound_at >= {})",
            now - d as i64 * DAY_MS
        ));
    }
    if let Some(open) = a.open_conversation {
        w.push(format!(
            "{} EXISTS (SELECT 1 FROM conversations v WHERE v.customer_id = c.id AND v.status = 'open')",
            if open { "" } else { "NOT" }
        ));
    }
    w
}

fn contacts_sql(customers: &str, topic: Purpose) -> String {
    format!(
        "WITH page AS ({customers}) \
         SELECT p.id AS customer_id, p.name, p.preferred_channel, p.time_zone, p.quiet_from, p.quiet_until, p.marketing_max, p.marketing_days, i.id AS identifier_id, i.kind, i.value, i.label, \
                i.last_inbound_at, e.granted, e.source, e.detail, e.created_at AS consent_at \
         FROM page p LEFT JOIN identifiers i ON i.customer_id = p.id \
         LEFT JOIN consent_events e ON e.id = (SELECT MAX(ce.id) FROM consent_events ce WHERE ce.identifier_id = i.id AND ce.purpose = '{}') \
         ORDER BY p.id, i.id",
        topic.as_str()
    )
}

/// The customers of `audience` with an id above `after`, at most `limit` of them, each with
/// their identifiers and the newest consent for `topic`, in customer order.
pub async fn page(
    db: &Db,
    audience: &Audience,
    topic: Purpose,
    after: i64,
    limit: i64,
    now: i64,
) -> Result<Vec<ContactRow>> {
    let mut w = conditions(audience, now);
    w.push(format!("c.id > {after}"));
    let customers = format!(
        "SELECT c.id, c.name, c.preferred_channel, c.time_zone, c.quiet_from, c.quiet_until, c.marketing_max, c.marketing_days FROM customers c WHERE {} ORDER BY c.id LIMIT {limit}",
        w.join(" AND ")
    );
    Ok(sqlx::query_as(&contacts_sql(&customers, topic))
        .fetch_all(&db.read)
        .await?)
}

/// The same rows for the given customers (read again at the moment of sending).
pub async fn people(
    conn: &mut AnyConnection,
    customers: &[i64],
    topic: Purpose,
) -> Result<Vec<ContactRow>> {
    if customers.is_empty() {
        return Ok(Vec::new());
    }
    let ids = id_list(customers);
    let customers = format!(
        "SELECT c.id, c.name, c.preferred_channel, c.time_zone, c.quiet_from, c.quiet_until, c.marketing_max, c.marketing_days FROM customers c WHERE c.id IN ({ids})"
    );
    Ok(sqlx::query_as(&contacts_sql(&customers, topic))
        .fetch_all(&mut *conn)
        .await?)
}

/// The account each of `identifiers` last wrote to us on, when any.
pub async fn last_accounts(
    conn: &mut AnyConnection,
    identifiers: &[i64],
) -> Result<Vec<(i64, i64)>> {
    if identifiers.is_empty() {
        return Ok(Vec::new());
    }
    let ids = id_list(identifiers);
    let rows = sqlx::query(&format!(
        "SELECT m.identifier_id, m.channel_account_id FROM messages m \
         WHERE m.id IN (SELECT MAX(id) FROM messages WHERE identifier_id IN ({ids}) AND direction = 'in' GROUP BY identifier_id)"
    ))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("identifier_id")?,
                r.try_get("channel_account_id")?,
            ))
        })
        .collect()
}

/// The enabled channel accounts, oldest first, by channel.
pub async fn enabled_accounts(db: &Db) -> Result<Vec<(ChannelKind, i64)>> {
    let rows =
        sqlx::query("SELECT id, channel FROM channel_accounts WHERE enabled = 1 ORDER BY id")
            .fetch_all(&db.read)
            .await?;
    let mut out = Vec::new();
    for r in rows {
        let ch: String = r.try_get("channel")?;
        if let Some(c) = ChannelKind::parse(&ch) {
            out.push((c, r.try_get("id")?));
        }
    }
    Ok(out)
}

/// Recipients counted by step, channel, state and whether they fell back.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Tally {
    pub step: i64,
    pub channel: Option<String>,
    pub state: String,
    pub skip: Option<String>,
    pub fell_back: i64,
    /// The recipient's message was delivered (whatever came after: a reply, an opt-out).
    pub delivered: i64,
    pub n: i64,
}

/// The recipients of `campaign_id` counted by step, channel, state, skip reason and whether
/// they fell back.
pub async fn tally(db: &Db, campaign_id: i64) -> Result<Vec<Tally>> {
    Ok(sqlx::query_as(
        "SELECT r.step, r.channel, r.state, r.skip, CASE WHEN r.tried = '' THEN 0 ELSE 1 END AS fell_back, \
                CASE WHEN m.delivery_state IN ('delivered', 'read') THEN 1 ELSE 0 END AS delivered, COUNT(*) AS n \
         FROM campaign_recipients r LEFT JOIN messages m ON m.id = r.message_id WHERE r.campaign_id = $1 \
         GROUP BY r.step, r.channel, r.state, r.skip, CASE WHEN r.tried = '' THEN 0 ELSE 1 END, \
                  CASE WHEN m.delivery_state IN ('delivered', 'read') THEN 1 ELSE 0 END \
         ORDER BY r.step, r.channel, r.state",
    )
    .bind(campaign_id)
    .fetch_all(&db.read)
    .await?)
}

/// How many customers of `campaign_id` opted out of `purpose` after it messaged them.
pub async fn opt_outs(db: &Db, campaign_id: i64, purpose: Purpose) -> Result<i64> {
    let r = sqlx::query(
        "SELECT COUNT(DISTINCT r.customer_id) AS n FROM campaign_recipients r \
         JOIN identifiers i ON i.customer_id = r.customer_id \
         JOIN consent_events e ON e.identifier_id = i.id \
         WHERE r.campaign_id = $1 AND r.sent_at IS NOT NULL AND e.purpose = $2 AND e.granted = 0 AND e.created_at >= r.sent_at",
    )
    .bind(campaign_id)
    .bind(purpose.as_str())
    .fetch_one(&db.read)
    .await?;
    Ok(r.try_get("n")?)
}

/// One recipient in the list.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RecipientRow {
    pub id: i64,
    pub step: i64,
    pub customer_id: i64,
    pub name: String,
    pub conversation_id: Option<i64>,
    pub state: String,
    pub reason: Option<String>,
    pub channel: Option<String>,
    pub tried: String,
    pub due_at: i64,
    pub sent_at: Option<i64>,
    pub delivery_state: Option<String>,
    pub opted_out_after: i64,
}

/// Recipients of `campaign_id` after id `after`, optionally of one state, in id order.
pub async fn recipients(
    db: &Db,
    campaign_id: i64,
    purpose: Purpose,
    state: Option<&str>,
    after: i64,
    limit: i64,
) -> Result<Vec<RecipientRow>> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.step, r.customer_id, c.name, (SELECT v.id FROM conversations v WHERE v.customer_id = r.customer_id) AS conversation_id, \
                r.state, r.reason, r.channel, r.tried, r.due_at, r.sent_at, m.delivery_state, \
                CASE WHEN r.sent_at IS NOT NULL AND EXISTS (SELECT 1 FROM identifiers i JOIN consent_events e ON e.identifier_id = i.id \
                     WHERE i.customer_id = r.customer_id AND e.purpose = $1 AND e.granted = 0 AND e.created_at >= r.sent_at) \
                     THEN 1 ELSE 0 END AS opted_out_after \
         FROM campaign_recipients r JOIN customers c ON c.id = r.customer_id LEFT JOIN messages m ON m.id = r.message_id \
         WHERE r.campaign_id = $2 AND ($3 = '' OR r.state = $3) AND r.id > $4 ORDER BY r.id LIMIT $5",
    )
    .bind(purpose.as_str())
    .bind(campaign_id)
    .bind(state.unwrap_or(""))
    .bind(after)
    .bind(limit)
    .fetch_all(&db.read)
    .await?)
}

/// The campaign a message was sent by, or answers, with the campaign's name.
pub async fn of_messages(db: &Db, ids: &[i64]) -> Result<Vec<(i64, i64, String, bool)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = id_list(ids);
    let rows = sqlx::query(&format!(
        "SELECT m.message_id, c.id, c.name, 0 AS reply FROM campaign_messages m JOIN campaigns c ON c.id = m.campaign_id WHERE m.message_id IN ({list}) \
         UNION ALL SELECT r.message_id, c.id, c.name, 1 AS reply FROM campaign_replies r JOIN campaigns c ON c.id = r.campaign_id WHERE r.message_id IN ({list})"
    ))
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("message_id")?,
                r.try_get("id")?,
                r.try_get("name")?,
                r.try_get::<i64, _>("reply")? != 0,
            ))
        })
        .collect()
}

/// The customers of the given conversations.
pub async fn customers_of_conversations(db: &Db, ids: &[i64]) -> Result<Vec<i64>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let list = id_list(chunk);
        let rows = sqlx::query(&format!(
            "SELECT customer_id FROM conversations WHERE id IN ({list})"
        ))
        .fetch_all(&db.read)
        .await?;
        for r in rows {
            out.push(r.try_get("customer_id")?);
        }
    }
    Ok(out)
}

/// One campaign's outcome for the reports page.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CampaignLine {
    pub id: i64,
    pub name: String,
    pub recipients: i64,
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
    pub fell_back: i64,
    pub replied: i64,
}

/// Campaigns started in `[from, to)` (newest first, at most 20) with their counts, and the
/// customers of each who opted out after it messaged them.
pub async fn started_between(
    conn: &mut AnyConnection,
    from: i64,
    to: i64,
) -> Result<Vec<(CampaignLine, i64)>> {
    let lines: Vec<CampaignLine> = sqlx::query_as(
        "SELECT c.id, c.name, COUNT(r.id) AS recipients, \
                COALESCE(SUM(CASE WHEN r.message_id IS NOT NULL THEN 1 ELSE 0 END), 0) AS sent, \
                COALESCE(SUM(CASE WHEN m.delivery_state IN ('delivered', 'read') THEN 1 ELSE 0 END), 0) AS delivered, \
                COALESCE(SUM(CASE WHEN r.state = 'failed' THEN 1 ELSE 0 END), 0) AS failed, \
                COALESCE(SUM(CASE WHEN r.tried <> '' AND r.message_id IS NOT NULL THEN 1 ELSE 0 END), 0) AS fell_back, \
                COALESCE(SUM(CASE WHEN r.state = 'replied' THEN 1 ELSE 0 END), 0) AS replied \
         FROM campaigns c LEFT JOIN campaign_recipients r ON r.campaign_id = c.id LEFT JOIN messages m ON m.id = r.message_id \
         WHERE c.started_at >= $1 AND c.started_at < $2 GROUP BY c.id, c.name ORDER BY c.id DESC LIMIT 20",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(lines.len());
    for l in lines {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(DISTINCT r.customer_id) FROM campaign_recipients r \
             JOIN identifiers i ON i.customer_id = r.customer_id JOIN consent_events e ON e.identifier_id = i.id \
             WHERE r.campaign_id = $1 AND r.sent_at IS NOT NULL AND e.granted = 0 AND e.created_at >= r.sent_at",
        )
        .bind(l.id)
        .fetch_one(&mut *conn)
        .await?;
        out.push((l, n));
    }
    Ok(out)
}
