//! The Glue database and the CloudTrail table over the archive, read, compared and converged.

use aws_sdk_glue::Client;
use aws_sdk_glue::error::ProvideErrorMetadata;
use aws_sdk_glue::types::{
    Column, DatabaseInput, SerDeInfo, StorageDescriptor, Table as GlueTable, TableInput,
};
use trailhead_alarms::athena::table::{INPUT_FORMAT, OUTPUT_FORMAT, PARTITIONS, SERDE, Table};

use crate::core::error::{CallSite, ProvisionError};
use crate::plan::{Action, Diff};

pub async fn converge_database(
    glue: &Client,
    site: &CallSite,
    name: &str,
    apply: bool,
) -> Result<(Action, Diff), ProvisionError> {
    match glue.get_database().name(name).send().await {
        Ok(_) => return Ok((Action::NoOp, Diff::new())),
        Err(e) if e.code() == Some("EntityNotFoundException") => {}
        Err(e) => return Err(site.error("GetDatabase", e).into()),
    }
    let mut diff = Diff::new();
    diff.field("database", "(none)", name);
    if apply {
        let input = DatabaseInput::builder()
            .name(name)
            .description("trailhead: the organization's CloudTrail archive, for Athena")
            .build()
            .map_err(|e| ProvisionError::Config(e.to_string()))?;
        glue.create_database()
            .database_input(input)
            .send()
            .await
            .map_err(|e| site.error("CreateDatabase", e))?;
    }
    Ok((Action::Create, diff))
}

fn column(name: &str, ty: &str) -> Result<Column, ProvisionError> {
    Column::builder()
        .name(name)
        .r#type(ty)
        .build()
        .map_err(|e| ProvisionError::Config(e.to_string()))
}

/// The table as Glue takes it, from the same definition as the DDL `--print` shows.
pub fn table_input(table: &Table) -> Result<TableInput, ProvisionError> {
    let columns = Table::columns()
        .iter()
        .map(|(name, ty)| column(name, ty))
        .collect::<Result<Vec<_>, _>>()?;
    let partitions = PARTITIONS
        .iter()
        .map(|p| column(p, "string"))
        .collect::<Result<Vec<_>, _>>()?;
    let storage = StorageDescriptor::builder()
        .set_columns(Some(columns))
        .location(table.location())
        .input_format(INPUT_FORMAT)
        .output_format(OUTPUT_FORMAT)
        .serde_info(SerDeInfo::builder().serialization_library(SERDE).build())
        .build();
    let mut input = TableInput::builder()
        .name(&table.name)
        .description("trailhead: CloudTrail records of the organization's archive")
        .table_type("EXTERNAL_TABLE")
        .storage_descriptor(storage)
        .set_partition_keys(Some(partitions));
    for (k, v) in table.properties() {
        input = input.parameters(k, v);
    }
    input
        .build()
        .map_err(|e| ProvisionError::Config(e.to_string()))
}

/// Every difference between the live table and ours, field by field.
fn compare(live: &GlueTable, table: &Table, diff: &mut Diff) -> bool {
    let sd = live.storage_descriptor();
    let mut changed = diff.field(
        "location",
        sd.and_then(|s| s.location()).unwrap_or("(none)"),
        table.location(),
    );
    changed |= diff.field(
        "serde",
        sd.and_then(|s| s.serde_info())
            .and_then(|s| s.serialization_library())
            .unwrap_or("(none)"),
        SERDE,
    );
    changed |= diff.field(
        "input_format",
        sd.and_then(|s| s.input_format()).unwrap_or("(none)"),
        INPUT_FORMAT,
    );
    let live_columns: Vec<String> = sd
        .map(|s| s.columns())
        .unwrap_or_default()
        .iter()
        .map(|c| format!("{} {}", c.name(), c.r#type().unwrap_or("?")))
        .collect();
    let want_columns: Vec<String> = Table::columns()
        .iter()
        .map(|(n, t)| format!("{n} {t}"))
        .collect();
    if live_columns != want_columns {
        changed |= diff.field(
            "columns",
            format!("{} column(s), differing", live_columns.len()),
            format!("{} column(s) of CloudTrail's table", want_columns.len()),
        );
    }
    let live_partitions: Vec<&str> = live.partition_keys().iter().map(|c| c.name()).collect();
    changed |= diff.field(
        "partitions",
        live_partitions.join(","),
        PARTITIONS.join(","),
    );
    let params = live.parameters();
    for (k, v) in table.properties() {
        let live_value = params
            .and_then(|p| p.get(&k))
            .map_or("(none)", String::as_str);
        changed |= diff.field(&k, live_value, v);
    }
    changed
}

pub async fn converge_table(
    glue: &Client,
    site: &CallSite,
    table: &Table,
    apply: bool,
) -> Result<(Action, Diff), ProvisionError> {
    let live = match glue
        .get_table()
        .database_name(&table.database)
        .name(&table.name)
        .send()
        .await
    {
        Ok(out) => out.table,
        Err(e) if e.code() == Some("EntityNotFoundException") => None,
        Err(e) => return Err(site.error("GetTable", e).into()),
    };
    let mut diff = Diff::new();
    let action = match &live {
        None => {
            diff.field(
                "table",
                "(none)",
                format!("{}.{}", table.database, table.name),
            );
            Action::Create
        }
        Some(live) if compare(live, table, &mut diff) => Action::Update,
        Some(_) => return Ok((Action::NoOp, diff)),
    };
    if apply {
        let input = table_input(table)?;
        if action == Action::Create {
            glue.create_table()
                .database_name(&table.database)
                .table_input(input)
                .send()
                .await
                .map_err(|e| site.error("CreateTable", e))?;
        } else {
            glue.update_table()
                .database_name(&table.database)
                .table_input(input)
                .send()
                .await
                .map_err(|e| site.error("UpdateTable", e))?;
        }
    }
    Ok((action, diff))
}
