#!/usr/bin/env python3
"""Self-test of scripts/oauth-harness.sh: starts the harness in a new directory, proves
each behaviour the Swift tests will rely on with the standard library only (http.client,
ssl, smtplib), stops it, and exits non-zero if anything failed.

    scripts/oauth-harness-selftest.py [--keep]     --keep: leave the harness running
"""

import base64
import http.client
import json
import os
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "oauth-harness.sh")
FAILURES = []


def check(name, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + ("" if ok else f": {detail}"), flush=True)
    if not ok:
        FAILURES.append(name)
    return ok


def harness(*args):
    done = subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"oauth-harness.sh {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def parse_env(text):
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


class Harness:
    def __init__(self, env):
        self.env = env
        self.token_ctx = ssl.create_default_context(cafile=env["TOKEN_CA_FILE"])
        self.smtp_ctx = ssl.create_default_context(cafile=env["SMTP_CA_FILE"])
        control = urllib.parse.urlsplit(env["CONTROL_URL"])
        self.control_addr = (control.hostname, control.port)

    # ---- control port ----

    def control(self, path, **fields):
        conn = http.client.HTTPConnection(*self.control_addr, timeout=10)
        body = urllib.parse.urlencode(fields)
        conn.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        data = json.loads(response.read())
        conn.close()
        if response.status != 200:
            raise RuntimeError(f"control {path} {fields}: {response.status} {data}")
        return data

    def state(self):
        return self.control("/state")

    # ---- token endpoint ----

    def token(self, fields, path="/token", basic=None, timeout=10, content_type="application/x-www-form-urlencoded"):
        """(status, parsed JSON or raw text)."""
        conn = http.client.HTTPSConnection("localhost", int(self.env["TOKEN_PORT"]),
                                           context=self.token_ctx, timeout=timeout)
        headers = {"Content-Type": content_type}
        if basic:
            headers["Authorization"] = "Basic " + base64.b64encode(":".join(basic).encode()).decode()
        try:
            conn.request("POST", path, urllib.parse.urlencode(fields), headers)
            response = conn.getresponse()
            text = response.read().decode()
        finally:
            conn.close()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text

    def refresh(self, refresh_token=None, **extra):
        fields = {"grant_type": "refresh_token", "client_id": self.env["CLIENT_ID"],
                  "client_secret": self.env["CLIENT_SECRET"],
                  "refresh_token": refresh_token or self.env["REFRESH_TOKEN"],
                  "scope": "https://mail.google.com/"}
        fields.update(extra)
        return self.token(fields)

    def access_token(self, **extra):
        status, body = self.refresh(**extra)
        assert status == 200, (status, body)
        return body["access_token"]

    def app_token(self):
        status, body = self.token({"grant_type": "client_credentials", "scope": "https://outlook.office.com/.default"},
                                  path=urllib.parse.urlsplit(self.env["TOKEN_URL_MICROSOFT"]).path,
                                  basic=(self.env["CLIENT_ID"], self.env["CLIENT_SECRET"]))
        assert status == 200, (status, body)
        return body["access_token"]

    # ---- SMTP ----

    def smtp(self, implicit_tls=True):
        if implicit_tls:
            s = smtplib.SMTP_SSL("localhost", int(self.env["TLS_PORT"]), context=self.smtp_ctx, timeout=10)
        else:
            s = smtplib.SMTP("localhost", int(self.env["STARTTLS_PORT"]), timeout=10)
            s.ehlo()
            s.starttls(context=self.smtp_ctx)
        s.ehlo()
        return s


def xoauth2(user, token):
    return base64.b64encode(f"user={user}\x01auth=Bearer {token}\x01\x01".encode()).decode()


def oauthbearer(user, token, port):
    return base64.b64encode(f"n,a={user},\x01host=localhost\x01port={port}\x01auth=Bearer {token}\x01\x01".encode()).decode()


def message(marker):
    return (f"From: sender@example.test\r\nTo: to@example.test\r\nSubject: {marker}\r\n"
            f"X-Interop-Token: {marker}\r\n\r\nBody of {marker}.\r\n..a line that starts with a dot\r\n").encode()


