"""The emulator's own policy evaluator, on AWS's documented rules (no server needed)."""

from trailhead_emulator.policy import ALLOW, DENY, NOT_APPLICABLE, Principal, evaluate, wildcard_match

ROLE = Principal.aws("111111111111", "arn:aws:iam::111111111111:role/reader")
CT = Principal.service("cloudtrail.amazonaws.com")


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_wildcards_are_star_and_question_mark_only():
    assert wildcard_match("a*c", "abbbc")
    assert wildcard_match("a?c", "abc")
    assert not wildcard_match("a?c", "abbc")
    assert not wildcard_match("[ab]", "a")
    assert wildcard_match("[ab]", "[ab]")
    assert wildcard_match("S3:Get*", "s3:getobject", ignore_case=True)


def test_explicit_deny_wins_and_nothing_is_not_applicable():
    allow = {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "*"}
    assert evaluate(doc(allow, deny), ROLE, "s3:PutObject", "arn:aws:s3:::b/k") == DENY
    assert evaluate(doc(allow, deny), ROLE, "s3:GetObject", "arn:aws:s3:::b/k") == ALLOW
    assert evaluate(doc(deny), ROLE, "s3:GetObject", "arn:aws:s3:::b/k") == NOT_APPLICABLE


def test_root_principal_names_every_principal_of_the_account():
    statement = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*", "Resource": "*"}
    assert evaluate(doc(statement), ROLE, "kms:Decrypt", "k") == ALLOW
    other = Principal.aws("222222222222", "arn:aws:iam::222222222222:role/reader")
    assert evaluate(doc(statement), other, "kms:Decrypt", "k") == NOT_APPLICABLE
    assert evaluate(doc(statement), CT, "kms:Decrypt", "k") == NOT_APPLICABLE


def test_missing_keys_fail_positive_operators_and_satisfy_negated_and_if_exists():
    def decision(operator, context):
        statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
                     "Condition": {operator: {"aws:SourceArn": "arn:aws:cloudtrail:*:1:trail/t"}}}
        return evaluate(doc(statement), CT, "s3:GetObject", "r", context)

    assert decision("StringEquals", {}) == NOT_APPLICABLE
    assert decision("StringNotEquals", {}) == ALLOW
    assert decision("StringEqualsIfExists", {}) == ALLOW
    assert decision("ArnLike", {"aws:sourcearn": "arn:aws:cloudtrail:eu-west-1:1:trail/t"}) == ALLOW
    assert decision("ArnLike", {"aws:SourceArn": "arn:aws:cloudtrail:eu-west-1:2:trail/t"}) == NOT_APPLICABLE
    assert decision("ArnNotLike", {"aws:SourceArn": "arn:aws:cloudtrail:eu-west-1:2:trail/t"}) == ALLOW


def test_null_and_bool():
    statement = {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    assert evaluate(doc(statement), ROLE, "s3:GetObject", "r", {"aws:SecureTransport": "false"}) == DENY
    assert evaluate(doc(statement), ROLE, "s3:GetObject", "r", {"aws:SecureTransport": "true"}) == NOT_APPLICABLE
    null = {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
            "Condition": {"Null": {"kms:EncryptionContext:aws:cloudtrail:arn": "false"}}}
    assert evaluate(doc(null), ROLE, "kms:Decrypt", "k", {}) == NOT_APPLICABLE
    assert evaluate(doc(null), ROLE, "kms:Decrypt", "k", {"kms:EncryptionContext:aws:cloudtrail:arn": "x"}) == ALLOW


def test_set_operators():
    def decision(operator, values):
        statement = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
                     "Condition": {operator: {"aws:TagKeys": ["a", "b"]}}}
        return evaluate(doc(statement), ROLE, "x:Y", "r", {"aws:TagKeys": values})

    assert decision("ForAnyValue:StringEquals", ["a", "z"]) == ALLOW
    assert decision("ForAnyValue:StringEquals", ["z"]) == NOT_APPLICABLE
    assert decision("ForAllValues:StringEquals", ["a", "b"]) == ALLOW
    assert decision("ForAllValues:StringEquals", ["a", "z"]) == NOT_APPLICABLE
    assert decision("ForAllValues:StringEquals", []) == ALLOW


def test_not_action_and_not_resource():
    statement = {"Effect": "Deny", "Principal": "*", "NotAction": "s3:Get*", "NotResource": "arn:aws:s3:::b/public/*"}
    assert evaluate(doc(statement), ROLE, "s3:PutObject", "arn:aws:s3:::b/private/k") == DENY
    assert evaluate(doc(statement), ROLE, "s3:GetObject", "arn:aws:s3:::b/private/k") == NOT_APPLICABLE
    assert evaluate(doc(statement), ROLE, "s3:PutObject", "arn:aws:s3:::b/public/k") == NOT_APPLICABLE
