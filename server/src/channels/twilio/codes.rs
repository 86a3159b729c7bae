//! Twilio's error codes in words, for delivery failures shown on a message and for refused
//! sends. The short explanations follow Twilio's error dictionary.

/// The code Twilio uses when the recipient replied STOP to the sending number.
pub const OPTED_OUT: &str = "21610";

/// A short explanation of a common Twilio error code.
pub fn explain(code: &str) -> Option<&'static str> {
    Some(match code.trim() {
        "20003" => "authentication failed: check the account SID and auth token",
        "20404" => "the resource was not found",
        "20429" => "too many requests",
        "21211" => "invalid 'To' number",
        "21408" => "sending to this region is not enabled on the account",
        "21602" => "a message body or media is required",
        "21606" => "the 'From' number cannot send messages to this destination",
        "21610" => "the customer replied STOP to this number and has unsubscribed",
        "21612" => "the 'To' number cannot be reached from the 'From' number",
        "21614" => "not a mobile number",
        "21617" => "the message is longer than 1600 characters",
        "30001" => "queue overflow: too many messages were queued for this sender",
        "30002" => "the Twilio account is suspended",
        "30003" => "unreachable handset: the phone is off or out of coverage",
        "30004" => "the message was blocked by the recipient or their carrier",
        "30005" => "unknown or inactive number",
        "30006" => "a landline or a carrier that cannot be reached",
        "30007" => "filtered by the carrier as spam",
        "30008" => "unknown error reported by the carrier",
        "30009" => "a part of the message was lost",
        "30010" => "the price of the message is above the maximum price set",
        _ => return None,
    })
}

/// `error <code> (<explanation>)`, or just `error <code>` for a code we have no words for.
pub fn describe(code: &str) -> String {
    match explain(code) {
        Some(words) => format!("error {} ({words})", code.trim()),
        None => format!("error {}", code.trim()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_codes_have_words() {
        for code in [
            "30003", "30004", "30005", "30006", "30007", "30008", "21610", "21211", "21614",
        ] {
            assert!(explain(code).is_some(), "{code}");
        }
        assert_eq!(
            describe("30007"),
            "error 30007 (filtered by the carrier as spam)"
        );
        assert_eq!(describe(" 12345 "), "error 12345");
        assert!(explain(OPTED_OUT).unwrap().contains("STOP"));
    }
}
