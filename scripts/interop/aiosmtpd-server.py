#!/usr/bin/env python3
"""aiosmtpd (PyPI) as one of the interop harness's real SMTP servers.

Run by scripts/interop-harness.sh with the aiosmtpd virtual environment's Python. Two
listeners on 127.0.0.1, both with aiosmtpd's own TLS and AUTH options and otherwise its
stock settings (no SMTPUTF8, no CHUNKING, no DSN: aiosmtpd offers none of them):

  --starttls-port  STARTTLS offered (tls_context), AUTH PLAIN and LOGIN after it
  --tls-port       implicit TLS (ssl_context of the listener), AUTH PLAIN and LOGIN

Every accepted recipient gets its own file in the Maildir (like an MTA's local delivery),
with `Return-Path` and `Delivered-To` in front of the bytes received, unchanged. A
recipient whose local part starts with "unknown" is refused with 550 5.1.1, as the other
servers of the harness do. Each transaction is logged, with its MAIL and RCPT
parameters, to stderr.
"""

import argparse
import asyncio
import os
import signal
import ssl
import sys
import time
import uuid

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def log(text):
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} {text}", file=sys.stderr, flush=True)


class MaildirHandler:
    def __init__(self, maildir):
        self.maildir = maildir

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        log(f"{session.peer} MAIL FROM:<{address}> {' '.join(mail_options)}".rstrip())
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.rsplit("@", 1)[0]
        if local.lower().startswith("unknown"):
            log(f"{session.peer} RCPT TO:<{address}> refused: unknown user")
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        log(f"{session.peer} RCPT TO:<{address}> {' '.join(rcpt_options)}".rstrip())
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        queue_id = uuid.uuid4().hex[:12].upper()
        content = envelope.original_content or b""
        for rcpt in envelope.rcpt_tos:
            head = f"Return-Path: <{envelope.mail_from}>\r\nDelivered-To: {rcpt}\r\n".encode("utf-8")
            name = f"{time.time_ns()}.{queue_id}.{uuid.uuid4().hex[:8]}.localhost"
            tmp = os.path.join(self.maildir, "tmp", name)
            with open(tmp, "wb") as file:
                file.write(head + content)
            os.rename(tmp, os.path.join(self.maildir, "new", name))
        log(f"{session.peer} {queue_id}: {len(content)} bytes for {len(envelope.rcpt_tos)} recipient(s)"
            f" utf8={envelope.smtp_utf8} delivered")
        return f"250 2.0.0 OK: queued as {queue_id}"


class Authenticator:
    def __init__(self, user, password):
        self.user = user.encode("utf-8")
        self.password = password.encode("utf-8")

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == self.user and auth_data.password == self.password)
        log(f"{session.peer} AUTH {mechanism} {'succeeded' if ok else 'failed'}")
        # handled=False: aiosmtpd itself answers a failure (535 5.7.8).
        return AuthResult(success=ok, handled=False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--starttls-port", type=int, required=True)
    parser.add_argument("--tls-port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password-file", required=True)
    args = parser.parse_args()
    with open(args.password_file, encoding="utf-8") as file:
        password = file.read().strip()

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    handler = MaildirHandler(args.maildir)
    authenticator = Authenticator(args.user, password)

    def factory(implicit_tls):
        def make():
            # aiosmtpd counts only its own STARTTLS as TLS for auth_require_tls: on the
            # implicit TLS listener every byte is already encrypted, so it is lifted there.
            return SMTP(handler, hostname="localhost", authenticator=authenticator,
                        tls_context=None if implicit_tls else context, auth_require_tls=not implicit_tls)
        return make

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    servers = [
        loop.run_until_complete(loop.create_server(factory(False), "127.0.0.1", args.starttls_port)),
        loop.run_until_complete(loop.create_server(factory(True), "127.0.0.1", args.tls_port, ssl=context)),
    ]
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    import aiosmtpd
    log(f"aiosmtpd {aiosmtpd.__version__} listening on 127.0.0.1:{args.starttls_port} (STARTTLS)"
        f" and 127.0.0.1:{args.tls_port} (implicit TLS)")
    loop.run_until_complete(stop.wait())
    for server in servers:
        server.close()
    log("stopped")


if __name__ == "__main__":
    main()
