"""Athena as AWS answers it: a missing workgroup is an error, UpdateWorkGroup applies its
updates, a query that does not name the injected account partition fails, and results page at
most 1000 rows at a time."""


import pytest
from botocore.exceptions import ClientError

from conftest import REGION, unique


def queue(emulator, rows, columns=("eventid",)):
    from trailhead_emulator.client import call

    header = {"Data": [{"VarCharValue": c} for c in columns]}
    payload = {"account_id": "123456789012", "region": REGION, "results": [{
        "rows": [header] + [{"Data": [{"VarCharValue": v} for v in row]} for row in rows],
        "column_info": [{"Name": c, "Type": "varchar"} for c in columns],
    }]}
    call(emulator.endpoint, emulator.ca, "static/athena/query-results", payload, base="/moto-api/")


def finished(athena, query_id):
    for _ in range(20):
        status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
        if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return status
    raise AssertionError("the query never finished")


def test_workgroups_are_found_or_refused_and_updated(emulator):
    athena = emulator.client("athena")
    with pytest.raises(ClientError) as missing:
        athena.get_work_group(WorkGroup=unique("nope"))
    assert missing.value.response["Error"]["Code"] == "InvalidRequestException"

    name = unique("wg")
    athena.create_work_group(Name=name, Configuration={"BytesScannedCutoffPerQuery": 10_000_000_000})
    athena.update_work_group(WorkGroup=name, ConfigurationUpdates={
        "BytesScannedCutoffPerQuery": 20_000_000_000,
        "ResultConfigurationUpdates": {"OutputLocation": "s3://results/"},
    })
    config = athena.get_work_group(WorkGroup=name)["WorkGroup"]["Configuration"]
    assert config["BytesScannedCutoffPerQuery"] == 20_000_000_000
    assert config["ResultConfiguration"]["OutputLocation"] == "s3://results/"
    athena.update_work_group(WorkGroup=name, ConfigurationUpdates={"RemoveBytesScannedCutoffPerQuery": True})
    config = athena.get_work_group(WorkGroup=name)["WorkGroup"]["Configuration"]
    assert "BytesScannedCutoffPerQuery" not in config


def test_injected_partitions_must_be_named(emulator):
    glue, athena = emulator.client("glue"), emulator.client("athena")
    db = unique("db").replace("-", "_").lower()
    glue.create_database(DatabaseInput={"Name": db})
    glue.create_table(DatabaseName=db, TableInput={"Name": "cloudtrail", "Parameters": {
        "projection.enabled": "true", "projection.account.type": "injected",
        "projection.region.type": "enum", "projection.region.values": REGION,
    }})
    unbounded = athena.start_query_execution(
        QueryString=f'SELECT eventid FROM "{db}"."cloudtrail" WHERE "region" = \'{REGION}\'')
    status = finished(athena, unbounded["QueryExecutionId"])
    assert status["State"] == "FAILED"
    assert status["StateChangeReason"].startswith("CONSTRAINT_VIOLATION")

    queue(emulator, [["e1"]])
    named = athena.start_query_execution(
        QueryString=f'SELECT eventid FROM "{db}"."cloudtrail" WHERE "account" IN (\'111111111111\')')
    assert finished(athena, named["QueryExecutionId"])["State"] == "SUCCEEDED"


def test_results_page_by_at_most_a_thousand_rows(emulator):
    athena = emulator.client("athena")
    queue(emulator, [[f"e{i}"] for i in range(1500)])
    query_id = athena.start_query_execution(QueryString="SELECT eventid FROM t")["QueryExecutionId"]
    with pytest.raises(ClientError) as too_many:
        athena.get_query_results(QueryExecutionId=query_id, MaxResults=1001)
    assert too_many.value.response["Error"]["Code"] == "InvalidRequestException"
    first = athena.get_query_results(QueryExecutionId=query_id, MaxResults=1000)
    assert len(first["ResultSet"]["Rows"]) == 1000 and first.get("NextToken")
    second = athena.get_query_results(QueryExecutionId=query_id, MaxResults=1000, NextToken=first["NextToken"])
    assert len(second["ResultSet"]["Rows"]) == 501 and not second.get("NextToken")
    assert second["ResultSet"]["Rows"][-1]["Data"][0]["VarCharValue"] == "e1499"
