use leptos::prelude::*;

/// A button that copies `text` to the clipboard, says whether that worked, and goes
/// back to its label after a few seconds ("Copy Key", "Copy").
#[component]
pub fn CopyButton(
    text: String,
    label: &'static str,
    copied: &'static str,
    failed: &'static str,
) -> impl IntoView {
    let outcome = RwSignal::new(None::<bool>);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let text = text.clone();
            leptos::task::spawn_local(async move {
                let done = match leptos::web_sys::window() {
                    Some(w) => wasm_bindgen_futures::JsFuture::from(
                        w.navigator().clipboard().write_text(&text),
                    )
                    .await
                    .is_ok(),
                    None => false,
                };
                // The dialog may be closed by then (its values disposed).
                if outcome.try_set(Some(done)).is_some() {
                    return;
                }
                gloo_timers::future::TimeoutFuture::new(4000).await;
                let _ = outcome.try_set(None);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &text;
    };
    view! {
        <div class="copy">
            <button type="button" class="btn btn-secondary btn-small" on:click=copy>{label}</button>
            <span class="copy-status" role="status">
                {move || match outcome.get() {
                    Some(true) => copied,
                    Some(false) => failed,
                    None => "",
                }}
            </span>
        </div>
    }
}
