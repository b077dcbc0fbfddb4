"""S3 as AWS answers it, for what trailhead relies on.

- GetBucketVersioning answers with a <VersioningConfiguration> root (moto wraps it), and reports
  MfaDelete once it is on.
- MFA Delete: only the bucket owner's root user, with a valid `x-amz-mfa: <serial> <code>`, may
  change it on PutBucketVersioning; it cannot be enabled on a bucket with a lifecycle
  configuration, and a lifecycle configuration cannot be put on a bucket with MFA Delete on
  (InvalidBucketState). Source: docs.aws.amazon.com/AmazonS3/latest/userguide/MultiFactorAuthenticationDelete.html
- Bucket policies are evaluated for object calls with the request's context (moto evaluates them
  without principal or condition keys, so a conditional Deny would apply to everything).
"""

import json
import re

from . import identity, mfa
from .errors import s3_error
from .policy import ALLOW, DENY, Principal, evaluate

LIFECYCLE_CONFLICT = "Mfa Authentication is not supported on a bucket with lifecycle configuration"


def bucket_backend(bucket_name):
    """The owner's S3 backend and the bucket, wherever it lives."""
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket_name)
    if owner is None:
        return None, None
    partition, account = owner
    backend = s3_backends[account][partition]
    try:
        return backend, backend.get_bucket(bucket_name)
    except Exception:
        return None, None


def bucket_owner(bucket_name):
    """The account that owns a bucket, or None."""
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket_name)
    return owner[1] if owner else None


def mfa_delete_of(bucket):
    return getattr(bucket, "trailhead_mfa_delete", "Disabled")


def get_bucket_versioning(self):
    bucket = self.backend.get_bucket(self.bucket_name)
    status = bucket.versioning_status
    mfa_delete = mfa_delete_of(bucket)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        + (f"<Status>{status}</Status>" if status else "")
        + (f"<MfaDelete>{mfa_delete}</MfaDelete>" if status or mfa_delete == "Enabled" else "")
        + "</VersioningConfiguration>"
    )
    return 200, {"Content-Type": "application/xml"}, body


def check_mfa_delete_change(bucket, wanted, caller, mfa_header):
    """None when AWS would accept setting MfaDelete to `wanted`, else the error response."""
    if wanted == mfa_delete_of(bucket) and wanted == "Disabled":
        return None
    if caller is None or not caller.is_root or caller.account != bucket.account_id:
        return s3_error(
            403, "AccessDenied",
            "MFA Delete can only be changed by the bucket owner's root user",
        )
    if not mfa_header:
        return s3_error(403, "AccessDenied", "Mfa Authentication must be used for this request")
    if not mfa.valid(bucket.account_id, mfa_header):
        return s3_error(403, "AccessDenied", "Invalid MFA one time pass code")
    if wanted == "Enabled" and bucket.rules:
        return s3_error(409, "InvalidBucketState", LIFECYCLE_CONFLICT)
    return None


def install():
    from moto.s3.models import FakeBucket
    from moto.s3.responses import S3Response

    S3Response.get_bucket_versioning = get_bucket_versioning
    original_put = S3Response._bucket_response_put

    def bucket_response_put(self, request, bucket_name, querystring):
        if "versioning" in querystring:
            body = self.body.decode("utf-8") if isinstance(self.body, bytes) else (self.body or "")
            wanted = re.search(r"<MfaDelete>([A-Za-z]+)</MfaDelete>", body)
            bucket = self.backend.get_bucket(bucket_name)
            if wanted:
                error = check_mfa_delete_change(
                    bucket, wanted.group(1), identity.current_caller(), request.headers.get("x-amz-mfa")
                )
                if error is not None:
                    return error
            response = original_put(self, request, bucket_name, querystring)
            if wanted:
                bucket.trailhead_mfa_delete = wanted.group(1)
            return response
        if "lifecycle" in querystring:
            bucket = self.backend.get_bucket(bucket_name)
            if mfa_delete_of(bucket) == "Enabled":
                return s3_error(409, "InvalidBucketState", LIFECYCLE_CONFLICT)
        return original_put(self, request, bucket_name, querystring)

    S3Response._bucket_response_put = bucket_response_put
    FakeBucket.get_permission = get_permission


def request_context():
    """The caller and the condition keys S3 sees for the request being served."""
    try:
        from flask import has_request_context, request
    except ImportError:
        return None, {}
    if not has_request_context():
        return None, {}
    context = {
        "aws:SecureTransport": ["true" if request.scheme == "https" else "false"],
        "aws:PrincipalIsAWSService": ["false"],
    }
    for header, key in (
        ("x-amz-acl", "s3:x-amz-acl"),
        ("x-amz-server-side-encryption", "s3:x-amz-server-side-encryption"),
        ("x-amz-server-side-encryption-aws-kms-key-id", "s3:x-amz-server-side-encryption-aws-kms-key-id"),
    ):
        if request.headers.get(header):
            context[key] = [request.headers[header]]
    caller = identity.current_caller()
    if caller is None:
        return None, context
    context["aws:PrincipalAccount"] = [caller.account]
    context["aws:PrincipalArn"] = [caller.role_arn or caller.arn]
    from .organizations import org_id_of

    org = org_id_of(caller.account)
    if org:
        context["aws:PrincipalOrgID"] = [org]
    return caller, context


def get_permission(self, action, resource):
    from moto.iam.access_control import PermissionResult

    if self.policy is None:
        return PermissionResult.NEUTRAL
    caller, context = request_context()
    who = caller.principal() if caller else Principal.anonymous()
    document = json.loads(self.policy.decode() if isinstance(self.policy, bytes) else self.policy)
    decision = evaluate(document, who, action, resource, context)
    if decision == DENY:
        return PermissionResult.DENIED
    return PermissionResult.PERMITTED if decision == ALLOW else PermissionResult.NEUTRAL
