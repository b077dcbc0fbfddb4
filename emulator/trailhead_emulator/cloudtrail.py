"""CloudTrail as AWS answers it (moto creates any trail it is asked for):

CreateTrail / UpdateTrail check, as CloudTrail does, that it can deliver:
- the bucket policy lets `cloudtrail.amazonaws.com` GetBucketAcl on the bucket and PutObject on
  `<bucket>/[<prefix>/]AWSLogs/<account>/*` with `s3:x-amz-acl = bucket-owner-full-control`,
  evaluated with `aws:SourceArn` (the trail ARN) and `aws:SourceAccount`
  (InsufficientS3BucketPolicyException);
- with a KMS key: the key exists in the bucket's region (KmsKeyNotFoundException), and its policy
  lets CloudTrail `kms:GenerateDataKey*` with `kms:EncryptionContext:aws:cloudtrail:arn` = the
  trail ARN, and `kms:DescribeKey`, evaluated with `aws:SourceArn` only (no `aws:SourceAccount`); and `kms:Decrypt` too when the bucket uses an S3 Bucket Key
  (InsufficientEncryptionPolicyException);
- the CloudWatch Logs role exists in the trail's account and has propagated, trusts
  `cloudtrail.amazonaws.com` without `aws:SourceArn`/`aws:SourceAccount` (CloudTrail does not
  send them for this role), and may `logs:CreateLogStream` and `logs:PutLogEvents` on the stream
  `<account>_CloudTrail_<home-region>` of the group (InvalidCloudWatchLogsRoleArnException); the
  group exists in the trail's home region (InvalidCloudWatchLogsLogGroupArnException).
Also: an existing name answers TrailAlreadyExistsException; 5 trails per region, a multi-region
trail counting in every region (MaximumNumberOfTrailsExceededException); GetTrail,
GetTrailStatus and GetEventSelectors accept a multi-region trail's ARN from any region.
With SnsTopicName (a name, or the ARN of a topic in another account) the topic's policy must let
CloudTrail `sns:Publish` with `aws:SourceArn` = the trail ARN (InsufficientSnsTopicPolicyException);
each delivered log file is then announced on the topic.
Sources: cloudtrail-permissions-for-sns-notifications.html, docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html,
create-kms-key-policy-for-cloudtrail.html, cloudtrail-required-policy-for-cloudwatch-logs.html,
WhatIsCloudTrail-Limits.html.
"""

from . import iam, kms, organizations, s3
from .errors import json_error
from .policy import Principal, allows

CLOUDTRAIL = "cloudtrail.amazonaws.com"
TRAILS_PER_REGION = 5


def partition_of(region):
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def trail_arn(region, account, name):
    return f"arn:{partition_of(region)}:cloudtrail:{region}:{account}:trail/{name}"


def _bucket_key_enabled(bucket):
    rule = (bucket.encryption or {}).get("Rule") or {}
    if isinstance(rule, list):
        rule = rule[0] if rule else {}
    return str(rule.get("BucketKeyEnabled", "false")).lower() == "true"


def _bucket_region(bucket):
    return getattr(bucket, "region_name", None)


