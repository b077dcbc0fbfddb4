"""The keys CloudTrail signs digest files with: one RSA key pair per region, valid 30 days (the
window ListPublicKeys shows on AWS), the public key served by ListPublicKeys as PKCS#1 DER with
its fingerprint (hex MD5 of that DER). Signatures are SHA256withRSA (PKCS#1 v1.5) over the
data-signing string. Sources: docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-custom-validation.html,
docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_ListPublicKeys.html.
"""

import base64
import hashlib
import json
import threading
import time

VALIDITY_SECONDS = 30 * 24 * 3600

_LOCK = threading.Lock()
# region → [RegionKey], oldest first.
KEYS = {}


class RegionKey:
    def __init__(self, now):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.der = self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.PKCS1
        )
        self.fingerprint = hashlib.md5(self.der).hexdigest()
        # AWS shows validity in whole seconds; a fractional start would fall after a window
        # that ends in the same second.
        self.start = int(now)
        self.end = self.start + VALIDITY_SECONDS

    def sign(self, text):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        return self.private.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256()).hex()

    def listed(self):
        return {
            "Value": base64.b64encode(self.der).decode(),
            "ValidityStartTime": self.start,
            "ValidityEndTime": self.end,
            "Fingerprint": self.fingerprint,
        }


def current(region, now=None):
    """The region's signing key in force now (a new one once the last expired)."""
    now = now or time.time()
    with _LOCK:
        keys = KEYS.setdefault(region, [])
        if not keys or keys[-1].end <= now:
            keys.append(RegionKey(now))
        return keys[-1]


def keys_between(region, start, end):
    current(region)
    with _LOCK:
        return [k for k in KEYS.get(region, []) if k.start <= end and k.end >= start]


def install():
    from moto.cloudtrail.responses import CloudTrailResponse

    def list_public_keys(self):
        now = time.time()
        start = self._get_param("StartTime") or now
        end = self._get_param("EndTime") or now
        keys = keys_between(self.region, float(start), float(end))
        return json.dumps({"PublicKeyList": [k.listed() for k in keys]})

    CloudTrailResponse.list_public_keys = list_public_keys
