//! Conversation status, message direction and delivery state.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    Pending,
    Snoozed,
    Resolved,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Open,
        Status::Pending,
        Status::Snoozed,
        Status::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Pending => "pending",
            Status::Snoozed => "snoozed",
            Status::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Open => "Open",
            Status::Pending => "Pending",
            Status::Snoozed => "Snoozed",
            Status::Resolved => "Resolved",
        }
    }

    /// Status after a new inbound message: a customer writing again reopens the conversation.
    pub fn after_inbound(self) -> Status {
        Status::Open
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
    pub fn parse(s: &str) -> Option<Direction> {
        match s {
            "in" => Some(Direction::In),
            "out" => Some(Direction::Out),
            _ => None,
        }
    }
}

/// Where a message is in its life. Inbound messages are `Received`; outbound ones move
/// queued → sending → sent → delivered → read, or end in failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    Received,
    Queued,
    Sending,
    Sent,
    Delivered,
    Read,
    Failed,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 7] = [
        DeliveryState::Received,
        DeliveryState::Queued,
        DeliveryState::Sending,
        DeliveryState::Sent,
        DeliveryState::Delivered,
        DeliveryState::Read,
        DeliveryState::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Received => "received",
            DeliveryState::Queued => "queued",
            DeliveryState::Sending => "sending",
            DeliveryState::Sent => "sent",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Read => "read",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryState> {
        DeliveryState::ALL.into_iter().find(|x| x.as_str() == s)
    }

    fn rank(self) -> u8 {
        match self {
            DeliveryState::Received => 0,
            DeliveryState::Queued => 1,
            DeliveryState::Sending => 2,
            DeliveryState::Sent => 3,
            DeliveryState::Delivered => 4,
            DeliveryState::Read => 5,
            DeliveryState::Failed => 6,
        }
    }

    /// Whether a status report `next` may replace the current state. Provider reports arrive
    /// out of order (a "sent" after "delivered"); a later stage never goes back to an earlier one,
    /// and a failure is final unless the message is re-queued by a retry.
    pub fn may_advance_to(self, next: DeliveryState) -> bool {
        match (self, next) {
            (DeliveryState::Failed, DeliveryState::Queued) => true,
            // a temporary failure puts a message back in the queue for another attempt
            (DeliveryState::Sending, DeliveryState::Queued) => true,
            (DeliveryState::Failed, _) => false,
            (DeliveryState::Delivered | DeliveryState::Read, DeliveryState::Failed) => false,
            (_, DeliveryState::Failed) => true,
            (a, b) => b.rank() > a.rank(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("closed"), None);
    }

    #[test]
    fn delivery_states_only_move_forward() {
        use DeliveryState::*;
        assert!(Queued.may_advance_to(Sending));
        assert!(Sending.may_advance_to(Sent));
        assert!(Sent.may_advance_to(Delivered));
        assert!(Delivered.may_advance_to(Read));
        assert!(
            !Delivered.may_advance_to(Sent),
            "late 'sent' report must not undo delivered"
        );
        assert!(!Read.may_advance_to(Delivered));
        assert!(Sending.may_advance_to(Failed));
        assert!(
            Sent.may_advance_to(Failed),
            "carrier may reject after accepting"
        );
        assert!(!Delivered.may_advance_to(Failed));
        assert!(!Failed.may_advance_to(Delivered));
        assert!(Failed.may_advance_to(Queued), "manual retry re-queues");
        assert!(
            Sending.may_advance_to(Queued),
            "a temporary failure re-queues"
        );
        assert!(!Sent.may_advance_to(Queued));
        for s in DeliveryState::ALL {
            assert!(!s.may_advance_to(s), "{s:?} to itself is no change");
            assert_eq!(DeliveryState::parse(s.as_str()), Some(s));
        }
    }
}
