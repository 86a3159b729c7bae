//! Keyset pagination cursors. Timelines merge two tables (messages and events) ordered by
//! (created_at, source rank, id) descending; a cursor is the key of the last item shown.

use serde::{Deserialize, Serialize};

/// Which table a timeline item came from; messages sort after events at the same millisecond.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Source {
    Event = 0,
    Message = 1,
}

/// The sort key of a timeline item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TimelineKey {
    pub at: i64,
    pub source: Source,
    pub id: i64,
}

impl TimelineKey {
    pub fn encode(&self) -> String {
        format!("{}.{}.{}", self.at, self.source as u8, self.id)
    }

    pub fn decode(s: &str) -> Option<TimelineKey> {
        let mut it = s.splitn(3, '.');
        let at = it.next()?.parse().ok()?;
        let source = match it.next()? {
            "0" => Source::Event,
            "1" => Source::Message,
            _ => return None,
        };
        let id = it.next()?.parse().ok()?;
        Some(TimelineKey { at, source, id })
    }

    /// For a query over `table`, the (created_at, id) bound such that rows with
    /// `created_at < at OR (created_at = at AND id < id_bound)` are exactly those whose key is
    /// strictly below this cursor.
    pub fn id_bound_for(&self, table: Source) -> i64 {
        use std::cmp::Ordering::*;
        match table.cmp(&self.source) {
            Equal => self.id,
            // rows of a lower-ranked table at the same millisecond sort below the cursor
            Less => i64::MAX,
            // rows of a higher-ranked table at the same millisecond were already shown
            Greater => i64::MIN,
        }
    }
}

/// Cursor for the conversation list: (last_activity_at, id) of the last row shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListCursor {
    pub at: i64,
    pub id: i64,
}

impl ListCursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.at, self.id)
    }
    pub fn decode(s: &str) -> Option<ListCursor> {
        let (a, b) = s.split_once('.')?;
        Some(ListCursor {
            at: a.parse().ok()?,
            id: b.parse().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn garbage_cursors_are_rejected() {
        for s in ["", "1", "1.2", "1.2.x", "a.0.1", "1.7.1"] {
            assert!(TimelineKey::decode(s).is_none(), "{s}");
        }
        assert!(ListCursor::decode("12").is_none());
    }

    fn key() -> impl Strategy<Value = TimelineKey> {
        (
            0i64..5,
            prop_oneof![Just(Source::Event), Just(Source::Message)],
            0i64..5,
        )
            .prop_map(|(at, source, id)| TimelineKey { at, source, id })
    }

    proptest! {
        #[test]
        fn cursor_round_trips(at in any::<i64>(), id in any::<i64>(), m in any::<bool>()) {
            let k = TimelineKey { at, source: if m { Source::Message } else { Source::Event }, id };
            prop_assert_eq!(TimelineKey::decode(&k.encode()), Some(k));
        }

        /// The SQL bound derived for each table selects exactly the keys below the cursor.
        #[test]
        fn id_bound_matches_key_order(cursor in key(), row in key()) {
            let bound = cursor.id_bound_for(row.source);
            let selected = row.at < cursor.at || (row.at == cursor.at && row.id < bound);
            prop_assert_eq!(selected, row < cursor);
        }
    }
}
