"""AssumeRole as AWS answers it: roles must exist, trust the caller and have propagated."""

import time

import pytest
from botocore.exceptions import ClientError

from conftest import policy, unique, wait_for_propagation


def code_of(call):
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


def assume(sts, arn, **kwargs):
    return sts.assume_role(RoleArn=arn, RoleSessionName="pytest", **kwargs)


def test_a_role_that_does_not_exist_cannot_be_assumed(emulator, org):
    arn = f"arn:aws:iam::{org['member']}:role/NoSuchRole"
    assert code_of(lambda: assume(emulator.client("sts"), arn)) == "AccessDenied"


def test_a_new_role_needs_time_and_a_trust_that_names_the_caller(emulator, org):
    iam = emulator.assume("iam", org["member"])
    name = unique("role")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=policy({
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "shared-words"}}}))["Role"]["Arn"]
    sts = emulator.client("sts")
    assert code_of(lambda: assume(sts, arn, ExternalId="shared-words")) == "AccessDenied"
    wait_for_propagation()
    assert code_of(lambda: assume(sts, arn)) == "AccessDenied"
    assert code_of(lambda: assume(sts, arn, ExternalId="other")) == "AccessDenied"
    assert assume(sts, arn, ExternalId="shared-words")["AssumedRoleUser"]["Arn"].endswith(f"{name}/pytest")


def test_role_chaining_caps_the_duration_at_an_hour(emulator, org):
    chained = emulator.assume("sts", org["member"])
    arn = f"arn:aws:iam::{org['member']}:role/OrganizationAccountAccessRole"
    assert code_of(lambda: assume(chained, arn, DurationSeconds=7200)) == "ValidationError"


def test_suspended_and_unfinished_accounts_cannot_be_assumed_into(emulator, org):
    orgs = emulator.client("organizations")
    status = orgs.create_account(AccountName="closing", Email=f"{unique('closing')}@example.com")["CreateAccountStatus"]
    while "AccountId" not in status:
        time.sleep(0.1)
        status = orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
    arn = f"arn:aws:iam::{status['AccountId']}:role/OrganizationAccountAccessRole"
    assume(emulator.client("sts"), arn)
    orgs.close_account(AccountId=status["AccountId"])
    assert orgs.describe_account(AccountId=status["AccountId"])["Account"]["Status"] == "SUSPENDED"
    assert code_of(lambda: assume(emulator.client("sts"), arn)) == "AccessDenied"


def test_create_account_uses_the_requested_role_name(emulator, org):
    orgs = emulator.client("organizations")
    status = orgs.create_account(AccountName="custom", Email=f"{unique('custom')}@example.com", RoleName="PlatformAccess")["CreateAccountStatus"]
    assert status["State"] == "IN_PROGRESS" and "AccountId" not in status
    while status["State"] != "SUCCEEDED":
        time.sleep(0.1)
        status = orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
    sts = emulator.client("sts")
    assume(sts, f"arn:aws:iam::{status['AccountId']}:role/PlatformAccess")
    assert code_of(lambda: assume(sts, f"arn:aws:iam::{status['AccountId']}:role/OrganizationAccountAccessRole")) == "AccessDenied"


def test_an_account_being_created_is_not_listed_yet(emulator, org):
    orgs = emulator.client("organizations")
    email = f"{unique('listed')}@example.com"
    status = orgs.create_account(AccountName="listed", Email=email)["CreateAccountStatus"]

    def emails():
        return {a["Email"] for page in orgs.get_paginator("list_accounts").paginate() for a in page["Accounts"]}

    assert email not in emails()
    while status["State"] != "SUCCEEDED":
        time.sleep(0.1)
        status = orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
    assert email in emails()


def test_a_session_policy_narrows_the_session_and_the_refusal_is_recorded(emulator, org):
    arn = f"arn:aws:iam::{org['member']}:role/OrganizationAccountAccessRole"
    deny_all = policy({"Effect": "Deny", "Action": "*", "Resource": "*"})
    creds = assume(emulator.client("sts"), arn, Policy=deny_all)["Credentials"]
    narrowed = emulator.client("cloudtrail", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                               token=creds["SessionToken"])
    assert code_of(narrowed.describe_trails) == "AccessDeniedException"
    # The same role without a session policy is not narrowed.
    emulator.assume("cloudtrail", org["member"]).describe_trails()
    records = [r for r in emulator.control(f"events?account={org['member']}")["records"]
               if r.get("eventName") == "DescribeTrails" and r.get("errorCode")]
    assert records and records[-1]["errorCode"] == "AccessDeniedException"
