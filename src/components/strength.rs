use crate::model::password::Strength;
use leptos::prelude::*;

/// The strength bar and word under a new password. The estimate comes from the server
/// (see `NewPasswordFields`); `None` while nothing is typed or the answer is coming.
#[component]
pub fn StrengthMeter(#[prop(into)] strength: Signal<Option<Strength>>) -> impl IntoView {
    view! {
        <div class="strength">
            <div class="strength-bar" aria-hidden="true">
                // Widths come from the stylesheet: the page's Content-Security-Policy
                // allows no inline style.
                <span class=move || match strength.get() {
                    Some(s) => format!("strength-fill score-{}", s.0.min(4)),
                    None => "strength-fill score-none".to_string(),
                }></span>
            </div>
            <p class="strength-label" aria-live="polite">
                {move || strength.get().map(|s| format!("Strength: {}", s.label()))}
            </p>
        </div>
    }
}
