//! Timeline events: their kinds (`events.kind`) and the one line each shows in words.

/// A status change; `data.status` names the new one.
pub const STATUS: &str = "status";
/// An assignment; `data.assignee` names the assignee (null: unassigned).
pub const ASSIGN: &str = "assign";
/// A snooze; `data.until` is when it ends (unix ms).
pub const SNOOZE: &str = "snooze";
/// A private note; `body` holds it.
pub const NOTE: &str = "note";
/// A consent change (an SMS keyword, an opt-out reported by a provider); `body` says it.
pub const CONSENT: &str = "consent";
/// An agent moved the conversation to another channel ("Move conversation to…").
pub const CHANNEL_SWITCH: &str = "channel_switch";
/// A merge, on the survivor's timeline; `body` says it in words.
pub const MERGE: &str = "merge";
/// An undone merge, on the survivor's timeline.
pub const UNMERGE: &str = "unmerge";
/// A snoozed conversation reopened by itself when its time came.
pub const REOPEN: &str = "reopen";
/// A label put on the conversation; `data.label` names it.
pub const LABEL_ADDED: &str = "label_added";
/// A label taken off; `data.label` names it.
pub const LABEL_REMOVED: &str = "label_removed";

/// The time an event's words end with, if any: when a snooze ends (unix ms). The timeline
/// shows it after [`summarize`]'s words, in the agent's time zone.
pub fn until(kind: &str, data: &str) -> Option<i64> {
    if kind != SNOOZE {
        return None;
    }
    serde_json::from_str::<serde_json::Value>(data)
        .ok()?
        .get("until")?
        .as_i64()
}

/// One line describing an event, in words, for the timeline.
pub fn summarize(kind: &str, data: &str, actor: Option<&str>) -> String {
    let v: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
    let who = actor.unwrap_or("System");
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    match kind {
        STATUS => {
            let to = s("status")
                .and_then(|x| crate::domain::Status::parse(&x))
                .map(|x| x.label())
                .unwrap_or("?");
            format!("{who} changed the status to {to}")
        }
        ASSIGN => match s("assignee") {
            Some(name) => format!("{who} assigned the conversation to {name}"),
            None => format!("{who} unassigned the conversation"),
        },
        // The time it ends is [`until`], shown beside the words in the reader's time zone.
        SNOOZE => format!("{who} snoozed the conversation"),
        NOTE => format!("Private note by {who}"),
        CONSENT => "Consent changed".to_string(),
        CHANNEL_SWITCH => {
            let to = s("to").unwrap_or_else(|| "another channel".into());
            match s("from") {
                Some(from) => format!("{who} moved the conversation from {from} to {to}"),
                None => format!("{who} moved the conversation to {to}"),
            }
        }
        MERGE => {
            let name = s("merged_name").unwrap_or_else(|| "another customer".into());
            format!("{who} merged {name} into this customer")
        }
        UNMERGE => {
            let name = s("merged_name").unwrap_or_else(|| "another customer".into());
            format!("{who} undid the merge of {name}")
        }
        REOPEN => "Reopened when the snooze ended".to_string(),
        LABEL_ADDED => format!(
            "{who} added the label {}",
            s("label").unwrap_or_else(|| "?".into())
        ),
        LABEL_REMOVED => format!(
            "{who} removed the label {}",
            s("label").unwrap_or_else(|| "?".into())
        ),
        other => format!("{who}: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_read_as_sentences() {
        assert_eq!(
            summarize(STATUS, r#"{"status":"resolved"}"#, Some("Sam")),
            "Sam changed the status to Resolved"
        );
        assert_eq!(
            summarize(ASSIGN, r#"{"assignee":"Kim"}"#, Some("Sam")),
            "Sam assigned the conversation to Kim"
        );
        assert_eq!(
            summarize(ASSIGN, r#"{"assignee":null}"#, None),
            "System unassigned the conversation"
        );
        assert_eq!(
            summarize(SNOOZE, r#"{"until":0}"#, Some("Sam")),
            "Sam snoozed the conversation"
        );
        // Its end is a time of its own, for the reader's zone; only snoozes have one.
        assert_eq!(
            until(SNOOZE, r#"{"until":1800000000000}"#),
            Some(1_800_000_000_000)
        );
        assert_eq!(until(SNOOZE, "not json"), None);
        assert_eq!(until(ASSIGN, r#"{"until":5}"#), None);
        assert_eq!(
            summarize(
                CHANNEL_SWITCH,
                r#"{"from":"Email · ann@x.test","to":"SMS · +1 555 0100"}"#,
                Some("Sam")
            ),
            "Sam moved the conversation from Email · ann@x.test to SMS · +1 555 0100"
        );
        assert_eq!(
            summarize(MERGE, r#"{"merged_name":"Ada L."}"#, Some("Sam")),
            "Sam merged Ada L. into this customer"
        );
        assert_eq!(
            summarize(UNMERGE, r#"{"merged_name":"Ada L."}"#, Some("Sam")),
            "Sam undid the merge of Ada L."
        );
        assert_eq!(
            summarize(REOPEN, "{}", None),
            "Reopened when the snooze ended"
        );
        assert_eq!(
            summarize(STATUS, "not json", None),
            "System changed the status to ?"
        );
    }
}
