use crate::api::mfa::{get_sign_in_options, SendSignInCode, VerifySignIn};
use crate::api::passkeys::passkey_second_step_options;
use crate::components::webauthn;
use crate::components::{
    focus_when_present, AuthCard, CodeInput, FormAlert, ResendButton, ResendClock, SubmitButton,
    TextField,
};
use crate::model::error::ApiError;
use crate::model::mfa::{CodeSent, Method, SignInOptions, EMAIL_CODE_HELD, SENT_A_MOMENT_AGO};
use crate::pages::{field_error, general_error, go_to};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The second step of sign-in: one code from the method the person picks (seed 003),
/// or a recovery code.
#[component]
pub fn SignInVerifyPage() -> impl IntoView {
    let options = Resource::new(|| (), |_| get_sign_in_options());
    view! {
        <Title text="Two-step sign-in · Latchkey"/>
        <AuthCard title="Two-step sign-in">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match options.await {
                        Ok(o) => view! { <SecondStep options=o/> }.into_any(),
                        Err(_) => view! { <Expired/> }.into_any(),
                    }
                })}
            </Suspense>
        </AuthCard>
    }
}

#[component]
fn Expired() -> impl IntoView {
    view! {
        <div class="alert alert-error" role="alert">"This sign-in has expired. Enter your email and password again."</div>
        <a class="btn btn-primary" href="/signin">"Back to Sign In"</a>
    }
}

