"""One emulator server for the whole pytest session, started from this checkout's package over
TLS on a free port, with short (but nonzero) consistency delays so that waits are exercised."""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import boto3
import pytest
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)
sys.path.insert(0, PACKAGE_ROOT)

IAM_DELAY = 1.0
CREATE_ACCOUNT_SECONDS = 1.0
REGION = "eu-west-1"
DELIVERY_SECONDS = 1.0
# A 60 s alarm period lasts 0.5 s.
ALARM_TIME_FACTOR = 120.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator:
    def __init__(self, endpoint, ca):
        self.endpoint = endpoint
        self.ca = ca

    def client(self, service, key="testing", secret="testing", token=None, region=REGION):
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.endpoint,
            verify=self.ca,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                          # The development server reads no chunked bodies, which checksum
                          # trailers would make every PutObject.
                          request_checksum_calculation="when_required"),
        )

    def control(self, path, payload=None):
        from trailhead_emulator.client import call

        return call(self.endpoint, self.ca, path, payload)

    def root(self, service, account, region=REGION):
        return self.client(service, key=f"AKIAROOT{account}", region=region)

    def assume(self, service, account, role="OrganizationAccountAccessRole", region=REGION):
        creds = self.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName="pytest"
        )["Credentials"]
        return self.client(
            service, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"], region
        )


@pytest.fixture(scope="session")
def emulator():
    state = tempfile.mkdtemp(prefix="trailhead-emulator-test-")
    port = free_port()
    env = dict(
        os.environ,
        PYTHONPATH=PACKAGE_ROOT,
        TRAILHEAD_EMULATOR_IAM_DELAY=str(IAM_DELAY),
        TRAILHEAD_EMULATOR_CREATE_ACCOUNT_SECONDS=str(CREATE_ACCOUNT_SECONDS),
        TRAILHEAD_EMULATOR_DELIVERY_SECONDS=str(DELIVERY_SECONDS),
        TRAILHEAD_EMULATOR_ALARM_TIME_FACTOR=str(ALARM_TIME_FACTOR),
        # No key lag but in the test of it: the others create a key and use it at once.
        TRAILHEAD_EMULATOR_KEY_PROPAGATION="0",
        TRAILHEAD_EMULATOR_TAG_AUTHORIZATION="0",
        TRAILHEAD_EMULATOR_TOPIC_POLICY_PROPAGATION="0",
    )
    log = open(os.path.join(state, "moto.log"), "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "trailhead_emulator", "--dir", state, "--port", str(port)],
        env=env, stdout=log, stderr=log,
    )
    endpoint = f"https://127.0.0.1:{port}"
    ca = os.path.join(state, "ca.pem")
    deadline = time.time() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the emulator exited; see {log.name}")
        try:
            if os.path.exists(ca):
                Emulator(endpoint, ca).control("health")
                break
        except OSError:
            pass
        if time.time() > deadline:
            raise RuntimeError(f"the emulator did not start; see {log.name}")
        time.sleep(0.2)
    yield Emulator(endpoint, ca)
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def org(emulator):
    """An organization managed by moto's default account, with one member account, created
    through CreateAccount and waited for like trailhead does."""
    client = emulator.client("organizations")
    try:
        client.create_organization(FeatureSet="ALL")
    except client.exceptions.AlreadyInOrganizationException:
        pass
    status = client.create_account(AccountName="member", Email=f"member-{uuid.uuid4().hex[:8]}@example.com")
    request = status["CreateAccountStatus"]["Id"]
    assert status["CreateAccountStatus"]["State"] == "IN_PROGRESS"
    while True:
        state = client.describe_create_account_status(CreateAccountRequestId=request)["CreateAccountStatus"]
        if state["State"] == "SUCCEEDED":
            break
        time.sleep(0.2)
    return {"id": client.describe_organization()["Organization"]["Id"], "member": state["AccountId"]}


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def wait_for_propagation():
    time.sleep(IAM_DELAY + 0.2)


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
