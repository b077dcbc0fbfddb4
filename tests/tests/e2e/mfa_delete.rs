//! MFA Delete: the request carries the `x-amz-mfa` header and `MfaDelete=Enabled`; the emulator
//! refuses it from a role or with a wrong code, as S3 does, accepts it from the bucket owner's
//! root user with the device's code, and the read-back says so.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use trailhead_e2e::{REGION, emulator, mfa_device, root_config, run_ctx, seed};
use trailhead_provisioner::error::CallSite;
use trailhead_provisioner::log_archive::enable_mfa_delete;
use trailhead_provisioner::log_archive::log_archive_stage;

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
async fn mfa_delete_needs_the_owners_root_user_and_its_code_then_reads_back() {
    let conn = emulator();
    let org = seed(&conn, "mfa", 1).await;
    let state = tempfile::tempdir().expect("tempdir");
    let ctx = run_ctx(&conn, &org.spec_toml("mfa", REGION), true, state.path());
    let outcome = log_archive_stage(&ctx).await.expect("stage");
    let bucket = outcome.bucket.expect("bucket");
    let la = &org.log_archive.id;
    let site = CallSite::new(la, REGION, "mfa delete");
    let (serial, _) = mfa_device(la);

    // The access role may not, whatever the code.
    let session = ctx.assume(la, REGION).await;
    let capture = Capture::default();
    let role_s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(session.config())
            .force_path_style(true)
            .interceptor(capture.clone())
            .build(),
    );
    let (_, code) = mfa_device(la);
    let refused = enable_mfa_delete(&role_s3, &site, &bucket, &serial, &code).await;
    assert!(refused.is_err_and(|e| e.to_string().contains("AccessDenied")));
    let seen = capture.0.lock().expect("lock").clone();
    let (header, body) = seen.first().expect("a request was sent").clone();
    assert_eq!(header.as_deref(), Some(format!("{serial} {code}").as_str()));
    assert!(body.contains("<MfaDelete>Enabled</MfaDelete>"), "{body}");
    assert!(body.contains("<Status>Enabled</Status>"), "{body}");

    // The root user with a wrong code may not either; with the device's code it may.
    let root_s3 = conn.s3_client(&root_config(&conn, la).await);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = enable_mfa_delete(&root_s3, &site, &bucket, &serial, wrong).await;
    assert!(refused.is_err_and(|e| e.to_string().contains("Invalid MFA one time pass code")));
    let (_, code) = mfa_device(la);
    let enabled = enable_mfa_delete(&root_s3, &site, &bucket, &serial, &code)
        .await
        .expect("accepted");
    assert!(enabled, "the read-back says MFA Delete is on");

    // The stage now reports it done, and the archive has no lifecycle to conflict with it.
    let again = log_archive_stage(&ctx).await.expect("second stage");
    let mfa = again
        .reports
        .iter()
        .find(|r| r.step == "mfa delete")
        .expect("mfa step");
    assert_eq!(mfa.action, trailhead_provisioner::plan::Action::NoOp);
    let lifecycle = role_s3
        .get_bucket_lifecycle_configuration()
        .bucket(&bucket)
        .send()
        .await;
    assert!(
        lifecycle.is_err(),
        "MFA Delete leaves no lifecycle configuration"
    );
}

#[tokio::test]
async fn the_command_takes_only_the_log_archive_roots_keys() {
    use trailhead_provisioner::log_archive::{MfaDeleteRequest, mfa_delete};
    let conn = emulator();
    let org = seed(&conn, "mfacmd", 1).await;
    let state = tempfile::tempdir().expect("tempdir");
    let ctx = run_ctx(&conn, &org.spec_toml("mfacmd", REGION), true, state.path());
    let bucket = log_archive_stage(&ctx)
        .await
        .expect("stage")
        .bucket
        .expect("bucket");
    let la = &org.log_archive.id;

    // Another account's root keys are refused before any write, naming whose they are.
    let member = &org.members[0].id;
    let theirs = root_config(&conn, member).await;
    let (serial, code) = mfa_device(la);
    let request = MfaDeleteRequest {
        spec: &ctx.spec,
        root: &theirs,
        whose: "profile member-root",
        serial: &serial,
        code: &code,
    };
    let refused = mfa_delete(&conn, &request).await.expect_err("refused");
    assert!(
        refused.to_string().contains(&format!(
            "profile member-root belongs to account {member}, not the log-archive account {la}"
        )),
        "{refused}"
    );

    // The log-archive account's root user turns it on, and the read-back says so.
    let own = root_config(&conn, la).await;
    let (serial, code) = mfa_device(la);
    let request = MfaDeleteRequest {
        root: &own,
        serial: &serial,
        code: &code,
        ..request
    };
    let done = mfa_delete(&conn, &request).await.expect("enabled");
    assert_eq!(done.bucket, bucket);
    assert!(done.enabled);
}
