"""Virtual MFA devices for the emulator's root users: one per account, TOTP (RFC 6238: HMAC-SHA1,
30-second steps, 6 digits), seeded from a per-server secret so that tests and the demo can
obtain the seed through the control API, and nobody else needs to.
"""

import base64
import hashlib
import hmac
import os
import struct
import time

_SERVER_SECRET = os.urandom(20)


def serial(account):
    return f"arn:aws:iam::{account}:mfa/root-account-mfa-device"


def seed(account):
    return hmac.new(_SERVER_SECRET, account.encode(), hashlib.sha1).digest()


def seed_base32(account):
    return base64.b32encode(seed(account)).decode()


def totp(secret, at=None, step=30, digits=6):
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % (10**digits)).zfill(digits)


def code(account, at=None):
    return totp(seed(account), at)


def valid(account, header):
    """Whether an `x-amz-mfa: <serial> <code>` header is right for this account's root device.
    The code of the previous step is accepted too, as AWS tolerates clock skew."""
    parts = (header or "").split()
    if len(parts) != 2 or parts[0] != serial(account):
        return False
    now = time.time()
    return any(hmac.compare_digest(parts[1], code(account, now + d)) for d in (0, -30))
