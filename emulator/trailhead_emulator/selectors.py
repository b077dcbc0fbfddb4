"""Event and Insights selectors as CloudTrail keeps them (moto merges where AWS replaces):

- PutEventSelectors takes EventSelectors or AdvancedEventSelectors, never both
  (InvalidParameterCombinationException), and either one replaces whatever the trail had.
- Advanced selectors: `eventCategory` is required; `eventCategory`, `resources.type` and
  `readOnly` take only `Equals`; data selectors need `resources.type`; at most 500 values across
  the trail's selectors (InvalidEventSelectorsException).
- PutInsightSelectors replaces the trail's Insights types (an empty list turns Insights off);
  only ApiCallRateInsight and ApiErrorRateInsight exist, and each needs the management events it
  analyses: write events for ApiCallRateInsight, read or write for ApiErrorRateInsight
  (InvalidInsightSelectorsException).
- GetInsightSelectors on a trail without Insights answers InsightNotEnabledException.
- DescribeTrails reports HasCustomEventSelectors and HasInsightSelectors as they are.
Sources: docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_PutEventSelectors.html,
API_PutInsightSelectors.html, API_GetInsightSelectors.html,
userguide/filtering-data-events.html, userguide/logging-insights-events-with-cloudtrail.html.
The error code for Insights without the management events they need is unconfirmed.
"""

from .errors import json_error

EQUALS_ONLY = ("eventCategory", "resources.type", "readOnly")
OPERATORS = ("Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith")
MAX_VALUES = 500
INSIGHT_TYPES = ("ApiCallRateInsight", "ApiErrorRateInsight")


def _invalid(message):
    return json_error("InvalidEventSelectorsException", message)


def check_advanced(selectors):
    """None, or the error AWS answers for these advanced event selectors."""
    total = 0
    for s in selectors:
        fields = {f.get("Field"): f for f in s.get("FieldSelectors", [])}
        if "eventCategory" not in fields:
            return _invalid("eventCategory is a required field selector")
        for name, f in fields.items():
            used = [op for op in OPERATORS if f.get(op)]
            total += sum(len(f[op]) for op in used)
            if not used:
                return _invalid(f"field selector {name} has no operator")
            if name in EQUALS_ONLY and used != ["Equals"]:
                return _invalid(f"{name} supports only the Equals operator")
        if fields["eventCategory"].get("Equals") == ["Data"] and "resources.type" not in fields:
            return _invalid("a data event selector needs resources.type")
    if total > MAX_VALUES:
        return _invalid(f"{total} values across the selectors; at most {MAX_VALUES}")
    return None


def _management_kinds(trail):
    """Which of read and write management events the trail records."""
    advanced = trail.advanced_event_selectors or []
    if advanced:
        kinds = set()
        for s in advanced:
            fields = {f.get("Field"): f for f in s.get("FieldSelectors", [])}
            if fields.get("eventCategory", {}).get("Equals") != ["Management"]:
                continue
            read_only = fields.get("readOnly", {}).get("Equals")
            kinds |= {"read", "write"} if not read_only else {"read" if read_only == ["true"] else "write"}
        return kinds
    basic = trail.event_selectors or [{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    kinds = set()
    for s in basic:
        if not s.get("IncludeManagementEvents", True):
            continue
        kind = s.get("ReadWriteType", "All")
        kinds |= {"read", "write"} if kind == "All" else {"read" if kind == "ReadOnly" else "write"}
    return kinds


def check_insights(trail, insight_selectors):
    types = [s.get("InsightType") for s in insight_selectors]
    unknown = [t for t in types if t not in INSIGHT_TYPES]
    if unknown:
        return json_error("InvalidInsightSelectorsException",
                          f"{unknown[0]} is not a valid InsightType; use {' or '.join(INSIGHT_TYPES)}")
    kinds = _management_kinds(trail)
    if "ApiCallRateInsight" in types and "write" not in kinds:
        return json_error("InvalidInsightSelectorsException",
                          "ApiCallRateInsight needs a trail that logs write management events")
    if "ApiErrorRateInsight" in types and not kinds:
        return json_error("InvalidInsightSelectorsException",
                          "ApiErrorRateInsight needs a trail that logs management events")
    return None


def install():
    from moto.cloudtrail.models import CloudTrailBackend, Trail

    def put_event_selectors(self, event_selectors, advanced_event_selectors):
        if event_selectors and advanced_event_selectors:
            raise json_error("InvalidParameterCombinationException",
                             "EventSelectors and AdvancedEventSelectors cannot both be set")
        if advanced_event_selectors:
            error = check_advanced(advanced_event_selectors)
            if error is not None:
                raise error
        self.event_selectors = list(event_selectors or [])
        self.advanced_event_selectors = list(advanced_event_selectors or [])

    Trail.put_event_selectors = put_event_selectors

    def put_insight_selectors(self, insight_selectors):
        error = check_insights(self, insight_selectors or [])
        if error is not None:
            raise error
        self.insight_selectors = list(insight_selectors or [])

    Trail.put_insight_selectors = put_insight_selectors

    original_description = Trail.description

    def description(self, include_region=False):
        desc = original_description(self, include_region)
        desc["HasCustomEventSelectors"] = bool(self.event_selectors or self.advanced_event_selectors)
        desc["HasInsightSelectors"] = bool(self.insight_selectors)
        return desc

    Trail.description = description

    original_get_insights = CloudTrailBackend.get_insight_selectors

    def get_insight_selectors(self, trail_name):
        arn, selectors = original_get_insights(self, trail_name)
        if not selectors:
            raise json_error("InsightNotEnabledException",
                             f"Trail {trail_name} does not have Insights enabled")
        return arn, selectors

    CloudTrailBackend.get_insight_selectors = get_insight_selectors
