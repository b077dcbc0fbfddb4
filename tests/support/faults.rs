//! Fault and latency injection between the SDK and the emulator, as a wrapper around the SDK's
//! HTTP client. Injected faults are real HTTP responses in each service's wire shape, so the
//! SDK's own retry classifier sees exactly what AWS would send:
//! `ThrottlingException` JSON for JSON-protocol services, `Throttling` XML for query-protocol
//! services, `SlowDown` for S3; 500/503; and connection resets (an I/O error on dispatch).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;

use crate::aws_profile::{AwsProfile, Buckets};

#[derive(Debug, Clone, Default)]
pub struct FaultConfig {
    /// Added to every call before it is sent.
    pub latency: Duration,
    /// Uniform extra delay in [0, jitter).
    pub jitter: Duration,
    /// Fractions of calls answered with a throttling error, a 500/503, or a reset connection.
    pub throttle: f64,
    pub server_error: f64,
    pub reset: f64,
    /// Calls whose URI or body contains one of these answer 403 AccessDenied, always: a way to
    /// make exactly one account fail (its id appears in its requests).
    pub deny_matching: Vec<String>,
    pub seed: u64,
    /// AWS's rates and latencies (token buckets per account × region × operation, a latency
    /// per call) instead of `latency` and `jitter`.
    pub profile: Option<AwsProfile>,
    /// Faults are transient: a call's attempts after this many (the SDK numbers them in its
    /// `amz-sdk-request` header) pass untouched, so that whether a call outlives its retries
    /// never depends on which attempts a shared random sequence happens to hit. `None`: every
    /// attempt may be hit. Denials and the profile's rate limits are never capped.
    pub faulted_attempts: Option<u32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WireCount {
    pub calls: u64,
    pub throttled: u64,
    pub server_errors: u64,
    pub resets: u64,
    pub denied: u64,
}

#[derive(Debug)]
struct State {
    rng: u64,
    counts: BTreeMap<String, WireCount>,
    buckets: Buckets,
}

#[derive(Debug, Clone)]
pub struct FaultInjector {
    inner: SharedHttpClient,
    config: Arc<FaultConfig>,
    state: Arc<Mutex<State>>,
}

impl FaultInjector {
    pub fn new(inner: SharedHttpClient, config: FaultConfig) -> Self {
        let seed = config.seed.max(1);
        FaultInjector {
            inner,
            config: Arc::new(config),
            state: Arc::new(Mutex::new(State {
                rng: seed,
                counts: BTreeMap::new(),
                buckets: Buckets::default(),
            })),
        }
    }

    pub fn shared(&self) -> SharedHttpClient {
        SharedHttpClient::new(self.clone())
    }

    /// Calls seen on the wire, per "service:Operation".
    pub fn counts(&self) -> BTreeMap<String, WireCount> {
        self.state
            .lock()
            .map(|s| s.counts.clone())
            .unwrap_or_default()
    }

    pub fn total(&self) -> WireCount {
        self.counts()
            .values()
            .fold(WireCount::default(), |a, c| WireCount {
                calls: a.calls + c.calls,
                throttled: a.throttled + c.throttled,
                server_errors: a.server_errors + c.server_errors,
                resets: a.resets + c.resets,
                denied: a.denied + c.denied,
            })
    }
}

impl HttpClient for FaultInjector {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(FaultConnector {
            inner: self.inner.http_connector(settings, components),
            injector: self.clone(),
        })
    }
}

#[derive(Debug)]
struct FaultConnector {
    inner: SharedHttpConnector,
    injector: FaultInjector,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Json,
    Query,
    RestXml,
}

/// The access key and region of the SigV4 credential scope: whose bucket a call draws from (a
/// run holds one session, so one key, per account).
pub(crate) fn scope(req: &HttpRequest) -> (String, String) {
    let auth = req.headers().get("authorization").unwrap_or_default();
    let mut parts = auth
        .split("Credential=")
        .nth(1)
        .unwrap_or_default()
        .split('/');
    let key = parts.next().unwrap_or_default().to_string();
    let region = parts.nth(1).unwrap_or_default().to_string();
    (key, region)
}

