"""Who signed the request being served: the account's root user, an assumed role, or moto's
default IAM user. moto does not check signatures, so the access key id alone identifies the
caller, as it would after AWS verified the signature.

Root users: the emulator has no passwords, so a request signed with the access key id
`AKIAROOT<account-id>` (any secret) acts as that account's root user. docs/emulator.md says so.
"""

import re

ROOT_KEY_PREFIX = "AKIAROOT"


def root_access_key(account):
    return f"{ROOT_KEY_PREFIX}{account}"


def root_account_of(access_key):
    if access_key.startswith(ROOT_KEY_PREFIX):
        account = access_key[len(ROOT_KEY_PREFIX):]
        if len(account) == 12 and account.isdigit():
            return account
    return None


class Caller:
    def __init__(self, kind, account, arn, role_arn=None, access_key="", session_policy=None):
        self.kind = kind  # "root" | "assumed-role" | "user" | "anonymous"
        self.account = account
        self.arn = arn
        self.role_arn = role_arn
        self.access_key = access_key
        # The inline session policy of AssumeRole's `Policy`: it can only narrow the session.
        self.session_policy = session_policy

    @property
    def is_root(self):
        return self.kind == "root"

    def principal(self):
        from .policy import Principal

        if self.kind == "anonymous":
            return Principal.anonymous()
        # A role session is matched by its role's ARN in policies, as AWS does.
        return Principal.aws(self.account, self.role_arn or self.arn)


def access_key_of_request():
    try:
        from flask import has_request_context, request
    except ImportError:
        return None
    if not has_request_context():
        return None
    auth = request.headers.get("Authorization", "")
    match = re.search(r"Credential=([^/,\s]+)/", auth) or re.search(
        r"X-Amz-Credential=([^/&%]+)", request.full_path or ""
    )
    return match.group(1) if match else None


def access_key_of_environ(environ):
    """The access key id of a raw WSGI request (before moto sees it), or None."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = re.search(r"Credential=([^/,\s]+)/", auth) or re.search(
        r"X-Amz-Credential=([^/&%]+)", environ.get("QUERY_STRING", "")
    )
    return match.group(1) if match else None


def current_caller():
    """The caller of the request being served, or None outside a request."""
    key = access_key_of_request()
    if key is None:
        return None
    return caller_for_key(key)


# Callers by access key id: role sessions as AssumeRole answers (see sts.py), other keys once seen.
SESSIONS = {}


def caller_for_key(key):
    account = root_account_of(key)
    if account:
        return Caller("root", account, f"arn:aws:iam::{account}:root", access_key=key)
    if key in SESSIONS:
        return SESSIONS[key]
    from moto.sts.models import sts_backends

    for account_id, partitions in list(sts_backends.items()):
        for backend in list(partitions.values()):
            for role in list(getattr(backend, "assumed_roles", [])):
                if role.access_key_id == key:
                    return Caller(
                        "assumed-role", role.account_id, role.arn, role.role_arn, key
                    )
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import get_account_id_from

    account = get_account_id_from(key) or DEFAULT_ACCOUNT_ID
    caller = Caller("user", account, f"arn:aws:iam::{account}:user/moto", access_key=key)
    # Not a role session now, and never later (sessions are registered as AssumeRole answers):
    # remember it, so that the management account's calls do not scan every session.
    SESSIONS[key] = caller
    return caller


def install():
    """moto finds a request's account from its access key; root keys name their account."""
    import moto.iam.models as iam_models

    original = iam_models.get_account_id_from

    def get_account_id_from(access_key):
        return root_account_of(access_key) or original(access_key)

    iam_models.get_account_id_from = get_account_id_from

    from moto.sts.models import STSBackend

    original_identity = STSBackend.get_caller_identity

    def get_caller_identity(self, access_key_id, region):
        account = root_account_of(access_key_id)
        if account:
            return account, f"arn:aws:iam::{account}:root", account
        return original_identity(self, access_key_id, region)

    STSBackend.get_caller_identity = get_caller_identity
