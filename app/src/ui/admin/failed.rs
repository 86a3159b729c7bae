//! Failed inbound events: what could not be processed, in words, with a retry button. Works
//! without JavaScript (the retry form posts and redirects back).

use crate::api::failed::{failed_events, RetryFailed};
use crate::ui::err_text;
use crate::ui::widgets::Time;
use leptos::prelude::*;

#[component]
pub fn FailedEvents() -> impl IntoView {
    let retry = ServerAction::<RetryFailed>::new();
    let list = Resource::new(move || retry.version().get(), |_| failed_events());
    view! {
        <section aria-label="Failed events" id="failed-events">
            <h2>"Failed events"</h2>
            <p class="hint">"Inbound payloads that could not be processed. Each is kept exactly as received; retry it once the cause is fixed."</p>
            {move || retry.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{err_text(&e)}</p> })}
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Err(e) => view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any(),
                        Ok(items) if items.is_empty() => view! { <p class="empty">"No failed events."</p> }.into_any(),
                        Ok(items) => view! {
                            <table class="failed">
                                <thead><tr><th>"Received"</th><th>"Account"</th><th>"Error"</th><th>"Payload"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                <tbody>
                                    {items.into_iter().map(|f| view! {
                                        <tr data-id=f.id>
                                            <td><Time ms=f.received_at/></td>
                                            <td>{f.account}" "<span class="provider">{f.provider}</span></td>
                                            <td class="error-text">{f.error}" "<span class="attempts">{format!("({} attempt{})", f.attempts, if f.attempts == 1 { "" } else { "s" })}</span></td>
                                            <td><details><summary>{format!("{} bytes", f.size)}</summary><pre>{f.preview}</pre></details></td>
                                            <td>
                                                <ActionForm action=retry attr:class="inline">
                                                    <input type="hidden" name="id" value=f.id/>
                                                    <button type="submit">"Retry"</button>
                                                </ActionForm>
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
