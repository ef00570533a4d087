//! What every page's `<head>` links to, worked out once at start.
//!
//! leptos's own `HydrationScripts` and `HashedStylesheet` read `hash.txt` from disk
//! on every page they render, and the preloads of a lazy page's WebAssembly chunks
//! were added by code that looked up the split manifest outside the request's
//! reactive owner: about half the answers carried them, which ones depending on the
//! thread that happened to poll the response. Here the file names, the start-up
//! script and each page's chunks are known once; a page adds only its nonce.
use leptos::config::LeptosOptions;
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PageHead {
    /// `/pkg/latchkey.<hash>.css`
    pub stylesheet: String,
    /// The JavaScript glue of the WebAssembly module.
    pub script: String,
    pub wasm: String,
    /// The inline module that loads the WebAssembly and hydrates the page.
    pub bootstrap: String,
    /// wasm-split's loader, when the site was built with `--split`.
    pub split_loader: Option<String>,
    /// Per lazy route (`sign_in_route`), the chunks its code needs.
    chunks: HashMap<String, Vec<String>>,
    /// `cargo leptos watch` is running: pages include its live-reload script.
    pub live_reload: bool,
}

/// The file names `cargo leptos build` gave the site's files, from its `hash.txt`.
#[derive(Debug, Default, PartialEq, Eq)]
struct Hashes {
    js: Option<String>,
    wasm: Option<String>,
    css: Option<String>,
    manifest: Option<String>,
    split: Option<String>,
}

fn parse_hashes(text: &str) -> Hashes {
    let mut h = Hashes::default();
    for line in text.lines() {
        let Some((file, hash)) = line.trim().split_once(':') else {
            continue;
        };
        let hash = Some(hash.trim())
            .filter(|h| !h.is_empty())
            .map(String::from);
        match file.trim() {
            "js" => h.js = hash,
            "wasm" => h.wasm = hash,
            "css" => h.css = hash,
            "manifest" => h.manifest = hash,
            "split" => h.split = hash,
            _ => {}
        }
    }
    h
}

fn hashed(name: &str, hash: Option<&String>, ext: &str) -> String {
    match hash {
        Some(h) => format!("{name}.{h}.{ext}"),
        None => format!("{name}.{ext}"),
    }
}

/// The split manifest maps each lazy function (`__sign_in_route_view_<n>`) to the
/// chunks it needs; kept by route (`sign_in_route`) as URLs.
fn parse_manifest(json: &str, pkg: &str) -> HashMap<String, Vec<String>> {
    let Ok(map) = serde_json::from_str::<HashMap<String, Vec<String>>>(json) else {
        return HashMap::new();
    };
    map.into_iter()
        .filter_map(|(key, modules)| {
            let name = key.strip_prefix("__")?;
            let (route, n) = name.rsplit_once("_view_")?;
            n.bytes().all(|b| b.is_ascii_digit()).then_some(())?;
            let urls = modules
                .into_iter()
                .map(|m| format!("{pkg}/{m}.wasm"))
                .collect();
            Some((route.to_string(), urls))
        })
        .collect()
}

