"""Identity policies of roles tagged trailhead:enforce-identity-policy, judged by action, resource and condition."""

import pytest
from botocore.exceptions import ClientError

from conftest import REGION, policy, unique, wait_for_propagation


def code_of(call):
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


def enforced_role(emulator, account, statements, enforce=True):
    iam = emulator.assume("iam", account)
    name = unique("least")
    iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}),
        Tags=[{"Key": "trailhead:enforce-identity-policy", "Value": "true" if enforce else "false"}],
    )
    iam.put_role_policy(RoleName=name, PolicyName="only", PolicyDocument=policy(*statements))
    wait_for_propagation()
    return name


def test_an_enforced_role_may_make_only_the_calls_its_policies_allow(emulator, org):
    account = org["member"]
    bucket = unique("enforced")
    emulator.assume("s3", account).create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    name = enforced_role(emulator, account, [
        {"Effect": "Allow", "Action": ["cloudtrail:DescribeTrails", "kms:List*"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["s3:GetBucketVersioning", "cloudtrail:GetTrailStatus"],
         "Resource": [f"arn:aws:s3:::{bucket}", "arn:aws:cloudtrail:*:*:trail/only-this"]},
        {"Effect": "Deny", "Action": "kms:ListAliases", "Resource": "*"},
    ])
    ct = emulator.assume("cloudtrail", account, role=name)
    assert ct.describe_trails()["trailList"] is not None
    assert code_of(lambda: ct.get_trail_status(Name="x")) == "AccessDeniedException"
    s3 = emulator.assume("s3", account, role=name)
    s3.get_bucket_versioning(Bucket=bucket)
    assert code_of(lambda: s3.get_bucket_policy(Bucket=bucket)) == "AccessDenied"
    assert code_of(lambda: s3.head_bucket(Bucket=bucket)) == "403"
    kms = emulator.assume("kms", account, role=name)
    kms.list_keys()
    assert code_of(kms.list_aliases) == "AccessDeniedException"
    iam = emulator.assume("iam", account, role=name)
    assert code_of(iam.list_roles) == "AccessDenied"


def test_roles_without_the_tag_are_not_judged(emulator, org):
    account = org["member"]
    name = enforced_role(emulator, account, [{"Effect": "Allow", "Action": "cloudtrail:DescribeTrails", "Resource": "*"}], enforce=False)
    # Its policy allows only DescribeTrails, yet other calls go through: moto's behaviour.
    assert "Keys" in emulator.assume("kms", account, role=name).list_keys()


DRILL = "trailhead:drill"


def drill_like_statements():
    tagged = {"Null": {f"aws:ResourceTag/{DRILL}": "false"}}
    tagging = {"Null": {f"aws:RequestTag/{DRILL}": "false"}, "ForAllValues:StringEquals": {"aws:TagKeys": [DRILL]}}
    return [
        {"Effect": "Allow", "Action": ["ec2:CreateVpc"], "Resource": "*", "Condition": tagging},
        {"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*",
         "Condition": dict(tagging, StringEquals={"ec2:CreateAction": ["CreateVpc"]})},
        {"Effect": "Allow", "Action": "ec2:DeleteVpc", "Resource": "*", "Condition": tagged},
        {"Effect": "Allow", "Action": ["kms:CreateKey", "kms:DescribeKey"], "Resource": "*"},
        {"Effect": "Allow", "Action": "kms:TagResource", "Resource": "*", "Condition": tagging},
        {"Effect": "Allow", "Action": "kms:ScheduleKeyDeletion", "Resource": "*", "Condition": tagged},
        {"Effect": "Deny", "Action": ["kms:TagResource", "kms:ScheduleKeyDeletion"], "Resource": "*",
         "Condition": {"Null": {"kms:ResourceAliases": "false"}}},
    ]


def test_tag_conditions_and_tags_on_create_are_judged(emulator, org):
    account = org["member"]
    name = enforced_role(emulator, account, drill_like_statements())
    ec2 = emulator.assume("ec2", account, role=name)
    admin_ec2 = emulator.assume("ec2", account)
    spec = [{"ResourceType": "vpc", "Tags": [{"Key": DRILL, "Value": "run-1"}]}]
    # A create without the tag, or with another tag beside it, is refused.
    assert code_of(lambda: ec2.create_vpc(CidrBlock="10.9.0.0/16")) == "UnauthorizedOperation"
    other = [{"ResourceType": "vpc", "Tags": [{"Key": DRILL, "Value": "x"}, {"Key": "owner", "Value": "y"}]}]
    assert code_of(lambda: ec2.create_vpc(CidrBlock="10.9.0.0/16", TagSpecifications=other)) == "UnauthorizedOperation"
    own = ec2.create_vpc(CidrBlock="10.9.0.0/16", TagSpecifications=spec)["Vpc"]["VpcId"]
    # Someone else's VPC: neither tagged afterwards nor deleted.
    theirs = admin_ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    assert code_of(lambda: ec2.create_tags(Resources=[theirs], Tags=[{"Key": DRILL, "Value": "x"}])) == "UnauthorizedOperation"
    assert code_of(lambda: ec2.delete_vpc(VpcId=theirs)) == "UnauthorizedOperation"
    ec2.delete_vpc(VpcId=own)

    kms = emulator.assume("kms", account, role=name)
    admin_kms = emulator.assume("kms", account)
    key = kms.create_key(Tags=[{"TagKey": DRILL, "TagValue": "run-1"}])["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    # A key with an alias (as trailhead's archive key): not tagged, not deleted.
    archive = admin_kms.create_key()["KeyMetadata"]["KeyId"]
    admin_kms.create_alias(AliasName=unique("alias/archive"), TargetKeyId=archive)
    admin_kms.tag_resource(KeyId=archive, Tags=[{"TagKey": DRILL, "TagValue": "planted"}])
    assert code_of(lambda: kms.tag_resource(KeyId=archive, Tags=[{"TagKey": DRILL, "TagValue": "x"}])) == "AccessDeniedException"
    assert code_of(lambda: kms.schedule_key_deletion(KeyId=archive, PendingWindowInDays=7)) == "AccessDeniedException"
    # An untagged key without alias: not deleted.
    plain = admin_kms.create_key()["KeyMetadata"]["KeyId"]
    assert code_of(lambda: kms.schedule_key_deletion(KeyId=plain, PendingWindowInDays=7)) == "AccessDeniedException"


def test_tags_on_create_need_the_services_tagging_action(emulator, org):
    account = org["member"]
    name = enforced_role(emulator, account, [
        {"Effect": "Allow", "Action": ["ec2:CreateVpc", "kms:CreateKey"], "Resource": "*"},
    ])
    ec2 = emulator.assume("ec2", account, role=name)
    spec = [{"ResourceType": "vpc", "Tags": [{"Key": DRILL, "Value": "run-1"}]}]
    assert code_of(lambda: ec2.create_vpc(CidrBlock="10.7.0.0/16", TagSpecifications=spec)) == "UnauthorizedOperation"
    kms = emulator.assume("kms", account, role=name)
    assert code_of(lambda: kms.create_key(Tags=[{"TagKey": DRILL, "TagValue": "x"}])) == "AccessDeniedException"
    kms.create_key()


def test_a_keys_new_tag_authorizes_only_after_a_while(emulator, org):
    import time

    account = org["member"]
    name = enforced_role(emulator, account, drill_like_statements())
    kms = emulator.assume("kms", account, role=name)
    emulator.control("settings", {"tag_authorization": 1.5})
    try:
        key = kms.create_key(Tags=[{"TagKey": DRILL, "TagValue": "run-1"}])["KeyMetadata"]["KeyId"]
        assert code_of(lambda: kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)) == "AccessDeniedException"
        time.sleep(1.6)
        kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    finally:
        emulator.control("settings", {"tag_authorization": 0})


def test_a_key_policy_that_names_the_role_grants_without_iam(emulator, org):
    account = org["member"]
    name = enforced_role(emulator, account, [
        {"Effect": "Allow", "Action": ["kms:CreateKey", "kms:TagResource"], "Resource": "*"},
    ])
    kms = emulator.assume("kms", account, role=name)
    role_arn = f"arn:aws:iam::{account}:role/{name}"
    root = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}
    own = {"Effect": "Allow", "Principal": {"AWS": role_arn},
           "Action": ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy"], "Resource": "*"}
    key = kms.create_key(Policy=policy(root, own))["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    # The root grant alone leaves it to the role's IAM policy, which allows no deletion.
    other = kms.create_key(Policy=policy(root))["KeyMetadata"]["KeyId"]
    kms.tag_resource(KeyId=other, Tags=[{"TagKey": DRILL, "TagValue": "x"}])
    assert code_of(lambda: kms.schedule_key_deletion(KeyId=other, PendingWindowInDays=7)) == "AccessDeniedException"


def test_create_alias_is_judged_on_the_alias_and_on_the_key(emulator, org):
    account = org["member"]
    ours = unique("ours")
    name = enforced_role(emulator, account, [
        {"Effect": "Allow", "Action": ["kms:CreateKey"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["kms:CreateAlias"], "Resource": f"arn:aws:kms:*:*:alias/{ours}*"},
    ])
    kms = emulator.assume("kms", account, role=name)
    role_arn = f"arn:aws:iam::{account}:role/{name}"
    root = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}
    own = {"Effect": "Allow", "Principal": {"AWS": role_arn}, "Action": ["kms:CreateAlias", "kms:PutKeyPolicy"], "Resource": "*"}
    mine = kms.create_key(Policy=policy(root, own))["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=f"alias/{ours}-a", TargetKeyId=mine)
    # An alias outside the identity policy's resources, even on the role's own key.
    assert code_of(lambda: kms.create_alias(AliasName=f"alias/{unique('theirs')}", TargetKeyId=mine)) == "AccessDeniedException"
    # Someone else's key (its policy leaves it to IAM, which grants CreateAlias on aliases only).
    other = emulator.assume("kms", account).create_key(Policy=policy(root))["KeyMetadata"]["KeyId"]
    assert code_of(lambda: kms.create_alias(AliasName=f"alias/{ours}-b", TargetKeyId=other)) == "AccessDeniedException"


def test_an_explicit_deny_wins_over_a_key_policy_that_names_the_role(emulator, org):
    account = org["member"]
    name = enforced_role(emulator, account, [
        {"Effect": "Allow", "Action": ["kms:CreateKey"], "Resource": "*"},
        {"Effect": "Deny", "Action": ["kms:TagResource"], "Resource": "*"},
    ])
    kms = emulator.assume("kms", account, role=name)
    role_arn = f"arn:aws:iam::{account}:role/{name}"
    root = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}
    own = {"Effect": "Allow", "Principal": {"AWS": role_arn},
           "Action": ["kms:TagResource", "kms:EnableKeyRotation", "kms:PutKeyPolicy"], "Resource": "*"}
    key = kms.create_key(Policy=policy(root, own))["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=key)
    assert code_of(lambda: kms.tag_resource(KeyId=key, Tags=[{"TagKey": "a", "TagValue": "b"}])) == "AccessDeniedException"


def test_identity_policies_are_judged_on_the_resource(emulator, org):
    account = org["member"]
    ours, theirs = unique("ours"), unique("theirs")
    name = enforced_role(emulator, account, [
        {"Effect": "Allow", "Action": ["sns:CreateTopic", "sns:GetTopicAttributes"],
         "Resource": f"arn:aws:sns:*:*:{ours}"},
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:PutRetentionPolicy"],
         "Resource": f"arn:aws:logs:*:*:log-group:/{ours}"},
        {"Effect": "Allow", "Action": ["s3:CreateBucket", "s3:GetBucketVersioning"],
         "Resource": f"arn:aws:s3:::{ours}"},
        {"Effect": "Allow", "Action": ["iam:GetRole"], "Resource": f"arn:aws:iam::*:role/{ours}"},
    ])
    sns = emulator.assume("sns", account, role=name)
    sns.create_topic(Name=ours)
    assert code_of(lambda: sns.create_topic(Name=theirs)) == "AccessDenied"
    logs = emulator.assume("logs", account, role=name)
    logs.create_log_group(logGroupName=f"/{ours}")
    assert code_of(lambda: logs.create_log_group(logGroupName=f"/{theirs}")) == "AccessDeniedException"
    s3 = emulator.assume("s3", account, role=name)
    location = {"LocationConstraint": REGION}
    s3.create_bucket(Bucket=ours, CreateBucketConfiguration=location)
    assert code_of(lambda: s3.create_bucket(Bucket=theirs, CreateBucketConfiguration=location)) == "AccessDenied"
    iam = emulator.assume("iam", account, role=name)
    assert code_of(lambda: iam.get_role(RoleName=theirs)) == "AccessDenied"
