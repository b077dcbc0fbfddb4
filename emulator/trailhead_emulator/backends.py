"""Walking moto's state without growing it. moto's `backends[account]` takes a global lock and
scans every account and every service on each lookup (and makes what it does not find), so a
clock that looked up every account four times a second slowed every call the server answered."""


def existing(backend_dict):
    """(account, region, backend) of every backend moto has made so far."""
    for account, per_account in list(dict.items(backend_dict)):
        for region, backend in list(dict.items(per_account)):
            yield account, region, backend
