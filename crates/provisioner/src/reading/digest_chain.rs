//! One region's CloudTrail digest chain, walked from the newest digest back along each
//! digest's link to its predecessor, as `aws cloudtrail validate-logs` walks it: each digest's
//! location, signature and link checked, each log file it lists hashed, then the log files no
//! verified digest vouches for.

use std::collections::BTreeSet;

use aws_sdk_s3::Client;
use jiff::Timestamp;

use trailhead_model::OrgSpec;

use crate::Connection;
use crate::core::counter::CallLog;
use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::{AccessRole, AccountSession, new_run_id};
use crate::reading::archive::{Window, day_prefix, regions_in_archive};
use crate::reading::integrity::{
    IntegrityReport, KeySource, Kind, Link, PublicKey, ValidateRequest, fetch, gunzip, key_time,
    list, sha256_hex, signature_valid, string_to_sign,
};

/// Validates every region's digest chain in the window, and the log files each digest lists.
pub async fn validate(
    s3: &Client,
    site: &CallSite,
    req: &ValidateRequest<'_>,
    keys: &[PublicKey],
) -> Result<IntegrityReport, ProvisionError> {
    let mut report = IntegrityReport::default();
    // A digest covers the hour before it: one written up to an hour after the window vouches
    // for files within it.
    let extended = Window {
        since: req.window.since,
        until: req
            .window
            .until
            .checked_add(jiff::SignedDuration::from_hours(1))
            .unwrap_or(req.window.until),
    };
    let reader = Reader { s3, site, req };
    for region in req.regions {
        reader
            .validate_region(region, &extended, keys, &mut report)
            .await?;
    }
    Ok(report)
}

/// `logs validate` of one account's trail: the regions asked for, or every region with digests
/// in the archive.
pub struct ArchiveValidation<'a> {
    pub spec: &'a OrgSpec,
    pub archive_id: &'a str,
    pub account: &'a str,
    pub regions: Vec<String>,
    pub window: &'a Window,
}

/// Reaches the log-archive account and the trail's account, and validates each region's chain
/// against that region's CloudTrail keys.
pub async fn validate_archive(
    conn: &Connection,
    v: ArchiveValidation<'_>,
) -> Result<IntegrityReport, ProvisionError> {
    let spec = v.spec;
    let home = &spec.org.home_region;
    let bucket = spec.log_archive.bucket_name(&spec.org, v.archive_id);
    let role = AccessRole::of(&spec.access, new_run_id());
    let calls = CallLog::new();
    let archive = AccountSession::reach(conn, v.archive_id, home, &role, &calls).await;
    let site = CallSite::new(v.archive_id, home, "logs validate");
    let s3 = archive.s3();
    let regions = if v.regions.is_empty() {
        regions_in_archive(&s3, &site, &bucket, v.account, "CloudTrail-Digest").await?
    } else {
        v.regions
    };
    let trail_account = AccountSession::reach(conn, v.account, home, &role, &calls).await;
    let mut report = IntegrityReport::default();
    for region in &regions {
        // CloudTrail signs each region's digests with that region's key, and serves the key
        // in that region alone: ask there.
        let keys = KeySource::CloudTrail(&trail_account.in_region(region))
            .keys(v.window)
            .await?;
        let req = ValidateRequest {
            bucket: &bucket,
            account: v.account,
            regions: std::slice::from_ref(region),
            trail_name: &spec.trail.name,
            home_region: home,
            window: v.window,
        };
        let found = validate(&s3, &site, &req, &keys).await?;
        report.findings.extend(found.findings);
    }
    Ok(report)
}

/// The archive, read for one validation.
pub(super) struct Reader<'a> {
    pub s3: &'a Client,
    pub site: &'a CallSite,
    pub req: &'a ValidateRequest<'a>,
}

