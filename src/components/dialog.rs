use leptos::html;
use leptos::prelude::*;

/// A modal dialog on the native `<dialog>` element: focus moves to its first field and
/// is trapped inside, Escape and the close button cancel, and the browser returns focus
/// to the opener on close. The content is built afresh each time it opens.
#[component]
pub fn Dialog(
    open: RwSignal<bool>,
    title: &'static str,
    id: &'static str,
    children: ChildrenFn,
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
    let title_id = format!("{id}-title");
    let labelled_by = title_id.clone();
    view! {
        <dialog node_ref=node class="dialog" id=id aria-modal="true" aria-labelledby=labelled_by on:close=move |_| open.set(false)>
            <div class="dialog-header">
                <h2 id=title_id>{title}</h2>
                <button type="button" class="dialog-close" aria-label="Close" on:click=move |_| open.set(false)>
                    "×"
                </button>
            </div>
            <Show when=move || open.get()>{children()}</Show>
        </dialog>
    }
}
