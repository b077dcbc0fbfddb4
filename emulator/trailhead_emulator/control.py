"""The emulator's own control API, under /_trailhead/, for tests and the demo. It never exists on
AWS; trailhead's product code never calls it.

GET  /_trailhead/health                 {"moto": "5.2.5"}
GET  /_trailhead/settings               the timings in force (settings.py)
POST /_trailhead/settings               change them: {"iam_delay": 1, "create_account_seconds": 1}
GET  /_trailhead/mfa?account=ID         the root user's virtual MFA device: serial and TOTP seed
GET  /_trailhead/mfa-code?account=ID    its current code (so a demo need not implement TOTP)
POST /_trailhead/sns/confirm?topic=ARN  confirm the topic's pending email subscriptions (all
                                        topics' without `topic`; account=ID,ID: those accounts'
                                        topics only)
GET  /_trailhead/sns/notifications?topic=ARN   what confirmed email subscriptions received
GET  /_trailhead/events?account=ID      the CloudTrail records of an account so far, every region
POST /_trailhead/events                 add CloudTrail records to an account:
                                        {"account": ID, "region": R, "records": [{...}]}
POST /_trailhead/regions                enable an opt-in Region for an account, as its owner's
                                        EnableRegion would: {"account": ID, "region": R}
GET  /_trailhead/regions?account=ID     the opt-in Regions enabled for an account
POST /_trailhead/deliver?digest=1       deliver every trail now (and write digests with digest=1),
                                        then evaluate every alarm, instead of waiting for the clock
"""

import json
from urllib.parse import parse_qs

import time

from . import MOTO_VERSION, alarms, delivery, identity, mfa, records, regions, sns
from .settings import SETTINGS

PREFIX = "/_trailhead/"


def _answer(start_response, status, payload):
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _account(query):
    account = (query.get("account") or [""])[0]
    return account if len(account) == 12 and account.isdigit() else None


def _body(environ):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return json.loads(environ["wsgi.input"].read(length) or b"{}")


def _events(environ, start_response):
    try:
        payload = _body(environ)
    except ValueError as e:
        return _answer(start_response, "400 Bad Request", {"error": str(e)})
    account, region = str(payload.get("account", "")), payload.get("region") or "us-east-1"
    if len(account) != 12 or not account.isdigit() or not isinstance(payload.get("records"), list):
        return _answer(start_response, "400 Bad Request",
                       {"error": 'expected {"account": "<12 digits>", "region": "...", "records": [...]}'})
    return _answer(start_response, "200 OK", {"recorded": records.inject(account, region, payload["records"])})


def _enable_region(environ, start_response):
    try:
        payload = _body(environ)
    except ValueError as e:
        return _answer(start_response, "400 Bad Request", {"error": str(e)})
    account, region = str(payload.get("account", "")), str(payload.get("region", ""))
    if len(account) != 12 or not account.isdigit() or region not in regions.OPT_IN:
        return _answer(start_response, "400 Bad Request",
                       {"error": 'expected {"account": "<12 digits>", "region": "<an opt-in Region>"}'})
    regions.enable(account, region)
    return _answer(start_response, "200 OK", {"enabled": regions.enabled_regions(account)})


def handle(environ, start_response):
    path = environ.get("PATH_INFO", "")[len(PREFIX):]
    query = parse_qs(environ.get("QUERY_STRING", ""))
    method = environ.get("REQUEST_METHOD", "GET")
    if path == "health":
        return _answer(start_response, "200 OK", {"moto": MOTO_VERSION})
    if path == "settings":
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                SETTINGS.update(json.loads(environ["wsgi.input"].read(length) or b"{}"))
            except (ValueError, TypeError) as e:
                return _answer(start_response, "400 Bad Request", {"error": str(e)})
        return _answer(start_response, "200 OK", SETTINGS.as_dict())
    if path in ("mfa", "mfa-code"):
        account = _account(query)
        if account is None:
            return _answer(start_response, "400 Bad Request", {"error": "account=<12 digits> is required"})
        answer = {"serial": mfa.serial(account), "root_access_key_id": identity.root_access_key(account)}
        if path == "mfa":
            answer["seed_base32"] = mfa.seed_base32(account)
        else:
            answer["code"] = mfa.code(account)
        return _answer(start_response, "200 OK", answer)
    if path == "sns/confirm" and method == "POST":
        topic = (query.get("topic") or [""])[0] or None
        accounts = [a for a in ",".join(query.get("account") or []).split(",") if a] or None
        return _answer(start_response, "200 OK", {"confirmed": sns.confirm(topic, accounts)})
    if path == "sns/notifications":
        topic = (query.get("topic") or [""])[0] or None
        return _answer(start_response, "200 OK", {"notifications": sns.notifications(topic)})
    if path == "events" and method == "POST":
        return _events(environ, start_response)
    if path == "events":
        account = _account(query)
        if account is None:
            return _answer(start_response, "400 Bad Request", {"error": "account=<12 digits> is required"})
        return _answer(start_response, "200 OK", {"records": records.of_account(account)})
    if path == "regions" and method == "POST":
        return _enable_region(environ, start_response)
    if path == "regions":
        account = _account(query)
        if account is None:
            return _answer(start_response, "400 Bad Request", {"error": "account=<12 digits> is required"})
        return _answer(start_response, "200 OK", {"enabled": regions.enabled_regions(account)})
    if path == "deliver" and method == "POST":
        digest = (query.get("digest") or [""])[0] in ("1", "true")
        delivery.tick(force="digest" if digest else True)
        alarms.tick(time.time())
        return _answer(start_response, "200 OK", {"delivered": True})
    return _answer(start_response, "404 Not Found", {"error": f"no control call {path}"})


def wrap(app):
    def middleware(environ, start_response):
        if environ.get("PATH_INFO", "").startswith(PREFIX):
            return handle(environ, start_response)
        return app(environ, start_response)

    return middleware
