//! Merging customers and suggesting merges: the reasons two customers may be one person, and
//! the sentences merges leave on the timeline and in refusals.

use crate::domain::identifier::{email_local_part, kind_words, phone_tail};
use crate::domain::IdentifierKind;

/// Suggestion reason (`merge_suggestions.reason`): an email from one customer answered another
/// customer's conversation.
pub const THREADED: &str = "threaded_reply";
/// Suggestion reason: an agent tried to add an identifier another customer holds.
pub const CONFLICT: &str = "conflict";

/// Who did something, when the user is gone.
pub const SOMEONE: &str = "A staff member";

fn is_phone(k: IdentifierKind) -> bool {
    matches!(k, IdentifierKind::Phone | IdentifierKind::Whatsapp)
}

/// The reasons, in words, why two customers with the same name may be one person, from their
/// identifiers (kind, normalised value).
pub fn pattern_reasons(
    mine: &[(IdentifierKind, String)],
    theirs: &[(IdentifierKind, String)],
) -> Vec<String> {
    let mut out = Vec::new();
    for (mk, mv) in mine {
        for (tk, tv) in theirs {
            if *mk == IdentifierKind::Email && *tk == IdentifierKind::Email {
                if let (Some(a), Some(b)) = (email_local_part(mv), email_local_part(tv)) {
                    if a == b && mv != tv {
                        out.push(format!(
                            "Same name, and email addresses with the same local part: {mv} and {tv}"
                        ));
                    }
                }
            }
            if is_phone(*mk) && is_phone(*tk) && mv != tv {
                if let (Some(a), Some(b)) = (phone_tail(mv), phone_tail(tv)) {
                    if a == b {
                        out.push(format!(
                            "Same name, and numbers ending in the same nine digits: {mv} and {tv}"
                        ));
                    }
                }
            }
        }
    }
    out
}

/// The same value held under two kinds ("+1555… is this customer's phone number and their
/// WhatsApp number").
pub fn same_value_reason(value: &str, mine: IdentifierKind, theirs: IdentifierKind) -> String {
    format!(
        "{value} is this customer's {} and their {}",
        kind_words(mine),
        kind_words(theirs)
    )
}

/// A [`THREADED`] suggestion's words.
pub fn threaded_reply_detail(sender: &str, label: &str, other: &str) -> String {
    format!("{sender} wrote from {label} in reply to an email in {other}'s conversation")
}

/// A [`CONFLICT`] suggestion's words.
pub fn conflict_detail(
    who: &str,
    kind: IdentifierKind,
    value: &str,
    customer: &str,
    owner: &str,
) -> String {
    format!(
        "{who} tried to add the {} {value} to {customer}, but {owner} has it",
        kind_words(kind)
    )
}

/// The merge event's words on the survivor's timeline; `labels` are the merged customer's
/// identifiers as written.
pub fn merged_sentence(who: &str, merged: &str, labels: &[String], survivor: &str) -> String {
    let idents = if labels.is_empty() {
        String::new()
    } else {
        format!(" with {}", labels.join(", "))
    };
    format!(
        "{who} merged {merged}{idents} into {survivor}. Their messages, notes and events are in this timeline now; \
         \"Undo merge\" in the customer panel separates them again."
    )
}

/// The undo event's words on the survivor's timeline.
pub fn unmerged_sentence(who: &str, merged: &str, survivor: &str) -> String {
    format!(
        "{who} undid the merge of {merged} into {survivor}: {merged} is a separate customer again, with their identifiers, \
         messages, notes and events."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use IdentifierKind::*;

    fn i(kind: IdentifierKind, value: &str) -> (IdentifierKind, String) {
        (kind, value.into())
    }

    #[test]
    fn patterns_match_local_parts_and_number_tails() {
        let mine = [
            i(Email, "ada.lovelace@example.com"),
            i(Phone, "+447700900123"),
        ];
        let theirs = [
            i(Email, "ada.lovelace@work.example"),
            i(Whatsapp, "+4407700900123"),
        ];
        let r = pattern_reasons(&mine, &theirs);
        assert_eq!(r.len(), 2, "{r:?}");
        assert!(r[0].contains("same local part"));
        assert!(r[1].contains("nine digits"));
        let strangers = [i(Email, "grace@example.com"), i(Phone, "+15550102000")];
        assert!(pattern_reasons(&mine, &strangers).is_empty());
    }

    #[test]
    fn merges_are_told_in_sentences() {
        assert_eq!(
            merged_sentence("Sam", "Ada", &["ada@x.test".into()], "Ada L."),
            "Sam merged Ada with ada@x.test into Ada L.. Their messages, notes and events are in this timeline now; \
             \"Undo merge\" in the customer panel separates them again."
        );
        assert!(
            merged_sentence("Sam", "Ada", &[], "Ada L.").starts_with("Sam merged Ada into Ada L..")
        );
        assert!(unmerged_sentence("Sam", "Ada", "Ada L.").starts_with(
            "Sam undid the merge of Ada into Ada L.: Ada is a separate customer again"
        ));
        assert_eq!(
            same_value_reason("+1555", Phone, Whatsapp),
            "+1555 is this customer's phone number and their WhatsApp number"
        );
        assert_eq!(
            conflict_detail("Sam", Email, "a@x.test", "Ada", "Grace"),
            "Sam tried to add the email address a@x.test to Ada, but Grace has it"
        );
        assert_eq!(
            threaded_reply_detail("Ada", "ada@x.test", "Grace"),
            "Ada wrote from ada@x.test in reply to an email in Grace's conversation"
        );
    }
}
