//! Merges for the seeded customers, made through the product's own merge and undo (so every
//! row they touch is what an agent's merge writes): one customer in 500 merged into the next
//! one, every tenth merge undone. The reports' identity section and the merge timeline read
//! real data. Run after the bulk load, once the id sequences are set.

use super::BoxError;
use app::service::merge;
use app::store::Db;

/// Merges among the `customers` seeded from id `first`, by `agent`, keeping clear of
/// `avoid` (the big conversation's customer); returns (merged, undone).
pub(super) async fn write(
    db: &Db,
    first: i64,
    customers: usize,
    avoid: i64,
    agent: i64,
) -> Result<(usize, usize), BoxError> {
    let (mut merged, mut undone) = (0, 0);
    let pairs = customers / 500;
    for k in 0..pairs as i64 {
        let survivor = first + 2 + k * 500;
        let gone = survivor + 1;
        if survivor == avoid || gone == avoid {
            continue;
        }
        merge::merge(db, survivor, gone, agent)
            .await
            .map_err(|e| format!("seeding merge {gone} into {survivor}: {e}"))?;
        merged += 1;
        if k % 10 == 0 {
            merge::unmerge(db, gone, agent)
                .await
                .map_err(|e| format!("seeding the undo of merge {gone} into {survivor}: {e}"))?;
            undone += 1;
        }
    }
    Ok((merged, undone))
}
