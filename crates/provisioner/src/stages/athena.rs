//! Athena over the archive: the results bucket (log-archive account), the Glue database and table
//! and the workgroup (query account), converged like every other step; and running queries.

use trailhead_alarms::athena::table::Table;
use trailhead_model::{Athena, OrgSpec, athena_results_bucket_for};
use trailhead_policies::athena_results_bucket_policy;

use crate::core::RunCtx;
use crate::core::error::{CallSite, ProvisionError};
use crate::core::session::AccountSession;
use crate::core::session::partition;
use crate::core::step::{Done, Steps};
use crate::events::EventSink;
use crate::plan::{Action, Diff, StepReport};
use crate::resources::bucket::{BucketSpec, Encryption, Lifecycle, ensure_bucket};
use crate::resources::catalog::{converge_database, converge_table};
use crate::resources::workgroup::{WorkgroupSpec, converge_workgroup};
use crate::stages::log_archive::{self, LogArchiveOutcome, query_account};

pub const STEP_RESULTS_BUCKET: &str = "athena results bucket";
pub const STEP_DATABASE: &str = "glue database";
pub const STEP_TABLE: &str = "glue table";
pub const STEP_WORKGROUP: &str = "athena workgroup";

/// Where Athena reads and writes for this spec, once the log-archive account is known.
#[derive(Debug, Clone)]
pub struct AthenaSite {
    pub settings: Athena,
    pub table: Table,
    pub results_bucket: String,
    pub query_account: String,
    pub log_archive: String,
}

impl AthenaSite {
    pub fn of(spec: &OrgSpec, log_archive: &str) -> Result<Self, ProvisionError> {
        let settings = spec.athena.clone().ok_or_else(|| {
            ProvisionError::Config(
                "the spec has no [athena] table: add `[athena]` (every key has a default) to query the archive with Athena".into(),
            )
        })?;
        let bucket = spec.log_archive.bucket_name(&spec.org, log_archive);
        Ok(AthenaSite {
            table: Table {
                database: settings.database.clone(),
                name: settings.table.clone(),
                bucket: bucket.clone(),
                // Every region of the partition, not only the governed ones: a multi-region
                // trail records every enabled region, and global events land in us-east-1.
                regions: trailhead_model::rules::regions_of_partition(&spec.org.home_region),
                start_day: settings.start_day.clone(),
            },
            results_bucket: athena_results_bucket_for(&bucket),
            query_account: query_account(spec, log_archive),
            log_archive: log_archive.to_string(),
            settings,
        })
    }

    pub fn output_location(&self) -> String {
        format!("s3://{}/", self.results_bucket)
    }
}

/// The log-archive stage (which grants the query account its access), then Athena's own steps,
/// their events unsent: for the stage run alone and for tests.
pub async fn athena_stage(
    ctx: &RunCtx,
) -> Result<(LogArchiveOutcome, Vec<StepReport>), ProvisionError> {
    let quiet = EventSink::none();
    run_athena_stage(ctx, Steps::new(&quiet, None)).await
}

/// [`athena_stage`], each step reported through `steps` as it runs.
pub async fn run_athena_stage(
    ctx: &RunCtx,
    steps: Steps<'_>,
) -> Result<(LogArchiveOutcome, Vec<StepReport>), ProvisionError> {
    if ctx.spec.athena.is_none() {
        AthenaSite::of(&ctx.spec, "")?;
    }
    let scope = log_archive::scope(ctx, steps).await?;
    let archive = log_archive::converge(ctx, steps, scope).await?;
    let (Some(la), Some(key_arn)) = (archive.account_id.clone(), archive.key_arn.clone()) else {
        let home = &ctx.spec.org.home_region;
        let reports = [
            STEP_RESULTS_BUCKET,
            STEP_DATABASE,
            STEP_TABLE,
            STEP_WORKGROUP,
        ]
        .iter()
        .map(|step| steps.unread("(new)", home, step))
        .collect();
        return Ok((archive, reports));
    };
    let site = AthenaSite::of(&ctx.spec, &la)?;
    let home = &ctx.spec.org.home_region;
    let session = ctx.assume(&site.log_archive, home).await;
    let org_id = archive.org.org_id.clone();
    let results = |s| results_bucket(ctx, s, &site, &key_arn, &org_id);
    let mut reports = vec![steps.run(STEP_RESULTS_BUCKET, &session, results).await?.0];
    reports.extend(query_account_steps(ctx, steps, &site, &key_arn).await?);
    Ok((archive, reports))
}

