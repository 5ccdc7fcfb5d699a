"""Start a real daemon (and a Postfix harness) for live tests; scenario replay."""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SCENARIOS = os.path.join(REPO, "clients", "fixtures", "scenarios.json")
DEFAULT_BIN = "/work/bin-clients/smtp-sidecar"


def sidecar_bin() -> Optional[str]:
    b = os.environ.get("SMTP_SIDECAR_BIN") or DEFAULT_BIN
    if os.path.isfile(b) and os.access(b, os.X_OK):
        return b
    return shutil.which(b) if os.sep not in b else None


class Daemon:
    def __init__(self, binary: str, *extra_settings: str) -> None:
        self.dir = tempfile.mkdtemp(prefix="sidecar-live-")
        self.path = os.path.join(self.dir, "s.sock")
        self.log = open(os.path.join(self.dir, "daemon.log"), "wb")
        args = [binary, "serve", "--socket", self.path, "--log-target", "stderr",
                "--set", f"state_directory={os.path.join(self.dir, 'state')}",
                "--set", "egress_allowed_cidrs=127.0.0.1/32,::1/128"]
        for s in extra_settings:
            args += ["--set", s]
        # The daemon reads SMTP_SIDECAR_* variables as configuration keys: the tests' own
        # (SMTP_SIDECAR_BIN, ...) must not reach it.
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMTP_SIDECAR_")}
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited {self.proc.returncode}: {self.logs()}")
            if os.path.exists(self.path):
                try:
                    s = socket.socket(socket.AF_UNIX)
                    s.connect(self.path)
                    s.close()
                    return
                except OSError:
                    pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("daemon did not start: " + self.logs())

    def logs(self) -> str:
        try:
            with open(os.path.join(self.dir, "daemon.log"), "rb") as f:
                return f.read()[-4000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if not os.environ.get("SMTP_SIDECAR_KEEP_TEST_DIRS"):
            shutil.rmtree(self.dir, ignore_errors=True)


def _read_env(path: str) -> Dict[str, str]:
    out: Dict[str, str] = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                out[k] = v
    return out


class Postfix:
    def __init__(self) -> None:
        self.script = os.path.join(REPO, "scripts", "postfix-harness.sh")
        self.dir = tempfile.mkdtemp(prefix="pf-clients-")
        os.chmod(self.dir, 0o755)
        subprocess.run([self.script, "install"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        r = subprocess.run([self.script, "start", self.dir], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise RuntimeError("postfix-harness start failed: " + r.stdout.decode("utf-8", "replace")[-2000:])
        self.env = _read_env(os.path.join(self.dir, "ports.env"))
        self.env.update(_read_env(os.path.join(self.dir, "users.env")))

    def stop(self) -> None:
        subprocess.run([self.script, "stop", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not os.environ.get("SMTP_SIDECAR_KEEP_TEST_DIRS"):
            shutil.rmtree(self.dir, ignore_errors=True)


class Hostile:
    """scripts/hostile-smtp/hostile_smtp.py with one fault (e.g. dot:drop)."""

    def __init__(self, fault: str) -> None:
        self.dir = tempfile.mkdtemp(prefix="hostile-")
        port_file = os.path.join(self.dir, "port")
        script = os.path.join(REPO, "scripts", "hostile-smtp", "hostile_smtp.py")
        self.ca_file = os.path.join(REPO, "scripts", "hostile-smtp", "ca.pem")
        self.proc = subprocess.Popen([sys.executable, script, "--port-file", port_file, "--fault", fault],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            if os.path.exists(port_file) and open(port_file).read().strip():
                self.port = int(open(port_file).read().strip())
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("hostile_smtp.py did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def placeholders(env: Dict[str, str], dot_drop: Optional["Hostile"] = None,
                 greeting_stall: Optional["Hostile"] = None) -> Dict[str, Any]:
    with open(env["SMTP_CA_FILE"]) as f:
        ca = f.read()
    extra: Dict[str, Any] = {}
    for name, hostile in (("HOSTILE_DOT_DROP_PORT", dot_drop), ("HOSTILE_GREETING_STALL_PORT", greeting_stall)):
        if hostile is not None:
            with open(hostile.ca_file) as f:
                extra.update({name: hostile.port, "HOSTILE_CA_PEM": f.read()})
    return {**extra,
        "RUN_ID": uuid.uuid4().hex[:12],
        "SMTP_HOST": env.get("SMTP_HOST", "127.0.0.1"),
        "SMTP_TLS_NAME": env.get("SMTP_TLS_NAME", "localhost"),
        "SMTP_PORT": int(env["SUBMISSION_PORT"]),
        "SMTPS_PORT": int(env["SMTPS_PORT"]),
        "BADCERT_PORT": int(env["BADCERT_PORT"]),
        "STOCK_SUBMISSION_PORT": int(env["STOCK_SUBMISSION_PORT"]),
        "CLOSED_PORT": closed_port(),
        "SMTP_USER": env["SMTP_USER"],
        "SMTP_PASSWORD": env["SMTP_PASSWORD"],
        "SMTP_CA_PEM": ca,
    }


_PH = re.compile(r"\$\{([A-Z0-9_]+)\}")


def substitute(value: Any, ph: Dict[str, Any]) -> Any:
    """Replace ${NAME}; a string that is exactly one placeholder takes the
    placeholder's type (ports are integers). An unknown name is an error."""
    if isinstance(value, str):
        m = _PH.fullmatch(value)
        if m:
            if m.group(1) not in ph:
                raise KeyError(f"unknown placeholder {value}")
            return ph[m.group(1)]

        def rep(mm: "re.Match[str]") -> str:
            if mm.group(1) not in ph:
                raise KeyError(f"unknown placeholder {mm.group(0)}")
            return str(ph[mm.group(1)])

        return _PH.sub(rep, value)
    if isinstance(value, dict):
        return {k: substitute(v, ph) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, ph) for v in value]
    return value


def load_scenarios() -> List[Dict[str, Any]]:
    with open(SCENARIOS) as f:
        return json.load(f)


def observe(ok: bool, result: Optional[Dict[str, Any]], code: Optional[str],
            retryable: Optional[bool] = None) -> Dict[str, Any]:
    """What a replay compares with `expect` (clients/fixtures/README.md, "What is compared")."""
    result = result if isinstance(result, dict) else {}
    outcome = result.get("outcome")
    dup = result.get("duplicate")
    recipients = result.get("recipients")
    return {
        "ok": ok,
        "code": code,
        "outcome": outcome if isinstance(outcome, str) else None,
        "duplicate": dup if isinstance(dup, bool) else None,
        "retryable": None if ok else retryable,
        "recipients": [{"address": r.get("address"), "accepted": r.get("accepted")} for r in recipients]
        if isinstance(recipients, list) else None,
    }
