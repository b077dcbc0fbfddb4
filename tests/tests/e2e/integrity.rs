//! Log-file integrity validation: digests and logs written into the emulator, signed with a test
//! RSA key served through a fixed key source. Every tamper case must be caught.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use std::io::Write;

use aws_sdk_s3::primitives::ByteStream;
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::json;
use sha2::Sha256;
use trailhead_e2e::{REGION, emulator, run_ctx, seed, unique};
use trailhead_provisioner::archive::Window;
use trailhead_provisioner::error::CallSite;
use trailhead_provisioner::integrity::{
    IntegrityReport, Kind, PublicKey, ValidateRequest, sha256_hex, string_to_sign, validate,
};

const TRAIL: &str = "org-audit";
const FINGERPRINT: &str = "test-key-fingerprint";

fn key(bytes: &[u8]) -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs1_der(bytes).expect("test key")
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

struct Chain {
    bucket: String,
    account: String,
    digests: Vec<String>,
    logs: Vec<String>,
}

/// Three hourly digests, two log files each, each digest linked to the one before.
/// `signers[i]` signs digest i.
async fn write_chain(
    s3: &aws_sdk_s3::Client,
    account: &str,
    signers: [&RsaPrivateKey; 3],
) -> Chain {
    let bucket = unique("integrity").to_lowercase().replace('_', "-");
    trailhead_e2e::create_bucket(s3, &bucket).await;
    let mut chain = Chain {
        bucket: bucket.clone(),
        account: account.to_string(),
        digests: Vec::new(),
        logs: Vec::new(),
    };
    let mut previous: Option<(String, String, String)> = None;
    for (h, signer) in signers.iter().enumerate() {
        let hour = 10 + h;
        let mut log_files = Vec::new();
        for n in 0..2 {
            let log_key = format!(
                "AWSLogs/{account}/CloudTrail/{REGION}/2026/11/01/{account}_CloudTrail_{REGION}_20261101T{hour:02}{:02}Z_f{n}.json.gz",
                10 + n * 20
            );
            let record = json!({"eventTime": format!("2026-11-01T{hour:02}:{:02}:00Z", 10 + n * 20), "eventName": "ListBuckets", "recipientAccountId": account});
            let body = json!({"Records": [record]}).to_string();
            s3.put_object()
                .bucket(&bucket)
                .key(&log_key)
                .body(ByteStream::from(gz(body.as_bytes())))
                .send()
                .await
                .expect("log");
            log_files.push(json!({"s3Bucket": bucket, "s3Object": log_key, "hashValue": sha256_hex(body.as_bytes()), "hashAlgorithm": "SHA-256"}));
            chain.logs.push(log_key);
        }
        let end = format!("2026-11-01T{:02}:00:00Z", hour + 1);
        let digest_key = format!(
            "AWSLogs/{account}/CloudTrail-Digest/{REGION}/2026/11/01/{account}_CloudTrail-Digest_{REGION}_{TRAIL}_{REGION}_20261101T{:02}0000Z.json.gz",
            hour + 1
        );
        let (prev_key, prev_sig, prev_hash) = match &previous {
            Some((k, s, h)) => (json!(k), json!(s), json!(h)),
            None => (json!(null), json!(null), json!(null)),
        };
        let digest = json!({
            "awsAccountId": account,
            "digestStartTime": format!("2026-11-01T{hour:02}:00:00Z"),
            "digestEndTime": end,
            "digestS3Bucket": bucket,
            "digestS3Object": digest_key,
            "digestPublicKeyFingerprint": FINGERPRINT,
            "digestSignatureAlgorithm": "SHA256withRSA",
            "previousDigestS3Bucket": if previous.is_some() { json!(bucket) } else { json!(null) },
            "previousDigestS3Object": prev_key,
            "previousDigestHashValue": prev_hash,
            "previousDigestHashAlgorithm": "SHA-256",
            "previousDigestSignature": prev_sig,
            "logFiles": log_files,
        });
        let bytes = serde_json::to_vec(&digest).expect("json");
        let to_sign = string_to_sign(
            &end,
            &bucket,
            &digest_key,
            &bytes,
            previous.as_ref().map(|p| p.1.as_str()),
        );
        let signature: String = SigningKey::<Sha256>::new((*signer).clone())
            .sign(to_sign.as_bytes())
            .to_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        s3.put_object()
            .bucket(&bucket)
            .key(&digest_key)
            .metadata("signature", &signature)
            .metadata("signature-algorithm", "SHA256withRSA")
            .body(ByteStream::from(gz(&bytes)))
            .send()
            .await
            .expect("digest");
        previous = Some((digest_key.clone(), signature, sha256_hex(&bytes)));
        chain.digests.push(digest_key);
    }
    chain
}

