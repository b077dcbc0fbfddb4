//! A recorded-response backend, so that a benchmark measures trailhead and AWS's limits rather
//! than the emulator's throughput. One account (the template, a canary) talks to the real
//! emulator and every answer it gets is recorded; the accounts chosen for replay are answered
//! from that recording, with the template's account id swapped for theirs, without reaching the
//! emulator. Everything else (STS, the management and log-archive accounts) is forwarded.
//!
//! Answers are looked up by the request itself (method, path, target and body, with the account
//! id taken out) and served in the order they were recorded, so a read before a create and the
//! same read after it get different answers, as they did for the template. Each run (a rollout,
//! a re-run, a plan) starts a fresh recording (`new_run`), so a replayed account never gets an
//! answer about an earlier state. The template should run first: in a rollout it is in the
//! canary wave and the replayed accounts are in later waves; where every account runs at once
//! (the preflight, a plan), a replayed account waits for the template's answer. A request the
//! template never made is a miss: it is forwarded, and counted, so a figure from a run with
//! misses is not a replay figure.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;

use trailhead_emulator_support::seed::SeededOrg;

use crate::faults::scope;

/// What a replay run did, for the benchmark's "backend" line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Calls sent to the emulator (STS, the other accounts, the template, misses).
    pub forwarded: u64,
    /// Calls answered from the recording.
    pub replayed: u64,
    /// Calls of replayed accounts the template never made.
    pub misses: u64,
}

