use leptos::html;
use leptos::prelude::*;

/// A modal dialog on the native `<dialog>` element: focus moves to its first field and
/// is trapped inside, Escape and the close button cancel, and the browser returns focus
/// to the opener on close. The content is built afresh each time it opens.
///
/// `confirm_close`, while it holds a question, makes Escape and × ask it first (for a
/// step that must not be left by accident). `toast` shows the section's messages inside
/// the dialog too, above the backdrop, where a screen reader still hears them.
#[component]
pub fn Dialog(
    open: RwSignal<bool>,
    title: &'static str,
    id: &'static str,
    children: ChildrenFn,
    #[prop(optional, into)] confirm_close: Option<Signal<Option<&'static str>>>,
    #[prop(optional)] toast: Option<RwSignal<Option<String>>>,
) -> impl IntoView {
    let node = NodeRef::<html::Dialog>::new();
    Effect::new(move |_| {
        let is_open = open.get();
        if let Some(dialog) = node.get() {
            if is_open && !dialog.open() {
                let _ = dialog.show_modal();
                if let Ok(Some(first)) = dialog.query_selector("input, select, textarea") {
                    use leptos::wasm_bindgen::JsCast;
                    if let Some(first) = first.dyn_ref::<leptos::web_sys::HtmlElement>() {
                        let _ = first.focus();
                    }
                }
            } else if !is_open && dialog.open() {
                dialog.close();
            }
        }
    });
    // Whether closing may go ahead (asks the question, if there is one).
    let may_close = move || match confirm_close.and_then(|q| q.get_untracked()) {
        None => true,
        Some(question) => ask(question),
    };
    let title_id = format!("{id}-title");
    let labelled_by = title_id.clone();
    view! {
        <dialog
            node_ref=node
            class="dialog"
            id=id
            aria-modal="true"
            aria-labelledby=labelled_by
            on:cancel=move |ev: leptos::ev::Event| {
                if !may_close() {
                    ev.prevent_default();
                }
            }
            on:close=move |_| open.set(false)
        >
            <div class="dialog-header">
                <h2 id=title_id>{title}</h2>
                <button type="button" class="dialog-close" aria-label="Close" on:click=move |_| {
                    if may_close() {
                        open.set(false);
                    }
                }>
                    "×"
                </button>
            </div>
            <Show when=move || open.get()>{children()}</Show>
            {toast.map(|t| view! {
                <div class="dialog-toast" role="status">
                    {move || t.get().map(|m| view! { <p class="toast">{m}</p> })}
                </div>
            })}
        </dialog>
    }
}

/// The browser's own confirmation (keyboard and screen-reader friendly as it is).
fn ask(question: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        leptos::web_sys::window()
            .and_then(|w| w.confirm_with_message(question).ok())
            .unwrap_or(true)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = question;
        true
    }
}
