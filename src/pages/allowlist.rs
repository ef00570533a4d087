//! Settings > IP allowlist (seed 002, "Advanced Security: IP Allowlist: enable IP
//! allowlist, add allowed IPs/ranges, save configuration"). The list is edited on the
//! page and saved whole with "Save configuration"; the server checks every entry and
//! saves nothing until all are valid, asks for a recent proof of identity, and refuses
//! a list that leaves out this browser's address unless the owner ticks that they
//! understand.
use crate::api::allowlist::{load_allowlist, save_allowlist, test_allowlist_address};
use crate::components::{FormAlert, SubmitButton, TextField, Toast};
use crate::model::allowlist::{AddressTest, AllowEntry, AllowlistView};
use crate::pages::proof::{proof, proof_asked, ProofField};
use crate::pages::{field_error, general_error};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AllowlistPage() -> impl IntoView {
    let loaded = Resource::new(|| (), |_| load_allowlist());
    let toast = RwSignal::new(None::<String>);
    view! {
        <Title text="IP allowlist · Latchkey"/>
        <h1>"IP allowlist"</h1>
        <p class="lead">
            "Let your account be used only from addresses you know: your office, your VPN, your home. "
            "With the allowlist on, signing in, using a session and calling the API from any other address is refused. "
            "If you are ever locked out, resetting your password by email turns the allowlist off."
        </p>
        <crate::pages::UntilHydrated>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match loaded.await {
                        Err(e) => view! {
                            <div class="alert alert-error" role="alert">{format!("Your allowlist could not be loaded: {e}")}</div>
                            <button type="button" class="btn btn-secondary" on:click=move |_| loaded.refetch()>"Try Again"</button>
                        }.into_any(),
                        Ok(v) => view! { <Editor saved=v toast=toast/> <TestAddress/> }.into_any(),
                    }
                })}
            </Transition>
        </crate::pages::UntilHydrated>
        <Toast message=toast/>
    }
}

