"""Timings that stand in for AWS's eventual consistency, from the environment or the control API.

- TRAILHEAD_EMULATOR_IAM_DELAY: seconds a new role stays unusable by CloudTrail and AssumeRole
  (AWS: usually a few seconds, sometimes up to a minute). Default 2.
- TRAILHEAD_EMULATOR_CREATE_ACCOUNT_SECONDS: seconds CreateAccount stays IN_PROGRESS
  (AWS: minutes). Default 2.
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

    def update(self, values):
        if "iam_delay" in values:
            self.iam_delay = max(0.0, float(values["iam_delay"]))
        if "create_account_seconds" in values:
            self.create_account_seconds = max(0.0, float(values["create_account_seconds"]))

    def as_dict(self):
        return {"iam_delay": self.iam_delay, "create_account_seconds": self.create_account_seconds}


SETTINGS = Settings()
