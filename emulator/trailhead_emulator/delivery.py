"""CloudTrail after StartLogging: log files, digest files and CloudWatch Logs delivery.

Every `delivery_seconds` (settings.py), each logging trail takes the records (records.py) of its
account in its regions (every region when multi-region; global-service events only with
IncludeGlobalServiceEvents) that its event selectors select, and
- writes them to S3 as `cloudtrail.amazonaws.com`, gzipped `{"Records": [...]}` under
  `[<prefix>/]AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 chars>.json.gz`,
  SSE-KMS under the trail's key. The bucket policy (with aws:SourceArn / aws:SourceAccount) and
  the key policy (kms:GenerateDataKey with kms:EncryptionContext:aws:cloudtrail:arn) are
  evaluated for each file, as for CreateTrail (cloudtrail.py). A refusal is kept in
  GetTrailStatus.LatestDeliveryError (AccessDenied, InsufficientEncryptionPolicyException,
  NoSuchBucket, KMS.NotFoundException) and the records stay queued: nothing is dropped, and the
  next success clears the error. LatestDeliveryTime is the last success;
- puts them in the trail's log group, stream `<acct>_CloudTrail_<home-region>`, through the
  CloudWatch Logs role (trust, permissions and propagation evaluated; refusals in
  LatestCloudWatchLogsDeliveryError), where the group's metric filters see them (metrics.py);
- every `digest_seconds` (hourly by default), writes a signed digest file per region, chained to
  the previous one (signing.py), SSE-S3 as on AWS; errors in LatestDigestDeliveryError.
StopLogging delivers what was recorded up to it (the StopLogging event included) and a final
digest; StartLogging starts a new chain.
Sources: docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-find-log-files.html,
cloudtrail-log-file-validation-digest-file-structure.html, send-cloudtrail-events-to-cloudwatch-logs.html.
"""

import gzip
import hashlib
import json
import secrets
import string
import sys
import threading
import time
import traceback
from datetime import datetime, timezone

from . import backends, cloudtrail, records, s3, signing, sns
from .settings import SETTINGS

CLOUDTRAIL = "cloudtrail.amazonaws.com"
MAX_RECORDS_PER_FILE = 1000
# Records of a StopLogging call are stored just after the call returns.
STOP_GRACE_SECONDS = 0.5

# Serializes delivery passes (the clock's and the control API's); calls never wait for it.
LOCK = threading.RLock()
_STATES_LOCK = threading.Lock()
STATES = {}


class Chain:
    """One region's digest chain."""

    def __init__(self, start):
        self.start = start
        self.previous = None  # (bucket, key, signature, sha256 hex)
        self.log_files = []


class TrailState:
    def __init__(self):
        self.started = None
        self.stopped = None
        self.cursors = {}
        self.cwl_cursors = {}
        self.chains = {}
        self.last_delivery = 0.0
        self.last_digest = 0.0
        self.delivery_time = None
        self.delivery_error = None
        self.delivery_attempt = None
        self.cwl_time = None
        self.cwl_error = None
        self.digest_time = None
        self.digest_error = None

    def begin(self, now):
        self.started, self.stopped = now, None
        self.cursors, self.cwl_cursors, self.chains = {}, {}, {}
        self.last_digest = now


def state_of(trail):
    with _STATES_LOCK:
        return STATES.setdefault(trail.arn, TrailState())


def _utc(t):
    return datetime.fromtimestamp(t, timezone.utc)


def _iso(t):
    return _utc(t).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- which records a trail takes -------------------------------------------------------------

def _field_matches(value, selector):
    value = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    checks = (
        ("Equals", lambda w: value == w), ("NotEquals", lambda w: value != w),
        ("StartsWith", value.startswith), ("NotStartsWith", lambda w: not value.startswith(w)),
        ("EndsWith", value.endswith), ("NotEndsWith", lambda w: not value.endswith(w)),
    )
    for name, test in checks:
        wanted = selector.get(name)
        if not wanted:
            continue
        if name.startswith("Not"):
            if not all(test(w) for w in wanted):
                return False
        elif not any(test(w) for w in wanted):
            return False
    return True


def _advanced_selects(selector, record):
    fields = selector.get("FieldSelectors", [])
    # A data selector names its resource type; its ARN conditions apply to that resource (an S3
    # object event also lists the bucket, whose ARN must not answer for the object's).
    wanted_types = next((f.get("Equals") for f in fields if f.get("Field") == "resources.type"), None)
    typed = [r for r in record.get("resources") or [] if not wanted_types or r.get("type") in wanted_types]
    for field in fields:
        name = field.get("Field")
        if name in ("resources.type", "resources.ARN"):
            key = "type" if name == "resources.type" else "ARN"
            values = [r.get(key) for r in typed] or [None]
            if not any(_field_matches(v, field) for v in values):
                return False
        elif not _field_matches(record.get(name), field):
            return False
    return True


