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
    leptos::mount::hydrate_body(ui::App);
}
