"""Starts moto 5.2.5 in server mode, over TLS, with every contract module installed."""

import argparse
import sys

from . import (
    MOTO_VERSION, alarms, athena, clock, cloudtrail, control, delivery, enforce, iam, identity, kms, logs,
    organizations, records, regions, s3, selectors, signing, sns, sts,
)
from .tls import ensure_certificates

CONTRACTS = (identity, iam, sts, organizations, s3, kms, cloudtrail, selectors, logs, sns, signing, delivery, alarms, athena, regions)


def install_contracts():
    import moto

    if moto.__version__ != MOTO_VERSION:
        sys.exit(f"trailhead's emulator is written for moto {MOTO_VERSION}, found {moto.__version__}")
    for contract in CONTRACTS:
        contract.install()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="trailhead_emulator")
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", required=True, type=int)
    args = parser.parse_args(argv)

    import os

    os.environ.setdefault("MOTO_PORT", str(args.port))
    cert, key = ensure_certificates(args.dir)
    install_contracts()

    import signal

    from werkzeug.serving import WSGIRequestHandler, run_simple

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    # Keep connections alive (werkzeug speaks HTTP/1.0 by default and closes every connection):
    # without it every call pays a fresh TLS handshake. Speed only, never an answer.
    WSGIRequestHandler.protocol_version = "HTTP/1.1"
    MotoRequestHandler.protocol_version = "HTTP/1.1"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    app = DomainDispatcherApplication(create_backend_app)
    clock.start()
    run_simple(
        "127.0.0.1",
        args.port,
        control.wrap(records.wrap(regions.wrap(enforce.wrap(app)))),
        threaded=True,
        ssl_context=(cert, key),
        request_handler=MotoRequestHandler,
    )