def _basic_selects(selector, record):
    if record.get("managementEvent", True):
        if not selector.get("IncludeManagementEvents", True):
            return False
        if record.get("eventSource") in selector.get("ExcludeManagementEventSources", []):
            return False
    else:
        arns = [r.get("ARN", "") for r in record.get("resources") or []]
        wanted = [v for d in selector.get("DataResources", []) for v in d.get("Values", [])]
        if not any(a.startswith(w) or w in ("arn:aws:s3", "arn:aws:s3:::") for a in arns for w in wanted):
            return False
    kind = selector.get("ReadWriteType", "All")
    return kind == "All" or (kind == "ReadOnly") == bool(record.get("readOnly"))


def selects(trail, record):
    """Whether the trail's event selectors take the record (all management events by default)."""
    if not trail.include_global_service_events and record.get("eventSource") in records.GLOBAL_SOURCES:
        return False
    advanced = getattr(trail, "advanced_event_selectors", None) or []
    basic = getattr(trail, "event_selectors", None) or []
    if advanced:
        return any(_advanced_selects(s, record) for s in advanced)
    if basic:
        return any(_basic_selects(s, record) for s in basic)
    return record.get("managementEvent", True)


def _regions(trail):
    if trail.is_multi_region:
        return sorted(set(records.regions_of(trail.account_id)) | {trail.region_name})
    return [trail.region_name]


def _pending(trail, state, cursors, region, until):
    """(selected records, index after the last record taken) of one region."""
    if region not in cursors:
        cursors[region] = records.first_index_at(trail.account_id, region, state.started)
    queued, _ = records.since(trail.account_id, region, cursors[region])
    taken = [(t, r) for t, r in queued if t <= until][:MAX_RECORDS_PER_FILE]
    return [(t, r) for t, r in taken if selects(trail, r)], cursors[region] + len(taken)


# ---- S3 --------------------------------------------------------------------------------------

def _random_suffix():
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(16))


def _day_folder(trail, kind, region, day):
    prefix = cloudtrail.key_prefix({"prefix": trail.s3_key_prefix})
    return f"{prefix}AWSLogs/{trail.account_id}/{kind}/{region}/{day:%Y/%m/%d}/"


def log_key(trail, region, t):
    day = _utc(t)
    name = f"{trail.account_id}_CloudTrail_{region}_{day:%Y%m%dT%H%MZ}_{_random_suffix()}.json.gz"
    return _day_folder(trail, "CloudTrail", region, day) + name


def _refusal_code(error):
    code = getattr(error, "error_type", None) or type(error).__name__
    return {
        "InsufficientS3BucketPolicyException": "AccessDenied",
        "KmsKeyNotFoundException": "KMS.NotFoundException",
    }.get(code, code)


