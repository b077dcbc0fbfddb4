"""A client of the control API for the CLI and the demo, over the emulator's TLS:

    python -m trailhead_emulator.client --endpoint URL --ca CA.pem mfa-code --account ID
    python -m trailhead_emulator.client --endpoint URL --ca CA.pem settings --set iam_delay=1
    python -m trailhead_emulator.client --endpoint URL --ca CA.pem inject --account ID --region R --records JSON
    python -m trailhead_emulator.client --endpoint URL --ca CA.pem notifications [--topic ARN]
    python -m trailhead_emulator.client --endpoint URL --ca CA.pem deliver [--digest]

It prints the JSON answer on stdout.
"""

import argparse
import json
import ssl
import sys
import urllib.request


def call(endpoint, ca, path, payload=None):
    context = ssl.create_default_context(cafile=ca)
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(
        endpoint.rstrip("/") + "/_trailhead/" + path,
        data=data,
        method="POST" if data is not None else "GET",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        return json.loads(response.read())


def main(argv=None):
    parser = argparse.ArgumentParser(prog="trailhead_emulator.client")
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--ca", required=True)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("mfa", "mfa-code"):
        sub.add_parser(name).add_argument("--account", required=True)
    sub.add_parser("sns-confirm").add_argument("--topic", help="every topic when left out")
    inject = sub.add_parser("inject")
    inject.add_argument("--account", required=True)
    inject.add_argument("--region", default="us-east-1")
    inject.add_argument("--records", required=True, help="a JSON list of records")
    sub.add_parser("notifications").add_argument("--topic", help="every topic when left out")
    sub.add_parser("deliver").add_argument("--digest", action="store_true")
    settings = sub.add_parser("settings")
    settings.add_argument("--set", action="append", default=[], metavar="NAME=SECONDS")
    args = parser.parse_args(argv)
    if args.command == "settings":
        values = dict(item.split("=", 1) for item in args.set)
        answer = call(args.endpoint, args.ca, "settings", values or None)
    elif args.command == "sns-confirm":
        query = f"?topic={args.topic}" if args.topic else ""
        answer = call(args.endpoint, args.ca, f"sns/confirm{query}", {})
    elif args.command == "inject":
        payload = {"account": args.account, "region": args.region, "records": json.loads(args.records)}
        answer = call(args.endpoint, args.ca, "events", payload)
    elif args.command == "notifications":
        query = f"?topic={args.topic}" if args.topic else ""
        answer = call(args.endpoint, args.ca, f"sns/notifications{query}")
    elif args.command == "deliver":
        answer = call(args.endpoint, args.ca, "deliver?digest=1" if args.digest else "deliver", {})
    else:
        answer = call(args.endpoint, args.ca, f"{args.command}?account={args.account}")
    json.dump(answer, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
