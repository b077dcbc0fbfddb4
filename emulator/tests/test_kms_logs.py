"""KMS key policies and CloudWatch Logs answers."""

import time

import pytest
from botocore.exceptions import ClientError

from conftest import policy, unique


def code_of(call):
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


def test_a_key_policy_that_locks_the_caller_out_is_refused(emulator):
    kms = emulator.client("kms")
    lockout = policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "kms:*", "Resource": "*"})
    assert code_of(lambda: kms.create_key(Policy=lockout)) == "MalformedPolicyDocumentException"
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    assert code_of(lambda: kms.put_key_policy(KeyId=key, PolicyName="default", Policy=lockout)) == "MalformedPolicyDocumentException"
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=lockout, BypassPolicyLockoutSafetyCheck=True)
    assert code_of(lambda: kms.describe_key(KeyId=key)) == "AccessDeniedException"


def test_cross_account_use_follows_the_key_policy_and_its_encryption_context(emulator, org):
    kms = emulator.client("kms")
    member = org["member"]
    key = kms.create_key(Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{member}:root"}, "Action": ["kms:Encrypt", "kms:Decrypt"],
         "Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContext:purpose": "logs"}}},
    ))["KeyMetadata"]["Arn"]
    other = emulator.assume("kms", member)
    blob = other.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"purpose": "logs"})["CiphertextBlob"]
    assert other.decrypt(KeyId=key, CiphertextBlob=blob, EncryptionContext={"purpose": "logs"})["Plaintext"] == b"x"
    assert code_of(lambda: other.encrypt(KeyId=key, Plaintext=b"x")) == "AccessDeniedException"
    assert code_of(lambda: other.describe_key(KeyId=key)) == "AccessDeniedException"


def test_describe_metric_filters_of_a_missing_group_is_not_found(emulator):
    logs = emulator.client("logs")
    assert code_of(lambda: logs.describe_metric_filters(logGroupName=unique("/no/such/group"))) == "ResourceNotFoundException"
    group = unique("/some/group")
    logs.create_log_group(logGroupName=group)
    assert logs.describe_metric_filters(logGroupName=group)["metricFilters"] == []


def test_put_metric_filter_with_an_existing_name_replaces_it(emulator):
    logs = emulator.client("logs")
    group = unique("/some/group")
    logs.create_log_group(logGroupName=group)
    metric = [{"metricName": "M", "metricNamespace": "N", "metricValue": "1"}]
    for pattern in ('{ $.eventName = "A" }', '{ $.eventName = "B" }'):
        logs.put_metric_filter(logGroupName=group, filterName="f", filterPattern=pattern, metricTransformations=metric)
    logs.put_metric_filter(logGroupName=group, filterName="g", filterPattern="{ $.x = 1 }", metricTransformations=metric)
    filters = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    assert sorted((f["filterName"], f["filterPattern"]) for f in filters) == [
        ("f", '{ $.eventName = "B" }'),
        ("g", "{ $.x = 1 }"),
    ]


def test_group_names_under_aws_slash_are_reserved(emulator):
    logs = emulator.client("logs")
    assert code_of(lambda: logs.create_log_group(logGroupName=unique("aws/mine"))) == "InvalidParameterException"
    logs.create_log_group(logGroupName=unique("/aws/mine"))


