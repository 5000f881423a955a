//! A small blocking client for the HTTP API, used by `microfaas invoke`, the demo and the tests.
use std::fmt;
use std::time::Duration;

use crate::gateway::{BOOT, CALL_ID, DURATION, EXEC, QUEUE, WORKER};

/// The default API address of `microfaas serve`.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// The answer to one invocation, whatever its status.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub status: u16,
    /// The JSON output on 200, the error message otherwise.
    pub body: String,
    pub call_id: Option<u64>,
    pub worker: Option<String>,
    pub duration: Option<f64>,
    pub exec: Option<f64>,
    pub boot: Option<f64>,
    pub queue: Option<f64>,
}

impl Invocation {
    pub fn is_ok(&self) -> bool {
        self.status == 200
    }

    /// The output as JSON (on 200).
    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&self.body)
    }
}

/// The request did not get an HTTP answer.
#[derive(Debug)]
pub struct ClientError(String);

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClientError {}

impl From<ureq::Error> for ClientError {
    fn from(e: ureq::Error) -> Self {
        ClientError(e.to_string())
    }
}

/// A client for one orchestrator.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    base: String,
}

impl Client {
    /// A client for the API at `base_url` (e.g. `http://127.0.0.1:8080`); `timeout` bounds each
    /// whole request.
    pub fn new(base_url: &str, timeout: Option<Duration>) -> Client {
        let agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(timeout).build().into();
        Client { agent, base: base_url.trim_end_matches('/').to_string() }
    }

    /// `POST /function/{name}` with `body` (JSON text).
    pub fn invoke(&self, name: &str, body: &str) -> Result<Invocation, ClientError> {
        let url = format!("{}/function/{name}", self.base);
        let mut response = self
            .agent
            .post(&url)
            .header("content-type", "application/json")
            .send(body)
            .map_err(|e| ClientError(format!("POST {url}: {e}")))?;
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let seconds = |name: &str| header(name).and_then(|v| v.parse().ok());
        let mut answer = Invocation {
            status: response.status().as_u16(),
            body: String::new(),
            call_id: header(CALL_ID).and_then(|v| v.parse().ok()),
            worker: header(WORKER),
            duration: seconds(DURATION),
            exec: seconds(EXEC),
            boot: seconds(BOOT),
            queue: seconds(QUEUE),
        };
        let body = response.body_mut().read_to_string().map_err(|e| ClientError(format!("POST {url}: {e}")))?;
        answer.body = body.trim_end_matches('\n').to_string();
        Ok(answer)
    }

    /// `GET {path}`: status and body.
    pub fn get(&self, path: &str) -> Result<(u16, String), ClientError> {
        let url = format!("{}{path}", self.base);
        let mut response = self.agent.get(&url).call().map_err(|e| ClientError(format!("GET {url}: {e}")))?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().map_err(|e| ClientError(format!("GET {url}: {e}")))?;
        Ok((status, body))
    }
}
