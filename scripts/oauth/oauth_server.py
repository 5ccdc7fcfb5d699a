#!/usr/bin/env python3
"""The OAuth harness's one process: a test OAuth 2.0 token endpoint (RFC 6749) over TLS,
a plaintext control port, and an aiosmtpd SMTP server that accepts AUTH XOAUTH2 and
AUTH OAUTHBEARER (RFC 7628) only with tokens this endpoint issued and that have not
expired. One asyncio loop holds all state, so no locks.

Run by scripts/oauth-harness.sh with its virtual environment's Python (aiosmtpd from
PyPI); the interface is described in scripts/OAUTH-HARNESS.md.
"""

import argparse
import asyncio
import base64
import json
import os
import secrets
import signal
import ssl
import sys
import time
import urllib.parse
import uuid

from aiosmtpd.smtp import SMTP, AuthResult, MISSING

MODES = ("normal", "invalid_grant", "slow", "down", "hangup", "error500", "rotate")
MECHANISMS = ("XOAUTH2", "OAUTHBEARER")
GOOGLE_SCOPE = "https://mail.google.com/"
LOG_LIMIT = 500  # entries kept in the request and AUTH logs


def log(text):
    print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


def short(token):
    """A token as it may appear in the harness's own log."""
    return token[:10] + "…" if token else "-"


# -------------------------------------------------------------------- state ----

class State:
    """Clients, tokens, the mode and every counter."""

    def __init__(self, args):
        self.args = args
        self.client_id = args.client_id
        self.client_secret = args.client_secret
        self.tenant = args.tenant
        # The refresh tokens as issued at start, each for one user (mailbox).
        self.initial_refresh = {args.refresh_token: args.user, args.refresh_token_2: args.user_2}
        self.reset()

    def reset(self):
        self.mode = "normal"
        self.delay_ms = 0
        self.token_lifetime = self.args.token_lifetime
        self.close_expired_sessions = False
        self.mechanisms = list(MECHANISMS)
        self.auth_failure = "challenge"          # or "direct": 535 at once (Exchange Online)
        self.access_token_length = self.args.access_token_length
        self.refresh_tokens = {rt: {"client_id": self.client_id, "user": user}
                               for rt, user in self.initial_refresh.items()}
        self.access_tokens = {}                  # token -> record (expired ones kept)
        self.requests = self.new_request_counters()
        self.request_log = []
        self.in_flight = 0
        self.auth = {m: {"attempts": 0, "successes": 0, "failures": 0} for m in MECHANISMS}
        self.auth_failure_reasons = {}
        self.auth_log = []
        self.messages = 0
        self.smtp_connections = 0
        self.sessions_closed_expired = 0
        self.retired_refresh_tokens = []         # rotated away: for redaction checks

    @staticmethod
    def new_request_counters():
        return {"total": 0, "ok": 0, "refresh_token": 0, "client_credentials": 0,
                "by_client": {}, "errors": {}, "max_in_flight": 0}

    def issue_access_token(self, client_id, user, grant, scope):
        # Random, unique, URL-safe; "at-" marks it in a log. Padded to the configured
        # length (real Microsoft tokens are 1,500-2,500 characters).
        token = "at-" + secrets.token_urlsafe(24)
        if len(token) < self.access_token_length:
            token += secrets.token_urlsafe(self.access_token_length)[: self.access_token_length - len(token)]
        while token in self.access_tokens:
            token = "at-" + secrets.token_urlsafe(24)
        now = time.time()
        self.access_tokens[token] = {
            "token": token, "client_id": client_id, "user": user, "grant_type": grant,
            "scope": scope, "issued_at": now, "expires_at": now + self.token_lifetime}
        return token

    def valid_access_tokens(self):
        now = time.time()
        return [r for r in self.access_tokens.values() if r["expires_at"] > now]

    def check_access_token(self, token, user):
        """None when `token` may authenticate `user`, else why not."""
        record = self.access_tokens.get(token)
        if record is None:
            return "unknown_token", None
        if record["expires_at"] <= time.time():
            return "expired_token", record
        # A delegated token is for its own mailbox only; an app-only (client credentials)
        # token may send as any mailbox, as an Exchange service principal given access.
        if record["user"] is not None and record["user"].lower() != user.lower():
            return "wrong_user", record
        return None, record

    def snapshot(self):
        now = time.time()
        return {
            "mode": self.mode, "delay_ms": self.delay_ms, "token_lifetime": self.token_lifetime,
            "close_expired_sessions": self.close_expired_sessions, "mechanisms": self.mechanisms,
            "auth_failure": self.auth_failure, "access_token_length": self.access_token_length,
            "now": now,
            "token_requests": self.requests, "in_flight": self.in_flight,
            "auth": self.auth, "auth_failure_reasons": self.auth_failure_reasons,
            "messages": self.messages, "smtp_connections": self.smtp_connections,
            "sessions_closed_expired": self.sessions_closed_expired,
            "valid_access_tokens": [dict(r, expires_in=round(r["expires_at"] - now, 3))
                                    for r in self.valid_access_tokens()],
            "issued_access_tokens": list(self.access_tokens),
            "valid_refresh_tokens": [dict(v, refresh_token=k) for k, v in self.refresh_tokens.items()],
            "retired_refresh_tokens": self.retired_refresh_tokens,
            "request_log": self.request_log, "auth_log": self.auth_log,
        }


