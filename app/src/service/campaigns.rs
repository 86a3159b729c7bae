//! Campaigns as marketing works on them: draft, preview the audience, approve (someone else),
//! send now or at a time, pause, resume, cancel; the report and the recipient list. Who may
//! do it is checked by the caller (`Permission::ManageCampaigns`); who may approve is checked
//! here (never the author).

use super::campaign_send::{self, definition_of, readers};
use super::search::{self, Searcher};
use crate::domain::campaign::{check_approver, check_schedule, Definition, Status};
use crate::domain::campaign_rules::{pick, SkipReason};
use crate::domain::ChannelKind;
use crate::model::{
    AudiencePreview, CampaignChoices, CampaignDetail, CampaignItem, CampaignReport, PreviewRow,
    RecipientItem, RecipientPage, ReportRow,
};
use crate::store::campaign_audience as audience;
use crate::store::campaigns::{self, CampaignRow};
use crate::store::{labels, now_ms, users, views, Db, Result, StoreError};
use std::collections::{BTreeMap, HashSet};

/// Customers shown in the preview's sample.
pub const SAMPLE: usize = 20;
/// Most customers a saved view can bring into an audience (its search is paged).
pub const VIEW_CAP: usize = 5_000;
/// Recipients per page of the list.
pub const RECIPIENT_PAGE: i64 = 50;

fn invalid(words: impl Into<String>) -> StoreError {
    StoreError::Invalid(words.into())
}

fn status(c: &CampaignRow) -> Status {
    Status::parse(&c.status).unwrap_or(Status::Draft)
}

async fn get(db: &Db, id: i64) -> Result<CampaignRow> {
    campaigns::get(db, id).await?.ok_or(StoreError::NotFound)
}

/// Saves a new draft; returns its id. A draft may have problems (they are listed on its page
/// and stop its approval), but not a name that is blank.
pub async fn create(db: &Db, author: i64, name: &str, def: &Definition) -> Result<i64> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid("Give the campaign a name."));
    }
    let json = serde_json::to_string(def).map_err(|e| invalid(e.to_string()))?;
    campaigns::insert(db, name, &json, author).await
}

/// Changes a draft (or an approved campaign, which goes back to draft: what was approved is
/// no longer what would be sent).
pub async fn update(db: &Db, id: i64, name: &str, def: &Definition) -> Result<()> {
    let c = get(db, id).await?;
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid("Give the campaign a name."));
    }
    if !status(&c).editable() {
        return Err(invalid(format!(
            "A campaign that is {} cannot be changed; cancel it and start a new one.",
            status(&c).label().to_lowercase()
        )));
    }
    let json = serde_json::to_string(def).map_err(|e| invalid(e.to_string()))?;
    if !campaigns::update(db, id, name, &json).await? {
        return Err(invalid("The campaign changed meanwhile: reload it."));
    }
    Ok(())
}

