//! Saved views in the list's sidebar, with their counts, and the form that saves a search as
//! one. Plain links and forms: they work without JavaScript.

use crate::api::views::{get_inbox_counts, DeleteView, SaveView};
use crate::domain::text::url_encode;
use crate::domain::{Role, Status};
use crate::model::{InboxCounts, COUNT_CAP};
use crate::ui::err_text;
use leptos::prelude::*;

/// The counts and the view actions, shared by the list and the search results.
#[derive(Clone, Copy)]
pub struct ViewsCtx {
    pub counts: Resource<Result<InboxCounts, ServerFnError>>,
    pub save: ServerAction<SaveView>,
    pub delete: ServerAction<DeleteView>,
}

impl ViewsCtx {
    pub fn provide() -> ViewsCtx {
        let live = expect_context::<crate::ui::live::Live>();
        let save = ServerAction::<SaveView>::new();
        let delete = ServerAction::<DeleteView>::new();
        let counts = Resource::new(
            move || {
                (
                    live.tick.get(),
                    save.version().get(),
                    delete.version().get(),
                )
            },
            |_| get_inbox_counts(),
        );
        let ctx = ViewsCtx {
            counts,
            save,
            delete,
        };
        provide_context(ctx);
        ctx
    }
}

/// "12", "50+".
pub fn count_text(n: u32) -> String {
    if n > COUNT_CAP {
        format!("{COUNT_CAP}+")
    } else {
        n.to_string()
    }
}

/// A status tab's unread count, when there is one.
pub fn unread_of(counts: &InboxCounts, status: Status) -> Option<u32> {
    counts
        .unread
        .iter()
        .find(|(s, _)| *s == status)
        .map(|(_, n)| *n)
        .filter(|n| *n > 0)
}

/// The saved views, each a link to its search with its counts.
#[component]
pub fn ViewsNav(current: Signal<String>) -> impl IntoView {
    let ctx = expect_context::<ViewsCtx>();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let Ok(counts) = ctx.counts.await else { return ().into_any() };
                if counts.views.is_empty() {
                    return ().into_any();
                }
                let cur = current.get();
                let items = counts
                    .views
                    .into_iter()
                    .map(|v| {
                        let href = format!("/inbox?q={}", url_encode(&v.query));
                        let active = cur.trim() == v.query.trim();
                        let title = format!(
                            "{}{}: {} conversation{}, {} unread",
                            v.name,
                            if v.shared { " (shared)" } else { "" },
                            count_text(v.count),
                            if v.count == 1 { "" } else { "s" },
                            v.unread
                        );
                        let name = v.name.clone();
                        let has_unread = v.unread > 0;
                        view! {
                            <li class="view" class:active=active>
                                <a href=href aria-current=active.then_some("page") title=title.clone() aria-label=title>
                                    <span class="view-name">{v.name}</span>
                                    <span class="count" class:has-unread=has_unread>
                                        {if v.unread > 0 { format!("{} · {}", v.unread, count_text(v.count)) } else { count_text(v.count) }}
                                    </span>
                                </a>
                                {v.editable.then(|| view! {
                                    <ActionForm action=ctx.delete attr:class="inline">
                                        <input type="hidden" name="id" value=v.id/>
                                        <button type="submit" class="chip-remove" aria-label=format!("Delete the view {name}")>"×"</button>
                                    </ActionForm>
                                })}
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <nav aria-label="Saved views" class="views">
                        <ul>{items}</ul>
                        {move || ctx.delete.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{err_text(&e)}</p> })}
                    </nav>
                }
                .into_any()
            })}
        </Transition>
    }
}

/// "Save this search as a view".
#[component]
pub fn SaveViewForm(q: String) -> impl IntoView {
    let ctx = expect_context::<ViewsCtx>();
    let admin = use_context::<crate::ui::CurrentUser>().is_some_and(|u| u.0.role == Role::Admin);
    view! {
        <details class="save-view">
            <summary>"Save this search as a view"</summary>
            <ActionForm action=ctx.save attr:class="inline">
                <input type="hidden" name="query" value=q/>
                <label for="view-name">"Name"</label>
                <input id="view-name" type="text" name="name" required maxlength="60"/>
                {admin.then(|| view! {
                    <label class="check" for="view-shared">
                        <input id="view-shared" type="checkbox" name="shared" value="on"/>
                        " Shared with everyone"
                    </label>
                })}
                <button type="submit">"Save view"</button>
            </ActionForm>
            {move || match ctx.save.value().get() {
                Some(Ok(())) => Some(view! { <p class="ok" role="status">"Saved: it is in the list of views."</p> }.into_any()),
                Some(Err(e)) => Some(view! { <p class="error" role="alert">{err_text(&e)}</p> }.into_any()),
                None => None,
            }}
        </details>
    }
}
