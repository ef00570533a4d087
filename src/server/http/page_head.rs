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
use std::path::{Path, PathBuf};

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

/// Where leptos (and so the server) finds `hash.txt`: beside the running binary.
pub fn hash_file(options: &LeptosOptions) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.join(options.hash_file.as_ref()))
}

/// The names `cargo leptos build --split` gives wasm-split's files when it does not
/// hash file names.
const UNHASHED_SPLIT_LOADER: &str = "__wasm_split.______________________.js";

/// Puts a string into the start-up script as a JavaScript string literal that cannot
/// end the `<script>` element, whatever the settings it came from hold.
fn js_string(s: &str) -> String {
    serde_json::to_string(s)
        .unwrap_or_default()
        .replace('<', "\\u003c")
}

impl PageHead {
    /// From leptos's options, the `hash.txt` beside the running binary and the split
    /// manifest in the site folder. What is missing or unreadable is logged (the pages
    /// would name files that do not exist) and the server goes on with plain names.
    pub fn load(options: &LeptosOptions, live_reload: bool) -> PageHead {
        let hashes = if options.hash_files {
            let path = hash_file(options);
            match path.as_ref().map(std::fs::read_to_string) {
                Some(Ok(text)) => parse_hashes(&text),
                _ => {
                    tracing::error!(
                        "file names are hashed but {} cannot be read: pages will name unhashed files",
                        path.map(|p| p.display().to_string()).unwrap_or_default()
                    );
                    Hashes::default()
                }
            }
        } else {
            Hashes::default()
        };
        let manifest_file = hashed("__wasm_split_manifest", hashes.manifest.as_ref(), "json");
        let manifest_path = Path::new(options.site_root.as_ref())
            .join(options.site_pkg_dir.as_ref())
            .join(manifest_file);
        // Only a build with --split has one.
        let manifest = std::fs::read_to_string(&manifest_path).ok();
        let head = PageHead::new(options, &hashes, manifest.as_deref(), live_reload);
        if manifest.is_some() && head.chunks.is_empty() {
            tracing::error!(
                "{} names no lazy route: pages will not preload their code",
                manifest_path.display()
            );
        }
        head
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
        // No top-level await: browsers without it would never hydrate.
        // The `js` class hides what only a browser without script needs (`.without-script`)
        // from the moment the script runs, before hydration removes it.
        let bootstrap = format!(
            "import init, {{ hydrate }} from {};\n\
             document.documentElement.classList.add(\"js\");\n\
             init({{ module_or_path: {} }}).then(() => hydrate());",
            js_string(&script),
            js_string(&wasm)
        );
        let chunks = manifest
            .map(|m| parse_manifest(m, &pkg))
            .unwrap_or_default();
        let split_loader = (!chunks.is_empty()).then(|| match &hashes.split {
            Some(h) => format!("{pkg}/__wasm_split.{h}.js"),
            None => format!("{pkg}/{UNHASHED_SPLIT_LOADER}"),
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
        assert_eq!(
            head.bootstrap,
            "import init, { hydrate } from \"/pkg/latchkey.J1.js\";\n\
             document.documentElement.classList.add(\"js\");\n\
             init({ module_or_path: \"/pkg/latchkey.W2.wasm\" }).then(() => hydrate());"
        );
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
        let renamed_by_cargo_leptos = option_env!("LEPTOS_OUTPUT_NAME").is_some();
        let wasm = if renamed_by_cargo_leptos {
            "latchkey"
        } else {
            "latchkey_bg"
        };
        assert_eq!(head.wasm, format!("/pkg/{wasm}.wasm"));
        assert_eq!(head.split_loader, None);
        assert!(head.chunks("sign_in_route").is_empty());
        // --split without hashed names: cargo-leptos's placeholder name for the loader.
        let head = PageHead::new(&options(), &Hashes::default(), Some(MANIFEST), false);
        assert_eq!(
            head.split_loader.as_deref(),
            Some("/pkg/__wasm_split.______________________.js")
        );
        assert_eq!(head.chunks("activity_route").len(), 2);
    }

    #[test]
    fn settings_cannot_end_the_start_up_script() {
        let mut o = options();
        o.site_pkg_dir = "pkg</script><script>alert(1)//".into();
        let head = PageHead::new(&o, &Hashes::default(), None, false);
        assert!(!head.bootstrap.contains('<'), "{}", head.bootstrap);
        assert!(head.bootstrap.contains(r"\u003c/script>"));
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
