//! The built site (WebAssembly, JavaScript, CSS, favicon) served from memory.
//!
//! Read once at start from `server.site_root`: each file with the `.br` and `.gz`
//! copies that `cargo leptos build --release --precompress` writes beside it. A request
//! gets the smallest encoding its `Accept-Encoding` allows (`Vary: Accept-Encoding`), a
//! strong `ETag` per encoding (`If-None-Match` answers 304), and a year of caching for
//! file names that carry a content hash (cargo-leptos `hash-files`); other files are
//! revalidated on every use. Files without precompressed copies (a debug build) are
//! compressed on the fly by the router's compression layer.
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;

/// A content coding a file is kept in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
    Identity,
}

impl Coding {
    fn suffix(self) -> &'static str {
        match self {
            Coding::Brotli => ".br",
            Coding::Gzip => ".gz",
            Coding::Identity => "",
        }
    }
    fn header(self) -> Option<&'static str> {
        match self {
            Coding::Brotli => Some("br"),
            Coding::Gzip => Some("gzip"),
            Coding::Identity => None,
        }
    }
}

struct Variant {
    coding: Coding,
    body: axum::body::Bytes,
    etag: HeaderValue,
}

struct Asset {
    content_type: HeaderValue,
    cache_control: HeaderValue,
    /// Smallest first; the identity copy is always there.
    variants: Vec<Variant>,
}

/// Every file of the site, by URL path (`/pkg/latchkey.1a2b….wasm`).
#[derive(Default)]
pub struct Assets {
    files: HashMap<String, Asset>,
}

impl Assets {
    /// Reads the site folder. A missing folder gives an empty set (the server still
    /// answers pages; they just do not hydrate), so tests need no build.
    pub fn load(root: &Path) -> std::io::Result<Assets> {
        let mut assets = Assets::default();
        if root.is_dir() {
            assets.walk(root, root)?;
        }
        Ok(assets)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    fn walk(&mut self, root: &Path, dir: &Path) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                self.walk(root, &path)?;
                continue;
            }
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            // Compressed copies belong to their original; dotfiles (.gitkeep) are not served.
            if name.ends_with(".br") || name.ends_with(".gz") || name.starts_with('.') {
                continue;
            }
            let Ok(rel) = path.strip_prefix(root) else {
                continue;
            };
            let url = format!(
                "/{}",
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/")
            );
            let mut variants = Vec::new();
            for coding in [Coding::Brotli, Coding::Gzip, Coding::Identity] {
                let file = path.with_file_name(format!(
                    "{}{}",
                    path.file_name().unwrap_or_default().to_string_lossy(),
                    coding.suffix()
                ));
                if let Ok(body) = std::fs::read(&file) {
                    variants.push(Variant {
                        coding,
                        etag: etag(&body, coding),
                        body: body.into(),
                    });
                }
            }
            let identity_len = variants
                .iter()
                .find(|v| v.coding == Coding::Identity)
                .map(|v| v.body.len())
                .unwrap_or(0);
            // A compressed copy that is not smaller is not worth sending.
            variants.retain(|v| v.coding == Coding::Identity || v.body.len() < identity_len);
            variants.sort_by_key(|v| v.body.len());
            let file_name = path.file_name().unwrap_or_default().to_string_lossy();
            self.files.insert(
                url,
                Asset {
                    content_type: HeaderValue::from_static(content_type(&file_name)),
                    cache_control: HeaderValue::from_static(if has_content_hash(&file_name) {
                        "public, max-age=31536000, immutable"
                    } else {
                        "no-cache"
                    }),
                    variants,
                },
            );
        }
        Ok(())
    }

    /// The response for `path`, or `None` when no such file exists.
    pub fn respond(&self, method: &Method, path: &str, headers: &HeaderMap) -> Option<Response> {
        if method != Method::GET && method != Method::HEAD {
            return None;
        }
        let asset = self.files.get(path)?;
        let accepted = accepted_codings(
            headers
                .get(header::ACCEPT_ENCODING)
                .and_then(|v| v.to_str().ok())
                .unwrap_or(""),
        );
        let variant = asset
            .variants
            .iter()
            .find(|v| accepted.contains(&v.coding))?;
        let mut res = Response::new(Body::empty());
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, asset.content_type.clone());
        h.insert(header::CACHE_CONTROL, asset.cache_control.clone());
        h.insert(header::ETAG, variant.etag.clone());
        if asset.variants.len() > 1 {
            h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        if let Some(coding) = variant.coding.header() {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
        }
        let not_modified = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| etag_matches(v, &variant.etag));
        if not_modified {
            *res.status_mut() = StatusCode::NOT_MODIFIED;
            return Some(res);
        }
        h.insert(
            header::CONTENT_LENGTH,
            HeaderValue::from(variant.body.len()),
        );
        if method == Method::GET {
            *res.body_mut() = Body::from(variant.body.clone());
        }
        Some(res)
    }
}

