use crate::model::time::{format_ago, format_datetime, format_iso};
use leptos::prelude::*;

/// The exact time of a Unix time in the browser's own time zone ("24/11/2026,
/// 15:04:05" in its locale's style); on the server, and before the page is live, UTC.
pub fn exact_time(unix: i64) -> Signal<String> {
    let text = RwSignal::new(format_datetime(unix));
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let date = leptos::web_sys::js_sys::Date::new(&leptos::wasm_bindgen::JsValue::from_f64(
            unix as f64 * 1000.0,
        ));
        let local: String = date
            .to_locale_string("default", &leptos::wasm_bindgen::JsValue::UNDEFINED)
            .into();
        text.set(local);
    });
    text.into()
}

/// A time as words ("5 minutes ago"); hovering or focusing it shows the exact time
/// in the browser's time zone, which screen readers read with it.
#[component]
pub fn TimeAgo(at: i64, now: i64) -> impl IntoView {
    let exact = exact_time(at);
    // Escape hides the exact time until the pointer or the focus leaves (WCAG 1.4.13).
    let dismissed = RwSignal::new(false);
    view! {
        <time
            class="time-ago"
            class:time-dismissed=move || dismissed.get()
            datetime=format_iso(at)
            tabindex="0"
            on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                if ev.key() == "Escape" {
                    dismissed.set(true);
                }
            }
            on:blur=move |_| dismissed.set(false)
            on:mouseleave=move |_| dismissed.set(false)
        >
            {format_ago(at, now)}
            <span class="time-exact">" ("{exact}")"</span>
        </time>
    }
}

/// A time shown exactly, in the browser's time zone.
#[component]
pub fn ExactTime(at: i64) -> impl IntoView {
    view! { <time datetime=format_iso(at)>{exact_time(at)}</time> }
}
