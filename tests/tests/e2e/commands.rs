//! The commands the view sends reach the scheduler: pause holds new accounts until resume,
//! skip keeps an account out, approval gates the next wave, retry runs a failed account again.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use trailhead_e2e::faults::{FaultConfig, FaultInjector};
use trailhead_e2e::{REGION, emulator, run_ctx, seed};
use trailhead_provisioner::events::{AccountStatus, Command, Event, EventSink};
use trailhead_provisioner::log_archive::RunCtx;
use trailhead_provisioner::rollout::{RolloutOptions, RolloutOutcome, rollout};

fn start(
    ctx: RunCtx,
    opts: RolloutOptions,
) -> (
    UnboundedReceiver<Event>,
    UnboundedSender<Command>,
    tokio::task::JoinHandle<RolloutOutcome>,
) {
    let (sink, events) = EventSink::channel();
    let (commands_tx, commands) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        let outcome = rollout(&ctx, &opts, &sink, commands)
            .await
            .expect("rollout");
        drop(sink);
        outcome
    });
    (events, commands_tx, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_holds_new_accounts_until_resume() {
    let conn = emulator();
    let org = seed(&conn, "pause", 2).await;
    let state = tempfile::tempdir().expect("tempdir");
    let ctx = run_ctx(&conn, &org.spec_toml("pause", REGION), true, state.path());
    let (mut events, commands, task) = start(ctx, RolloutOptions::default());
    // The canary wave runs one account at a time: pause while the first runs.
    let first = loop {
        match events.recv().await.expect("events") {
            Event::AccountStarted { account, wave, .. } if wave == "canary" => break account,
            _ => {}
        }
    };
    commands.send(Command::Pause).expect("pause");
    loop {
        if let Event::AccountFinished { account, .. } = events.recv().await.expect("events")
            && account == first
        {
            break;
        }
    }
    // Paused: nothing new starts.
    tokio::time::sleep(Duration::from_millis(800)).await;
    while let Ok(e) = events.try_recv() {
        assert!(
            !matches!(e, Event::AccountStarted { .. }),
            "an account started while paused: {e:?}"
        );
    }
    commands.send(Command::Resume).expect("resume");
    let next = loop {
        if let Event::AccountStarted { account, .. } = events.recv().await.expect("events") {
            break account;
        }
    };
    assert_ne!(next, first);
    while events.recv().await.is_some() {}
    assert!(task.await.expect("task").ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_gates_waves_and_skip_keeps_an_account_out() {
    let conn = emulator();
    let org = seed(&conn, "appr", 3).await;
    let state = tempfile::tempdir().expect("tempdir");
    let ctx = run_ctx(&conn, &org.spec_toml("appr", REGION), true, state.path());
    let opts = RolloutOptions {
        confirm_waves: true,
        ..RolloutOptions::default()
    };
    let (mut events, commands, task) = start(ctx, opts);
    let skipped = org.audit.id.clone();
    let mut approvals = 0;
    let mut seen = Vec::new();
    while let Some(e) = events.recv().await {
        if let Event::WaitingForApproval { wave } = &e {
            approvals += 1;
            if wave == "security" {
                commands.send(Command::Skip(skipped.clone())).expect("skip");
            }
            commands.send(Command::ApproveNextWave).expect("approve");
        }
        seen.push(e);
    }
    let outcome = task.await.expect("task");
    assert_eq!(
        approvals, 3,
        "every wave, the first included, waits for approval"
    );
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, Event::AccountStarted { account, .. } if *account == skipped))
    );
    assert!(seen.iter().any(|e| matches!(e, Event::AccountFinished { account, status: AccountStatus::Skipped, .. } if *account == skipped)));
    assert_eq!(outcome.skipped, 1);
    assert_eq!(outcome.succeeded, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_runs_a_failed_account_again() {
    let conn = emulator();
    let org = seed(&conn, "retry", 2).await;
    let failing = org.members[0].id.clone();
    let pattern = format!("arn:aws:logs:{REGION}:{failing}:log-group");
    let faulty = conn.clone().wrap_http_client(move |inner| {
        FaultInjector::new(
            inner,
            FaultConfig {
                deny_matching: vec![pattern],
                ..FaultConfig::default()
            },
        )
        .shared()
    });
    let state = tempfile::tempdir().expect("tempdir");
    // The canary tolerates one failure, so the wave goes on while the retry is queued.
    let spec = org.spec_toml("retry", REGION).replacen(
        "failure_tolerance = 0",
        "failure_tolerance = 1",
        1,
    );
    let ctx = run_ctx(&faulty, &spec, true, state.path());
    let opts = RolloutOptions {
        skip_preflight: true,
        ..RolloutOptions::default()
    };
    let (mut events, commands, task) = start(ctx, opts);
    let mut starts = 0;
    let mut retried = false;
    while let Some(e) = events.recv().await {
        match e {
            Event::AccountStarted { account, .. } if account == failing => starts += 1,
            Event::AccountFinished {
                account,
                status: AccountStatus::Failed,
                ..
            } if account == failing && !retried => {
                retried = true;
                commands
                    .send(Command::Retry(failing.clone()))
                    .expect("retry");
            }
            _ => {}
        }
    }
    let outcome = task.await.expect("task");
    assert_eq!(starts, 2, "the failed account ran again after r");
    assert_eq!(
        outcome.failed, 1,
        "it failed again (the fault stays), and is counted once"
    );
}
