//! What a command over the archive (`logs search`, `alarms backtest`) reads: the window, the
//! accounts and regions, the bucket; and how it reaches the archive and Athena.

use std::time::Duration;

use trailhead_alarms::athena::{Schema, translate};
use trailhead_alarms::pattern::Pattern;
use trailhead_model::OrgSpec;

use crate::Connection;
use crate::core::counter::CallLog;
use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::{AccessRole, AccountSession, new_run_id};
use crate::reading::archive::Window;
use crate::reading::query::QueryTarget;
use crate::stages::athena::AthenaSite;

/// How often a running Athena query is asked for its state.
const QUERY_POLL: Duration = Duration::from_millis(500);

/// The part of the archive a command reads, resolved from its arguments before any call.
#[derive(Debug, Clone)]
pub struct ArchiveScope {
    pub spec: OrgSpec,
    pub window: Window,
    pub archive_id: String,
    pub bucket: String,
    pub accounts: Vec<String>,
    /// Empty: every region (that holds logs, locally; of the partition, in Athena).
    pub regions: Vec<String>,
}

impl ArchiveScope {
    /// The access role, under a session name of its own.
    pub fn role(&self) -> AccessRole {
        AccessRole::of(&self.spec.access, new_run_id())
    }

    pub fn athena_site(&self) -> Result<AthenaSite, ProvisionError> {
        AthenaSite::of(&self.spec, &self.archive_id)
    }

    /// The Athena query of a search for `pattern` (`source`: its text, for the column of what
    /// cannot be translated), or why it has no faithful SQL.
    pub fn search_query(&self, pattern: &Pattern, source: &str) -> Result<String, ProvisionError> {
        let site = self.athena_site()?;
        let condition = translate(pattern, Schema::CloudTrail).map_err(|r| {
            let at = r
                .column_in(source)
                .map_or(String::new(), |c| format!(" at column {c}"));
            ProvisionError::Config(format!("the pattern has no faithful Athena translation{at}: {r} (see docs/athena.md for the supported subset; --engine local runs it)"))
        })?;
        let scope = self.window.scope(&self.accounts, &self.regions);
        Ok(site.table.search_query(&scope, &condition))
    }

    /// Every log object (key, size) of the scope: its accounts and regions on the window's days.
    pub(crate) async fn window_objects(
        &self,
        archive: &AccountSession,
        site: &CallSite,
    ) -> Result<Vec<(String, i64)>, ProvisionError> {
        crate::reading::archive::list_window(
            &archive.s3(),
            site,
            &self.bucket,
            &self.accounts,
            &self.regions,
            &self.window,
        )
        .await
    }

    /// A session in the log-archive account, where the objects are.
    pub(crate) async fn archive(&self, conn: &Connection) -> AccountSession {
        let home = &self.spec.org.home_region;
        AccountSession::reach(conn, &self.archive_id, home, &self.role(), &CallLog::new()).await
    }

    /// The spec's Athena, reached in the account where its queries run; errors name `step`.
    pub(crate) async fn querier(
        &self,
        conn: &Connection,
        step: &str,
    ) -> Result<Querier, ProvisionError> {
        let site = self.athena_site()?;
        let home = &self.spec.org.home_region;
        let role = self.role();
        let session =
            AccountSession::reach(conn, &site.query_account, home, &role, &CallLog::new()).await;
        Ok(Querier {
            athena: session.athena(),
            call_site: CallSite::new(&site.query_account, home, step),
            site,
        })
    }
}

/// Athena in the query account, with the workgroup and database queries run in.
pub(crate) struct Querier {
    athena: aws_sdk_athena::Client,
    call_site: CallSite,
    site: AthenaSite,
}

impl Querier {
    pub(crate) fn target(&self) -> QueryTarget<'_> {
        QueryTarget {
            athena: &self.athena,
            site: &self.call_site,
            workgroup: &self.site.settings.workgroup,
            database: &self.site.table.database,
            poll: QUERY_POLL,
        }
    }
}
