use crate::api::accounts::get_password_policy;
use crate::components::{PasswordChecklist, PasswordField, StrengthMeter};
use crate::model::password::PasswordEstimate;
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
    let estimate = server_estimate(value);
    // The answer counts only for the password it was given for.
    let current = Signal::derive(move || {
        estimate
            .get()
            .filter(|(for_password, _)| *for_password == value.get())
            .map(|(_, e)| e)
    });
    let strength = Signal::derive(move || current.get().map(|e| e.strength));
    view! {
        <PasswordField label=label name=name value=value error=error autocomplete="new-password" described_by="password-rules"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                policy.await.ok().map(|p| view! { <PasswordChecklist policy=p password=value estimate=current id="password-rules"/> })
            })}
        </Suspense>
        <StrengthMeter strength=strength/>
        <PasswordField label=repeat_label name=repeat_name value=repeat error=repeat_error autocomplete="new-password"/>
    }
}

/// Asks the server for the strength of the typed password, and whether it is a common
/// one, once typing pauses for 300 ms (zxcvbn and the list stay out of the bundle).
fn server_estimate(password: RwSignal<String>) -> RwSignal<Option<(String, PasswordEstimate)>> {
    let estimate = RwSignal::new(None::<(String, PasswordEstimate)>);
    #[cfg(feature = "hydrate")]
    {
        let asked = StoredValue::new(0u64);
        Effect::new(move |_| {
            let candidate = password.get();
            asked.update_value(|n| *n += 1);
            let mine = asked.get_value();
            if candidate.is_empty() {
                estimate.set(None);
                return;
            }
            leptos::task::spawn_local(async move {
                // The form may be gone by now (a submit that succeeded replaces it):
                // its values are disposed then, and reading them would panic.
                gloo_timers::future::TimeoutFuture::new(300).await;
                if asked.try_get_value() != Some(mine) {
                    return;
                }
                if let Ok(e) = crate::api::password::password_strength(candidate.clone()).await {
                    if asked.try_get_value() == Some(mine) {
                        let _ = estimate.try_set(Some((candidate, e)));
                    }
                }
            });
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = password;
    estimate
}
