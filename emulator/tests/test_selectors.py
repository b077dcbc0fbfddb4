"""Event and Insights selectors are kept as CloudTrail keeps them, and data-event selectors
decide what a trail delivers: an object write in the account arrives, a write into the excluded
archive bucket does not."""

import json

import pytest

from test_delivery import objects, read, trail, until  # noqa: F401 (the fixture)

MANAGEMENT = {"Name": "m", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}


def s3_objects(excluded):
    return {"Name": "s3", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "readOnly", "Equals": ["false"]},
        {"Field": "resources.ARN", "NotStartsWith": excluded},
    ]}


def test_either_kind_of_selector_replaces_the_other(emulator, trail):
    ct, name = trail.ct, trail.name
    ct.put_event_selectors(TrailName=name, AdvancedEventSelectors=[MANAGEMENT])
    got = ct.get_event_selectors(TrailName=name)
    assert got.get("AdvancedEventSelectors") and not got.get("EventSelectors")
    ct.put_event_selectors(TrailName=name, EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}])
    got = ct.get_event_selectors(TrailName=name)
    assert got.get("EventSelectors") and not got.get("AdvancedEventSelectors")
    described = ct.describe_trails(trailNameList=[name])["trailList"][0]
    assert described["HasCustomEventSelectors"] is True


@pytest.mark.parametrize("selector, words", [
    ({"Name": "x", "FieldSelectors": [{"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}, "eventCategory is a required"),
    ({"Name": "x", "FieldSelectors": [{"Field": "eventCategory", "StartsWith": ["Man"]}]}, "only the Equals operator"),
    ({"Name": "x", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}, "needs resources.type"),
])
def test_malformed_advanced_selectors_are_refused(emulator, trail, selector, words):
    with pytest.raises(trail.ct.exceptions.ClientError) as refused:
        trail.ct.put_event_selectors(TrailName=trail.name, AdvancedEventSelectors=[selector])
    assert refused.value.response["Error"]["Code"] == "InvalidEventSelectorsException"
    assert words in refused.value.response["Error"]["Message"]


def test_insights_are_replaced_not_merged_and_need_management_events(emulator, trail):
    ct, name = trail.ct, trail.name
    with pytest.raises(ct.exceptions.ClientError) as off:
        ct.get_insight_selectors(TrailName=name)
    assert off.value.response["Error"]["Code"] == "InsightNotEnabledException"
    ct.put_insight_selectors(TrailName=name, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    ct.put_insight_selectors(TrailName=name, InsightSelectors=[{"InsightType": "ApiErrorRateInsight"}])
    got = ct.get_insight_selectors(TrailName=name)["InsightSelectors"]
    assert got == [{"InsightType": "ApiErrorRateInsight"}]
    assert ct.describe_trails(trailNameList=[name])["trailList"][0]["HasInsightSelectors"] is True
    ct.put_insight_selectors(TrailName=name, InsightSelectors=[])
    assert ct.describe_trails(trailNameList=[name])["trailList"][0]["HasInsightSelectors"] is False

    ct.put_event_selectors(TrailName=name, EventSelectors=[{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}])
    with pytest.raises(ct.exceptions.ClientError) as refused:
        ct.put_insight_selectors(TrailName=name, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    assert refused.value.response["Error"]["Code"] == "InvalidInsightSelectorsException"


def test_an_object_write_is_delivered_and_a_write_into_the_excluded_bucket_is_not(emulator, trail):
    setup = trail
    excluded = f"arn:aws:s3:::{setup.bucket}/"
    setup.ct.put_event_selectors(TrailName=setup.name, AdvancedEventSelectors=[MANAGEMENT, s3_objects([excluded])])
    watched = f"watched-{setup.name}".lower()[:60]
    setup.s3.create_bucket(Bucket=watched, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    setup.s3.put_object(Bucket=watched, Key="invoice.txt", Body=b"1")
    setup.s3.put_object(Bucket=setup.bucket, Key="by-hand.txt", Body=b"1")

    def data_events():
        found = [r for k in objects(setup) for r in json.loads(read(setup, k))["Records"]
                 if r.get("eventCategory") == "Data"]
        return found if any(r["requestParameters"].get("key") == "invoice.txt" for r in found) else None

    found = until(data_events, 10.0)
    keys = {(r["requestParameters"]["bucketName"], r["requestParameters"].get("key")) for r in found}
    assert (watched, "invoice.txt") in keys
    assert not any(bucket == setup.bucket for bucket, _ in keys), keys