def check_bucket(trail, bucket, key=None):
    """None, or the error AWS answers when CloudTrail could not write `key` (a probe key under
    the trail's prefix when None) to the bucket."""
    p = partition_of(trail["region"])
    context = {
        "aws:SourceArn": trail["arn"],
        "aws:SourceAccount": trail["account"],
        "aws:PrincipalIsAWSService": "true",
        "aws:SecureTransport": "true",
    }
    org = organizations.org_id_of(trail["account"])
    if org:
        context["aws:SourceOrgID"] = org
    insufficient = json_error(
        "InsufficientS3BucketPolicyException",
        f"Incorrect S3 bucket policy is detected for bucket: {bucket.name}",
    )
    if not bucket.policy:
        return insufficient
    policy = bucket.policy.decode() if isinstance(bucket.policy, bytes) else bucket.policy
    service = Principal.service(CLOUDTRAIL)
    if not allows(policy, service, "s3:GetBucketAcl", f"arn:{p}:s3:::{bucket.name}", context):
        return insufficient
    if key is None:
        key = f"{key_prefix(trail)}AWSLogs/{trail['account']}/CloudTrail/{trail['region']}/validation-probe.json.gz"
    put_context = dict(context, **{"s3:x-amz-acl": "bucket-owner-full-control"})
    if trail.get("kms_key_arn"):
        put_context["s3:x-amz-server-side-encryption"] = "aws:kms"
        put_context["s3:x-amz-server-side-encryption-aws-kms-key-id"] = trail["kms_key_arn"]
    if not allows(policy, service, "s3:PutObject", f"arn:{p}:s3:::{bucket.name}/{key}", put_context):
        return insufficient
    return None


def key_prefix(trail):
    return f"{trail['prefix']}/" if trail.get("prefix") else ""


def settings_of(trail):
    """What the checks read of a moto trail."""
    return {
        "account": trail.account_id, "region": trail.region_name, "name": trail.trail_name,
        "arn": trail.arn, "bucket": trail.bucket_name, "prefix": trail.s3_key_prefix,
        "kms_key_id": trail.kms_key_id, "cw_log_group_arn": trail.cw_log_group_arn,
        "cw_role_arn": trail.cw_role_arn, "sns_topic": trail.sns_topic_name,
    }


def check_key(trail, bucket):
    """None, or the error AWS answers when CloudTrail could not encrypt with the trail's key."""
    key = kms.find_key(trail["kms_key_id"], trail["account"], trail["region"])
    if key is None or (_bucket_region(bucket) and key.region != _bucket_region(bucket)):
        return json_error("KmsKeyNotFoundException", f"KMS key {trail['kms_key_id']} was not found in the bucket's region")
    trail["kms_key_arn"] = key.arn
    insufficient = json_error(
        "InsufficientEncryptionPolicyException",
        "Insufficient permissions to access S3 bucket or KMS key",
    )
    # CloudTrail's key-policy page documents aws:SourceArn (and the encryption context) for these
    # calls, not aws:SourceAccount: a key policy that depends on it fails here, as it may on AWS.
    deputy = {"aws:SourceArn": trail["arn"]}
    org = organizations.org_id_of(trail["account"])
    if org:
        deputy["aws:SourceOrgID"] = org
    generate = dict(deputy, **{"kms:EncryptionContext:aws:cloudtrail:arn": trail["arn"]})
    if not kms.service_may(key, CLOUDTRAIL, "kms:GenerateDataKey", generate):
        return insufficient
    if not kms.service_may(key, CLOUDTRAIL, "kms:DescribeKey", deputy):
        return insufficient
    if _bucket_key_enabled(bucket):
        # With a Bucket Key, S3 decrypts the bucket-level data key: its context is the bucket.
        p = partition_of(trail["region"])
        decrypt = dict(deputy, **{"kms:EncryptionContext:aws:s3:arn": f"arn:{p}:s3:::{bucket.name}"})
        if not kms.service_may(key, CLOUDTRAIL, "kms:Decrypt", decrypt):
            return insufficient
    return None


