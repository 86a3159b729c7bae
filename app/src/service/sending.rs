//! The sending gates ([`Gate`]: consent and reply windows) of identifiers, as stored.

use crate::domain::consent::{Latest, Purpose};
use crate::domain::gate::Gate;
use crate::store::{consent, identifiers, Db, Result};
use std::collections::HashMap;

/// The gate of identifier `identifier_id` now.
pub async fn gate(db: &Db, identifier_id: i64) -> Result<Gate> {
    Ok(Gate {
        last_inbound_at: identifiers::last_inbound_at(db, identifier_id).await?,
        support: consent::current(db, identifier_id, Purpose::Support).await?,
    })
}

/// The gate of every identifier of `customer_id`, given the consent that holds for them
/// ([`consent::latest_for_customer`]): one query.
pub async fn gates_from(
    db: &Db,
    customer_id: i64,
    consents: &Latest,
) -> Result<HashMap<i64, Gate>> {
    Ok(identifiers::of_customer(db, customer_id)
        .await?
        .into_iter()
        .map(|i| {
            let gate = Gate {
                last_inbound_at: i.last_inbound_at,
                support: consents.get(&(i.id, Purpose::Support)).cloned(),
            };
            (i.id, gate)
        })
        .collect())
}
