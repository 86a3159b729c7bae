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
    /// Signs in with a second factor (a confirmed TOTP secret).
    pub totp_enabled: bool,
    /// Their role must sign in with two factors (`two_factor_policy`).
    pub two_factor_required: bool,
}

impl UserRow {
    /// Their role must use two factors and they have not set one up: until they do, they may
    /// only reach their own account page.
    pub fn needs_two_factor_setup(&self) -> bool {
        self.two_factor_required && !self.totp_enabled
    }

    pub fn view(&self) -> UserView {
        UserView {
            id: self.id,
            email: self.email.clone(),
            name: self.name.clone(),
            role: self.role,
            needs_two_factor_setup: self.needs_two_factor_setup(),
        }
    }
}

/// A user with what their sign-in needs: whether they have a second factor, and whether their
/// role requires one.
const SELECT_USER: &str = "SELECT u.id, u.email, u.name, u.role, u.password_hash, u.disabled, \
     u.totp_secret, COALESCE(p.required, 0) AS required \
     FROM users u LEFT JOIN two_factor_policy p ON p.role = u.role";

fn row_to_user(r: &sqlx::any::AnyRow) -> Result<UserRow> {
    let role: String = r.try_get("role")?;
    Ok(UserRow {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Invalid(format!("bad role {role}")))?,
        password_hash: r.try_get("password_hash")?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        totp_enabled: r.try_get::<Option<String>, _>("totp_secret")?.is_some(),
        two_factor_required: r.try_get::<i64, _>("required")? != 0,
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

pub use crate::domain::role::MIN_PASSWORD_LEN;

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
    let row = sqlx::query(&format!("{SELECT_USER} WHERE u.email = $1"))
        .bind(email)
        .fetch_optional(&db.read)
        .await?;
    row.as_ref().map(row_to_user).transpose()
}

pub async fn get(db: &Db, id: i64) -> Result<Option<UserRow>> {
    let row = sqlx::query(&format!("{SELECT_USER} WHERE u.id = $1"))
        .bind(id)
        .fetch_optional(&db.read)
        .await?;
    row.as_ref().map(row_to_user).transpose()
}

/// Every user, by name, with whether they are disabled and whether they use two factors.
pub async fn list(db: &Db) -> Result<Vec<(UserView, bool, bool)>> {
    let rows = sqlx::query(&format!("{SELECT_USER} ORDER BY u.name, u.id"))
        .fetch_all(&db.read)
        .await?;
    rows.iter()
        .map(|r| row_to_user(r).map(|u| (u.view(), u.disabled, u.totp_enabled)))
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

/// Checks a new password's length (the one rule, as on creation).
pub fn check_new_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(StoreError::Invalid(format!(
            "the password must have at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    Ok(())
}

/// Sets a user's password (hashed with Argon2id).
pub async fn set_password(db: &Db, id: i64, password: &str) -> Result<()> {
    check_new_password(password)?;
    let hash = hash_password(password)?;
    let n = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(id)
        .execute(&db.write)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

// ── Two-factor sign-in ──────────────────────────────────────────────────────────────────────

/// Keeps `secret` (base32) as the one being set up, replacing any earlier attempt.
pub async fn set_totp_pending(db: &Db, id: i64, secret: &str) -> Result<()> {
    sqlx::query("UPDATE users SET totp_pending = $1 WHERE id = $2")
        .bind(secret)
        .bind(id)
        .execute(&db.write)
        .await?;
    Ok(())
}

/// The secret being set up, and the confirmed one, of user `id`.
pub async fn totp_secrets(db: &Db, id: i64) -> Result<(Option<String>, Option<String>, i64)> {
    let r =
        sqlx::query("SELECT totp_pending, totp_secret, totp_last_step FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&db.read)
            .await?
            .ok_or(StoreError::NotFound)?;
    Ok((
        r.try_get("totp_pending")?,
        r.try_get("totp_secret")?,
        r.try_get("totp_last_step")?,
    ))
}

/// Confirms the pending secret (accepted at `step`) and stores the recovery codes' hashes,
/// replacing older ones, in one transaction.
pub async fn enable_totp(db: &Db, id: i64, step: i64, code_hashes: &[String]) -> Result<()> {
    let mut tx = db.write.begin().await?;
    let n = sqlx::query(
        "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $1 \
         WHERE id = $2 AND totp_pending IS NOT NULL",
    )
    .bind(step)
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::Invalid(
            "Start the set-up again: no code is being set up.".into(),
        ));
    }
    replace_codes(&mut tx, id, code_hashes).await?;
    tx.commit().await?;
    Ok(())
}

async fn replace_codes(conn: &mut AnyConnection, id: i64, code_hashes: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for h in code_hashes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(id)
            .bind(h)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// New recovery codes for a user who has two factors (the old ones stop working).
pub async fn replace_recovery_codes(db: &Db, id: i64, code_hashes: &[String]) -> Result<()> {
    let mut tx = db.write.begin().await?;
    replace_codes(&mut tx, id, code_hashes).await?;
    tx.commit().await?;
    Ok(())
}

/// Turns two-factor sign-in off for user `id` (their codes go too).
pub async fn disable_totp(db: &Db, id: i64) -> Result<()> {
    let mut tx = db.write.begin().await?;
    sqlx::query(
        "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = 0 WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    replace_codes(&mut tx, id, &[]).await?;
    tx.commit().await?;
    Ok(())
}

/// Records that a code for `step` was accepted; false when that step (or a later one) was
/// used already, so one code cannot sign in twice.
pub async fn use_totp_step(db: &Db, id: i64, step: i64) -> Result<bool> {
    let n =
        sqlx::query("UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1")
            .bind(step)
            .bind(id)
            .execute(&db.write)
            .await?
            .rows_affected();
    Ok(n == 1)
}

/// Uses the recovery code with this hash; false when there is none unused.
pub async fn use_recovery_code(db: &Db, id: i64, code_hash: &str, now: i64) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .bind(code_hash)
    .execute(&db.write)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Unused recovery codes of user `id`.
pub async fn recovery_codes_left(db: &Db, id: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(id)
    .fetch_one(&db.read)
    .await?)
}

/// The roles that must use two factors.
pub async fn two_factor_roles(db: &Db) -> Result<Vec<Role>> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT role FROM two_factor_policy WHERE required = 1 ORDER BY role")
            .fetch_all(&db.read)
            .await?;
    Ok(names.iter().filter_map(|n| Role::parse(n)).collect())
}

/// Sets which roles must use two factors (the others need not).
pub async fn set_two_factor_roles(db: &Db, roles: &[Role]) -> Result<()> {
    let mut tx = db.write.begin().await?;
    for r in Role::BY_PRIVILEGE {
        sqlx::query(
            "INSERT INTO two_factor_policy (role, required) VALUES ($1, $2) \
             ON CONFLICT (role) DO UPDATE SET required = excluded.required",
        )
        .bind(r.as_str())
        .bind(roles.contains(&r) as i64)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
