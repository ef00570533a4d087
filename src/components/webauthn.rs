//! The browser's passkey prompts (`navigator.credentials.create` / `.get`), with the
//! options and answers as JSON strings: the server sends `publicKey` as JSON, the
//! browser's own `PublicKeyCredential.parse*OptionsFromJSON` reads it, and the answer
//! goes back as `toJSON()`. No WebAuthn types are compiled into the WebAssembly.

/// Why a prompt gave no passkey.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PromptError {
    /// Cancelled, timed out, or no passkey of this site on the device.
    NotAllowed,
    /// "Add a passkey": this authenticator already holds one for the account.
    AlreadyThere,
    /// Another prompt took its place (the autofill request, when a button is pressed).
    Aborted,
    /// This browser (or this address) offers no passkeys.
    Unsupported,
    Other(String),
}

impl PromptError {
    /// What the page says.
    pub fn message(&self, creating: bool) -> String {
        match self {
            PromptError::NotAllowed if creating => {
                "No passkey was created: the prompt was cancelled or timed out. Try again when you are ready.".into()
            }
            PromptError::NotAllowed => {
                "No passkey was used: the prompt was cancelled, or this device has no passkey for this site. Try again, or use another way to sign in.".into()
            }
            PromptError::AlreadyThere => {
                "This device already holds a passkey for your account. Use another device or password manager, or remove the old passkey first.".into()
            }
            PromptError::Aborted => String::new(),
            PromptError::Unsupported => {
                "This browser cannot use passkeys. Update it, or use another method.".into()
            }
            PromptError::Other(e) => format!("The passkey prompt failed: {e}"),
        }
    }
}

/// Whether this browser, at this address, can use passkeys: WebAuthn with its JSON
/// helpers, on a domain name (browsers refuse passkeys for an IP address, and the
/// server offers them only for a domain).
pub fn supported() -> bool {
    #[cfg(feature = "hydrate")]
    {
        imp::supported()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        false
    }
}

