"""STS AssumeRole as AWS answers it, where moto lets anyone become any role (even one that does
not exist):

- the role must exist in its account, and be old enough to have propagated (iam.py);
- its trust policy must allow the caller `sts:AssumeRole`, with `sts:ExternalId` from the request;
- accounts that are SUSPENDED or PENDING_CLOSURE, or still being created, cannot be assumed into;
- role chaining (a role session calling AssumeRole) caps DurationSeconds at 3600;
- an inline session policy (`Policy`) narrows the session: enforce.py refuses every call it
  does not allow, whatever the role's own policies say.
Sources: docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html,
docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session,
docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html (role chaining),
docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_close.html.
"""

from . import identity, organizations
from .errors import sts_error
from .iam import find_role, propagated
from .policy import allows


def check_assume_role(caller, role_arn, duration, external_id):
    """None when AWS would let `caller` assume `role_arn`, else the error to answer."""
    denied = sts_error(
        "AccessDenied",
        f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
    )
    if caller.kind == "assumed-role" and duration and int(duration) > 3600:
        return sts_error(
            "ValidationError",
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        )
    parts = role_arn.split(":")
    account = parts[4] if len(parts) > 4 else ""
    status = organizations.account_status(account)
    if status is not None and status != "ACTIVE":
        return denied
    role = find_role(role_arn)
    if role is None or not propagated(role):
        return denied
    context = {}
    if external_id:
        context["sts:ExternalId"] = external_id
    if not allows(role.assume_role_policy_document, caller.principal(), "sts:AssumeRole", role_arn, context):
        return denied
    return None


def install():
    from moto.sts.models import STSBackend

    original = STSBackend.assume_role

    def assume_role(self, region_name, role_session_name, role_arn, policy, duration, external_id):
        caller = identity.current_caller()
        if caller is not None:
            error = check_assume_role(caller, role_arn, duration, external_id)
            if error is not None:
                raise error
        role = original(
            self,
            region_name=region_name,
            role_session_name=role_session_name,
            role_arn=role_arn,
            policy=policy,
            duration=duration,
            external_id=external_id,
        )
        identity.SESSIONS[role.access_key_id] = identity.Caller(
            "assumed-role", role.account_id, role.arn, role.role_arn, role.access_key_id,
            session_policy=policy or None,
        )
        return role

    STSBackend.assume_role = assume_role
