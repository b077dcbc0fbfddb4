"""CloudTrail records of the calls the emulator serves, and of the ones tests inject.

Every signed API call becomes one record in its caller's account and region, with the field set
of docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html:
`userIdentity` from the signing credentials (Root, AssumedRole with its session, IAMUser),
`errorCode`/`errorMessage` when the call failed, `readOnly`, `managementEvent`, `eventCategory`,
`eventType`, `recipientAccountId`. Calls to global services (IAM, Organizations) are recorded in
us-east-1, as AWS does. S3 object calls are data events. Secrets (session tokens, MFA codes,
secret keys) never enter a record.

Records wait here until a trail delivers them (delivery.py). Tests and the demo add records the
emulator cannot produce itself (a console sign-in without MFA, root activity) through
POST /_trailhead/events.
"""

import io
import json
import re
import threading
import time
import uuid
from collections import defaultdict
from datetime import datetime, timezone
from urllib.parse import parse_qs, unquote

from . import enforce, identity, iam
from .settings import SETTINGS

EVENT_VERSION = "1.09"
GLOBAL_SOURCES = ("iam.amazonaws.com", "organizations.amazonaws.com")

# Signing names whose eventSource differs.
_SOURCE = {"monitoring": "monitoring.amazonaws.com"}

# S3 bucket sub-resources → CloudTrail event names for (GET, PUT, DELETE).
_S3_EVENTS = {
    "versioning": ("GetBucketVersioning", "PutBucketVersioning", None),
    "publicAccessBlock": ("GetBucketPublicAccessBlock", "PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock"),
    "ownershipControls": ("GetBucketOwnershipControls", "PutBucketOwnershipControls", "DeleteBucketOwnershipControls"),
    "encryption": ("GetBucketEncryption", "PutBucketEncryption", "DeleteBucketEncryption"),
    "lifecycle": ("GetBucketLifecycle", "PutBucketLifecycle", "DeleteBucketLifecycle"),
    "logging": ("GetBucketLogging", "PutBucketLogging", None),
    "policy": ("GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"),
    "object-lock": ("GetObjectLockConfiguration", "PutObjectLockConfiguration", None),
    "location": ("GetBucketLocation", None, None),
    "tagging": ("GetBucketTagging", "PutBucketTagging", "DeleteBucketTagging"),
    "acl": ("GetBucketAcl", "PutBucketAcl", None),
    "cors": ("GetBucketCors", "PutBucketCors", "DeleteBucketCors"),
    "replication": ("GetBucketReplication", "PutBucketReplication", "DeleteBucketReplication"),
}
_READ_PREFIXES = ("Get", "List", "Describe", "Head", "Lookup", "BatchGet", "Search")
_SECRET_PARAMETER = re.compile(r"(?i)(token|secret|password|code$)")

_REQUEST = threading.local()

LOCK = threading.Lock()
# (account, region) → [(time, record)], in the order the calls were served.
RECORDS = defaultdict(list)
# account → the regions it has records in (every multi-region trail asks, on every tick).
REGIONS = defaultdict(set)