def check_logs_role(trail):
    """None, or the error AWS answers when CloudTrail could not deliver to CloudWatch Logs."""
    group_arn, role_arn = trail.get("cw_log_group_arn"), trail.get("cw_role_arn")
    if not group_arn and not role_arn:
        return None
    bad_role = json_error("InvalidCloudWatchLogsRoleArnException", "Access denied. Verify in IAM that the role has adequate permissions.")
    bad_group = json_error("InvalidCloudWatchLogsLogGroupArnException", "Access denied. Check the log group ARN and the role.")
    if not group_arn or not role_arn:
        return json_error("InvalidCloudWatchLogsLogGroupArnException", "You must specify a log group and a role ARN.")
    parts = group_arn.split(":")
    if len(parts) < 7 or parts[5] != "log-group" or parts[3] != trail["region"] or parts[4] != trail["account"]:
        return bad_group
    group = parts[6]
    from moto.logs.models import logs_backends

    if group not in logs_backends[trail["account"]][trail["region"]].groups:
        return bad_group
    role = iam.find_role(role_arn)
    if role is None or role_arn.split(":")[4] != trail["account"] or not iam.propagated(role):
        return bad_role
    service = Principal.service(CLOUDTRAIL)
    if not allows(role.assume_role_policy_document, service, "sts:AssumeRole", role_arn, {}):
        return bad_role
    stream = (
        f"arn:{partition_of(trail['region'])}:logs:{trail['region']}:{trail['account']}:log-group:{group}"
        f":log-stream:{trail['account']}_CloudTrail_{trail['region']}"
    )
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        if not any(allows(doc, Principal.aws(trail["account"], role_arn), action, stream) for doc in iam.role_policies(role)):
            return bad_role
    return None


def topic_arn_of(trail):
    """The notification topic a trail names (a name in its own account, or any topic's ARN)."""
    ref = trail.get("sns_topic")
    if not ref:
        return None
    if ref.startswith("arn:"):
        return ref
    return f"arn:{partition_of(trail['region'])}:sns:{trail['region']}:{trail['account']}:{ref}"


def topic_allows(trail, topic_arn):
    """Whether the topic exists and its policy lets CloudTrail publish for this trail."""
    from moto.sns.models import sns_backends

    parts = topic_arn.split(":")
    try:
        topic = sns_backends[parts[4]][parts[3]].topics[topic_arn]
    except (KeyError, IndexError):
        return False
    from . import sns

    # A policy written a moment ago is not visible to CloudTrail yet.
    if not sns.policy_visible(topic_arn):
        return False
    # Only the key CloudTrail's SNS topic policy documents: a policy that depends on another
    # (aws:SourceAccount, aws:SourceOrgID) fails here, as it may on AWS.
    context = {"aws:SourceArn": trail["arn"]}
    return allows(topic.policy, Principal.service(CLOUDTRAIL), "sns:Publish", topic_arn, context)


def check_topic(trail):
    """None, or InsufficientSnsTopicPolicyException when CloudTrail could not notify the topic."""
    arn = topic_arn_of(trail)
    if arn is None or topic_allows(trail, arn):
        return None
    return json_error("InsufficientSnsTopicPolicyException",
                      f"SNS Topic does not exist or the topic policy is incorrect: {arn}")


def validate_delivery(trail):
    """Every check CloudTrail makes on CreateTrail/UpdateTrail, in AWS's order."""
    _, bucket = s3.bucket_backend(trail["bucket"])
    if bucket is None:
        return json_error("S3BucketDoesNotExistException", f"S3 bucket {trail['bucket']} does not exist!")
    if trail.get("kms_key_id"):
        error = check_key(trail, bucket)
        if error is not None:
            return error
    return check_bucket(trail, bucket) or check_logs_role(trail) or check_topic(trail)


def _visible_trails(account, region):
    """Trails that count in a region: its own, and multi-region trails of other regions."""
    from moto.cloudtrail.models import cloudtrail_backends

    found = []
    for backend in list(cloudtrail_backends[account].values()):
        for t in backend.trails.values():
            if t.region_name == region or t.is_multi_region:
                found.append(t)
    return found


def check_quota(account, region, multi_region):
    from moto.cloudtrail.models import cloudtrail_backends

    regions = [region]
    if multi_region:
        regions = [r for r, b in cloudtrail_backends[account].items() if b.trails] + [region]
    for r in set(regions):
        if len(_visible_trails(account, r)) >= TRAILS_PER_REGION:
            return json_error(
                "MaximumNumberOfTrailsExceededException",
                f"User: {account} already has {TRAILS_PER_REGION} trails in {r}.",
            )
    return None


