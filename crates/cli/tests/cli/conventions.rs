//! What a user of any serious CLI expects: quiet exits into a closed pipe, a version that names
//! its commit, completions and a man page, names accepted where accounts are named, typos
//! refused (exit 2), and runs that can be listed and resumed by id.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use trailhead_e2e::{REGION, emulator, seed};

use common::trailhead;

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    // A million lines to judge: far more than a pipe holds, so writes hit the closed pipe.
    let mut child = Command::new(env!("CARGO_BIN_EXE_trailhead"))
        .args(["alarms", "match", "--pattern", "ERROR"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        for _ in 0..1_000_000 {
            if stdin.write_all(b"an ERROR line\n").is_err() {
                break;
            }
        }
    });
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "true\n");
    // The reader is gone now (as `| head -1` leaves).
    let out = child.wait_with_output().unwrap();
    let _ = feeder.join();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );

    // A reader gone before the first write: the print macros (alarms list) and the generated
    // texts (completions) end quietly too.
    for args in [&["alarms", "list"][..], &["completions", "zsh"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_trailhead"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn version_names_the_commit_and_completions_and_man_page_exist() {
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
    let (code, out, _) = trailhead(&["--version"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("trailhead 0."), "{out}");
    assert!(
        out.contains(&head),
        "--version must name commit {head}: {out}"
    );

    let (code, bash, _) = trailhead(&["completions", "bash"]);
    assert_eq!(code, 0);
    assert!(
        bash.contains("_trailhead()") && bash.contains("rollout"),
        "{bash}"
    );
    let (_, fish, _) = trailhead(&["completions", "fish"]);
    assert!(fish.contains("complete -c trailhead"), "{fish}");
    let (code, man, _) = trailhead(&["man"]);
    assert_eq!(code, 0);
    assert!(
        man.contains(".TH trailhead") && man.contains("rollout"),
        "{man}"
    );
}

#[tokio::test]
async fn accounts_are_named_by_id_or_name_and_typos_are_refused() {
    let conn = emulator();
    let org = seed(&conn, "named", 1).await;
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("org.toml");
    std::fs::write(&spec_path, org.spec_toml("named", REGION)).unwrap();
    let spec_arg = spec_path.to_str().unwrap();
    let (spec, _) = trailhead_model::load_file(&spec_path).unwrap();
    let member = spec
        .accounts
        .iter()
        .find(|a| a.name.is_some() && a.id.is_some())
        .unwrap();
    let (name, id) = (
        member.label(),
        member.id.as_ref().unwrap().value.to_string(),
    );

    // logs search resolves a name offline (--explain makes no call) and refuses a typo.
    let explain = |who: &str| {
        trailhead(&[
            "logs",
            "search",
            "--org",
            spec_arg,
            "--pattern",
            "{ $.eventName = \"x\" }",
            "--account",
            who,
            "--explain",
            "--engine",
            "athena",
        ])
    };
    let (code, _, err) = explain(&name);
    // No [athena] in this spec: the name was resolved first, then Athena is asked for.
    assert!(err.contains("[athena]"), "{err}");
    assert_eq!(code, 2);
    let (code, _, err) = explain("111111111111");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no account `111111111111`") && err.contains(&id),
        "{err}"
    );

    // verify refuses an account the spec does not govern, with the ones it does.
    let (code, _, err) = trailhead(&[
        "--emulator",
        "verify",
        "--org",
        spec_arg,
        "--account",
        "111111111111",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no account `111111111111`") && err.contains(&id),
        "{err}"
    );
    assert!(!err.contains("Some(") && !err.contains("{ "), "{err}");

    // --debug: every AWS call on stderr, by name and number, never a credential.
    let (_, _, err) = trailhead(&[
        "--emulator",
        "--debug",
        "verify",
        "--org",
        spec_arg,
        "--account",
        &id,
    ]);
    let calls: Vec<&str> = err.lines().filter(|l| l.contains("call=")).collect();
    assert!(
        calls
            .iter()
            .any(|l| l.contains("call=Organizations:ListAccounts")),
        "{err}"
    );
    assert!(
        calls
            .iter()
            .all(|l| l.contains("account=") && l.contains("latency_ms=") && l.contains("attempt=")),
        "{err}"
    );
    for secret in ["Signature=", "Credential=", "SessionToken", "testing"] {
        assert!(!err.contains(secret), "{secret} in the debug log");
    }

    // --region moves the caller's organization-wide reads, like the aws CLI's; written after
    // the command, as its help shows it.
    let (_, _, err) = trailhead(&[
        "verify",
        "--org",
        spec_arg,
        "--account",
        &id,
        "--emulator",
        "--debug",
        "--region",
        "us-west-2",
    ]);
    let org_calls: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("call=Organizations:ListAccounts"))
        .collect();
    assert!(!org_calls.is_empty(), "{err}");
    assert!(org_calls.iter().all(|l| l.contains("us-west-2")), "{err}");

    // A verify report says when, by which version, against which benchmark, what each control
    // is, and for each verdict what was observed and what is required.
    let (code, out, err) = trailhead(&[
        "--emulator",
        "verify",
        "--org",
        spec_arg,
        "--account",
        &id,
        "--output",
        "json",
    ]);
    assert!(code == 0 || code == 4, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("a JSON report");
    for field in ["generated_at", "trailhead_version", "benchmark", "org"] {
        assert!(
            report[field].as_str().is_some_and(|v| !v.is_empty()),
            "{field}: {report}"
        );
    }
    let controls = report["controls"].as_array().expect("controls");
    assert!(
        controls
            .iter()
            .all(|c| c["title"] != c["id"] && c["title"].is_string()),
        "every control has a title: {}",
        report["controls"]
    );
    let results = report["accounts"][0]["controls"]
        .as_array()
        .expect("results");
    assert!(!results.is_empty());
    for r in results {
        assert!(
            r["observed"].is_string() && r["required"].as_str().is_some_and(|v| !v.is_empty()),
            "{r}"
        );
    }
    let (code, _, err) = trailhead(&[
        "--emulator",
        "verify",
        "--org",
        spec_arg,
        "--wave",
        "nosuch",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no wave `nosuch`"), "{err}");

    // --resume of a run that never was: exit 2, and the runs there are.
    let state = dir.path().join("state");
    let state_arg = state.to_str().unwrap();
    let (code, _, err) = trailhead(&[
        "--emulator",
        "rollout",
        "--org",
        spec_arg,
        "--state-dir",
        state_arg,
        "--resume",
        "20990101T000000Z-0000",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no run `20990101T000000Z-0000`"), "{err}");
    let (code, out, _) = trailhead(&["runs", "list", "--org", spec_arg, "--state-dir", state_arg]);
    assert_eq!(code, 0);
    assert!(out.contains("no runs in"), "{out}");
}

#[test]
fn the_state_directory_does_not_depend_on_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("org.toml");
    std::fs::write(&spec, include_str!("../../../../config/org.example.toml")).unwrap();
    let xdg = dir.path().join("xdg");
    let out = Command::new(env!("CARGO_BIN_EXE_trailhead"))
        .args(["runs", "list", "--org"])
        .arg(&spec)
        .env("XDG_STATE_HOME", &xdg)
        .env_remove("TRAILHEAD_STATE_DIR")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&xdg.join("trailhead").display().to_string()),
        "{stdout}"
    );
}

/// The example spec in a directory of its own, and an environment with no AWS settings at all.
fn bare(dir: &std::path::Path, args: &[&str]) -> (i32, String, String, std::time::Duration) {
    let spec = dir.join("org.toml");
    std::fs::write(&spec, include_str!("../../../../config/org.example.toml")).unwrap();
    let empty = dir.join("empty");
    std::fs::write(&empty, "").unwrap();
    // A test may leave an AWS config of its own (and HOME's SSO token cache) in `dir`.
    let config = Some(dir.join("aws_config"))
        .filter(|c| c.exists())
        .unwrap_or_else(|| empty.clone());
    let started = std::time::Instant::now();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trailhead"));
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_CA_BUNDLE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd
        .args(args)
        .arg("--org")
        .arg(&spec)
        .arg("--state-dir")
        .arg(dir.join("state"))
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
        .env("HOME", dir)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn a_closed_port_and_missing_credentials_are_one_line_each_and_fast() {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("https://127.0.0.1:{port}");

    let (code, _, err, took) = bare(dir.path(), &["--endpoint-url", &url, "plan"]);
    assert_eq!(code, 1, "{err}");
    assert!(took.as_secs() < 10, "a closed port took {took:?}");
    assert!(
        err.contains(&format!("cannot reach {url}")) && err.contains("emulator"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let (code, out, err, _) = bare(
        dir.path(),
        &["--endpoint-url", &url, "rollout", "--output", "json"],
    );
    assert_eq!(code, 1, "{err}");
    let event: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(event["event"], "run_failed");
    assert!(
        event["message"].as_str().unwrap().contains("cannot reach"),
        "{event}"
    );

    let (code, _, err, _) = bare(dir.path(), &["--profile", "nope", "plan"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("profile `nope` is not defined"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let (code, _, err, _) = bare(dir.path(), &["preflight"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("no AWS credentials found") && err.contains("--emulator"),
        "{err}"
    );
    assert!(
        !err.contains("DispatchFailure") && !err.contains("Some(") && !err.contains("{ "),
        "{err}"
    );
}

/// An endpoint whose CA is not trusted fails at once, in one line that names --ca-bundle: a
/// certificate does not become trusted by retrying (the SDK retried it for half a minute).
#[test]
fn an_untrusted_certificate_fails_at_once_naming_the_ca_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let url = emulator().endpoint_url.expect("the emulator's endpoint");
    std::fs::write(
        dir.path().join("aws_config"),
        "[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();
    for args in [
        vec!["--endpoint-url", url.as_str(), "plan"],
        vec!["--endpoint-url", url.as_str(), "verify", "--output", "json"],
    ] {
        let (code, _, err, took) = bare(dir.path(), &args);
        assert_eq!(code, 1, "{err}");
        assert!(
            took.as_secs() < 10,
            "an untrusted certificate took {took:?}"
        );
        assert!(
            err.contains("TLS certificate is not trusted")
                && err.contains("UnknownIssuer")
                && err.contains("--ca-bundle")
                && err.contains("AWS_CA_BUNDLE"),
            "{err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

#[test]
fn an_expired_sso_session_says_to_log_in_again() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("aws_config"),
        "[profile corp-admin]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Admin\nregion = eu-west-1\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n",
    )
    .unwrap();
    // `aws sso login` caches the token under the SHA-1 of the session name ("corp"); this one
    // expired long ago and has no refresh token.
    let cache = dir.path().join(".aws/sso/cache");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(
        cache.join("ee0bfd2552fbd840c02cc48b6e823320543c450f.json"),
        r#"{"accessToken":"expired","expiresAt":"2020-01-01T00:00:00Z","region":"eu-west-1","startUrl":"https://corp.awsapps.com/start"}"#,
    )
    .unwrap();
    let (code, _, err, took) = bare(dir.path(), &["plan", "--profile", "corp-admin"]);
    assert_eq!(code, 1, "{err}");
    assert!(took.as_secs() < 10, "took {took:?}");
    assert_eq!(
        err.trim(),
        "error: the SSO session of profile `corp-admin` has expired or was never started: run `aws sso login --profile corp-admin`"
    );
}

/// A profile that does not exist is named, with the ones that do, at once: not an IMDS token
/// error after the SDK's whole default chain.
#[test]
fn an_unknown_profile_is_named_with_the_profiles_there_are() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("aws_config"),
        "[default]\nregion = eu-west-1\n\n[profile mgmt]\nregion = eu-west-1\n\n[sso-session corp]\nsso_region = eu-west-1\n",
    )
    .unwrap();
    let (code, _, err, took) = bare(dir.path(), &["plan", "--profile", "nosuch"]);
    assert_eq!(code, 1, "{err}");
    assert!(took.as_secs() < 10, "took {took:?}");
    assert_eq!(
        err.trim(),
        "error: the AWS profile `nosuch` is not defined in ~/.aws/config or ~/.aws/credentials (defined: default, mgmt)"
    );
}

#[test]
fn the_debug_syntax_scanner_finds_what_it_must() {
    assert!(common::debug_syntax("evidence: Some(\"x\")").is_some());
    assert!(common::debug_syntax("AwsError { code: \"x\" }").is_some());
    assert!(common::debug_syntax("got None").is_some());
    assert!(common::debug_syntax("{ $.eventName = \"x\" } and {\"event\":1}").is_none());
    assert!(common::debug_syntax("(none) → alias/x").is_none());
}

#[tokio::test]
async fn preflight_names_a_caller_outside_the_management_account_in_json() {
    let conn = emulator();
    let org = seed(&conn, "caller", 1).await;
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("org.toml");
    // The emulator's caller is 123456789012: a spec naming another management account is wrong.
    let text = org.spec_toml("caller", REGION).replace(
        "management_account = \"123456789012\"",
        "management_account = \"999999999999\"",
    );
    assert!(
        text.contains("999999999999"),
        "the seeded spec names its management account"
    );
    std::fs::write(&spec_path, text).unwrap();
    let spec_arg = spec_path.to_str().unwrap();
    let (code, out, err) = trailhead(&[
        "--emulator",
        "preflight",
        "--org",
        spec_arg,
        "--output",
        "json",
    ]);
    assert_eq!(code, 1, "{err}");
    let events: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let problem = events
        .iter()
        .find(|e| e["event"] == "preflight_problem")
        .unwrap();
    assert_eq!(problem["blocking"], true);
    let message = problem["message"].as_str().unwrap();
    assert!(
        message.contains(
            "the caller is account 123456789012, not the spec's management account 999999999999"
        ),
        "{message}"
    );
    assert_eq!(events.last().unwrap()["event"], "preflight_finished");
    assert_eq!(events.last().unwrap()["blocking"], 1);
}

#[test]
fn plan_offers_no_interactive_view() {
    let (_, help, _) = trailhead(&["plan", "--help"]);
    assert!(help.contains("plain") && help.contains("json"), "{help}");
    assert!(!help.contains("tui"), "{help}");
    let (code, _, err) = trailhead(&["plan", "--org", "x.toml", "--output", "tui"]);
    assert_eq!(code, 2, "{err}");
}

/// In `logs …` and `alarms backtest` a region is a filter on where events were recorded, not
/// the API region every other command's --region means: it has a name of its own, and the old
/// spelling points to it.
#[test]
fn the_event_region_filter_is_not_the_api_region() {
    for args in [
        vec!["logs", "search", "--org", "x.toml", "--pattern", "ERROR"],
        vec!["logs", "validate", "--org", "x.toml", "--account", "a"],
        vec!["alarms", "backtest", "--org", "x.toml"],
    ] {
        let mut with = args.clone();
        with.extend(["--region", "us-east-1"]);
        let (code, _, err) = trailhead(&with);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("--event-region"), "{err}");
        let (_, help, _) = trailhead(&[args[0], args[1], "--help"]);
        assert!(
            help.contains("--event-region <REGION>") && help.contains("Only"),
            "{help}"
        );
    }
}