def now_iso(t=None):
    return datetime.fromtimestamp(t or time.time(), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def request_time():
    """When the call being served arrived (its record's time), or now outside a call."""
    return getattr(_REQUEST, "started", None) or time.time()


def store(account, region, record, t=None):
    with LOCK:
        RECORDS[(account, region)].append((t or time.time(), record))
        REGIONS[account].add(region)


def since(account, region, index):
    """Records of an account and region from `index` on, and the index after them."""
    with LOCK:
        records = RECORDS.get((account, region), [])
        return records[index:], len(records)


def first_index_at(account, region, t):
    """The index of the first record of an account and region at or after `t`."""
    with LOCK:
        records = RECORDS.get((account, region), [])
        index = len(records)
        while index > 0 and records[index - 1][0] >= t:
            index -= 1
        return index


def of_account(account):
    """Every record of an account, in the order they were recorded."""
    with LOCK:
        found = [(t, r) for (a, _), recs in RECORDS.items() if a == account for t, r in recs]
    return [r for _, r in sorted(found, key=lambda item: item[0])]


def regions_of(account):
    with LOCK:
        return sorted(REGIONS.get(account, ()))


def user_identity(caller):
    if caller.kind == "root":
        return {"type": "Root", "principalId": caller.account, "arn": caller.arn,
                "accountId": caller.account, "accessKeyId": caller.access_key}
    if caller.kind == "assumed-role":
        role = iam.find_role(caller.role_arn or "")
        role_id = getattr(role, "id", "AROAEMULATOR")
        session = caller.arn.rsplit("/", 1)[-1]
        return {
            "type": "AssumedRole", "principalId": f"{role_id}:{session}", "arn": caller.arn,
            "accountId": caller.account, "accessKeyId": caller.access_key,
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": role_id, "arn": caller.role_arn,
                                  "accountId": caller.account,
                                  "userName": (caller.role_arn or "").rsplit("/", 1)[-1]},
                "attributes": {"creationDate": now_iso(), "mfaAuthenticated": "false"},
            },
        }
    return {"type": "IAMUser", "principalId": "AIDAEMULATOR", "arn": caller.arn,
            "accountId": caller.account, "accessKeyId": caller.access_key,
            "userName": caller.arn.rsplit("/", 1)[-1]}


def service_identity(service):
    return {"type": "AWSService", "invokedBy": service}


def _s3_event(method, path, query):
    """(eventName, bucket, key) of an S3 REST call."""
    parts = [unquote(p) for p in path.split("/") if p]
    bucket = parts[0] if parts else None
    key = "/".join(parts[1:]) or None
    index = {"GET": 0, "HEAD": 0, "PUT": 1, "DELETE": 2}.get(method)
    if key is None:
        for sub, names in _S3_EVENTS.items():
            if sub in query and index is not None and names[index]:
                return names[index], bucket, None
        if bucket is None:
            return "ListBuckets", None, None
        return {"HEAD": "HeadBucket", "GET": "ListObjects", "PUT": "CreateBucket",
                "DELETE": "DeleteBucket", "POST": "DeleteObjects"}.get(method), bucket, None
    return {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject",
            "DELETE": "DeleteObject"}.get(method), bucket, key


def _parameters(environ, body, service):
    """requestParameters: the JSON body or the form, without anything secret."""
    params = None
    content = environ.get("CONTENT_TYPE", "")
    if environ.get("HTTP_X_AMZ_TARGET") and body:
        try:
            params = json.loads(body)
        except ValueError:
            params = None
    elif body and "x-www-form-urlencoded" in content:
        form = parse_qs(body.decode("utf-8", "replace"))
        params = {k: v[0] for k, v in form.items() if k not in ("Action", "Version")}
    if isinstance(params, dict):
        params = {k: v for k, v in params.items() if not _SECRET_PARAMETER.search(k)}
    return params or None


def _event_name(environ, body, service):
    path = environ.get("PATH_INFO", "")
    if "/operation/" in path:
        return path.rsplit("/operation/", 1)[1].strip("/")
    action = enforce.request_action(environ, body)
    return action.split(":", 1)[1] if action else None


def _error_of(status, headers, body):
    """(errorCode, errorMessage) of a failed response."""
    header = {k.lower(): v for k, v in headers}
    code = header.get("x-amzn-errortype", "").split(":")[0] or None
    message = None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    try:
        doc = json.loads(text)
        code = code or str(doc.get("__type", "")).rsplit("#", 1)[-1] or None
        message = doc.get("message") or doc.get("Message")
    except (ValueError, AttributeError):
        found = re.search(r"<Code>([^<]+)</Code>", text)
        code = code or (found.group(1) if found else None)
        found = re.search(r"<Message>([^<]*)</Message>", text)
        message = found.group(1) if found else None
    return code or f"HTTP{status}", message


