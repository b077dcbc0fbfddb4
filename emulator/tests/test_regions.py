"""Opt-in Regions: refused until enabled for the account, and only for that account."""

import pytest
from botocore.exceptions import ClientError


def code_of(call):
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


def test_an_opt_in_region_is_refused_until_the_account_enables_it(emulator, org):
    member = org["member"]
    trails = emulator.assume("cloudtrail", member, region="af-south-1")
    assert code_of(trails.describe_trails) == "UnrecognizedClientException"
    topics = emulator.assume("sns", member, region="af-south-1")
    assert code_of(topics.list_topics) == "InvalidClientTokenId"
    # Regions enabled by default answer.
    assert "trailList" in emulator.assume("cloudtrail", member, region="eu-west-1").describe_trails()

    emulator.control("regions", {"account": member, "region": "af-south-1"})
    assert "trailList" in trails.describe_trails()
    assert emulator.control(f"regions?account={member}")["enabled"] == ["af-south-1"]
    # Another account's enabling counts for nobody else: the management account is still refused.
    management = emulator.client("cloudtrail", region="af-south-1")
    assert code_of(management.describe_trails) == "UnrecognizedClientException"


def test_only_opt_in_regions_can_be_enabled(emulator, org):
    with pytest.raises(Exception):
        emulator.control("regions", {"account": org["member"], "region": "eu-west-1"})
