"""Decides JSON-line requests with the emulator's evaluator, one decision a line, for the
differential test against trailhead's own evaluator (crates/policies/tests/least_privilege.rs).

Each line: {"policy": "<json>", "principal": {"kind": "service"|"aws"|"anonymous", ...},
"action": ..., "resource": ..., "context": {key: [values]}}. Standard library only.
"""

import json
import sys

from .policy import Principal, evaluate


def principal(p):
    if p["kind"] == "service":
        return Principal.service(p["name"])
    if p["kind"] == "aws":
        return Principal.aws(p["account"], p["arn"])
    return Principal.anonymous()


def main():
    out = []
    for line in sys.stdin:
        if not line.strip():
            continue
        r = json.loads(line)
        out.append(evaluate(r["policy"], principal(r["principal"]), r["action"], r["resource"], r["context"]))
    sys.stdout.write("".join(f"{d}\n" for d in out))


if __name__ == "__main__":
    main()
