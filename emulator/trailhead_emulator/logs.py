"""CloudWatch Logs as AWS answers it:
- DescribeMetricFilters naming a log group that does not exist answers ResourceNotFoundException
  (moto answers an empty list);
- log group names must not start with `aws/` (`/aws/` is fine), InvalidParameterException.
Source: docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeMetricFilters.html,
API_CreateLogGroup.html.
"""

from .errors import json_error


def install():
    from moto.logs.models import LogsBackend

    original_describe = LogsBackend.describe_metric_filters

    def describe_metric_filters(self, prefix=None, log_group_name=None, metric_name=None, metric_namespace=None):
        if log_group_name and log_group_name not in self.groups:
            raise json_error("ResourceNotFoundException", "The specified log group does not exist.")
        return original_describe(self, prefix, log_group_name, metric_name, metric_namespace)

    LogsBackend.describe_metric_filters = describe_metric_filters

    original_create = LogsBackend.create_log_group

    def create_log_group(self, log_group_name, tags, **kwargs):
        if log_group_name.startswith("aws/"):
            raise json_error(
                "InvalidParameterException",
                "Log group names starting with 'aws/' are reserved for AWS services.",
            )
        return original_create(self, log_group_name, tags, **kwargs)

    LogsBackend.create_log_group = create_log_group
