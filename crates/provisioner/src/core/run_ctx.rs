//! The run context: the connection, the spec, and how the run reaches each account.

use std::path::PathBuf;
use std::time::Duration;

use trailhead_model::OrgSpec;

use crate::Connection;
use crate::core::counter::CallLog;
use crate::core::session::{AccessRole, AccountSession};

/// Everything a run needs to know, whatever stage it runs.
#[derive(Clone)]
pub struct RunCtx {
    pub conn: Connection,
    pub spec: OrgSpec,
    /// How the spec was named on the command line, for instructions.
    pub spec_path: String,
    /// The printed resume command up to the run id: the same spec, state directory and way of
    /// reaching AWS as this run (`trailhead --emulator rollout --org … --state-dir … --resume `).
    pub resume_prefix: String,
    pub calls: CallLog,
    /// False: read and compare only (plan).
    pub apply: bool,
    pub role: AccessRole,
    pub state_dir: PathBuf,
    pub assume_timeout: Duration,
}

impl RunCtx {
    /// The caller's own session in the management account, in `--region` when one was given,
    /// else in the spec's home region.
    pub async fn management(&self) -> AccountSession {
        let region = self
            .conn
            .read_region
            .as_deref()
            .unwrap_or(&self.spec.org.home_region);
        let base = self.conn.base_config(region).await;
        AccountSession::direct(
            &self.conn,
            &base,
            self.spec.org.management_account.as_str(),
            &self.calls,
        )
    }

    /// A session in `account`: its access role, or for the management account (which has none)
    /// the caller's own credentials.
    pub async fn assume(&self, account: &str, region: &str) -> AccountSession {
        let base = self.conn.base_config(region).await;
        if account == self.spec.org.management_account.as_str() {
            return AccountSession::direct(&self.conn, &base, account, &self.calls);
        }
        AccountSession::assume(&self.conn, &base, account, region, &self.role, &self.calls).await
    }
}
