use crate::components::AuthCard;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found · Latchkey"/>
        <AuthCard title="Page not found">
            <p>"There is nothing at this address. Check the link, or go back to your settings."</p>
            <a class="btn btn-primary" href="/settings/security">"Go to Security settings"</a>
        </AuthCard>
    }
}
