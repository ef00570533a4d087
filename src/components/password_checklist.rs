use crate::model::password::{PasswordEstimate, PasswordPolicy};
use leptos::prelude::*;

/// The live checklist under a new password: each rule ticks (✓, green) as it is met.
/// `estimate` is the server's word on the password: how strong, and whether common.
#[component]
pub fn PasswordChecklist(
    policy: PasswordPolicy,
    password: RwSignal<String>,
    #[prop(into)] estimate: Signal<Option<PasswordEstimate>>,
    id: &'static str,
) -> impl IntoView {
    view! {
        <ul class="checklist" id=id aria-label="Password requirements">
            {move || {
                policy
                    .checklist(&password.get(), estimate.get())
                    .into_iter()
                    .map(|check| {
                        let state = if check.met { "met" } else { "not met yet" };
                        view! {
                            <li class:met=check.met>
                                <span class="mark" aria-hidden="true">{if check.met { "✓" } else { "•" }}</span>
                                <span>{check.rule.label()}</span>
                                <span class="sr-only">{format!(" ({state})")}</span>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
    }
}
