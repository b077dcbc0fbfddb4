//! The embedded emulator: moto in server mode, in a venv the project manages, behind TLS.
//!
//! State lives in one directory (`target/emulator` in a checkout): the venv, the pid and port of
//! the running server, its log, and the test CA the SDK must trust. Only a pid this module
//! recorded is ever signalled.

use std::fs;
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const MOTO_VERSION: &str = "5.2.5";
/// boto3/botocore, pinned beside moto: moto serves with botocore's service models, and the
/// contract tests call it with boto3. botocore 1.44.18 moved Athena to the rest-json protocol,
/// which moto 5.2.5 does not route (every Athena call of boto3 answered 404).
pub const BOTOCORE_VERSION: &str = "1.44.13";
pub const DEFAULT_PORT: u16 = 4599;
/// The emulator package (`emulator/trailhead_emulator` of the workspace), embedded so that an
/// installed binary can start it; written out beside the venv on every start.
const PACKAGE: &[(&str, &str)] = &[
    (
        "__init__.py",
        include_str!("../../../../emulator/trailhead_emulator/__init__.py"),
    ),
    (
        "__main__.py",
        include_str!("../../../../emulator/trailhead_emulator/__main__.py"),
    ),
    (
        "alarms.py",
        include_str!("../../../../emulator/trailhead_emulator/alarms.py"),
    ),
    (
        "athena.py",
        include_str!("../../../../emulator/trailhead_emulator/athena.py"),
    ),
    (
        "backends.py",
        include_str!("../../../../emulator/trailhead_emulator/backends.py"),
    ),
    (
        "client.py",
        include_str!("../../../../emulator/trailhead_emulator/client.py"),
    ),
    (
        "clock.py",
        include_str!("../../../../emulator/trailhead_emulator/clock.py"),
    ),
    (
        "cloudtrail.py",
        include_str!("../../../../emulator/trailhead_emulator/cloudtrail.py"),
    ),
    (
        "control.py",
        include_str!("../../../../emulator/trailhead_emulator/control.py"),
    ),
    (
        "delivery.py",
        include_str!("../../../../emulator/trailhead_emulator/delivery.py"),
    ),
    (
        "conditions.py",
        include_str!("../../../../emulator/trailhead_emulator/conditions.py"),
    ),
    (
        "enforce.py",
        include_str!("../../../../emulator/trailhead_emulator/enforce.py"),
    ),
    (
        "errors.py",
        include_str!("../../../../emulator/trailhead_emulator/errors.py"),
    ),
    (
        "iam.py",
        include_str!("../../../../emulator/trailhead_emulator/iam.py"),
    ),
    (
        "identity.py",
        include_str!("../../../../emulator/trailhead_emulator/identity.py"),
    ),
    (
        "kms.py",
        include_str!("../../../../emulator/trailhead_emulator/kms.py"),
    ),
    (
        "logs.py",
        include_str!("../../../../emulator/trailhead_emulator/logs.py"),
    ),
    (
        "matcher.py",
        include_str!("../../../../emulator/trailhead_emulator/matcher.py"),
    ),
    (
        "metrics.py",
        include_str!("../../../../emulator/trailhead_emulator/metrics.py"),
    ),
    (
        "mfa.py",
        include_str!("../../../../emulator/trailhead_emulator/mfa.py"),
    ),
    (
        "organizations.py",
        include_str!("../../../../emulator/trailhead_emulator/organizations.py"),
    ),
    (
        "policy.py",
        include_str!("../../../../emulator/trailhead_emulator/policy.py"),
    ),
    (
        "policy_cli.py",
        include_str!("../../../../emulator/trailhead_emulator/policy_cli.py"),
    ),
    (
        "records.py",
        include_str!("../../../../emulator/trailhead_emulator/records.py"),
    ),
    (
        "regions.py",
        include_str!("../../../../emulator/trailhead_emulator/regions.py"),
    ),
    (
        "resources.py",
        include_str!("../../../../emulator/trailhead_emulator/resources.py"),
    ),
    (
        "s3.py",
        include_str!("../../../../emulator/trailhead_emulator/s3.py"),
    ),
    (
        "selectors.py",
        include_str!("../../../../emulator/trailhead_emulator/selectors.py"),
    ),
    (
        "server.py",
        include_str!("../../../../emulator/trailhead_emulator/server.py"),
    ),
    (
        "settings.py",
        include_str!("../../../../emulator/trailhead_emulator/settings.py"),
    ),
    (
        "signing.py",
        include_str!("../../../../emulator/trailhead_emulator/signing.py"),
    ),
    (
        "sns.py",
        include_str!("../../../../emulator/trailhead_emulator/sns.py"),
    ),
    (
        "sts.py",
        include_str!("../../../../emulator/trailhead_emulator/sts.py"),
    ),
    (
        "tls.py",
        include_str!("../../../../emulator/trailhead_emulator/tls.py"),
    ),
];
const PACKAGE_NAME: &str = "trailhead_emulator";

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` failed ({status}); its output is in {log}")]
    Install {
        command: String,
        status: String,
        log: String,
    },
    #[error("the emulator did not answer on port {port} within {secs}s; see its log {log}")]
    Timeout { port: u16, secs: u64, log: String },
    #[error("the emulator exited during start-up; see its log {log}")]
    Died { log: String },
    #[error(
        "port {0} is taken by another program; pick another with --port or TRAILHEAD_EMULATOR_PORT"
    )]
    PortTaken(u16),
}

/// Where the emulator keeps its state, and which port it serves.
#[derive(Debug, Clone)]
pub struct Emulator {
    pub dir: PathBuf,
    pub port: u16,
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> EmulatorError {
    let path = path.display().to_string();
    move |source| EmulatorError::Io {
        action,
        path,
        source,
    }
}

impl Emulator {
    /// `TRAILHEAD_EMULATOR_DIR`, else `target/emulator` of this checkout, else the user cache.
    pub fn locate(port: Option<u16>) -> Self {
        let dir = std::env::var_os("TRAILHEAD_EMULATOR_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(default_dir);
        let recorded = fs::read_to_string(dir.join("port"))
            .ok()
            .and_then(|p| p.trim().parse().ok());
        let port = port
            .or_else(|| {
                std::env::var("TRAILHEAD_EMULATOR_PORT")
                    .ok()
                    .and_then(|p| p.parse().ok())
            })
            .or(recorded)
            .unwrap_or(DEFAULT_PORT);
        Emulator { dir, port }
    }

    pub fn endpoint(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    pub fn ca_path(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join("moto.log")
    }

    fn pid_path(&self) -> PathBuf {
        self.dir.join("pid")
    }

    fn venv(&self) -> PathBuf {
        self.dir.join("venv")
    }

    fn python(&self) -> PathBuf {
        self.venv().join("bin").join("python")
    }

    /// The pid `start` recorded, if that process is still our server.
    pub fn running_pid(&self) -> Option<u32> {
        let pid: u32 = fs::read_to_string(self.pid_path())
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let cmdline = String::from_utf8_lossy(&cmdline);
        cmdline.contains(PACKAGE_NAME).then_some(pid)
    }

    pub fn is_running(&self) -> bool {
        self.running_pid().is_some() && answers(self.port)
    }

    /// Starts the server unless it already runs. Returns whether this call started it.
    pub fn start(&self, progress: &mut dyn FnMut(&str)) -> Result<bool, EmulatorError> {
        if self.is_running() {
            return Ok(false);
        }
        if answers(self.port) {
            return Err(EmulatorError::PortTaken(self.port));
        }
        fs::create_dir_all(&self.dir).map_err(io("create", &self.dir))?;
        self.install(progress)?;
        let package_root = self.write_package()?;
        let log_path = self.log_path();
        let log = fs::File::create(&log_path).map_err(io("create", &log_path))?;
        let log_err = log.try_clone().map_err(io("open", &log_path))?;
        progress(&format!(
            "starting moto {MOTO_VERSION} on {}",
            self.endpoint()
        ));
        let mut command = Command::new(self.python());
        command
            .env("PYTHONPATH", &package_root)
            .arg("-m")
            .arg(PACKAGE_NAME)
            .arg("--dir")
            .arg(&self.dir)
            .arg("--port")
            .arg(self.port.to_string())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        // Its own process group: Ctrl-C in the terminal that started it must not stop it.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command.spawn().map_err(io("run", &self.python()))?;
        let pid_path = self.pid_path();
        fs::write(&pid_path, child.id().to_string()).map_err(io("write", &pid_path))?;
        let port_path = self.dir.join("port");
        fs::write(&port_path, self.port.to_string()).map_err(io("write", &port_path))?;

        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                return Err(EmulatorError::Died {
                    log: log_path.display().to_string(),
                });
            }
            if answers(self.port) && self.ca_path().exists() {
                return Ok(true);
            }
            if Instant::now() > deadline {
                return Err(EmulatorError::Timeout {
                    port: self.port,
                    secs: 60,
                    log: log_path.display().to_string(),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The directory to put on PYTHONPATH: the embedded package, written fresh.
    pub fn write_package(&self) -> Result<PathBuf, EmulatorError> {
        let root = self.dir.join("pkg");
        let package = root.join(PACKAGE_NAME);
        fs::create_dir_all(&package).map_err(io("create", &package))?;
        for (name, text) in PACKAGE {
            let path = package.join(name);
            fs::write(&path, text).map_err(io("write", &path))?;
        }
        Ok(root)
    }

    /// The venv's Python, with the emulator package importable: for the control client.
    pub fn python_command(&self) -> Result<Command, EmulatorError> {
        let root = self.write_package()?;
        let mut command = Command::new(self.python());
        command.env("PYTHONPATH", root);
        Ok(command)
    }

    /// Creates the venv and installs moto once; a stamp file records a finished install.
    fn install(&self, progress: &mut dyn FnMut(&str)) -> Result<(), EmulatorError> {
        let stamp = self.venv().join(format!(
            ".trailhead-moto-{MOTO_VERSION}-botocore-{BOTOCORE_VERSION}"
        ));
        if stamp.exists() && self.python().exists() {
            return Ok(());
        }
        let log_path = self.dir.join("install.log");
        progress(&format!(
            "installing moto[server]=={MOTO_VERSION} into {} (once; about a minute)",
            self.venv().display()
        ));
        let python = std::env::var("TRAILHEAD_PYTHON").unwrap_or_else(|_| "python3".into());
        run_logged(
            Command::new(&python).arg("-m").arg("venv").arg(self.venv()),
            &log_path,
        )?;
        run_logged(
            Command::new(self.venv().join("bin").join("pip"))
                .args(["install", "--quiet", "--disable-pip-version-check"])
                .arg(format!("moto[server]=={MOTO_VERSION}"))
                .arg(format!("boto3=={BOTOCORE_VERSION}"))
                .arg(format!("botocore=={BOTOCORE_VERSION}")),
            &log_path,
        )?;
        fs::write(&stamp, "").map_err(io("write", &stamp))?;
        Ok(())
    }

    /// Stops the server `start` recorded; anything else on the port is left alone.
    pub fn stop(&self) -> Result<bool, EmulatorError> {
        let Some(pid) = self.running_pid() else {
            let _ = fs::remove_file(self.pid_path());
            return Ok(false);
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.running_pid().is_some() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        if self.running_pid().is_some() {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .status();
        }
        let _ = fs::remove_file(self.pid_path());
        Ok(true)
    }
}

fn default_dir() -> PathBuf {
    // A binary built from a checkout keeps its emulator beside its build output.
    let workspace_target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    if let Ok(target) = workspace_target.canonicalize() {
        return target.join("emulator");
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("trailhead").join("emulator")
}

/// Whether something accepts TCP connections on the loopback port. The TLS handshake is left to
/// real clients; moto binds the port only when it is ready to serve.
fn answers(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok()
}

fn run_logged(command: &mut Command, log_path: &Path) -> Result<(), EmulatorError> {
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)
        .map_err(io("open", log_path))?;
    let log_err = log.try_clone().map_err(io("open", log_path))?;
    let status = command
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .status()
        .map_err(io("run", Path::new(command.get_program())))?;
    if status.success() {
        return Ok(());
    }
    let mut tail = String::new();
    if let Ok(mut f) = fs::File::open(log_path) {
        let _ = f.read_to_string(&mut tail);
    }
    let tail: String = tail.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
    Err(EmulatorError::Install {
        command: std::iter::once(command.get_program())
            .chain(command.get_args())
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" "),
        status: format!("{status}; last lines: {tail}"),
        log: log_path.display().to_string(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_module_of_the_package_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../emulator")
            .join(super::PACKAGE_NAME);
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".py"))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = super::PACKAGE.iter().map(|(n, _)| n.to_string()).collect();
        embedded.sort();
        assert_eq!(embedded, on_disk);
    }
}
