"""Identity policies, for the roles that ask for it: a role tagged
`trailhead:enforce-identity-policy = true` may make only the calls its own policies (inline and
attached) allow, as on AWS. It is how a test proves that the access role policy
`trailhead permissions` prints is enough for a whole rollout.

moto evaluates no identity policy. This judges the **action, the resource and the
conditions**: the resource ARNs that resources.py reads off the request (S3, IAM, CloudTrail,
CloudWatch Logs, SNS, CloudWatch alarms, KMS keys; where it cannot tell, a statement's `Resource`
counts as matching, and docs/emulator.md says so), and the conditions judged against
the request context conditions.py builds (request tags, tag keys, resource tags, key aliases,
`ec2:CreateAction`; empty for other calls, so a condition on a key AWS would send fails as it
would without it). KMS CreateAlias is judged on its resources too: the alias, and the key it
targets (whose own policy may grant it instead). The dependent actions AWS checks with a call (tags on create need the
service's tagging action) are judged too. An explicit Deny still wins. Roles without the tag
are not judged, as before.

The action is read off the request: the signing service of its credential scope, then the JSON
target (`X-Amz-Target`), the query `Action`, or for S3 the method and sub-resource.
Source: docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html,
docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html (S3 action names).
"""

import io
import re
from urllib.parse import parse_qs

from . import conditions, identity, iam, resources
from .policy import ALLOW, DENY, evaluate

ENFORCE_TAG = "trailhead:enforce-identity-policy"

# Signing name of the credential scope → IAM action prefix.
_PREFIX = {"monitoring": "cloudwatch"}

# S3 bucket sub-resources → (GET, PUT, DELETE) actions.
_S3_SUBRESOURCES = {
    "versioning": ("GetBucketVersioning", "PutBucketVersioning", None),
    "publicAccessBlock": ("GetBucketPublicAccessBlock", "PutBucketPublicAccessBlock", "PutBucketPublicAccessBlock"),
    "ownershipControls": ("GetBucketOwnershipControls", "PutBucketOwnershipControls", "PutBucketOwnershipControls"),
    "encryption": ("GetEncryptionConfiguration", "PutEncryptionConfiguration", "PutEncryptionConfiguration"),
    "lifecycle": ("GetLifecycleConfiguration", "PutLifecycleConfiguration", "PutLifecycleConfiguration"),
    "logging": ("GetBucketLogging", "PutBucketLogging", None),
    "policy": ("GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"),
    "object-lock": ("GetBucketObjectLockConfiguration", "PutBucketObjectLockConfiguration", None),
    "location": ("GetBucketLocation", None, None),
    "tagging": ("GetBucketTagging", "PutBucketTagging", "PutBucketTagging"),
    "acl": ("GetBucketAcl", "PutBucketAcl", None),
}


def _s3_action(method, path, query):
    parts = [p for p in path.split("/") if p]
    index = {"GET": 0, "HEAD": 0, "PUT": 1, "DELETE": 2}.get(method)
    if len(parts) <= 1:
        for sub, actions in _S3_SUBRESOURCES.items():
            if sub in query and index is not None and actions[index]:
                return actions[index]
        return {"HEAD": "ListBucket", "GET": "ListBucket", "PUT": "CreateBucket", "DELETE": "DeleteBucket"}.get(method)
    return {"GET": "GetObject", "HEAD": "GetObject", "PUT": "PutObject", "DELETE": "DeleteObject"}.get(method)


