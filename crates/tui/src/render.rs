//! Drawing one frame from the view model. Only the visible rows of the account table are built,
//! so a frame costs the same at 30 accounts or 3,000.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, LineGauge, Paragraph, Row, Table, Wrap};

use crate::state::{AccountView, Counts, Mode, Status, ViewState, WaveState};

fn style(state: &ViewState, s: Style) -> Style {
    if state.color { s } else { Style::default() }
}

fn status_color(s: Status) -> Color {
    match s {
        Status::Failed => Color::Red,
        Status::Running => Color::Yellow,
        Status::Pending => Color::Gray,
        Status::Succeeded => Color::Green,
        Status::Skipped => Color::DarkGray,
    }
}

fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

fn header(f: &mut Frame, area: Rect, st: &ViewState) {
    let c = st.counts();
    let eta = st.eta().map_or_else(|| "--:--:--".to_string(), clock);
    let mut flags = Vec::new();
    if st.paused {
        flags.push(Span::styled(
            " PAUSED ",
            style(st, Style::default().fg(Color::Black).bg(Color::Yellow)),
        ));
    }
    if st.aborting && !st.finished {
        flags.push(Span::styled(
            " ABORTING ",
            style(st, Style::default().fg(Color::White).bg(Color::Red)),
        ));
    }
    if st.finished && st.interrupted {
        flags.push(Span::styled(
            " INTERRUPTED ",
            style(st, Style::default().fg(Color::Black).bg(Color::Yellow)),
        ));
    } else if st.finished {
        flags.push(Span::styled(
            " FINISHED ",
            style(st, Style::default().fg(Color::Black).bg(Color::Green)),
        ));
    }
    let mut first = vec![
        Span::styled(
            "trailhead",
            style(st, Style::default().add_modifier(Modifier::BOLD)),
        ),
        Span::raw(format!(
            " · {} · run {} · {} · ETA {eta} ",
            st.org,
            st.run_id,
            clock(st.elapsed)
        )),
    ];
    first.extend(flags);
    let mut more = String::new();
    if c.skipped > 0 {
        more.push_str(&format!(" · {} skipped", c.skipped));
    }
    if c.running > 0 {
        more.push_str(&format!(" · {} running", c.running));
    }
    let not_started = c.total - c.ok - c.failed - c.skipped - c.running;
    if st.interrupted && not_started > 0 {
        more.push_str(&format!(" · {not_started} not started"));
    }
    let second = Line::from(vec![
        Span::raw(format!("{} accounts: {} ok · ", c.total, c.ok)),
        Span::styled(
            format!("{} failed", c.failed),
            style(
                st,
                Style::default().fg(if c.failed > 0 {
                    Color::Red
                } else {
                    Color::Reset
                }),
            ),
        ),
        Span::raw(format!(
            "{more} · {:.1} calls/s · {} throttled · {} retried",
            st.rate(),
            st.throttled,
            st.retries
        )),
    ]);
    f.render_widget(Paragraph::new(vec![Line::from(first), second]), area);
}

fn waves(f: &mut Frame, area: Rect, st: &ViewState) {
    let block = Block::default().borders(Borders::TOP).title(" waves ");
    let inner = block.inner(area);
    f.render_widget(block, area);
    if st.waves.is_empty() {
        f.render_widget(Paragraph::new("preflight and log archive…"), inner);
        return;
    }
    let chunks = Layout::default()
        .direction(Direction::Horizontal)
        .constraints(vec![
            Constraint::Ratio(1, st.waves.len() as u32);
            st.waves.len()
        ])
        .split(inner);
    for (w, area) in st.waves.iter().zip(chunks.iter()) {
        let c = st.wave_counts(&w.name);
        let total = c.total.max(w.total);
        let finished = c.ok + c.failed + c.skipped;
        let ratio = if total == 0 {
            0.0
        } else {
            (finished as f64 / total as f64).min(1.0)
        };
        let color = match w.state {
            WaveState::Passed => Color::Green,
            WaveState::Failed => Color::Red,
            WaveState::Running | WaveState::Gate => Color::Yellow,
            WaveState::WaitingApproval => Color::Magenta,
            WaveState::Waiting | WaveState::Skipped => Color::DarkGray,
        };
        let symbol = match w.state {
            WaveState::Passed => "✓",
            WaveState::Failed => "✗",
            WaveState::Skipped => "↷",
            WaveState::WaitingApproval => "?",
            WaveState::Running | WaveState::Gate => "▶",
            WaveState::Waiting => "·",
        };
        let gauge = LineGauge::default()
            .ratio(ratio)
            .label(wave_label(symbol, &w.name, c, total, w.state))
            .filled_style(style(st, Style::default().fg(color)));
        f.render_widget(gauge, *area);
    }
}

