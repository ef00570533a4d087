//! "Request Code" with its countdown: locked after every send until the resend
//! interval is over, showing the seconds left ("Request Code (42)").
use crate::model::error::ApiError;
use crate::model::mfa::CodeSent;
use leptos::prelude::*;

/// The browser's clock, in milliseconds (0 on the server, where nothing counts down).
pub fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        leptos::web_sys::js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

/// When another code may be asked for: a moment on the browser's clock, kept by the
/// dialog or page that owns the step, so the count survives re-renders of the button.
#[derive(Clone, Copy)]
pub struct ResendClock {
    until: RwSignal<Option<f64>>,
}

impl Default for ResendClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ResendClock {
    pub fn new() -> ResendClock {
        ResendClock {
            until: RwSignal::new(None),
        }
    }

    /// Starts the count: `secs` until the next send is allowed.
    pub fn lock_for(&self, secs: u64) {
        self.until.set(Some(now_ms() + secs as f64 * 1000.0));
    }

    /// Reads a send's answer: a code went out (count the interval), or the server
    /// refused an early resend and said how long is left (count that). Gives whether
    /// the answer was one of those two.
    pub fn follow(&self, answer: &Result<CodeSent, ApiError>) -> bool {
        match answer {
            Ok(sent) => {
                self.lock_for(sent.resend_in);
                true
            }
            Err(ApiError::TooManyRequests { retry_after }) => {
                self.lock_for(*retry_after);
                true
            }
            Err(_) => false,
        }
    }
}

fn seconds_left(until: Option<f64>) -> u64 {
    match until {
        Some(t) => ((t - now_ms()) / 1000.0).ceil().max(0.0) as u64,
        None => 0,
    }
}

/// The "Request Code" button. While locked it is disabled and counts down; a screen
/// reader hears once how long the wait is and once when it is over, not every second.
#[component]
pub fn ResendButton(
    clock: ResendClock,
    #[prop(into)] pending: Signal<bool>,
    on_request: Callback<()>,
    /// The id of a plain form that sends the request when the script has not run yet
    /// (or is off): the button submits it; once the script runs, the press is its own.
    #[prop(optional)]
    form: Option<&'static str>,
) -> impl IntoView {
    let left = RwSignal::new(seconds_left(clock.until.get_untracked()));
    // What a screen reader hears: the wait when a count starts, and its end.
    let announced = RwSignal::new(String::new());
    let plural = |n: u64| if n == 1 { "" } else { "s" };
    // Each new lock starts one ticking loop; an older loop sees the generation change
    // and stops, and every loop stops when the button is gone.
    let generation = StoredValue::new(0u32);
    Effect::new(move |_| {
        let until = clock.until.get();
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        let start = seconds_left(until);
        left.set(start);
        if start > 0 {
            announced.set(format!(
                "You can request a new code in {start} second{}.",
                plural(start)
            ));
        }
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            loop {
                if generation.try_get_value() != Some(mine) {
                    return;
                }
                let n = seconds_left(until);
                if left.try_set(n).is_some() {
                    return;
                }
                if n == 0 {
                    if start > 0 {
                        announced.set("You can request a new code now.".into());
                    }
                    return;
                }
                // Wake at the next whole second of the count.
                let to_next = until.unwrap_or(0.0) - now_ms() - (n - 1) as f64 * 1000.0;
                gloo_timers::future::TimeoutFuture::new(to_next.clamp(20.0, 1000.0) as u32).await;
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = mine;
    });
    let locked = move || left.get() > 0;
    view! {
        // aria-disabled, not disabled: a button pressed by keyboard keeps the focus
        // while it counts down, instead of dropping it to the page.
        <button
            type=if form.is_some() { "submit" } else { "button" }
            form=form
            class="btn btn-secondary"
            aria-disabled=move || if locked() || pending.get() { "true" } else { "false" }
            aria-describedby="resend-status"
            on:click=move |ev| {
                ev.prevent_default();
                if !locked() && !pending.get_untracked() {
                    on_request.run(());
                }
            }
        >
            {move || match left.get() {
                0 => "Request Code".to_string(),
                n => format!("Request Code ({n})"),
            }}
        </button>
        <p class="sr-only" id="resend-status" role="status">{move || announced.get()}</p>
    }
}
