"""Timings that stand in for AWS's eventual consistency, from the environment or the control API.

- TRAILHEAD_EMULATOR_IAM_DELAY: seconds a new role stays unusable by CloudTrail and AssumeRole
  (AWS: usually a few seconds, sometimes up to a minute). Default 2.
- TRAILHEAD_EMULATOR_CREATE_ACCOUNT_SECONDS: seconds CreateAccount stays IN_PROGRESS
  (AWS: minutes). Default 2.
- TRAILHEAD_EMULATOR_DELIVERY_SECONDS: how often trails deliver log files and CloudWatch Logs
  events (AWS: about every 5 minutes, within 15). Default 2.
- TRAILHEAD_EMULATOR_DIGEST_SECONDS: how often digest files are written (AWS: hourly). Default 3600.
- TRAILHEAD_EMULATOR_ALARM_TIME_FACTOR: alarm periods are divided by it (a 300 s period is
  evaluated every 5 s at 60). Default 60.
- TRAILHEAD_EMULATOR_KEY_PROPAGATION: seconds a new KMS key stays unknown to the calls that
  follow it (NotFoundException from KMS, AccessDeniedException from CloudWatch Logs); AWS: "less
  than a few seconds … in some cases several minutes". Default 1, so that tests take the retry
  paths.
- TRAILHEAD_EMULATOR_TAG_AUTHORIZATION: seconds before a KMS key's new tags count in
  authorization (`aws:ResourceTag`); AWS: "It might take up to five minutes for tag and alias
  changes to affect KMS key authorization". Default 1.
- TRAILHEAD_EMULATOR_TOPIC_POLICY_PROPAGATION: seconds a new SNS topic policy stays invisible
  to CloudTrail's CreateTrail/UpdateTrail check (InsufficientSnsTopicPolicyException), as any
  policy written seconds before may be. Default 1.
- TRAILHEAD_EMULATOR_DELIVERY: 0 turns the whole delivery machinery off (no records, no
  delivery, no alarm evaluation), to measure what it costs. Default 1.
"""

import os


def _seconds(name, default):
    try:
        return max(0.0, float(os.environ.get(name, default)))
    except ValueError:
        return default


class Settings:
    def __init__(self):
        self.iam_delay = _seconds("TRAILHEAD_EMULATOR_IAM_DELAY", 2.0)
        self.create_account_seconds = _seconds("TRAILHEAD_EMULATOR_CREATE_ACCOUNT_SECONDS", 2.0)
        self.delivery_seconds = max(0.2, _seconds("TRAILHEAD_EMULATOR_DELIVERY_SECONDS", 2.0))
        self.digest_seconds = max(1.0, _seconds("TRAILHEAD_EMULATOR_DIGEST_SECONDS", 3600.0))
        self.alarm_time_factor = max(1.0, _seconds("TRAILHEAD_EMULATOR_ALARM_TIME_FACTOR", 60.0))
        self.delivery = min(1.0, _seconds("TRAILHEAD_EMULATOR_DELIVERY", 1.0))
        self.key_propagation = _seconds("TRAILHEAD_EMULATOR_KEY_PROPAGATION", 1.0)
        self.tag_authorization = _seconds("TRAILHEAD_EMULATOR_TAG_AUTHORIZATION", 1.0)
        self.topic_policy_propagation = _seconds("TRAILHEAD_EMULATOR_TOPIC_POLICY_PROPAGATION", 1.0)

    # name → smallest value allowed
    FIELDS = {"iam_delay": 0.0, "create_account_seconds": 0.0, "delivery_seconds": 0.2,
              "digest_seconds": 1.0, "alarm_time_factor": 1.0, "delivery": 0.0,
              "key_propagation": 0.0, "tag_authorization": 0.0, "topic_policy_propagation": 0.0}

    def update(self, values):
        for name, lowest in self.FIELDS.items():
            if name in values:
                value = max(lowest, float(values[name]))
                setattr(self, name, min(value, 1.0) if name == "delivery" else value)

    def as_dict(self):
        return {name: getattr(self, name) for name in self.FIELDS}


SETTINGS = Settings()
