//! Staff accounts. Passwords are Argon2id hashes; the hash never leaves this module's row type.

use super::{conflict, now_ms, Db, Result, StoreError};
use crate::domain::Role;
use crate::model::UserView;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use sqlx::{AnyConnection, Row};

/// A user row, with the password hash. Server-only; never serialised.
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub disabled: bool,
}

impl UserRow {
    pub fn view(&self) -> UserView {
        UserView {
            id: self.id,
            email: self.email.clone(),
            name: self.name.clone(),
            role: self.role,
        }
    }
}

fn row_to_user(r: &sqlx::any::AnyRow) -> Result<UserRow> {
    let role: String = r.try_get("role")?;
    Ok(UserRow {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Invalid(format!("bad role {role}")))?,
        password_hash: r.try_get("password_hash")?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
    })
}

/// Hashes a password with Argon2id (the `argon2` crate's default algorithm and parameters).
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Invalid(format!("could not hash password: {e}")))
}

/// Checks `password` against a stored hash in constant time.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

pub const MIN_PASSWORD_LEN: usize = 10;

pub async fn create_user(
    db: &Db,
    email: &str,
    name: &str,
    role: Role,
    password: &str,
) -> Result<i64> {
    let email = crate::domain::identifier::normalize_email(email)
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(StoreError::Invalid(format!(
            "the password must have at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    let name = name.trim();
    if name.is_empty() {
        return Err(StoreError::Invalid("the name cannot be empty".into()));
    }
    let hash = hash_password(password)?;
    let row = sqlx::query(
        "INSERT INTO users (email, name, role, password_hash, disabled, created_at) \
         VALUES ($1, $2, $3, $4, 0, $5) RETURNING id",
    )
    .bind(&email)
    .bind(name)
    .bind(role.as_str())
    .bind(hash)
    .bind(now_ms())
    .fetch_one(&db.write)
    .await
    .map_err(|e| conflict(e, "a user with this email already exists"))?;
    Ok(row.try_get("id")?)
}

pub async fn find_by_email(db: &Db, email: &str) -> Result<Option<UserRow>> {
    let Ok(email) = crate::domain::identifier::normalize_email(email) else {
        return Ok(None);
    };
    let row = sqlx::query(
        "SELECT id, email, name, role, password_hash, disabled FROM users WHERE email = $1",
    )
    .bind(email)
    .fetch_optional(&db.read)
    .await?;
    row.as_ref().map(row_to_user).transpose()
}

pub async fn get(db: &Db, id: i64) -> Result<Option<UserRow>> {
    let row = sqlx::query(
        "SELECT id, email, name, role, password_hash, disabled FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.read)
    .await?;
    row.as_ref().map(row_to_user).transpose()
}

pub async fn list(db: &Db) -> Result<Vec<(UserView, bool)>> {
    let rows = sqlx::query(
        "SELECT id, email, name, role, password_hash, disabled FROM users ORDER BY name, id",
    )
    .fetch_all(&db.read)
    .await?;
    rows.iter()
        .map(|r| row_to_user(r).map(|u| (u.view(), u.disabled)))
        .collect()
}

/// The name of user `id`, if there is one; `active` only when not disabled.
pub async fn name_of(conn: &mut AnyConnection, id: i64, active: bool) -> Result<Option<String>> {
    let sql = if active {
        "SELECT name FROM users WHERE id = $1 AND disabled = 0"
    } else {
        "SELECT name FROM users WHERE id = $1"
    };
    Ok(sqlx::query_as::<_, (String,)>(sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|(n,)| n))
}

pub async fn count(db: &Db) -> Result<i64> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM users")
        .fetch_one(&db.read)
        .await?
        .try_get("n")?)
}

/// Disables or enables a user. Disabling ends all of their sessions.
pub async fn set_disabled(db: &Db, id: i64, disabled: bool) -> Result<()> {
    let mut tx = db.write.begin().await?;
    let n = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
        .bind(disabled as i64)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    if disabled {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The active user whose name or email is `text` (any case): the first by id.
pub async fn find_by_name_or_email(db: &Db, text: &str) -> Result<Option<i64>> {
    let row = sqlx::query(
        "SELECT id FROM users WHERE disabled = 0 AND (LOWER(name) = $1 OR LOWER(email) = $1) ORDER BY id LIMIT 1",
    )
    .bind(text.trim().to_lowercase())
    .fetch_optional(&db.read)
    .await?;
    Ok(row.map(|r| r.try_get("id")).transpose()?)
}
