use leptos::prelude::*;

/// The centred card of the signed-out pages, with the product name above it.
#[component]
pub fn AuthCard(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="auth">
            <p class="auth-brand">"Latchkey"</p>
            <main class="auth-card card">
                <h1>{title}</h1>
                {children()}
            </main>
        </div>
    }
}
