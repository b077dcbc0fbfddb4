"""CloudWatch metric alarms, evaluated on the data points metric filters put (metrics.py):
every period (divided by `alarm_time_factor`, settings.py: 60 by default, so a 300 s period is
evaluated every 5 s), over the last EvaluationPeriods periods, with the alarm's statistic,
threshold, comparison, DatapointsToAlarm and TreatMissingData. Data points count in the period
they arrived in (metrics.py), so that none is missed because it came after its period was
judged; AWS waits for late data instead.
A state change is recorded (DescribeAlarms, DescribeAlarmHistory StateUpdate) and, with actions
enabled, published to the SNS topics of the new state's actions as `cloudwatch.amazonaws.com`:
the topic policy is evaluated with aws:SourceArn = the alarm ARN and aws:SourceAccount. Every
action leaves an `Action` history item: "Successfully executed action ..." or "Failed to execute
action ...", which is how AWS reports a topic that refuses CloudWatch.
Sources: docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html,
.../monitoring/alarms-and-missing-data.html, API_DescribeAlarmHistory.html.
"""

import json
import sys
import threading
import time
import traceback
from datetime import datetime, timezone

from . import backends, metrics, sns
from .policy import Principal, allows
from .settings import SETTINGS

CLOUDWATCH = "cloudwatch.amazonaws.com"
LOCK = threading.RLock()
LAST_EVALUATED = {}
# (account, region) → [history item], oldest first.
HISTORY = {}

_COMPARE = {
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "GreaterThanThreshold": lambda v, t: v > t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}


def _statistic(name, values):
    if not values:
        return None
    return {
        "Sum": sum(values), "Average": sum(values) / len(values), "Minimum": min(values),
        "Maximum": max(values), "SampleCount": float(len(values)),
    }.get(name, sum(values))


def _history(account, region, alarm, kind, summary, data):
    with LOCK:
        HISTORY.setdefault((account, region), []).append({
            "AlarmName": alarm.name, "AlarmType": "MetricAlarm",
            "Timestamp": datetime.now(timezone.utc), "HistoryItemType": kind,
            "HistorySummary": summary, "HistoryData": json.dumps(data),
        })


def judge(alarm, account, region, now):
    """The state the alarm's data says, or None to keep the current one."""
    period = max(alarm.period / SETTINGS.alarm_time_factor, 0.2)
    end = now
    periods = max(int(alarm.evaluation_periods or 1), 1)
    needed = int(alarm.datapoints_to_alarm or periods)
    treat = alarm.treat_missing_data or "missing"
    compare = _COMPARE.get(alarm.comparison_operator, _COMPARE["GreaterThanOrEqualToThreshold"])
    breaching, seen = 0, 0
    for i in range(periods):
        values = [v for _, v in metrics.points(account, region, alarm.namespace, alarm.metric_name,
                                               end - (i + 1) * period, end - i * period)]
        value = _statistic(alarm.statistic, values)
        if value is None:
            if treat == "breaching":
                breaching, seen = breaching + 1, seen + 1
            elif treat == "notBreaching":
                seen += 1
            continue
        seen += 1
        breaching += compare(value, float(alarm.threshold))
    if seen == 0:
        return None if treat == "ignore" else "INSUFFICIENT_DATA"
    return "ALARM" if breaching >= needed else "OK"


def _message(alarm, account, region, old, new, reason):
    return json.dumps({
        "AlarmName": alarm.name, "AlarmDescription": alarm.description, "AWSAccountId": account,
        "NewStateValue": new, "NewStateReason": reason,
        "StateChangeTime": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "Region": region, "AlarmArn": alarm.alarm_arn, "OldStateValue": old,
        "Trigger": {
            "MetricName": alarm.metric_name, "Namespace": alarm.namespace,
            "Statistic": (alarm.statistic or "").upper(), "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
            "ComparisonOperator": alarm.comparison_operator, "Threshold": alarm.threshold,
            "TreatMissingData": alarm.treat_missing_data or "missing",
        },
    })


