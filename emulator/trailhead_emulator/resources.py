"""The resources an identity policy is judged on, for the calls whose resources trailhead's
printed policies scope: each request's resource ARNs as the Service Authorization Reference
names them (service-authorization/latest/reference/list_<service>.html, "Resource types"), read
off the request's own parameters.

A call whose resource cannot be told from the request (a List/Describe without a resource, a
service not listed here) answers None and stays judged by action and conditions, as before. A
call on several resources (CloudWatch DeleteAlarms) must be allowed on each.
"""

import json
from urllib.parse import parse_qs, unquote

from . import conditions

# CloudTrail operations: the parameter that names the trail (a name or an ARN).
_TRAIL_PARAM = {
    "CreateTrail": "Name", "UpdateTrail": "Name", "DeleteTrail": "Name", "GetTrailStatus": "Name",
    "StartLogging": "Name", "StopLogging": "Name", "GetTrail": "Name",
    "GetEventSelectors": "TrailName", "PutEventSelectors": "TrailName",
    "GetInsightSelectors": "TrailName", "PutInsightSelectors": "TrailName",
    "AddTags": "ResourceId",
}

# CloudWatch Logs operations on one log group, by its name.
_LOG_GROUP_OPS = {
    "CreateLogGroup", "DeleteLogGroup", "PutRetentionPolicy", "DescribeMetricFilters",
    "PutMetricFilter", "DeleteMetricFilter", "AssociateKmsKey", "DisassociateKmsKey",
    "FilterLogEvents", "TagLogGroup",
}


def partition_of(region):
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def _json(body):
    try:
        return json.loads(body or b"{}")
    except ValueError:
        return None


def _form(body):
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()} if body else {}


def resources_of(action, environ, body, account):
    """The resource ARNs of a request, or None when they cannot be told."""
    service, _, operation = (action or "").partition(":")
    region = conditions.region_of_request(environ)
    p = partition_of(region)
    if service == "s3":
        return _s3(environ, p)
    if service == "iam":
        return _iam(operation, _form(body), account, p)
    if service in ("sns", "cloudwatch"):
        form = _form(body)
        if service == "sns":
            return _sns(operation, form, account, region, p)
        return _cloudwatch(operation, form, account, region, p)
    payload = _json(body)
    if payload is None:
        return None
    if service == "cloudtrail":
        return _cloudtrail(operation, payload, account, region, p)
    if service == "logs":
        return _logs(operation, payload, account, region, p)
    if service == "kms":
        return _kms(operation, payload, account, region)
    return None


def _s3(environ, p):
    parts = [unquote(x) for x in environ.get("PATH_INFO", "").split("/") if x]
    if not parts:
        return None
    if len(parts) == 1:
        return [f"arn:{p}:s3:::{parts[0]}"]
    return [f"arn:{p}:s3:::{parts[0]}/{'/'.join(parts[1:])}"]


def _iam(operation, form, account, p):
    if form.get("RoleName"):
        return [f"arn:{p}:iam::{account}:role/{form['RoleName']}"]
    if form.get("PolicyArn"):
        return [form["PolicyArn"]]
    if operation == "CreatePolicy" and form.get("PolicyName"):
        path = form.get("Path") or "/"
        return [f"arn:{p}:iam::{account}:policy{path}{form['PolicyName']}"]
    return None


def _sns(operation, form, account, region, p):
    arn = form.get("TopicArn") or form.get("ResourceArn")
    if arn:
        return [arn]
    if operation == "CreateTopic" and form.get("Name"):
        return [f"arn:{p}:sns:{region}:{account}:{form['Name']}"]
    return None


def _cloudwatch(operation, form, account, region, p):
    alarm = lambda name: f"arn:{p}:cloudwatch:{region}:{account}:alarm:{name}"  # noqa: E731
    if operation == "PutMetricAlarm" and form.get("AlarmName"):
        return [alarm(form["AlarmName"])]
    if operation == "DeleteAlarms":
        names = [v for k, v in sorted(form.items()) if k.startswith("AlarmNames.member.")]
        return [alarm(n) for n in names] or None
    return None


def _cloudtrail(operation, payload, account, region, p):
    name = payload.get(_TRAIL_PARAM.get(operation, ""), "")
    if not name:
        return None
    return [name if name.startswith("arn:") else f"arn:{p}:cloudtrail:{region}:{account}:trail/{name}"]


def _logs(operation, payload, account, region, p):
    if operation == "TagResource" and payload.get("resourceArn"):
        return [payload["resourceArn"]]
    if operation in _LOG_GROUP_OPS and payload.get("logGroupName"):
        return [f"arn:{p}:logs:{region}:{account}:log-group:{payload['logGroupName']}"]
    return None


def _kms(operation, payload, account, region):
    from . import kms

    if operation == "CreateAlias":
        return None  # judged on both of its resources by enforce.py
    key = kms.find_key(payload.get("KeyId") or "", account, region) if payload.get("KeyId") else None
    return [key.arn] if key is not None else None
