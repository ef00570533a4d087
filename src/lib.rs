#![recursion_limit = "256"]
//! Latchkey: the account-security centre of a customer area.
//!
//! Layers: `app`, `components`, `pages` (UI, both sides) · `api` (server functions) ·
//! `model` (types and rules both sides compile) · `server` (ssr only: settings,
//! domain rules, store, delivery, HTTP).
pub mod api;
pub mod app;
pub mod components;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Read by the browser tests and the benchmark: the time from navigation start
    // until the page was hydrated and its controls answered.
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark("latchkey:hydrated");
    }
}
