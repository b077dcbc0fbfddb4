//! A rollout killed with kill -9 in the middle of a wave, or stopped with SIGTERM, is continued
//! with `--resume` and converges: nothing duplicated, nothing lost.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use trailhead_e2e::{REGION, emulator, seed};

fn start(spec: &Path, state: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_trailhead"))
        .args(["--emulator", "rollout", "--output", "json", "--org"])
        .arg(spec)
        .arg("--state-dir")
        .arg(state)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start trailhead")
}

fn journal_lines(state: &Path) -> Vec<String> {
    let runs = state.join("resume").join("runs");
    let Ok(entries) = std::fs::read_dir(&runs) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|e| {
            std::fs::read_to_string(e.path())
                .unwrap_or_default()
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn wait_for_accounts(state: &Path, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while journal_lines(state)
        .iter()
        .filter(|l| l.contains("\"kind\":\"account\""))
        .count()
        < n
    {
        assert!(
            Instant::now() < deadline,
            "the rollout never reached {n} finished accounts"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn assert_converged_without_duplicates(spec_text: &str, accounts: &[String]) {
    trailhead_e2e::assert_converged_without_duplicates(&emulator(), spec_text, accounts).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_wave_then_resume_converges() {
    let conn = emulator();
    let org = seed(&conn, "kill", 16).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("org.toml");
    let spec_text = org.spec_toml("resume", REGION);
    std::fs::write(&spec, &spec_text).expect("spec");
    let state = dir.path().join("state");

    let mut child = start(&spec, &state, &[]);
    // Past the canary and security waves, in the middle of the workloads wave.
    wait_for_accounts(&state, 6);
    child.kill().expect("kill -9");
    let _ = child.wait();
    let before = journal_lines(&state);
    assert!(
        !before.iter().any(|l| l.contains("\"kind\":\"finished\"")),
        "the run finished before it could be killed"
    );
    assert!(
        state.join("resume").join("lock").exists(),
        "kill -9 leaves its lock behind"
    );

    let out = start(&spec, &state, &["--resume", "last"])
        .wait_with_output()
        .expect("resume");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "resume failed:\n{}\n{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    let finished: serde_json::Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["event"] == "run_finished")
        .expect("run_finished event");
    assert_eq!(finished["failed"], 0);
    assert_eq!(finished["succeeded"], 18);
    let after = journal_lines(&state);
    assert!(
        after
            .iter()
            .any(|l| l.contains("\"kind\":\"finished\"") && l.contains("succeeded"))
    );
    assert!(
        !state.join("resume").join("lock").exists(),
        "the lock is released"
    );
    // runs list: when the run started, the time it ran over both starts, who ran it.
    let listed = Command::new(env!("CARGO_BIN_EXE_trailhead"))
        .args(["runs", "list", "--org"])
        .arg(&spec)
        .arg("--state-dir")
        .arg(&state)
        .output()
        .expect("runs list");
    let listed = String::from_utf8_lossy(&listed.stdout);
    let line = listed
        .lines()
        .find(|l| l.contains("succeeded"))
        .unwrap_or_else(|| panic!("{listed}"));
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert!(
        fields[1].starts_with("20") && fields[2].contains(':'),
        "started: {line}"
    );
    assert!(
        fields[3].ends_with('s') || fields[3].ends_with('m'),
        "took: {line}"
    );
    assert!(line.contains("arn:aws:"), "the caller's ARN: {line}");

    let ids: Vec<String> = org.all_accounts().map(|a| a.id.clone()).collect();
    assert_converged_without_duplicates(&spec_text, &ids).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_gracefully_and_leaves_a_resumable_journal() {
    let conn = emulator();
    let org = seed(&conn, "term", 12).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("org.toml");
    let spec_text = org.spec_toml("resume", REGION);
    std::fs::write(&spec, &spec_text).expect("spec");
    let state = dir.path().join("state");

    let child = start(&spec, &state, &[]);
    wait_for_accounts(&state, 1);
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let out = child.wait_with_output().expect("wait");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "an aborted rollout exits 1");
    let finished: serde_json::Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["event"] == "run_finished")
        .expect("a graceful stop still reports the run");
    assert!(
        finished["resume_command"]
            .as_str()
            .is_some_and(|c| c.contains("--resume")),
        "{finished}"
    );
    assert_eq!(finished["interrupted"], true, "{finished}");
    assert!(
        journal_lines(&state)
            .iter()
            .any(|l| l.contains("\"kind\":\"finished\"") && l.contains("aborted"))
    );

    // The printed command works as printed: same emulator, same state directory.
    let printed = finished["resume_command"].as_str().unwrap_or_default();
    assert!(
        printed.starts_with("trailhead --emulator rollout --org "),
        "{printed}"
    );
    assert!(
        printed.contains(&format!("--state-dir {}", state.display())),
        "{printed}"
    );
    let binary = env!("CARGO_BIN_EXE_trailhead");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{binary}{}", &printed["trailhead".len()..]))
        .output()
        .expect("resume as printed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids: Vec<String> = org.all_accounts().map(|a| a.id.clone()).collect();
    assert_converged_without_duplicates(&spec_text, &ids).await;
}

/// kill -9 at points chosen by a seed (after a number of finished steps), then `--resume`:
/// it converges every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_seeded_points_then_resume_converges_every_time() {
    let conn = emulator();
    for seed_value in [7u64, 19, 43] {
        let org = seed(&conn, &format!("k{seed_value}"), 6).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = dir.path().join("org.toml");
        let spec_text = org.spec_toml("resume", REGION);
        std::fs::write(&spec, &spec_text).expect("spec");
        let state = dir.path().join("state");
        // 1 to 30 finished steps into the run: anywhere from the canaries to the last wave.
        let steps = 1 + (seed_value.wrapping_mul(2_654_435_761) % 30) as usize;
        let mut child = start(&spec, &state, &[]);
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let done = journal_lines(&state)
                .iter()
                .filter(|l| l.contains("\"kind\":\"step\""))
                .count();
            if done >= steps || child.try_wait().expect("wait").is_some() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "seed {seed_value}: never reached {steps} steps"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = child.kill();
        let _ = child.wait();
        let out = start(&spec, &state, &["--resume", "last"])
            .wait_with_output()
            .expect("resume");
        assert!(
            out.status.success(),
            "seed {seed_value} (killed after {steps} steps): resume failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ids: Vec<String> = org.all_accounts().map(|a| a.id.clone()).collect();
        assert_converged_without_duplicates(&spec_text, &ids).await;
    }
}
