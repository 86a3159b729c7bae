//! Campaigns as the campaigns pages show them.

use crate::domain::campaign::{Definition, Status};
use crate::domain::campaign_rules::SkipReason;
use crate::domain::consent::Purpose;
use crate::domain::ChannelKind;
use serde::{Deserialize, Serialize};

/// A campaign in the list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignItem {
    pub id: i64,
    pub name: String,
    pub status: Status,
    pub topic: Purpose,
    pub author: String,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub scheduled_at: Option<i64>,
}

/// One customer of the audience preview: where the first step would go, or why not.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PreviewRow {
    pub customer_id: i64,
    pub name: String,
    pub channel: Option<ChannelKind>,
    pub identifier: Option<String>,
    pub skip: Option<SkipReason>,
    pub why: Option<String>,
}

/// Who the campaign would reach now, counted before sending.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AudiencePreview {
    /// Customers matching the audience.
    pub total: i64,
    /// Of them, how many the first step would reach, per channel.
    pub reach: Vec<(ChannelKind, i64)>,
    /// And how many would be skipped, per reason.
    pub skipped: Vec<(SkipReason, i64)>,
    /// The first customers.
    pub sample: Vec<PreviewRow>,
    /// The audience's conditions in words.
    pub words: String,
    /// A note (a saved view reaches its first customers only).
    pub notice: Option<String>,
}

impl AudiencePreview {
    pub fn reachable(&self) -> i64 {
        self.reach.iter().map(|(_, n)| n).sum()
    }
}

/// One step and channel of the report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportRow {
    pub step: i64,
    pub channel: Option<ChannelKind>,
    /// Messages sent on this channel (whatever became of them).
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
    /// Recipients who reached this channel by falling back from another.
    pub fell_back: i64,
    pub replied: i64,
}

/// What a campaign did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CampaignReport {
    pub rows: Vec<ReportRow>,
    /// Per step: recipients still to send (planned or waiting).
    pub pending: Vec<(i64, i64)>,
    /// Per step and reason: recipients skipped.
    pub skipped: Vec<(i64, SkipReason, i64)>,
    /// Customers who opted out after the campaign messaged them.
    pub opt_outs: i64,
    pub replies: i64,
    pub cancelled: i64,
}

/// A campaign as its page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignDetail {
    pub id: i64,
    pub name: String,
    pub status: Status,
    pub definition: Definition,
    pub author_id: i64,
    pub author: String,
    pub approver: Option<String>,
    pub approved_at: Option<i64>,
    pub scheduled_at: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// The step being delivered (0-based).
    pub step: i64,
    /// When the current step starts, while it waits for its hours after the one before.
    pub step_waits_until: Option<i64>,
    /// What stops it from being approved or sent, in words.
    pub problems: Vec<String>,
    /// Whether the viewer may approve it (not its author, and it is a draft without problems).
    pub can_approve: bool,
    pub report: CampaignReport,
}

/// One recipient in the campaign's list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecipientItem {
    pub id: i64,
    pub step: i64,
    pub customer_id: i64,
    pub name: String,
    pub conversation_id: Option<i64>,
    /// planned, waiting, sent, delivered, failed, skipped, replied, opted_out, cancelled.
    pub state: String,
    pub reason: Option<String>,
    pub channel: Option<ChannelKind>,
    /// Channels tried before this one (each failed or was late).
    pub fell_back_from: Vec<ChannelKind>,
    pub sent_at: Option<i64>,
    /// When a waiting recipient is due (the page shows it in the reader's time zone).
    #[serde(default)]
    pub waiting_until: Option<i64>,
}

/// A page of recipients.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RecipientPage {
    pub items: Vec<RecipientItem>,
    pub next: Option<i64>,
}

/// Choices the campaign form offers: labels and saved views by name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CampaignChoices {
    pub labels: Vec<(i64, String)>,
    pub views: Vec<(i64, String)>,
}

/// Words for a recipient state.
pub fn state_label(state: &str) -> &'static str {
    match state {
        "planned" => "Planned",
        "waiting" => "Waiting",
        "sent" => "Sent",
        "delivered" => "Delivered",
        "failed" => "Failed",
        "skipped" => "Skipped",
        "replied" => "Replied",
        "opted_out" => "Opted out",
        "cancelled" => "Cancelled",
        _ => "Unknown",
    }
}
