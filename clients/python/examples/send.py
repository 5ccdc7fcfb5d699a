#!/usr/bin/env python3
"""Send one email through the sidecar, as a workflow step would.

    SMTP_HOST=smtp.example.com SMTP_USER=me@example.com SMTP_PASSWORD=... \\
    python3 examples/send.py --to you@example.org [--socket /run/smtp-sidecar/smtp-sidecar.sock]
"""
import argparse
import os
import sys

from smtp_sidecar import Credential, OutcomeUnknownError, SidecarClient, SidecarError, idempotency_key, retry


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", default=os.environ.get("SMTP_SIDECAR_SOCKET"))
    ap.add_argument("--to", required=True)
    ap.add_argument("--subject", default="Hello from smtp-sidecar")
    ap.add_argument("--execution-id", default="manual-run")
    args = ap.parse_args()

    cred = Credential(
        host=os.environ["SMTP_HOST"],
        port=int(os.environ.get("SMTP_PORT", "587")),
        username=os.environ["SMTP_USER"],
        password=os.environ["SMTP_PASSWORD"],
        # a private CA (e.g. scripts/postfix-harness.sh's tls/ca.pem), when the server needs one
        tls={"ca_pem": open(os.environ["SMTP_CA_FILE"]).read()} if os.environ.get("SMTP_CA_FILE") else None,
    )
    print("using", cred)  # the password is shown as '***'
    with SidecarClient(args.socket) as client:
        try:
            result = retry(lambda: client.send(
                workspace_id="example",
                credential=cred,
                **{"from": os.environ["SMTP_USER"]},
                to=args.to,
                subject=args.subject,
                text="Sent by examples/send.py",
                # retries of this step share the key, so a retry never sends twice
                context={"idempotency_key": idempotency_key(args.execution_id, "send-email")},
            ))
        except OutcomeUnknownError as e:
            print("may have been delivered, not retried:", e.message, file=sys.stderr)
            return 2
        except SidecarError as e:
            print(f"failed: {e.code} (retryable={e.retryable}): {e.message}", file=sys.stderr)
            return 1
    print(result.outcome, result.message_id, "accepted:", result.accepted, "rejected:", result.rejected,
          "(duplicate)" if result.duplicate else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
