//! Staff accounts as the browser sees them (no password hashes).

use crate::domain::Role;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
}

/// A user in the admin list, with whether the account is disabled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdminUser {
    pub user: UserView,
    pub disabled: bool,
}