/// `✗ security 2/3 ok 1✗`: the accounts that passed out of the wave's, then failures and skips
/// by symbol, and the states that need a word.
fn wave_label(symbol: &str, name: &str, c: Counts, total: usize, state: WaveState) -> String {
    let mut label = format!("{symbol} {name} {}/{total} ok", c.ok);
    if c.failed > 0 {
        label.push_str(&format!(" {}✗", c.failed));
    }
    if c.skipped > 0 {
        label.push_str(&format!(" {}↷", c.skipped));
    }
    // Waiting for approval is the `?` symbol and the footer's `g APPROVE NEXT WAVE`.
    if state == WaveState::Gate {
        label.push_str(" · gate");
    }
    label
}

fn table(f: &mut Frame, area: Rect, st: &mut ViewState) {
    let rows = st.rows();
    let title = format!(
        " accounts{}{} ",
        if st.failures_only {
            " · failures only"
        } else {
            ""
        },
        if st.filter.is_empty() {
            String::new()
        } else {
            format!(" · filter \"{}\"", st.filter)
        }
    );
    let block = Block::default().borders(Borders::ALL).title(title);
    let height = block.inner(area).height.saturating_sub(1) as usize;
    let offset = st.scroll_to_selection(height);
    // Whatever the name column has left after the fixed columns and their spacing.
    let name_width = (area.width.saturating_sub(2 + 52 + 6) as usize).max(12);
    let visible = rows.iter().enumerate().skip(offset).take(height);
    let body: Vec<Row> = visible
        .map(|(n, &i)| account_row(st, &st.accounts[i], name_width, n == st.selected))
        .collect();
    let widths = [
        Constraint::Length(1),
        Constraint::Min(12),
        Constraint::Length(12),
        Constraint::Length(10),
        Constraint::Length(16),
        Constraint::Length(6),
        Constraint::Length(7),
    ];
    let t = Table::new(body, widths)
        .header(
            Row::new(vec!["", "account", "id", "wave", "step", "time", "retries"])
                .style(style(st, Style::default().add_modifier(Modifier::BOLD))),
        )
        .block(block)
        .column_spacing(1);
    f.render_widget(t, area);
    if rows.is_empty() {
        // Inside the borders, under the header row: the frame stays whole.
        let inner = Rect {
            x: area.x + 1,
            y: area.y + 2,
            width: area.width.saturating_sub(2),
            height: 1,
        };
        let why = if st.accounts.is_empty() {
            " waiting for the organization's accounts…"
        } else {
            " no account matches"
        };
        f.render_widget(Paragraph::new(why), inner);
    }
}

/// One account's row: status, name, id, wave, current step, time and retries.
fn account_row<'a>(
    st: &ViewState,
    a: &'a AccountView,
    name_width: usize,
    selected: bool,
) -> Row<'a> {
    let row = Row::new(vec![
        Cell::from(Span::styled(
            a.status.symbol(),
            style(st, Style::default().fg(status_color(a.status))),
        )),
        Cell::from(fit(&a.name, name_width)),
        Cell::from(a.id.clone()),
        Cell::from(a.wave.clone()),
        Cell::from(if a.current_step.is_empty() {
            "-".to_string()
        } else {
            a.current_step.clone()
        }),
        Cell::from(if a.duration_ms > 0 {
            format!("{:.1}s", a.duration_ms as f64 / 1000.0)
        } else {
            String::new()
        }),
        Cell::from(a.retries.to_string()),
    ]);
    if selected {
        // Reverse video marks the selection with or without colour.
        row.style(Style::default().add_modifier(Modifier::REVERSED))
    } else {
        row
    }
}

