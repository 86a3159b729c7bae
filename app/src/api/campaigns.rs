//! Campaigns: marketing drafts, previews, approves (a colleague's), sends, pauses, resumes and
//! cancels them, and reads what each did. Everything needs `ManageCampaigns`.

use crate::model::{AudiencePreview, CampaignChoices, CampaignDetail, CampaignItem, RecipientPage};
use leptos::prelude::*;

/// Longest definition accepted (JSON of the whole campaign).
pub const MAX_DEFINITION_BYTES: usize = 400_000;

#[cfg(feature = "ssr")]
fn definition(json: &str) -> Result<crate::domain::campaign::Definition, ServerFnError> {
    use crate::api::channels::edge;
    if json.len() > MAX_DEFINITION_BYTES {
        return Err(edge::refuse(format!(
            "The campaign is over {} KB; shorten its texts.",
            MAX_DEFINITION_BYTES / 1000
        )));
    }
    serde_json::from_str(json)
        .map_err(|e| edge::refuse(format!("The campaign form could not be read: {e}")))
}

#[cfg(feature = "ssr")]
async fn searcher_parts() -> Result<(crate::store::Db, i64, String, String), ServerFnError> {
    use crate::domain::Permission;
    use crate::ssr::auth;
    let st = auth::state()?;
    let u = auth::require(Permission::ManageCampaigns).await?;
    let zone = crate::api::zone::request_zone();
    Ok((
        st.db.clone(),
        u.id,
        zone.name,
        crate::service::identifiers::default_region(),
    ))
}

/// The campaigns, newest first.
#[server(endpoint = "campaigns", output = crate::api::codec::JsonText)]
pub async fn list_campaigns() -> Result<Vec<CampaignItem>, ServerFnError> {
    use crate::api::channels::edge;
    let (db, ..) = searcher_parts().await?;
    crate::service::campaigns::list(&db)
        .await
        .map_err(edge::store)
}

/// One campaign with its report.
#[server(endpoint = "campaign", output = crate::api::codec::JsonText)]
pub async fn get_campaign(id: i64) -> Result<CampaignDetail, ServerFnError> {
    use crate::api::channels::edge;
    let (db, user, ..) = searcher_parts().await?;
    crate::service::campaigns::detail(&db, user, id)
        .await
        .map_err(edge::store)
}

/// The labels and saved views an audience can use.
#[server(endpoint = "campaign/choices", output = crate::api::codec::JsonText)]
pub async fn audience_choices() -> Result<CampaignChoices, ServerFnError> {
    use crate::api::channels::edge;
    let (db, user, ..) = searcher_parts().await?;
    crate::service::campaigns::choices(&db, user)
        .await
        .map_err(edge::store)
}

/// Saves a draft (`id` empty: a new one); returns its id.
#[server(endpoint = "campaign/save")]
pub async fn save_campaign(
    id: Option<i64>,
    name: String,
    definition: String,
) -> Result<i64, ServerFnError> {
    use crate::api::channels::edge;
    let (db, user, ..) = searcher_parts().await?;
    let def = self::definition(&definition)?;
    match id {
        Some(id) => crate::service::campaigns::update(&db, id, &name, &def)
            .await
            .map(|_| id),
        None => crate::service::campaigns::create(&db, user, &name, &def).await,
    }
    .map_err(edge::store)
}

/// Who the first step would reach now, and who would be skipped and why.
#[server(endpoint = "campaign/preview", output = crate::api::codec::JsonText)]
pub async fn preview_campaign(definition: String) -> Result<AudiencePreview, ServerFnError> {
    use crate::api::channels::edge;
    use crate::service::search::Searcher;
    let (db, user, zone, region) = searcher_parts().await?;
    let def = self::definition(&definition)?;
    let who = Searcher {
        user_id: user,
        zone: &zone,
        region: &region,
    };
    crate::service::campaigns::preview(&db, &who, &def)
        .await
        .map_err(edge::store)
}

/// Approves a colleague's draft.
#[server(endpoint = "campaign/approve")]
pub async fn approve_campaign(id: i64) -> Result<(), ServerFnError> {
    use crate::api::channels::edge;
    use crate::domain::Permission;
    use crate::service::search::Searcher;
    use crate::ssr::auth;
    let st = auth::state()?;
    let me = auth::require(Permission::ManageCampaigns).await?;
    let zone = crate::api::zone::request_zone().name;
    let region = crate::service::identifiers::default_region();
    let who = Searcher {
        user_id: me.id,
        zone: &zone,
        region: &region,
    };
    crate::service::campaigns::approve(&st.db, &who, id)
        .await
        .map_err(edge::store)?;
    let name = crate::store::campaigns::get(&st.db, id)
        .await
        .ok()
        .flatten()
        .map(|c| c.name)
        .unwrap_or_default();
    crate::ssr::audit::record(
        &st.db,
        Some(&me),
        None,
        crate::domain::audit::AuditAction::CampaignApproved,
        format!("campaign {id} {name}").trim(),
        "",
    )
    .await;
    Ok(())
}

/// Sends an approved campaign now (`at` empty) or at `at`, a local date and time
/// (`2026-12-24T09:00`) in the agent's time zone.
#[server(endpoint = "campaign/start")]
pub async fn start_campaign(id: i64, at: Option<String>) -> Result<(), ServerFnError> {
    use crate::api::channels::edge;
    use crate::service::search::Searcher;
    use crate::ssr::auth;
    let (db, user, zone, region) = searcher_parts().await?;
    let at = match at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(local_time(text, &zone).ok_or_else(|| {
            edge::refuse(format!(
                "{text:?} is not a date and time (such as 2026-12-24T09:00)."
            ))
        })?),
    };
    let who = Searcher {
        user_id: user,
        zone: &zone,
        region: &region,
    };
    crate::service::campaigns::start(&db, &who, id, at)
        .await
        .map_err(edge::store)?;
    auth::state()?.wake.campaigns.notify_one();
    Ok(())
}

/// A local `YYYY-MM-DDTHH:MM` in `zone`, as unix ms.
#[cfg(feature = "ssr")]
fn local_time(text: &str, zone: &str) -> Option<i64> {
    let dt: jiff::civil::DateTime = text.parse().ok()?;
    let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    Some(dt.to_zoned(tz).ok()?.timestamp().as_millisecond())
}

/// `action`: pause, resume or cancel.
#[server(endpoint = "campaign/control")]
pub async fn control_campaign(id: i64, action: String) -> Result<(), ServerFnError> {
    use crate::api::channels::edge;
    use crate::ssr::auth;
    let (db, ..) = searcher_parts().await?;
    crate::service::campaigns::control(&db, id, &action)
        .await
        .map_err(edge::store)?;
    let st = auth::state()?;
    st.wake.campaigns.notify_one();
    st.wake.outbox.notify_one();
    Ok(())
}

/// A page of recipients (`state` empty: all), after recipient id `after`.
#[server(endpoint = "campaign/recipients", output = crate::api::codec::JsonText)]
pub async fn campaign_recipients(
    id: i64,
    state: Option<String>,
    after: Option<i64>,
) -> Result<RecipientPage, ServerFnError> {
    use crate::api::channels::edge;
    let (db, ..) = searcher_parts().await?;
    crate::service::campaigns::recipients(&db, id, state.as_deref(), after.unwrap_or(0))
        .await
        .map_err(edge::store)
}
