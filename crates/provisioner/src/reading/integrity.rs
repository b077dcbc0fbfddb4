//! CloudTrail log-file integrity, as `aws cloudtrail validate-logs` checks it: the digest chain
//! (each digest's SHA256withRSA signature, and its link to the previous digest), and the SHA-256
//! of every log file a digest lists. Reports missing, modified and unsigned files, and gaps.

use std::collections::BTreeSet;
use std::io::Read;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata;
use jiff::Timestamp;
use rsa::RsaPublicKey;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::AccountSession;
use crate::reading::archive::{Window, day_prefix};

/// A CloudTrail public key: the fingerprint digests name, and the PKCS#1 DER key.
#[derive(Debug, Clone)]
pub struct PublicKey {
    pub fingerprint: String,
    pub der: Vec<u8>,
}

/// Where public keys come from: CloudTrail's ListPublicKeys in the trail's home region, or a
/// fixed set (offline validation, and tests that sign with their own key).
pub enum KeySource<'a> {
    CloudTrail(&'a AccountSession),
    Fixed(Vec<PublicKey>),
}

impl KeySource<'_> {
    pub async fn keys(&self, window: &Window) -> Result<Vec<PublicKey>, ProvisionError> {
        match self {
            KeySource::Fixed(keys) => Ok(keys.clone()),
            KeySource::CloudTrail(session) => {
                let site = CallSite::new(&session.account_id, &session.region, "logs validate");
                // Whole seconds on the wire: widen outwards so a key that came into force
                // within the window's last second is still listed.
                let floor = |t: Timestamp| aws_smithy_types::DateTime::from_secs(t.as_second());
                let ceil = |t: Timestamp| {
                    let up = i64::from(t.subsec_nanosecond() > 0);
                    aws_smithy_types::DateTime::from_secs(t.as_second() + up)
                };
                let mut keys = Vec::new();
                let mut token = None;
                loop {
                    let out = session
                        .cloudtrail()
                        .list_public_keys()
                        .start_time(floor(window.since))
                        .end_time(ceil(window.until))
                        .set_next_token(token)
                        .send()
                        .await
                        .map_err(|e| site.error("ListPublicKeys", e))?;
                    for k in out.public_key_list() {
                        if let (Some(fp), Some(v)) = (k.fingerprint(), k.value()) {
                            keys.push(PublicKey {
                                fingerprint: fp.to_string(),
                                der: v.as_ref().to_vec(),
                            });
                        }
                    }
                    token = out.next_token().map(str::to_string);
                    if token.is_none() {
                        break;
                    }
                }
                Ok(keys)
            }
        }
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The string CloudTrail signs for a digest (pinned by the AWS CLI's implementation).
pub fn string_to_sign(
    end_time: &str,
    bucket: &str,
    key: &str,
    digest: &[u8],
    previous_signature: Option<&str>,
) -> String {
    format!(
        "{end_time}\n{bucket}/{key}\n{}\n{}",
        sha256_hex(digest),
        previous_signature.unwrap_or("null")
    )
}

/// RSA PKCS#1 v1.5 over SHA-256 of `to_sign`.
pub fn signature_valid(key: &PublicKey, to_sign: &str, signature_hex: &str) -> bool {
    let (Ok(public), Some(sig)) = (RsaPublicKey::from_pkcs1_der(&key.der), unhex(signature_hex))
    else {
        return false;
    };
    let Ok(sig) = Signature::try_from(sig.as_slice()) else {
        return false;
    };
    VerifyingKey::<Sha256>::new(public)
        .verify(to_sign.as_bytes(), &sig)
        .is_ok()
}

fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    DigestValid,
    DigestInvalid,
    DigestMissing,
    ChainGap,
    LogValid,
    LogModified,
    LogMissing,
    LogUnsigned,
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::DigestValid => "digest valid",
            Kind::DigestInvalid => "digest invalid",
            Kind::DigestMissing => "digest missing",
            Kind::ChainGap => "chain gap",
            Kind::LogValid => "log valid",
            Kind::LogModified => "log modified",
            Kind::LogMissing => "log missing",
            Kind::LogUnsigned => "log unsigned",
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub kind: Kind,
    pub key: String,
    pub detail: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct IntegrityReport {
    pub findings: Vec<Finding>,
}

impl IntegrityReport {
    pub fn count(&self, kind: Kind) -> usize {
        self.findings.iter().filter(|f| f.kind == kind).count()
    }

    pub fn ok(&self) -> bool {
        self.findings
            .iter()
            .all(|f| matches!(f.kind, Kind::DigestValid | Kind::LogValid))
    }

    fn push(&mut self, kind: Kind, key: &str, detail: impl Into<String>) {
        self.findings.push(Finding {
            kind,
            key: key.to_string(),
            detail: detail.into(),
        });
    }
}

pub struct ValidateRequest<'a> {
    pub bucket: &'a str,
    pub account: &'a str,
    pub regions: &'a [String],
    pub trail_name: &'a str,
    pub home_region: &'a str,
    pub window: &'a Window,
}

/// `YYYYMMDDTHHMMSSZ` (digests) or `YYYYMMDDTHHMMZ` (log files) embedded in a key.
fn key_time(key: &str) -> Option<Timestamp> {
    let name = key.rsplit('/').next()?.trim_end_matches(".json.gz");
    let stamp = name.split('_').find(|p| {
        p.len() >= 14 && p.contains('T') && p.ends_with('Z') && p.as_bytes()[0].is_ascii_digit()
    })?;
    let (date, time) = stamp.split_once('T')?;
    let time = time.trim_end_matches('Z');
    let (h, m, s) = match time.len() {
        6 => (&time[0..2], &time[2..4], &time[4..6]),
        4 => (&time[0..2], &time[2..4], "00"),
        _ => return None,
    };
    format!(
        "{}-{}-{}T{h}:{m}:{s}Z",
        &date[0..4],
        &date[4..6],
        &date[6..8]
    )
    .parse()
    .ok()
}

struct Fetched {
    body: Vec<u8>,
    signature: Option<String>,
}

async fn fetch(
    s3: &Client,
    site: &CallSite,
    bucket: &str,
    key: &str,
) -> Result<Option<Fetched>, ProvisionError> {
    match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => {
            let signature = out.metadata().and_then(|m| m.get("signature")).cloned();
            let body = out
                .body
                .collect()
                .await
                .map_err(|e| ProvisionError::Config(format!("reading s3://{bucket}/{key}: {e}")))?
                .into_bytes()
                .to_vec();
            Ok(Some(Fetched { body, signature }))
        }
        Err(e)
            if e.code() == Some("NoSuchKey")
                || e.raw_response().is_some_and(|r| r.status().as_u16() == 404) =>
        {
            Ok(None)
        }
        Err(e) => Err(site.error("GetObject", e).into()),
    }
}

