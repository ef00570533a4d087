use crate::model::mfa::RecoveryCodes;
use leptos::prelude::*;

fn data_url(text: &str) -> String {
    let mut out = String::from("data:text/plain;charset=utf-8,");
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The recovery codes in monospace, used ones struck through, with "Download as Text
/// File" and a warning when few are left.
#[component]
pub fn RecoveryCodeList(codes: RecoveryCodes) -> impl IntoView {
    let left = codes.left();
    let href = data_url(&codes.as_text(&crate::model::time::format_date(codes.at)));
    view! {
        {(left <= 3).then(|| view! {
            <p class="notice notice-warning" role="status">
                {format!("Only {left} recovery code{} left. Regenerate them to get a fresh set of 10.", if left == 1 { "" } else { "s" })}
            </p>
        })}
        <ol class="codes" aria-label="Recovery codes">
            {codes.codes.into_iter().map(|c| view! {
                <li class="mono" class:used=c.used>
                    {c.code}
                    {c.used.then(|| view! { <span class="used-mark">" (used)"</span> })}
                </li>
            }).collect_view()}
        </ol>
        <a class="btn btn-secondary" download="latchkey-recovery-codes.txt" href=href>"Download as Text File"</a>
    }
}
