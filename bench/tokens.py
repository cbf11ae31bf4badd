#!/usr/bin/env python3
"""bench/tokens.py: signs one HS256 bearer token per user, as Better Auth's JWT does
(RFC 7519; header {"alg":"HS256","typ":"JWT"}, claims sub, iat, exp), with the gateway's
BETTER_AUTH_SECRET, for todo-load's users file.

    tokens.py SECRET IAT < "user_id<TAB>first_task<TAB>task_count" lines
              > "user_id<TAB>token<TAB>first_task<TAB>task_count" lines

iat is seconds since the epoch; tokens expire a day later."""
import base64
import hashlib
import hmac
import json
import sys


def b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def main() -> None:
    secret, iat = sys.argv[1].encode(), int(sys.argv[2])
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    for line in sys.stdin:
        user, first, count = line.rstrip("\n").split("\t")
        claims = {"sub": user, "iat": iat, "exp": iat + 86400}
        signing_input = header + b"." + b64url(json.dumps(claims, separators=(",", ":")).encode())
        signature = b64url(hmac.new(secret, signing_input, hashlib.sha256).digest())
        token = (signing_input + b"." + signature).decode()
        sys.stdout.write(f"{user}\t{token}\t{first}\t{count}\n")


if __name__ == "__main__":
    main()
