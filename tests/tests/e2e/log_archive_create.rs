//! A log-archive account that does not exist yet: created through Organizations, never twice,
//! even when a run died between CreateAccount and the end of polling.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use trailhead_e2e::{REGION, emulator, run_ctx, seed, unique};
use trailhead_provisioner::journal;
use trailhead_provisioner::log_archive::{RunCtx, log_archive_stage};
use trailhead_provisioner::plan::Action;

fn with_new_archive(spec: &str, name: &str, email: &str) -> String {
    let start = spec.find("account_id = ").expect("account_id line");
    let end = start + spec[start..].find('\n').expect("eol");
    format!(
        "{}name = \"{name}\"\nemail = \"{email}\"{}",
        &spec[..start],
        &spec[end..]
    )
}

async fn accounts_with_email(ctx: &RunCtx, email: &str) -> Vec<String> {
    let org = ctx.management().await.organizations();
    let mut out = Vec::new();
    let mut pages = org.list_accounts().into_paginator().send();
    while let Some(page) = pages.next().await {
        for a in page.expect("ListAccounts").accounts() {
            if a.email() == Some(email) {
                out.push(a.id().unwrap_or_default().to_string());
            }
        }
    }
    out
}

#[tokio::test]
async fn a_new_log_archive_account_is_created_once() {
    let conn = emulator();
    let org = seed(&conn, "mkla", 1).await;
    let name = unique("la");
    let email = format!("{name}@trailhead.example");
    let spec = with_new_archive(&org.spec_toml("mkla", REGION), &name, &email);
    let state = tempfile::tempdir().expect("tempdir");

    let plan_ctx = run_ctx(&conn, &spec, false, state.path());
    let plan = log_archive_stage(&plan_ctx).await.expect("plan");
    assert!(
        plan.reports.iter().all(|r| r.action == Action::Create),
        "{:?}",
        plan.reports
    );
    assert!(
        accounts_with_email(&plan_ctx, &email).await.is_empty(),
        "plan must not create"
    );

    let ctx = run_ctx(&conn, &spec, true, state.path());
    let first = log_archive_stage(&ctx).await.expect("create");
    let created = first.account_id.clone().expect("an account id");
    assert_eq!(first.reports[0].action, Action::Create);
    assert_eq!(
        accounts_with_email(&ctx, &email).await,
        vec![created.clone()]
    );
    assert!(
        first
            .bucket
            .as_deref()
            .is_some_and(|b| b.ends_with(&created))
    );
    assert!(
        !journal::pending_account_path(state.path(), &email).exists(),
        "the pending request is cleared"
    );

    let second = log_archive_stage(&ctx).await.expect("again");
    assert_eq!(second.account_id.as_deref(), Some(created.as_str()));
    assert_eq!(second.reports[0].action, Action::NoOp);
}

#[tokio::test]
async fn a_run_that_died_after_create_account_resumes_its_request() {
    let conn = emulator();
    let org = seed(&conn, "pend", 1).await;
    let name = unique("la");
    let email = format!("{name}@trailhead.example");
    let spec = with_new_archive(&org.spec_toml("pend", REGION), &name, &email);
    let state = tempfile::tempdir().expect("tempdir");
    let ctx = run_ctx(&conn, &spec, true, state.path());

    // What a run leaves when it dies right after CreateAccount: the request, journalled.
    let management = ctx.management().await.organizations();
    let request = management
        .create_account()
        .account_name(&name)
        .email(&email)
        .send()
        .await
        .expect("create");
    let request_id = request
        .create_account_status()
        .and_then(|s| s.id())
        .expect("request id")
        .to_string();
    journal::append(
        &journal::pending_account_path(state.path(), &email),
        &serde_json::json!({"request_id": request_id, "email": email, "name": name}),
    )
    .expect("journal");

    let outcome = log_archive_stage(&ctx).await.expect("stage");
    let ids = accounts_with_email(&ctx, &email).await;
    assert_eq!(ids.len(), 1, "no second account: {ids:?}");
    assert_eq!(outcome.account_id.as_deref(), Some(ids[0].as_str()));
}
