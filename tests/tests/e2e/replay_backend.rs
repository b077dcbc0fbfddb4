//! The benchmark's recorded-response backend (tests/support/replay.rs): a rollout whose workload
//! accounts are answered from the canary's recording must succeed with no miss, never reach the
//! emulator for those accounts, and converge: the re-run and a plan see nothing to change.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use std::sync::{Arc, Mutex};

use trailhead_e2e::replay::{Replay, canary_and_workloads};
use trailhead_e2e::{REGION, emulator, run_ctx, seed};
use trailhead_provisioner::counter::totals;
use trailhead_provisioner::events::EventSink;
use trailhead_provisioner::plan::Action;
use trailhead_provisioner::rollout::{RolloutOptions, plan, rollout};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workload_accounts_replayed_from_the_canary_converge_without_the_emulator() {
    let clean = emulator();
    let org = seed(&clean, "replay", 5).await;
    let (template, replayed) = canary_and_workloads(&org).expect("a canary");
    assert_eq!(replayed.len(), 3);
    let holder = Arc::new(Mutex::new(None));
    let h = holder.clone();
    let accounts = replayed.clone();
    let wired = clean.clone().wrap_http_client(move |inner| {
        let replay = Replay::new(inner, &template, accounts);
        let shared = replay.shared();
        *h.lock().expect("lock") = Some(replay);
        shared
    });
    let replay = holder.lock().expect("lock").take().expect("installed");
    let state = tempfile::tempdir().expect("tempdir");
    let spec = org.spec_toml("replay", REGION);
    let ctx = run_ctx(&wired, &spec, true, state.path());

    let (_tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let first = rollout(&ctx, &RolloutOptions::default(), &EventSink::none(), rx)
        .await
        .expect("rollout");
    assert!(first.ok(), "failures: {:?}", first.failures);
    assert_eq!(first.succeeded, 7);
    let stats = replay.stats();
    assert_eq!(stats.misses, 0, "missed: {:?}", replay.missed());
    // Each workload account makes dozens of calls; all of them were answered from the record.
    assert!(stats.replayed > 3 * 40, "replayed only {}", stats.replayed);

    // The emulator never saw the replayed accounts: no trail exists there.
    let plan_ctx = run_ctx(&clean, &spec, false, state.path());
    for id in &replayed {
        let trails = plan_ctx
            .assume(id, REGION)
            .await
            .cloudtrail()
            .describe_trails()
            .send()
            .await
            .expect("DescribeTrails");
        assert!(trails.trail_list().is_empty(), "{id} reached the emulator");
    }

    // Converged, as the canary is: the re-run only reads and the plan finds nothing to do.
    replay.new_run();
    ctx.calls.reset();
    let (_tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let again = rollout(&ctx, &RolloutOptions::default(), &EventSink::none(), rx)
        .await
        .expect("re-run");
    assert!(again.ok());
    assert_eq!(totals(&ctx.calls.snapshot()).1, 0, "the re-run wrote");
    replay.new_run();
    let planned = plan(
        &run_ctx(&wired, &spec, false, state.path()),
        &EventSink::none(),
    )
    .await
    .expect("plan");
    let changes: Vec<String> = planned
        .reports
        .iter()
        .filter(|r| matches!(r.action, Action::Create | Action::Update))
        .map(|r| format!("{} {}", r.account, r.step))
        .collect();
    assert!(changes.is_empty(), "the plan wants changes: {changes:?}");
    assert_eq!(replay.stats().misses, 0, "missed: {:?}", replay.missed());
}
