"""AWS's own error shapes for the protocols the contract answers in."""

from moto.core.exceptions import JsonRESTError


def json_error(code, message, status=400):
    """An error of a JSON protocol (CloudTrail, KMS, CloudWatch Logs, Organizations)."""
    error = JsonRESTError(code, message)
    error.code = status
    return error


def sts_error(code, message):
    """An STS error, serialized by moto with STS's model (it finds the model by the module)."""
    from moto.sts.exceptions import STSClientError

    return STSClientError(code, message)


def s3_error(status, code, message):
    """An S3 REST error as a (status, headers, body) response."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return status, {"Content-Type": "application/xml"}, body
