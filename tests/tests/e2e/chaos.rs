//! Chaos: a 30-account rollout through throttling (30%), server errors (5%) and reset
//! connections (2%). It must converge, every account must check out, nothing may be
//! duplicated, and the retries must be reported.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use std::time::Duration;

use aws_config::retry::RetryConfig;
use trailhead_e2e::faults::{FaultConfig, FaultInjector};
use trailhead_e2e::{REGION, emulator, run_ctx, seed};
use trailhead_provisioner::counter::totals;
use trailhead_provisioner::events::{Event, EventSink};
use trailhead_provisioner::rollout::{RolloutOptions, rollout};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_accounts_converge_through_throttling_errors_and_resets() {
    // TRAILHEAD_CHAOS_SEED picks another fault sequence (CI uses the fixed default).
    let chaos_seed: u64 = std::env::var("TRAILHEAD_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261127);
    let clean = emulator();
    let org = seed(&clean, "chaos", 28).await;
    let holder = std::sync::Arc::new(std::sync::Mutex::new(None));
    let h = holder.clone();
    // Retries as in production, but backing off in milliseconds so the test stays short.
    let faulty = clean
        .clone()
        .with_retry(
            RetryConfig::standard()
                .with_max_attempts(12)
                .with_initial_backoff(Duration::from_millis(20))
                .with_max_backoff(Duration::from_millis(500)),
        )
        .wrap_http_client(move |inner| {
            let injector = FaultInjector::new(
                inner,
                FaultConfig {
                    throttle: 0.30,
                    server_error: 0.05,
                    reset: 0.02,
                    seed: chaos_seed,
                    // Up to five faults in a row on one call, eleven retries allowed: every
                    // call gets through, whatever attempts the shared sequence hits.
                    faulted_attempts: Some(5),
                    ..FaultConfig::default()
                },
            );
            let shared = injector.shared();
            *h.lock().expect("lock") = Some(injector);
            shared
        });
    let injector = holder
        .lock()
        .expect("lock")
        .clone()
        .expect("injector installed");
    let state = tempfile::tempdir().expect("tempdir");
    let ctx = run_ctx(&faulty, &org.spec_toml("chaos", REGION), true, state.path());

    let (sink, mut rx) = EventSink::channel();
    let (_tx, commands) = tokio::sync::mpsc::unbounded_channel();
    let outcome = rollout(&ctx, &RolloutOptions::default(), &sink, commands)
        .await
        .expect("rollout");
    drop(sink);
    let mut events = Vec::new();
    while let Some(e) = rx.recv().await {
        events.push(e);
    }
    assert!(
        outcome.ok(),
        "failures: {:?} preflight: {:?} stopped: {:?}",
        outcome.failures,
        outcome.preflight_problems,
        outcome.stopped_by_tolerance
    );
    assert_eq!(outcome.succeeded, 30);

    let wire = injector.total();
    assert!(
        wire.throttled > 100 && wire.server_errors > 10 && wire.resets > 5,
        "{wire:?}"
    );
    let (calls, _, retries, throttled) = totals(&ctx.calls.snapshot());
    assert!(retries > 100, "retries seen by the SDK: {retries}");
    assert!(throttled > 50, "throttles seen by the SDK: {throttled}");
    // Retries are booked per account: many accounts retried, not one starving the rest.
    let accounts_with_retries = ctx
        .calls
        .snapshot()
        .iter()
        .filter(|(_, s)| s.attempts > s.calls)
        .map(|((account, _), _)| account.clone())
        .collect::<std::collections::BTreeSet<_>>();
    assert!(
        accounts_with_retries.len() >= 25,
        "{}",
        accounts_with_retries.len()
    );
    let reported: u64 = events
        .iter()
        .filter_map(|e| match e {
            Event::AccountFinished { retries, .. } => Some(*retries),
            _ => None,
        })
        .sum();
    assert!(reported > 0, "account events must report retries");
    assert!(events.iter().any(|e| matches!(e, Event::RunFinished { retries, throttled, .. } if *retries > 0 && *throttled > 0)));
    eprintln!("chaos: {calls} calls, {retries} retries, {throttled} throttled; injected {wire:?}");

    // Every account checks out, with nothing duplicated (read without faults).
    let ids: Vec<String> = org.all_accounts().map(|a| a.id.clone()).collect();
    trailhead_e2e::assert_converged_without_duplicates(
        &clean,
        &org.spec_toml("chaos", REGION),
        &ids,
    )
    .await;

    // And a second run through the same faults changes nothing.
    ctx.calls.reset();
    let (_tx2, commands) = tokio::sync::mpsc::unbounded_channel();
    let again = rollout(
        &ctx,
        &RolloutOptions::default(),
        &EventSink::none(),
        commands,
    )
    .await
    .expect("second rollout");
    assert!(again.ok());
    assert_eq!(
        totals(&ctx.calls.snapshot()).1,
        0,
        "a converged org needs no writes, faults or not"
    );
}
