//! The "Passkeys" group of the "Multi-factor authentication" section: the account's
//! passkeys (name, added, last used; Rename, Remove) and "Add a passkey" (the
//! recent-proof rule, then the browser's own prompt).
use crate::api::passkeys::{finish_add_passkey, remove_passkey, rename_passkey, start_add_passkey};
use crate::components::webauthn::{self, PromptError};
use crate::components::{focus_when_present, FormAlert, PasswordField, SubmitButton, TextField};
use crate::model::mfa::{
    sign_in_after, Method, MfaStatus, PasskeyInfo, RecoveryCodes, MAX_PASSKEYS, PASSKEYS_FULL,
};
use crate::model::time::format_date;
use crate::pages::proof::{proof, proof_asked, ProofField};
use crate::pages::{field_error, general_error};
use leptos::prelude::*;

/// The group's state: the list, and "Add a passkey".
#[component]
pub fn PasskeysState(
    status: MfaStatus,
    on_add: Callback<()>,
    on_rename: Callback<PasskeyInfo>,
    on_remove: Callback<PasskeyInfo>,
) -> impl IntoView {
    if !status.passkeys_available {
        return view! {
            <p class="muted" id="passkeys-unavailable">"Passkeys are not available on this site."</p>
        }
        .into_any();
    }
    let count = status.passkeys.len();
    let full = count >= MAX_PASSKEYS;
    let needs_verified = !status.email_verified;
    view! {
        {if status.passkeys.is_empty() {
            view! { <p class="section-state"><span class="badge badge-muted">"None yet"</span></p> }.into_any()
        } else {
            view! {
                <ul class="passkey-list" id="passkeys-list" tabindex="-1" aria-label="Your passkeys">
                    {status.passkeys.into_iter().map(|p| {
                        let (for_rename, for_remove) = (p.clone(), p.clone());
                        let used = match p.last_used_at {
                            Some(at) => format!("last used {}", format_date(at)),
                            None => "not used yet".into(),
                        };
                        view! {
                            <li class="passkey">
                                <div class="passkey-text">
                                    <span class="passkey-name">{p.name.clone()}</span>
                                    {p.synced.then(|| view! { " " <span class="badge badge-muted">"Synced"</span> })}
                                    <span class="muted passkey-dates">{format!("Added {}, {used}", format_date(p.created_at))}</span>
                                </div>
                                <div class="method-actions">
                                    <button type="button" id=format!("passkey-rename-{}", p.id) class="btn btn-secondary btn-small" aria-label=format!("Rename {}", p.name) on:click=move |_| on_rename.run(for_rename.clone())>"Rename"</button>
                                    <button type="button" id=format!("passkey-remove-{}", p.id) class="btn btn-danger btn-small" aria-label=format!("Remove {}", p.name) on:click=move |_| on_remove.run(for_remove.clone())>"Remove"</button>
                                </div>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        {if needs_verified {
            view! {
                <p class="notice notice-warning">"Verify your email address before you add a passkey."</p>
            }.into_any()
        } else if full {
            view! {
                <p class="muted">{PASSKEYS_FULL}</p>
            }.into_any()
        } else {
            view! {
                <div class="method-actions">
                    <button type="button" id="passkey-add" class="btn btn-primary" on:click=move |_| on_add.run(())>"Add a passkey"</button>
                </div>
            }.into_any()
        }}
    }
    .into_any()
}

/// "Add a passkey" as a dialog: it starts at once (the server's options, then the
/// browser's prompt); the password is asked in place when no proof is recent; the
/// recovery codes end it when this is the account's first method.
#[component]
pub fn AddPasskey(
    open: RwSignal<bool>,
    /// Set with the recovery codes (or `None`) once the passkey is added.
    added: RwSignal<Option<Option<RecoveryCodes>>>,
) -> impl IntoView {
    let start = Action::new(|password: &Option<String>| {
        let password = password.clone();
        async move { start_add_passkey(password).await }
    });
    let (password, asked) = proof_asked(start.value());
    let prompt_error = RwSignal::new(None::<String>);
    let finishing = Action::new(|answer: &String| {
        let answer = answer.clone();
        async move { finish_add_passkey(answer).await }
    });
    let prompting = RwSignal::new(false);
    // The options arrived: the browser's prompt, then the answer to the server.
    Effect::new(move |_| {
        if let Some(Ok(options)) = start.value().get() {
            prompting.set(true);
            leptos::task::spawn_local(async move {
                let answer = webauthn::create(&options).await;
                if prompting.try_set(false).is_some() {
                    // Closed meanwhile: its values are gone.
                    return;
                }
                match answer {
                    Ok(json) => {
                        finishing.dispatch(json);
                    }
                    Err(PromptError::Aborted) => {}
                    Err(e) => {
                        prompt_error.set(Some(e.message(true)));
                        focus_when_present("passkey-add-retry");
                    }
                }
            });
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(codes)) = finishing.value().get() {
            added.set(Some(codes));
        }
    });
    let go = move || {
        prompt_error.set(None);
        finishing.value().set(None);
        start.dispatch(proof(password, asked));
    };
    // Opening the dialog is choosing "Add a passkey": it begins.
    go();
    let busy = move || start.pending().get() || prompting.get() || finishing.pending().get();
    view! {
        <form class="dialog-body" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); go(); } novalidate>
            <p>"A passkey signs you in with your fingerprint, face or screen lock instead of a code. It is stored by your device or password manager, and it cannot be phished: it only works on this site."</p>
            <p role="status" class="muted" id="passkey-add-status">
                {move || if prompting.get() {
                    "Follow your browser's prompt to create the passkey…"
                } else if start.pending().get() || finishing.pending().get() {
                    "Working…"
                } else {
                    ""
                }}
            </p>
            <FormAlert message=general_error(start.value())/>
            <FormAlert message=general_error(finishing.value())/>
            <div class="alert-slot" aria-live="assertive">
                {move || prompt_error.get().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
            </div>
            <ProofField password=password asked=asked error=field_error(start.value(), "password")/>
            <div class="dialog-actions">
                <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                <Show when=move || asked.get() || prompt_error.get().is_some() || matches!(finishing.value().get(), Some(Err(_)))>
                    <button type="submit" id="passkey-add-retry" class="btn btn-primary" disabled=busy>
                        {move || if asked.get() && prompt_error.get().is_none() { "Continue" } else { "Try Again" }}
                    </button>
                </Show>
            </div>
        </form>
    }
}

/// "Rename": the passkey's name (as it appears here and in the security log).
#[component]
pub fn RenamePasskey(
    open: RwSignal<bool>,
    passkey: PasskeyInfo,
    renamed: RwSignal<Option<String>>,
) -> impl IntoView {
    let name = RwSignal::new(passkey.name.clone());
    let id = passkey.id;
    let action = Action::new(move |n: &String| {
        let n = n.clone();
        async move { rename_passkey(id, n).await }
    });
    let value = action.value();
    Effect::new(move |_| {
        if let Some(Ok(n)) = value.get() {
            renamed.set(Some(n));
        }
    });
    view! {
        <form class="dialog-body" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); action.dispatch(name.get_untracked()); } novalidate>
            <FormAlert message=general_error(value)/>
            <TextField label="Passkey name" name="name" value=name error=field_error(value, "name") autocomplete="off"/>
            <p class="muted">"Up to 64 characters, such as the device or password manager that keeps it."</p>
            <div class="dialog-actions">
                <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                <SubmitButton label="Save" pending=action.pending()/>
            </div>
        </form>
    }
}

/// "Remove": what signing in asks for afterwards, and the password to confirm it.
#[component]
pub fn RemovePasskey(
    open: RwSignal<bool>,
    passkey: PasskeyInfo,
    /// The account's methods as they are now.
    active: Vec<Method>,
    /// How many passkeys the account has now.
    passkeys: usize,
    removed: RwSignal<bool>,
) -> impl IntoView {
    let id = passkey.id;
    let action = Action::new(move |p: &String| {
        let p = p.clone();
        async move { remove_passkey(id, p).await }
    });
    let value = action.value();
    let password = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(())) = value.get() {
            removed.set(true);
        }
    });
    let left: Vec<Method> = if passkeys > 1 {
        active.clone()
    } else {
        active
            .iter()
            .copied()
            .filter(|m| *m != Method::Passkey)
            .collect()
    };
    let after = sign_in_after(&left);
    let warning = if left.is_empty() {
        format!("This is your only multi-factor method. After removing it, {after}, and your recovery codes stop working.")
    } else {
        format!("S{}. Remove it from your device or password manager too, or it will keep offering it here.", &after[1..])
    };
    view! {
        <form class="dialog-body" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); action.dispatch(password.get_untracked()); } novalidate>
            <p>{format!("Remove the passkey “{}”?", passkey.name)}</p>
            <p class=if left.is_empty() { "notice notice-warning" } else { "notice notice-info" }>{warning}</p>
            <FormAlert message=general_error(value)/>
            <p>"Enter your password to confirm."</p>
            <PasswordField label="Password" name="password" value=password error=field_error(value, "password")/>
            <div class="dialog-actions">
                <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                <SubmitButton label="Remove" pending=action.pending() danger=true/>
            </div>
        </form>
    }
}

/// A proof with one of the owner's passkeys inside the session (viewing recovery codes,
/// the first step of turning on another method): the browser's prompt for a ceremony
/// bound to this session, then `then` with its answer, which goes where a code would.
/// A prompt that fails says why in `error`.
pub fn prove_with_passkey(
    error: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
    then: impl FnOnce(String) + 'static,
) {
    error.set(None);
    busy.set(true);
    leptos::task::spawn_local(async move {
        let answer = match crate::api::passkeys::passkey_identity_options().await {
            Ok(options) => webauthn::get(&options, None)
                .await
                .map_err(|e| e.message(false)),
            Err(e) => Err(e.to_string()),
        };
        if busy.try_set(false).is_some() {
            // Closed meanwhile: its values are gone.
            return;
        }
        match answer {
            Ok(json) => then(json),
            Err(m) if m.is_empty() => {}
            Err(m) => error.set(Some(m)),
        }
    });
}

/// What a step confirmed by a passkey says, and why a prompt failed.
#[component]
pub fn PasskeyProofNote(intro: &'static str, error: RwSignal<Option<String>>) -> impl IntoView {
    view! {
        <p>{intro}</p>
        <div class="alert-slot" aria-live="assertive">
            {move || error.get().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
        </div>
    }
}
