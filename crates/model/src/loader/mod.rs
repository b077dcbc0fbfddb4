//! Turning spec text into an [`OrgSpec`], or into every reason it can't be one.
//!
//! One file per spec section: `[org]` and `[access]` (`org`), `[log_archive]` (`archive`),
//! `[trail]` (`trail`), `[alarms]` (`alarms`), `[athena]` (`athena`), and the accounts, waves
//! and rollout settings (`accounts`). This file reads the document as a whole and checks what
//! spans sections.

use std::ops::Range;
use std::path::Path;

use toml::de::DeTable;

use crate::reader::{Sink, Table};
use crate::waves::check_accounts_and_waves;
use crate::{
    AccountId, Alarms, Diagnostic, Diagnostics, Located, NotificationTopic, OrgSpec, Trail,
};

mod accounts;
mod alarms;
mod archive;
mod athena;
mod org;
mod trail;

use accounts::{read_accounts, read_discover, read_rollout, read_waves};
use alarms::read_alarms;
use archive::read_log_archive;
use org::{read_access, read_org};
use trail::read_trail;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read the org spec {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the org spec {} is invalid ({} error(s))", .0.path, .0.errors().count())]
    Invalid(Diagnostics),
}

/// Reads and validates a spec file. On success the warnings come back alongside the spec.
pub fn load_file(path: &Path) -> Result<(OrgSpec, Diagnostics), LoadError> {
    let label = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: label.clone(),
        source,
    })?;
    match text_of(&bytes) {
        Ok(source) => parse_spec(&label, &source).map_err(LoadError::Invalid),
        Err(found) => {
            let (source, diagnostic) = *found;
            Err(LoadError::Invalid(Diagnostics {
                path: label,
                source,
                items: vec![diagnostic],
            }))
        }
    }
}

/// The file as text, or where it stops being text: a stray byte inside a text file is reported
/// at its own line and column; a file that is not text from its first byte, as such.
pub(super) fn text_of(bytes: &[u8]) -> Result<String, Box<(String, Diagnostic)>> {
    let bad_utf8 = std::str::from_utf8(bytes).err().map(|e| e.valid_up_to());
    let nul = bytes.iter().position(|b| *b == 0);
    let Some(at) = [bad_utf8, nul].into_iter().flatten().min() else {
        return Ok(String::from_utf8_lossy(bytes).into_owned());
    };
    let shown = String::from_utf8_lossy(bytes).replace('\0', "\u{2400}");
    if at == 0 {
        let d = Diagnostic::error(0..0, "this is not a text file")
            .help("an org spec is a UTF-8 TOML file; see config/org.example.toml");
        return Err(Box::new((String::new(), d)));
    }
    let what = if bytes[at] == 0 {
        "a NUL byte".to_string()
    } else {
        format!("the byte 0x{:02X}, which is not UTF-8", bytes[at])
    };
    // Both stand-ins (U+FFFD, U+2400) are three bytes long in the text shown.
    let d = Diagnostic::error(at..at + 3, format!("{what} in the middle of the spec"))
        .label("here")
        .help("an org spec is UTF-8 text: remove the byte (an editor or a copy from a binary file put it there)");
    Err(Box::new((shown, d)))
}

/// Validates spec text. `path` only labels the diagnostics.
pub fn parse_spec(path: &str, source: &str) -> Result<(OrgSpec, Diagnostics), Diagnostics> {
    let mut sink = Sink::default();
    let spec = read(source, &mut sink);
    let diagnostics = Diagnostics {
        path: path.to_string(),
        source: source.to_string(),
        items: sink.items,
    };
    match spec {
        Some(spec) if !diagnostics.has_errors() => Ok((spec, diagnostics)),
        _ => Err(diagnostics),
    }
}

pub(super) const ROOT_KEYS: &[&str] = &[
    "org",
    "access",
    "log_archive",
    "trail",
    "alarms",
    "account",
    "discover",
    "wave",
    "rollout",
    "athena",
];

/// Input nested past the parser's recursion limit, reported where the nesting starts (the key
/// whose value it is), not hundreds of lines later where the limit was met.
fn too_deep(source: &str, limit: Range<usize>) -> Diagnostic {
    let start = nesting_start(source, limit.start);
    Diagnostic::error(
        start..start + 1,
        "this value nests arrays or inline tables deeper than a spec can (the TOML parser's recursion limit)",
    )
    .label("the nesting starts here")
    .related(limit, "the limit is met here")
    .help("no setting of a spec nests more than two levels: remove or flatten this value")
}

