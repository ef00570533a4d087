use crate::model::password::Strength;
use leptos::prelude::*;

/// The strength bar and word under a new password. The estimate comes from the server
/// (see `NewPasswordFields`); `None` while nothing is typed or the answer is coming.
#[component]
pub fn StrengthMeter(#[prop(into)] strength: Signal<Option<Strength>>) -> impl IntoView {
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
