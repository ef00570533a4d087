//! Settings > API tokens (seed 002, "API Keys / Personal Access Tokens"): generate a
//! token with a name, an expiration and permissions, copy it once, see when each was
//! last used, regenerate or revoke it.
use crate::api::tokens::{create_token, list_tokens, regenerate_token, revoke_token};
use crate::components::{
    focus_when_present, CopyButton, Dialog, ExactTime, FormAlert, SubmitButton, TextField, TimeAgo,
    Toast,
};
use crate::model::error::ApiError;
use crate::model::time::format_iso;
use crate::model::tokens::{
    NewToken, Scope, TokenInfo, TokenList, DEFAULT_EXPIRY_DAYS, EXPIRY_DAYS, MAX_TOKENS,
};
use crate::pages::proof::{proof, proof_asked, ProofField};
use crate::pages::{field_error, general_error};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn TokensPage() -> impl IntoView {
    let tokens = Resource::new(|| (), |_| list_tokens());
    let toast = RwSignal::new(None::<String>);
    let generate_open = RwSignal::new(false);
    // The token a row's "Revoke" or "Regenerate" was pressed for.
    let chosen = RwSignal::new(None::<TokenInfo>);
    let revoke_open = RwSignal::new(false);
    let regenerate_open = RwSignal::new(false);
    let on_changed = Callback::new(move |message: String| {
        tokens.refetch();
        toast.set(Some(message));
    });
    view! {
        <Title text="API tokens · Latchkey"/>
        <h1>"API tokens"</h1>
        <p class="lead">
            "Personal access tokens let your scripts and tools read your account through the Latchkey API. "
            "Each has only the permissions you give it, and stops working when it expires or you revoke it. "
            "Treat a token like a password: store it in a secret manager, never in code."
        </p>
        <crate::pages::UntilHydrated>
        <section class="card" aria-labelledby="tokens-title">
            <div class="card-heading">
                <h2 id="tokens-title" tabindex="-1">"Personal access tokens"</h2>
                <button type="button" class="btn btn-primary btn-small" on:click=move |_| generate_open.set(true)>"Generate Token"</button>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Err(e) => view! {
                            <div class="alert alert-error" role="alert">{format!("Your tokens could not be loaded: {e}")}</div>
                            <button type="button" class="btn btn-secondary" on:click=move |_| tokens.refetch()>"Try Again"</button>
                        }.into_any(),
                        Ok(TokenList { tokens: list, .. }) if list.is_empty() => view! {
                            <p class="muted empty">"You have no tokens. Generate one for each script or tool that needs access, so you can revoke them one by one."</p>
                        }.into_any(),
                        Ok(TokenList { tokens: list, now, .. }) => {
                            let count = list.len();
                            view! {
                                <ul class="session-list">
                                    {list.into_iter().map(|t| view! {
                                        <TokenItem token=t now=now chosen=chosen revoke_open=revoke_open regenerate_open=regenerate_open/>
                                    }).collect_view()}
                                </ul>
                                <p class="muted">{format!("{count} of {MAX_TOKENS} tokens.")}</p>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
        </section>
        </crate::pages::UntilHydrated>
        <Dialog open=generate_open title="Generate Token" id="generate-token">
            <GenerateToken open=generate_open tokens=tokens on_changed=on_changed/>
        </Dialog>
        <Dialog open=regenerate_open title="Regenerate Token" id="regenerate-token">
            <RegenerateToken token=chosen open=regenerate_open on_changed=on_changed/>
        </Dialog>
        <Dialog open=revoke_open title="Revoke Token" id="revoke-token">
            <RevokeToken token=chosen open=revoke_open on_changed=on_changed/>
        </Dialog>
        <Toast message=toast/>
    }
}

fn scope_names(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[component]
fn TokenItem(
    token: TokenInfo,
    now: i64,
    chosen: RwSignal<Option<TokenInfo>>,
    revoke_open: RwSignal<bool>,
    regenerate_open: RwSignal<bool>,
) -> impl IntoView {
    let title_id = format!("token-{}-title", token.id);
    let for_revoke = token.clone();
    let for_regenerate = token.clone();
    let expires = match (token.expires_at, token.expired) {
        (None, _) => view! { <span class="badge badge-warning">"Never"</span> }.into_any(),
        (Some(at), true) => view! {
            <span class="badge badge-warning">"Expired"</span>" "<ExactTime at=at/>
        }
        .into_any(),
        (Some(at), false) => view! { <ExactTime at=at/> }.into_any(),
    };
    let last_used = match token.last_used.clone() {
        None => view! { <span>"Never used"</span> }.into_any(),
        Some(l) => view! {
            <span>
                <TimeAgo at=l.at now=now.max(l.at)/>" · "{l.location}" · "<span class="mono">{l.ip}</span>
            </span>
        }.into_any(),
    };
    view! {
        <li class="session" aria-labelledby=title_id.clone()>
            <div class="session-text">
                <h3 id=title_id.clone() class="session-title">{token.name.clone()}</h3>
                <dl class="facts">
                    <div><dt>"Permissions"</dt><dd class="mono">{scope_names(&token.scopes)}</dd></div>
                    <div><dt>"Created"</dt><dd><ExactTime at=token.created_at/></dd></div>
                    <div><dt>"Expires"</dt><dd>{expires}</dd></div>
                    <div><dt>"Last used"</dt><dd>{last_used}</dd></div>
                </dl>
            </div>
            <div class="row-actions">
                <button type="button" class="btn btn-secondary btn-small" aria-describedby=title_id.clone() on:click=move |_| {
                    chosen.set(Some(for_regenerate.clone()));
                    regenerate_open.set(true);
                }>"Regenerate"</button>
                <button type="button" class="btn btn-secondary btn-small" aria-describedby=title_id.clone() on:click=move |_| {
                    chosen.set(Some(for_revoke.clone()));
                    revoke_open.set(true);
                }>"Revoke"</button>
            </div>
        </li>
    }
}

/// The secret of a token just made: shown once, with "Copy".
#[component]
fn ShowSecret(made: NewToken, open: RwSignal<bool>) -> impl IntoView {
    view! {
        <div class="dialog-body">
            <p class="notice notice-warning" role="alert">
                "Copy your token now. It will not be shown again: only a fingerprint of it is stored."
            </p>
            <p><strong>{made.info.name.clone()}</strong>" · "<span class="mono">{scope_names(&made.info.scopes)}</span></p>
            <label for="new-token">"Your new token"</label>
            <input id="new-token" class="mono token-secret" type="text" readonly=true value=made.secret.clone()/>
            <CopyButton text=made.secret.clone() label="Copy" copied="Token copied." failed="Could not copy: select the token and copy it by hand."/>
            <div class="dialog-actions">
                <button type="button" class="btn btn-primary" on:click=move |_| open.set(false)>"Done"</button>
            </div>
        </div>
    }
}

#[component]
fn GenerateToken(
    open: RwSignal<bool>,
    tokens: Resource<Result<TokenList, ApiError>>,
    on_changed: Callback<String>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let expiration = RwSignal::new(DEFAULT_EXPIRY_DAYS.to_string());
    let date = RwSignal::new(String::new());
    let scopes = RwSignal::new(Vec::<Scope>::new());
    let action = Action::new(
        |(name, expiration, date, scopes, password): &(
            String,
            String,
            String,
            Vec<String>,
            Option<String>,
        )| {
            create_token(
                name.clone(),
                expiration.clone(),
                date.clone(),
                scopes.clone(),
                password.clone(),
            )
        },
    );
    let value = action.value();
    let (password, asked) = proof_asked(value);
    let made = RwSignal::new(None::<NewToken>);
    Effect::new(move |_| {
        if let Some(Ok(t)) = value.get() {
            made.set(Some(t.clone()));
            on_changed.run(format!("Token \u{201c}{}\u{201d} generated.", t.info.name));
            focus_when_present("new-token");
        }
    });
    let settings = move || tokens.get().and_then(|r| r.ok()).map(|l| l.settings);
    let max_date = move || {
        let days = settings().map_or(366, |s| s.max_days);
        let now = crate::components::countdown::now_ms() as i64 / 1000;
        format_iso(now + i64::from(days) * 86_400)[..10].to_string()
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let names = scopes
            .get_untracked()
            .iter()
            .map(|s| s.as_str().to_string())
            .collect();
        action.dispatch((
            name.get_untracked(),
            expiration.get_untracked(),
            date.get_untracked(),
            names,
            proof(password, asked),
        ));
    };
    view! {
        {move || match made.get() {
            Some(t) => view! { <ShowSecret made=t open=open/> }.into_any(),
            None => view! {
                <form class="dialog-body" on:submit=submit novalidate>
                    <FormAlert message=general_error(value)/>
                    <TextField label="Name" name="name" value=name error=field_error(value, "name") autofocus=true/>
                    <p class="hint" id="name-hint">"What the token is for, such as \u{201c}Backup script\u{201d}. Up to 64 characters."</p>
                    <div class="field">
                        <label for="field-expiration">"Expiration"</label>
                        <select id="field-expiration" name="expiration"
                            aria-describedby="field-expiration-error"
                            aria-invalid=move || if field_error(value, "expiration").get().is_some() { "true" } else { "false" }
                            on:change=move |ev| expiration.set(event_target_value(&ev))>
                            {EXPIRY_DAYS.into_iter().map(|d| view! {
                                <option value=d.to_string() selected=d == DEFAULT_EXPIRY_DAYS>{format!("{d} days")}</option>
                            }).collect_view()}
                            <option value="custom">"Custom date"</option>
                            {move || settings().is_some_and(|s| s.allow_no_expiry).then(|| view! {
                                <option value="never">"No expiration"</option>
                            })}
                        </select>
                        <p class="field-error" id="field-expiration-error">{move || field_error(value, "expiration").get()}</p>
                    </div>
                    <Show when=move || expiration.get() == "custom">
                        <div class="field">
                            <label for="field-date">"Expires on"</label>
                            <input id="field-date" name="date" type="date" max=max_date prop:value=move || date.get() on:input=move |ev| date.set(event_target_value(&ev))/>
                        </div>
                    </Show>
                    <Show when=move || expiration.get() == "never">
                        <p class="notice notice-warning">"A token without expiration works until you revoke it. If it leaks, it can be used for as long as nobody notices."</p>
                    </Show>
                    <fieldset class="scopes" aria-describedby="field-scopes-error">
                        <legend>"Permissions"</legend>
                        {Scope::ALL.into_iter().map(|s| {
                            let id = format!("scope-{}", s.as_str().replace([':', '_'], "-"));
                            view! {
                                <div class="scope">
                                    <input type="checkbox" id=id.clone() name="scopes" value=s.as_str()
                                        prop:checked=move || scopes.with(|v| v.contains(&s))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            scopes.update(|v| {
                                                v.retain(|x| *x != s);
                                                if on { v.push(s); }
                                            });
                                        }/>
                                    <label for=id.clone()><span class="mono">{s.as_str()}</span><span class="scope-allows">{s.allows()}</span></label>
                                </div>
                            }
                        }).collect_view()}
                        <p class="field-error" id="field-scopes-error">{move || field_error(value, "scopes").get()}</p>
                    </fieldset>
                    <ProofField password=password asked=asked error=field_error(value, "password")/>
                    <div class="dialog-actions">
                        <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                        <SubmitButton label="Generate Token" pending=action.pending()/>
                    </div>
                </form>
            }.into_any(),
        }}
    }
}

#[component]
fn RegenerateToken(
    token: RwSignal<Option<TokenInfo>>,
    open: RwSignal<bool>,
    on_changed: Callback<String>,
) -> impl IntoView {
    let action = Action::new(|(id, password): &(i64, Option<String>)| {
        regenerate_token(*id, password.clone())
    });
    let value = action.value();
    let (password, asked) = proof_asked(value);
    let made = RwSignal::new(None::<NewToken>);
    Effect::new(move |_| match value.get() {
        Some(Ok(t)) => {
            made.set(Some(t.clone()));
            on_changed.run(format!(
                "Token \u{201c}{}\u{201d} regenerated. The old one no longer works.",
                t.info.name
            ));
            focus_when_present("new-token");
        }
        Some(Err(ApiError::NotFound(m))) => {
            open.set(false);
            on_changed.run(m);
        }
        _ => {}
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(t) = token.get_untracked() {
            action.dispatch((t.id, proof(password, asked)));
        }
    };
    view! {
        {move || match made.get() {
            Some(t) => view! { <ShowSecret made=t open=open/> }.into_any(),
            None => view! {
                <form class="dialog-body" on:submit=submit>
                    {move || token.get().map(|t| view! { <p><strong>{t.name}</strong></p> })}
                    <p>"A new secret replaces this token's: anything that uses the old one stops working at once. The name and permissions stay; the expiration starts again from today."</p>
                    <FormAlert message=general_error(value)/>
                    <ProofField password=password asked=asked error=field_error(value, "password")/>
                    <div class="dialog-actions">
                        <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                        <SubmitButton label="Regenerate" pending=action.pending() danger=true/>
                    </div>
                </form>
            }.into_any(),
        }}
    }
}

#[component]
fn RevokeToken(
    token: RwSignal<Option<TokenInfo>>,
    open: RwSignal<bool>,
    on_changed: Callback<String>,
) -> impl IntoView {
    let action = Action::new(|id: &i64| revoke_token(*id));
    let value = action.value();
    Effect::new(move |_| match value.get() {
        Some(Ok(())) => {
            open.set(false);
            on_changed.run("Token revoked. It no longer works.".into());
            focus_when_present("tokens-title");
        }
        Some(Err(ApiError::NotFound(m))) => {
            open.set(false);
            on_changed.run(m);
        }
        _ => {}
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(t) = token.get_untracked() {
            action.dispatch(t.id);
        }
    };
    view! {
        <form class="dialog-body" on:submit=submit>
            {move || token.get().map(|t| view! { <p><strong>{t.name}</strong></p> })}
            <p>"Anything that uses this token stops working at its next request. This cannot be undone."</p>
            <FormAlert message=general_error(value)/>
            <div class="dialog-actions">
                <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                <SubmitButton label="Revoke" pending=action.pending() danger=true/>
            </div>
        </form>
    }
}
