"""Replays clients/fixtures/scenarios.json against a live daemon and Postfix.

The Node client's suite (clients/node/test/live.test.mjs) replays the same file and
compares the same observation; both check that every scenario of the file ran."""
from __future__ import annotations

import asyncio

import pytest

import smtp_sidecar as ss
from live import load_scenarios, observe, placeholders, substitute

pytestmark = pytest.mark.live
SCENARIOS = load_scenarios()
#: The scenarios the issue (#19) names: the file must keep covering them.
REQUIRED = {"sent", "partial-refusal", "all-refused", "auth-failure", "tls-failure", "request-timeout",
            "outcome-unknown", "duplicate", "rate-limited", "mail-loop"}
#: Names of the scenarios test_scenario replayed (whatever their verdict).
RAN = set()


@pytest.fixture(scope="module")
def ph(postfix, hostile_dot_drop, hostile_greeting_stall):
    return placeholders(postfix.env, hostile_dot_drop, hostile_greeting_stall)


@pytest.fixture(scope="module")
def client(daemon):
    with ss.SidecarClient(daemon.path) as c:
        yield c


def _call(client, req):
    try:
        res = client.request(req["op"], req["params"])
        return observe(True, res, None), None
    except ss.SidecarError as e:
        return observe(False, e.result, e.code, e.retryable), e


@pytest.mark.parametrize("sc", SCENARIOS, ids=lambda s: s["name"])
def test_scenario(sc, client, ph):
    RAN.add(sc["name"])
    n = sc.get("repeat", 1)
    for i in range(1, n + 1):
        req = substitute(sc["request"], {**ph, "REPEAT_INDEX": i})
        got, err = _call(client, req)
        expect = sc["expect"] if i == n else sc["expect_first"]
        assert got == expect, f"{sc['name']} #{i}: {err!r}"
        if err is not None:
            assert type(err) is not ss.SidecarError, "every scenario code maps to a typed exception"


def test_every_scenario_ran(client, ph):
    """No silent drop: every scenario of the file went through test_scenario above (it runs
    first, in file order), names are unique, and the ones the issue names are there."""
    names = [s["name"] for s in SCENARIOS]
    assert len(names) == len(set(names)), "scenario names must be unique"
    assert REQUIRED <= set(names), f"missing from the fixture: {sorted(REQUIRED - set(names))}"
    assert RAN == set(names), f"not replayed: {sorted(set(names) - RAN)}"
    print(f"replayed {len(RAN)} of {len(names)} scenarios")


def test_scenario_errors_are_typed(client, ph):
    """The typed view of the same answers: exception classes and their members."""
    by = {s["name"]: s for s in SCENARIOS}

    def fail(name):
        req = substitute(by[name]["request"], {**ph, "RUN_ID": ph["RUN_ID"] + "-typed", "REPEAT_INDEX": 1})
        with pytest.raises(ss.SidecarError) as ei:
            client.send(req["params"])
        return ei.value

    e = fail("auth-failure")
    assert isinstance(e, ss.AuthError) and e.smtp["code"] == 535 and e.phase == "auth" and not e.retryable
    e = fail("connection-failed")
    assert isinstance(e, ConnectionError) and e.retryable and e.phase == "connect"
    e = fail("request-timeout")
    assert isinstance(e, TimeoutError) and e.retryable
    e = fail("all-refused")
    assert isinstance(e, ss.RecipientsRejectedError) and len(e.result["recipients"]) == 2


def test_partial_refusal_typed_result(client, ph):
    sc = next(s for s in SCENARIOS if s["name"] == "partial-refusal")
    req = substitute(sc["request"], {**ph, "RUN_ID": ph["RUN_ID"] + "-p", "REPEAT_INDEX": 1})
    r = client.send(req["params"])
    assert r.outcome == "sent" and r.accepted == ["bob@example.test"] and r.rejected == ["unknown-carol@example.test"]
    assert r.recipients[1].smtp.code == 550


def test_rate_limited_retry_after(client, ph):
    sc = next(s for s in SCENARIOS if s["name"] == "rate-limited")
    p = {**ph, "RUN_ID": ph["RUN_ID"] + "-rl"}
    client.send(substitute(sc["request"], {**p, "REPEAT_INDEX": 1})["params"])
    with pytest.raises(ss.RateLimitedError) as ei:
        client.send(substitute(sc["request"], {**p, "REPEAT_INDEX": 2})["params"])
    assert ei.value.retryable and 0 < ei.value.retry_after <= 60


def test_async_client_sends_concurrently(daemon, ph):
    sc = next(s for s in SCENARIOS if s["name"] == "sent")

    async def main():
        async with ss.AsyncSidecarClient(daemon.path, max_connections=2) as c:
            reqs = [substitute(sc["request"], {**ph, "RUN_ID": f"{ph['RUN_ID']}-a{i}", "REPEAT_INDEX": 1}) for i in range(8)]
            return await asyncio.gather(*(c.send(r["params"]) for r in reqs))

    res = asyncio.run(main())
    assert all(r.outcome == "sent" and not r.duplicate for r in res)


def test_retry_helper_does_not_resend_outcome_unknown(client, ph):
    sc = next(s for s in SCENARIOS if s["name"] == "outcome-unknown")
    req = substitute(sc["request"], {**ph, "RUN_ID": ph["RUN_ID"] + "-ou", "REPEAT_INDEX": 1})
    calls = []

    def go():
        calls.append(1)
        return client.send(req["params"])

    with pytest.raises(ss.OutcomeUnknownError) as ei:
        ss.retry(go, attempts=5, sleep=lambda s: None)
    assert len(calls) == 1 and ei.value.may_have_been_sent and ei.value.phase == "data"
