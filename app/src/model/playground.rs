//! The playground page: a customer's own view of a thread.

use crate::domain::{DeliveryState, Direction};
use serde::{Deserialize, Serialize};

/// A message as the customer sees it on the playground.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlaygroundMessage {
    pub id: i64,
    /// `in` = written by the customer, `out` = received from the business.
    pub direction: Direction,
    pub body_text: String,
    pub delivery_state: DeliveryState,
    pub created_at: i64,
}
