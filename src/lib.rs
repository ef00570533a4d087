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
}
