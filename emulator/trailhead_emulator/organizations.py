"""Organizations as AWS answers it:

- CreateAccount is asynchronous: IN_PROGRESS for a while (TRAILHEAD_EMULATOR_CREATE_ACCOUNT_SECONDS),
  then SUCCEEDED with the account id; the role in the new account is the request's `RoleName`
  (moto already creates it). Until then it is not listed (ListAccounts, ListAccountsForParent)
  and cannot be assumed into.
- CloseAccount leaves the account listed as SUSPENDED (moto already does); it cannot be assumed into.
Source: docs.aws.amazon.com/organizations/latest/APIReference/API_CreateAccount.html,
API_DescribeCreateAccountStatus.html, API_CloseAccount.html.
"""

import time

from .settings import SETTINGS


def _created(account):
    created_at = getattr(account, "trailhead_requested_at", None)
    return created_at is None or time.time() - created_at >= SETTINGS.create_account_seconds


def find_account(account_id):
    from moto.organizations.models import organizations_backends

    master = organizations_backends.master_accounts.get(account_id)
    if not master:
        return None
    try:
        backend = organizations_backends[master[0]][master[1]]
        return backend.get_account_by_id(account_id)
    except Exception:
        return None


def account_status(account_id):
    """The Organizations status of an account ("ACTIVE", "SUSPENDED", "IN_PROGRESS"), or None
    when no organization knows it (moto's default account, accounts outside any org)."""
    account = find_account(account_id)
    if account is None:
        return None
    if not _created(account):
        return "IN_PROGRESS"
    return account.status


def install():
    from moto.organizations.models import FakeAccount

    original_init = FakeAccount.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.trailhead_requested_at = time.time()

    FakeAccount.__init__ = init

    def create_account_status(self):
        done = _created(self)
        status = {
            "Id": self.create_account_status_id,
            "AccountName": self.name,
            "State": "SUCCEEDED" if done else "IN_PROGRESS",
            "RequestedTimestamp": self.trailhead_requested_at,
        }
        if done:
            status["CompletedTimestamp"] = self.trailhead_requested_at + SETTINGS.create_account_seconds
            status["AccountId"] = self.id
        return {"CreateAccountStatus": status}

    FakeAccount.create_account_status = property(create_account_status)

    from moto.organizations.responses import OrganizationsResponse

    for name in ("list_accounts", "list_accounts_for_parent"):
        _hide_unfinished(OrganizationsResponse, name)


def _hide_unfinished(response_class, name):
    """Accounts still being created are not listed yet."""
    import json

    original = getattr(response_class, name)

    def listed(self):
        answer = json.loads(original(self))
        answer["Accounts"] = [a for a in answer.get("Accounts", []) if account_status(a.get("Id", "")) != "IN_PROGRESS"]
        return json.dumps(answer)

    setattr(response_class, name, listed)


def org_id_of(account_id):
    """The id of the organization an account belongs to (or manages), or None."""
    from moto.organizations.models import organizations_backends

    master = organizations_backends.master_accounts.get(account_id)
    try:
        if master:
            org = organizations_backends[master[0]][master[1]].org
        else:
            org = organizations_backends[account_id]["aws"].org
    except Exception:
        return None
    return org.id if org is not None else None