async fn check(s3: &aws_sdk_s3::Client, chain: &Chain) -> IntegrityReport {
    let window = Window {
        since: "2026-11-01T00:00:00Z".parse().expect("time"),
        until: "2026-11-01T23:59:59Z".parse().expect("time"),
    };
    let regions = vec![REGION.to_string()];
    let req = ValidateRequest {
        bucket: &chain.bucket,
        account: &chain.account,
        regions: &regions,
        trail_name: TRAIL,
        home_region: REGION,
        window: &window,
    };
    let keys = vec![PublicKey {
        fingerprint: FINGERPRINT.into(),
        der: include_bytes!("../../data/digest-signing-key.pub.der").to_vec(),
    }];
    validate(
        s3,
        &CallSite::new(&chain.account, REGION, "test"),
        &req,
        &keys,
    )
    .await
    .expect("validate")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tamper_case_is_caught() {
    let conn = emulator();
    let org = seed(&conn, "integ", 1).await;
    let state = tempfile::tempdir().expect("tempdir");
    let ctx = run_ctx(&conn, &org.spec_toml("integ", REGION), false, state.path());
    let s3 = ctx.assume(&org.members[0].id, REGION).await.s3();
    let good = key(include_bytes!("../../data/digest-signing-key.der"));
    let wrong = key(include_bytes!("../../data/wrong-key.der"));
    let account = org.members[0].id.clone();

    // Intact.
    let chain = write_chain(&s3, &account, [&good, &good, &good]).await;
    let r = check(&s3, &chain).await;
    assert!(r.ok(), "{:#?}", r.findings);
    assert_eq!(
        (r.count(Kind::DigestValid), r.count(Kind::LogValid)),
        (3, 6)
    );
    assert_eq!(r.count(Kind::ChainGap), 0);

    // A modified log file.
    let chain = write_chain(&s3, &account, [&good, &good, &good]).await;
    s3.put_object()
        .bucket(&chain.bucket)
        .key(&chain.logs[2])
        .body(ByteStream::from(gz(b"{\"Records\":[]}")))
        .send()
        .await
        .expect("tamper");
    let r = check(&s3, &chain).await;
    assert_eq!(r.count(Kind::LogModified), 1, "{:#?}", r.findings);
    assert!(
        r.findings
            .iter()
            .any(|f| f.kind == Kind::LogModified && f.key == chain.logs[2])
    );
    assert_eq!(r.count(Kind::LogValid), 5);
    assert!(!r.ok());

    // A deleted log file.
    let chain = write_chain(&s3, &account, [&good, &good, &good]).await;
    s3.delete_object()
        .bucket(&chain.bucket)
        .key(&chain.logs[5])
        .send()
        .await
        .expect("delete log");
    let r = check(&s3, &chain).await;
    assert_eq!(r.count(Kind::LogMissing), 1, "{:#?}", r.findings);
    assert!(
        r.findings
            .iter()
            .any(|f| f.kind == Kind::LogMissing && f.key == chain.logs[5])
    );

    // A deleted digest: a gap in the chain, the rest still verified.
    let chain = write_chain(&s3, &account, [&good, &good, &good]).await;
    s3.delete_object()
        .bucket(&chain.bucket)
        .key(&chain.digests[1])
        .send()
        .await
        .expect("delete digest");
    let r = check(&s3, &chain).await;
    assert_eq!(r.count(Kind::DigestMissing), 1, "{:#?}", r.findings);
    assert!(r.count(Kind::ChainGap) >= 1);
    assert_eq!(r.count(Kind::DigestValid), 2);
    // The logs only the deleted digest vouched for are now unsigned.
    assert_eq!(r.count(Kind::LogUnsigned), 2);

    // A digest signed with the wrong key.
    let chain = write_chain(&s3, &account, [&good, &wrong, &good]).await;
    let r = check(&s3, &chain).await;
    let invalid: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.kind == Kind::DigestInvalid)
        .collect();
    assert_eq!(invalid.len(), 1, "{:#?}", r.findings);
    assert_eq!(invalid[0].key, chain.digests[1]);
    assert!(invalid[0].detail.contains("signature does not verify"));

    // A reordered chain: two digests swapped in place.
    let chain = write_chain(&s3, &account, [&good, &good, &good]).await;
    let a = s3
        .get_object()
        .bucket(&chain.bucket)
        .key(&chain.digests[0])
        .send()
        .await
        .expect("get");
    let a_sig = a
        .metadata()
        .and_then(|m| m.get("signature"))
        .cloned()
        .unwrap_or_default();
    let a_body = a.body.collect().await.expect("body").into_bytes();
    let b = s3
        .get_object()
        .bucket(&chain.bucket)
        .key(&chain.digests[1])
        .send()
        .await
        .expect("get");
    let b_sig = b
        .metadata()
        .and_then(|m| m.get("signature"))
        .cloned()
        .unwrap_or_default();
    let b_body = b.body.collect().await.expect("body").into_bytes();
    s3.put_object()
        .bucket(&chain.bucket)
        .key(&chain.digests[0])
        .metadata("signature", b_sig)
        .body(ByteStream::from(b_body))
        .send()
        .await
        .expect("swap");
    s3.put_object()
        .bucket(&chain.bucket)
        .key(&chain.digests[1])
        .metadata("signature", a_sig)
        .body(ByteStream::from(a_body))
        .send()
        .await
        .expect("swap");
    let r = check(&s3, &chain).await;
    assert!(r.count(Kind::DigestInvalid) >= 2, "{:#?}", r.findings);
    assert!(
        r.findings
            .iter()
            .any(|f| f.kind == Kind::DigestInvalid && f.detail.contains("moved"))
    );
    assert!(!r.ok());
}
