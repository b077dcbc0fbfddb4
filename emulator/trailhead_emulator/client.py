"""A client of the control API for the CLI and the demo, over the emulator's TLS:

    python -m trailhead_emulator.client --endpoint URL --ca CA.pem mfa-code --account ID
    python -m trailhead_emulator.client --endpoint URL --ca CA.pem settings --set iam_delay=1
    python -m trailhead_emulator.client --endpoint URL --ca CA.pem inject --account ID --region R --records JSON
    python -m trailhead_emulator.client --endpoint URL --ca CA.pem notifications [--topic ARN]
    python -m trailhead_emulator.client --endpoint URL --ca CA.pem deliver [--digest]
    python -m trailhead_emulator.client --endpoint URL --ca CA.pem enable-region --account ID --region R
    python -m trailhead_emulator.client --endpoint URL --ca CA.pem athena-results --account ID --region R --columns a,b --rows JSON

athena-results queues the rows of the next Athena query of that account and region through
moto's documented /moto-api/static/athena/query-results (moto runs no query).

It prints the JSON answer on stdout.
"""

import argparse
import json
import ssl
import sys
import urllib.parse
import urllib.request


def call(endpoint, ca, path, payload=None, base="/_trailhead/"):
    context = ssl.create_default_context(cafile=ca)
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(
        endpoint.rstrip("/") + base + path,
        data=data,
        method="POST" if data is not None else "GET",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        body = response.read()
        return json.loads(body) if body.strip() else {"status": response.status}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="trailhead_emulator.client")
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--ca", required=True)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("mfa", "mfa-code"):
        sub.add_parser(name).add_argument("--account", required=True)
    confirm = sub.add_parser("sns-confirm")
    confirm.add_argument("--topic", help="every topic when left out")
    confirm.add_argument("--account", help="only these accounts' topics (comma-separated ids)")
    inject = sub.add_parser("inject")
    inject.add_argument("--account", required=True)
    inject.add_argument("--region", default="us-east-1")
    inject.add_argument("--records", required=True, help="a JSON list of records")
    sub.add_parser("notifications").add_argument("--topic", help="every topic when left out")
    sub.add_parser("deliver").add_argument("--digest", action="store_true")
    enable = sub.add_parser("enable-region")
    enable.add_argument("--account", required=True)
    enable.add_argument("--region", required=True)
    athena = sub.add_parser("athena-results")
    athena.add_argument("--account", required=True)
    athena.add_argument("--region", required=True)
    athena.add_argument("--columns", required=True, help="comma-separated column names")
    athena.add_argument("--rows", required=True, help="a JSON list of rows, each a list of strings or nulls")
    settings = sub.add_parser("settings")
    settings.add_argument("--set", action="append", default=[], metavar="NAME=SECONDS")
    args = parser.parse_args(argv)
    if args.command == "settings":
        values = dict(item.split("=", 1) for item in args.set)
        answer = call(args.endpoint, args.ca, "settings", values or None)
    elif args.command == "sns-confirm":
        params = {k: v for k, v in (("topic", args.topic), ("account", args.account)) if v}
        query = ("?" + urllib.parse.urlencode(params)) if params else ""
        answer = call(args.endpoint, args.ca, f"sns/confirm{query}", {})
    elif args.command == "enable-region":
        answer = call(args.endpoint, args.ca, "regions", {"account": args.account, "region": args.region})
    elif args.command == "inject":
        payload = {"account": args.account, "region": args.region, "records": json.loads(args.records)}
        answer = call(args.endpoint, args.ca, "events", payload)
    elif args.command == "athena-results":
        columns = args.columns.split(",")
        header = {"Data": [{"VarCharValue": c} for c in columns]}
        rows = [header] + [
            {"Data": [{} if v is None else {"VarCharValue": v} for v in row]}
            for row in json.loads(args.rows)
        ]
        info = [{"Name": c, "Label": c, "Type": "varchar", "Nullable": "UNKNOWN"} for c in columns]
        payload = {"account_id": args.account, "region": args.region,
                   "results": [{"rows": rows, "column_info": info}]}
        answer = call(args.endpoint, args.ca, "static/athena/query-results", payload, base="/moto-api/")
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