/// A name cut to `width` characters in its middle, so that names that differ only at the end
/// (`workload-prod-eu-1`, `workload-prod-eu-2`) still differ on screen.
pub fn fit(name: &str, width: usize) -> String {
    let n = name.chars().count();
    if n <= width || width < 3 {
        return name.chars().take(width).collect();
    }
    let tail = (width - 1) / 2;
    let head = width - 1 - tail;
    let start: String = name.chars().take(head).collect();
    let end: String = name.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

fn detail(f: &mut Frame, area: Rect, st: &ViewState) {
    let block = Block::default().borders(Borders::ALL).title(" detail ");
    let Some(a) = st.selected_account() else {
        f.render_widget(Paragraph::new("no account selected").block(block), area);
        return;
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("{} {} ", a.status.symbol(), a.name),
            style(
                st,
                Style::default()
                    .fg(status_color(a.status))
                    .add_modifier(Modifier::BOLD),
            ),
        ),
        Span::raw(format!("{} · wave {}", a.id, a.wave)),
    ])];
    if let Some(reason) = &a.skip_reason {
        lines.push(Line::from(format!("  skipped: {reason}")));
    }
    for s in a.steps_in_run_order() {
        let action = match (&s.error, s.action, s.running) {
            (Some(_), _, _) => "FAILED".to_string(),
            (None, Some(action), _) => action.to_string(),
            (None, None, true) => "running".to_string(),
            _ => "-".to_string(),
        };
        lines.push(Line::from(format!(
            "  {:<16} {:<8} {:>6} ms",
            s.step, action, s.duration_ms
        )));
        for c in s.changes.iter().take(3) {
            lines.push(Line::from(format!("      {c}")));
        }
        if let Some((code, op, message)) = &s.error {
            lines.push(Line::from(Span::styled(
                format!("      {op} → {code}: {message}"),
                style(st, Style::default().fg(Color::Red)),
            )));
        }
    }
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn log(f: &mut Frame, area: Rect, st: &ViewState) {
    let block = Block::default().borders(Borders::TOP).title(" events ");
    let height = block.inner(area).height as usize;
    let lines: Vec<Line> = st
        .log
        .iter()
        .skip(st.log.len().saturating_sub(height))
        .map(|l| Line::from(l.as_str()))
        .collect();
    f.render_widget(Paragraph::new(lines).block(block), area);
}

fn footer(f: &mut Frame, area: Rect, st: &ViewState) {
    let text = match st.mode {
        Mode::Normal if st.notice.is_some() => st.notice.clone().unwrap_or_default(),
        Mode::Filter => format!("filter: {}█  (Enter keep · Esc clear)", st.filter),
        Mode::ConfirmQuit => "quit: abort the rollout gracefully and leave? y / n".to_string(),
        Mode::Normal => {
            let mut keys =
                "↑↓ move ⏎ detail / filter f failed p pause r retry s skip a abort q quit ? help"
                    .to_string();
            if st
                .waves
                .iter()
                .any(|w| w.state == WaveState::WaitingApproval)
            {
                keys = format!("g APPROVE NEXT WAVE · {keys}");
            }
            keys
        }
    };
    f.render_widget(
        Paragraph::new(text).style(style(st, Style::default().fg(Color::Cyan))),
        area,
    );
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

pub const HELP: &[(&str, &str)] = &[
    ("↑ ↓ j k PgUp PgDn Home End", "move"),
    ("Enter", "show / hide the detail pane"),
    ("/", "filter by account name or id"),
    ("f", "failures only"),
    ("p", "pause / resume (in-flight accounts finish)"),
    ("r", "retry the selected failed account"),
    ("s", "skip the selected account"),
    ("g", "approve the next wave (--confirm-waves)"),
    ("a", "abort: in-flight steps finish, journal kept"),
    ("q", "quit (asks while a rollout runs)"),
    ("?", "this help"),
];

fn help(f: &mut Frame, st: &ViewState) {
    let area = centered(f.area(), 76, HELP.len() as u16 + 4);
    f.render_widget(Clear, area);
    let mut lines: Vec<Line> = HELP
        .iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(
                    format!("{k:<27}"),
                    style(st, Style::default().add_modifier(Modifier::BOLD)),
                ),
                Span::raw(*v),
            ])
        })
        .collect();
    lines.push(Line::from(""));
    lines.push(Line::from("press ? or Esc to close"));
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(" keys ")),
        area,
    );
}

pub fn draw(f: &mut Frame, st: &mut ViewState) {
    let area = f.area();
    let log_height = if area.height >= 40 { 8 } else { 4 };
    let chunks = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(2),
            Constraint::Length(2),
            Constraint::Min(5),
            Constraint::Length(log_height),
            Constraint::Length(1),
        ])
        .split(area);
    header(f, chunks[0], st);
    waves(f, chunks[1], st);
    if st.show_detail {
        let split = if area.width >= 120 {
            Layout::default()
                .direction(Direction::Horizontal)
                .constraints([Constraint::Percentage(58), Constraint::Percentage(42)])
                .split(chunks[2])
        } else {
            Layout::default()
                .direction(Direction::Vertical)
                .constraints([Constraint::Min(4), Constraint::Length(7)])
                .split(chunks[2])
        };
        table(f, split[0], st);
        detail(f, split[1], st);
    } else {
        table(f, chunks[2], st);
    }
    log(f, chunks[3], st);
    footer(f, chunks[4], st);
    if st.show_help {
        help(f, st);
    }
}
