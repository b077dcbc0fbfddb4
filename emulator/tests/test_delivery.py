"""Trails deliver what the emulator recorded: log files, digests, CloudWatch Logs; metric
filters count, alarms fire, and SNS reaches confirmed subscribers. Refusals land in
GetTrailStatus and in the alarm history."""

import gzip
import hashlib
import json
import time

import pytest

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from conftest import REGION, policy, unique, wait_for_propagation
from test_cloudtrail import Setup


@pytest.fixture
def trail(emulator):
    """A logging, validating trail with its bucket, key, log group and role; deleted afterwards
    (the default account has room for five trails)."""
    setup = Setup(emulator)
    wait_for_propagation()
    setup.create(EnableLogFileValidation=True)
    setup.ct.start_logging(Name=setup.name)
    yield setup
    setup.ct.delete_trail(Name=setup.name)


def objects(setup, kind="CloudTrail"):
    listed = setup.s3.list_objects_v2(Bucket=setup.bucket, Prefix=f"AWSLogs/{setup.account}/{kind}/")
    return [o["Key"] for o in listed.get("Contents", [])]


def read(setup, key):
    return gzip.decompress(setup.s3.get_object(Bucket=setup.bucket, Key=key)["Body"].read())


def until(check, seconds=10.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds}s")


def test_log_files_arrive_within_the_interval_under_the_documented_key(emulator, trail):
    setup = trail
    setup.ct.describe_trails()
    keys = until(lambda: objects(setup), 5.0)
    key = keys[0]
    parts = key.split("/")
    assert parts[:4] == ["AWSLogs", setup.account, "CloudTrail", REGION], key
    name = parts[-1]
    assert name.startswith(f"{setup.account}_CloudTrail_{REGION}_") and name.endswith(".json.gz")
    assert len(name.rsplit("_", 1)[1]) == len("0123456789abcdef.json.gz")
    head = setup.s3.head_object(Bucket=setup.bucket, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == setup.key
    records = [r for k in keys for r in json.loads(read(setup, k))["Records"]]
    names = {r["eventName"] for r in records}
    assert "StartLogging" in names, names
    start = next(r for r in records if r["eventName"] == "StartLogging")
    assert start["recipientAccountId"] == setup.account
    assert start["userIdentity"]["type"] == "IAMUser" and start["eventSource"] == "cloudtrail.amazonaws.com"
    assert start["readOnly"] is False and start["managementEvent"] is True and start["eventType"] == "AwsApiCall"
    assert start["requestParameters"]["Name"] == setup.name
    status = setup.ct.get_trail_status(Name=setup.name)
    assert "LatestDeliveryTime" in status and "LatestDeliveryError" not in status


def test_a_failed_call_is_recorded_with_its_error(emulator, trail):
    setup = trail
    try:
        setup.ct.get_trail_status(Name="no-such-trail")
    except Exception:
        pass
    emulator.control("deliver", {})
    records = [r for k in objects(setup) for r in json.loads(read(setup, k))["Records"]]
    failed = [r for r in records if r["eventName"] == "GetTrailStatus" and r.get("errorCode")]
    assert failed and failed[0]["errorCode"] == "TrailNotFoundException"


def test_a_bucket_policy_that_refuses_cloudtrail_stops_delivery_with_access_denied(emulator, trail):
    setup = trail
    emulator.control("deliver", {})
    before = len(objects(setup))
    setup.s3.put_bucket_policy(Bucket=setup.bucket, Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{setup.account}:root"}, "Action": "s3:*",
         "Resource": f"arn:aws:s3:::{setup.bucket}/*"}))
    setup.ct.describe_trails()
    emulator.control("deliver", {})
    status = setup.ct.get_trail_status(Name=setup.name)
    assert status["LatestDeliveryError"] == "AccessDenied"
    assert len(objects(setup)) == before


