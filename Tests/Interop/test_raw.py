"""Raw newline-delimited JSON-RPC (no SDK): framing, parse errors, version negotiation."""

from __future__ import annotations

import json
import pytest

from conftest import demo

VERSIONS = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]


@pytest.mark.parametrize("version", VERSIONS)
def test_protocol_version_negotiation(raw_sut, version):
    p = raw_sut(demo())
    resp = p.initialize(version)
    assert resp["jsonrpc"] == "2.0" and resp["id"] == 1
    assert resp["result"]["protocolVersion"] == version
    assert "tools" in resp["result"]["capabilities"]
    p.send({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": version}}})
    r = p.recv_response(2)
    assert r["result"]["content"][0]["text"] == version
    assert p.close() == 0


def test_unknown_protocol_version_gets_a_supported_one(raw_sut):
    p = raw_sut(demo())
    resp = p.initialize("2099-01-01")
    assert resp["result"]["protocolVersion"] in VERSIONS


def test_malformed_json_line(raw_sut):
    p = raw_sut(demo())
    p.send_line("{bad json")
    err = p.recv(timeout=10)
    assert err["id"] is None
    assert err["error"]["code"] == -32700
    resp = p.initialize("2025-11-25", id="init-1")  # string ids must round-trip unchanged
    assert resp["id"] == "init-1"
    assert resp["result"]["protocolVersion"] == "2025-11-25"
    p.send({"jsonrpc": "2.0", "id": 2, "method": "ping"})
    assert p.recv_response(2)["result"] == {}


def test_unknown_method_and_id_types(raw_sut):
    p = raw_sut(demo())
    p.initialize()
    p.send({"jsonrpc": "2.0", "id": 10, "method": "no/such/method"})
    assert p.recv_response(10)["error"]["code"] == -32601
    # same numeric value as string and as number must stay distinct
    p.send({"jsonrpc": "2.0", "id": "11", "method": "ping"})
    p.send({"jsonrpc": "2.0", "id": 11, "method": "ping"})
    got = [p.recv(), p.recv()]
    assert sorted(repr(m["id"]) for m in got) == ["'11'", "11"]
    # an integer id beyond 64 bits is echoed back as sent, forwarded calls included
    big = 123456789012345678901234567890
    p.send_line('{"jsonrpc":"2.0","id":%d,"method":"ping"}' % big)
    assert p.recv_response(big)["result"] == {}
    p.send_line('{"jsonrpc":"2.0","id":-%d,"method":"tools/call","params":{"name":"echo","arguments":{"text":"big"}}}' % big)
    assert p.recv_response(-big)["result"]["content"][0]["text"] == "big"


def test_cancelled_request_gets_no_response(raw_sut):
    """notifications/cancelled must reach the upstream: the cancelled call is never answered."""
    p = raw_sut(demo())
    p.initialize()
    p.send({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "slow", "arguments": {"ms": 1500}}})
    p.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7, "reason": "test"}})
    p.send({"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": "slow", "arguments": {"ms": 2500}}})
    r = p.recv_response(8, timeout=10)  # arrives ~1 s after the cancelled one would have
    assert r["result"]["content"][0]["text"] == "slept 2500 ms"


def test_progress_token_round_trip(raw_sut):
    p = raw_sut(demo())
    p.initialize()
    p.send(
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "progress", "arguments": {"steps": 2, "delay_ms": 5}, "_meta": {"progressToken": "tok-1"}},
        }
    )
    msgs = [p.recv(), p.recv(), p.recv()]
    assert [m.get("method") for m in msgs] == ["notifications/progress", "notifications/progress", None]
    assert all(m["params"]["progressToken"] == "tok-1" for m in msgs[:2])
    assert msgs[2]["id"] == 3


def test_batches_in_2025_03_26_sessions_only(raw_sut):
    """2025-03-26 requires servers to accept JSON-RPC batches: members are handled as if sent
    alone and the answers come back as one array; later revisions removed batches."""
    p = raw_sut(demo())
    assert p.initialize("2025-03-26")["result"]["protocolVersion"] == "2025-03-26"
    p.send_line(json.dumps([
        {"jsonrpc": "2.0", "id": 21, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "in a batch"}}},
        {"jsonrpc": "2.0", "method": "notifications/roots/list_changed"},
        {"jsonrpc": "2.0", "id": "p", "method": "ping"},
        {"jsonrpc": "2.0", "id": 22, "method": "initialize", "params": {}},
        {"not": "json-rpc"},
    ]))
    answers = p.recv()
    assert isinstance(answers, list), answers
    by_id = {json.dumps(a.get("id")): a for a in answers}
    assert set(by_id) == {"21", '"p"', "22", "null"}, answers
    assert by_id["21"]["result"]["content"][0]["text"] == "in a batch"
    assert by_id['"p"']["result"] == {}
    assert by_id["22"]["error"]["code"] == -32600 and "batch" in by_id["22"]["error"]["message"]
    assert by_id["null"]["error"]["code"] == -32600
    p.send_line("[]")
    assert p.recv()["error"]["code"] == -32600

    q = raw_sut(demo())
    q.initialize("2025-06-18")
    q.send_line(json.dumps([{"jsonrpc": "2.0", "id": 5, "method": "ping"}]))
    refused = q.recv()
    assert refused["error"]["code"] == -32600 and "batch" in refused["error"]["message"]
