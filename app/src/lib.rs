//! Convergence: the Leptos app (UI, server functions) and the domain code shared with the
//! browser. Server-only modules (`ports`, `service`, `store`, `ssr`) are behind the `ssr`
//! feature.
//!
//! Code flows one way: `ui` → `api` (server functions) → `service` (use cases) → `store`
//! (rows and SQL) → `domain` (pure rules and words). `model` (wire types) and `ports` (what
//! channel adapters exchange with the core) are shapes any layer above `domain` may use.
#![recursion_limit = "256"]

pub mod api;
pub mod domain;
pub mod model;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod ports;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod ssr;
#[cfg(feature = "ssr")]
pub mod store;

pub use ui::{shell, App};

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazy routes (see `ui`) are fetched by `hydrate_lazy` before the page hydrates. A
    // conversation page also renders its parts and its timeline's items, lazy functions: fetch
    // them first too, so hydration does not pause there while the live stream already changes
    // what it shows.
    let conversation = leptos::prelude::location()
        .pathname()
        .is_ok_and(|p| p.starts_with("/inbox/"));
    leptos::__reexports::wasm_bindgen_futures::spawn_local(async move {
        if conversation {
            ui::inbox::parts::__preload_conversation_parts().await;
            ui::inbox::timeline_items::__preload_timeline_items().await;
        }
        leptos::mount::hydrate_lazy(ui::App);
    });
}