def append_log(entries, entry):
    entries.append(entry)
    del entries[:-LOG_LIMIT]


# -------------------------------------------------------------- tiny HTTP ----

class HTTPError(Exception):
    pass


async def read_request(reader, writer):
    """One HTTP/1.1 request: (method, path, query, headers, body), or None at EOF."""
    line = await reader.readline()
    if not line:
        return None
    try:
        method, target, version = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    except ValueError:
        raise HTTPError("bad request line")
    headers = {}
    while True:
        h = await reader.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        name, _, value = h.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = b""
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                break
            body += await reader.readexactly(size)
            await reader.readline()
    else:
        body = await reader.readexactly(int(headers.get("content-length") or 0))
    url = urllib.parse.urlsplit(target)
    return method.upper(), url.path, url.query, headers, body, version.upper()


def response_bytes(status, body, content_type="application/json", extra=(), close=False):
    reasons = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
               405: "Method Not Allowed", 500: "Internal Server Error"}
    if not isinstance(body, bytes):
        body = json.dumps(body, indent=1).encode()
    head = [f"HTTP/1.1 {status} {reasons.get(status, 'Status')}",
            f"Content-Type: {content_type}", f"Content-Length: {len(body)}",
            "Cache-Control: no-store", "Pragma: no-cache",
            f"Connection: {'close' if close else 'keep-alive'}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def serve_http(reader, writer, handle, connections=None):
    """Requests on one connection until EOF or `Connection: close`. `handle` returns
    the response bytes, or None to close without answering."""
    if connections is not None:
        connections.add(writer)
    try:
        while True:
            try:
                request = await read_request(reader, writer)
            except (HTTPError, ValueError, asyncio.IncompleteReadError):
                writer.write(response_bytes(400, {"error": "invalid_request"}, close=True))
                break
            if request is None:
                break
            answer = await handle(*request[:5])
            if answer is None:
                break
            close = request[3].get("connection", "").lower() == "close" or request[5] == "HTTP/1.0"
            writer.write(answer)
            await writer.drain()
            if close:
                break
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    finally:
        if connections is not None:
            connections.discard(writer)
        writer.close()


def form(query, body):
    values = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    values.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return values


# ------------------------------------------------------------ token endpoint ----

class TokenEndpoint:
    def __init__(self, state, port, context):
        self.state = state
        self.port = port
        self.context = context
        self.server = None
        self.connections = set()

    async def listen(self):
        self.server = await asyncio.start_server(
            self.connection, "127.0.0.1", self.port, ssl=self.context, reuse_address=True)

    async def go_down(self):
        """Like a host that is down: connections refused, open ones cut."""
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.connections):
            writer.transport.abort()
        self.connections.clear()

    async def connection(self, reader, writer):
        await serve_http(reader, writer, self.handle, self.connections)

    async def handle(self, method, path, query, headers, body):
        s = self.state
        tenant = None
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
            tenant = parts[0]
        elif path != "/token":
            return response_bytes(404, {"error": "not_found"})
        if method != "POST":
            return response_bytes(405, {"error": "invalid_request",
                                        "error_description": "POST only"}, extra=["Allow: POST"])
        values = form("", body)
        grant = values.get("grant_type", "")
        client_id, secret, basic = values.get("client_id"), values.get("client_secret"), False
        authorization = headers.get("authorization", "")
        if authorization.lower().startswith("basic "):
            # RFC 6749 §2.3.1: client_id:client_secret, each form-urlencoded.
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode()
                cid, _, csecret = decoded.partition(":")
                client_id, secret, basic = urllib.parse.unquote_plus(cid), urllib.parse.unquote_plus(csecret), True
            except ValueError:
                client_id, secret, basic = None, None, True

        r = s.requests
        r["total"] += 1
        if grant in ("refresh_token", "client_credentials"):
            r[grant] += 1
        per_client = r["by_client"].setdefault(client_id or "", {"total": 0, "refresh_token": 0, "client_credentials": 0})
        per_client["total"] += 1
        if grant in per_client:
            per_client[grant] += 1
        entry = {"time": time.time(), "path": path, "tenant": tenant, "grant_type": grant,
                 "client_id": client_id, "client_auth": "basic" if basic else "body",
                 "scope": values.get("scope"), "mode": s.mode}
        append_log(s.request_log, entry)
        s.in_flight += 1
        r["max_in_flight"] = max(r["max_in_flight"], s.in_flight)
        try:
            if s.mode == "slow" and s.delay_ms:
                await asyncio.sleep(s.delay_ms / 1000)
            status, answer = self.grant(values, tenant, client_id, secret, headers)
        finally:
            s.in_flight -= 1
        if status is None:                       # hangup
            entry["status"] = "hangup"
            return None
        entry["status"] = status
        if status == 200:
            r["ok"] += 1
            log(f"token {grant} for {client_id}: {short(answer['access_token'])}")
        else:
            error = answer.get("error", str(status)) if isinstance(answer, dict) else str(status)
            entry["error"] = error
            r["errors"][error] = r["errors"].get(error, 0) + 1
            log(f"token {grant or '-'} for {client_id}: {status} {error}")
        if isinstance(answer, bytes):
            return response_bytes(status, answer, content_type="text/html")
        extra = []
        if status == 401:
            extra.append('WWW-Authenticate: Basic realm="oauth-harness"')
        return response_bytes(status, answer, content_type="application/json;charset=UTF-8", extra=extra)

    def grant(self, values, tenant, client_id, secret, headers):
        """(status, JSON object or bytes); status None: hang up without answering."""
        s = self.state

        def error(status, code, description):
            return status, {"error": code, "error_description": description}

        if s.mode == "hangup":
            return None, None
        if s.mode == "error500":
            return 500, b"<html><body><h1>500 Internal Server Error</h1></body></html>\n"
        if tenant is not None and tenant not in (s.tenant, "common", "organizations"):
            return error(400, "invalid_request", f"Tenant '{tenant}' not found.")
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return error(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
        grant = values.get("grant_type")
        if not grant:
            return error(400, "invalid_request", "grant_type is missing")
        if grant not in ("refresh_token", "client_credentials"):
            return error(400, "unsupported_grant_type", f"grant_type {grant} is not supported")
        if not client_id:
            return error(400, "invalid_request", "client_id is missing")
        if client_id != s.client_id or secret != s.client_secret:
            return error(401, "invalid_client", "Client authentication failed")
        scope = values.get("scope")
        body = {"token_type": "Bearer", "expires_in": s.token_lifetime}
        if grant == "client_credentials":
            if not scope:
                return error(400, "invalid_request", "scope is missing")
            body["access_token"] = s.issue_access_token(client_id, None, grant, scope)
            body["scope"] = scope
            return 200, body
        old = values.get("refresh_token")
        if not old:
            return error(400, "invalid_request", "refresh_token is missing")
        if s.mode == "invalid_grant":
            return error(400, "invalid_grant", "Token has been expired or revoked.")
        record = s.refresh_tokens.get(old)
        if record is None or record["client_id"] != client_id:
            return error(400, "invalid_grant", "Bad Request: unknown or revoked refresh token")
        scope = scope or GOOGLE_SCOPE
        body["access_token"] = s.issue_access_token(client_id, record["user"], grant, scope)
        body["scope"] = scope
        if s.mode == "rotate":
            del s.refresh_tokens[old]
            s.retired_refresh_tokens.append(old)
            new = "rt-" + secrets.token_urlsafe(32)
            s.refresh_tokens[new] = record
            body["refresh_token"] = new
        return 200, body


# ------------------------------------------------------------- control port ----

class Control:
    """Plaintext HTTP on 127.0.0.1: GET /state, POST /mode, /config, /expire, /reset."""

    def __init__(self, state, token_endpoint):
        self.state = state
        self.endpoint = token_endpoint

    async def connection(self, reader, writer):
        await serve_http(reader, writer, self.handle)

    async def handle(self, method, path, query, headers, body):
        s = self.state
        values = form(query, body)
        try:
            if path == "/state":
                pass
            elif path == "/mode":
                mode = values.get("mode", "")
                if mode not in MODES:
                    raise ValueError(f"mode must be one of {', '.join(MODES)}")
                await self.set_mode(mode, int(values.get("delay_ms") or s.delay_ms or 2000))
            elif path == "/config":
                self.configure(values)
            elif path == "/expire":
                token = values.get("token")
                for record in s.access_tokens.values():
                    if token in (None, record["token"]):
                        record["expires_at"] = min(record["expires_at"], time.time())
            elif path == "/reset":
                await self.set_mode("normal", 0)
                s.reset()
                log("reset")
            else:
                return response_bytes(404, {"error": f"no such control path {path}"})
        except ValueError as problem:
            return response_bytes(400, {"error": str(problem)})
        return response_bytes(200, s.snapshot())

    async def set_mode(self, mode, delay_ms):
        s = self.state
        was_down = s.mode == "down"
        s.mode, s.delay_ms = mode, delay_ms
        if mode == "down" and not was_down:
            await self.endpoint.go_down()
        elif mode != "down" and was_down:
            await self.endpoint.listen()
        log(f"mode {mode}" + (f" delay {delay_ms} ms" if mode == "slow" else ""))

    def configure(self, values):
        s = self.state
        for key, value in values.items():
            if key == "token_lifetime":
                s.token_lifetime = int(value)
            elif key == "close_expired_sessions":
                s.close_expired_sessions = value.lower() in ("1", "true", "yes", "on")
            elif key == "mechanisms":
                names = [m.strip().upper() for m in value.split(",") if m.strip()]
                if not names or any(m not in MECHANISMS for m in names):
                    raise ValueError(f"mechanisms: a comma-separated subset of {','.join(MECHANISMS)}")
                s.mechanisms = names
            elif key == "auth_failure":
                if value not in ("challenge", "direct"):
                    raise ValueError("auth_failure must be challenge or direct")
                s.auth_failure = value
            elif key == "access_token_length":
                s.access_token_length = int(value)
            else:
                raise ValueError(f"unknown setting {key}")
        log(f"config {values}")


# ----------------------------------------------------------------- SMTP ----

def parse_kv(blob):
    """`key=value` pairs separated by %x01, ended by %x01%x01; None if malformed."""
    if not blob.endswith(b"\x01\x01"):
        return None
    pairs = {}
    for item in blob[:-2].split(b"\x01"):
        key, sep, value = item.partition(b"=")
        if not sep:
            return None
        pairs[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
    return pairs


def bearer(pairs):
    auth = pairs.get("auth", "")
    return auth[7:] if auth[:7].lower() == "bearer " else None


class OAuthSMTP(SMTP):
    """aiosmtpd's SMTP with two changes: long AUTH lines, and (when configured) a 421 to
    the first command after the session's token expired."""

    def __init__(self, handler, state, **kwargs):
        super().__init__(handler, **kwargs)
        self.state = state
        # aiosmtpd refuses command lines over 512 bytes (and its stream reader any line
        # over 1001), but AUTH XOAUTH2 with a real Microsoft token is 2-3 KB. Its
        # command_size_limits is a class-level dict that every instance clears and EHLO
        # grows: an instance's own copy, AUTH raised. The reader's limit is raised in
        # _cb_client_connected; DATA still refuses lines over 1,000 bytes (its own check
        # against line_length_limit, unchanged).
        self.command_size_limits = type(SMTP.command_size_limits)(lambda: SMTP.command_size_limit)
        self.command_size_limits["AUTH"] = 16384
        for name, method in list(self._smtp_methods.items()):
            if name != "QUIT":
                self._smtp_methods[name] = self.expiry_checked(method)

    def connection_made(self, transport):
        if self._original_transport is None:     # not the TLS layer after STARTTLS
            self.state.smtp_connections += 1
        super().connection_made(transport)

    def _cb_client_connected(self, reader, writer):
        super()._cb_client_connected(reader, writer)
        reader._limit = 16384                    # asyncio.StreamReader's private limit

    def expiry_checked(self, method):
        async def checked(arg):
            record = getattr(self.session, "oauth_token", None)
            if (record is not None and self.state.close_expired_sessions
                    and record["expires_at"] <= time.time()):
                self.state.sessions_closed_expired += 1
                log(f"{self.session.peer} token expired: 421, closing")
                await self.push("421 4.7.0 Access token expired, closing connection")
                self._handler_coroutine.cancel()
                self.transport.close()
                return
            await method(arg)
        return checked


class Handler:
    def __init__(self, state, maildir):
        self.state = state
        self.maildir = maildir

    # ---- AUTH ----

    async def auth_XOAUTH2(self, server, args):
        return await self.authenticate(server, args, "XOAUTH2")

    async def auth_OAUTHBEARER(self, server, args):
        return await self.authenticate(server, args, "OAUTHBEARER")

    async def authenticate(self, server, args, mechanism):
        s = self.state
        counters = s.auth[mechanism]
        counters["attempts"] += 1
        if mechanism not in s.mechanisms:       # turned off after this connection began
            counters["failures"] += 1
            await server.push("504 5.5.4 Unrecognized authentication type")
            return AuthResult(success=False, handled=True)
        if len(args) == 2:
            initial = args[1]
            blob = b"" if initial == "=" else None
            if blob is None:
                try:
                    blob = base64.b64decode(initial, validate=True)
                except ValueError:
                    blob = MISSING
                    await server.push("501 5.5.2 Can't decode base64")
        else:
            blob = await server.challenge_auth("")
        entry = {"time": time.time(), "mechanism": mechanism, "peer": list(server.session.peer or ()),
                 "sasl_ir": len(args) == 2}
        if blob is MISSING:                      # aiosmtpd has answered (501)
            reason, user, record = "aborted_or_bad_base64", None, None
        elif mechanism == "XOAUTH2":
            reason, user, record = self.check_xoauth2(blob)
        else:
            reason, user, record, extra = self.check_oauthbearer(blob)
            entry.update(extra)
        entry.update(user=user, ok=reason is None, reason=reason,
                     token_expires_at=record["expires_at"] if record else None)
        append_log(s.auth_log, entry)
        if reason is None:
            counters["successes"] += 1
            server.session.oauth_token = record
            log(f"{server.session.peer} AUTH {mechanism} {user} succeeded")
            return AuthResult(success=True, auth_data=user)
        counters["failures"] += 1
        s.auth_failure_reasons[reason] = s.auth_failure_reasons.get(reason, 0) + 1
        log(f"{server.session.peer} AUTH {mechanism} {user} failed: {reason}")
        if blob is MISSING:
            return AuthResult(success=False, handled=True)
        if s.auth_failure == "direct":
            await server.push("535 5.7.3 Authentication unsuccessful")
            return AuthResult(success=False, handled=True)
        # The error challenge; the client must answer it (XOAUTH2: an empty line,
        # OAUTHBEARER: %x01) and the server then fails the exchange.
        if mechanism == "XOAUTH2":
            status = "400" if reason == "malformed" else "401"
            challenge = {"status": status, "schemes": "Bearer", "scope": GOOGLE_SCOPE}
            expected = b""
        else:
            status = "invalid_request" if reason == "malformed" else "invalid_token"
            challenge = {"status": status, "scope": GOOGLE_SCOPE,
                         "openid-configuration": "https://localhost/.well-known/openid-configuration"}
            expected = b"\x01"
        answer = await server.challenge_auth(json.dumps(challenge, separators=(",", ":")))
        if answer is MISSING:                    # '*' or bad base64: aiosmtpd said 501
            entry["continuation"] = "aborted"
            return AuthResult(success=False, handled=True)
        if answer != expected:
            entry["continuation"] = "wrong"
            await server.push(f"501 5.5.2 The answer to the error challenge must be {expected!r}")
            return AuthResult(success=False, handled=True)
        entry["continuation"] = "ok"
        await server.push("535 5.7.8 Username and Password not accepted (OAuth token refused)")
        return AuthResult(success=False, handled=True)

    def check_xoauth2(self, blob):
        # user=<user>%x01auth=Bearer <token>%x01%x01
        pairs = parse_kv(blob)
        if pairs is None or "user" not in pairs or bearer(pairs) is None:
            return "malformed", None, None
        reason, record = self.state.check_access_token(bearer(pairs), pairs["user"])
        return reason, pairs["user"], record

    def check_oauthbearer(self, blob):
        # RFC 7628: gs2-header %x01 *(kvpair) %x01, e.g.
        # n,a=user@example.com,%x01host=...%x01port=...%x01auth=Bearer <token>%x01%x01
        header, sep, rest = blob.partition(b"\x01")
        fields = header.decode("utf-8", "replace").split(",")
        pairs = parse_kv(rest) if sep else None
        if (pairs is None or len(fields) != 3 or fields[0] not in ("n", "y") or fields[2] != ""
                or not fields[1].startswith("a=") or bearer(pairs) is None):
            return "malformed", None, None, {}
        user = fields[1][2:].replace("=2C", ",").replace("=3D", "=")
        extra = {"host": pairs.get("host"), "port": pairs.get("port")}
        reason, record = self.state.check_access_token(bearer(pairs), user)
        return reason, user, record, extra

    # ---- mail ----

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.rsplit("@", 1)[0].lower().startswith("unknown"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        queue_id = uuid.uuid4().hex[:12].upper()
        content = envelope.original_content or b""
        record = session.oauth_token
        auth = f"{session.auth_data} {'app' if record['user'] is None else 'delegated'}"
        for rcpt in envelope.rcpt_tos:
            head = (f"Return-Path: <{envelope.mail_from}>\r\nDelivered-To: {rcpt}\r\n"
                    f"X-OAuth-Harness-Auth: {auth}\r\n").encode("utf-8")
            name = f"{time.time_ns()}.{queue_id}.{uuid.uuid4().hex[:8]}.localhost"
            tmp = os.path.join(self.maildir, "tmp", name)
            with open(tmp, "wb") as file:
                file.write(head + content)
            os.rename(tmp, os.path.join(self.maildir, "new", name))
        self.state.messages += 1
        log(f"{session.peer} {queue_id}: {len(content)} bytes for {len(envelope.rcpt_tos)} recipient(s)")
        return f"250 2.0.0 OK: queued as {queue_id}"


# ------------------------------------------------------------------ main ----

def main():
    p = argparse.ArgumentParser()
    for name in ("token-port", "control-port", "starttls-port", "tls-port", "token-lifetime"):
        p.add_argument("--" + name, type=int, required=True)
    p.add_argument("--access-token-length", type=int, default=0)
    for name in ("token-cert", "token-key", "smtp-cert", "smtp-key", "maildir", "secrets", "ready-file"):
        p.add_argument("--" + name, required=True)
    args = p.parse_args()
    # The secrets file (written by the start script, mode 600) holds KEY=value lines.
    values = dict(line.split("=", 1) for line in open(args.secrets).read().split("\n") if "=" in line)
    args.client_id, args.client_secret = values["CLIENT_ID"], values["CLIENT_SECRET"]
    args.tenant = values["TENANT"]
    args.refresh_token, args.user = values["REFRESH_TOKEN"], values["OAUTH_USER"]
    args.refresh_token_2, args.user_2 = values["REFRESH_TOKEN_2"], values["OAUTH_USER_2"]

    state = State(args)
    token_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    token_context.load_cert_chain(args.token_cert, args.token_key)
    smtp_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    smtp_context.load_cert_chain(args.smtp_cert, args.smtp_key)
    handler = Handler(state, args.maildir)

    def smtp_factory(implicit_tls):
        def make():
            excluded = ["PLAIN", "LOGIN"] + [m for m in MECHANISMS if m not in state.mechanisms]
            # aiosmtpd counts only its own STARTTLS as TLS for auth_require_tls: lifted on
            # the implicit TLS listener.
            return OAuthSMTP(handler, state, hostname="localhost", auth_exclude_mechanism=excluded,
                             tls_context=None if implicit_tls else smtp_context,
                             auth_require_tls=not implicit_tls)
        return make

    async def run():
        loop = asyncio.get_running_loop()
        endpoint = TokenEndpoint(state, args.token_port, token_context)
        await endpoint.listen()
        control = await asyncio.start_server(Control(state, endpoint).connection, "127.0.0.1", args.control_port)
        smtp = [await loop.create_server(smtp_factory(False), "127.0.0.1", args.starttls_port),
                await loop.create_server(smtp_factory(True), "127.0.0.1", args.tls_port, ssl=smtp_context)]
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        with open(args.ready_file + ".tmp", "w") as ready:
            ready.write(f"{os.getpid()}\n")
        os.rename(args.ready_file + ".tmp", args.ready_file)
        log(f"token endpoint https://127.0.0.1:{args.token_port}, control http://127.0.0.1:{args.control_port},"
            f" SMTP STARTTLS {args.starttls_port} and implicit TLS {args.tls_port}")
        await stop.wait()
        await endpoint.go_down()
        control.close()
        for server in smtp:
            server.close()
        log("stopped")

    asyncio.run(run())


if __name__ == "__main__":
    main()
