"""trailhead's launcher for moto 5.2.5 in server mode.

Each fix below corrects moto where it answers differently from AWS, in a way the AWS SDK for Rust
(or an honest test) depends on. Every fix is listed, with its reason, in docs/emulator.md. None of
them makes the emulator more permissive than AWS.

Usage: python moto_server.py --dir STATE_DIR --port PORT
"""

import argparse
import datetime
import ipaddress
import os
import sys


def ensure_certificates(state_dir):
    """A throwaway CA and a server certificate for 127.0.0.1/localhost.

    The emulator speaks only TLS so that `aws:SecureTransport` is true for real, and the
    production bucket policy's TLS-only deny can stay exactly as it ships.
    """
    ca_path = os.path.join(state_dir, "ca.pem")
    cert_path = os.path.join(state_dir, "server.pem")
    key_path = os.path.join(state_dir, "server.key")
    if all(os.path.exists(p) for p in (ca_path, cert_path, key_path)):
        return cert_path, key_path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    not_before = now - datetime.timedelta(days=1)
    not_after = now + datetime.timedelta(days=3650)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "trailhead emulator test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    with open(key_path, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    # The CA last: its presence tells clients the pair is complete.
    with open(ca_path, "wb") as f:
        f.write(ca_cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def fix_get_bucket_versioning():
    """moto wraps GetBucketVersioning in <GetBucketVersioningResponse>; S3 answers with a
    <VersioningConfiguration> root, and the Rust SDK rejects anything else.

    MFADelete is not reported because moto drops it on PutBucketVersioning: the read-back must
    say "not enabled" rather than pretend.
    """
    from moto.s3.responses import S3Response

    def get_bucket_versioning(self):
        status = self.backend.get_bucket_versioning(self.bucket_name)
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            + (f"<Status>{status}</Status>" if status else "")
            + "</VersioningConfiguration>"
        )
        return 200, {"Content-Type": "application/xml"}, body

    S3Response.get_bucket_versioning = get_bucket_versioning


def evaluate_bucket_policies_with_request_context():
    """moto 5.2.5 evaluates a bucket policy without the request: no principal and no condition
    keys, and a condition it cannot evaluate counts as met. A Deny with Principal "*" then
    applies to every object call whatever its conditions say, so the archive bucket's TLS-only
    and organization-only denies would block everything, even over TLS.

    This replaces that evaluation for object calls with AWS's rules for the operators trailhead
    emits, fed with the real request context: aws:SecureTransport from the connection,
    aws:PrincipalAccount from the signing key, aws:PrincipalOrgID from moto's Organizations
    state, and aws:PrincipalIsAWSService (false: services do not call the emulator). An explicit
    Deny still wins; nothing becomes more permissive than moto was.
    """
    import fnmatch
    import json
    import re

    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    def request_context():
        try:
            from flask import has_request_context, request
        except ImportError:
            return None, {}
        if not has_request_context():
            return None, {}
        auth = request.headers.get("Authorization", "")
        match = re.search(r"Credential=([^/,\s]+)/", auth) or re.search(
            r"X-Amz-Credential=([^/&]+)", request.full_path or ""
        )
        context = {
            "aws:securetransport": ["true" if request.scheme == "https" else "false"],
            "aws:principalisawsservice": ["false"],
        }
        if not match:
            return None, context
        from moto.iam.models import get_account_id_from
        from moto.organizations.models import organizations_backends

        account = get_account_id_from(match.group(1))
        context["aws:principalaccount"] = [account]
        master = organizations_backends.master_accounts.get(account)
        try:
            if master:
                org = organizations_backends[master[0]][master[1]].org
            else:
                org = organizations_backends[account]["aws"].org
        except Exception:
            org = None
        if org is not None:
            context["aws:principalorgid"] = [org.id]
        return account, context

    def as_list(v):
        return v if isinstance(v, list) else [v]

    def glob(pattern, text):
        return fnmatch.fnmatchcase(text, pattern.replace("[", "[[]"))

    def arn_like(pattern, arn):
        p, a = pattern.split(":", 5), arn.split(":", 5)
        return len(p) == 6 and len(a) == 6 and all(glob(x, y) for x, y in zip(p, a))

    tests = {
        "StringEquals": lambda w, v: w == v,
        "StringLike": glob,
        "ArnEquals": arn_like,
        "ArnLike": arn_like,
        "Bool": lambda w, v: w.lower() == v.lower(),
    }

    def condition_met(op, key, wanted, context):
        if op.startswith("ForAnyValue:") or op.startswith("ForAllValues:"):
            return False
        if_exists = op.endswith("IfExists")
        base = op[: -len("IfExists")] if if_exists else op
        values = context.get(key.lower())
        if base == "Null":
            return any((w == "true") == (not values) for w in wanted)
        if not values:
            return if_exists or "Not" in base
        negated = "Not" in base
        test = tests.get(base.replace("Not", ""))
        if test is None:
            return False
        hit = any(test(w, v) for w in wanted for v in values)
        return not hit if negated else hit

    def principal_matches(principal, account):
        if principal is None or principal == "*":
            return True
        if not isinstance(principal, dict):
            return False
        aws = as_list(principal.get("AWS", []))
        if account is None:
            return "*" in aws
        return any(
            p == "*" or p == account or p.endswith(f":{account}:root") for p in aws
        )

    def get_permission(self, action, resource):
        if self.policy is None:
            return PermissionResult.NEUTRAL
        account, context = request_context()
        document = json.loads(self.policy.decode() if isinstance(self.policy, bytes) else self.policy)
        allowed = False
        for st in as_list(document.get("Statement", [])):
            actions = as_list(st.get("NotAction", st.get("Action", [])))
            listed = any(glob(a.lower(), action.lower()) for a in actions)
            if ("NotAction" in st) == listed:
                continue
            resources = as_list(st.get("Resource", []))
            if resources and not any(glob(r, resource) for r in resources):
                continue
            if not principal_matches(st.get("Principal"), account):
                continue
            conditions = st.get("Condition", {})
            if not all(
                condition_met(op, key, as_list(wanted), context)
                for op, keys in conditions.items()
                for key, wanted in keys.items()
            ):
                continue
            if st.get("Effect") == "Deny":
                return PermissionResult.DENIED
            allowed = True
        return PermissionResult.PERMITTED if allowed else PermissionResult.NEUTRAL

    FakeBucket.get_permission = get_permission


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", required=True)
    args = parser.parse_args()

    cert, key = ensure_certificates(args.dir)
    fix_get_bucket_versioning()
    evaluate_bucket_policies_with_request_context()

    import moto
    if moto.__version__ != "5.2.5":
        sys.exit(f"trailhead's emulator fixes are written for moto 5.2.5, found {moto.__version__}")

    # Keep connections alive between requests (werkzeug speaks HTTP/1.0 by default and closes
    # every connection): without it every call pays a fresh TLS handshake.
    from werkzeug.serving import WSGIRequestHandler
    WSGIRequestHandler.protocol_version = "HTTP/1.1"

    from moto import server
    server.main(["-H", "127.0.0.1", "-p", str(args.port), "-c", cert, "-k", key])


if __name__ == "__main__":
    main()
