//! The audit trail as the admin page shows it.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    /// The stored action name (`sign_in`, …); its words come from `domain::audit`.
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip: Option<String>,
}

/// One page of the trail, newest first; `older` continues it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub older: Option<i64>,
}