impl Reader<'_> {
    /// One region's chain, walked from the newest digest back along each digest's link to
    /// its predecessor; then the log files no verified digest vouches for.
    pub async fn validate_region(
        &self,
        region: &str,
        extended: &Window,
        keys: &[PublicKey],
        report: &mut IntegrityReport,
    ) -> Result<(), ProvisionError> {
        let listed = self.list_digests(region, extended).await?;
        let newest_end = listed.first().and_then(|k| key_time(k));
        let mut visited: BTreeSet<String> = BTreeSet::new();
        let mut signed_logs: BTreeSet<String> = BTreeSet::new();
        let mut next: Option<(String, Option<Link>)> = listed.first().map(|k| (k.clone(), None));
        while let Some((key, link)) = next.take() {
            visited.insert(key.clone());
            let older = listed.iter().find(|k| !visited.contains(*k)).cloned();
            let Some(fetched) = fetch(self.s3, self.site, self.req.bucket, &key).await? else {
                next = missing_digest(&key, link.as_ref(), older, report);
                continue;
            };
            let body = gunzip(&fetched.body).unwrap_or_default();
            let json: serde_json::Value =
                serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
            let signature = fetched.signature.as_deref();
            let seen = Seen {
                key: &key,
                body: &body,
                json: &json,
                signature,
            };
            let problems = digest_problems(self.req, &seen, keys, link.as_ref());
            if problems.is_empty() {
                report.push(Kind::DigestValid, &key, "signature and chain verified");
                self.check_logs(&key, &json, report, &mut signed_logs)
                    .await?;
            } else {
                report.push(Kind::DigestInvalid, &key, problems.join("; "));
            }
            let previous = json["previousDigestS3Object"].as_str();
            next = match previous {
                Some(prev) if !visited.contains(prev) => {
                    Some((prev.to_string(), link_from(&key, &json)))
                }
                _ => older_digest(&key, previous.is_none(), older, report),
            };
        }
        if let Some(newest_end) = newest_end {
            self.unsigned_logs(region, newest_end, &signed_logs, report)
                .await?;
        }
        Ok(())
    }

    /// This trail's digests of `region` in the window, newest first.
    async fn list_digests(
        &self,
        region: &str,
        extended: &Window,
    ) -> Result<Vec<String>, ProvisionError> {
        let req = self.req;
        let name_part = format!(
            "{}_CloudTrail-Digest_{region}_{}_{}_",
            req.account, req.trail_name, req.home_region
        );
        let mut listed = Vec::new();
        for day in extended.days() {
            let prefix =
                day_prefix(req.account, region, day).replace("/CloudTrail/", "/CloudTrail-Digest/");
            for key in list(self.s3, self.site, req.bucket, &prefix).await? {
                let name = key.rsplit('/').next().unwrap_or_default();
                let in_window =
                    key_time(&key).is_some_and(|t| t >= extended.since && t <= extended.until);
                if name.starts_with(&name_part) && key.ends_with(".json.gz") && in_window {
                    listed.push(key);
                }
            }
        }
        listed.sort_by_key(|k| std::cmp::Reverse(key_time(k)));
        Ok(listed)
    }

    /// Every log file a verified digest lists: fetched, and its SHA-256 compared.
    async fn check_logs(
        &self,
        digest: &str,
        json: &serde_json::Value,
        report: &mut IntegrityReport,
        signed_logs: &mut BTreeSet<String>,
    ) -> Result<(), ProvisionError> {
        for lf in json["logFiles"].as_array().cloned().unwrap_or_default() {
            let (Some(log_bucket), Some(log_key), Some(hash)) = (
                lf["s3Bucket"].as_str(),
                lf["s3Object"].as_str(),
                lf["hashValue"].as_str(),
            ) else {
                continue;
            };
            signed_logs.insert(log_key.to_string());
            match fetch(self.s3, self.site, log_bucket, log_key).await? {
                None => report.push(
                    Kind::LogMissing,
                    log_key,
                    format!("listed in {digest}, not found"),
                ),
                Some(f) => {
                    let actual = sha256_hex(&gunzip(&f.body).unwrap_or_default());
                    if actual == hash {
                        report.push(Kind::LogValid, log_key, "hash matches");
                    } else {
                        report.push(
                            Kind::LogModified,
                            log_key,
                            format!("hash {actual} ≠ {hash} recorded in {digest}"),
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// Log files of the window that no verified digest vouches for, among those old enough
    /// that the newest digest must have listed them.
    async fn unsigned_logs(
        &self,
        region: &str,
        newest_end: Timestamp,
        signed_logs: &BTreeSet<String>,
        report: &mut IntegrityReport,
    ) -> Result<(), ProvisionError> {
        let req = self.req;
        for day in req.window.days() {
            let prefix = day_prefix(req.account, region, day);
            for key in list(self.s3, self.site, req.bucket, &prefix).await? {
                // A log file's name holds the minute it was written, floored: only a file
                // whose whole minute ended before the newest digest is surely in it.
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
        Ok(())
    }
}

/// A digest, fetched and parsed.
struct Seen<'a> {
    key: &'a str,
    body: &'a [u8],
    json: &'a serde_json::Value,
    signature: Option<&'a str>,
}

/// What is wrong with one digest: its location, its signature, and its link to the newer
/// digest it was reached from. Empty when it verifies.
fn digest_problems(
    req: &ValidateRequest<'_>,
    d: &Seen<'_>,
    keys: &[PublicKey],
    link: Option<&Link>,
) -> Vec<String> {
    let field = |name: &str| d.json[name].as_str().map(str::to_string);
    let mut problems = Vec::new();
    if field("digestS3Bucket").as_deref() != Some(req.bucket)
        || field("digestS3Object").as_deref() != Some(d.key)
    {
        problems.push(format!(
            "has been moved from its original location {}/{}",
            field("digestS3Bucket").unwrap_or_default(),
            field("digestS3Object").unwrap_or_default()
        ));
    }
    match (d.signature, field("digestPublicKeyFingerprint")) {
        (None, _) => problems.push("unsigned: no x-amz-meta-signature".into()),
        (_, None) => problems.push("invalid format: no digestPublicKeyFingerprint".into()),
        (Some(sig), Some(fp)) => match keys.iter().find(|k| k.fingerprint == fp) {
            None => problems.push(format!("no public key with fingerprint {fp}")),
            Some(pk) => {
                let to_sign = string_to_sign(
                    &field("digestEndTime").unwrap_or_default(),
                    req.bucket,
                    d.key,
                    d.body,
                    d.json["previousDigestSignature"].as_str(),
                );
                if !signature_valid(pk, &to_sign, sig) {
                    problems.push(
                        "signature does not verify (modified, or signed with another key)".into(),
                    );
                }
            }
        },
    }
    if let Some(l) = link {
        if l.signature.is_some() && l.signature.as_deref() != d.signature {
            problems.push(format!("its signature differs from the one {} records for its predecessor (reordered or replaced)", l.from));
        }
        if l.hash.as_deref().is_some_and(|h| h != sha256_hex(d.body)) {
            problems.push(format!(
                "its SHA-256 differs from the one {} records (reordered or replaced)",
                l.from
            ));
        }
    }
    problems
}

/// What a digest records of its predecessor, to check that one against when it is reached.
fn link_from(key: &str, json: &serde_json::Value) -> Option<Link> {
    let field = |name: &str| json[name].as_str().map(str::to_string);
    Some(Link {
        from: key.to_string(),
        signature: field("previousDigestSignature"),
        hash: field("previousDigestHashValue"),
    })
}

/// A digest that is listed or named but cannot be fetched: reported, and the walk goes on with
/// the next older digest listed, across a gap.
fn missing_digest(
    key: &str,
    link: Option<&Link>,
    older: Option<String>,
    report: &mut IntegrityReport,
) -> Option<(String, Option<Link>)> {
    let detail = match link {
        Some(l) => format!("named as the previous digest by {}, but not found", l.from),
        None => "listed but not found".to_string(),
    };
    report.push(Kind::DigestMissing, key, detail);
    let o = older?;
    report.push(
        Kind::ChainGap,
        key,
        format!("the chain is broken here; continuing with {o}"),
    );
    Some((o, None))
}

/// After a digest that names no predecessor still unvisited: the next older digest listed, a
/// gap when the digest named none at all (the chain starts there).
fn older_digest(
    key: &str,
    names_none: bool,
    older: Option<String>,
    report: &mut IntegrityReport,
) -> Option<(String, Option<Link>)> {
    let o = older?;
    if names_none {
        report.push(
            Kind::ChainGap,
            key,
            format!("the chain starts here; no digest links it to the older {o}"),
        );
    }
    Some((o, None))
}
