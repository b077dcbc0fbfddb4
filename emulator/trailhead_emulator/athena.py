"""Athena as trailhead relies on it (moto runs no query and lacks some calls):

- GetWorkGroup of a workgroup that does not exist answers InvalidRequestException, as AWS does
  (moto answers an empty workgroup).
- UpdateWorkGroup applies ConfigurationUpdates (moto has no UpdateWorkGroup): the result
  location and encryption, enforcement, metrics and the bytes-scanned cutoff, or its removal.
- A query of a table whose partition projection has an `injected` column fails unless the query
  names that column's values with static equality (`"col" = '…'` or `"col" IN (…)`):
  "CONSTRAINT_VIOLATION: For the injected projected partition column …".
- GetQueryResults pages: at most 1000 rows a page (MaxResults above 1000 is
  InvalidRequestException), with NextToken until the rows run out.
- Queries are not run: results are the rows a test queued through moto's documented
  `/moto-api/static/athena/query-results`.
Sources: docs.aws.amazon.com/athena/latest/APIReference/API_GetWorkGroup.html,
API_UpdateWorkGroup.html, API_GetQueryResults.html (MaxResults 1 to 1000),
athena/latest/ug/partition-projection-dynamic-id-partitioning.html (injected type).
"""

import json
import re

from .errors import json_error

MAX_RESULTS = 1000
FROM = re.compile(r'\bFROM\s+"?([A-Za-z0-9_]+)"?\s*\.\s*"?([A-Za-z0-9_]+)"?', re.IGNORECASE)


def injected_columns(account, region, database, table):
    from moto.glue.models import glue_backends

    try:
        found = glue_backends[account][region].get_table(database, table)
    except Exception:
        return []
    params = found.as_dict().get("Parameters", {}) or {}
    if params.get("projection.enabled") != "true":
        return []
    return [key.split(".")[1] for key, value in params.items()
            if key.startswith("projection.") and key.endswith(".type") and value == "injected"]


def projection_violation(account, region, query):
    """The reason AWS fails `query`, or None."""
    for database, table in FROM.findall(query):
        for column in injected_columns(account, region, database.lower(), table.lower()):
            named = re.search(rf'"?\b{column}\b"?\s*(=|IN\s*\()', query, re.IGNORECASE)
            if not named:
                return (f"CONSTRAINT_VIOLATION: For the injected projected partition column {column}, "
                        "the WHERE clause must contain only static equality conditions, and at least "
                        "one such condition must be present.")
    return None


def _apply_updates(configuration, updates):
    for key in ("EnforceWorkGroupConfiguration", "PublishCloudWatchMetricsEnabled",
                "BytesScannedCutoffPerQuery", "RequesterPaysEnabled"):
        if key in updates:
            configuration[key] = updates[key]
    if updates.get("RemoveBytesScannedCutoffPerQuery"):
        configuration.pop("BytesScannedCutoffPerQuery", None)
    result = updates.get("ResultConfigurationUpdates") or {}
    current = configuration.setdefault("ResultConfiguration", {})
    for key in ("OutputLocation", "EncryptionConfiguration", "ExpectedBucketOwner", "AclConfiguration"):
        if key in result:
            current[key] = result[key]
        if result.get(f"Remove{key}"):
            current.pop(key, None)


def install():
    from moto.athena.models import AthenaBackend
    from moto.athena.responses import AthenaResponse

    original_get = AthenaResponse.get_work_group

    def get_work_group(self):
        name = self._get_param("WorkGroup")
        if self.athena_backend.get_work_group(name) is None:
            raise json_error("InvalidRequestException", f"WorkGroup {name} is not found.")
        return original_get(self)

    AthenaResponse.get_work_group = get_work_group

    def update_work_group(self):
        name = self._get_param("WorkGroup")
        group = self.athena_backend.work_groups.get(name)
        if group is None:
            raise json_error("InvalidRequestException", f"WorkGroup {name} is not found.")
        _apply_updates(group.configuration, self._get_param("ConfigurationUpdates") or {})
        if self._get_param("Description") is not None:
            group.description = self._get_param("Description")
        return "{}"

    AthenaResponse.update_work_group = update_work_group

    failures = {}
    original_start = AthenaBackend.start_query_execution

    def start_query_execution(self, query, context, config, workgroup, execution_parameters):
        exec_id = original_start(self, query, context, config, workgroup, execution_parameters)
        reason = projection_violation(self.account_id, self.region_name, query)
        if reason:
            failures[exec_id] = reason
        return exec_id

    AthenaBackend.start_query_execution = start_query_execution

    original_execution = AthenaResponse.get_query_execution

    def get_query_execution(self):
        body = json.loads(original_execution(self))
        reason = failures.get(self._get_param("QueryExecutionId"))
        if reason:
            status = body["QueryExecution"]["Status"]
            status["State"] = "FAILED"
            status["StateChangeReason"] = reason
            status["AthenaError"] = {"ErrorCategory": 2, "ErrorType": 1005, "Retryable": False,
                                     "ErrorMessage": reason}
        return json.dumps(body)

    AthenaResponse.get_query_execution = get_query_execution

    def get_query_results(self):
        exec_id = self._get_param("QueryExecutionId")
        if exec_id in failures:
            raise json_error("InvalidRequestException", f"Query has not yet finished. Current state: FAILED")
        max_results = int(self._get_param("MaxResults") or MAX_RESULTS)
        if not 1 <= max_results <= MAX_RESULTS:
            raise json_error("InvalidRequestException",
                             f"MaxResults must be between 1 and {MAX_RESULTS}")
        start = int(self._get_param("NextToken") or 0)
        result = self.athena_backend.get_query_results(exec_id).to_dict()
        rows = result["ResultSet"]["Rows"]
        result["ResultSet"]["Rows"] = rows[start:start + max_results]
        if start + max_results < len(rows):
            result["NextToken"] = str(start + max_results)
        return json.dumps(result)

    AthenaResponse.get_query_results = get_query_results