#[component]
fn SecondStep(options: SignInOptions) -> impl IntoView {
    let methods: Vec<Method> = options
        .methods
        .iter()
        .copied()
        .filter(|m| *m != Method::Recovery)
        .collect();
    let has_recovery = options.methods.contains(&Method::Recovery);
    // `?method=` (the no-script "Use a recovery code") picks one the account has.
    let asked = use_query_map()
        .with_untracked(|q| q.get("method"))
        .and_then(|m| Method::parse(&m))
        .filter(|m| options.methods.contains(m));
    let chosen = RwSignal::new(asked.unwrap_or(options.preferred));
    // The method before "Use a recovery code" was chosen, to go back to.
    let before_recovery = StoredValue::new(methods.first().copied().unwrap_or(Method::Totp));
    let code = RwSignal::new(String::new());
    let recovery = RwSignal::new(String::new());
    let last = StoredValue::new(String::new());
    // A real form: without script (or pressed before it runs) it posts to the server
    // function, which answers with the next page or with this one and the error.
    let action = ServerAction::<VerifySignIn>::new();
    let value = action.value();
    Effect::new(move |_| {
        if let Some(Ok(done)) = value.get() {
            go_to(&done.redirect_to);
        }
    });
    let expired = move || matches!(value.get(), Some(Err(ApiError::Unauthorized(_))));

    // Email and SMS codes: sent when the method is chosen (and when the page opens
    // with it chosen) unless one was sent for this sign-in already, then again on
    // "Request Code" once the countdown allows.
    let already = |m: Method| {
        options
            .sent
            .iter()
            .find(|(sent, _)| *sent == m)
            .map(|(_, code)| code.clone())
    };
    let email = Sender::new("email", already(Method::Email));
    let sms = Sender::new("sms", already(Method::Sms));
    Effect::new(move |_| match chosen.get() {
        Method::Email => email.send_first(),
        Method::Sms => sms.send_first(),
        _ => {}
    });

    let dispatch = move |m: Method, typed: String| {
        let (code, recovery_code) = if m == Method::Recovery {
            (String::new(), typed)
        } else {
            (typed, String::new())
        };
        action.dispatch(VerifySignIn {
            code,
            recovery_code,
            method: Some(m.as_str().into()),
        });
    };
    let submit = move || {
        let m = chosen.get_untracked();
        if m == Method::Recovery {
            dispatch(m, recovery.get_untracked());
            return;
        }
        let current = code.get_untracked();
        if action.pending().get_untracked()
            || last.get_value() == current && matches!(value.get_untracked(), Some(Ok(_)))
        {
            return;
        }
        last.set_value(current.clone());
        dispatch(m, current);
    };
    let on_complete = Callback::new(move |_: ()| submit());
    // A passkey: the browser's prompt for this sign-in's ceremony, its answer sent as
    // the "code" of the method "passkey".
    let prompt_error = RwSignal::new(None::<String>);
    let prompting = RwSignal::new(false);
    let use_passkey = move |_| {
        prompt_error.set(None);
        value.set(None);
        prompting.set(true);
        leptos::task::spawn_local(async move {
            let answer = match passkey_second_step_options().await {
                Ok(options) => webauthn::get(&options, None)
                    .await
                    .map_err(|e| e.message(false)),
                Err(e) => Err(e.to_string()),
            };
            let _ = prompting.try_set(false);
            match answer {
                Ok(json) => {
                    action.dispatch(VerifySignIn {
                        code: json,
                        recovery_code: String::new(),
                        method: Some(Method::Passkey.as_str().into()),
                    });
                }
                Err(m) if m.is_empty() => {}
                Err(m) => {
                    let _ = prompt_error.try_set(Some(m));
                }
            }
        });
    };
    // Arriving from the password step, the field for the chosen method has the focus.
    Effect::new(move |_| {
        focus_when_present(match chosen.get_untracked() {
            Method::Recovery => "field-recovery_code",
            Method::Passkey => "use-passkey",
            _ => "field-code",
        })
    });
    let choose = move |m: Method| {
        chosen.set(m);
        code.set(String::new());
        value.set(None);
    };
    let several = methods.len() > 1;
    let methods_on = methods.clone();
    let email_held = options.email_held;
    view! {
        <Show when=move || !expired() fallback=|| view! { <Expired/> }>
            {email_held.then(|| view! { <p class="notice notice-info">{EMAIL_CODE_HELD}</p> })}
            <form method="post" action=VerifySignIn::url() on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); submit(); } novalidate>
                {several.then(|| {
                    let methods = methods.clone();
                    view! {
                        // The choice belongs to a form of its own: without script,
                        // "Use This Method" opens the step with it (?method=), which
                        // sends nothing until "Request Code" is pressed.
                        <fieldset class="method-choice">
                            <legend>"Verify with"</legend>
                            {methods.into_iter().map(|m| view! {
                                <label class="radio">
                                    <input
                                        type="radio"
                                        form="choose-method"
                                        name="method"
                                        value=m.as_str()
                                        checked=chosen.get_untracked() == m
                                        prop:checked=move || chosen.get() == m
                                        on:change=move |_| choose(m)
                                    />
                                    " " {m.label()}
                                </label>
                            }).collect_view()}
                            <button type="submit" form="choose-method" class="btn btn-secondary without-script">"Use This Method"</button>
                        </fieldset>
                    }
                })}
                <FormAlert message=general_error(value)/>
                <input type="hidden" name="method" value=move || chosen.get().as_str()/>
                {move || match chosen.get() {
                    Method::Passkey => view! {
                        <input type="hidden" name="code" value=""/>
                        <input type="hidden" name="recovery_code" value=""/>
                        <p>"Use your passkey: your device asks for your fingerprint, face or screen lock."</p>
                        <p class="without-script">"Passkeys need this page's script. Choose another method, or turn JavaScript on."</p>
                        <div class="alert-slot" aria-live="assertive">
                            {move || prompt_error.get().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
                        </div>
                        <button type="button" id="use-passkey" class="btn btn-primary btn-block" on:click=use_passkey disabled=move || prompting.get() || action.pending().get()>
                            "Use Passkey"
                        </button>
                    }.into_any(),
                    Method::Recovery => view! {
                        <input type="hidden" name="code" value=""/>
                        <p>"Enter one of the recovery codes you saved when you turned on two-step sign-in."</p>
                        <TextField label="Recovery code" name="recovery_code" value=recovery error=field_error(value, "recovery_code") autocomplete="off" autofocus=true/>
                    }.into_any(),
                    Method::Email | Method::Sms => {
                        let sender = if chosen.get() == Method::Email { email } else { sms };
                        view! {
                            <input type="hidden" name="recovery_code" value=""/>
                            <p role="status">{move || sender.note.get()}</p>
                            {move || sender.note.get().is_none().then(|| view! {
                                <p class="without-script">"Press “Request Code” to get your code."</p>
                            })}
                            <FormAlert message=sender.error()/>
                            <CodeInput value=code error=field_error(value, "code") on_complete=on_complete/>
                            <div class="resend-row">
                                <ResendButton clock=sender.clock pending=sender.action.pending() on_request=Callback::new(move |_| sender.send()) form=sender.form/>
                            </div>
                        }.into_any()
                    }
                    _ => view! {
                        <input type="hidden" name="recovery_code" value=""/>
                        <p>"Enter the 6-digit code from your authenticator app"</p>
                        <CodeInput value=code error=field_error(value, "code") on_complete=on_complete/>
                    }.into_any(),
                }}
                <Show when=move || chosen.get() != Method::Passkey>
                    <SubmitButton label="Verify" pending=action.pending()/>
                </Show>
            </form>
            // The plain forms the buttons above submit before the script runs.
            {several.then(|| view! { <form id="choose-method" method="get" action="/signin/verify"></form> })}
            {[email, sms].into_iter().filter(|s| methods_on.contains(&s.method)).map(|s| view! {
                <form id=s.form method="post" action=SendSignInCode::url()>
                    <input type="hidden" name="channel" value=s.channel/>
                </form>
            }).collect_view()}
            {has_recovery.then(|| view! {
                <form class="auth-alt" method="get" action="/signin/verify">
                    <button type="submit" name="method" value=move || {
                        if chosen.get() == Method::Recovery { before_recovery.get_value().as_str() } else { "recovery" }
                    } class="link-button" on:click=move |ev| {
                        ev.prevent_default();
                        if chosen.get_untracked() == Method::Recovery {
                            choose(before_recovery.get_value());
                            focus_when_present(if before_recovery.get_value() == Method::Passkey { "use-passkey" } else { "field-code" });
                        } else {
                            before_recovery.set_value(chosen.get_untracked());
                            choose(Method::Recovery);
                            focus_when_present("field-recovery_code");
                        }
                    }>
                        {move || match (chosen.get(), before_recovery.get_value()) {
                            (Method::Recovery, Method::Email) => "Use an email code instead",
                            (Method::Recovery, Method::Sms) => "Use an SMS code instead",
                            (Method::Recovery, Method::Passkey) => "Use your passkey instead",
                            (Method::Recovery, _) => "Use your authenticator app instead",
                            _ => "Use a recovery code",
                        }}
                    </button>
                </form>
            })}
            <p class="auth-alt"><a href="/signin">"Back to Sign In"</a></p>
        </Show>
    }
}

