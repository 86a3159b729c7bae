//! Convergence: the Leptos app (UI, server functions) and the domain code shared with the
//! browser. Server-only modules (`store`, `ssr`) are behind the `ssr` feature.
#![recursion_limit = "256"]

pub mod api;
pub mod domain;
pub mod model;
pub mod ui;

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