/// The results bucket: SSE-KMS with the archive key, results expire, only the query account.
async fn results_bucket(
    ctx: &RunCtx,
    session: AccountSession,
    site: &AthenaSite,
    key_arn: &str,
    org_id: &str,
) -> Result<Done, ProvisionError> {
    let home = &ctx.spec.org.home_region;
    let spec = BucketSpec {
        name: site.results_bucket.clone(),
        region: home.clone(),
        encryption: Encryption::Kms {
            key_arn: key_arn.to_string(),
        },
        lifecycle: Some(Lifecycle {
            expire_days: site.settings.results_retention_days,
            noncurrent_days: None,
        }),
        versioning: false,
        object_lock: None,
        logging: None,
        policy: athena_results_bucket_policy(
            partition(home),
            &site.results_bucket,
            &site.query_account,
            org_id,
        ),
    };
    let call_site = CallSite::new(&site.log_archive, home, STEP_RESULTS_BUCKET);
    let (action, diff) = ensure_bucket(&session.s3(), &call_site, &spec, ctx.apply).await?;
    Ok(Done::of(action, diff))
}

/// The Glue database and table and the workgroup, in the query account.
async fn query_account_steps(
    ctx: &RunCtx,
    steps: Steps<'_>,
    site: &AthenaSite,
    key_arn: &str,
) -> Result<Vec<StepReport>, ProvisionError> {
    let home = &ctx.spec.org.home_region;
    let account = &site.query_account;
    let session = ctx.assume(account, home).await;
    let database = |s: AccountSession| async move {
        let at = CallSite::new(account, home, STEP_DATABASE);
        let (action, diff) =
            converge_database(&s.glue(), &at, &site.table.database, ctx.apply).await?;
        Ok(Done::with(action, diff, action))
    };
    let (db, db_action) = steps.run(STEP_DATABASE, &session, database).await?;
    let table = |s: AccountSession| async move {
        // A table in a database still to be created is to be created too.
        if db_action == Action::Create && !ctx.apply {
            let mut diff = Diff::new();
            let name = format!("{}.{}", site.table.database, site.table.name);
            diff.field("table", "(none)", name);
            return Ok(Done::of(Action::Create, diff));
        }
        let at = CallSite::new(account, home, STEP_TABLE);
        let (action, diff) = converge_table(&s.glue(), &at, &site.table, ctx.apply).await?;
        Ok(Done::of(action, diff))
    };
    let table = steps.run(STEP_TABLE, &session, table).await?.0;
    let spec = WorkgroupSpec {
        name: site.settings.workgroup.clone(),
        output_location: site.output_location(),
        key_arn: key_arn.to_string(),
        cutoff_bytes: i64::from(site.settings.bytes_scanned_cutoff_gb) * 1_000_000_000,
        expected_bucket_owner: site.log_archive.clone(),
    };
    let workgroup = |s: AccountSession| async move {
        let at = CallSite::new(account, home, STEP_WORKGROUP);
        let (action, diff) = converge_workgroup(&s.athena(), &at, &spec, ctx.apply).await?;
        Ok(Done::of(action, diff))
    };
    let workgroup = steps.run(STEP_WORKGROUP, &session, workgroup).await?.0;
    Ok(vec![db, table, workgroup])
}
