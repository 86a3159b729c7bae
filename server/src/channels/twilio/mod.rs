//! The twilio channel adapter.

use super::{ChannelConfig, Registry};

/// Adds this provider's adapters to `r`.
pub fn register(r: &mut Registry, config: &ChannelConfig) {
    let _ = (r, config);
}