/// Sends sign-in codes over one channel, with its countdown and what it says.
#[derive(Clone, Copy)]
struct Sender {
    method: Method,
    channel: &'static str,
    /// The id of the plain form that sends a code before the script runs.
    form: &'static str,
    action: ServerAction<SendSignInCode>,
    clock: ResendClock,
    note: RwSignal<Option<String>>,
}

impl Sender {
    /// `already`: the code sent for this sign-in before the page opened, if any.
    fn new(channel: &'static str, already: Option<CodeSent>) -> Sender {
        let (method, form) = if channel == "sms" {
            (Method::Sms, "send-code-sms")
        } else {
            (Method::Email, "send-code-email")
        };
        // A plain form's refusal comes back in the page's address and is read here.
        let action = ServerAction::<SendSignInCode>::new();
        let clock = ResendClock::new();
        let note = RwSignal::new(already.as_ref().map(CodeSent::note));
        if let Some(sent) = already {
            clock.follow(&Ok(sent));
        }
        Effect::new(move |_| {
            if let Some(answer) = action.value().get() {
                clock.follow(&answer);
                match answer {
                    Ok(sent) => note.set(Some(sent.note())),
                    Err(ApiError::TooManyRequests { .. }) if note.get_untracked().is_none() => {
                        note.set(Some(SENT_A_MOMENT_AGO.into()));
                    }
                    Err(_) => {}
                }
            }
        });
        Sender {
            method,
            channel,
            form,
            action,
            clock,
            note,
        }
    }

    fn send(&self) {
        self.action.dispatch(SendSignInCode {
            channel: self.channel.into(),
        });
    }

    /// The first code, once: choosing the method again does not send another.
    fn send_first(&self) {
        let sent_or_sending = untrack(|| self.note.get().is_some() || self.action.pending().get());
        if !sent_or_sending {
            self.send();
        }
    }

    /// A send's error other than the countdown's (the provider failed, say).
    fn error(&self) -> Signal<Option<crate::components::Alert>> {
        let value = self.action.value();
        Signal::derive(move || {
            value.with(|v| match v {
                Some(Err(e)) if !matches!(e, ApiError::TooManyRequests { .. }) => {
                    e.general().map(|text| crate::components::Alert {
                        text,
                        retry_after: None,
                    })
                }
                _ => None,
            })
        })
    }
}