def api_record(environ, body, caller, t):
    """The record of one served call (without its outcome), its account and region; or None."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    scope = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request", auth)
    if not scope:
        return None
    region, service = scope.group(1), scope.group(2)
    source = _SOURCE.get(service, f"{service}.amazonaws.com")
    resources = None
    category = "Management"
    if service == "s3":
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        name, bucket, key = _s3_event(environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""), query)
        params = {"bucketName": bucket, "Host": environ.get("HTTP_HOST", "")}
        if key:
            params["key"] = key
            category = "Data"
            resources = [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
                         {"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]
        elif name == "ListObjects":
            # Listing a bucket's objects is object-level activity: a data event.
            category = "Data"
            resources = [{"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]
    else:
        name = _event_name(environ, body, service)
        params = _parameters(environ, body, service)
    if not name:
        return None
    if source in GLOBAL_SOURCES:
        region = "us-east-1"
    record = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": user_identity(caller),
        "eventTime": now_iso(t),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": environ.get("REMOTE_ADDR", "127.0.0.1"),
        "userAgent": environ.get("HTTP_USER_AGENT", ""),
        "requestParameters": params,
        "responseElements": None,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": name.startswith(_READ_PREFIXES),
        "eventType": "AwsApiCall",
        "managementEvent": category == "Management",
        "recipientAccountId": caller.account,
        "eventCategory": category,
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                       "clientProvidedHostHeader": environ.get("HTTP_HOST", "")},
    }
    if resources:
        record["resources"] = resources
    return caller.account, region, record


def service_record(account, region, service, name, params, resources=None):
    """A data event of a call an AWS service made in an account (CloudTrail writing a log
    file to the archive bucket, for example)."""
    record = {
        "eventVersion": EVENT_VERSION, "userIdentity": service_identity(service),
        "eventTime": now_iso(), "eventSource": "s3.amazonaws.com", "eventName": name,
        "awsRegion": region, "sourceIPAddress": service, "userAgent": service,
        "requestParameters": params, "responseElements": None, "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()), "readOnly": False, "eventType": "AwsApiCall",
        "managementEvent": False, "recipientAccountId": account, "eventCategory": "Data",
        "sharedEventID": str(uuid.uuid4()),
    }
    if resources:
        record["resources"] = resources
    return record


def inject(account, region, records):
    """Stores records a test wrote, completing the fields CloudTrail always sets."""
    count = 0
    for given in records:
        if not isinstance(given, dict):
            continue
        record = {
            "eventVersion": EVENT_VERSION, "eventTime": now_iso(), "awsRegion": region,
            "sourceIPAddress": "198.51.100.7", "userAgent": "trailhead-emulator-inject",
            "requestParameters": None, "responseElements": None,
            "eventID": str(uuid.uuid4()), "readOnly": False, "eventType": "AwsApiCall",
            "managementEvent": True, "recipientAccountId": account, "eventCategory": "Management",
            "userIdentity": {"type": "Root", "principalId": account,
                             "arn": f"arn:aws:iam::{account}:root", "accountId": account},
        }
        record.update(given)
        store(account, record.get("awsRegion", region), record)
        count += 1
    return count


def wrap(app):
    """Records every signed call after it was served, with its outcome."""

    def middleware(environ, start_response):
        key = identity.access_key_of_environ(environ)
        if not key or not SETTINGS.delivery:
            return app(environ, start_response)
        t = time.time()
        _REQUEST.started = t
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        outcome = {}

        def recording_start_response(status, headers, exc_info=None):
            outcome["status"] = int(status.split(" ", 1)[0])
            outcome["headers"] = headers
            return start_response(status, headers, exc_info)

        try:
            result = app(environ, recording_start_response)
        finally:
            _REQUEST.started = None
        try:
            caller = identity.caller_for_key(key)
            found = api_record(environ, body, caller, t) if caller else None
        except Exception:  # recording must never break the call it records
            found = None
        if found is None:
            return result
        account, region, record = found
        if outcome.get("status", 200) >= 400:
            chunks = list(result)
            record["errorCode"], record["errorMessage"] = _error_of(
                outcome["status"], outcome.get("headers", []), b"".join(chunks))
            result = chunks
        store(account, region, record, t)
        return result

    return middleware
