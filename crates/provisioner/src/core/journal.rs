//! Durable notes a run must not lose: appended as JSON lines and fsynced before the next step,
//! so that a crash at any point leaves a record to resume from.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::ProvisionError;

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ProvisionError {
    let path = path.display().to_string();
    move |source| ProvisionError::Io {
        action,
        path,
        source,
    }
}

/// Appends `entry` as one line to `path` and syncs it to disk.
pub fn append<T: Serialize>(path: &Path, entry: &T) -> Result<(), ProvisionError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io("create", dir))?;
    }
    let mut line = serde_json::to_string(entry)
        .map_err(|e| ProvisionError::Config(format!("cannot encode a journal entry: {e}")))?;
    line.push('\n');
    let mut file: File = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io("open", path))?;
    file.write_all(line.as_bytes()).map_err(io("write", path))?;
    file.sync_all().map_err(io("sync", path))
}

/// Every entry of a journal; a torn last line (a crash mid-write) is ignored.
pub fn read_all<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, ProvisionError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io("read", path)(e)),
    };
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

/// Where the pending CreateAccount request for `email` is remembered across runs.
pub fn pending_account_path(state_dir: &Path, email: &str) -> PathBuf {
    let safe: String = email
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    state_dir
        .join("pending")
        .join(format!("create-account-{safe}.jsonl"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
    struct E {
        n: u32,
    }

    #[test]
    fn appends_survive_and_torn_lines_are_skipped() {
        let dir = std::env::temp_dir().join(format!("trailhead-journal-{}", std::process::id()));
        let path = dir.join("runs/x.jsonl");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(append(&path, &E { n: 1 }).is_ok());
        assert!(append(&path, &E { n: 2 }).is_ok());
        let mut f = OpenOptions::new().append(true).open(&path).ok();
        if let Some(f) = f.as_mut() {
            let _ = f.write_all(b"{\"n\":");
        }
        let read: Vec<E> = read_all(&path).unwrap_or_default();
        assert_eq!(read, vec![E { n: 1 }, E { n: 2 }]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// One line of `<state dir>/runs/<run id>.jsonl`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    /// A start or a resume of the run: when, and by whom (the caller's ARN, as STS names it).
    Run {
        run_id: String,
        org: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caller: Option<String>,
    },
    Step {
        account: String,
        step: String,
        action: String,
    },
    Account {
        account: String,
        status: String,
    },
    Wave {
        wave: String,
        status: String,
    },
    Finished {
        status: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<String>,
    },
}
