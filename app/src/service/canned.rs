//! Canned responses (saved replies): who sees and changes which, and what may be saved
//! (`domain::canned`). Everyone sees the shared responses and their own; admins keep the
//! shared ones, and a personal one is changed by its owner only. Another user's personal
//! response is "not found", so its id cannot be probed.

use crate::domain::{canned, Role};
use crate::model::{CannedResponse, UserView};
use crate::store::{self, canned::CannedRow, Db, Result, StoreError};

/// Who is asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Editor {
    pub user_id: i64,
    /// Admins keep the shared responses.
    pub admin: bool,
}

impl Editor {
    pub fn of(user: &UserView) -> Editor {
        Editor {
            user_id: user.id,
            admin: user.role == Role::Admin,
        }
    }
}

fn view(r: CannedRow, viewer: i64) -> CannedResponse {
    CannedResponse {
        id: r.id,
        shared: r.owner_id.is_none(),
        mine: r.owner_id == Some(viewer),
        shortcut: r.shortcut,
        title: r.title,
        body: r.body,
    }
}

/// Whether `who` may change `row`: NotFound for another user's personal response, words for
/// a shared one and someone who is not an admin.
fn may_change(row: &CannedRow, who: Editor) -> Result<()> {
    match row.owner_id {
        Some(owner) if owner == who.user_id => Ok(()),
        Some(_) => Err(StoreError::NotFound),
        None if who.admin => Ok(()),
        None => Err(StoreError::Invalid(
            "Only an admin can change a shared response.".into(),
        )),
    }
}

/// The responses `user_id` sees: the shared ones and their own, by shortcut.
pub async fn list(db: &Db, user_id: i64) -> Result<Vec<CannedResponse>> {
    Ok(store::canned::visible_to(db, user_id)
        .await?
        .into_iter()
        .map(|r| view(r, user_id))
        .collect())
}

/// One response as `who` sees it; NotFound for another user's personal one.
pub async fn get(db: &Db, who: Editor, id: i64) -> Result<CannedResponse> {
    let mut conn = db.read.acquire().await?;
    let row = store::canned::get(&mut conn, id).await?;
    if row.owner_id.is_some_and(|o| o != who.user_id) {
        return Err(StoreError::NotFound);
    }
    Ok(view(row, who.user_id))
}

/// Saves a response. With `id`, changes that one (its scope stays: a shared response stays
/// shared, a personal one personal). Without, stores one in the scope `shared` names (shared
/// with everyone needs an admin); saving a shortcut you already have in that scope replaces
/// that response, so a form sent twice stores one. Refusals are in words; a shortcut another
/// response of the scope has is a conflict.
pub async fn save(
    db: &Db,
    who: Editor,
    id: Option<i64>,
    shared: bool,
    shortcut: &str,
    title: &str,
    body: &str,
) -> Result<CannedResponse> {
    let mut tx = db.write.begin().await?;
    let current = match id {
        Some(id) => {
            let row = store::canned::get(&mut tx, id).await?;
            may_change(&row, who)?;
            Some(row)
        }
        None => None,
    };
    let shortcut = canned::clean_shortcut(shortcut).map_err(StoreError::Invalid)?;
    let title = canned::clean_title(title).map_err(StoreError::Invalid)?;
    let body = canned::clean_body(body).map_err(StoreError::Invalid)?;
    let owner = match &current {
        Some(row) => row.owner_id,
        None if shared && !who.admin => {
            return Err(StoreError::Invalid(
                "Only an admin can share a response with everyone.".into(),
            ))
        }
        None if shared => None,
        None => Some(who.user_id),
    };
    let target = match current {
        Some(row) => Some(row.id),
        None => store::canned::in_scope(&mut tx, owner, &shortcut).await?,
    };
    let id = match target {
        Some(id) => {
            store::canned::update(&mut tx, id, &shortcut, &title, &body).await?;
            id
        }
        None => store::canned::create(&mut tx, owner, &shortcut, &title, &body).await?,
    };
    tx.commit().await?;
    Ok(CannedResponse {
        id,
        shared: owner.is_none(),
        mine: owner == Some(who.user_id),
        shortcut,
        title,
        body,
    })
}

/// Deletes a response `who` may change.
pub async fn delete(db: &Db, who: Editor, id: i64) -> Result<()> {
    let mut tx = db.write.begin().await?;
    let row = store::canned::get(&mut tx, id).await?;
    may_change(&row, who)?;
    store::canned::delete(&mut tx, id).await?;
    tx.commit().await?;
    Ok(())
}