def delivered(h, marker):
    folder = os.path.join(h.env["MAILDIR"], "new")
    found = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as file:
            raw = file.read()
        if f"X-Interop-Token: {marker}\r\n".encode() in raw:
            found.append(raw)
    return found


def send_and_check(h, s, name, mechanism, user="sender@example.test"):
    marker = f"{name}-{time.time_ns()}"
    refused = s.sendmail(user, ["to@example.test"], message(marker))
    files = delivered(h, marker)
    expected_head = (f"Return-Path: <{user}>\r\nDelivered-To: to@example.test\r\n"
                     f"X-OAuth-Harness-Auth: {user} ").encode()
    ok = (not refused and len(files) == 1 and files[0].startswith(expected_head)
          and files[0].endswith(b"\r\n\r\n" + message(marker).split(b"\r\n\r\n", 1)[1]))
    body_ok = ok and files[0].split(b"\r\n", 3)[3] == message(marker)
    check(f"{name}: {mechanism} message delivered, bytes exact", ok and body_ok, repr(files)[:400])


def decoded_json(reply):
    return json.loads(base64.b64decode(reply))


# --------------------------------------------------------------------- tests ----

def test_grants(h):
    status, body = h.refresh()
    check("refresh grant (Google path): 200, Bearer, expires_in, scope",
          status == 200 and body.get("token_type") == "Bearer" and body.get("expires_in") == int(h.env["TOKEN_LIFETIME"])
          and body.get("access_token", "").startswith("at-") and "refresh_token" not in body, (status, body))
    ms_path = urllib.parse.urlsplit(h.env["TOKEN_URL_MICROSOFT"]).path
    status, body = h.token({"grant_type": "client_credentials", "client_id": h.env["CLIENT_ID"],
                            "client_secret": h.env["CLIENT_SECRET"], "scope": "https://outlook.office.com/.default"},
                           path=ms_path)
    check("client credentials grant (Microsoft tenant path, secret in body): 200",
          status == 200 and body.get("scope") == "https://outlook.office.com/.default", (status, body))
    status, body = h.token({"grant_type": "refresh_token", "refresh_token": h.env["REFRESH_TOKEN"]}, path=ms_path,
                           basic=(h.env["CLIENT_ID"], h.env["CLIENT_SECRET"]))
    check("refresh grant with HTTP Basic client authentication: 200", status == 200, (status, body))
    tokens = {h.access_token() for _ in range(20)}
    check("20 refreshes give 20 distinct tokens", len(tokens) == 20, len(tokens))

    cases = [
        ("wrong client secret → 401 invalid_client", h.refresh(client_secret="nope"), 401, "invalid_client"),
        ("unknown refresh token → 400 invalid_grant", h.refresh(refresh_token="rt-unknown"), 400, "invalid_grant"),
        ("no grant_type → 400 invalid_request", h.token({"client_id": h.env["CLIENT_ID"]}), 400, "invalid_request"),
        ("unsupported grant → 400 unsupported_grant_type", h.token({"grant_type": "password"}), 400,
         "unsupported_grant_type"),
        ("client credentials without scope → 400 invalid_request",
         h.token({"grant_type": "client_credentials", "client_id": h.env["CLIENT_ID"],
                  "client_secret": h.env["CLIENT_SECRET"]}), 400, "invalid_request"),
        ("unknown tenant → 400 invalid_request", h.token({"grant_type": "client_credentials"},
                                                         path="/other-tenant/oauth2/v2.0/token"), 400, "invalid_request"),
        ("JSON body instead of a form → 400 invalid_request",
         h.token({}, content_type="application/json"), 400, "invalid_request"),
    ]
    for name, (status, body), want_status, want_error in cases:
        check(name, status == want_status and isinstance(body, dict) and body.get("error") == want_error
              and "error_description" in body, (status, body))

    status, body = h.token({}, path="/not-a-token-path")
    check("unknown path → 404", status == 404, (status, body))


def test_tls_trust(h):
    try:
        ctx = ssl.create_default_context(cafile=h.env["SMTP_CA_FILE"])
        socket.create_connection(("127.0.0.1", int(h.env["TOKEN_PORT"])), timeout=5).close()
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(h.env["TOKEN_PORT"])), timeout=5),
                             server_hostname="localhost"):
            pass
        check("the token endpoint's certificate is not signed by the SMTP CA", False, "handshake succeeded")
    except ssl.SSLCertVerificationError:
        check("the token endpoint's certificate is not signed by the SMTP CA", True)


