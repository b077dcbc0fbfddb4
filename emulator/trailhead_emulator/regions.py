"""Opt-in Regions. A Region AWS launched after 20 March 2019 is disabled in every account until
it is enabled for that account (by its owner, or from the management account through the
Account API's EnableRegion). Until then AWS refuses every call signed for that Region with the
account's credentials: "The security token included in the request is invalid"
(UnrecognizedClientException from JSON services, InvalidClientTokenId from query services).
moto serves every Region to everyone; this refuses as AWS does, so that preflight's check of
the governed Regions can be proved.

Source: docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html (the Regions
disabled by default; a disabled Region's resources cannot be created or managed);
the error as it is met: remotion.dev/docs/lambda/troubleshooting/security-token and
github.com/nccgroup/PMapper/issues/24.

A test (or the demo) enables a Region for an account with POST /_trailhead/regions
{"account": ID, "region": R}, standing for the owner's EnableRegion.
"""

import json
import re
import threading

from . import identity

# The Regions disabled by default (the Account reference's list).
OPT_IN = frozenset({
    "af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4",
    "ap-southeast-5", "ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2",
    "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
})

_enabled = set()
_lock = threading.Lock()

_SCOPE = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


def enable(account, region):
    with _lock:
        _enabled.add((account, region))


def enabled_regions(account):
    with _lock:
        return sorted(r for a, r in _enabled if a == account)


def is_enabled(account, region):
    if region not in OPT_IN:
        return True
    with _lock:
        return (account, region) in _enabled


def _refuse(environ, start_response):
    message = "The security token included in the request is invalid."
    if environ.get("HTTP_X_AMZ_TARGET"):
        body = json.dumps({"__type": "UnrecognizedClientException", "message": message})
        headers = [("Content-Type", "application/x-amz-json-1.1")]
        status = "400 Bad Request"
    else:
        body = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>"
            f"<Message>{message}</Message></Error><RequestId>trailhead-regions</RequestId></ErrorResponse>"
        )
        headers = [("Content-Type", "text/xml")]
        status = "403 Forbidden"
    data = body.encode()
    start_response(status, headers + [("Content-Length", str(len(data)))])
    return [data]


def wrap(app):
    def middleware(environ, start_response):
        scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if scope and scope.group(2) in OPT_IN:
            caller = identity.caller_for_key(scope.group(1))
            if caller is not None and not is_enabled(caller.account, scope.group(2)):
                return _refuse(environ, start_response)
        return app(environ, start_response)

    return middleware


def install():
    """Nothing to patch in moto: the refusal is a WSGI layer (server.py wraps the app)."""
