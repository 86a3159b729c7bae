//! Consent per identifier and purpose, with its history.

use crate::domain::IdentifierKind;
use serde::{Deserialize, Serialize};

/// The consent of every identifier of one customer, for the customer panel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerConsent {
    pub customer_id: i64,
    pub identifiers: Vec<IdentifierConsent>,
    /// Older changes exist than the histories list.
    pub truncated: bool,
}

/// One identifier's consent for each purpose, and every change to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdentifierConsent {
    pub id: i64,
    pub kind: IdentifierKind,
    pub value: String,
    pub support: ConsentHolds,
    pub marketing: ConsentHolds,
    /// Newest first.
    pub history: Vec<ConsentChange>,
}

/// What holds for one identifier and purpose.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsentHolds {
    pub status: crate::domain::consent::ConsentStatus,
    /// The change that set it, when one was recorded.
    pub since: Option<ConsentChange>,
}

/// One recorded consent change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsentChange {
    pub id: i64,
    pub purpose: crate::domain::consent::Purpose,
    pub granted: bool,
    /// The source in words: "texted STOP", "set by Sam Support", "email unsubscribe link".
    pub how: String,
    /// The reason given (an agent's words, an import's detail), if any.
    pub reason: Option<String>,
    /// The staff member who recorded it.
    pub who: Option<String>,
    pub at: i64,
}