def test_smtp_fresh(h):
    token = h.access_token()
    s = h.smtp(implicit_tls=True)
    advertised = s.esmtp_features.get("auth", "")
    check("implicit TLS: EHLO offers AUTH OAUTHBEARER XOAUTH2 only", advertised.split() == ["OAUTHBEARER", "XOAUTH2"],
          advertised)
    code, reply = s.docmd("AUTH", "XOAUTH2 " + xoauth2("sender@example.test", token))
    check("XOAUTH2 with a fresh token (initial response) → 235", code == 235, (code, reply))
    send_and_check(h, s, "xoauth2-fresh", "XOAUTH2")
    s.quit()

    s = h.smtp(implicit_tls=False)
    advertised = s.esmtp_features.get("auth", "")
    check("STARTTLS: EHLO after TLS offers AUTH OAUTHBEARER XOAUTH2", advertised.split() == ["OAUTHBEARER", "XOAUTH2"],
          advertised)
    code, reply = s.docmd("AUTH", "OAUTHBEARER")
    check("OAUTHBEARER without initial response → 334 with an empty challenge", code == 334 and reply == b"",
          (code, reply))
    code, reply = s.docmd(oauthbearer("sender@example.test", token, h.env["STARTTLS_PORT"]))
    check("OAUTHBEARER with a fresh token → 235", code == 235, (code, reply))
    send_and_check(h, s, "oauthbearer-fresh", "OAUTHBEARER")
    s.quit()

    plain = smtplib.SMTP("localhost", int(h.env["STARTTLS_PORT"]), timeout=10)
    plain.ehlo()
    code, reply = plain.docmd("AUTH", "XOAUTH2 " + xoauth2("sender@example.test", token))
    check("STARTTLS port before TLS: AUTH refused (538)", code == 538, (code, reply))
    plain.quit()

    app = h.app_token()
    s = h.smtp()
    code, reply = s.docmd("AUTH", "XOAUTH2 " + xoauth2("other@example.test", app))
    check("app-only (client credentials) token authenticates any mailbox → 235", code == 235, (code, reply))
    send_and_check(h, s, "app-token", "XOAUTH2", user="other@example.test")
    s.quit()

    s = h.smtp()
    code, reply = s.docmd("AUTH", "XOAUTH2 " + xoauth2("other@example.test", token))
    code2, reply2 = s.docmd("") if code == 334 else (None, None)
    check("delegated token for another mailbox → 334 then 535", code == 334 and code2 == 535, (code, reply, code2))
    s.quit()

    h.control("/config", access_token_length=2500)
    long_token = h.access_token()
    s = h.smtp()
    code, reply = s.docmd("AUTH", "XOAUTH2 " + xoauth2("sender@example.test", long_token))
    check(f"a {len(long_token)}-character token in a {len(xoauth2('sender@example.test', long_token)) + 13}-byte AUTH"
          " line → 235", len(long_token) == 2500 and code == 235, (len(long_token), code, reply))
    s.quit()
    s = h.smtp()
    s.docmd("AUTH", "XOAUTH2 " + xoauth2("sender@example.test", long_token))
    try:
        s.sendmail("sender@example.test", ["to@example.test"], b"Subject: long\r\n\r\n" + b"x" * 1500 + b"\r\n")
        check("DATA still refuses a 1,500-byte line (only AUTH lines are long)", False, "accepted")
    except smtplib.SMTPDataError as problem:
        check("DATA still refuses a 1,500-byte line (only AUTH lines are long)", problem.smtp_code == 500, problem)
    s.quit()
    h.control("/config", access_token_length=0)


