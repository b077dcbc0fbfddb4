"""Identity policies of roles tagged trailhead:enforce-identity-policy, judged by action."""

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
        {"Effect": "Allow", "Action": ["cloudtrail:DescribeTrails", "s3:GetBucketVersioning", "kms:List*"],
         "Resource": "arn:aws:cloudtrail:*:*:trail/only-this"},
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