def _write_as_cloudtrail(trail, key, body, encrypted):
    """Puts one object as CloudTrail would; None, or the error code AWS reports."""
    backend, bucket = s3.bucket_backend(trail.bucket_name)
    if bucket is None:
        return None, "NoSuchBucket"
    settings = cloudtrail.settings_of(trail)
    if encrypted and trail.kms_key_id:
        error = cloudtrail.check_key(settings, bucket)
        if error is not None:
            return None, _refusal_code(error)
    error = cloudtrail.check_bucket(settings, bucket, key=key)
    if error is not None:
        return None, _refusal_code(error)
    kms = encrypted and settings.get("kms_key_arn")
    stored = backend.put_object(
        trail.bucket_name, key, gzip.compress(body, compresslevel=6, mtime=0),
        encryption="aws:kms" if kms else "AES256", kms_key_id=settings.get("kms_key_arn") if kms else None,
        disable_notification=True,
    )
    if kms:
        stored.trailhead_encryption_context = {"aws:cloudtrail:arn": trail.arn}
    owner = s3.bucket_owner(trail.bucket_name)
    if owner:
        region = getattr(bucket, "region_name", trail.region_name)
        records.store(owner, region, records.service_record(
            owner, region, CLOUDTRAIL, "PutObject", {"bucketName": trail.bucket_name, "key": key},
            [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{trail.bucket_name}/{key}"}],
        ))
    return stored, None


def _notify(trail, key):
    """CloudTrail's notice of a delivered log file, on the trail's topic, when the topic's
    policy still lets CloudTrail publish."""
    settings = cloudtrail.settings_of(trail)
    topic = cloudtrail.topic_arn_of(settings)
    if topic and cloudtrail.topic_allows(settings, topic):
        message = json.dumps({"s3Bucket": trail.bucket_name, "s3ObjectKey": [key]})
        sns.deliver(topic, None, message)


def _deliver_region(trail, state, region, now, until):
    batch, after = _pending(trail, state, state.cursors, region, until)
    if not batch:
        state.cursors[region] = after
        return
    body = json.dumps({"Records": [r for _, r in batch]}).encode()
    key = log_key(trail, region, now)
    state.delivery_attempt = now
    stored, error = _write_as_cloudtrail(trail, key, body, encrypted=True)
    if error:
        state.delivery_error = error
        return
    state.cursors[region] = after
    state.delivery_time, state.delivery_error = now, None
    _notify(trail, key)
    chain = state.chains.setdefault(region, Chain(state.started))
    chain.log_files.append({
        "s3Bucket": trail.bucket_name, "s3Object": key,
        "hashValue": hashlib.sha256(body).hexdigest(), "hashAlgorithm": "SHA-256",
        "newestEventTime": batch[-1][1].get("eventTime"), "oldestEventTime": batch[0][1].get("eventTime"),
    })


# ---- CloudWatch Logs -------------------------------------------------------------------------

def _deliver_cloudwatch_logs(trail, state, now, until):
    if not trail.cw_log_group_arn or not trail.cw_role_arn:
        return
    batches = {r: _pending(trail, state, state.cwl_cursors, r, until) for r in _regions(trail)}
    events = sorted((t, rec) for batch, _ in batches.values() for t, rec in batch)
    if not events:
        for region, (_, after) in batches.items():
            state.cwl_cursors[region] = after
        return
    error = cloudtrail.check_logs_role(cloudtrail.settings_of(trail))
    if error is not None:
        code = getattr(error, "error_type", "")
        state.cwl_error = "ResourceNotFoundException" if "LogGroup" in code else "AccessDeniedException"
        return
    from moto.logs.models import logs_backends

    from . import metrics

    group = trail.cw_log_group_arn.split(":")[6]
    stream = f"{trail.account_id}_CloudTrail_{trail.region_name}"
    backend = logs_backends[trail.account_id][trail.region_name]
    log_group = backend.groups.get(group)
    if log_group is None:
        state.cwl_error = "ResourceNotFoundException"
        return
    if stream not in log_group.streams:
        backend.create_log_stream(group, stream)
    messages = [(int(t * 1000), json.dumps(rec)) for t, rec in events]
    backend.put_log_events(group, stream, [{"timestamp": ms, "message": m} for ms, m in messages])
    for region, (_, after) in batches.items():
        state.cwl_cursors[region] = after
    state.cwl_time, state.cwl_error = now, None
    metrics.apply_filters(trail.account_id, trail.region_name, group, messages, [rec for _, rec in events])


# ---- digests ---------------------------------------------------------------------------------

def digest_key(trail, region, end):
    day = _utc(end)
    name = (f"{trail.account_id}_CloudTrail-Digest_{region}_{trail.trail_name}_{trail.region_name}"
            f"_{day:%Y%m%dT%H%M%SZ}.json.gz")
    return _day_folder(trail, "CloudTrail-Digest", region, day) + name


def _deliver_digest(trail, state, region, now):
    chain = state.chains.setdefault(region, Chain(state.started))
    end = max(int(now), int(chain.start) + 1)
    key = digest_key(trail, region, end)
    signer = signing.current(region, now)
    previous = chain.previous
    logs = chain.log_files
    digest = {
        "awsAccountId": trail.account_id,
        "digestStartTime": _iso(chain.start), "digestEndTime": _iso(end),
        "digestS3Bucket": trail.bucket_name, "digestS3Object": key,
        "digestPublicKeyFingerprint": signer.fingerprint, "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": logs[-1]["newestEventTime"] if logs else None,
        "oldestEventTime": logs[0]["oldestEventTime"] if logs else None,
        "previousDigestS3Bucket": previous[0] if previous else None,
        "previousDigestS3Object": previous[1] if previous else None,
        "previousDigestHashValue": previous[3] if previous else None,
        "previousDigestHashAlgorithm": "SHA-256" if previous else None,
        "previousDigestSignature": previous[2] if previous else None,
        "logFiles": logs,
    }
    body = json.dumps(digest).encode()
    body_hash = hashlib.sha256(body).hexdigest()
    to_sign = f"{digest['digestEndTime']}\n{trail.bucket_name}/{key}\n{body_hash}\n{previous[2] if previous else 'null'}"
    signature = signer.sign(to_sign)
    stored, error = _write_as_cloudtrail(trail, key, body, encrypted=False)
    if error:
        state.digest_error = error
        return
    stored.set_metadata({"x-amz-meta-signature": signature, "x-amz-meta-signature-algorithm": "SHA256withRSA"})
    chain.previous = (trail.bucket_name, key, signature, body_hash)
    chain.log_files = []
    chain.start = end
    state.digest_time, state.digest_error = now, None


# ---- the loop --------------------------------------------------------------------------------

def deliver_trail(trail, now, force=False):
    state = state_of(trail)
    if state.started is None:
        return
    stopping = state.stopped is not None
    if not trail.status.is_logging and not stopping:
        return
    if not force and now - state.last_delivery < SETTINGS.delivery_seconds:
        return
    state.last_delivery = now
    until = state.stopped + STOP_GRACE_SECONDS if stopping else now
    for region in _regions(trail):
        _deliver_region(trail, state, region, now, until)
    _deliver_cloudwatch_logs(trail, state, now, until)
    digest_due = now - state.last_digest >= SETTINGS.digest_seconds
    # A refused digest is tried again on the next pass, as CloudTrail retries it.
    retry = state.digest_error is not None
    if trail.log_validation and (digest_due or stopping or retry or force == "digest"):
        state.last_digest = now
        for region in sorted(set(state.chains) | {trail.region_name}):
            _deliver_digest(trail, state, region, now)
    if stopping and now >= until:
        state.started = None  # the chain ends here; StartLogging begins a new one


def tick(now=None, force=False):
    from moto.cloudtrail.models import cloudtrail_backends

    now = now or time.time()
    with LOCK:
        for _, _, backend in backends.existing(cloudtrail_backends):
            for trail in list(backend.trails.values()):
                try:
                    deliver_trail(trail, now, force)
                except Exception:  # one trail's bug must not stop every delivery
                    traceback.print_exc(file=sys.stderr)


def status_of(trail):
    """GetTrailStatus as AWS fills it, from what was really delivered."""
    state = state_of(trail)
    status = trail.status
    answer = {"IsLogging": status.is_logging}
    if status.started:
        answer["StartLoggingTime"] = status.started.replace(tzinfo=timezone.utc).timestamp()
        answer["TimeLoggingStarted"] = status.started.strftime("%Y-%m-%dT%H:%M:%SZ")
    if status.stopped:
        answer["StopLoggingTime"] = status.stopped.replace(tzinfo=timezone.utc).timestamp()
        answer["TimeLoggingStopped"] = status.stopped.strftime("%Y-%m-%dT%H:%M:%SZ")
    for name, value in (
        ("LatestDeliveryTime", state.delivery_time),
        ("LatestCloudWatchLogsDeliveryTime", state.cwl_time),
        ("LatestDigestDeliveryTime", state.digest_time),
    ):
        if value is not None:
            answer[name] = value
    if state.delivery_attempt is not None:
        answer["LatestDeliveryAttemptTime"] = _iso(state.delivery_attempt)
        answer["LatestDeliveryAttemptSucceeded"] = _iso(state.delivery_time) if state.delivery_time else ""
    for name, value in (
        ("LatestDeliveryError", state.delivery_error),
        ("LatestCloudWatchLogsDeliveryError", state.cwl_error),
        ("LatestDigestDeliveryError", state.digest_error),
    ):
        if value:
            answer[name] = value
    return answer


def install():
    from moto.cloudtrail.models import Trail
    from moto.cloudtrail.responses import CloudTrailResponse

    original_start, original_stop = Trail.start_logging, Trail.stop_logging

    def start_logging(self):
        # From the StartLogging call on: its own record is the trail's first.
        state_of(self).begin(records.request_time())
        original_start(self)

    def stop_logging(self):
        state = state_of(self)
        if state.started is not None:
            state.stopped = time.time()
        original_stop(self)

    Trail.start_logging, Trail.stop_logging = start_logging, stop_logging

    def get_trail_status(self):
        name = self._get_param("Name")
        self.cloudtrail_backend.get_trail_status(name)  # TrailNotFoundException as moto answers it
        trail = next(t for t in self.cloudtrail_backend.describe_trails(True)
                     if t.trail_name == name or t.arn == name)
        return json.dumps(status_of(trail))

    CloudTrailResponse.get_trail_status = get_trail_status