async fn list(
    s3: &Client,
    site: &CallSite,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<String>, ProvisionError> {
    let objects = crate::reading::archive::list_window_prefix(s3, site, bucket, prefix).await?;
    Ok(objects.into_iter().map(|(key, _)| key).collect())
}

/// The newer digest a digest was reached from: what it says about its predecessor.
struct Link {
    from: String,
    signature: Option<String>,
    hash: Option<String>,
}

pub async fn validate(
    s3: &Client,
    site: &CallSite,
    req: &ValidateRequest<'_>,
    keys: &[PublicKey],
) -> Result<IntegrityReport, ProvisionError> {
    let mut report = IntegrityReport::default();
    let extended = Window {
        since: req.window.since,
        until: req
            .window
            .until
            .checked_add(jiff::SignedDuration::from_hours(1))
            .unwrap_or(req.window.until),
    };
    for region in req.regions {
        let name_part = format!(
            "{}_CloudTrail-Digest_{region}_{}_{}_",
            req.account, req.trail_name, req.home_region
        );
        let mut listed = Vec::new();
        for day in extended.days() {
            let prefix =
                day_prefix(req.account, region, day).replace("/CloudTrail/", "/CloudTrail-Digest/");
            for key in list(s3, site, req.bucket, &prefix).await? {
                let name = key.rsplit('/').next().unwrap_or_default();
                let in_window =
                    key_time(&key).is_some_and(|t| t >= extended.since && t <= extended.until);
                if name.starts_with(&name_part) && key.ends_with(".json.gz") && in_window {
                    listed.push(key);
                }
            }
        }
        listed.sort_by_key(|k| std::cmp::Reverse(key_time(k)));
        let newest_end = listed.first().and_then(|k| key_time(k));
        let mut visited: BTreeSet<String> = BTreeSet::new();
        let mut signed_logs: BTreeSet<String> = BTreeSet::new();
        let mut next: Option<(String, Option<Link>)> = listed.first().map(|k| (k.clone(), None));
        while let Some((key, link)) = next.take() {
            visited.insert(key.clone());
            let older = || listed.iter().find(|k| !visited.contains(*k)).cloned();
            let Some(fetched) = fetch(s3, site, req.bucket, &key).await? else {
                report.push(
                    Kind::DigestMissing,
                    &key,
                    match &link {
                        Some(l) => {
                            format!("named as the previous digest by {}, but not found", l.from)
                        }
                        None => "listed but not found".to_string(),
                    },
                );
                if let Some(o) = older() {
                    report.push(
                        Kind::ChainGap,
                        &key,
                        format!("the chain is broken here; continuing with {o}"),
                    );
                    next = Some((o, None));
                }
                continue;
            };
            let body = gunzip(&fetched.body).unwrap_or_default();
            let json: serde_json::Value =
                serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
            let field = |name: &str| json[name].as_str().map(str::to_string);
            let mut problems = Vec::new();
            if field("digestS3Bucket").as_deref() != Some(req.bucket)
                || field("digestS3Object").as_deref() != Some(key.as_str())
            {
                problems.push(format!(
                    "has been moved from its original location {}/{}",
                    field("digestS3Bucket").unwrap_or_default(),
                    field("digestS3Object").unwrap_or_default()
                ));
            }
            let signature = fetched.signature.clone();
            match (&signature, field("digestPublicKeyFingerprint")) {
                (None, _) => problems.push("unsigned: no x-amz-meta-signature".into()),
                (_, None) => problems.push("invalid format: no digestPublicKeyFingerprint".into()),
                (Some(sig), Some(fp)) => {
                    match keys.iter().find(|k| k.fingerprint == fp) {
                        None => problems.push(format!("no public key with fingerprint {fp}")),
                        Some(pk) => {
                            let to_sign = string_to_sign(
                                &field("digestEndTime").unwrap_or_default(),
                                req.bucket,
                                &key,
                                &body,
                                json["previousDigestSignature"].as_str(),
                            );
                            if !signature_valid(pk, &to_sign, sig) {
                                problems.push("signature does not verify (modified, or signed with another key)".into());
                            }
                        }
                    }
                }
            }
            if let Some(l) = &link {
                if l.signature.is_some() && l.signature != signature {
                    problems.push(format!("its signature differs from the one {} records for its predecessor (reordered or replaced)", l.from));
                }
                if l.hash.as_deref().is_some_and(|h| h != sha256_hex(&body)) {
                    problems.push(format!(
                        "its SHA-256 differs from the one {} records (reordered or replaced)",
                        l.from
                    ));
                }
            }
            if !problems.is_empty() {
                report.push(Kind::DigestInvalid, &key, problems.join("; "));
            } else {
                report.push(Kind::DigestValid, &key, "signature and chain verified");
                for lf in json["logFiles"].as_array().cloned().unwrap_or_default() {
                    let (Some(log_bucket), Some(log_key), Some(hash)) = (
                        lf["s3Bucket"].as_str(),
                        lf["s3Object"].as_str(),
                        lf["hashValue"].as_str(),
                    ) else {
                        continue;
                    };
                    signed_logs.insert(log_key.to_string());
                    match fetch(s3, site, log_bucket, log_key).await? {
                        None => report.push(
                            Kind::LogMissing,
                            log_key,
                            format!("listed in {key}, not found"),
                        ),
                        Some(f) => {
                            let actual = sha256_hex(&gunzip(&f.body).unwrap_or_default());
                            if actual == hash {
                                report.push(Kind::LogValid, log_key, "hash matches");
                            } else {
                                report.push(
                                    Kind::LogModified,
                                    log_key,
                                    format!("hash {actual} ≠ {hash} recorded in {key}"),
                                );
                            }
                        }
                    }
                }
            }
            next = match field("previousDigestS3Object") {
                Some(prev) if !visited.contains(&prev) => Some((
                    prev,
                    Some(Link {
                        from: key.clone(),
                        signature: field("previousDigestSignature"),
                        hash: field("previousDigestHashValue"),
                    }),
                )),
                _ => match older() {
                    Some(o) if field("previousDigestS3Object").is_none() => {
                        report.push(
                            Kind::ChainGap,
                            &key,
                            format!("the chain starts here; no digest links it to the older {o}"),
                        );
                        Some((o, None))
                    }
                    Some(o) => Some((o, None)),
                    None => None,
                },
            };
        }
        // Log files the window holds that no verified digest vouches for.
        if let Some(newest_end) = newest_end {
            for day in req.window.days() {
                for key in list(s3, site, req.bucket, &day_prefix(req.account, region, day)).await?
                {
                    // A log file's name holds the minute it was written, floored: only a
                    // file whose whole minute ended before the newest digest is surely in it.
                    let covered = key_time(&key)
                        .and_then(|t| t.checked_add(jiff::SignedDuration::from_secs(60)).ok())
                        .is_some_and(|t| t <= newest_end);
                    if covered && !signed_logs.contains(&key) {
                        report.push(
                            Kind::LogUnsigned,
                            &key,
                            "in the archive but in no verified digest",
                        );
                    }
                }
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_to_sign_matches_the_cli() {
        let s = string_to_sign(
            "2015-08-17T15:01:31Z",
            "b",
            "AWSLogs/1/x.json.gz",
            b"{}",
            None,
        );
        assert_eq!(
            s,
            "2015-08-17T15:01:31Z\nb/AWSLogs/1/x.json.gz\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\nnull"
        );
    }

    #[test]
    fn times_in_keys() {
        let digest = "AWSLogs/1/CloudTrail-Digest/eu-west-1/2026/11/01/1_CloudTrail-Digest_eu-west-1_t_eu-west-1_20261101T100000Z.json.gz";
        assert_eq!(
            key_time(digest).map(|t| t.to_string()),
            Some("2026-11-01T10:00:00Z".into())
        );
        let log = "AWSLogs/1/CloudTrail/eu-west-1/2026/11/01/1_CloudTrail_eu-west-1_20261101T0955Z_abc.json.gz";
        assert_eq!(
            key_time(log).map(|t| t.to_string()),
            Some("2026-11-01T09:55:00Z".into())
        );
        assert_eq!(unhex("0aff"), Some(vec![10, 255]));
        assert_eq!(unhex("0g"), None);
    }
}