def test_a_key_policy_without_cloudtrail_stops_delivery(emulator, trail):
    setup = trail
    setup.kms.put_key_policy(KeyId=setup.key, PolicyName="default", Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{setup.account}:root"}, "Action": "kms:*", "Resource": "*"}))
    setup.ct.describe_trails()
    emulator.control("deliver", {})
    assert setup.ct.get_trail_status(Name=setup.name)["LatestDeliveryError"] == "InsufficientEncryptionPolicyException"


def test_a_key_in_force_since_this_second_is_listed_for_a_window_ending_this_second(emulator):
    # A region nobody signed in yet: its key comes into force on this very call. Windows travel
    # in whole seconds, so a key starting at a fraction of this second must still be listed.
    ct = emulator.client("cloudtrail", region="sa-east-1")
    now = int(time.time())
    keys = ct.list_public_keys(StartTime=now - 60, EndTime=now)["PublicKeyList"]
    assert len(keys) == 1, keys
    assert keys[0]["ValidityStartTime"].timestamp() <= now


def test_digests_chain_and_verify_with_the_listed_public_key(emulator, trail):
    setup = trail
    emulator.control("deliver?digest=1", {})
    setup.ct.describe_trails()
    emulator.control("deliver?digest=1", {})
    digests = sorted(objects(setup, "CloudTrail-Digest"))
    assert len(digests) >= 2, digests
    keys = setup.ct.list_public_keys()["PublicKeyList"]
    assert keys and keys[0]["ValidityEndTime"] > keys[0]["ValidityStartTime"]
    previous = None
    for key in digests:
        body = read(setup, key)
        digest = json.loads(body)
        signature = setup.s3.head_object(Bucket=setup.bucket, Key=key)["Metadata"]["signature"]
        assert digest["digestS3Object"] == key
        public = next(k for k in keys if k["Fingerprint"] == digest["digestPublicKeyFingerprint"])
        to_sign = "\n".join([digest["digestEndTime"], f"{setup.bucket}/{key}", hashlib.sha256(body).hexdigest(),
                             digest["previousDigestSignature"] or "null"])
        _pkcs1(public["Value"]).verify(bytes.fromhex(signature), to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())
        if previous:
            assert digest["previousDigestS3Object"] == previous[0]
            assert digest["previousDigestSignature"] == previous[1]
        for log in digest["logFiles"]:
            assert hashlib.sha256(read(setup, log["s3Object"])).hexdigest() == log["hashValue"]
        previous = (key, signature)
    assert any(json.loads(read(setup, k))["logFiles"] for k in digests)


def _pkcs1(der):
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    # PKCS#1 RSAPublicKey wrapped into SubjectPublicKeyInfo, as the Java sample does.
    algorithm = bytes.fromhex("300d06092a864886f70d0101010500")
    bit_string = b"\x03" + _length(len(der) + 1) + b"\x00" + der
    body = algorithm + bit_string
    return load_der_public_key(b"\x30" + _length(len(body)) + body)


def _length(n):
    if n < 128:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def test_events_reach_cloudwatch_logs_and_an_alarm_notifies_a_confirmed_subscriber(emulator, trail):
    setup = trail
    sns = emulator.client("sns")
    cw = emulator.client("cloudwatch")
    topic = sns.create_topic(Name=unique("alarms"))["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=policy(
        {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish",
         "Resource": topic, "Condition": {"StringEquals": {"aws:SourceAccount": setup.account}}}))
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="secops@example.com")
    emulator.control(f"sns/confirm?topic={topic}", {})
    metric = unique("TrailChanges")
    setup.logs.put_metric_filter(logGroupName=setup.group, filterName=metric,
                                 filterPattern='{ ($.eventName = StopLogging) || ($.eventName = DeleteTrail) }',
                                 metricTransformations=[{"metricName": metric, "metricNamespace": "CISBenchmark", "metricValue": "1"}])
    alarm = unique("alarm")
    cw.put_metric_alarm(AlarmName=alarm, MetricName=metric, Namespace="CISBenchmark", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
                        TreatMissingData="notBreaching", AlarmActions=[topic])
    setup.ct.stop_logging(Name=setup.name)
    stream = f"{setup.account}_CloudTrail_{REGION}"
    events = until(lambda: [e for e in setup.logs.get_log_events(logGroupName=setup.group, logStreamName=stream)["events"]
                            if '"StopLogging"' in e["message"]], 8.0)
    assert json.loads(events[0]["message"])["eventName"] == "StopLogging"
    until(lambda: cw.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["StateValue"] == "ALARM", 10.0)
    sent = until(lambda: emulator.control(f"sns/notifications?topic={topic}")["notifications"], 5.0)
    assert sent[0]["endpoint"] == "secops@example.com" and json.loads(sent[0]["message"])["AlarmName"] == alarm
    history = cw.describe_alarm_history(AlarmName=alarm, HistoryItemType="Action")["AlarmHistoryItems"]
    assert history[0]["HistorySummary"].startswith("Successfully executed action")
    # A window (StartDate / EndDate) narrows the history, as the drill reads it.
    from datetime import datetime, timedelta, timezone
    now = datetime.now(timezone.utc)
    recent = cw.describe_alarm_history(AlarmName=alarm, StartDate=now - timedelta(minutes=5))["AlarmHistoryItems"]
    assert any(i["HistorySummary"].endswith("to ALARM") for i in recent)
    assert cw.describe_alarm_history(AlarmName=alarm, StartDate=now + timedelta(minutes=5))["AlarmHistoryItems"] == []
    # The filter's data point is readable back, as the drill's metric link reads it.
    stats = cw.get_metric_statistics(Namespace="CISBenchmark", MetricName=metric, StartTime=now - timedelta(minutes=5),
                                     EndTime=now + timedelta(minutes=1), Period=60, Statistics=["Sum"])
    assert sum(d["Sum"] for d in stats["Datapoints"]) >= 1


