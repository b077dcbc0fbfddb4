"""IAM: eventual consistency of new roles.

AWS: "changes that I make are not always immediately visible"; a role created seconds ago is
often not yet usable by a service (CloudTrail answers InvalidCloudWatchLogsRoleArnException) or by
AssumeRole (AccessDenied). Source: docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html
"""

import time

from .settings import SETTINGS


def install():
    from moto.iam.models import IAMBackend

    original = IAMBackend.create_role

    def create_role(self, *args, **kwargs):
        role = original(self, *args, **kwargs)
        role.trailhead_created_at = time.time()
        return role

    IAMBackend.create_role = create_role


def iam_backend(account):
    from moto.iam.models import iam_backends

    return iam_backends[account]["global"]


def find_role(role_arn):
    """The role an ARN names, in its own account, or None."""
    parts = role_arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("role/"):
        return None
    name = parts[5].rsplit("/", 1)[-1]
    try:
        return iam_backend(parts[4]).get_role(name)
    except Exception:
        return None


def propagated(role):
    """Whether a role is old enough to be seen by STS and by other services."""
    created = getattr(role, "trailhead_created_at", 0.0)
    return time.time() - created >= SETTINGS.iam_delay


def role_policies(role):
    """Every permissions policy document of a role: inline, then attached managed ones."""
    documents = list(role.policies.values())
    for policy in role.managed_policies.values():
        version = next((v for v in policy.versions if v.is_default), None)
        if version is not None:
            documents.append(version.document)
    return documents
