"""MFA Delete: root only, with a valid code, never beside a lifecycle configuration."""

import pytest
from botocore.exceptions import ClientError

from conftest import REGION, unique


def versioned_bucket(s3):
    bucket = unique("mfa")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return bucket


def enable(s3, bucket, mfa_header):
    kwargs = {"MFA": mfa_header} if mfa_header else {}
    return s3.put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"}, **kwargs
    )


def code_of(call):
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


@pytest.fixture
def member_bucket(emulator, org):
    account = org["member"]
    s3 = emulator.assume("s3", account)
    return account, s3, versioned_bucket(s3)


def current_header(emulator, account):
    answer = emulator.control(f"mfa-code?account={account}")
    return f"{answer['serial']} {answer['code']}"


def test_only_the_owners_root_with_a_valid_code_enables_it_and_it_reads_back(emulator, member_bucket):
    account, role_s3, bucket = member_bucket
    assert role_s3.get_bucket_versioning(Bucket=bucket).get("MFADelete") == "Disabled"
    header = current_header(emulator, account)
    assert code_of(lambda: enable(role_s3, bucket, header))[0] == "AccessDenied"
    root = emulator.root("s3", account)
    assert code_of(lambda: enable(root, bucket, None))[0] == "AccessDenied"
    serial = header.split()[0]
    assert code_of(lambda: enable(root, bucket, f"{serial} 000000" if not header.endswith("000000") else f"{serial} 111111"))[0] == "AccessDenied"
    other_root = emulator.root("s3", "123456789012")
    assert code_of(lambda: enable(other_root, bucket, header))[0] == "AccessDenied"
    enable(root, bucket, current_header(emulator, account))
    assert role_s3.get_bucket_versioning(Bucket=bucket) ["MFADelete"] == "Enabled"


def test_the_seed_gives_the_same_codes_as_the_server(emulator, org):
    import base64

    from trailhead_emulator.mfa import totp

    account = org["member"]
    device = emulator.control(f"mfa?account={account}")
    mine = totp(base64.b32decode(device["seed_base32"]))
    assert mine == emulator.control(f"mfa-code?account={account}")["code"]


def test_lifecycle_and_mfa_delete_exclude_each_other_both_ways(emulator, member_bucket):
    account, role_s3, bucket = member_bucket
    rules = {"Rules": [{"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 30}}]}
    role_s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=rules)
    root = emulator.root("s3", account)
    code, message = code_of(lambda: enable(root, bucket, current_header(emulator, account)))
    assert code == "InvalidBucketState"
    assert "lifecycle" in message
    role_s3.delete_bucket_lifecycle(Bucket=bucket)
    enable(root, bucket, current_header(emulator, account))
    assert code_of(lambda: role_s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=rules))[0] == "InvalidBucketState"
