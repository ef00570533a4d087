use leptos::prelude::*;

/// Keeps what a person typed into the server-rendered field `id` before the page's
/// script ran: hydration would otherwise set the input back to `value`'s empty text,
/// and a press that follows would send nothing. Only while hydrating: a page the router
/// builds later must not take a value from the page it replaces.
pub fn keep_typed(id: &str, value: RwSignal<String>) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let hydrating = Owner::current_shared_context().is_some_and(|c| c.during_hydration());
        if !hydrating || !value.with_untracked(String::is_empty) {
            return;
        }
        let typed = document()
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
            .map(|input| input.value())
            .filter(|typed| !typed.is_empty());
        if let Some(typed) = typed {
            value.set(typed);
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (id, value);
}

/// A labelled text input with its error underneath, tied by aria-describedby.
#[component]
pub fn TextField(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] autofocus: bool,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    keep_typed(&id, value);
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                autofocus=autofocus
                spellcheck="false"
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                aria-describedby=error_id.clone()
            />
            <p class="field-error" id=error_id>{move || error.get()}</p>
        </div>
    }
}

/// A password input with a show/hide toggle. Paste and password managers work.
#[component]
pub fn PasswordField(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(default = "current-password")] autocomplete: &'static str,
    /// Extra id(s) for aria-describedby, e.g. a checklist.
    #[prop(optional)]
    described_by: Option<&'static str>,
) -> impl IntoView {
    let shown = RwSignal::new(false);
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    keep_typed(&id, value);
    let describedby = match described_by {
        Some(extra) => format!("{error_id} {extra}"),
        None => error_id.clone(),
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <div class="password-input">
                <input
                    id=id
                    name=name
                    type=move || if shown.get() { "text" } else { "password" }
                    autocomplete=autocomplete
                    spellcheck="false"
                    autocapitalize="off"
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))
                    aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                    aria-describedby=describedby
                />
                <button
                    type="button"
                    class="reveal"
                    aria-pressed=move || if shown.get() { "true" } else { "false" }
                    aria-label=move || {
                        if shown.get() { format!("Hide {}", label.to_lowercase()) } else { format!("Show {}", label.to_lowercase()) }
                    }
                    on:click=move |_| shown.update(|s| *s = !*s)
                >
                    {move || if shown.get() { "Hide" } else { "Show" }}
                </button>
            </div>
            <p class="field-error" id=error_id>{move || error.get()}</p>
        </div>
    }
}

/// What a form says when its submit is refused as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    pub text: String,
    /// "Too many attempts": how many seconds until the next try is allowed.
    pub retry_after: Option<u64>,
}

/// The form-level error, announced when it appears. A wait ("Too many attempts")
/// counts down on screen; a screen reader hears it once, and again when the wait is
/// over, not every second.
#[component]
pub fn FormAlert(#[prop(into)] message: Signal<Option<Alert>>) -> impl IntoView {
    view! {
        <div class="alert-slot" aria-live="assertive">
            {move || message.get().map(|a| match a.retry_after {
                None => view! { <div class="alert alert-error" role="alert">{a.text}</div> }.into_any(),
                Some(secs) => view! { <RetryCountdown secs=secs/> }.into_any(),
            })}
        </div>
    }
}

#[component]
fn RetryCountdown(secs: u64) -> impl IntoView {
    let left = RwSignal::new(secs);
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        while left.try_get_untracked().is_some_and(|n| n > 0) {
            gloo_timers::future::TimeoutFuture::new(1000).await;
            if left.try_update(|n| *n = n.saturating_sub(1)).is_none() {
                return;
            }
        }
    });
    let plural = |n: u64| if n == 1 { "" } else { "s" };
    view! {
        <div class="alert alert-error" role="alert">
            <span class="sr-only">{format!("Too many attempts. Try again in {secs} second{}.", plural(secs))}</span>
            <span aria-hidden="true">
                {move || match left.get() {
                    0 => "Too many attempts.".to_string(),
                    n => format!("Too many attempts. Try again in {n} second{}.", plural(n)),
                }}
            </span>
        </div>
        <p class="retry-ready" role="status">{move || (left.get() == 0).then_some("You can try again now.")}</p>
    }
}

/// A primary submit button that shows a spinner and cannot be pressed twice while busy.
#[component]
pub fn SubmitButton(
    label: &'static str,
    #[prop(into)] pending: Signal<bool>,
    /// A destructive action ("Disable", "Regenerate"): drawn in red.
    #[prop(optional)]
    danger: bool,
) -> impl IntoView {
    let class = if danger {
        "btn btn-danger"
    } else {
        "btn btn-primary"
    };
    view! {
        <button
            type="submit"
            class=class
            class:busy=move || pending.get()
            disabled=move || pending.get()
            aria-busy=move || if pending.get() { "true" } else { "false" }
        >
            <span class="spinner" aria-hidden="true"></span>
            <span class="label">{label}</span>
        </button>
    }
}