def _settings(backend, name, **given):
    trail = {k: v for k, v in given.items()}
    trail.update(account=backend.account_id, region=backend.region_name, name=name)
    trail["arn"] = trail_arn(backend.region_name, backend.account_id, name)
    return trail


def install():
    from moto.cloudtrail.models import CloudTrailBackend, cloudtrail_backends

    original_create = CloudTrailBackend.create_trail

    def create_trail(self, name, bucket_name, s3_key_prefix, sns_topic_name, is_global,
                     is_multi_region, log_validation, is_org_trail, cw_log_group_arn,
                     cw_role_arn, kms_key_id, tags_list):
        if any(t.trail_name == name for t in _visible_trails(self.account_id, self.region_name)):
            raise json_error("TrailAlreadyExistsException", f"Trail {name} already exists for customer: {self.account_id}")
        error = check_quota(self.account_id, self.region_name, is_multi_region)
        error = error or validate_delivery(_settings(
            self, name, bucket=bucket_name, prefix=s3_key_prefix, kms_key_id=kms_key_id,
            cw_log_group_arn=cw_log_group_arn, cw_role_arn=cw_role_arn, sns_topic=sns_topic_name,
        ))
        if error is not None:
            raise error
        return original_create(self, name, bucket_name, s3_key_prefix, sns_topic_name, is_global,
                               is_multi_region, log_validation, is_org_trail, cw_log_group_arn,
                               cw_role_arn, kms_key_id, tags_list)

    CloudTrailBackend.create_trail = create_trail

    original_update = CloudTrailBackend.update_trail

    def update_trail(self, name, s3_bucket_name, s3_key_prefix, sns_topic_name,
                     include_global_service_events, is_multi_region_trail,
                     enable_log_file_validation, is_organization_trail, cw_log_group_arn,
                     cw_role_arn, kms_key_id):
        current = self.get_trail(name)

        def pick(new, old):
            return old if new is None else new

        error = validate_delivery(_settings(
            self, current.trail_name,
            bucket=pick(s3_bucket_name, current.bucket_name),
            prefix=pick(s3_key_prefix, current.s3_key_prefix),
            kms_key_id=pick(kms_key_id, current.kms_key_id),
            cw_log_group_arn=pick(cw_log_group_arn, current.cw_log_group_arn),
            cw_role_arn=pick(cw_role_arn, current.cw_role_arn),
            sns_topic=pick(sns_topic_name, current.sns_topic_name),
        ))
        if error is not None:
            raise error
        return original_update(self, current.trail_name, s3_bucket_name, s3_key_prefix, sns_topic_name,
                               include_global_service_events, is_multi_region_trail,
                               enable_log_file_validation, is_organization_trail, cw_log_group_arn,
                               cw_role_arn, kms_key_id)

    CloudTrailBackend.update_trail = update_trail

    original_get = CloudTrailBackend.get_trail

    def get_trail(self, name_or_arn):
        if name_or_arn.startswith("arn:") and ":trail/" in name_or_arn:
            parts = name_or_arn.split(":")
            home, account = parts[3], parts[4]
            if account == self.account_id and home != self.region_name:
                home_backend = cloudtrail_backends[account][home]
                trail = next((t for t in home_backend.trails.values() if t.arn == name_or_arn), None)
                if trail is not None and trail.is_multi_region:
                    return trail
        return original_get(self, name_or_arn)

    CloudTrailBackend.get_trail = get_trail

    from moto.cloudtrail.models import Trail

    # A topic of another account is named by its ARN; check_topic above judges it (moto looked
    # only in the trail's own account, and built an ARN out of an ARN).
    Trail.topic_arn = property(lambda self: topic_arn_of({
        "sns_topic": self.sns_topic_name, "region": self.region_name, "account": self.account_id,
    }))
    Trail.check_topic_exists = lambda self: None
