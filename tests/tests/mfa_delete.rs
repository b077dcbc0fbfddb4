//! MFA Delete: the request carries the `x-amz-mfa` header and `MfaDelete=Enabled`, and the
//! read-back is honest (the emulator drops the setting, so it must say "not enabled").

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use trailhead_e2e::{REGION, emulator, run_ctx, seed};
use trailhead_provisioner::error::CallSite;
use trailhead_provisioner::log_archive::log_archive_stage;
use trailhead_provisioner::log_archive::mfa::enable_mfa_delete;

/// (x-amz-mfa header, body) of every request sent.
type Seen = Vec<(Option<String>, String)>;

#[derive(Debug, Clone, Default)]
struct Capture(Arc<Mutex<Seen>>);

impl Intercept for Capture {
    fn name(&self) -> &'static str {
        "capture"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let req = context.request();
        let header = req.headers().get("x-amz-mfa").map(str::to_string);
        let body = req
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        if let Ok(mut v) = self.0.lock() {
            v.push((header, body));
        }
        Ok(())
    }
}

#[tokio::test]
async fn mfa_delete_request_carries_header_and_reads_back_honestly() {
    let conn = emulator();
    let org = seed(&conn, "mfa", 1).await;
    let state = tempfile::tempdir().expect("tempdir");
    let ctx = run_ctx(&conn, &org.spec_toml("mfa", REGION), true, state.path());
    let outcome = log_archive_stage(&ctx).await.expect("stage");
    let bucket = outcome.bucket.expect("bucket");

    let session = ctx.assume(&org.log_archive.id, REGION).await;
    let capture = Capture::default();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(session.config())
            .force_path_style(true)
            .interceptor(capture.clone())
            .build(),
    );
    let serial = format!(
        "arn:aws:iam::{}:mfa/root-account-mfa-device",
        org.log_archive.id
    );
    let site = CallSite::new(&org.log_archive.id, REGION, "mfa delete");
    let enabled = enable_mfa_delete(&s3, &site, &bucket, &serial, "123456")
        .await
        .expect("call accepted");
    assert!(
        !enabled,
        "the emulator drops MFA Delete: the read-back must say so"
    );

    let seen = capture.0.lock().expect("lock").clone();
    let (header, body) = seen.first().expect("a request was sent").clone();
    assert_eq!(header.as_deref(), Some(format!("{serial} 123456").as_str()));
    assert!(body.contains("<MfaDelete>Enabled</MfaDelete>"), "{body}");
    assert!(body.contains("<Status>Enabled</Status>"), "{body}");
    // The read-back request carries no MFA code.
    assert!(seen.iter().skip(1).all(|(h, _)| h.is_none()));
}
