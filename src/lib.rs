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
    // Debug builds print a panic's message in the console. The release build's panics
    // abort at once (scripts/leptos.sh): there is no message to print, so no hook.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    // Hydration waits for the page's lazily loaded code (see `app::App`).
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = leptos::prelude::document().body() else {
            return;
        };
        leptos::mount::hydrate_from_async(body.clone(), app::App)
            .await
            .forget();
        // Lets tests (and impatient people) know the page is interactive, and marks
        // the moment for the benchmark: time from navigation start to working controls.
        let _ = body.set_attribute("data-hydrated", "true");
        if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
            let _ = performance.mark("latchkey:hydrated");
        }
    });
}
