#!/usr/bin/env python3
"""Signs Twilio webhook requests with the official library (twilio-python's RequestValidator).

Used by server/tests/sms_twilio.rs to check our X-Twilio-Signature against Twilio's own code.
Reads one JSON document on standard input:

    {"auth_token": "...", "requests": [{"url": "...", "params": [["Name", "value"], ...]}, ...]}

and prints, for each request, {"signature": ..., "valid": ...}: the signature
RequestValidator.compute_signature gives for the form (repeated names kept, as a MultiDict, the
way a web framework hands them over), and whether RequestValidator.validate accepts it back.
Run it with the test virtualenv's python (target/testenv/py/bin/python; scripts/setup.sh test
installs the `twilio` package there).
"""

import json
import sys

from multidict import MultiDict
from twilio.request_validator import RequestValidator


def main() -> int:
    doc = json.load(sys.stdin)
    validator = RequestValidator(doc["auth_token"])
    out = []
    for req in doc["requests"]:
        params = MultiDict([(k, v) for k, v in req["params"]])
        signature = validator.compute_signature(req["url"], params)
        out.append(
            {
                "signature": signature,
                "valid": validator.validate(req["url"], params, signature),
            }
        )
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