def publish_action(alarm, account, region, action, subject, message):
    """Publishes to one SNS action as CloudWatch; None, or why it failed."""
    from moto.sns.models import sns_backends

    if ":sns:" not in action:
        return None
    parts = action.split(":")
    try:
        topic = sns_backends[parts[4]][parts[3]].topics[action]
    except (KeyError, IndexError):
        return "Resource not found"
    context = {"aws:SourceArn": alarm.alarm_arn, "aws:SourceAccount": account}
    if not allows(topic.policy, Principal.service(CLOUDWATCH), "sns:Publish", action, context):
        return f"CloudWatch Alarms is not authorized to perform: SNS:Publish on resource:{action}"
    sns.deliver(action, subject, message)
    return None


def _change(alarm, account, region, new, now):
    old = alarm.state_value
    reason = f"Threshold Crossed: the {alarm.statistic} of {alarm.metric_name} over the last {alarm.evaluation_periods} period(s) {'crossed' if new == 'ALARM' else 'did not cross'} the threshold ({alarm.threshold})."
    alarm.update_state(reason, json.dumps({"version": "1.0", "queryDate": datetime.now(timezone.utc).isoformat()}), new)
    _history(account, region, alarm, "StateUpdate", f"Alarm updated from {old} to {new}",
             {"version": "1.0", "oldState": {"stateValue": old}, "newState": {"stateValue": new, "stateReason": reason}})
    if not alarm.actions_enabled:
        return
    actions = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions,
               "INSUFFICIENT_DATA": alarm.insufficient_data_actions}.get(new) or []
    subject = f'{new}: "{alarm.name}" in {region}'
    message = _message(alarm, account, region, old, new, reason)
    for action in actions:
        failure = publish_action(alarm, account, region, action, subject, message)
        if failure is None:
            _history(account, region, alarm, "Action", f"Successfully executed action {action}", {"actionState": "Succeeded"})
        else:
            _history(account, region, alarm, "Action",
                     f"Failed to execute action {action}. Received error: \"{failure}\"",
                     {"actionState": "Failed", "error": failure})


def tick(now=None):
    from moto.cloudwatch.models import cloudwatch_backends

    now = now or time.time()
    with LOCK:
        for account, region, backend in backends.existing(cloudwatch_backends):
            for alarm in list(backend.alarms.values()):
                if not alarm.metric_name:
                    continue
                period = max(alarm.period / SETTINGS.alarm_time_factor, 0.2)
                if now - LAST_EVALUATED.get(alarm.alarm_arn, 0.0) < period:
                    continue
                LAST_EVALUATED[alarm.alarm_arn] = now
                try:
                    new = judge(alarm, account, region, now)
                    if new is not None and new != alarm.state_value:
                        _change(alarm, account, region, new, now)
                except Exception:
                    traceback.print_exc(file=sys.stderr)


def history(account, region, name=None, kind=None, start=None, end=None):
    with LOCK:
        items = list(HISTORY.get((account, region), []))
    return [
        i for i in reversed(items)
        if (name is None or i["AlarmName"] == name) and (kind is None or i["HistoryItemType"] == kind)
        and (start is None or i["Timestamp"] >= start) and (end is None or i["Timestamp"] <= end)
    ]


def _aware(value):
    """StartDate / EndDate as an aware UTC datetime (moto hands over a string or a naive one)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def install():
    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.core.responses import ActionResult

    def describe_alarm_history(self):
        items = history(
            self.current_account, self.region, self._get_param("AlarmName"),
            self._get_param("HistoryItemType"), _aware(self._get_param("StartDate")),
            _aware(self._get_param("EndDate")),
        )
        if self._get_param("ScanBy") == "TimestampAscending":
            items.reverse()
        limit = int(self._get_param("MaxRecords") or 100)
        return ActionResult({"AlarmHistoryItems": items[:limit]})

    CloudWatchResponse.describe_alarm_history = describe_alarm_history