def request_action(environ, body):
    """`service:Action` of a request, or None when it cannot be told."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    scope = re.search(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request", auth)
    if not scope:
        return None
    service = scope.group(1)
    prefix = _PREFIX.get(service, service)
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if service == "s3":
        action = _s3_action(environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""), query)
        return f"s3:{action}" if action else None
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target and "." in target:
        return f"{prefix}:{target.rsplit('.', 1)[1]}"
    form = parse_qs(body.decode("utf-8", "replace")) if body else {}
    action = (form.get("Action") or query.get("Action") or [None])[0]
    return f"{prefix}:{action}" if action else None


def _session_limited(key):
    """The caller of a session that AssumeRole narrowed with an inline session policy."""
    caller = identity.caller_for_key(key)
    return caller if caller is not None and getattr(caller, "session_policy", None) else None


def session_denied(caller, action, context=None):
    """A session policy grants nothing by itself: the call must be allowed by it (and by the
    role's policies, judged separately), and an explicit Deny in it wins."""
    return evaluate(caller.session_policy, caller.principal(), action, None, context) != ALLOW


def _enforced_role(key):
    caller = identity.caller_for_key(key)
    if caller is None or caller.kind != "assumed-role":
        return None, None
    role = iam.find_role(caller.role_arn or "")
    if role is None:
        return None, None
    tags = {t.get("Key"): t.get("Value") for t in getattr(role, "tags", []) or []}
    return (role, caller) if tags.get(ENFORCE_TAG) == "true" else (None, None)


def denied(role, caller, action, context=None, resource=None):
    """Whether the role's own policies refuse `action` (no Allow, or an explicit Deny); on
    `resource` where one is given, else by action alone."""
    decisions = [
        evaluate(doc, caller.principal(), action, resource, context)
        for doc in iam.role_policies(role)
    ]
    return DENY in decisions or ALLOW not in decisions


def explicitly_denied(role, caller, action, context=None):
    """Whether one of the role's own policies denies `action` outright."""
    return any(
        evaluate(doc, caller.principal(), action, None, context) == DENY
        for doc in iam.role_policies(role)
    )


def _key_policy_names(caller, action, environ, body):
    """Whether the KMS key the request acts on has a key policy that allows this caller the
    action by name (its role's ARN, or its own ARN), not through the account's root: KMS then
    needs no IAM permission for it (kms/latest/developerguide/key-policies.html, "Allows access
    to the AWS account and enables IAM policies" and specifying principals)."""
    import json

    from . import kms
    from .policy import Principal

    if not action.startswith("kms:") or caller is None:
        return False
    try:
        key_ref = json.loads(body or b"{}").get("KeyId") or ""
    except ValueError:
        return False
    region = conditions.region_of_request(environ)
    key = kms.find_key(key_ref, caller.account, region) if key_ref else None
    if key is None or not key.policy:
        return False
    context = {"kms:CallerAccount": caller.account}
    named = {caller.role_arn, caller.arn} - {None}
    # An empty account: a statement naming the account's root does not count here.
    return any(
        evaluate(key.policy, Principal.aws("", arn), action, key.arn, context) == ALLOW
        for arn in named
    )


def _partition(region):
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def _alias_refused(role, caller, environ, body):
    """CreateAlias is authorized twice (KMS developer guide, "Controlling access to aliases":
    "you need permission to create the alias, and permission on the KMS key"): on the alias, by an
    identity policy with the alias ARN as resource; on the key it targets, by the key's policy
    naming the caller, or by an identity policy with the key's ARN as resource where the key's
    policy lets the account's IAM policies grant (its root statement)."""
    import json

    from . import kms
    from .policy import Principal

    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        return False
    region = conditions.region_of_request(environ)
    alias = payload.get("AliasName") or ""
    alias_arn = f"arn:{_partition(region)}:kms:{region}:{caller.account}:{alias}"
    if denied(role, caller, "kms:CreateAlias", {}, alias_arn):
        return True
    key = kms.find_key(payload.get("TargetKeyId") or "", caller.account, region)
    if key is None or not key.policy:
        return False  # KMS itself answers NotFoundException
    context = {"kms:CallerAccount": caller.account}
    named = {caller.role_arn, caller.arn} - {None}
    if any(evaluate(key.policy, Principal.aws("", a), "kms:CreateAlias", key.arn, context) == ALLOW for a in named):
        return False
    through_root = evaluate(key.policy, caller.principal(), "kms:CreateAlias", key.arn, context) == ALLOW
    return not through_root or denied(role, caller, "kms:CreateAlias", {}, key.arn)


def _role_denies(role, caller, action, context, resources):
    """Whether the role's policies refuse `action` on any of `resources` (None: by action)."""
    return any(denied(role, caller, action, context, r) for r in resources or [None])


def _refused_action(role, caller, limited, action, environ, body):
    """The first action of the request (itself, then what it depends on) that is refused."""
    account = (limited or caller).account
    context, dependent = conditions.context_of(action, environ, body, account)
    by_key = role is not None and _key_policy_names(caller, action, environ, body)
    targets = resources.resources_of(action, environ, body, account) if role is not None else None
    for checked, ctx in [(action, context)] + dependent:
        # A key policy that names the caller grants without an identity policy; an explicit
        # Deny in one still wins (IAM policy evaluation logic).
        granted_by_key = by_key and checked == action
        # A dependent action (a tag on create) is judged by action and conditions.
        on = targets if checked == action else None
        if role is not None and not granted_by_key and _role_denies(role, caller, checked, ctx, on):
            return caller, checked
        if role is not None and granted_by_key and explicitly_denied(role, caller, checked, ctx):
            return caller, checked
        if limited is not None and session_denied(limited, checked, ctx):
            return limited, checked
    if role is not None and action == "kms:CreateAlias" and _alias_refused(role, caller, environ, body):
        return caller, action
    return None, None


def _refuse(environ, start_response, caller, action):
    message = f"User: {caller.arn} is not authorized to perform: {action} because no identity-based policy allows the {action} action"
    if action.startswith("ec2:"):
        # EC2's query protocol has its own error shape and code.
        body = (
            "<Response><Errors><Error><Code>UnauthorizedOperation</Code>"
            f"<Message>You are not authorized to perform this operation. {message}</Message>"
            "</Error></Errors><RequestID>trailhead-enforce</RequestID></Response>"
        )
        headers = [("Content-Type", "text/xml")]
    elif action.startswith("s3:"):
        body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>{message}</Message></Error>'
        headers = [("Content-Type", "application/xml")]
    elif environ.get("HTTP_X_AMZ_TARGET"):
        import json

        body = json.dumps({"__type": "AccessDeniedException", "message": message})
        headers = [("Content-Type", "application/x-amz-json-1.1")]
    else:
        body = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
            f"<Message>{message}</Message></Error><RequestId>trailhead-enforce</RequestId></ErrorResponse>"
        )
        headers = [("Content-Type", "text/xml")]
    data = body.encode()
    start_response("403 Forbidden", headers + [("Content-Length", str(len(data)))])
    return [data]


def wrap(app):
    def middleware(environ, start_response):
        key = identity.access_key_of_environ(environ)
        role, caller = _enforced_role(key) if key else (None, None)
        limited = _session_limited(key) if key else None
        if role is None and limited is None:
            return app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        action = request_action(environ, body)
        if action:
            who, refused = _refused_action(role, caller, limited, action, environ, body)
            if refused:
                return _refuse(environ, start_response, who, refused)
        return app(environ, start_response)

    return middleware
