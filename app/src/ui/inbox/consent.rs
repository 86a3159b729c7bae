//! Consent in the customer panel: for each identifier, whether support answers and marketing
//! may be sent, every change with its source, time and who, and a form to record a change.
//!
//! Placed in the customer panel; its data is part of the conversation detail, so it adds no
//! Suspense boundary of its own (a nested one broke hydration about half the time).

use crate::api::consent::RecordConsent;
use crate::domain::consent::Purpose;
use crate::domain::Permission;
use crate::model::{ConsentChange, ConsentHolds, CustomerConsent, IdentifierConsent};
use crate::ui::widgets::Time;
use crate::ui::{err_text, CurrentUser};
use leptos::prelude::*;

/// Consent of every identifier of the customer, for every role; staff allowed to
/// ([`Permission::ManageConsent`]) also get the form to record a change. The data comes with
/// the conversation (one resource, one boundary); `record` belongs to the conversation view.
#[component]
pub fn ConsentSection(
    consent: CustomerConsent,
    record: ServerAction<RecordConsent>,
) -> impl IntoView {
    let user = use_context::<CurrentUser>();
    let can_record = user
        .as_ref()
        .is_some_and(|u| u.can(Permission::ManageConsent));
    let can_support = user
        .as_ref()
        .is_some_and(|u| u.can(Permission::ManageConversations));
    let heading = format!("consent-heading-{}", consent.customer_id);
    let labelled_by = heading.clone();
    view! {
        <section class="consent-section" aria-labelledby=labelled_by>
            <h3 id=heading>"Consent"</h3>
            {consent_view(consent, can_record, can_support, record)}
        </section>
    }
}

fn consent_view(
    c: CustomerConsent,
    can_record: bool,
    can_support: bool,
    record: ServerAction<RecordConsent>,
) -> impl IntoView {
    let form =
        (can_record && !c.identifiers.is_empty()).then(|| record_form(&c, can_support, record));
    let empty = c.identifiers.is_empty();
    view! {
        {empty.then(|| view! { <p class="hint">"No identifiers: nothing to consent to yet."</p> })}
        <ul class="consent-identifiers">
            {c.identifiers.into_iter().map(identifier_view).collect_view()}
        </ul>
        {c.truncated.then(|| view! { <p class="hint">"Only the newest changes are listed."</p> })}
        {form}
    }
}

fn identifier_view(i: IdentifierConsent) -> impl IntoView {
    let n = i.history.len();
    let history = if n == 0 {
        view! { <p class="hint">"No changes recorded: the default rule applies."</p> }.into_any()
    } else {
        view! {
            <details class="consent-history">
                <summary>{format!("History ({n} change{})", if n == 1 { "" } else { "s" })}</summary>
                <ol>{i.history.into_iter().map(change_view).collect_view()}</ol>
            </details>
        }
        .into_any()
    };
    view! {
        <li class="consent-identifier" data-identifier=i.id>
            <p class="consent-who">
                <span class="kind">{i.kind.label()}</span>
                " "
                <span class="value">{i.value}</span>
            </p>
            <dl class="consent-states">
                {holds_view(Purpose::Support, i.support)}
                {holds_view(Purpose::Marketing, i.marketing)}
            </dl>
            {history}
        </li>
    }
}

fn holds_view(purpose: Purpose, h: ConsentHolds) -> impl IntoView {
    let since = h
        .since
        .map(|c| view! { " · " {c.how} " · " <Time ms=c.at/> });
    view! {
        <dt>{purpose.label()}</dt>
        <dd class="consent-state" data-purpose=purpose.as_str() data-status=h.status.as_str()>
            <strong>{h.status.label(purpose)}</strong>
            {since}
        </dd>
    }
}

fn change_view(c: ConsentChange) -> impl IntoView {
    let state = if c.granted { "granted" } else { "opted out" };
    let reason = c.reason.map(|r| format!(": “{r}”"));
    view! {
        <li data-purpose=c.purpose.as_str() data-granted=c.granted.to_string()>
            <Time ms=c.at/>
            " · "
            {format!("{} {state} · {}", c.purpose.label(), c.how)}
            {reason}
        </li>
    }
}

fn record_form(
    c: &CustomerConsent,
    can_support: bool,
    record: ServerAction<RecordConsent>,
) -> impl IntoView {
    let cid = c.customer_id;
    let id = move |what: &str| format!("consent-{what}-{cid}");
    let options = c
        .identifiers
        .iter()
        .map(|i| {
            let label = format!("{}: {}", i.kind.label(), i.value);
            view! { <option value=i.id>{label}</option> }
        })
        .collect_view();
    view! {
        <details class="consent-record">
            <summary>"Record a consent change"</summary>
            <ActionForm action=record attr:class="consent-form">
                <label for=id("identifier")>"Identifier"</label>
                <select id=id("identifier") name="identifier_id">{options}</select>
                <label for=id("purpose")>"Purpose"</label>
                <select id=id("purpose") name="purpose">
                    <option value="marketing">"Marketing"</option>
                    {can_support.then(|| view! { <option value="support">"Support answers"</option> })}
                </select>
                <label for=id("granted")>"Consent"</label>
                <select id=id("granted") name="granted">
                    <option value="no">"Opted out"</option>
                    <option value="yes">"Granted"</option>
                </select>
                <label for=id("reason")>"Reason"</label>
                <input
                    id=id("reason")
                    name="reason"
                    required
                    maxlength=crate::domain::consent::MAX_REASON_CHARS
                    placeholder="e.g. asked by phone"
                />
                <label class="check">
                    <input type="checkbox" name="all_channels" value="yes"/>
                    " Applies to all channels (a marketing opt-out for every identifier of this customer)"
                </label>
                <div class="row end">
                    {move || record.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{err_text(&e)}</p> })}
                    <button type="submit">"Record"</button>
                </div>
            </ActionForm>
        </details>
    }
}
