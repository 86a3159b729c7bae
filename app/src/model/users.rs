//! Staff accounts as the browser sees them (no password hashes).

use crate::domain::Role;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Their role must sign in with two factors and they have not set them up: every page but
    /// their account page is closed to them until they do.
    #[serde(default)]
    pub needs_two_factor_setup: bool,
}

/// A user in the admin list, with whether the account is disabled and their open sessions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdminUser {
    pub user: UserView,
    pub disabled: bool,
    pub sessions: Vec<SessionInfo>,
    /// Signs in with two factors.
    pub two_factor: bool,
}

/// One signed-in session, as its user and admins see it. `handle` names it for ending it; the
/// session's own id (a secret) never leaves the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub handle: String,
    pub signed_in_at: Option<i64>,
    pub ip: Option<String>,
    /// The browser, in the words of its User-Agent (shortened).
    pub agent: Option<String>,
    pub expires_at: i64,
    /// The session this request came with.
    pub current: bool,
}

/// The caller's two-factor sign-in, for their account page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TwoFactorStatus {
    pub enabled: bool,
    /// Their role must use it (an admin's choice).
    pub required: bool,
    pub recovery_codes_left: i64,
    /// A set-up under way: scan or type it, then confirm with a code.
    pub setup: Option<TwoFactorSetup>,
    /// Recovery codes made just now, shown this once (kept in the session until this read, so
    /// a page without JavaScript shows them too).
    pub new_recovery_codes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TwoFactorSetup {
    /// The shared secret in base32, grouped by four for typing.
    pub secret: String,
    pub uri: String,
    /// The QR code of `uri`, an SVG document the server drew.
    pub qr_svg: String,
}

/// Which roles must sign in with two factors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TwoFactorPolicy {
    pub required: Vec<Role>,
}