def test_smtp_expired(h):
    h.control("/config", token_lifetime=2)
    token = h.access_token()
    time.sleep(2.3)
    state = h.state()
    check("the expired token is no longer listed as valid",
          token not in [r["token"] for r in state["valid_access_tokens"]])

    s = h.smtp()
    code, reply = s.docmd("AUTH", "XOAUTH2 " + xoauth2("sender@example.test", token))
    challenge = decoded_json(reply) if code == 334 else {}
    check("XOAUTH2 with an expired token → 334 with base64 JSON {status 401, schemes Bearer, scope}",
          code == 334 and challenge.get("status") == "401" and challenge.get("schemes") == "Bearer"
          and "scope" in challenge, (code, reply))
    code, reply = s.docmd("")
    check("XOAUTH2: after the client's empty line → 535 5.7.8", code == 535 and reply.startswith(b"5.7.8"),
          (code, reply))
    code, reply = s.docmd("MAIL", "FROM:<sender@example.test>")
    check("unauthenticated MAIL → 530", code == 530, (code, reply))
    s.quit()

    s = h.smtp(implicit_tls=False)
    code, reply = s.docmd("AUTH", "OAUTHBEARER " + oauthbearer("sender@example.test", token, h.env["STARTTLS_PORT"]))
    challenge = decoded_json(reply) if code == 334 else {}
    check("OAUTHBEARER with an expired token → 334 with RFC 7628 JSON {status invalid_token, scope, "
          "openid-configuration}", code == 334 and challenge.get("status") == "invalid_token"
          and "scope" in challenge and "openid-configuration" in challenge, (code, reply))
    code, reply = s.docmd("AQ==")
    check("OAUTHBEARER: after the client's %x01 → 535 5.7.8", code == 535 and reply.startswith(b"5.7.8"), (code, reply))
    s.quit()

    s = h.smtp()
    code, reply = s.docmd("AUTH", "XOAUTH2 " + xoauth2("sender@example.test", token))
    code, reply = s.docmd("AQ==")
    check("XOAUTH2: a non-empty answer to the error challenge → 501", code == 501, (code, reply))
    s.quit()

    h.control("/config", auth_failure="direct")
    s = h.smtp()
    code, reply = s.docmd("AUTH", "XOAUTH2 " + xoauth2("sender@example.test", token))
    check("auth_failure=direct (Exchange Online style): expired token → 535 5.7.3 at once",
          code == 535 and reply.startswith(b"5.7.3"), (code, reply))
    s.quit()
    h.control("/config", auth_failure="challenge")

    # A session authenticated before expiry: kept (default), or 421 on its next command.
    fresh = h.access_token()
    s = h.smtp()
    code, _ = s.docmd("AUTH", "XOAUTH2 " + xoauth2("sender@example.test", fresh))
    time.sleep(2.3)
    send_and_check(h, s, "kept-session", "XOAUTH2")
    s.quit()
    check("by default an authenticated session outlives its token", code == 235)

    h.control("/config", close_expired_sessions=1)
    fresh = h.access_token()
    s = h.smtp()
    code, _ = s.docmd("AUTH", "OAUTHBEARER " + oauthbearer("sender@example.test", fresh, h.env["TLS_PORT"]))
    code_before, _ = s.docmd("NOOP")
    time.sleep(2.3)
    code_after, reply = s.docmd("MAIL", "FROM:<sender@example.test>")
    try:
        s.docmd("NOOP")
        closed = False
    except smtplib.SMTPServerDisconnected:
        closed = True
    check("close_expired_sessions=1: NOOP before expiry 250, first command after it 421, then closed",
          code == 235 and code_before == 250 and code_after == 421 and closed, (code, code_before, code_after, reply,
                                                                                closed))
    check("sessions_closed_expired counted", h.state()["sessions_closed_expired"] == 1)
    h.control("/config", close_expired_sessions=0, token_lifetime=int(h.env["TOKEN_LIFETIME"]))

    token = h.access_token()
    h.control("/expire", token=token)
    s = h.smtp()
    code, _ = s.docmd("AUTH", "XOAUTH2 " + xoauth2("sender@example.test", token))
    s.close()
    check("/expire token=…: that token is refused at once", code == 334)