/// A pending request's abort handle (the sign-in page's autofill request).
#[derive(Clone, Default)]
pub struct Abort(#[cfg(feature = "hydrate")] Option<leptos::web_sys::AbortController>);

impl Abort {
    pub fn new() -> Abort {
        #[cfg(feature = "hydrate")]
        {
            Abort(leptos::web_sys::AbortController::new().ok())
        }
        #[cfg(not(feature = "hydrate"))]
        {
            Abort()
        }
    }

    pub fn abort(&self) {
        #[cfg(feature = "hydrate")]
        if let Some(c) = &self.0 {
            c.abort();
        }
    }
}

/// `navigator.credentials.create({publicKey})`: the new credential as JSON.
pub async fn create(options: &str) -> Result<String, PromptError> {
    #[cfg(feature = "hydrate")]
    {
        imp::prompt(
            "create",
            "parseCreationOptionsFromJSON",
            options,
            None,
            None,
        )
        .await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = options;
        Err(PromptError::Unsupported)
    }
}

/// `navigator.credentials.get({publicKey})`, or with `conditional`, the autofill
/// request (`mediation: "conditional"`) that `abort` can end: the assertion as JSON.
pub async fn get(options: &str, conditional: Option<&Abort>) -> Result<String, PromptError> {
    #[cfg(feature = "hydrate")]
    {
        imp::prompt(
            "get",
            "parseRequestOptionsFromJSON",
            options,
            conditional.map(|_| "conditional"),
            conditional.and_then(|a| a.0.as_ref().map(|c| c.signal())),
        )
        .await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (options, conditional);
        Err(PromptError::Unsupported)
    }
}

/// Whether the browser offers passkeys in the address field's autofill.
pub async fn autofill_available() -> bool {
    #[cfg(feature = "hydrate")]
    {
        imp::autofill_available().await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        false
    }
}

#[cfg(feature = "hydrate")]
mod imp {
    use super::PromptError;
    use leptos::wasm_bindgen::{JsCast, JsValue};
    use leptos::web_sys::js_sys::{Function, Object, Promise, Reflect, JSON};

    fn get(target: &JsValue, key: &str) -> Option<JsValue> {
        Reflect::get(target, &JsValue::from_str(key))
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
    }

    fn public_key_credential() -> Option<JsValue> {
        get(&leptos::web_sys::js_sys::global(), "PublicKeyCredential")
    }

    pub fn supported() -> bool {
        let Some(pkc) = public_key_credential() else {
            return false;
        };
        let host = leptos::web_sys::window()
            .and_then(|w| w.location().hostname().ok())
            .unwrap_or_default();
        get(&pkc, "parseRequestOptionsFromJSON").is_some()
            && !host.is_empty()
            && host.parse::<std::net::IpAddr>().is_err()
            && !host.starts_with('[')
    }

    pub async fn autofill_available() -> bool {
        let Some(pkc) = public_key_credential() else {
            return false;
        };
        let Some(f) = get(&pkc, "isConditionalMediationAvailable")
            .and_then(|f| f.dyn_into::<Function>().ok())
        else {
            return false;
        };
        let Ok(p) = f.call0(&pkc).and_then(|p| p.dyn_into::<Promise>()) else {
            return false;
        };
        wasm_bindgen_futures::JsFuture::from(p)
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    }

    fn other(e: JsValue) -> PromptError {
        PromptError::Other(
            get(&e, "message")
                .and_then(|m| m.as_string())
                .unwrap_or_else(|| "unknown error".into()),
        )
    }

    pub async fn prompt(
        method: &str,
        parse: &str,
        options: &str,
        mediation: Option<&str>,
        signal: Option<leptos::web_sys::AbortSignal>,
    ) -> Result<String, PromptError> {
        if !supported() {
            return Err(PromptError::Unsupported);
        }
        let pkc = public_key_credential().ok_or(PromptError::Unsupported)?;
        let parse: Function = get(&pkc, parse)
            .and_then(|f| f.dyn_into().ok())
            .ok_or(PromptError::Unsupported)?;
        let json = JSON::parse(options).map_err(other)?;
        let public_key = parse.call1(&pkc, &json).map_err(other)?;
        let arg = Object::new();
        let _ = Reflect::set(&arg, &"publicKey".into(), &public_key);
        if let Some(m) = mediation {
            let _ = Reflect::set(&arg, &"mediation".into(), &m.into());
        }
        if let Some(s) = signal {
            let _ = Reflect::set(&arg, &"signal".into(), &s);
        }
        let navigator = leptos::web_sys::window()
            .map(|w| JsValue::from(w.navigator()))
            .ok_or(PromptError::Unsupported)?;
        let credentials = get(&navigator, "credentials").ok_or(PromptError::Unsupported)?;
        let call: Function = get(&credentials, method)
            .and_then(|f| f.dyn_into().ok())
            .ok_or(PromptError::Unsupported)?;
        let promise: Promise = call
            .call1(&credentials, &arg)
            .and_then(|p| p.dyn_into())
            .map_err(other)?;
        let credential = wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .map_err(
                |e| match get(&e, "name").and_then(|n| n.as_string()).as_deref() {
                    Some("NotAllowedError") => PromptError::NotAllowed,
                    Some("InvalidStateError") => PromptError::AlreadyThere,
                    Some("AbortError") => PromptError::Aborted,
                    _ => other(e),
                },
            )?;
        let to_json: Function = get(&credential, "toJSON")
            .and_then(|f| f.dyn_into().ok())
            .ok_or(PromptError::Unsupported)?;
        let answer = to_json.call0(&credential).map_err(other)?;
        JSON::stringify(&answer)
            .ok()
            .and_then(|s| s.as_string())
            .ok_or_else(|| PromptError::Other("the answer does not read".into()))
    }
}
