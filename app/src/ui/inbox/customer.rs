use crate::api::conversation::ConfirmIdentifier;
use crate::model::CustomerView;
use crate::ui::widgets::ChannelBadge;
use leptos::prelude::*;

#[component]
pub fn CustomerPanel(
    customer: CustomerView,
    /// Present when the viewer may confirm suggested identifiers.
    confirm: Option<ServerAction<ConfirmIdentifier>>,
) -> impl IntoView {
    view! {
        <aside class="customer-pane" aria-label="Customer">
            <h2>{customer.name.clone()}</h2>
            <h3>"Identifiers"</h3>
            <ul class="identifiers">
                {customer
                    .identifiers
                    .into_iter()
                    .map(|i| {
                        view! {
                            <li data-kind=i.kind.as_str() class:suggested=!i.verified>
                                <span class="kind">{i.kind.label()}</span>
                                <span class="value">{i.value}</span>
                                {i.consent.map(|c| { let out = !c.starts_with("Opted back"); view! { <span class="consent" class:opted-out=out>{c}</span> } })}
                                {(!i.verified).then(|| view! {
                                    <span class="suggested-note">"Suggested: wrote in this thread"</span>
                                    {confirm.map(|action| view! {
                                        <ActionForm action attr:class="inline">
                                            <input type="hidden" name="id" value=i.id/>
                                            <button type="submit">"Confirm"</button>
                                        </ActionForm>
                                    })}
                                })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <h3>"Channels used"</h3>
            <ul class="channels-used">
                {customer.channels_used.into_iter().map(|c| view! { <li><ChannelBadge channel=c/></li> }).collect_view()}
            </ul>
            {customer
                .preferred_channel
                .map(|c| view! { <p class="preferred">"Prefers " <ChannelBadge channel=c/></p> })}
        </aside>
    }
}
