//! Labels: the admin's list (names cleaned, colours from the palette), and putting a label on
//! a conversation or taking it off, each with a timeline event in the same transaction.

use crate::domain::{event, labels};
use crate::model::Label;
use crate::store::{self, conversations, events, Db, Result, StoreError};

/// A new label, or why not, in words.
pub async fn create(db: &Db, name: &str, colour: &str) -> Result<Label> {
    let name = labels::clean_name(name).map_err(StoreError::Invalid)?;
    if !labels::is_colour(colour) {
        return Err(StoreError::Invalid("Choose a colour from the list.".into()));
    }
    store::labels::create(db, &name, &labels::name_key(&name), colour).await
}

/// Renames or recolours a label.
pub async fn update(db: &Db, id: i64, name: &str, colour: &str) -> Result<()> {
    let name = labels::clean_name(name).map_err(StoreError::Invalid)?;
    if !labels::is_colour(colour) {
        return Err(StoreError::Invalid("Choose a colour from the list.".into()));
    }
    store::labels::update(db, id, &name, &labels::name_key(&name), colour).await
}

/// Deletes a label, taking it off every conversation.
pub async fn delete(db: &Db, id: i64) -> Result<()> {
    let mut tx = db.write.begin().await?;
    store::labels::delete(&mut tx, id).await?;
    tx.commit().await?;
    Ok(())
}

/// Puts label `label_id` on conversation `id` (`on`) or takes it off, with a timeline event
/// when that changed something. Returns whether it did.
pub async fn set(db: &Db, id: i64, label_id: i64, on: bool, actor: i64) -> Result<bool> {
    let mut tx = db.write.begin().await?;
    conversations::exists(&mut tx, id).await?;
    let label = store::labels::get(&mut tx, label_id).await?;
    let changed = if on {
        store::labels::attach(&mut tx, id, label_id, actor).await?
    } else {
        store::labels::detach(&mut tx, id, label_id).await?
    };
    if changed {
        let kind = if on {
            event::LABEL_ADDED
        } else {
            event::LABEL_REMOVED
        };
        events::add(
            &mut tx,
            id,
            kind,
            Some(actor),
            None,
            serde_json::json!({ "label": label.name, "label_id": label.id }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// Fills in the labels of list rows.
pub async fn fill(db: &Db, rows: &mut [crate::model::ConversationSummary]) -> Result<()> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    for (conv, label) in store::labels::of_conversations(db, &ids).await? {
        if let Some(r) = rows.iter_mut().find(|r| r.id == conv) {
            r.labels.push(label);
        }
    }
    Ok(())
}
