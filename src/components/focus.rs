//! Moving keyboard focus where the person's attention must go next, once the element
//! is on the page: after a step of a dialog changes, after a section re-renders.

/// Focuses the element with this id as soon as it exists (it may appear only when a
/// resource reloads), giving up after two seconds. In the browser only.
pub fn focus_when_present(id: impl Into<String>) {
    let id: String = id.into();
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        use leptos::wasm_bindgen::JsCast;
        for _ in 0..40 {
            gloo_timers::future::TimeoutFuture::new(50).await;
            let found = leptos::web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id(&id))
                .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok());
            if let Some(el) = found {
                let _ = el.focus();
                return;
            }
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

/// After a refused submit, focuses the first field marked invalid inside the element
/// `container` (a form or dialog), so the person starts where the first problem is.
pub fn focus_first_invalid(container: &'static str) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        use leptos::wasm_bindgen::JsCast;
        gloo_timers::future::TimeoutFuture::new(30).await;
        let found = leptos::web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| {
                d.query_selector(&format!("#{container} [aria-invalid=\"true\"]"))
                    .ok()
                    .flatten()
            })
            .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok());
        if let Some(el) = found {
            let _ = el.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = container;
}