/// A strong validator: the first 128 bits of the SHA-256 of the bytes sent, marked
/// with the coding so each representation has its own.
fn etag(body: &[u8], coding: Coding) -> HeaderValue {
    let digest = Sha256::digest(body);
    let tag = format!(
        "\"{}{}\"",
        hex::encode(&digest[..16]),
        coding.header().map(|c| format!("-{c}")).unwrap_or_default()
    );
    HeaderValue::from_str(&tag).expect("hex is a valid header value")
}

/// `If-None-Match`: a list of tags or `*`; weak tags match by their opaque part.
fn etag_matches(if_none_match: &str, etag: &HeaderValue) -> bool {
    let ours = etag.to_str().unwrap_or("");
    if_none_match
        .split(',')
        .map(|t| t.trim())
        .any(|t| t == "*" || t.trim_start_matches("W/") == ours)
}

/// The codings a client accepts, from `Accept-Encoding`; identity unless refused.
pub fn accepted_codings(accept_encoding: &str) -> Vec<Coding> {
    let mut codings = Vec::new();
    let mut identity_refused = false;
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let refused = parts.any(|p| {
            let p = p.trim();
            p.strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        let coding = match name.as_str() {
            "br" => Some(Coding::Brotli),
            "gzip" | "x-gzip" => Some(Coding::Gzip),
            "identity" => {
                identity_refused = refused;
                None
            }
            "*" => {
                if !refused {
                    codings.extend([Coding::Brotli, Coding::Gzip]);
                }
                None
            }
            _ => None,
        };
        if let Some(c) = coding {
            if !refused && !codings.contains(&c) {
                codings.push(c);
            }
        }
    }
    if !identity_refused {
        codings.push(Coding::Identity);
    }
    codings
}

/// Whether a file name carries cargo-leptos's content hash (`latchkey.<22 chars>.wasm`:
/// an unpadded base64url MD5), so the file never changes under that name.
pub fn has_content_hash(file_name: &str) -> bool {
    file_name.split('.').any(|part| {
        part.len() == 22
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

fn content_type(file_name: &str) -> &'static str {
    match file_name.rsplit('.').next().unwrap_or("") {
        "wasm" => "application/wasm",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "png" => "image/png",
        "txt" => "text/plain; charset=utf-8",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_accept_encoding_with_refusals() {
        assert_eq!(
            accepted_codings("gzip, deflate, br, zstd"),
            vec![Coding::Gzip, Coding::Brotli, Coding::Identity]
        );
        assert_eq!(accepted_codings(""), vec![Coding::Identity]);
        assert_eq!(
            accepted_codings("br;q=0, gzip;q=0.5"),
            vec![Coding::Gzip, Coding::Identity]
        );
        assert_eq!(accepted_codings("identity;q=0, br"), vec![Coding::Brotli]);
        assert_eq!(
            accepted_codings("*"),
            vec![Coding::Brotli, Coding::Gzip, Coding::Identity]
        );
    }

    #[test]
    fn recognises_cargo_leptos_hashed_names() {
        assert!(has_content_hash("latchkey.bJ3r9Q-kT_0aZx8wVuY1cA.wasm"));
        assert!(!has_content_hash("latchkey.wasm"));
        assert!(!has_content_hash("latchkey_bg.wasm"));
        assert!(!has_content_hash("favicon.ico"));
        assert!(!has_content_hash("latchkey.bJ3r9Q+kT/0aZx8wVuY1cA.wasm"));
    }

    #[test]
    fn matches_etags_in_lists_and_weak_form() {
        let tag = HeaderValue::from_static("\"abc-br\"");
        assert!(etag_matches("\"abc-br\"", &tag));
        assert!(etag_matches("\"x\", W/\"abc-br\"", &tag));
        assert!(etag_matches("*", &tag));
        assert!(!etag_matches("\"abc\"", &tag));
    }

    #[test]
    fn each_coding_has_its_own_etag() {
        let a = etag(b"same", Coding::Identity);
        let b = etag(b"same", Coding::Brotli);
        assert_ne!(a, b);
        assert_eq!(a, etag(b"same", Coding::Identity));
        assert_ne!(a, etag(b"other", Coding::Identity));
    }
}
