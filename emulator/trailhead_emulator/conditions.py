"""The request context of the calls whose identity policies trailhead scopes by tags, and the
dependent actions AWS checks for them. Without it a policy's tag conditions would never be
judged: a drill policy that let its holder delete any VPC would pass as well as one that did not.

Keys (docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html):
- `aws:RequestTag/<key>` and `aws:TagKeys`: the tags a request puts on (EC2 `TagSpecification`
  and `CreateTags`, KMS `CreateKey`/`TagResource` `Tags`, Organizations `Tags`);
- `aws:ResourceTag/<key>`: the tags of the resource a request acts on (the EC2 resource of a
  Delete*, the KMS key of a key operation, the OU of DeleteOrganizationalUnit);
- `kms:ResourceAliases`: the aliases of the key a request acts on (KMS developer guide,
  "kms:ResourceAliases"); absent for a key without alias;
- `ec2:CreateAction`: the create a tag-on-create belongs to (EC2 user guide, "Grant permission
  to tag resources during creation");
- `iam:PermissionsBoundary`: the boundary a role would have (CreateRole's and
  PutRolePermissionsBoundary's `PermissionsBoundary`) or has (the role of PutRolePolicy,
  DeleteRolePolicy, AttachRolePolicy, DetachRolePolicy, DeleteRolePermissionsBoundary); absent
  for a role without one (IAM user guide, "Permissions boundaries for IAM entities" and the
  Service Authorization Reference's IAM actions, which list the key for exactly these calls).

Dependent actions (each checked with the same context):
- EC2 `Create*` with `TagSpecification` needs `ec2:CreateTags` with `ec2:CreateAction` set;
- KMS `CreateKey` with `Tags` needs `kms:TagResource` ("To add tags when creating a KMS key, the
  caller must have kms:TagResource permission in an IAM policy", KMS developer guide);
- Organizations `CreateOrganizationalUnit` with `Tags` needs `organizations:TagResource`
  (Organizations API reference, CreateOrganizationalUnit).

The resource stays judged by action only (enforce.py); only these keys are added.
"""

import json
import re
from urllib.parse import parse_qs

# EC2 deletes: the request parameter that names the resource.
_EC2_DELETES = {
    "DeleteVpc": "VpcId",
    "DeleteSecurityGroup": "GroupId",
    "DeleteNetworkAcl": "NetworkAclId",
    "DeleteInternetGateway": "InternetGatewayId",
    "DeleteRouteTable": "RouteTableId",
}

_KMS_ON_A_KEY = {
    "TagResource", "UntagResource", "PutKeyPolicy", "ScheduleKeyDeletion", "EnableKeyRotation",
    "UpdateKeyDescription", "DisableKey", "DescribeKey", "GetKeyPolicy", "CreateAlias",
}


def _request_tags(context, tags):
    for key, value in tags:
        context[f"aws:RequestTag/{key}"] = [value]
    if tags:
        context["aws:TagKeys"] = [k for k, _ in tags]


def _resource_tags(context, tags):
    for key, value in (tags or {}).items():
        context[f"aws:ResourceTag/{key}"] = [value]


def region_of_request(environ):
    """The region of a request's signing scope (us-east-1 when it has none)."""
    match = re.search(
        r"Credential=[^/]+/\d{8}/([^/]+)/[^/]+/aws4_request", environ.get("HTTP_AUTHORIZATION", "")
    )
    return match.group(1) if match else "us-east-1"


def _ec2(operation, form, account, region):
    """(context, dependent actions) of an EC2 query request."""
    context, dependent = {}, []
    if operation.startswith("Create") and operation != "CreateTags":
        tags = []
        n = 1
        while f"TagSpecification.{n}.ResourceType" in form or f"TagSpecification.{n}.Tag.1.Key" in form:
            m = 1
            while f"TagSpecification.{n}.Tag.{m}.Key" in form:
                tags.append((form[f"TagSpecification.{n}.Tag.{m}.Key"][0], form.get(f"TagSpecification.{n}.Tag.{m}.Value", [""])[0]))
                m += 1
            n += 1
        _request_tags(context, tags)
        if tags:
            dependent.append(("ec2:CreateTags", dict(context, **{"ec2:CreateAction": [operation]})))
    elif operation == "CreateTags":
        tags, m = [], 1
        while f"Tag.{m}.Key" in form:
            tags.append((form[f"Tag.{m}.Key"][0], form.get(f"Tag.{m}.Value", [""])[0]))
            m += 1
        _request_tags(context, tags)
        _resource_tags(context, _ec2_tags(account, region, form.get("ResourceId.1", [""])[0]))
    elif operation in _EC2_DELETES:
        _resource_tags(context, _ec2_tags(account, region, form.get(_EC2_DELETES[operation], [""])[0]))
    return context, dependent


