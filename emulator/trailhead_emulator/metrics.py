"""Metric filters of CloudWatch Logs, evaluated on the events CloudTrail puts in a log group:
each matching event puts its metricValue (`1`, or a number a `$.field` selects) on the filter's
metric (at the event's time in moto's store; alarms.py judges points by arrival); a batch with no match puts `defaultValue` when the filter has one.
Patterns are read by matcher.py (not by trailhead's engine). A pattern the matcher cannot read
counts as matching nothing and is reported on stderr, never silently.
Data points go to the emulator's own store (alarms.py reads it) and to moto's, so that
GetMetricStatistics and ListMetrics show them.
Source: docs.aws.amazon.com/AmazonCloudWatch/latest/logs/MonitoringPolicyExamples.html,
API_MetricTransformation.html.
"""

import json
import sys
import threading
import time
from collections import defaultdict
from datetime import datetime, timezone

from . import matcher

LOCK = threading.Lock()
# (account, region, namespace, metric) → [(time, value)]
POINTS = defaultdict(list)
_COMPILED = {}


def _compiled(pattern):
    if pattern not in _COMPILED:
        try:
            _COMPILED[pattern] = matcher.compile_pattern(pattern)
        except (matcher.Invalid, matcher.Unsupported) as e:
            print(f"emulator: metric filter pattern not evaluated ({e}): {pattern}", file=sys.stderr)
            _COMPILED[pattern] = lambda message, parsed=None: False
    return _COMPILED[pattern]


def _value_of(transformation, message):
    value = str(transformation.get("metricValue", "1"))
    if not value.startswith("$."):
        return float(value)
    node = json.loads(message)
    for part in value[2:].split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return float(node) if isinstance(node, (int, float)) and not isinstance(node, bool) else None


def put_point(account, region, namespace, name, t, value):
    # Alarms judge points by when they arrived: a point that came late (a loaded machine) still
    # lands in a period not judged yet, instead of one already closed. moto's store keeps `t`.
    with LOCK:
        POINTS[(account, region, namespace, name)].append((time.time(), value))
    from moto.cloudwatch.models import cloudwatch_backends

    # moto keeps naive UTC times (its clock, its request parser): an aware one here made
    # GetMetricStatistics fail with a 500 on comparing the two.
    stamp = datetime.fromtimestamp(t, timezone.utc).replace(tzinfo=None)
    cloudwatch_backends[account][region].put_metric_data(
        namespace, [{"MetricName": name, "Value": value, "Timestamp": stamp}]
    )


def points(account, region, namespace, name, start, end):
    with LOCK:
        return [(t, v) for t, v in POINTS.get((account, region, namespace, name), []) if start < t <= end]


def apply_filters(account, region, group, messages, parsed=None):
    """messages: [(timestamp ms, message)] just put in `group`; parsed: the same messages as
    JSON, when the caller has them (each is then parsed once, not once per filter)."""
    from moto.logs.models import logs_backends

    backend = logs_backends[account][region]
    parsed = parsed or [None] * len(messages)
    for f in list(backend.filters.get_matching_filters(log_group_name=group)):
        test = _compiled(f.get("filterPattern", ""))
        matched = [(ms, m) for (ms, m), p in zip(messages, parsed) if test(m, p)]
        for transformation in f.get("metricTransformations") or []:
            namespace, name = transformation.get("metricNamespace"), transformation.get("metricName")
            for ms, message in matched:
                value = _value_of(transformation, message)
                if value is not None:
                    put_point(account, region, namespace, name, ms / 1000.0, value)
            default = transformation.get("defaultValue")
            if not matched and default is not None and messages:
                put_point(account, region, namespace, name, messages[-1][0] / 1000.0, float(default))
