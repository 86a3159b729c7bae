//! Reply addresses that name their conversation, signed so they cannot be forged:
//! `support+c42-<mac>@example.com`.

/// The reply address for `conversation_id` on the mailbox `from` (`local@domain`).
pub fn reply_address(from: &str, conversation_id: i64, key: &[u8]) -> String {
    let _ = (from, conversation_id, key);
    unimplemented!("helper")
}

/// The conversation named by a valid token in `address`, if any (constant-time check).
pub fn verify(address: &str, key: &[u8]) -> Option<i64> {
    let _ = (address, key);
    unimplemented!("helper")
}
