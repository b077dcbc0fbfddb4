"""An IAM policy evaluator, written for the emulator and independently of `crates/policies`.

It answers one question the way AWS documents it: does this policy allow, deny, or say nothing
about this request? A differential test runs it beside trailhead's own evaluator; where the two
disagree, one of them is wrong about AWS.

Rules (docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html and
reference_policies_elements_condition_operators.html):
- a statement matches when its action, resource, principal and every condition match;
- an explicit Deny in any matching statement wins over every Allow;
- conditions: AND across operators and keys, OR across one key's values;
- a key absent from the request fails a positive operator, satisfies a negated one
  (String/Arn "Not" operators), and satisfies any `...IfExists` operator;
- `ForAnyValue:` needs one request value to match; `ForAllValues:` needs every request value to
  match (and holds when the key is absent);
- wildcards: `*` any run of characters, `?` one character, in actions (case-insensitive),
  resources and the `Like` operators; ARN operators compare the six ARN fields one by one.
"""

import functools
import json

ALLOW = "Allow"
DENY = "Deny"
NOT_APPLICABLE = "NotApplicable"


class Principal:
    """Who makes the request: a service, an IAM principal of an account, or nobody."""

    def __init__(self, kind, name="", account="", arn=""):
        self.kind = kind  # "service" | "aws" | "anonymous"
        self.name = name
        self.account = account
        self.arn = arn

    @classmethod
    def service(cls, name):
        return cls("service", name=name)

    @classmethod
    def aws(cls, account, arn):
        return cls("aws", account=account, arn=arn)

    @classmethod
    def anonymous(cls):
        return cls("anonymous")


def wildcard_match(pattern, text, ignore_case=False):
    """`*` and `?` globbing with no other special characters (unlike fnmatch's `[`)."""
    if ignore_case:
        pattern, text = pattern.lower(), text.lower()
    p = t = 0
    star_p, star_t = -1, 0
    while t < len(text):
        if p < len(pattern) and (pattern[p] == "?" or pattern[p] == text[t]):
            p += 1
            t += 1
        elif p < len(pattern) and pattern[p] == "*":
            star_p, star_t = p, t
            p += 1
        elif star_p >= 0:
            p = star_p + 1
            star_t += 1
            t = star_t
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)


def arn_match(pattern, arn):
    pattern_fields = pattern.split(":", 5)
    arn_fields = arn.split(":", 5)
    if len(pattern_fields) != 6 or len(arn_fields) != 6:
        return False
    return all(wildcard_match(p, a) for p, a in zip(pattern_fields, arn_fields))


def _listify(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _as_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_BASE_TESTS = {
    "StringEquals": lambda want, got: want == got,
    "StringEqualsIgnoreCase": lambda want, got: want.lower() == got.lower(),
    "StringLike": lambda want, got: wildcard_match(want, got),
    "ArnEquals": arn_match,
    "ArnLike": arn_match,
    "Bool": lambda want, got: want.lower() == got.lower(),
}

_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


class UnsupportedOperator(ValueError):
    pass


def _single_value_condition(operator, wanted, present):
    """One operator (without set qualifier) against the request's values of one key."""
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    if base == "Null":
        # Null: "true" asks for the key to be absent, "false" for it to be present.
        return any((w.lower() == "true") == (not present) for w in wanted)
    if not present:
        return if_exists or base in _NEGATED
    if base in _NEGATED:
        test = _BASE_TESTS[_NEGATED[base]]
        return not any(test(w, v) for w in wanted for v in present)
    test = _BASE_TESTS.get(base)
    if test is None:
        raise UnsupportedOperator(operator)
    return any(test(w, v) for w in wanted for v in present)


def condition_holds(operator, wanted, present):
    wanted = [_as_text(w) for w in _listify(wanted)]
    present = [_as_text(v) for v in present]
    if operator.startswith("ForAnyValue:"):
        inner = operator.split(":", 1)[1]
        return any(_single_value_condition(inner, wanted, [v]) for v in present)
    if operator.startswith("ForAllValues:"):
        inner = operator.split(":", 1)[1]
        return all(_single_value_condition(inner, wanted, [v]) for v in present)
    return _single_value_condition(operator, wanted, present)


def _principal_entry_matches(entry, who):
    if entry == "*":
        return True
    if not isinstance(entry, dict):
        return False
    if who.kind == "service":
        return who.name in _listify(entry.get("Service"))
    if who.kind == "aws":
        for ident in _listify(entry.get("AWS")):
            if ident in ("*", who.account, who.arn):
                return True
            # `arn:<p>:iam::<account>:root` names the whole account.
            if ident.endswith(":root") and ident.split(":")[4:5] == [who.account]:
                return True
        return False
    return "*" in _listify(entry.get("AWS"))


def _statement_matches(statement, who, action, resource, context):
    if "NotAction" in statement:
        if any(wildcard_match(a, action, True) for a in _listify(statement["NotAction"])):
            return False
    elif not any(wildcard_match(a, action, True) for a in _listify(statement.get("Action"))):
        return False
    if resource is None:
        pass  # the caller judges by action only (see evaluate)
    elif "NotResource" in statement:
        if any(wildcard_match(r, resource) for r in _listify(statement["NotResource"])):
            return False
    elif "Resource" in statement:
        if not any(wildcard_match(r, resource) for r in _listify(statement["Resource"])):
            return False
    if "NotPrincipal" in statement:
        if _principal_entry_matches(statement["NotPrincipal"], who):
            return False
    elif "Principal" in statement:
        if not _principal_entry_matches(statement["Principal"], who):
            return False
    lowered = {k.lower(): _listify(v) for k, v in context.items()}
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, wanted in keys.items():
            if not condition_holds(operator, wanted, lowered.get(key.lower(), [])):
                return False
    return True


@functools.lru_cache(maxsize=4096)
def _parsed(text):
    # Deliveries judge the same few policies many times a second; parse each text once.
    return json.loads(text)


def evaluate(document, who, action, resource, context=None):
    """ALLOW, DENY or NOT_APPLICABLE for one request against one policy document. A resource of
    None judges by action alone: every statement's Resource then counts as matching."""
    if isinstance(document, bytes):
        document = document.decode()
    if isinstance(document, str):
        document = _parsed(document)
    context = context or {}
    decision = NOT_APPLICABLE
    for statement in _listify(document.get("Statement")):
        if not _statement_matches(statement, who, action, resource, context):
            continue
        if statement.get("Effect") == "Deny":
            return DENY
        if statement.get("Effect") == "Allow":
            decision = ALLOW
    return decision


def allows(document, who, action, resource, context=None):
    return evaluate(document, who, action, resource, context) == ALLOW