/// The attempt number the SDK gives a call (`amz-sdk-request: attempt=N; max=M`); 1 without it.
fn attempt(req: &HttpRequest) -> u32 {
    req.headers()
        .get("amz-sdk-request")
        .and_then(|h| {
            h.split(';')
                .find_map(|kv| kv.trim().strip_prefix("attempt="))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(1)
}

/// The service from the SigV4 credential scope, the operation from the protocol's own field.
fn classify(req: &HttpRequest) -> (String, Protocol, String) {
    let auth = req.headers().get("authorization").unwrap_or_default();
    let service = auth
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').nth(3))
        .unwrap_or("unknown")
        .to_string();
    let body = req
        .body()
        .bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    if let Some(target) = req.headers().get("x-amz-target") {
        let op = target.rsplit('.').next().unwrap_or(target).to_string();
        return (service, Protocol::Json, op);
    }
    if let Some(action) = body.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
        return (service, Protocol::Query, action.to_string());
    }
    (service, Protocol::RestXml, req.method().to_string())
}

#[allow(clippy::expect_used)] // only ever called with the constant statuses below
fn response(
    status: u16,
    content_type: &str,
    body: String,
    error_type: Option<&str>,
) -> Response<SdkBody> {
    let mut r = Response::new(
        StatusCode::try_from(status).expect("a valid HTTP status"),
        SdkBody::from(body),
    );
    r.headers_mut()
        .insert("content-type", content_type.to_string());
    r.headers_mut()
        .insert("x-amzn-requestid", "trailhead-fault-injector".to_string());
    if let Some(t) = error_type {
        r.headers_mut().insert("x-amzn-errortype", t.to_string());
    }
    r
}

fn throttle(protocol: Protocol) -> Response<SdkBody> {
    match protocol {
        Protocol::Json => response(
            400,
            "application/x-amz-json-1.1",
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into(),
            Some("ThrottlingException"),
        ),
        Protocol::Query => response(
            400,
            "text/xml",
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>trailhead-fault-injector</RequestId></ErrorResponse>".into(),
            None,
        ),
        Protocol::RestXml => response(
            503,
            "application/xml",
            "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>trailhead-fault-injector</RequestId></Error>".into(),
            None,
        ),
    }
}

fn server_error(protocol: Protocol, status: u16) -> Response<SdkBody> {
    match protocol {
        Protocol::Json => response(
            status,
            "application/x-amz-json-1.1",
            r#"{"__type":"InternalFailure","message":"injected"}"#.into(),
            Some("InternalFailure"),
        ),
        _ => response(
            status,
            "text/xml",
            "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>injected</Message></Error></ErrorResponse>".into(),
            None,
        ),
    }
}

fn denied(protocol: Protocol) -> Response<SdkBody> {
    match protocol {
        Protocol::Json => response(
            400,
            "application/x-amz-json-1.1",
            r#"{"__type":"AccessDeniedException","message":"injected denial"}"#.into(),
            Some("AccessDeniedException"),
        ),
        Protocol::Query => response(
            403,
            "text/xml",
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>injected denial</Message></Error></ErrorResponse>".into(),
            None,
        ),
        Protocol::RestXml => response(
            403,
            "application/xml",
            "<Error><Code>AccessDenied</Code><Message>injected denial</Message></Error>".into(),
            None,
        ),
    }
}

enum Fault {
    None,
    Throttle,
    ServerError(u16),
    Reset,
    Deny,
}

impl HttpConnector for FaultConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let (service, protocol, op) = classify(&request);
        let key = format!("{service}:{op}");
        let config = self.injector.config.clone();
        let body = request
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let deny = config
            .deny_matching
            .iter()
            .any(|m| request.uri().contains(m.as_str()) || body.contains(m.as_str()));
        let may_fault = config
            .faulted_attempts
            .is_none_or(|cap| attempt(&request) <= cap);
        let (fault, delay) = {
            let Ok(mut state) = self.injector.state.lock() else {
                return self.inner.call(request);
            };
            let mut next = || {
                let mut x = state.rng;
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                state.rng = x;
                (x >> 11) as f64 / (1u64 << 53) as f64
            };
            let roll = next();
            let jitter = config.jitter.mul_f64(next());
            let (u1, u2, status_roll) = (next(), next(), next());
            let limited = config.profile.as_ref().map(|p| {
                let (access_key, region) = scope(&request);
                let allowed = state.buckets.take(
                    &format!("{access_key}/{region}/{key}"),
                    p.limits(&key),
                    Instant::now(),
                );
                (allowed, p.latency(&key, u1, u2))
            });
            let fault = if deny {
                Fault::Deny
            } else if limited.is_some_and(|(allowed, _)| !allowed)
                || (may_fault && roll < config.throttle)
            {
                Fault::Throttle
            } else if !may_fault {
                Fault::None
            } else if roll < config.throttle + config.server_error {
                Fault::ServerError(if status_roll < 0.5 { 500 } else { 503 })
            } else if roll < config.throttle + config.server_error + config.reset {
                Fault::Reset
            } else {
                Fault::None
            };
            let c = state.counts.entry(key).or_default();
            c.calls += 1;
            match fault {
                Fault::Throttle => c.throttled += 1,
                Fault::ServerError(_) => c.server_errors += 1,
                Fault::Reset => c.resets += 1,
                Fault::Deny => c.denied += 1,
                Fault::None => {}
            }
            let delay = limited.map_or(config.latency + jitter, |(_, latency)| latency);
            (fault, delay)
        };
        let inner = self.inner.clone();
        HttpConnectorFuture::new(async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            match fault {
                Fault::None => inner.call(request).await,
                Fault::Throttle => Ok(throttle(protocol)),
                Fault::ServerError(status) => Ok(server_error(protocol, status)),
                Fault::Deny => Ok(denied(protocol)),
                Fault::Reset => Err(ConnectorError::io(Box::new(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "connection reset by the fault injector",
                )))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(header: Option<&str>) -> HttpRequest {
        let mut r = HttpRequest::empty();
        if let Some(h) = header {
            r.headers_mut().insert("amz-sdk-request", h.to_string());
        }
        r
    }

    #[test]
    fn the_attempt_number_is_read_from_the_sdks_header() {
        assert_eq!(attempt(&request(Some("attempt=3; max=12"))), 3);
        assert_eq!(
            attempt(&request(Some("ttl=20261208T000000Z; attempt=7; max=12"))),
            7
        );
        assert_eq!(attempt(&request(None)), 1);
        assert_eq!(attempt(&request(Some("attempt=x"))), 1);
    }
}