#[component]
fn Editor(saved: AllowlistView, toast: RwSignal<Option<String>>) -> impl IntoView {
    let here = saved.here.clone();
    let max = saved.max_entries;
    let enabled = RwSignal::new(saved.enabled);
    let entries = RwSignal::new(saved.entries.clone());
    let understood = RwSignal::new(false);
    let new_value = RwSignal::new(String::new());
    let new_note = RwSignal::new(String::new());
    let add_error = RwSignal::new(None::<String>);
    let action = Action::new(
        |(enabled, entries, understood, password): &(
            bool,
            Vec<AllowEntry>,
            bool,
            Option<String>,
        )| { save_allowlist(*enabled, entries.clone(), *understood, password.clone()) },
    );
    let value = action.value();
    let (password, asked) = proof_asked(value);
    // The self-lockout guard: shown once the server said this list would sign the
    // owner out here.
    let guard_shown = RwSignal::new(false);
    Effect::new(move |_| match value.get() {
        Some(Ok(v)) => {
            enabled.set(v.enabled);
            entries.set(v.entries);
            understood.set(false);
            guard_shown.set(false);
            toast.set(Some("IP allowlist saved.".into()));
        }
        Some(Err(e)) if e.for_field("understood").is_some() => guard_shown.set(true),
        _ => {}
    });
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let v = new_value.get_untracked().trim().to_string();
        if v.is_empty() {
            add_error.set(Some(
                "Enter an IP address or a range such as 203.0.113.0/24.".into(),
            ));
            return;
        }
        if entries.with_untracked(|e| e.len()) >= max {
            add_error.set(Some(format!("At most {max} entries.")));
            return;
        }
        add_error.set(None);
        entries.update(|e| {
            e.push(AllowEntry {
                value: v,
                note: new_note.get_untracked().trim().to_string(),
            })
        });
        new_value.set(String::new());
        new_note.set(String::new());
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch((
            enabled.get_untracked(),
            entries.get_untracked(),
            understood.get_untracked(),
            proof(password, asked),
        ));
    };
    let here_for_view = here.clone();
    view! {
        <section class="card" aria-labelledby="allowlist-title">
            <h2 id="allowlist-title">"Allowed addresses"</h2>
            <p class="muted">"This browser's address, as Latchkey sees it: " <span class="mono">{here_for_view}</span></p>
            <div class="switch-row">
                <div class="switch-text">
                    <span id="allowlist-switch-label" class="switch-label">"Enable IP allowlist"</span>
                    <span id="allowlist-switch-help" class="muted">"Saved with \"Save configuration\"."</span>
                </div>
                <button type="button" role="switch" class="switch" id="allowlist-switch"
                    aria-checked=move || if enabled.get() { "true" } else { "false" }
                    aria-labelledby="allowlist-switch-label" aria-describedby="allowlist-switch-help"
                    on:click=move |_| enabled.update(|e| *e = !*e)>
                    <span class="switch-state" aria-hidden="true">{move || if enabled.get() { "On" } else { "Off" }}</span>
                </button>
            </div>
            {move || {
                let list = entries.get();
                if list.is_empty() {
                    view! { <p class="muted empty">"No addresses yet. Add the ones you use before you turn the allowlist on."</p> }.into_any()
                } else {
                    view! {
                        <ul class="session-list" aria-label="Allowed addresses">
                            {list.into_iter().enumerate().map(|(i, e)| {
                                let label = format!("Remove {}", e.value);
                                view! {
                                    <li class="session">
                                        <div class="session-text">
                                            <span class="mono">{e.value.clone()}</span>
                                            {(!e.note.is_empty()).then(|| view! { <span class="muted">{e.note.clone()}</span> })}
                                        </div>
                                        <button type="button" class="btn btn-secondary btn-small" aria-label=label
                                            on:click=move |_| entries.update(|l| { if i < l.len() { l.remove(i); } })>"Remove"</button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }
            }}
            <p class="muted">{move || format!("{} of {max} entries.", entries.with(|e| e.len()))}</p>
            <form class="inline-form" on:submit=add novalidate>
                <TextField label="IP address or range" name="allow_value" value=new_value error=Signal::derive(move || add_error.get())/>
                <TextField label="Note" name="allow_note" value=new_note error=Signal::derive(|| None::<String>)/>
                <button type="submit" class="btn btn-secondary">"Add"</button>
            </form>
            <form on:submit=save novalidate>
                <FormAlert message=general_error(value)/>
                {move || field_error(value, "entries").get().map(|m| view! {
                    <div class="alert alert-error" role="alert" id="allowlist-entries-error">{m}</div>
                })}
                <Show when=move || guard_shown.get()>
                    <div class="alert alert-warning" role="alert">{move || field_error(value, "understood").get()}</div>
                    <div class="field field-check">
                        <input type="checkbox" id="allowlist-understood" prop:checked=move || understood.get()
                            on:change=move |ev| understood.set(event_target_checked(&ev))/>
                        <label for="allowlist-understood">"I understand this will sign me out here"</label>
                    </div>
                </Show>
                <ProofField password=password asked=asked error=field_error(value, "password")/>
                <SubmitButton label="Save configuration" pending=action.pending()/>
            </form>
        </section>
    }
}

#[component]
fn TestAddress() -> impl IntoView {
    let address = RwSignal::new(String::new());
    let action = Action::new(|a: &String| test_allowlist_address(a.clone()));
    let value = action.value();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(address.get_untracked());
    };
    view! {
        <section class="card" aria-labelledby="test-address-title">
            <h2 id="test-address-title">"Test an address"</h2>
            <p class="muted">"Whether the saved allowlist would let an address in."</p>
            <form class="inline-form" on:submit=submit novalidate>
                <TextField label="Address to test" name="test_address" value=address error=field_error(value, "address")/>
                <SubmitButton label="Test" pending=action.pending()/>
            </form>
            <div aria-live="polite">
                {move || value.get().and_then(|r| r.ok()).map(|t: AddressTest| view! {
                    <p role="status" class=if t.allowed { "success-text" } else { "danger-text" }>
                        {if t.allowed { format!("{} would be let in. {}", t.address, t.because) } else { format!("{} would be refused. {}", t.address, t.because) }}
                    </p>
                })}
            </div>
        </section>
    }
}
