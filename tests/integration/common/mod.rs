//! A real app (router, middleware, server functions) on a temporary SQLite database,
//! with the development outbox standing in for SMTP (the end-to-end tests use a real
//! SMTP server).
#![allow(dead_code)]
pub mod mmdb;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use latchkey::server::config::Config;
use latchkey::server::temp_dir::TempDir;
use latchkey::server::{http::router, store, AppState};
use std::collections::HashMap;
use std::net::SocketAddr;
use tower::ServiceExt;

/// A flow's result as the caller sees it: the server's `Error` turned into the wire's
/// `ApiError` the way a server function turns it (an unexpected error becomes
/// "Internal" with a reference).
pub trait Wire<T> {
    fn wire(self) -> Result<T, latchkey::model::error::ApiError>;
}

impl<T> Wire<T> for Result<T, latchkey::server::error::Error> {
    fn wire(self) -> Result<T, latchkey::model::error::ApiError> {
        self.map_err(Into::into)
    }
}

pub const ORIGIN: &str = "http://127.0.0.1:3000";
pub const PASSWORD: &str = "Granite-Kettle-42!";

pub struct TestApp {
    pub state: AppState,
    pub app: axum::Router,
    _dir: TempDir,
    database_url: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
    pub fn set_cookie(&self) -> Option<String> {
        self.headers
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().to_string())
    }
    /// `name=value` of the session cookie set by this reply.
    pub fn session_cookie(&self) -> String {
        let c = self.set_cookie().expect("a Set-Cookie header");
        c.split(';').next().unwrap().to_string()
    }
}

