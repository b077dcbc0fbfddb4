"""CreateTrail / UpdateTrail refuse what AWS refuses: one break at a time from a setup that works."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import REGION, policy, unique, wait_for_propagation

CT = "cloudtrail.amazonaws.com"


def error_code(call):
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


def bucket_policy(bucket, account, trail_arn):
    return policy(
        {"Sid": "Acl", "Effect": "Allow", "Principal": {"Service": CT}, "Action": "s3:GetBucketAcl",
         "Resource": f"arn:aws:s3:::{bucket}", "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}},
        {"Sid": "Write", "Effect": "Allow", "Principal": {"Service": CT}, "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{account}/*",
         "Condition": {"StringEquals": {"aws:SourceArn": trail_arn, "s3:x-amz-acl": "bucket-owner-full-control"}}},
    )


def key_policy(account, trail_arn, decrypt=True):
    statements = [
        {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Encrypt", "Effect": "Allow", "Principal": {"Service": CT}, "Action": "kms:GenerateDataKey*",
         "Resource": "*", "Condition": {"StringEquals": {"aws:SourceArn": trail_arn},
                                        "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trail_arn}}},
        {"Sid": "Describe", "Effect": "Allow", "Principal": {"Service": CT}, "Action": "kms:DescribeKey",
         "Resource": "*", "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}},
    ]
    if decrypt:
        statements.append(
            {"Sid": "BucketKey", "Effect": "Allow", "Principal": {"Service": CT}, "Action": "kms:Decrypt",
             "Resource": "*", "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}})
    return policy(*statements)


def org_key_policy(account, org_id, trail_name):
    """The key policy trailhead writes when per-trail statements would not fit: any trail of
    ours in the organization."""
    like = f"arn:aws:cloudtrail:*:*:trail/{trail_name}"
    org = {"StringEquals": {"aws:SourceOrgID": org_id}, "StringLike": {"aws:SourceArn": like}}
    encrypt = {"StringEquals": {"aws:SourceOrgID": org_id},
               "StringLike": {"aws:SourceArn": like, "kms:EncryptionContext:aws:cloudtrail:arn": like}}
    return policy(
        {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Encrypt", "Effect": "Allow", "Principal": {"Service": CT}, "Action": "kms:GenerateDataKey*",
         "Resource": "*", "Condition": encrypt},
        {"Sid": "Describe", "Effect": "Allow", "Principal": {"Service": CT}, "Action": "kms:DescribeKey",
         "Resource": "*", "Condition": org},
        {"Sid": "BucketKey", "Effect": "Allow", "Principal": {"Service": CT}, "Action": "kms:Decrypt",
         "Resource": "*", "Condition": org},
    )


def trust(conditions=None):
    statement = {"Effect": "Allow", "Principal": {"Service": CT}, "Action": "sts:AssumeRole"}
    if conditions:
        statement["Condition"] = conditions
    return policy(statement)


class Setup:
    """A bucket with a Bucket Key, a key, a log group and a role in the moto default account."""

    def __init__(self, emulator, bucket_key=True):
        self.account = "123456789012"
        self.name = unique("trail")
        self.arn = f"arn:aws:cloudtrail:{REGION}:{self.account}:trail/{self.name}"
        self.s3 = emulator.client("s3")
        self.kms = emulator.client("kms")
        self.iam = emulator.client("iam")
        self.logs = emulator.client("logs")
        self.ct = emulator.client("cloudtrail")
        self.bucket = unique("archive")
        self.s3.create_bucket(Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        self.s3.put_bucket_policy(Bucket=self.bucket, Policy=bucket_policy(self.bucket, self.account, self.arn))
        self.key = self.kms.create_key(Policy=key_policy(self.account, self.arn))["KeyMetadata"]["Arn"]
        self.s3.put_bucket_encryption(Bucket=self.bucket, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": self.key},
            "BucketKeyEnabled": bucket_key}]})
        self.group = unique("/trail/group")
        self.logs.create_log_group(logGroupName=self.group)
        self.group_arn = f"arn:aws:logs:{REGION}:{self.account}:log-group:{self.group}:*"
        self.role = unique("ctlogs")
        self.role_arn = self.iam.create_role(RoleName=self.role, AssumeRolePolicyDocument=trust())["Role"]["Arn"]
        self.iam.put_role_policy(RoleName=self.role, PolicyName="streams", PolicyDocument=policy({
            "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:aws:logs:{REGION}:{self.account}:log-group:{self.group}:log-stream:{self.account}_CloudTrail_{REGION}*"}))

    def create(self, **overrides):
        args = dict(Name=self.name, S3BucketName=self.bucket, IsMultiRegionTrail=True, KmsKeyId=self.key,
                    CloudWatchLogsLogGroupArn=self.group_arn, CloudWatchLogsRoleArn=self.role_arn)
        args.update(overrides)
        return self.ct.create_trail(**args)


@pytest.fixture
def setup(emulator):
    made = Setup(emulator)
    yield made
    # The default account has room for five trails per region; leave it for the next test.
    for trail in made.ct.describe_trails()["trailList"]:
        if trail["Name"] == made.name:
            made.ct.delete_trail(Name=made.name)


def test_a_correct_setup_is_accepted_once_the_role_has_propagated(setup):
    assert error_code(setup.create) == "InvalidCloudWatchLogsRoleArnException"
    wait_for_propagation()
    assert setup.create()["TrailARN"] == setup.arn


def test_a_second_trail_of_the_same_name_is_refused(setup):
    wait_for_propagation()
    setup.create()
    assert error_code(setup.create) == "TrailAlreadyExistsException"


def test_a_logs_role_trust_with_source_conditions_cannot_be_assumed_by_cloudtrail(setup):
    setup.iam.update_assume_role_policy(RoleName=setup.role, PolicyDocument=trust(
        {"StringEquals": {"aws:SourceArn": setup.arn, "aws:SourceAccount": setup.account}}))
    wait_for_propagation()
    assert error_code(setup.create) == "InvalidCloudWatchLogsRoleArnException"


def test_a_logs_role_limited_to_another_stream_is_refused(setup):
    setup.iam.put_role_policy(RoleName=setup.role, PolicyName="streams", PolicyDocument=policy({
        "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"arn:aws:logs:{REGION}:{setup.account}:log-group:other:*"}))
    wait_for_propagation()
    assert error_code(setup.create) == "InvalidCloudWatchLogsRoleArnException"


def test_a_missing_log_group_is_refused(setup):
    wait_for_propagation()
    setup.logs.delete_log_group(logGroupName=setup.group)
    assert error_code(setup.create) == "InvalidCloudWatchLogsLogGroupArnException"


def test_a_bucket_key_without_decrypt_is_refused_and_accepted_without_the_bucket_key(setup):
    wait_for_propagation()
    setup.kms.put_key_policy(KeyId=setup.key, PolicyName="default", Policy=key_policy(setup.account, setup.arn, decrypt=False))
    assert error_code(setup.create) == "InsufficientEncryptionPolicyException"
    setup.s3.put_bucket_encryption(Bucket=setup.bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": setup.key},
        "BucketKeyEnabled": False}]})
    assert setup.create()["TrailARN"] == setup.arn


def test_an_encryption_context_of_another_trail_is_refused(setup):
    wait_for_propagation()
    other = setup.arn.replace(setup.name, "someone-else")
    setup.kms.put_key_policy(KeyId=setup.key, PolicyName="default", Policy=key_policy(setup.account, other))
    assert error_code(setup.create) == "InsufficientEncryptionPolicyException"


def test_cloudtrails_key_requests_carry_no_source_account(setup):
    # CloudTrail's key-policy page documents aws:SourceArn and the encryption context only.
    wait_for_propagation()
    doc = json.loads(key_policy(setup.account, setup.arn))
    for statement in doc["Statement"][1:]:
        statement["Condition"].setdefault("StringEquals", {})["aws:SourceAccount"] = setup.account
    setup.kms.put_key_policy(KeyId=setup.key, PolicyName="default", Policy=json.dumps(doc))
    assert error_code(setup.create) == "InsufficientEncryptionPolicyException"
    setup.kms.put_key_policy(KeyId=setup.key, PolicyName="default", Policy=key_policy(setup.account, setup.arn))
    assert setup.create()["TrailARN"] == setup.arn


def test_a_key_policy_tied_to_the_organization_is_accepted_only_for_it(setup, org):
    # CloudTrail's calls to KMS carry aws:SourceOrgID like its calls to S3 do (IAM's global
    # condition keys: set for a service principal acting for a resource in an organization).
    wait_for_propagation()
    setup.kms.put_key_policy(KeyId=setup.key, PolicyName="default",
                             Policy=org_key_policy(setup.account, "o-someoneelse", setup.name))
    assert error_code(setup.create) == "InsufficientEncryptionPolicyException"
    setup.kms.put_key_policy(KeyId=setup.key, PolicyName="default",
                             Policy=org_key_policy(setup.account, org["id"], setup.name))
    assert setup.create()["TrailARN"] == setup.arn


def test_a_key_of_another_region_is_refused(setup, emulator):
    wait_for_propagation()
    elsewhere = emulator.client("kms", region="us-east-1").create_key()["KeyMetadata"]["Arn"]
    assert error_code(lambda: setup.create(KmsKeyId=elsewhere)) == "KmsKeyNotFoundException"


def test_a_bucket_policy_for_another_prefix_or_trail_is_refused(setup):
    wait_for_propagation()
    setup.s3.put_bucket_policy(Bucket=setup.bucket, Policy=bucket_policy(setup.bucket, "999999999999", setup.arn))
    assert error_code(setup.create) == "InsufficientS3BucketPolicyException"
    other = setup.arn.replace(setup.name, "someone-else")
    setup.s3.put_bucket_policy(Bucket=setup.bucket, Policy=bucket_policy(setup.bucket, setup.account, other))
    assert error_code(setup.create) == "InsufficientS3BucketPolicyException"


def test_update_trail_is_checked_like_create(setup):
    wait_for_propagation()
    setup.create()
    setup.kms.put_key_policy(KeyId=setup.key, PolicyName="default", Policy=key_policy(setup.account, setup.arn, decrypt=False))
    assert error_code(lambda: setup.ct.update_trail(Name=setup.name, KmsKeyId=setup.key)) == "InsufficientEncryptionPolicyException"


def test_reads_accept_a_multi_region_trail_arn_from_any_region(setup, emulator):
    wait_for_propagation()
    setup.create()
    elsewhere = emulator.client("cloudtrail", region="us-east-1")
    assert elsewhere.get_trail(Name=setup.arn)["Trail"]["TrailARN"] == setup.arn
    assert "IsLogging" in elsewhere.get_trail_status(Name=setup.arn)
    assert elsewhere.get_event_selectors(TrailName=setup.arn)["TrailARN"] == setup.arn


def test_multi_region_trails_count_against_every_region(emulator, org):
    account = org["member"]
    ct_home = emulator.assume("cloudtrail", account)
    s3 = emulator.assume("s3", account)
    bucket = unique("quota")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": {"Service": CT}, "Action": ["s3:GetBucketAcl", "s3:PutObject"],
         "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}))
    for i in range(5):
        ct_home.create_trail(Name=f"quota-{i}", S3BucketName=bucket, IsMultiRegionTrail=True)
    # Five shadow trails already count in us-east-1, where no trail has its home.
    other_region = emulator.assume("cloudtrail", account, region="us-east-1")
    code = error_code(lambda: other_region.create_trail(Name="one-too-many", S3BucketName=bucket))
    assert code == "MaximumNumberOfTrailsExceededException"


def topic_policy(topic_arn, condition):
    return policy({"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                   "Action": "SNS:Publish", "Resource": topic_arn, "Condition": condition})


def test_a_notification_topic_must_let_cloudtrail_publish_for_the_trail(setup, emulator):
    wait_for_propagation()
    sns = emulator.client("sns")
    topic = sns.create_topic(Name=unique("deliveries"))["TopicArn"]
    # moto's default topic policy lets only the owner publish.
    assert error_code(lambda: setup.create(SnsTopicName=topic)) == "InsufficientSnsTopicPolicyException"
    other = "arn:aws:cloudtrail:eu-west-1:123456789012:trail/someone-elses"
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy",
                             AttributeValue=topic_policy(topic, {"StringEquals": {"aws:SourceArn": other}}))
    assert error_code(lambda: setup.create(SnsTopicName=topic)) == "InsufficientSnsTopicPolicyException"
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy",
                             AttributeValue=topic_policy(topic, {"StringEquals": {"aws:SourceArn": setup.arn}}))
    setup.create(SnsTopicName=topic)
    described = setup.ct.describe_trails(trailNameList=[setup.name])["trailList"][0]
    assert described["SnsTopicARN"] == topic


def test_a_topic_of_another_account_is_named_by_arn_and_hears_of_each_delivery(setup, emulator, org):
    from test_delivery import until

    wait_for_propagation()
    sns = emulator.assume("sns", org["member"])
    topic = sns.create_topic(Name=unique("central"))["TopicArn"]
    assert f":{org['member']}:" in topic
    # A policy on a key CloudTrail's SNS page does not document is refused: only aws:SourceArn.
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=topic_policy(
        topic, {"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:*:*:trail/*"},
                "StringEquals": {"aws:SourceOrgID": org["id"]}}))
    with pytest.raises(ClientError) as refused:
        setup.create(SnsTopicName=topic)
    assert refused.value.response["Error"]["Code"] == "InsufficientSnsTopicPolicyException"
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=topic_policy(
        topic, {"ArnLike": {"aws:SourceArn": f"arn:aws:cloudtrail:*:{setup.account}:trail/*"}}))
    subscription = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="deliveries@example.com")
    emulator.control(f"sns/confirm?topic={topic}", {})
    assert subscription["SubscriptionArn"]
    setup.create(SnsTopicName=topic)
    setup.ct.start_logging(Name=setup.name)
    emulator.control("deliver", {})
    sent = until(lambda: emulator.control(f"sns/notifications?topic={topic}")["notifications"], 5.0)
    notice = json.loads(sent[0]["message"])
    assert notice["s3Bucket"] == setup.bucket
    assert notice["s3ObjectKey"][0].startswith(f"AWSLogs/{setup.account}/CloudTrail/")


def test_a_topic_policy_written_a_moment_ago_is_not_seen_by_cloudtrail_yet(setup, emulator):
    import time

    wait_for_propagation()
    sns = emulator.client("sns")
    topic = sns.create_topic(Name=unique("lagging"))["TopicArn"]
    emulator.control("settings", {"topic_policy_propagation": 1.5})
    try:
        sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=topic_policy(
            topic, {"ArnLike": {"aws:SourceArn": f"arn:aws:cloudtrail:*:{setup.account}:trail/*"}}))
        with pytest.raises(ClientError) as refused:
            setup.create(SnsTopicName=topic)
        assert refused.value.response["Error"]["Code"] == "InsufficientSnsTopicPolicyException"
        time.sleep(1.6)
        setup.create(SnsTopicName=topic)
    finally:
        emulator.control("settings", {"topic_policy_propagation": 0})