/// Customers of the conversations `view_id`'s search finds (at most [`VIEW_CAP`]), and
/// whether it found more.
async fn view_customers(db: &Db, who: &Searcher<'_>, view_id: i64) -> Result<(HashSet<i64>, bool)> {
    let view = views::get(db, view_id).await?;
    if view.owner_id.is_some_and(|o| o != who.user_id) {
        return Err(StoreError::NotFound);
    }
    let mut conversations: Vec<i64> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut more = false;
    loop {
        let page = search::search(db, who, &view.query, cursor.as_deref()).await?;
        conversations.extend(page.items.iter().map(|r| r.conversation.id));
        if conversations.len() >= VIEW_CAP {
            more = page.next.is_some();
            break;
        }
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    conversations.truncate(VIEW_CAP);
    let set = audience::customers_of_conversations(db, &conversations)
        .await?
        .into_iter()
        .collect();
    Ok((set, more))
}

/// The customers a saved view limits the audience to, when it names one.
pub async fn only(
    db: &Db,
    who: &Searcher<'_>,
    def: &Definition,
) -> Result<Option<(HashSet<i64>, bool)>> {
    match def.audience.view_id {
        Some(v) => Ok(Some(view_customers(db, who, v).await?)),
        None => Ok(None),
    }
}

/// Who `def`'s first step would reach now: every matching customer read in pages, counted
/// by the channel it would go on or the reason it would be skipped, with a sample.
pub async fn preview(db: &Db, who: &Searcher<'_>, def: &Definition) -> Result<AudiencePreview> {
    let now = now_ms();
    let label = match def.audience.label_id {
        Some(id) => labels::all(db)
            .await?
            .into_iter()
            .find(|l| l.id == id)
            .map(|l| l.name),
        None => None,
    };
    let view = match def.audience.view_id {
        Some(id) => Some(views::get(db, id).await?.name),
        None => None,
    };
    let mut out = AudiencePreview {
        words: def.audience.words(label.as_deref(), view.as_deref()),
        ..AudiencePreview::default()
    };
    let Some(step) = def.steps.first() else {
        return Ok(out);
    };
    let only = only(db, who, def).await?;
    if let Some((_, true)) = &only {
        out.notice = Some(format!(
            "The saved view finds more conversations than a campaign takes from a view: its newest {VIEW_CAP} are used."
        ));
    }
    let mut reach: BTreeMap<ChannelKind, i64> = BTreeMap::new();
    let mut skipped: BTreeMap<SkipReason, i64> = BTreeMap::new();
    let mut after = 0;
    loop {
        let rows = audience::page(db, &def.audience, def.topic, after, 2_000, now).await?;
        let Some(last) = rows.last() else { break };
        after = last.customer_id;
        for r in readers(rows) {
            if only
                .as_ref()
                .is_some_and(|(set, _)| !set.contains(&r.customer_id))
            {
                continue;
            }
            out.total += 1;
            let p = pick(def.topic, &def.strategy, step, &r.person, &[], now);
            let row = match &p {
                Ok(p) => {
                    *reach.entry(p.channel).or_default() += 1;
                    PreviewRow {
                        customer_id: r.customer_id,
                        name: r.name.clone(),
                        channel: Some(p.channel),
                        identifier: r.labels.get(&p.identifier_id).cloned(),
                        skip: None,
                        why: None,
                    }
                }
                Err(s) => {
                    *skipped.entry(s.reason).or_default() += 1;
                    PreviewRow {
                        customer_id: r.customer_id,
                        name: r.name.clone(),
                        channel: None,
                        identifier: None,
                        skip: Some(s.reason),
                        why: Some(s.words.clone()),
                    }
                }
            };
            if out.sample.len() < SAMPLE {
                out.sample.push(row);
            }
        }
    }
    out.reach = reach.into_iter().collect();
    out.skipped = skipped.into_iter().collect();
    Ok(out)
}

/// Refuses, in words, a campaign that would reach nobody.
fn check_reach(p: &AudiencePreview) -> Result<()> {
    if p.total == 0 {
        return Err(invalid(format!(
            "The audience is empty: no customer matches {}. Change the audience.",
            p.words
        )));
    }
    if p.reachable() == 0 {
        let why: Vec<String> = p
            .skipped
            .iter()
            .map(|(r, n)| format!("{n} {}", r.label().to_lowercase()))
            .collect();
        return Err(invalid(format!(
            "None of the {} customers can be reached by the first step ({}).",
            p.total,
            why.join(", ")
        )));
    }
    Ok(())
}

/// Approves a draft. Refused to its author, to a draft with problems, and to one that would
/// reach nobody.
pub async fn approve(db: &Db, who: &Searcher<'_>, id: i64) -> Result<()> {
    let c = get(db, id).await?;
    check_approver(c.created_by, who.user_id).map_err(invalid)?;
    if status(&c) != Status::Draft {
        return Err(invalid(format!(
            "Only a draft can be approved; this campaign is {}.",
            status(&c).label().to_lowercase()
        )));
    }
    let def = definition_of(&c)?;
    let problems = def.problems(&c.name);
    if !problems.is_empty() {
        return Err(invalid(problems.join(" ")));
    }
    check_reach(&preview(db, who, &def).await?)?;
    if !campaigns::approve(db, id, who.user_id).await? {
        return Err(invalid("The campaign changed meanwhile: reload it."));
    }
    Ok(())
}

/// Sends an approved campaign now, or schedules it for `at`.
pub async fn start(db: &Db, who: &Searcher<'_>, id: i64, at: Option<i64>) -> Result<()> {
    let c = get(db, id).await?;
    if status(&c) != Status::Approved {
        return Err(invalid(match status(&c) {
            Status::Draft => {
                "A campaign is approved by a colleague before it can be sent.".to_string()
            }
            s => format!("This campaign is {} already.", s.label().to_lowercase()),
        }));
    }
    let now = now_ms();
    if let Some(at) = at {
        check_schedule(at, now).map_err(invalid)?;
    }
    let def = definition_of(&c)?;
    let problems = def.problems(&c.name);
    if !problems.is_empty() {
        return Err(invalid(problems.join(" ")));
    }
    check_reach(&preview(db, who, &def).await?)?;
    let scheduled = at.is_some_and(|t| t > now);
    if !campaigns::start(db, id, at.unwrap_or(now).max(now), scheduled).await? {
        return Err(invalid("The campaign changed meanwhile: reload it."));
    }
    Ok(())
}

/// Pause, resume or cancel.
pub async fn control(db: &Db, id: i64, action: &str) -> Result<()> {
    let c = get(db, id).await?;
    let s = status(&c);
    let ok = match action {
        "pause" => campaigns::transition(db, id, &["sending", "scheduled"], "paused").await?,
        "resume" => {
            // A campaign paused before its time goes back to waiting for it.
            let to = if c.planned_step < 0 && c.step_due_at.is_some_and(|t| t > now_ms()) {
                "scheduled"
            } else {
                "sending"
            };
            campaigns::transition(db, id, &["paused"], to).await?
        }
        "cancel" => {
            let ok = campaigns::transition(
                db,
                id,
                &["draft", "approved", "scheduled", "sending", "paused"],
                "cancelled",
            )
            .await?;
            if ok {
                campaigns::cancel_pending(db, id).await?;
            }
            ok
        }
        // The next step starts now instead of after its wait.
        "next_now" => campaigns::start_step_now(db, id, now_ms()).await?,
        _ => return Err(invalid("Unknown action.")),
    };
    if !ok {
        return Err(invalid(format!(
            "A campaign that is {} cannot be {}.",
            s.label().to_lowercase(),
            match action {
                "pause" => "paused",
                "resume" => "resumed",
                "next_now" => "moved on to its next step (no step is waiting)",
                _ => "cancelled",
            }
        )));
    }
    Ok(())
}

/// The campaigns, newest first.
pub async fn list(db: &Db) -> Result<Vec<CampaignItem>> {
    let rows = campaigns::list(db, 200).await?;
    let names: BTreeMap<i64, String> = users::list(db)
        .await?
        .into_iter()
        .map(|(u, _, _)| (u.id, u.name))
        .collect();
    Ok(rows
        .into_iter()
        .map(|c| CampaignItem {
            id: c.id,
            name: c.name.clone(),
            status: status(&c),
            topic: definition_of(&c)
                .map(|d| d.topic)
                .unwrap_or(crate::domain::consent::Purpose::Marketing),
            author: names.get(&c.created_by).cloned().unwrap_or_default(),
            created_at: c.created_at,
            started_at: c.started_at,
            scheduled_at: c.scheduled_at,
        })
        .collect())
}

/// What the campaign did, per step and channel.
pub async fn report(db: &Db, c: &CampaignRow, def: &Definition) -> Result<CampaignReport> {
    let mut rows: BTreeMap<(i64, Option<ChannelKind>), ReportRow> = BTreeMap::new();
    let mut pending: BTreeMap<i64, i64> = BTreeMap::new();
    let mut skipped: BTreeMap<(i64, SkipReason), i64> = BTreeMap::new();
    let mut out = CampaignReport::default();
    for t in audience::tally(db, c.id).await? {
        let channel = t.channel.as_deref().and_then(ChannelKind::parse);
        match t.state.as_str() {
            "planned" | "waiting" => *pending.entry(t.step).or_default() += t.n,
            "skipped" | "opted_out" if channel.is_none() => {
                let reason = t
                    .skip
                    .as_deref()
                    .and_then(SkipReason::parse)
                    .unwrap_or(SkipReason::NoIdentifier);
                *skipped.entry((t.step, reason)).or_default() += t.n;
            }
            "cancelled" => out.cancelled += t.n,
            state => {
                let row = rows.entry((t.step, channel)).or_insert_with(|| ReportRow {
                    step: t.step,
                    channel,
                    ..ReportRow::default()
                });
                if channel.is_some() {
                    row.sent += t.n;
                }
                if t.delivered != 0 {
                    row.delivered += t.n;
                }
                match state {
                    "failed" => row.failed += t.n,
                    "replied" => {
                        row.replied += t.n;
                        out.replies += t.n;
                    }
                    _ => {}
                }
                if t.fell_back != 0 {
                    row.fell_back += t.n;
                }
            }
        }
    }
    out.rows = rows.into_values().collect();
    out.pending = pending.into_iter().collect();
    out.skipped = skipped.into_iter().map(|((s, r), n)| (s, r, n)).collect();
    out.opt_outs = audience::opt_outs(db, c.id, def.topic).await?;
    Ok(out)
}

/// A campaign's page, for `viewer`.
pub async fn detail(db: &Db, viewer: i64, id: i64) -> Result<CampaignDetail> {
    let c = get(db, id).await?;
    let def = definition_of(&c)?;
    let name_of = |id: Option<i64>| async move {
        match id {
            Some(id) => users::get(db, id).await.map(|u| u.map(|u| u.name)),
            None => Ok(None),
        }
    };
    let author = name_of(Some(c.created_by)).await?.unwrap_or_default();
    let approver = name_of(c.approved_by).await?;
    let problems = def.problems(&c.name);
    let report = report(db, &c, &def).await?;
    Ok(CampaignDetail {
        id: c.id,
        name: c.name.clone(),
        status: status(&c),
        can_approve: status(&c) == Status::Draft && c.created_by != viewer && problems.is_empty(),
        definition: def,
        author_id: c.created_by,
        author,
        approver,
        approved_at: c.approved_at,
        scheduled_at: c.scheduled_at,
        started_at: c.started_at,
        finished_at: c.finished_at,
        step: c.step,
        step_waits_until: c
            .step_due_at
            .filter(|_| status(&c) == Status::Sending && c.planned_step < c.step),
        problems,
        report,
    })
}

/// A page of `id`'s recipients, optionally of one state.
pub async fn recipients(
    db: &Db,
    id: i64,
    state: Option<&str>,
    after: i64,
) -> Result<RecipientPage> {
    let c = get(db, id).await?;
    let topic = definition_of(&c)?.topic;
    let state = state.filter(|s| !s.is_empty());
    if let Some(s) = state {
        if crate::model::campaigns::state_label(s) == "Unknown" {
            return Err(invalid(format!("{s:?} is not a recipient state.")));
        }
    }
    let rows = audience::recipients(db, id, topic, state, after, RECIPIENT_PAGE + 1).await?;
    let more = rows.len() as i64 > RECIPIENT_PAGE;
    let items: Vec<RecipientItem> = rows
        .into_iter()
        .take(RECIPIENT_PAGE as usize)
        .map(|r| RecipientItem {
            id: r.id,
            step: r.step,
            customer_id: r.customer_id,
            name: r.name,
            conversation_id: r.conversation_id,
            waiting_until: (r.state == "waiting" && r.opted_out_after == 0).then_some(r.due_at),
            state: if r.opted_out_after != 0 {
                "opted_out".into()
            } else {
                r.state
            },
            reason: r.reason,
            channel: r.channel.as_deref().and_then(ChannelKind::parse),
            fell_back_from: r.tried.split(',').filter_map(ChannelKind::parse).collect(),
            sent_at: r.sent_at,
        })
        .collect();
    let next = if more {
        items.last().map(|i| i.id)
    } else {
        None
    };
    Ok(RecipientPage { items, next })
}

/// Labels and saved views `user_id` may build an audience from.
pub async fn choices(db: &Db, user_id: i64) -> Result<CampaignChoices> {
    Ok(CampaignChoices {
        labels: labels::all(db)
            .await?
            .into_iter()
            .map(|l| (l.id, l.name))
            .collect(),
        views: views::visible(db, user_id)
            .await?
            .into_iter()
            .map(|v| (v.id, v.name))
            .collect(),
    })
}

/// What one worker tick did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tick {
    pub planned: u64,
    pub queued: usize,
    pub waiting: usize,
    pub skipped: usize,
    pub followed: usize,
}

