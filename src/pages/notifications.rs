//! Settings > Notifications (seed 002, "Login Notifications: get notified of new logins:
//! new device, new location, new browser"): three switches, each saved the moment it
//! is flipped.
use crate::api::notifications::{load_notification_switches, SetNotificationSwitches};
use crate::components::Toast;
use crate::model::notifications::NotificationSwitches;
use leptos::prelude::*;
use leptos_meta::Title;

#[derive(Clone, Copy)]
enum Which {
    Device,
    Location,
    Browser,
}

impl Which {
    fn get(self, s: &NotificationSwitches) -> bool {
        match self {
            Which::Device => s.new_device,
            Which::Location => s.new_location,
            Which::Browser => s.new_browser,
        }
    }

    fn set(self, s: &mut NotificationSwitches, on: bool) {
        match self {
            Which::Device => s.new_device = on,
            Which::Location => s.new_location = on,
            Which::Browser => s.new_browser = on,
        }
    }
}

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let loaded = Resource::new(|| (), |_| load_notification_switches());
    let toast = RwSignal::new(None::<String>);
    view! {
        <Title text="Notifications · Latchkey"/>
        <h1>"Notifications"</h1>
        <p class="lead">
            "Get an email when your account is signed in to from somewhere new. Each email has a "
            "\"This wasn't me\" link that signs that session out and helps you set a new password."
        </p>
        <crate::pages::UntilHydrated>
        <section class="card" aria-labelledby="login-notifications-title">
            <h2 id="login-notifications-title">"Login notifications"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match loaded.await {
                        Err(e) => view! {
                            <div class="alert alert-error" role="alert">{format!("Your settings could not be loaded: {e}")}</div>
                            <button type="button" class="btn btn-secondary" on:click=move |_| loaded.refetch()>"Try Again"</button>
                        }.into_any(),
                        Ok(s) => view! { <Switches initial=s toast=toast/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        </crate::pages::UntilHydrated>
        <Toast message=toast/>
    }
}

#[component]
fn Switches(initial: NotificationSwitches, toast: RwSignal<Option<String>>) -> impl IntoView {
    let current = RwSignal::new(initial);
    let save = ServerAction::<SetNotificationSwitches>::new();
    // What was last saved: a refused save puts the switch back.
    let saved = RwSignal::new(initial);
    Effect::new(move |_| match save.value().get() {
        Some(Ok(s)) => {
            saved.set(s);
            current.set(s);
            toast.set(Some("Notification settings saved.".into()));
        }
        Some(Err(e)) => {
            current.set(saved.get_untracked());
            toast.set(Some(format!("Not saved: {e}")));
        }
        None => {}
    });
    let flip = move |which: Which| {
        let mut next = current.get_untracked();
        let on = which.get(&next);
        which.set(&mut next, !on);
        current.set(next);
        save.dispatch(SetNotificationSwitches {
            new_device: next.new_device,
            new_location: next.new_location,
            new_browser: next.new_browser,
        });
    };
    let row = move |which: Which, id: &'static str, label: &'static str, help: &'static str| {
        let on = move || which.get(&current.get());
        view! {
            <li class="switch-row">
                <div class="switch-text">
                    <span id=format!("{id}-label") class="switch-label">{label}</span>
                    <span id=format!("{id}-help") class="muted">{help}</span>
                </div>
                <button
                    type="button"
                    role="switch"
                    class="switch"
                    id=id
                    aria-checked=move || if on() { "true" } else { "false" }
                    aria-labelledby=format!("{id}-label")
                    aria-describedby=format!("{id}-help")
                    on:click=move |_| flip(which)
                >
                    <span class="switch-state" aria-hidden="true">{move || if on() { "On" } else { "Off" }}</span>
                </button>
            </li>
        }
    };
    view! {
        <ul class="switch-list">
            {row(Which::Device, "notify-device", "New device", "A browser or device that has not signed in to your account before.")}
            {row(Which::Location, "notify-location", "New location", "A country (or city) your account has not signed in from in the last 90 days.")}
            {row(Which::Browser, "notify-browser", "New browser", "A browser and operating system your account has not used in the last 90 days.")}
        </ul>
    }
}