/// How long a replayed account waits for the template to make a request first.
const WAIT_FOR_TEMPLATE: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Debug, Clone)]
struct Recorded {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

#[derive(Debug, Default)]
struct State {
    /// Access key → account, learned from the AssumeRole answers.
    accounts: HashMap<String, String>,
    /// The template's answers, per request (account id taken out, hashed), in the order they
    /// came. A hash, not the text: a thousand accounts' cursors would otherwise hold tens of
    /// megabytes of request bodies and inflate the peak RSS the benchmark reports.
    recording: HashMap<u64, Vec<Recorded>>,
    /// How far each replayed account is in each request's answers.
    cursors: HashMap<(String, u64), usize>,
    stats: ReplayStats,
    /// The first few missed requests, for the benchmark to show.
    missed: Vec<String>,
}

impl State {
    /// The next recorded answer to `key` for `account`; past the end of the recording, the last
    /// one (the template's latest state, which is what a later read of a settled account sees).
    fn next_answer(&mut self, account: &str, key: u64) -> Option<Recorded> {
        let len = self.recording.get(&key)?.len();
        let cursor = self.cursors.entry((account.to_string(), key)).or_insert(0);
        let at = (*cursor).min(len.saturating_sub(1));
        *cursor += 1;
        self.recording.get(&key)?.get(at).cloned()
    }
}

#[derive(Debug, Clone)]
pub struct Replay {
    inner: SharedHttpClient,
    template: Arc<str>,
    replayed: Arc<HashSet<String>>,
    state: Arc<Mutex<State>>,
}

impl Replay {
    pub fn new(
        inner: SharedHttpClient,
        template: &str,
        replayed: impl IntoIterator<Item = String>,
    ) -> Self {
        Replay {
            inner,
            template: template.into(),
            replayed: Arc::new(replayed.into_iter().collect()),
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    pub fn shared(&self) -> SharedHttpClient {
        SharedHttpClient::new(self.clone())
    }

    /// Starts a new run (a rollout, a re-run, a plan): from now on, replayed accounts get the
    /// answers the template gets in this run, since the state they describe is this run's.
    pub fn new_run(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.recording.clear();
            s.cursors.clear();
        }
    }

    pub fn stats(&self) -> ReplayStats {
        self.state.lock().map(|s| s.stats).unwrap_or_default()
    }

    /// Up to five requests that missed the recording (method, path, target, body).
    pub fn missed(&self) -> Vec<String> {
        self.state
            .lock()
            .map(|s| s.missed.clone())
            .unwrap_or_default()
    }

    fn count(&self, f: impl FnOnce(&mut ReplayStats)) {
        if let Ok(mut s) = self.state.lock() {
            f(&mut s.stats);
        }
    }

    fn account_of(&self, request: &HttpRequest) -> Option<String> {
        let (key, _) = scope(request);
        self.state.lock().ok()?.accounts.get(&key).cloned()
    }

    /// The next answer, waiting a while for the template to make a request it has not made
    /// yet: steps that run for every account at once (the preflight, a plan) reach the
    /// template and the replayed accounts in no set order.
    async fn answer_when_recorded(&self, account: &str, key: u64) -> Option<Recorded> {
        let started = std::time::Instant::now();
        loop {
            let answer = self.state.lock().ok()?.next_answer(account, key);
            if answer.is_some() || started.elapsed() > WAIT_FOR_TEMPLATE {
                return answer;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    fn miss(&self, request: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.stats.misses += 1;
            s.stats.forwarded += 1;
            if s.missed.len() < 5 {
                s.missed.push(request.chars().take(300).collect());
            }
        }
    }
}

/// The accounts of a seeded org in the roles a replay gives them: the first canary is the
/// template, the workload accounts (in a later wave) are replayed.
pub fn canary_and_workloads(org: &SeededOrg) -> Option<(String, Vec<String>)> {
    let template = org.members.iter().find(|a| a.ou == "Sandbox")?.id.clone();
    let replayed = org
        .members
        .iter()
        .filter(|a| a.ou == "Workloads")
        .map(|a| a.id.clone())
        .collect();
    Some((template, replayed))
}

impl HttpClient for Replay {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(ReplayConnector {
            inner: self.inner.http_connector(settings, components),
            replay: self.clone(),
        })
    }
}

#[derive(Debug)]
struct ReplayConnector {
    inner: SharedHttpConnector,
    replay: Replay,
}

fn body_text(request: &HttpRequest) -> String {
    request
        .body()
        .bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

/// The request (with its `body`, already read) as the recording knows it: `account` replaced
/// by a placeholder.
fn request_text(request: &HttpRequest, body: &str, account: &str) -> String {
    let target = request.headers().get("x-amz-target").unwrap_or_default();
    let text = format!("{} {}\n{target}\n{body}", request.method(), request.uri(),);
    text.replace(account, "{account}")
}

fn hash_of(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    // Fixed keys: the same text hashes the same for the template and the replayed accounts.
    let mut h = std::hash::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// The account of an AssumeRole request's role ARN (URL-encoded in the query body).
fn assumed_account(body: &str) -> Option<String> {
    let arn = body.split('&').find_map(|kv| kv.strip_prefix("RoleArn="))?;
    let decoded = arn.replace("%3A", ":").replace("%3a", ":");
    let account = decoded.split(':').nth(4)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
        .then(|| account.to_string())
}

fn xml_field<'a>(xml: &'a str, field: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{field}>"))? + field.len() + 2;
    let end = xml[start..].find(&format!("</{field}>"))? + start;
    Some(&xml[start..end])
}

async fn read_all(response: HttpResponse) -> Result<Recorded, ConnectorError> {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let bytes = ByteStream::new(response.into_body())
        .collect()
        .await
        .map_err(|e| ConnectorError::io(Box::new(e)))?
        .into_bytes();
    Ok(Recorded {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

fn rebuild(recorded: &Recorded, body: String) -> Result<HttpResponse, ConnectorError> {
    let status =
        StatusCode::try_from(recorded.status).map_err(|e| ConnectorError::other(e.into(), None))?;
    let length = body.len().to_string();
    let mut response = HttpResponse::new(status, SdkBody::from(body));
    for (k, v) in &recorded.headers {
        if !k.eq_ignore_ascii_case("content-length") {
            response.headers_mut().append(k.clone(), v.clone());
        }
    }
    response.headers_mut().insert("content-length", length);
    Ok(response)
}

impl HttpConnector for ReplayConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let replay = self.replay.clone();
        let inner = self.inner.clone();
        let body = body_text(&request);
        if body.contains("Action=AssumeRole&") {
            return HttpConnectorFuture::new(async move {
                replay.count(|s| s.forwarded += 1);
                let recorded = read_all(inner.call(request).await?).await?;
                let key = xml_field(&recorded.body, "AccessKeyId");
                if let (Some(account), Some(key), Ok(mut s)) =
                    (assumed_account(&body), key, replay.state.lock())
                {
                    s.accounts.insert(key.to_string(), account);
                }
                rebuild(&recorded, recorded.body.clone())
            });
        }
        let account = replay.account_of(&request);
        match account {
            Some(a) if *a == *replay.template => {
                let key = hash_of(&request_text(&request, &body, &a));
                HttpConnectorFuture::new(async move {
                    replay.count(|s| s.forwarded += 1);
                    let recorded = read_all(inner.call(request).await?).await?;
                    if let Ok(mut s) = replay.state.lock() {
                        s.recording.entry(key).or_default().push(recorded.clone());
                    }
                    rebuild(&recorded, recorded.body.clone())
                })
            }
            Some(a) if replay.replayed.contains(&a) => {
                let text = request_text(&request, &body, &a);
                let key = hash_of(&text);
                HttpConnectorFuture::new(async move {
                    match replay.answer_when_recorded(&a, key).await {
                        Some(recorded) => {
                            replay.count(|s| s.replayed += 1);
                            let body = recorded.body.replace(&*replay.template, &a);
                            rebuild(&recorded, body)
                        }
                        None => {
                            replay.miss(&text);
                            inner.call(request).await
                        }
                    }
                })
            }
            _ => {
                replay.count(|s| s.forwarded += 1);
                inner.call(request)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_of_an_assume_role_request_is_read_from_its_role_arn() {
        let body = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FTrailhead&RoleSessionName=trailhead-x";
        assert_eq!(assumed_account(body).as_deref(), Some("123456789012"));
        assert_eq!(assumed_account("Action=AssumeRole&RoleArn=junk"), None);
    }

    #[test]
    fn an_xml_field_is_found_between_its_tags() {
        let xml = "<Credentials><AccessKeyId>ASIAXYZ</AccessKeyId></Credentials>";
        assert_eq!(xml_field(xml, "AccessKeyId"), Some("ASIAXYZ"));
        assert_eq!(xml_field(xml, "SecretAccessKey"), None);
    }

    #[test]
    fn answers_come_in_recorded_order_then_the_last_one_repeats() {
        let mut state = State::default();
        let answer = |body: &str| Recorded {
            status: 200,
            headers: Vec::new(),
            body: body.into(),
        };
        let read = hash_of("read");
        state
            .recording
            .insert(read, vec![answer("absent"), answer("present")]);
        let got: Vec<String> = (0..3)
            .filter_map(|_| state.next_answer("222222222222", read))
            .map(|r| r.body)
            .collect();
        assert_eq!(got, ["absent", "present", "present"]);
        assert!(
            state
                .next_answer("222222222222", hash_of("never made"))
                .is_none()
        );
    }
}