impl PageHead {
    /// From leptos's options and the `hash.txt` beside the running binary (as
    /// leptos itself finds it); a missing file gives unhashed names.
    pub fn load(options: &LeptosOptions) -> PageHead {
        let hashes = if options.hash_files {
            std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(|d| d.join(options.hash_file.as_ref())))
                .and_then(|p| std::fs::read_to_string(p).ok())
                .map(|t| parse_hashes(&t))
                .unwrap_or_default()
        } else {
            Hashes::default()
        };
        let manifest_file = hashed("__wasm_split_manifest", hashes.manifest.as_ref(), "json");
        let manifest = std::fs::read_to_string(
            Path::new(options.site_root.as_ref())
                .join(options.site_pkg_dir.as_ref())
                .join(manifest_file),
        )
        .ok();
        PageHead::new(
            options,
            &hashes,
            manifest.as_deref(),
            std::env::var_os("LEPTOS_WATCH").is_some(),
        )
    }

    fn new(
        options: &LeptosOptions,
        hashes: &Hashes,
        manifest: Option<&str>,
        live_reload: bool,
    ) -> PageHead {
        let pkg = format!("/{}", options.site_pkg_dir);
        let name = options.output_name.as_ref();
        // wasm-bindgen names the module `<name>_bg.wasm` unless cargo-leptos (which
        // sets LEPTOS_OUTPUT_NAME when it builds) renamed it.
        let wasm_name = if hashes.wasm.is_none() && option_env!("LEPTOS_OUTPUT_NAME").is_none() {
            format!("{name}_bg")
        } else {
            name.to_string()
        };
        let script = format!("{pkg}/{}", hashed(name, hashes.js.as_ref(), "js"));
        let wasm = format!("{pkg}/{}", hashed(&wasm_name, hashes.wasm.as_ref(), "wasm"));
        let bootstrap = format!(
            "import init, {{ hydrate }} from {script:?};\n\
             await init({{ module_or_path: {wasm:?} }});\n\
             hydrate();"
        );
        let chunks = manifest
            .map(|m| parse_manifest(m, &pkg))
            .unwrap_or_default();
        let split_loader = (!chunks.is_empty()).then(|| {
            format!(
                "{pkg}/{}",
                hashed("__wasm_split", hashes.split.as_ref(), "js")
            )
        });
        PageHead {
            stylesheet: format!("{pkg}/{}", hashed(name, hashes.css.as_ref(), "css")),
            script,
            wasm,
            bootstrap,
            split_loader,
            chunks,
            live_reload,
        }
    }

    /// The chunks a lazy route's code needs (empty without `--split`).
    pub fn chunks(&self, route: &str) -> &[String] {
        self.chunks
            .get(route)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> LeptosOptions {
        LeptosOptions::builder().output_name("latchkey").build()
    }

    const HASHES: &str = "js: J1\nwasm: W2\ncss: C3\nmanifest: M4\nsplit: S5\n";
    const MANIFEST: &str = r#"{
        "__sign_in_route_view_4410272863461801291": ["chunk_1.a", "split___sign_in_route_view_4410272863461801291.b"],
        "__activity_route_view_4410272863461801291": ["chunk_1.a", "chunk_2.c"],
        "some_other_thing": ["chunk_9.z"]
    }"#;

    #[test]
    fn hashed_names_come_from_hash_txt() {
        let head = PageHead::new(&options(), &parse_hashes(HASHES), Some(MANIFEST), false);
        assert_eq!(head.stylesheet, "/pkg/latchkey.C3.css");
        assert_eq!(head.script, "/pkg/latchkey.J1.js");
        assert_eq!(head.wasm, "/pkg/latchkey.W2.wasm");
        assert_eq!(
            head.split_loader.as_deref(),
            Some("/pkg/__wasm_split.S5.js")
        );
        assert!(head.bootstrap.contains(r#"from "/pkg/latchkey.J1.js""#));
        assert!(head
            .bootstrap
            .contains(r#"module_or_path: "/pkg/latchkey.W2.wasm""#));
        assert!(head.bootstrap.ends_with("hydrate();"));
    }

    #[test]
    fn each_route_gets_the_chunks_its_code_needs() {
        let head = PageHead::new(&options(), &parse_hashes(HASHES), Some(MANIFEST), false);
        assert_eq!(
            head.chunks("sign_in_route"),
            [
                "/pkg/chunk_1.a.wasm",
                "/pkg/split___sign_in_route_view_4410272863461801291.b.wasm"
            ]
        );
        assert_eq!(
            head.chunks("activity_route"),
            ["/pkg/chunk_1.a.wasm", "/pkg/chunk_2.c.wasm"]
        );
        assert!(head.chunks("some_other_thing").is_empty());
        assert!(head.chunks("no_such_route").is_empty());
    }

    #[test]
    fn without_hashes_or_split_the_names_are_plain() {
        let head = PageHead::new(&options(), &Hashes::default(), None, false);
        assert_eq!(head.stylesheet, "/pkg/latchkey.css");
        assert_eq!(head.script, "/pkg/latchkey.js");
        assert!(head.wasm == "/pkg/latchkey_bg.wasm" || head.wasm == "/pkg/latchkey.wasm");
        assert_eq!(head.split_loader, None);
        assert!(head.chunks("sign_in_route").is_empty());
    }

    #[test]
    fn a_damaged_manifest_or_hash_file_gives_no_preloads_not_a_panic() {
        let head = PageHead::new(
            &options(),
            &parse_hashes("js\n: \nnonsense"),
            Some("{nope"),
            false,
        );
        assert_eq!(head.split_loader, None);
        assert_eq!(head.script, "/pkg/latchkey.js");
    }
}