def _ec2_tags(account, region, resource_id):
    from moto.ec2.models import ec2_backends

    try:
        return dict(ec2_backends[account][region].tags.get(resource_id, {}))
    except KeyError:
        return {}


def _kms(operation, body, account, region):
    context, dependent = {}, []
    tags = [(t.get("TagKey", ""), t.get("TagValue", "")) for t in body.get("Tags") or []]
    _request_tags(context, tags)
    if operation == "CreateKey" and tags:
        dependent.append(("kms:TagResource", dict(context)))
    if operation in _KMS_ON_A_KEY and body.get("KeyId"):
        from moto.kms.models import kms_backends

        try:
            backend = kms_backends[account][region]
            key_id = backend.any_id_to_key_id(body["KeyId"])
            key = backend.keys[key_id]
        except Exception:  # an unknown key: KMS itself answers NotFoundException
            return context, dependent
        from . import kms as kms_contract

        # A key's new tags count only once ABAC has caught up with them.
        if kms_contract.tags_authorize(key):
            _resource_tags(context, backend.tagger.get_tag_dict_for_resource(key.id))
        # moto keeps each key's aliases on the key, by name.
        names = sorted(getattr(key, "aliases", {}) or {})
        if names:
            context["kms:ResourceAliases"] = names
    return context, dependent


def _organizations(operation, body, account):
    context, dependent = {}, []
    tags = [(t.get("Key", ""), t.get("Value", "")) for t in body.get("Tags") or []]
    _request_tags(context, tags)
    if operation == "CreateOrganizationalUnit" and tags:
        dependent.append(("organizations:TagResource", dict(context)))
    resource = body.get("OrganizationalUnitId") or body.get("ResourceId")
    if operation in ("DeleteOrganizationalUnit", "TagResource") and resource:
        _resource_tags(context, _organization_tags(account, resource))
    return context, dependent


def _organization_tags(account, resource_id):
    from moto.organizations.models import organizations_backends

    master = organizations_backends.master_accounts.get(account)
    try:
        backend = organizations_backends[master[0]][master[1]] if master else organizations_backends[account]["aws"]
        return dict(backend._get_resource_for_tagging(resource_id).tags)
    except Exception:  # unknown to Organizations: it answers for itself
        return {}


# IAM calls that carry the role's current boundary as `iam:PermissionsBoundary`.
_IAM_ON_A_BOUNDED_ROLE = {
    "PutRolePolicy", "DeleteRolePolicy", "AttachRolePolicy", "DetachRolePolicy",
    "DeleteRolePermissionsBoundary",
}


def _iam(operation, form, account):
    context = {}
    if operation in ("CreateRole", "PutRolePermissionsBoundary"):
        boundary = form.get("PermissionsBoundary", [""])[0]
    elif operation in _IAM_ON_A_BOUNDED_ROLE:
        from . import iam

        try:
            role = iam.iam_backend(account).get_role(form.get("RoleName", [""])[0])
            boundary = role.permissions_boundary_arn or ""
        except Exception:  # an unknown role: IAM itself answers NoSuchEntity
            boundary = ""
    else:
        return context, []
    if boundary:
        context["iam:PermissionsBoundary"] = [boundary]
    return context, []


def context_of(action, environ, body, account):
    """(context, [(dependent action, its context)]) of a request; empty for the other calls."""
    service, _, operation = (action or "").partition(":")
    region = region_of_request(environ)
    if service in ("ec2", "iam"):
        form = parse_qs(body.decode("utf-8", "replace")) if body else {}
        if service == "iam":
            return _iam(operation, form, account)
        return _ec2(operation, form, account, region)
    if service in ("kms", "organizations"):
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return {}, []
        if service == "kms":
            return _kms(operation, payload, account, region)
        return _organizations(operation, payload, account)
    return {}, []
