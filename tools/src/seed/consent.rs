//! Consent history for the seeded identifiers, written with set-based SQL after the bulk load
//! (ids and times follow from each identifier's id, so a seed is repeatable): a third imported
//! with marketing consent, some of those opting out later (the unsubscribe link on email, STOP
//! by SMS, an agent elsewhere), agents recording consent for others, and a few SMS numbers that
//! texted STOP to every message. The reach tab and its benchmark read real shapes.

use super::BoxError;
use app::store::Db;

/// Writes the consent events of identifiers with ids from `first_identifier` on; returns how
/// many it wrote.
pub(super) async fn write(
    db: &Db,
    first_identifier: i64,
    agent: i64,
    now: i64,
) -> Result<u64, BoxError> {
    // A time between the identifier's creation and now, spread by its id.
    let later = "created_at + ((id * 7919) % (CASE WHEN $2 - created_at > 1 THEN $2 - created_at ELSE 1 END))";
    let steps = [
        // Imported with marketing consent: a third.
        (
            "SELECT id, 'marketing', 1, 'import', 'seeded import', NULL, created_at FROM identifiers \
             WHERE id >= $1 AND id % 3 = 0"
                .to_string(),
            1,
        ),
        // Agents recorded marketing consent the customer gave them (asked on the phone).
        (
            format!(
                "SELECT id, 'marketing', 1, 'agent', 'asked by phone', $3, {later} FROM identifiers \
                 WHERE id >= $1 AND id % 3 = 1 AND id % 11 = 5"
            ),
            3,
        ),
        // Later opt-outs from marketing, by the channel's own means.
        (
            format!(
                "SELECT id, 'marketing', 0, \
                 CASE kind WHEN 'email' THEN 'unsubscribe' WHEN 'phone' THEN 'keyword' ELSE 'agent' END, \
                 CASE kind WHEN 'email' THEN 'unsubscribe link' WHEN 'phone' THEN 'texted STOP' \
                 ELSE 'asked in a message' END, \
                 CASE WHEN kind IN ('email', 'phone') THEN NULL ELSE $3 END, {later} \
                 FROM identifiers WHERE id >= $1 AND id % 3 = 0 AND id % 13 = 4"
            ),
            3,
        ),
        // SMS numbers that texted STOP: no message of any purpose.
        (
            format!(
                "SELECT id, 'support', 0, 'keyword', 'texted STOP', NULL, {later} FROM identifiers \
                 WHERE id >= $1 AND kind = 'phone' AND id % 53 = 7"
            ),
            2,
        ),
    ];
    let mut written = 0;
    // Each step binds only the parameters it uses (SQLite refuses extra ones).
    for (select, params) in steps {
        let sql = format!(
            "INSERT INTO consent_events \
             (identifier_id, purpose, granted, source, detail, actor_user_id, created_at) {select}"
        );
        let mut q = sqlx::query(&sql).bind(first_identifier);
        if params >= 2 {
            q = q.bind(now);
        }
        if params >= 3 {
            q = q.bind(agent);
        }
        let done = q.execute(&db.write).await?;
        written += done.rows_affected();
    }
    Ok(written)
}
