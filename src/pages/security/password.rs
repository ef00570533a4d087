//! The Password section: last change, rotation reminder, and the Change Password dialog.
use crate::api::password::{change_password, get_password_overview};
use crate::components::{
    focus_first_invalid, Dialog, FormAlert, NewPasswordFields, PasswordField, SubmitButton, Toast,
};
use crate::model::time::format_date;
use crate::pages::{field_error, general_error};
use leptos::prelude::*;

#[component]
pub fn PasswordSection() -> impl IntoView {
    let overview = Resource::new(|| (), |_| get_password_overview());
    let open = RwSignal::new(false);
    let toast = RwSignal::new(None::<String>);
    let account_changed = use_context::<super::AccountChanged>();
    let on_changed = Callback::new(move |_: ()| {
        overview.refetch();
        if let Some(c) = account_changed {
            c.0.update(|n| *n += 1);
        }
        toast.set(Some(
            "Password changed. Every other device has been signed out.".into(),
        ));
    });
    view! {
        <section class="card section" aria-labelledby="password-title">
            <div class="section-text">
                <h2 id="password-title">"Password"</h2>
                <p class="muted">"Use a long password that you use nowhere else. Changing it signs you out on every other device."</p>
                <Suspense fallback=|| view! { <p class="section-state muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match overview.await {
                        Err(e) => view! {
                            <div class="alert alert-error" role="alert">{format!("This section could not be loaded: {e}")}</div>
                            <button type="button" class="btn btn-secondary" on:click=move |_| overview.refetch()>"Try Again"</button>
                        }.into_any(),
                        Ok(o) => {
                            let changed = match o.changed_at {
                                Some(at) => format!("Last changed on {}", format_date(at)),
                                None => "Never changed".to_string(),
                            };
                            let months = (o.reminder_days as f64 / 30.4).round() as i64;
                            view! {
                                <p class="section-state">{changed}</p>
                                {o.rotation_due.then(|| view! {
                                    <p class="notice notice-warning">
                                        {format!(
                                            "Your password is more than {} old. We recommend changing it every {}.",
                                            plural(months, "month"),
                                            plural(months, "month"),
                                        )}
                                    </p>
                                })}
                            }.into_any()
                        }
                        }
                    })}
                </Suspense>
                <button type="button" class="btn btn-secondary" on:click=move |_| open.set(true)>
                    "Change Password"
                </button>
            </div>
        </section>
        <Dialog open=open title="Change Password" id="change-password">
            <ChangePasswordForm open=open on_changed=on_changed/>
        </Dialog>
        <Toast message=toast/>
    }
}

fn plural(n: i64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[component]
fn ChangePasswordForm(open: RwSignal<bool>, on_changed: Callback<()>) -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let action = Action::new(|(c, n, r): &(String, String, String)| {
        let (c, n, r) = (c.clone(), n.clone(), r.clone());
        async move { change_password(c, n, r).await }
    });
    let value = action.value();
    Effect::new(move |_| match value.get() {
        Some(Ok(_)) => {
            open.set(false);
            on_changed.run(());
        }
        // Every problem is shown at once; the focus goes to the first field in error.
        Some(Err(_)) => focus_first_invalid("change-password"),
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch((
            current.get_untracked(),
            new.get_untracked(),
            repeat.get_untracked(),
        ));
    };
    view! {
        <form class="dialog-body" on:submit=on_submit novalidate>
            <FormAlert message=general_error(value)/>
            <PasswordField label="Current Password" name="current_password" value=current error=field_error(value, "current_password")/>
            <NewPasswordFields
                label="New Password" name="new_password" value=new error=field_error(value, "new_password")
                repeat_label="Repeat New Password" repeat_name="new_password_repeat" repeat=repeat
                repeat_error=field_error(value, "new_password_repeat")
            />
            <div class="dialog-actions">
                <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                <SubmitButton label="Save" pending=action.pending()/>
            </div>
        </form>
    }
}
