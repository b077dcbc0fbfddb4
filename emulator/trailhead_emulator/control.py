"""The emulator's own control API, under /_trailhead/, for tests and the demo. It never exists on
AWS; trailhead's product code never calls it.

GET  /_trailhead/health                 {"moto": "5.2.5"}
GET  /_trailhead/settings               the timings in force (settings.py)
POST /_trailhead/settings               change them: {"iam_delay": 1, "create_account_seconds": 1}
GET  /_trailhead/mfa?account=ID         the root user's virtual MFA device: serial and TOTP seed
GET  /_trailhead/mfa-code?account=ID    its current code (so a demo need not implement TOTP)
POST /_trailhead/sns/confirm?topic=ARN  confirm the topic's pending email subscriptions (all
                                        topics' without `topic`)
"""

import json
from urllib.parse import parse_qs

from . import MOTO_VERSION, identity, mfa, sns
from .settings import SETTINGS

PREFIX = "/_trailhead/"


def _answer(start_response, status, payload):
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _account(query):
    account = (query.get("account") or [""])[0]
    return account if len(account) == 12 and account.isdigit() else None


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
        return _answer(start_response, "200 OK", {"confirmed": sns.confirm(topic)})
    return _answer(start_response, "404 Not Found", {"error": f"no control call {path}"})


def wrap(app):
    def middleware(environ, start_response):
        if environ.get("PATH_INFO", "").startswith(PREFIX):
            return handle(environ, start_response)
        return app(environ, start_response)

    return middleware
