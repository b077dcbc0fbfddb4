"""CloudWatch Logs as AWS answers it:
- DescribeMetricFilters naming a log group that does not exist answers ResourceNotFoundException
  (moto answers an empty list);
- PutMetricFilter with the name of a filter the group already has replaces it ("Creates or
  updates a metric filter"; moto appended a second filter of the same name);
- log group names must not start with `aws/` (`/aws/` is fine), InvalidParameterException;
- a group encrypted with a KMS key (CreateLogGroup with kmsKeyId, AssociateKmsKey, which moto
  does not serve, nor DisassociateKmsKey) needs a key in the group's region whose policy lets
  `logs.<region>.amazonaws.com` Encrypt, Decrypt, GenerateDataKey and DescribeKey with
  `kms:EncryptionContext:aws:logs:arn` = the group's ARN (AccessDeniedException otherwise; the
  code is unconfirmed).
Source: docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeMetricFilters.html,
API_PutMetricFilter.html,
API_CreateLogGroup.html, API_AssociateKmsKey.html, AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html.
"""

from . import kms
from .cloudtrail import partition_of
from .errors import json_error

KEY_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey")


def check_group_key(account, region, group, key_ref):
    """None, or the error CloudWatch Logs answers when it may not use the key for the group."""
    group_arn = f"arn:{partition_of(region)}:logs:{region}:{account}:log-group:{group}"
    refused = json_error(
        "AccessDeniedException",
        f"The specified KMS key does not exist or is not allowed to be used with Arn '{group_arn}'",
    )
    key = kms.find_key(key_ref, account, region)
    if key is None or key.region != region or kms.propagating(key):
        return refused
    suffix = ".cn" if partition_of(region) == "aws-cn" else ""
    service = f"logs.{region}.amazonaws.com{suffix}"
    context = {"kms:EncryptionContext:aws:logs:arn": group_arn}
    if not all(kms.service_may(key, service, action, context) for action in KEY_ACTIONS):
        return refused
    return None


def install():
    from moto.logs.models import LogsBackend

    original_describe = LogsBackend.describe_metric_filters

    def describe_metric_filters(self, prefix=None, log_group_name=None, metric_name=None, metric_namespace=None):
        if log_group_name and log_group_name not in self.groups:
            raise json_error("ResourceNotFoundException", "The specified log group does not exist.")
        return original_describe(self, prefix, log_group_name, metric_name, metric_namespace)

    LogsBackend.describe_metric_filters = describe_metric_filters

    original_put = LogsBackend.put_metric_filter

    def put_metric_filter(self, filter_name, filter_pattern, log_group_name, metric_transformations):
        self.filters.metric_filters = [
            f
            for f in self.filters.metric_filters
            if not (f["filterName"] == filter_name and f["logGroupName"] == log_group_name)
        ]
        return original_put(self, filter_name, filter_pattern, log_group_name, metric_transformations)

    LogsBackend.put_metric_filter = put_metric_filter

    original_create = LogsBackend.create_log_group

    def create_log_group(self, log_group_name, tags, **kwargs):
        if log_group_name.startswith("aws/"):
            raise json_error(
                "InvalidParameterException",
                "Log group names starting with 'aws/' are reserved for AWS services.",
            )
        if kwargs.get("kmsKeyId"):
            error = check_group_key(self.account_id, self.region_name, log_group_name, kwargs["kmsKeyId"])
            if error is not None:
                raise error
        return original_create(self, log_group_name, tags, **kwargs)

    LogsBackend.create_log_group = create_log_group
    _install_key_association()


def _install_key_association():
    from moto.logs.responses import LogsResponse

    def group_of(response):
        name = response._get_param("logGroupName")
        group = response.logs_backend.groups.get(name)
        if group is None:
            raise json_error("ResourceNotFoundException", "The specified log group does not exist.")
        return group

    def associate_kms_key(self):
        group = group_of(self)
        key_ref = self._get_param("kmsKeyId") or ""
        error = check_group_key(self.logs_backend.account_id, self.logs_backend.region_name, group.name, key_ref)
        if error is not None:
            raise error
        group.kms_key_id = key_ref
        return ""

    def disassociate_kms_key(self):
        group_of(self).kms_key_id = None
        return ""

    LogsResponse.associate_kms_key = associate_kms_key
    LogsResponse.disassociate_kms_key = disassociate_kms_key
