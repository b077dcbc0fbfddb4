//! CloudTrail log-file integrity, as `aws cloudtrail validate-logs` checks it: the digest chain
//! (each digest's SHA256withRSA signature, and its link to the previous digest), and the SHA-256
//! of every log file a digest lists. Reports missing, modified and unsigned files, and gaps.

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
use crate::reading::archive::Window;

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

pub(super) fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
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

    pub(super) fn push(&mut self, kind: Kind, key: &str, detail: impl Into<String>) {
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
pub(super) fn key_time(key: &str) -> Option<Timestamp> {
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

pub(super) struct Fetched {
    pub body: Vec<u8>,
    pub signature: Option<String>,
}

pub(super) async fn fetch(
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

pub(super) async fn list(
    s3: &Client,
    site: &CallSite,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<String>, ProvisionError> {
    let objects = crate::reading::archive::list_window_prefix(s3, site, bucket, prefix).await?;
    Ok(objects.into_iter().map(|(key, _)| key).collect())
}

/// The newer digest a digest was reached from: what it says about its predecessor.
pub(super) struct Link {
    pub from: String,
    pub signature: Option<String>,
    pub hash: Option<String>,
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
