//! The experience plane's identity API as the benchmark uses it (SPEC §2): register, login,
//! refresh. Responses are read as the SDK's [`LoginResponse`], the same type the service writes,
//! so a contract change breaks this build instead of a benchmark run.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use futures_util::{stream, StreamExt as _, TryStreamExt as _};
use platform_sdk::wire::LoginResponse;
use reqwest::StatusCode;
use serde_json::json;

/// A registered user and the tokens its registration returned.
#[derive(Debug, Clone)]
pub struct Account {
    /// Unique email.
    pub email: String,
    /// Its password.
    pub password: String,
    /// The register response (access token, refresh token, session id).
    pub login: LoginResponse,
}

/// A client for one experience-service instance; cheap to clone (shares one connection pool).
#[derive(Debug, Clone)]
pub struct Api {
    client: reqwest::Client,
    urls: Arc<Urls>,
}

#[derive(Debug)]
struct Urls {
    base: String,
    register: String,
    login: String,
    refresh: String,
}

impl Api {
    /// A client for the experience service at `addr`.
    pub fn new(addr: SocketAddr) -> Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
        let base = format!("http://{addr}/api/auth");
        Ok(Self {
            client,
            urls: Arc::new(Urls {
                base: format!("http://{addr}"),
                register: format!("{base}/register"),
                login: format!("{base}/login"),
                refresh: format!("{base}/refresh"),
            }),
        })
    }

    /// Registers one fresh user (`201`).
    pub async fn register(&self) -> Result<Account> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let email = format!("bench-{id}@example.com");
        let password = format!("Bench-{id}-pw");
        let body = json!({ "email": email, "password": password, "name": "Bench User" });
        let login = self
            .post(&self.urls.register, &body, StatusCode::CREATED)
            .await
            .context("POST /api/auth/register")?;
        Ok(Account {
            email,
            password,
            login,
        })
    }

    /// Registers `n` users, `parallel` at a time (each registration hashes a password).
    pub async fn register_many(&self, n: usize, parallel: usize) -> Result<Vec<Account>> {
        stream::iter(0..n)
            .map(|_| self.register())
            .buffer_unordered(parallel.max(1))
            .try_collect()
            .await
    }

    /// Logs in (`200`).
    pub async fn login(&self, email: &str, password: &str) -> Result<LoginResponse> {
        let body = json!({ "email": email, "password": password });
        self.post(&self.urls.login, &body, StatusCode::OK)
            .await
            .context("POST /api/auth/login")
    }

    /// Rotates a refresh token (`200`, a new refresh token).
    pub async fn refresh(&self, refresh_token: &str) -> Result<LoginResponse> {
        let body = json!({ "refresh_token": refresh_token });
        self.post(&self.urls.refresh, &body, StatusCode::OK)
            .await
            .context("POST /api/auth/refresh")
    }

    /// Any JSON call on the experience plane with a bearer token; the answer's JSON (`null`
    /// when empty) when its status is `want`. A mutation (any method but GET) carries a fresh
    /// `Idempotency-Key`, as a well-behaved client sends one.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&serde_json::Value>,
        want: StatusCode,
    ) -> Result<serde_json::Value> {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.urls.base))
            .bearer_auth(token);
        if method != reqwest::Method::GET {
            request = request.header("Idempotency-Key", uuid::Uuid::new_v4().simple().to_string());
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status != want {
            let short: String = text.chars().take(300).collect();
            bail!("{method} {path}: HTTP {status} (expected {want}): {short}");
        }
        if text.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        Ok(serde_json::from_str(&text)?)
    }

    async fn post(
        &self,
        url: &str,
        body: &serde_json::Value,
        want: StatusCode,
    ) -> Result<LoginResponse> {
        let response = self.client.post(url).json(body).send().await?;
        let status = response.status();
        if status != want {
            let text = response.text().await.unwrap_or_default();
            let short: String = text.chars().take(300).collect();
            bail!("HTTP {status} (expected {want}): {short}");
        }
        Ok(response.json().await?)
    }
}
