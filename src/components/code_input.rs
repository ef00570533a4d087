use leptos::prelude::*;

/// One field for a six-digit code: numeric keypad, one-time-code autofill, pasted codes
/// with spaces accepted; `on_complete` runs when the sixth digit arrives.
#[component]
pub fn CodeInput(
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional)] on_complete: Option<Callback<()>>,
) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    super::fields::keep_typed("field-code", value);
    // A refused code stays selected, so typing the next one replaces it.
    Effect::new(move |_| {
        if error.get().is_some() {
            if let Some(el) = input.get() {
                el.select();
            }
        }
    });
    view! {
        <div class="field">
            <label for="field-code">"Code"</label>
            <input
                node_ref=input
                id="field-code"
                name="code"
                class="code-input"
                type="text"
                inputmode="numeric"
                autocomplete="one-time-code"
                maxlength="9"
                spellcheck="false"
                prop:value=move || value.get()
                on:input=move |ev| {
                    let typed = event_target_value(&ev);
                    value.set(typed.clone());
                    let digits = typed.chars().filter(char::is_ascii_digit).count();
                    if digits == 6 && typed.chars().all(|c| c.is_ascii_digit() || c.is_whitespace()) {
                        if let Some(done) = on_complete {
                            done.run(());
                        }
                    }
                }
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                aria-describedby="field-code-error"
            />
            <p class="field-error" id="field-code-error">{move || error.get()}</p>
        </div>
    }
}

/// Submits a code once: a second press with the same code while it is in flight or
/// after it succeeded does nothing (the field also submits itself).
pub fn submit_once<O: Send + Sync + 'static, E: Send + Sync + 'static>(
    action: Action<String, Result<O, E>>,
    code: RwSignal<String>,
    last: StoredValue<String>,
) {
    let current = code.get_untracked();
    let succeeded = action.value().with_untracked(|v| matches!(v, Some(Ok(_))));
    if action.pending().get_untracked() || (last.get_value() == current && succeeded) {
        return;
    }
    last.set_value(current.clone());
    action.dispatch(current);
}
