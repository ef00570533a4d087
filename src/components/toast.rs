use leptos::prelude::*;

/// A short success message at the bottom of the screen ("Password changed"); it fades
/// after a few seconds.
#[component]
pub fn Toast(message: RwSignal<Option<String>>) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(shown) = message.get() {
            leptos::task::spawn_local(async move {
                // The page that showed it may be gone by now (its values disposed).
                gloo_timers::future::TimeoutFuture::new(5000).await;
                if message.try_get_untracked().flatten().as_deref() == Some(shown.as_str()) {
                    let _ = message.try_set(None);
                }
            });
        }
    });
    view! {
        <div class="toast-slot" role="status" aria-live="polite">
            {move || message.get().map(|m| view! { <div class="toast">{m}</div> })}
        </div>
    }
}