/// Runs one request through the router and reads the whole answer.
async fn reply_of(app: axum::Router, req: Request<Body>) -> Reply {
    let res: Response<Body> = app.oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn form_body(form: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish()
}

/// A server-function call as the browser sends it: same-origin POST, form encoded.
fn api_request(
    name: &str,
    body: &str,
    cookie: Option<&str>,
    extra: &[(&str, &str)],
) -> Request<Body> {
    let mut req = Request::post(format!("/api/{name}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", ORIGIN)
        .header("sec-fetch-site", "same-origin");
    // A browser of the caller's choosing, else the tests' own name.
    if !extra
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
    {
        req = req.header("user-agent", "latchkey-tests/1.0");
    }
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    req.body(Body::from(body.to_string())).unwrap()
}

/// How many of `replies` have `status`.
pub fn count_status(replies: &[Reply], status: StatusCode) -> usize {
    replies.iter().filter(|r| r.status == status).count()
}

pub async fn app_with(env: &[(&str, &str)]) -> TestApp {
    let dir = TempDir::new().unwrap();
    let database_url = match std::env::var("LATCHKEY_TEST_POSTGRES") {
        Ok(server) => fresh_postgres_database(&server).await,
        Err(_) => format!("sqlite://{}/test.db", dir.path().display()),
    };
    app_in(dir, database_url, env).await
}

/// With `LATCHKEY_TEST_POSTGRES` set (a `postgres://` URL of a server, as
/// `scripts/test.sh` sets it for its throwaway cluster), every test app gets a new,
/// empty database on that server instead of a SQLite file.
pub async fn fresh_postgres_database(server: &str) -> String {
    use sqlx::{ConnectOptions, Connection, Executor};
    let name = format!("t_{}", hex_id());
    let mut url = url::Url::parse(server).expect("LATCHKEY_TEST_POSTGRES is a postgres:// URL");
    let admin = sqlx::postgres::PgConnectOptions::from_url(&url).unwrap();
    let mut conn = admin
        .connect()
        .await
        .expect("the test PostgreSQL server answers");
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    conn.close().await.ok();
    url.set_path(&name);
    url.to_string()
}

fn hex_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{}_{:x}_{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Which database the tests run on, for the few assertions that differ.
pub fn on_postgres() -> bool {
    std::env::var_os("LATCHKEY_TEST_POSTGRES").is_some()
}

impl TestApp {
    /// The same database and data folder under other settings (a restart after the
    /// operator changed them).
    pub async fn reopen(self, env: &[(&str, &str)]) -> TestApp {
        app_in(self._dir, self.database_url, env).await
    }

    /// A second instance on the same database (as behind a load balancer).
    pub async fn another_instance(&self) -> TestApp {
        self.another_instance_with(&[]).await
    }

    /// A second instance on the same database, under these settings.
    pub async fn another_instance_with(&self, env: &[(&str, &str)]) -> TestApp {
        app_in(TempDir::new().unwrap(), self.database_url.clone(), env).await
    }
}

async fn app_in(dir: TempDir, database_url: String, env: &[(&str, &str)]) -> TestApp {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("LATCHKEY_DATABASE_URL".into(), database_url.clone()),
        (
            "LATCHKEY_SERVER_DATA_DIR".into(),
            dir.path().display().to_string(),
        ),
        ("LATCHKEY_SERVER_SECRET".into(), "42".repeat(32)),
    ]);
    for (k, v) in env {
        vars.insert(k.to_string(), v.to_string());
    }
    let config = Config::parse(
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml")),
        "Leptos.toml",
        &vars,
    )
    .unwrap();
    let options = leptos::config::LeptosOptions::builder()
        .output_name("latchkey")
        .build();
    let state = AppState::new(config, options).await.unwrap();
    let app =
        router(state.clone()).layer(MockConnectInfo(SocketAddr::from(([203, 0, 113, 7], 40000))));
    TestApp {
        state,
        app,
        _dir: dir,
        database_url,
    }
}

pub async fn app() -> TestApp {
    app_with(&[]).await
}

impl TestApp {
    pub async fn send(&self, req: Request<Body>) -> Reply {
        reply_of(self.app.clone(), req).await
    }

    /// Calls a server function the way the browser does (same-origin POST, form encoded).
    pub async fn call(&self, name: &str, form: &[(&str, &str)], cookie: Option<&str>) -> Reply {
        self.call_with(name, form, cookie, &[]).await
    }

    /// [`TestApp::call`] with extra request headers.
    pub async fn call_with(
        &self,
        name: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Reply {
        self.send(api_request(name, &form_body(form), cookie, extra))
            .await
    }

    /// Sends `n` copies of one server-function call at once, each on its own task (as
    /// an attacker's parallel connections would arrive), and gives every reply.
    pub async fn call_parallel(
        &self,
        n: usize,
        name: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> Vec<Reply> {
        let body = form_body(form);
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(n));
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let app = self.app.clone();
                let barrier = barrier.clone();
                let req = api_request(name, &body, cookie, &[]);
                tokio::spawn(async move {
                    barrier.wait().await;
                    reply_of(app, req).await
                })
            })
            .collect();
        let mut replies = Vec::with_capacity(n);
        for task in tasks {
            replies.push(task.await.unwrap());
        }
        replies
    }

    /// Sends one call of a server function per form, all at once, each on its own task,
    /// and gives the replies in the forms' order.
    pub async fn call_each_at_once(&self, name: &str, forms: &[Vec<(&str, &str)>]) -> Vec<Reply> {
        self.call_each_at_once_with(name, forms, None, &[]).await
    }

    /// [`TestApp::call_each_at_once`] with a cookie and extra request headers.
    pub async fn call_each_at_once_with(
        &self,
        name: &str,
        forms: &[Vec<(&str, &str)>],
        cookie: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Vec<Reply> {
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(forms.len()));
        let tasks: Vec<_> = forms
            .iter()
            .map(|form| {
                let app = self.app.clone();
                let barrier = barrier.clone();
                let req = api_request(name, &form_body(form), cookie, extra);
                tokio::spawn(async move {
                    barrier.wait().await;
                    reply_of(app, req).await
                })
            })
            .collect();
        let mut replies = Vec::with_capacity(forms.len());
        for task in tasks {
            replies.push(task.await.unwrap());
        }
        replies
    }

    /// The failures counted under a throttle key (its name before hashing).
    pub async fn throttle_count(&self, name: &str) -> i64 {
        let key = self
            .state
            .keys
            .hash(latchkey::server::domain::tokens::Purpose::Throttle, name);
        sqlx::query_as::<_, (i64,)>("SELECT failures FROM throttles WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.state.db)
            .await
            .unwrap()
            .map_or(0, |r| r.0)
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut req = Request::get(path).header("accept", "text/html");
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    pub async fn sign_up(&self, email: &str, password: &str) -> Reply {
        self.call(
            "sign_up",
            &[
                ("email", email),
                ("password", password),
                ("password_repeat", password),
            ],
            None,
        )
        .await
    }

    /// Signs up and follows the verification link, as an owner does.
    pub async fn sign_up_verified(&self, email: &str, password: &str) -> Reply {
        let r = self.sign_up(email, password).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let token = self.verification_token(&email.to_lowercase()).await;
        let v = self.call("verify_email", &[("token", &token)], None).await;
        assert_eq!(v.status, StatusCode::OK, "{}", v.body);
        r
    }

    /// Signs up an account with a verified address (password [`PASSWORD`]); gives its id.
    pub async fn verified_user(&self, email: &str) -> i64 {
        self.sign_up_verified(email, PASSWORD).await;
        store::users::by_email(&self.state.db, email)
            .await
            .unwrap()
            .unwrap()
            .id
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Reply {
        self.call("sign_in", &[("email", email), ("password", password)], None)
            .await
    }

    /// Waits for mail to `to` in the outbox (delivery runs in the background).
    pub async fn mail_to(&self, to: &str, count: usize) -> Vec<store::outbox::StoredMail> {
        for _ in 0..200 {
            let mails: Vec<_> = store::outbox::latest(&self.state.db, 1000)
                .await
                .unwrap()
                .into_iter()
                .filter(|m| m.to_addr == to)
                .collect();
            if mails.len() >= count {
                return mails;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("expected {count} mail(s) to {to}");
    }

    /// Waits for a mail to `to` with `subject` (delivery runs in the background).
    pub async fn mail_with_subject(&self, to: &str, subject: &str) -> store::outbox::StoredMail {
        for _ in 0..200 {
            if let Some(mail) = store::outbox::latest(&self.state.db, 1000)
                .await
                .unwrap()
                .into_iter()
                .find(|m| m.to_addr == to && m.subject == subject)
            {
                return mail;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("expected a mail \"{subject}\" to {to}");
    }

    pub async fn verification_token(&self, to: &str) -> String {
        let mail = self
            .mail_to(to, 1)
            .await
            .into_iter()
            .find(|m| m.subject.contains("Verify"))
            .unwrap();
        let start = mail.text_body.find("token=").expect("a token in the mail") + "token=".len();
        mail.text_body[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    }

    /// `base` (an address and user agent) signed in with the session `token`.
    pub async fn session_caller(
        &self,
        token: &str,
        mut base: latchkey::server::auth::Caller,
    ) -> latchkey::server::auth::Caller {
        let hash = self
            .state
            .keys
            .hash(latchkey::server::domain::tokens::Purpose::Session, token);
        let row = store::sessions::by_token_hash(&self.state.db, &hash)
            .await
            .unwrap()
            .expect("a live session");
        base.principal = Some(latchkey::server::auth::Principal::Session(
            latchkey::server::auth::Session::from(row),
        ));
        base
    }

    /// A new verified account, signed in at `at` from `base` (no MFA yet).
    pub async fn owner(
        &self,
        email: &str,
        at: i64,
        base: latchkey::server::auth::Caller,
    ) -> latchkey::server::auth::Caller {
        use latchkey::server::flows::accounts;
        self.sign_up_verified(email, PASSWORD).await;
        match accounts::sign_in(&self.state, &base, email, PASSWORD, None, at)
            .await
            .unwrap()
        {
            accounts::SignInOutcome::Session { token, .. } => {
                self.session_caller(&token, base).await
            }
            accounts::SignInOutcome::SecondFactor { .. } => panic!("expected a session"),
        }
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&self.state.db).await.unwrap();
        n
    }

    pub async fn event_kinds(&self) -> Vec<String> {
        store::events::all(&self.state.db)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }
}

/// The token of a password-reset mail's link.
pub fn reset_token(mail: &latchkey::server::store::outbox::StoredMail) -> String {
    // In the fragment: never sent to a server, so never in a proxy's log.
    assert!(
        mail.text_body.contains("/reset-password#token="),
        "{}",
        mail.text_body
    );
    let start = mail.text_body.find("token=").unwrap() + "token=".len();
    mail.text_body[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}
