use crate::api::accounts::get_password_policy;
use crate::components::{PasswordChecklist, PasswordField, StrengthMeter};
use leptos::prelude::*;

/// A new password and its repetition, with the live checklist of the configured policy
/// and the strength meter (sign-up, change and reset all use this).
#[component]
pub fn NewPasswordFields(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    repeat_label: &'static str,
    repeat_name: &'static str,
    repeat: RwSignal<String>,
    #[prop(into)] repeat_error: Signal<Option<String>>,
) -> impl IntoView {
    let policy = Resource::new(|| (), |_| get_password_policy());
    view! {
        <PasswordField label=label name=name value=value error=error autocomplete="new-password" described_by="password-rules"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                policy.await.ok().map(|p| view! { <PasswordChecklist policy=p password=value id="password-rules"/> })
            })}
        </Suspense>
        <StrengthMeter password=value/>
        <PasswordField label=repeat_label name=repeat_name value=repeat error=repeat_error autocomplete="new-password"/>
    }
}
