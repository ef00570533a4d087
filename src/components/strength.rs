use crate::model::password::Strength;
use leptos::prelude::*;

/// The strength bar and word under a new password. The estimate comes from the server
/// (zxcvbn stays out of the WebAssembly bundle), asked for when typing pauses.
#[component]
pub fn StrengthMeter(password: RwSignal<String>) -> impl IntoView {
    let strength = RwSignal::new(None::<Strength>);
    #[cfg(feature = "hydrate")]
    {
        let asked = StoredValue::new(0u64);
        Effect::new(move |_| {
            let candidate = password.get();
            asked.update_value(|n| *n += 1);
            let mine = asked.get_value();
            if candidate.is_empty() {
                strength.set(None);
                return;
            }
            leptos::task::spawn_local(async move {
                gloo_timers::future::TimeoutFuture::new(300).await;
                if asked.get_value() != mine {
                    return;
                }
                if let Ok(s) = crate::api::password::password_strength(candidate).await {
                    if asked.get_value() == mine {
                        strength.set(Some(s));
                    }
                }
            });
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = password;
    let score = move || strength.get().map(|s| s.0).unwrap_or(0);
    view! {
        <div class="strength">
            <div class="strength-bar" aria-hidden="true">
                <span class=move || format!("strength-fill score-{}", score()) style:width=move || {
                    strength.get().map(|s| format!("{}%", (u32::from(s.0) + 1) * 20)).unwrap_or_else(|| "0%".into())
                }></span>
            </div>
            <p class="strength-label" aria-live="polite">
                {move || strength.get().map(|s| format!("Strength: {}", s.label()))}
            </p>
        </div>
    }
}
