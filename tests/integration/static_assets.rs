//! The built site served from memory: precompressed copies chosen by Accept-Encoding,
//! a year of caching for hashed names, ETag revalidation, and pages compressed on
//! the fly.

use crate::common;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use latchkey::server::temp_dir::TempDir;
use tower::ServiceExt;

const HASHED: &str = "latchkey.bJ3r9Q-kT_0aZx8wVuY1cA.wasm";

struct Site {
    dir: TempDir,
    wasm: Vec<u8>,
}

/// A site folder as `cargo leptos build --release --precompress` leaves it.
fn site() -> Site {
    let dir = TempDir::new().unwrap();
    let pkg = dir.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    // Repetitive, so each compressed copy is much smaller than the original.
    let wasm: Vec<u8> = (0..20_000u32).flat_map(|i| (i % 7).to_le_bytes()).collect();
    std::fs::write(pkg.join(HASHED), &wasm).unwrap();
    std::fs::write(pkg.join(format!("{HASHED}.br")), b"brotli copy").unwrap();
    std::fs::write(pkg.join(format!("{HASHED}.gz")), b"gzip copy, a bit longer").unwrap();
    std::fs::write(dir.path().join("favicon.ico"), b"icon bytes").unwrap();
    Site { dir, wasm }
}

async fn get(
    app: &common::TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::get(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app
        .app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, headers, body)
}

async fn app_on(site: &Site) -> common::TestApp {
    common::app_with(&[(
        "LATCHKEY_SERVER_SITE_ROOT",
        site.dir.path().to_str().unwrap(),
    )])
    .await
}

#[tokio::test]
async fn hashed_files_come_precompressed_and_cached_for_a_year() {
    let site = site();
    let app = app_on(&site).await;
    let path = format!("/pkg/{HASHED}");

    let (status, h, body) = get(&app, &path, &[("accept-encoding", "gzip, deflate, br")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"brotli copy");
    assert_eq!(h["content-encoding"], "br");
    assert_eq!(h["content-type"], "application/wasm");
    assert_eq!(h["vary"], "accept-encoding");
    assert_eq!(h["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(h["content-length"], "11");
    let br_tag = h["etag"].to_str().unwrap().to_string();

    let (_, h, body) = get(&app, &path, &[("accept-encoding", "gzip")]).await;
    assert_eq!(body, b"gzip copy, a bit longer");
    assert_eq!(h["content-encoding"], "gzip");
    assert_ne!(h["etag"].to_str().unwrap(), br_tag);

    let (_, h, body) = get(&app, &path, &[]).await;
    assert_eq!(body, site.wasm);
    assert!(h.get("content-encoding").is_none());

    // The compression layer leaves a precompressed answer alone.
    let (_, h, _) = get(
        &app,
        &path,
        &[("accept-encoding", "br;q=0, gzip;q=0, identity")],
    )
    .await;
    assert!(h.get("content-encoding").is_none());
}

#[tokio::test]
async fn a_matching_etag_answers_304_without_a_body() {
    let site = site();
    let app = app_on(&site).await;
    let path = format!("/pkg/{HASHED}");
    let (_, h, _) = get(&app, &path, &[("accept-encoding", "br")]).await;
    let tag = h["etag"].to_str().unwrap().to_string();

    let (status, h, body) = get(
        &app,
        &path,
        &[("accept-encoding", "br"), ("if-none-match", &tag)],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(h["etag"].to_str().unwrap(), tag);

    // The brotli tag does not validate the gzip copy.
    let (status, _, _) = get(
        &app,
        &path,
        &[("accept-encoding", "gzip"), ("if-none-match", &tag)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn unhashed_files_are_revalidated_and_unknown_files_are_404() {
    let site = site();
    let app = app_on(&site).await;
    let (status, h, body) = get(&app, "/favicon.ico", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"icon bytes");
    assert_eq!(h["content-type"], "image/x-icon");
    assert_eq!(h["cache-control"], "no-cache");

    let (status, _, _) = get(&app, "/pkg/missing.js", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A path that climbs out of the site folder finds nothing.
    let (status, _, _) = get(&app, "/pkg/../../Cargo.toml", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pages_are_gzipped_on_the_fly_and_never_cached() {
    let site = site();
    let app = app_on(&site).await;
    let (status, h, body) = get(
        &app,
        "/signin",
        &[
            ("accept", "text/html"),
            ("accept-encoding", "gzip, deflate, br"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["content-encoding"], "gzip");
    assert_eq!(h["cache-control"], "no-store");
    let mut html = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&body[..]), &mut html).unwrap();
    assert!(html.contains("Sign in"));
    // Brotli alone is not made on the fly: the page goes uncompressed.
    let (_, h, _) = get(
        &app,
        "/signin",
        &[("accept", "text/html"), ("accept-encoding", "br")],
    )
    .await;
    assert!(h.get("content-encoding").is_none());
}