def test_modes(h):
    h.control("/mode", mode="invalid_grant")
    status, body = h.refresh()
    check("mode invalid_grant: refresh → 400 invalid_grant", status == 400 and body.get("error") == "invalid_grant",
          (status, body))
    check("mode invalid_grant: client credentials still served", bool(h.app_token()))
    h.control("/mode", mode="normal")
    status, _ = h.refresh()
    check("mode normal again: the same refresh token works", status == 200, status)

    h.control("/mode", mode="rotate")
    first = h.env["REFRESH_TOKEN"]
    status, body = h.refresh(refresh_token=first)
    second = body.get("refresh_token", "")
    check("mode rotate: refresh returns a new refresh token", status == 200 and second.startswith("rt-")
          and second != first, (status, body))
    status, body = h.refresh(refresh_token=first)
    check("mode rotate: the old refresh token, used once, → 400 invalid_grant",
          status == 400 and body.get("error") == "invalid_grant", (status, body))
    status, body = h.refresh(refresh_token=second)
    third = body.get("refresh_token", "")
    check("mode rotate: the new one works and rotates again", status == 200 and third not in ("", first, second),
          (status, body))
    valid = [r["refresh_token"] for r in h.state()["valid_refresh_tokens"]]
    retired = h.state()["retired_refresh_tokens"]
    check("state lists the rotated refresh token as valid, the used ones as retired",
          third in valid and first not in valid and second not in valid and retired == [first, second], (valid, retired))
    h.control("/mode", mode="normal")
    status, body = h.refresh(refresh_token=third)
    check("mode normal after rotate: the latest refresh token works, none new", status == 200
          and "refresh_token" not in body, (status, body))

    h.control("/mode", mode="slow", delay_ms=1500)
    t0 = time.monotonic()
    status, _ = h.refresh(refresh_token=third)
    elapsed = time.monotonic() - t0
    check(f"mode slow 1500 ms: answered after {elapsed:.2f} s", status == 200 and 1.5 <= elapsed < 5, (status, elapsed))
    try:
        h.token({"grant_type": "refresh_token"}, timeout=0.5)
        check("mode slow: a 0.5 s client timeout fires", False, "answered")
    except (socket.timeout, TimeoutError):
        check("mode slow: a 0.5 s client timeout fires", True)

    # Five concurrent requests while slow: the endpoint sees them in flight together.
    before = h.state()["token_requests"]["max_in_flight"]
    threads = [threading.Thread(target=h.refresh, kwargs={"refresh_token": third}) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check("max_in_flight counts concurrent token requests", h.state()["token_requests"]["max_in_flight"] >= 5,
          (before, h.state()["token_requests"]["max_in_flight"]))

    h.control("/mode", mode="down")
    try:
        h.refresh()
        check("mode down: connection refused", False, "answered")
    except ConnectionRefusedError:
        check("mode down: connection refused", True)
    h.control("/mode", mode="normal")
    status, _ = h.refresh(refresh_token=third)
    check("mode normal after down: the endpoint listens again on the same port", status == 200, status)

    h.control("/mode", mode="hangup")
    try:
        h.refresh(refresh_token=third)
        check("mode hangup: the connection closes without an answer", False, "answered")
    except (http.client.RemoteDisconnected, ConnectionResetError, ssl.SSLEOFError):
        check("mode hangup: the connection closes without an answer", True)

    h.control("/mode", mode="error500")
    status, body = h.refresh(refresh_token=third)
    check("mode error500: 500 with a non-JSON body", status == 500 and isinstance(body, str), (status, body))
    h.control("/mode", mode="normal")


def test_counters(h):
    state = h.control("/reset")
    check("reset: counters zero, mode normal, no tokens, initial refresh tokens",
          state["token_requests"]["total"] == 0 and state["mode"] == "normal" and not state["valid_access_tokens"]
          and {r["refresh_token"] for r in state["valid_refresh_tokens"]}
          == {h.env["REFRESH_TOKEN"], h.env["REFRESH_TOKEN_2"]}, state["token_requests"])
    token = h.access_token()
    h.access_token(refresh_token=h.env["REFRESH_TOKEN_2"])
    h.app_token()
    h.refresh(client_secret="wrong")
    s = h.smtp()
    s.docmd("AUTH", "XOAUTH2 " + xoauth2("sender@example.test", "at-never-issued"))
    s.docmd("")
    s.docmd("AUTH", "XOAUTH2 " + xoauth2("sender@example.test", token))
    s.quit()
    s = h.smtp(implicit_tls=False)
    s.docmd("AUTH", "OAUTHBEARER " + oauthbearer("sender@example.test", token, h.env["STARTTLS_PORT"]))
    send_and_check(h, s, "counted", "OAUTHBEARER")
    s.quit()

    state = h.state()
    r = state["token_requests"]
    client = r["by_client"].get(h.env["CLIENT_ID"], {})
    check("token counters: total 4, ok 3, 3 refresh (1 refused), 1 client credentials, 1 invalid_client, per client",
          (r["total"], r["ok"], r["refresh_token"], r["client_credentials"], r["errors"])
          == (4, 3, 3, 1, {"invalid_client": 1})
          and client == {"total": 4, "refresh_token": 3, "client_credentials": 1}, r)
    check("AUTH counters per mechanism: XOAUTH2 2 attempts 1 success 1 failure, OAUTHBEARER 1/1/0",
          state["auth"] == {"XOAUTH2": {"attempts": 2, "successes": 1, "failures": 1},
                            "OAUTHBEARER": {"attempts": 1, "successes": 1, "failures": 0}}
          and state["auth_failure_reasons"] == {"unknown_token": 1}, (state["auth"], state["auth_failure_reasons"]))
    check("valid_access_tokens lists the 3 issued tokens with their user and expiry",
          len(state["valid_access_tokens"]) == 3 and
          {r["user"] for r in state["valid_access_tokens"]} == {"sender@example.test", "other@example.test", None},
          state["valid_access_tokens"])
    last = state["auth_log"][-1]
    check("auth_log records mechanism, user, host and port (OAUTHBEARER)",
          (last["mechanism"], last["user"], last["host"], last["port"], last["ok"])
          == ("OAUTHBEARER", "sender@example.test", "localhost", h.env["STARTTLS_PORT"], True), last)
    check("request_log records path, grant, client auth and scope, no secret",
          state["request_log"][2]["client_auth"] == "basic" and state["request_log"][2]["tenant"] == h.env["TENANT"]
          and h.env["CLIENT_SECRET"] not in json.dumps(state["request_log"]), state["request_log"][2])
    check("messages and SMTP connections counted (STARTTLS counts once)",
          state["messages"] == 1 and state["smtp_connections"] == 2, (state["messages"], state["smtp_connections"]))
    check("issued_access_tokens lists every token issued", token in state["issued_access_tokens"]
          and len(state["issued_access_tokens"]) == 3, state["issued_access_tokens"])

    h.control("/config", mechanisms="XOAUTH2")
    s = h.smtp()
    advertised = s.esmtp_features.get("auth", "")
    code, _ = s.docmd("AUTH", "OAUTHBEARER " + oauthbearer("sender@example.test", token, h.env["TLS_PORT"]))
    s.quit()
    check("mechanisms=XOAUTH2: only XOAUTH2 offered, OAUTHBEARER → 504", advertised.split() == ["XOAUTH2"] and code == 504,
          (advertised, code))
    h.control("/reset")


def main():
    keep = "--keep" in sys.argv[1:]
    directory = tempfile.mkdtemp(prefix="oauth-harness-selftest.")
    t0 = time.monotonic()
    env = parse_env(harness("start", directory))
    again = parse_env(harness("start", directory))
    check("start is idempotent: a second start prints the same environment", again == env)
    h = Harness(env)
    try:
        for test in (test_grants, test_tls_trust, test_smtp_fresh, test_smtp_expired, test_modes, test_counters):
            try:
                test(h)
            except Exception as problem:  # a crash is one more failure, the rest still runs
                check(f"{test.__name__} ran to the end", False, f"{type(problem).__name__}: {problem}")
                try:
                    h.control("/reset")
                except Exception:
                    pass
    finally:
        if not keep:
            harness("stop", directory)
            harness("stop", directory)
            status = subprocess.run([SCRIPT, "status", directory], capture_output=True)
            check("stop is idempotent and the harness is stopped", status.returncode == 3)
    print(f"{len(FAILURES)} failure(s) in {time.monotonic() - t0:.1f} s" + (f": {', '.join(FAILURES)}" if FAILURES else ""))
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
