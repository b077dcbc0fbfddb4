//! The state directory's lock: one run at a time, and a lock left by a killed run is taken over.

use std::path::{Path, PathBuf};

use crate::core::error::ProvisionError;

/// A lock that keeps two rollouts of one org in one state directory apart. A lock left by a
/// killed process (its pid is gone) is taken over.
pub struct Lock(PathBuf);

impl Lock {
    pub fn acquire(state_dir: &Path) -> Result<Self, ProvisionError> {
        std::fs::create_dir_all(state_dir).map_err(|source| ProvisionError::Io {
            action: "create",
            path: state_dir.display().to_string(),
            source,
        })?;
        let path = state_dir.join("lock");
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    let _ = write!(f, "{}", std::process::id());
                    let _ = f.sync_all();
                    return Ok(Lock(path));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder: Option<u32> = std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|s| s.trim().parse().ok());
                    match holder {
                        Some(pid)
                            if Path::new(&format!("/proc/{pid}")).exists()
                                && pid != std::process::id() =>
                        {
                            return Err(ProvisionError::Config(format!(
                                "another rollout of this org (pid {pid}) holds {}; wait for it, or stop it",
                                path.display()
                            )));
                        }
                        _ => {
                            let _ = std::fs::remove_file(&path);
                        }
                    }
                }
                Err(source) => {
                    return Err(ProvisionError::Io {
                        action: "create",
                        path: path.display().to_string(),
                        source,
                    });
                }
            }
        }
        Err(ProvisionError::Config(format!(
            "cannot take the lock {}",
            path.display()
        )))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
