//! Message threads: a few messages on one identifier, spread over a customer's history.

use super::model::{Msg, FIRST, OUT};
use super::rng::Rng;
use super::{HOUR, MINUTE};

/// Appends `k` messages of customer `cust` in threads starting between `start` and `now`.
pub(super) fn gen_threads(
    rng: &mut Rng,
    cust: u32,
    k: usize,
    start: i64,
    now: i64,
    nslots: u64,
    out: &mut Vec<Msg>,
) {
    // Threads that would run past `latest` are moved back to end somewhat before it, so the
    // newest activity is spread out (and the big conversation, at now - 45 s, is the newest).
    let latest = now - 2 * MINUTE;
    let mut left = k;
    while left > 0 {
        let mut len = 1;
        while len < 16 && rng.chance(0.68) {
            len += 1;
        }
        let len = len.min(left);
        let mut t = start + rng.below((latest - start).max(1) as u64) as i64;
        let slot = if nslots == 1 || rng.chance(0.6) {
            0
        } else {
            rng.below(nslots) as u8
        };
        let thread = rng.next_u32();
        let mut is_out = rng.chance(0.06);
        let from = out.len();
        for j in 0..len {
            if j > 0 {
                is_out = if is_out {
                    rng.chance(0.3)
                } else {
                    rng.chance(0.6)
                };
                t += if is_out {
                    rng.range(MINUTE, 3 * HOUR)
                } else {
                    rng.range(30_000, 12 * HOUR)
                };
            }
            let flags = (if is_out { OUT } else { 0 }) | (if j == 0 { FIRST } else { 0 });
            out.push(Msg {
                at: t,
                cust,
                thread,
                slot,
                flags,
            });
        }
        if t > latest {
            let shift = t - latest + rng.below(6 * HOUR as u64) as i64;
            for m in &mut out[from..] {
                m.at -= shift;
            }
        }
        left -= len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{DAY, SPAN};

    #[test]
    fn threads_stay_in_the_past() {
        let mut rng = Rng::new(1);
        let now = 1_800_000_000_000;
        let mut out = Vec::new();
        gen_threads(&mut rng, 0, 500, now - SPAN, now, 3, &mut out);
        assert_eq!(out.len(), 500);
        assert!(out
            .iter()
            .all(|m| m.at < now && m.at >= now - SPAN - 60 * DAY && m.slot < 3));
    }
}
