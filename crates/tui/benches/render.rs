//! `cargo xtask bench render`: milliseconds per frame of a 1,000-account rollout view.

use std::hint::black_box;
use std::time::Instant;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use trailhead_report::events::{AccountStatus, Event, WaveInfo};
use trailhead_report::plan::Action;
use trailhead_tui::ViewState;
use trailhead_tui::render::draw;

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let accounts = 1000usize;
    let frames = if benching { 500 } else { 20 };
    let ids: Vec<(String, String)> = (0..accounts)
        .map(|i| {
            (
                format!("{:012}", 100_000_000_000 + i),
                format!("account-{i:04}"),
            )
        })
        .collect();
    let mut st = ViewState::new("acme", "bench");
    st.apply(&Event::RunStarted {
        run_id: "bench".into(),
        org: "acme".into(),
        mode: "rollout".into(),
        accounts,
        waves: vec![
            WaveInfo {
                name: "canary".into(),
                accounts: ids[..10].to_vec(),
                max_concurrency: 2,
            },
            WaveInfo {
                name: "workloads".into(),
                accounts: ids[10..].to_vec(),
                max_concurrency: 32,
            },
        ],
    });
    for (i, (id, _)) in ids.iter().enumerate() {
        for step in [
            "cwl role",
            "log group",
            "alarm topic",
            "trail",
            "metric filters",
            "alarms",
        ] {
            st.apply(&Event::StepFinished {
                account: id.clone(),
                region: "eu-west-1".into(),
                step: step.into(),
                action: Action::Create,
                changes: Vec::new(),
                notes: Vec::new(),
                duration_ms: 100,
                api_calls: 3,
                retries: 0,
            });
        }
        if i % 3 == 0 {
            st.apply(&Event::AccountFinished {
                account: id.clone(),
                wave: "workloads".into(),
                status: AccountStatus::Succeeded,
                duration_ms: 900,
                retries: 0,
            });
        }
    }
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        let mut terminal = match Terminal::new(TestBackend::new(w, h)) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("cannot make a test terminal: {e}");
                return;
            }
        };
        let started = Instant::now();
        for f in 0..frames {
            // Move the selection so every frame scrolls.
            st.selected = (f * 7) % accounts;
            let _ = terminal.draw(|frame| draw(frame, black_box(&mut st)));
        }
        let per = started.elapsed().as_secs_f64() * 1000.0 / frames as f64;
        println!("{accounts} accounts, {w}x{h}: {per:.3} ms/frame over {frames} frames");
    }
}
