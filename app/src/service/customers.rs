//! The customer panel: a customer's identifiers with their consent line, the merges into it
//! and the merge suggestions.

use super::suggestions;
use crate::domain::consent::{self, Latest, Purpose};
use crate::domain::ChannelKind;
use crate::model::{CustomerView, IdentifierView};
use crate::store::{self, customers, identifiers, merges, Db, Result};

/// The customer panel's data.
pub async fn customer_view(db: &Db, customer_id: i64) -> Result<CustomerView> {
    let consents = store::consent::latest_for_customer(db, customer_id).await?;
    customer_view_from(db, customer_id, &consents).await
}

/// [`customer_view`] with the consent that holds already read.
pub async fn customer_view_from(
    db: &Db,
    customer_id: i64,
    consents: &Latest,
) -> Result<CustomerView> {
    let c = customers::panel(db, customer_id).await?;
    let identifiers = identifiers::of_customer(db, customer_id)
        .await?
        .into_iter()
        .map(|i| IdentifierView {
            consent: consent::summary(
                consents.get(&(i.id, Purpose::Support)),
                consents.get(&(i.id, Purpose::Marketing)),
            ),
            id: i.id,
            kind: i.kind,
            value: i.value,
            label: i.label,
            verified: i.verified,
        })
        .collect();
    let chosen = {
        let mut conn = db.read.acquire().await?;
        customers::chosen(&mut conn, customer_id).await?
    };
    let chosen = crate::domain::preferences::summary(
        chosen
            .quiet
            .map(|(from, until)| crate::domain::preferences::Quiet { from, until }),
        chosen.time_zone.as_deref(),
        chosen.frequency,
    );
    Ok(CustomerView {
        id: c.id,
        name: c.name,
        preferred_channel: c.preferred_channel,
        chosen,
        identifiers,
        channels_used: ChannelKind::from_mask(c.channels_mask),
        merged_into: customers::merged_into(db, customer_id).await?,
        merges: merges::merged_here(db, customer_id).await?,
        suggestions: suggestions::for_customer(db, customer_id).await?,
    })
}
