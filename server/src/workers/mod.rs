//! Background workers. Each is a plain `async fn` that does one round of work (tested
//! directly), plus a `run` loop that repeats it when woken or on a timer.

pub mod campaigns;
pub mod chat_followup;
pub mod inbound;
pub mod outbox;
pub mod reports;
pub mod snooze;