def test_a_topic_that_refuses_cloudwatch_records_a_failed_action(emulator, trail):
    setup = trail
    sns = emulator.client("sns")
    cw = emulator.client("cloudwatch")
    topic = sns.create_topic(Name=unique("closed"))["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{setup.account}:root"}, "Action": "sns:Publish", "Resource": topic}))
    metric = unique("Root")
    setup.logs.put_metric_filter(logGroupName=setup.group, filterName=metric,
                                 filterPattern='{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
                                 metricTransformations=[{"metricName": metric, "metricNamespace": "CISBenchmark", "metricValue": "1"}])
    alarm = unique("root-alarm")
    cw.put_metric_alarm(AlarmName=alarm, MetricName=metric, Namespace="CISBenchmark", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
                        TreatMissingData="notBreaching", AlarmActions=[topic])
    emulator.control("events", {"account": setup.account, "region": REGION, "records": [
        {"eventName": "ConsoleLogin", "eventSource": "signin.amazonaws.com", "eventType": "AwsConsoleSignIn",
         "userIdentity": {"type": "Root", "arn": f"arn:aws:iam::{setup.account}:root", "accountId": setup.account}}]})
    until(lambda: cw.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["StateValue"] == "ALARM", 10.0)
    history = until(lambda: cw.describe_alarm_history(AlarmName=alarm, HistoryItemType="Action")["AlarmHistoryItems"], 5.0)
    assert history[0]["HistorySummary"].startswith(f"Failed to execute action {topic}")
    assert not emulator.control(f"sns/notifications?topic={topic}")["notifications"]


def test_a_logs_role_without_put_log_events_is_a_cloudwatch_logs_delivery_error(emulator, trail):
    setup = trail
    setup.iam.put_role_policy(RoleName=setup.role, PolicyName="streams", PolicyDocument=policy({
        "Effect": "Allow", "Action": ["logs:CreateLogStream"], "Resource": "*"}))
    setup.ct.describe_trails()
    emulator.control("deliver", {})
    status = setup.ct.get_trail_status(Name=setup.name)
    assert status["LatestCloudWatchLogsDeliveryError"] == "AccessDeniedException"
    assert "LatestDeliveryError" not in status


def test_records_name_who_called_root_or_an_assumed_role_session(emulator, org):
    account = org["member"]
    before = len(records_of(emulator, account))
    emulator.assume("sts", account).get_caller_identity()
    emulator.root("iam", account).list_roles()
    records = records_of(emulator, account)[before:]
    session = next(r for r in records if r["eventName"] == "GetCallerIdentity")
    identity = session["userIdentity"]
    assert identity["type"] == "AssumedRole" and identity["arn"].endswith("/pytest")
    assert identity["sessionContext"]["sessionIssuer"]["userName"] == "OrganizationAccountAccessRole"
    assert "SessionToken" not in json.dumps(session) and session["readOnly"] is True
    root = next(r for r in records if r["eventName"] == "ListRoles")
    assert root["userIdentity"]["type"] == "Root" and root["awsRegion"] == "us-east-1"
    assert root["eventSource"] == "iam.amazonaws.com" and root["recipientAccountId"] == account


def records_of(emulator, account):
    return emulator.control(f"events?account={account}")["records"]


def test_a_refused_digest_is_retried_on_the_next_delivery(emulator, trail):
    setup = trail
    original = setup.s3.get_bucket_policy(Bucket=setup.bucket)["Policy"]
    setup.s3.put_bucket_policy(Bucket=setup.bucket, Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{setup.account}:root"}, "Action": "s3:*",
         "Resource": f"arn:aws:s3:::{setup.bucket}/*"}))
    emulator.control("deliver?digest=1", {})
    assert setup.ct.get_trail_status(Name=setup.name)["LatestDigestDeliveryError"] == "AccessDenied"
    setup.s3.put_bucket_policy(Bucket=setup.bucket, Policy=original)
    emulator.control("deliver", {})
    status = setup.ct.get_trail_status(Name=setup.name)
    assert "LatestDigestDeliveryError" not in status and "LatestDigestDeliveryTime" in status
    assert objects(setup, "CloudTrail-Digest")
