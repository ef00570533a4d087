use crate::model::password::PasswordPolicy;
use leptos::prelude::*;

/// The live checklist under a new password: each rule ticks (✓, green) as it is met.
/// `common` is the server's word on whether the password is a common one.
#[component]
pub fn PasswordChecklist(
    policy: PasswordPolicy,
    password: RwSignal<String>,
    #[prop(into)] common: Signal<Option<bool>>,
    id: &'static str,
) -> impl IntoView {
    view! {
        <ul class="checklist" id=id aria-label="Password requirements">
            {move || {
                policy
                    .checklist(&password.get(), common.get())
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