def test_email_subscriptions_stay_pending_until_confirmed(emulator):
    sns = emulator.client("sns")
    topic = sns.create_topic(Name=unique("alarms"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="secops@example.com")
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == ["PendingConfirmation"]
    assert emulator.control(f"sns/confirm?topic={topic}", {})["confirmed"] == 1
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert listed[0]["SubscriptionArn"].startswith(topic + ":")


def test_confirming_by_account_leaves_other_accounts_pending(emulator, org):
    """Tests run side by side: confirming one test's accounts must not confirm another's."""
    member = org["member"]
    mine = emulator.assume("sns", member)
    other = emulator.client("sns")
    topics = []
    for sns in (mine, other):
        topic = sns.create_topic(Name=unique("alarms"))["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="secops@example.com")
        topics.append((sns, topic))
    assert emulator.control(f"sns/confirm?account={member}", {})["confirmed"] == 1
    (sns, confirmed), (other_sns, pending) = topics
    assert sns.list_subscriptions_by_topic(TopicArn=confirmed)["Subscriptions"][0]["SubscriptionArn"] != "PendingConfirmation"
    assert [s["SubscriptionArn"] for s in other_sns.list_subscriptions_by_topic(TopicArn=pending)["Subscriptions"]] == ["PendingConfirmation"]


def logs_key(kms, group, region="eu-west-1", service_context=True):
    """A key the account administers; CloudWatch Logs may use it for `group` (or, without
    `service_context`, for any group: the condition is what the test takes away)."""
    use = {"Effect": "Allow", "Principal": {"Service": f"logs.{region}.amazonaws.com"},
           "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
           "Resource": "*"}
    if service_context:
        use["Condition"] = {"ArnEquals": {
            "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:123456789012:log-group:{group}"}}
    admin = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}
    return kms.create_key(Policy=policy(admin, use))["KeyMetadata"]["Arn"]


def test_a_group_key_must_let_cloudwatch_logs_use_it_for_that_group(emulator):
    kms, logs = emulator.client("kms"), emulator.client("logs")
    group, other = unique("/trailhead/enc"), unique("/trailhead/other")
    key = logs_key(kms, group)
    logs.create_log_group(logGroupName=group, kmsKeyId=key)
    described = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    assert described["kmsKeyId"] == key
    # The same key names another group in its context: refused for this one.
    assert code_of(lambda: logs.create_log_group(logGroupName=other, kmsKeyId=key)) == "AccessDeniedException"
    admin_only = kms.create_key()["KeyMetadata"]["Arn"]
    logs.create_log_group(logGroupName=other)
    assert code_of(lambda: logs.associate_kms_key(logGroupName=other, kmsKeyId=admin_only)) == "AccessDeniedException"
    assert "kmsKeyId" not in logs.describe_log_groups(logGroupNamePrefix=other)["logGroups"][0]
    fitting = logs_key(kms, other)
    logs.associate_kms_key(logGroupName=other, kmsKeyId=fitting)
    assert logs.describe_log_groups(logGroupNamePrefix=other)["logGroups"][0]["kmsKeyId"] == fitting
    logs.disassociate_kms_key(logGroupName=other)
    assert "kmsKeyId" not in logs.describe_log_groups(logGroupNamePrefix=other)["logGroups"][0]
    assert code_of(lambda: logs.associate_kms_key(logGroupName=unique("/missing"), kmsKeyId=fitting)) == "ResourceNotFoundException"


def test_a_new_key_is_unknown_for_a_while_to_the_calls_that_follow_it(emulator):
    kms, logs = emulator.client("kms"), emulator.client("logs")
    emulator.control("settings", {"key_propagation": 1.5})
    try:
        group = unique("/trailhead/lag")
        key = logs_key(kms, group)
        assert code_of(lambda: kms.enable_key_rotation(KeyId=key)) == "NotFoundException"
        assert code_of(lambda: kms.create_alias(AliasName=unique("alias/lag"), TargetKeyId=key)) == "NotFoundException"
        assert code_of(lambda: logs.create_log_group(logGroupName=group, kmsKeyId=key)) == "AccessDeniedException"
        # Reads of the key still answer: only the calls that change it lag.
        assert kms.describe_key(KeyId=key)["KeyMetadata"]["Arn"] == key
        time.sleep(1.6)
        kms.enable_key_rotation(KeyId=key)
        logs.create_log_group(logGroupName=group, kmsKeyId=key)
    finally:
        emulator.control("settings", {"key_propagation": 0})