/// The opening bracket, before `offset`, from which arrays and inline tables stay open up to
/// `offset`: where the value that nests too deeply begins. Strings and comments are skipped.
pub(crate) fn nesting_start(source: &str, offset: usize) -> usize {
    let (mut depth, mut start) = (0usize, 0usize);
    let (mut quote, mut escaped, mut comment) = (None::<char>, false, false);
    for (i, c) in source.char_indices().take_while(|(i, _)| *i < offset) {
        if comment {
            comment = c != '\n';
            continue;
        }
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' && q == '"' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '#' => comment = true,
            '"' | '\'' => quote = Some(c),
            '[' | '{' => {
                if depth == 0 {
                    start = i;
                }
                depth += 1;
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    start
}

pub(super) fn read(source: &str, sink: &mut Sink) -> Option<OrgSpec> {
    if source.trim().is_empty() {
        sink.push(Diagnostic::error(0..0, "the org spec is empty").help(
            "start from config/org.example.toml; at least [org] and [log_archive] are needed",
        ));
        return None;
    }
    let doc = match DeTable::parse(source) {
        Ok(doc) => doc,
        Err(e) => {
            // Only the first syntax error: what the parser recovers into after it is mostly noise.
            let span = e.span().unwrap_or(0..0);
            let message = e.message().trim().to_string();
            if message.contains("recurs") {
                sink.push(too_deep(source, span));
                return None;
            }
            sink.push(
                Diagnostic::error(span, format!("this is not valid TOML: {message}"))
                    .label("here")
                    .help("fix the TOML syntax first; see config/org.example.toml"),
            );
            return None;
        }
    };
    let root = Table::root(doc.get_ref(), ROOT_KEYS);
    root.reject_unknown(sink);

    let org = read_org(&root, sink);
    let access = read_access(&root, sink);
    let log_archive = read_log_archive(&root, sink, org.as_ref());
    let trail = read_trail(&root, sink, org.as_ref().zip(log_archive.as_ref()));
    let alarms = read_alarms(&root, sink);
    let accounts = read_accounts(&root, sink);
    let discover = read_discover(&root, sink);
    let waves = read_waves(&root, sink);
    let rollout = read_rollout(&root, sink);
    let athena = athena::read_athena(&root, sink, org.as_ref());

    if let (Some(trail), Some(alarms)) = (&trail, &alarms) {
        check_topic_names(sink, trail, alarms);
    }
    // Independent of [org]: a bad region there must not hide a wave member that names nobody.
    if let Some(log_archive) = &log_archive {
        check_accounts_and_waves(sink, log_archive, &accounts, discover.as_ref(), &waves);
    }

    Some(OrgSpec {
        org: org?,
        access: access?,
        log_archive: log_archive?,
        trail: trail?,
        alarms: alarms?,
        accounts,
        discover,
        waves,
        rollout: rollout?,
        athena: athena?,
    })
}

/// A topic in each account for deliveries must not be the alarm topic: two steps would each
/// write their own policy onto it, and never agree.
pub(super) fn check_topic_names(sink: &mut Sink, trail: &Trail, alarms: &Alarms) {
    let Some(n) = &trail.notifications else {
        return;
    };
    if n.topic == NotificationTopic::Member && n.topic_name.value == alarms.sns_topic_name {
        sink.push(
            Diagnostic::error(
                n.topic_name.span.clone(),
                format!("`{}` is also the alarm topic's name", n.topic_name.value),
            )
            .label("same name as [alarms] sns_topic_name")
            .help("give delivery notifications a topic of their own, for example \"trailhead-cloudtrail-deliveries\""),
        );
    }
}

pub(super) fn account_id(sink: &mut Sink, v: &Located<String>) -> Option<Located<AccountId>> {
    match AccountId::parse(&v.value) {
        Some(id) => Some(Located::new(id, v.span.clone())),
        None => {
            sink.push(
                Diagnostic::error(
                    v.span.clone(),
                    format!(
                        "`{}` is not an AWS account id: it must be exactly 12 digits",
                        v.value
                    ),
                )
                .label("not 12 digits")
                .help("quote the id as a string and keep leading zeros, e.g. \"012345678901\""),
            );
            None
        }
    }
}
