//! Who marketing can reach now, and on which channel customers choose to write.
//!
//! * Reach: per channel, the customers known by an identifier of its kind; of those, the ones
//!   marketing may write to (the newest marketing change of one of those identifiers granted
//!   it), the ones who said no (an opt-out, and no identifier of the kind granted), the ones
//!   never asked (the rest), and the ones who stopped every message (an identifier's newest
//!   support change is an opt-out, as an SMS STOP records). The "Any channel" line counts a
//!   customer once: reachable on at least one channel, opted out with no channel granted.
//! * Channel of choice: in a period, the channel a customer opened most of their episodes on
//!   (a tie goes to the channel of the latest day, then to the channel listed first). Comparing
//!   two periods shows who moved where.

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::consent::Purpose;
use crate::domain::ChannelKind;

/// One line of the reach table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReachLine {
    /// `None`: any channel.
    pub channel: Option<ChannelKind>,
    pub known: i64,
    pub marketing: i64,
    pub opted_out: i64,
    pub stopped: i64,
}

impl ReachLine {
    /// Known customers neither granted nor opted out of marketing: never asked.
    pub fn not_asked(&self) -> i64 {
        (self.known - self.marketing - self.opted_out).max(0)
    }
}

/// The newest consent change of one identifier for one purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Newest {
    pub channel: ChannelKind,
    pub customer: i64,
    pub purpose: Purpose,
    pub granted: bool,
}

/// The reach lines, one per channel with a known customer and then "any channel"; `known`:
/// customers known per channel and (`None`) by any identifier.
pub fn reach(known: &[(Option<ChannelKind>, i64)], newest: &[Newest]) -> Vec<ReachLine> {
    let mut granted: BTreeSet<(ChannelKind, i64)> = BTreeSet::new();
    let mut refused: BTreeSet<(ChannelKind, i64)> = BTreeSet::new();
    let mut stopped: BTreeSet<(ChannelKind, i64)> = BTreeSet::new();
    for n in newest {
        let key = (n.channel, n.customer);
        match (n.purpose, n.granted) {
            (Purpose::Marketing, true) => {
                granted.insert(key);
            }
            (Purpose::Marketing, false) => {
                refused.insert(key);
            }
            (Purpose::Support, false) => {
                stopped.insert(key);
            }
            (Purpose::Support, true) => {}
        }
    }
    refused.retain(|k| !granted.contains(k));
    let count = |set: &BTreeSet<(ChannelKind, i64)>, ch: ChannelKind| {
        set.iter().filter(|(c, _)| *c == ch).count() as i64
    };
    let mut out: Vec<ReachLine> = ChannelKind::ALL
        .into_iter()
        .filter_map(|ch| {
            let known = known.iter().find(|(c, _)| *c == Some(ch))?.1;
            (known > 0).then(|| ReachLine {
                channel: Some(ch),
                known,
                marketing: count(&granted, ch),
                opted_out: count(&refused, ch),
                stopped: count(&stopped, ch),
            })
        })
        .collect();
    let customers = |set: &BTreeSet<(ChannelKind, i64)>| -> BTreeSet<i64> {
        set.iter().map(|(_, c)| *c).collect()
    };
    let any_granted = customers(&granted);
    out.push(ReachLine {
        channel: None,
        known: known
            .iter()
            .find(|(c, _)| c.is_none())
            .map_or(0, |(_, n)| *n),
        marketing: any_granted.len() as i64,
        opted_out: customers(&refused).difference(&any_granted).count() as i64,
        stopped: customers(&stopped).len() as i64,
    });
    out
}

/// Each customer's channel of choice from `(customer, channel, episodes, latest day)` rows, in
/// any order: the channel with the most episodes, a tie going to the latest day, then to the
/// channel listed first ([`ChannelKind::ALL`]).
pub fn channel_of_choice(rows: &[(i64, ChannelKind, i64, i64)]) -> BTreeMap<i64, ChannelKind> {
    use std::cmp::Reverse;
    let mut best: BTreeMap<i64, (i64, i64, ChannelKind)> = BTreeMap::new();
    for &(customer, ch, n, latest) in rows {
        let e = best.entry(customer).or_insert((n, latest, ch));
        if (n, latest, Reverse(ch)) > (e.0, e.1, Reverse(e.2)) {
            *e = (n, latest, ch);
        }
    }
    best.into_iter().map(|(c, (.., ch))| (c, ch)).collect()
}