impl Tick {
    pub fn is_idle(&self) -> bool {
        *self == Tick::default()
    }
}

/// One round of the campaign worker over every active campaign: plan a due step, send due
/// recipients (at most `batches` batches each), follow sent messages, end finished steps.
/// Safe to run in several processes at once.
pub async fn tick(
    db: &Db,
    region: &str,
    links: campaign_send::Links<'_>,
    now: i64,
    batches: usize,
) -> Result<Tick> {
    let mut t = Tick::default();
    for c in campaigns::active(db, now).await? {
        if c.status == "sending" {
            // What became of sent messages, whatever step they belong to.
            t.followed += campaign_send::follow(db, &c, now).await?;
        }
        if c.planned_step < c.step && c.step_due_at.is_some_and(|d| d <= now) {
            let def = definition_of(&c)?;
            let who = Searcher {
                user_id: c.created_by,
                zone: "UTC",
                region,
            };
            // A saved view deleted since approval limits the audience to nobody.
            let only = match only(db, &who, &def).await {
                Ok(o) => o.map(|(set, _)| set),
                Err(StoreError::NotFound) => Some(HashSet::new()),
                Err(e) => return Err(e),
            };
            t.planned += campaign_send::plan(db, &c, now, only.as_ref()).await?;
            continue;
        }
        if c.status != "sending" || c.planned_step < c.step {
            continue;
        }
        for _ in 0..batches {
            let (claimed, sent) = campaign_send::send_batch(db, &c, links, now).await?;
            t.queued += sent.queued;
            t.waiting += sent.waiting;
            t.skipped += sent.skipped;
            if claimed < campaign_send::SEND_BATCH as usize {
                break;
            }
        }
        campaign_send::finish_step(db, &c, now).await?;
    }
    Ok(t)
}
