"""The emulator's own filter-pattern matcher against AWS's documented examples (the vector file
trailhead's engine is tested with too; the two implementations share no code)."""

import json
import os

import pytest

from trailhead_emulator.matcher import Invalid, Unsupported, compile_pattern

VECTORS = os.path.join(os.path.dirname(__file__), "..", "..", "crates", "alarms", "tests", "data",
                       "filter_vectors_public.json")


def vectors():
    with open(VECTORS) as f:
        return json.load(f)


def test_every_json_and_text_vector_gives_the_documented_answer():
    checked, wrong = 0, []
    for v in vectors():
        message = v["event"] if isinstance(v["event"], str) else json.dumps(v["event"])
        if v["pattern"].strip().startswith("["):
            continue
        checked += 1
        if compile_pattern(v["pattern"])(message) != v["matches"]:
            wrong.append(f'{v["id"]}: {v["pattern"]}')
    assert checked >= 90 and not wrong, wrong


def test_space_delimited_patterns_are_refused_rather_than_guessed():
    delimited = [v for v in vectors() if v["pattern"].strip().startswith("[")]
    assert delimited
    for v in delimited:
        with pytest.raises(Unsupported):
            compile_pattern(v["pattern"])


@pytest.mark.parametrize("pattern", ["{ $.a = }", "{ $.a = 1", "{ ($.a = 1 }", "{ $.a > abc }"])
def test_malformed_json_patterns_are_invalid(pattern):
    with pytest.raises(Invalid):
        compile_pattern(pattern)(json.dumps({"a": 1}))


def test_cis_root_pattern_tells_root_from_a_service_acting_for_it():
    root = compile_pattern('{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }')
    assert root(json.dumps({"userIdentity": {"type": "Root"}, "eventType": "AwsApiCall"}))
    assert not root(json.dumps({"userIdentity": {"type": "Root", "invokedBy": "s3.amazonaws.com"}, "eventType": "AwsApiCall"}))
    assert not root(json.dumps({"userIdentity": {"type": "Root"}, "eventType": "AwsServiceEvent"}))
