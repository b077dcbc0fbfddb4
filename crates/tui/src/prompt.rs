//! A masked input dialog for secrets (the MFA code). What is typed is shown as `*`, kept only in
//! memory, and returned to the caller; it is never drawn, logged or stored.

use std::io;

use ratatui::Frame;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

pub fn draw_prompt(f: &mut Frame, title: &str, typed: usize, max: usize) {
    let area = f.area();
    let width = 50.min(area.width);
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + area.height.saturating_sub(5) / 2,
        width,
        height: 5.min(area.height),
    };
    f.render_widget(Clear, rect);
    let mask = format!(
        "{}{}",
        "*".repeat(typed),
        "_".repeat(max.saturating_sub(typed))
    );
    let lines = vec![
        Line::from(format!(" code: {mask}")),
        Line::from(" Enter to send · Esc to cancel"),
    ];
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {title} ")),
        ),
        rect,
    );
}

/// Asks for up to `digits` digits. `None` when cancelled.
pub fn masked_digits(title: &str, digits: usize) -> io::Result<Option<String>> {
    let mut terminal = ratatui::try_init()?;
    let mut typed = String::new();
    let result = loop {
        if let Err(e) = terminal.draw(|f| draw_prompt(f, title, typed.len(), digits)) {
            break Err(e);
        }
        match event::read() {
            Ok(Event::Key(k)) if k.kind == KeyEventKind::Press => match k.code {
                KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                    break Ok(None);
                }
                KeyCode::Esc => break Ok(None),
                KeyCode::Enter if typed.len() == digits => {
                    break Ok(Some(std::mem::take(&mut typed)));
                }
                KeyCode::Backspace => {
                    typed.pop();
                }
                KeyCode::Char(c) if c.is_ascii_digit() && typed.len() < digits => typed.push(c),
                _ => {}
            },
            Ok(_) => {}
            Err(e) => break Err(e),
        }
    };
    ratatui::restore();
    result
}