/// How many customers chose each channel, and (`moves`) how many of those who wrote in both
/// periods went from one channel (`before`) to another (`now`), same channel included.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Choices {
    pub now: BTreeMap<ChannelKind, i64>,
    pub before: BTreeMap<ChannelKind, i64>,
    pub moves: BTreeMap<(ChannelKind, ChannelKind), i64>,
}

impl Choices {
    pub fn of(now: &BTreeMap<i64, ChannelKind>, before: &BTreeMap<i64, ChannelKind>) -> Choices {
        let mut out = Choices::default();
        for ch in now.values() {
            *out.now.entry(*ch).or_default() += 1;
        }
        for ch in before.values() {
            *out.before.entry(*ch).or_default() += 1;
        }
        for (customer, to) in now {
            if let Some(from) = before.get(customer) {
                *out.moves.entry((*from, *to)).or_default() += 1;
            }
        }
        out
    }

    /// Customers who wrote in both periods and changed channel.
    pub fn changed(&self) -> i64 {
        self.moves
            .iter()
            .filter(|((a, b), _)| a != b)
            .map(|(_, n)| n)
            .sum()
    }

    /// Customers who wrote in both periods.
    pub fn returning(&self) -> i64 {
        self.moves.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ChannelKind::*;

    fn newest(channel: ChannelKind, customer: i64, purpose: Purpose, granted: bool) -> Newest {
        Newest {
            channel,
            customer,
            purpose,
            granted,
        }
    }

    #[test]
    fn reach_counts_customers_not_identifiers() {
        use Purpose::*;
        let known = [(Some(Email), 4), (Some(Sms), 3), (None, 5)];
        let changes = [
            // Customer 1: two email addresses, one granted, one refused: reachable.
            newest(Email, 1, Marketing, true),
            newest(Email, 1, Marketing, false),
            // Customer 2: refused on email, granted on SMS.
            newest(Email, 2, Marketing, false),
            newest(Sms, 2, Marketing, true),
            // Customer 3: refused on SMS and texted STOP.
            newest(Sms, 3, Marketing, false),
            newest(Sms, 3, Support, false),
            // Customer 4: support granted back: not stopped.
            newest(Sms, 4, Support, true),
        ];
        let lines = reach(&known, &changes);
        assert_eq!(lines.len(), 3, "{lines:?}");
        let email = &lines[0];
        assert_eq!(
            (email.channel, email.known, email.marketing, email.opted_out),
            (Some(Email), 4, 1, 1)
        );
        assert_eq!(email.not_asked(), 2);
        let sms = &lines[1];
        assert_eq!(
            (sms.marketing, sms.opted_out, sms.stopped, sms.not_asked()),
            (1, 1, 1, 1)
        );
        let any = &lines[2];
        // Reachable: 1 and 2; opted out with nothing granted: 3.
        assert_eq!(
            (
                any.channel,
                any.known,
                any.marketing,
                any.opted_out,
                any.stopped
            ),
            (None, 5, 2, 1, 1)
        );
    }

    #[test]
    fn the_channel_of_choice_is_the_most_used_then_the_latest() {
        let rows = [
            (1, Email, 2, 100),
            (1, Sms, 1, 500),
            (2, Email, 1, 100),
            (2, Whatsapp, 1, 200),
            (3, Telegram, 1, 50),
        ];
        let choice = channel_of_choice(&rows);
        // The same answer whatever the order; a full tie goes to the channel listed first.
        let mut reversed = rows.to_vec();
        reversed.reverse();
        reversed.push((4, Telegram, 1, 7));
        reversed.push((4, Sms, 1, 7));
        let other = channel_of_choice(&reversed);
        assert_eq!(other[&4], Sms);
        assert_eq!(other.get(&1), choice.get(&1));
        assert_eq!(other.get(&2), choice.get(&2));
        assert_eq!(choice[&1], Email);
        assert_eq!(choice[&2], Whatsapp);
        assert_eq!(choice[&3], Telegram);
        let before = BTreeMap::from([(1, Sms), (2, Whatsapp), (9, Email)]);
        let c = Choices::of(&choice, &before);
        assert_eq!(c.now[&Email], 1);
        assert_eq!(c.before[&Sms], 1);
        assert_eq!(c.returning(), 2);
        assert_eq!(c.changed(), 1);
        assert_eq!(c.moves[&(Sms, Email)], 1);
        assert_eq!(c.moves[&(Whatsapp, Whatsapp)], 1);
    }
}
