"""Scale-out: HAProxy (contrib/haproxy/haproxy.cfg) in front of two plugboard instances.

The shipped configuration is used with only its addresses, health-check interval and stats
socket rewritten. Each instance's demo server is named after it (DEMO_SERVER_NAME), and
`resources/read demo://readme` says "Server name: <name>", so every request shows which
instance answered it. Skipped only when haproxy is not installed (Tests/Interop/setup.sh
installs it when run as root).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT, MCPConnection, ServerProcess, demo, read_sse, requires_proxy, wait_ready

HAPROXY = shutil.which("haproxy")
SHIPPED = ROOT / "contrib" / "haproxy" / "haproxy.cfg"

pytestmark = [
    requires_proxy,
    pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed (Tests/Interop/setup.sh installs it as root; or apt-get install haproxy)"),
]

SESSIONS = 6
REQUESTS_PER_SESSION = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def haproxy_config(port: int, backends: dict[str, int], stats_socket: Path, server_close: bool) -> str:
    """The shipped configuration, pointed at our ports."""
    text = SHIPPED.read_text()
    text = re.sub(r"(?m)^\s*log /dev/log.*$", "    log stdout format raw local0 info", text)
    text = re.sub(r"(?m)^\s*stats socket .*$", f"    stats socket {stats_socket} mode 600 level admin", text)
    text = re.sub(r"(?m)^\s*bind 127\.0\.0\.1:8080$", f"    bind 127.0.0.1:{port}", text)
    text = re.sub(r"inter 2s", "inter 300ms", text)
    text = re.sub(r"slowstart \S+ ?", "", text)
    if not server_close:
        text = re.sub(r"(?m)^\s*option http-server-close$", "    option http-keep-alive", text)
    servers = "".join(f"    server {name} 127.0.0.1:{p}\n" for name, p in backends.items())
    text, n = re.subn(r"(?m)(^    server \w+ 127\.0\.0\.1:\d+\n)+", servers, text)
    assert n == 1, "contrib/haproxy/haproxy.cfg changed shape: no block of `server` lines"
    return text


def runtime(stats_socket: Path, command: str) -> str:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(str(stats_socket))
        s.sendall(command.encode() + b"\n")
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out.decode()


def servers_up(stats_socket: Path) -> dict[str, str]:
    """server name -> status (UP, DOWN, DRAIN, ...) from `show stat`."""
    lines = runtime(stats_socket, "show stat").splitlines()
    header = lines[0].lstrip("# ").split(",")
    rows = [dict(zip(header, line.split(","))) for line in lines[1:] if line]
    return {r["svname"]: r["status"] for r in rows if r["pxname"] == "plugboard" and r["svname"] not in ("FRONTEND", "BACKEND")}


@pytest.fixture
def cluster(http_sut, tmp_path: Path):
    """Two plugboard instances (a, b) and HAProxy in front: `start(server_close=True)`."""
    procs: list[ServerProcess] = []

    def start(server_close: bool = True):
        instances = {name: http_sut(demo("demo", DEMO_SERVER_NAME=f"instance-{name}"), name=name) for name in ("a", "b")}
        for inst in instances.values():
            wait_ready(inst.admin_url)
        port = free_port()
        stats = tmp_path / "haproxy.sock"
        cfg = tmp_path / "haproxy.cfg"
        cfg.write_text(haproxy_config(port, {n: i.port for n, i in instances.items()}, stats, server_close))
        check = subprocess.run([HAPROXY, "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=10)
        assert check.returncode == 0, f"generated config invalid:\n{check.stdout}{check.stderr}\n{cfg.read_text()}"
        proc = ServerProcess([HAPROXY, "-db", "-f", str(cfg)], env=dict(os.environ), cwd=tmp_path, log_path=tmp_path / "haproxy.log", patterns={})
        procs.append(proc)
        deadline = time.monotonic() + 10
        while True:
            try:
                if stats.exists() and set(servers_up(stats).values()) == {"UP"}:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"haproxy backends not UP: {proc.log_text()[-2000:]}"
            assert proc.proc.poll() is None, f"haproxy exited: {proc.log_text()[-2000:]}"
            time.sleep(0.1)
        return f"http://127.0.0.1:{port}/mcp", instances, stats

    yield start
    for p in procs:
        p.stop()


def identity(conn: MCPConnection) -> str:
    text = conn.rpc("resources/read", {"uri": "demo://readme"})["result"]["contents"][0]["text"]
    m = re.search(r"Server name: (\S+)", text)
    assert m, text
    return m.group(1)


def owner_of(session_id: str, instances) -> str:
    """Asks each instance directly which one holds the session: exactly one must."""
    owners = []
    for name, inst in instances.items():
        with MCPConnection(inst.url) as c:
            c.session_id, c.protocol_version = session_id, "2025-11-25"
            r = c.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})
            assert r.status in (200, 404), f"ping on {name}: {r}"
            if r.status == 200:
                owners.append(name)
    assert len(owners) == 1, f"session {session_id} known to {owners}"
    return owners[0]


def open_get_stream(conn: MCPConnection):
    """The session's standalone GET stream, as clients keep it open (holds a connection: leastconn sees it)."""
    s = socket.create_connection((conn.host, conn.port), timeout=10)
    s.sendall(
        f"GET {conn.path} HTTP/1.1\r\nHost: {conn.host}:{conn.port}\r\nAccept: text/event-stream\r\n"
        f"Mcp-Session-Id: {conn.session_id}\r\nMCP-Protocol-Version: 2025-11-25\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        assert chunk, "GET stream closed before its head"
        head += chunk
    assert head.startswith(b"HTTP/1.1 200"), head
    return s


class Sessions:
    """Sessions opened through HAProxy, each with its GET stream open as clients keep it (so
    `balance leastconn` sees a connection per session and spreads them), and its owner."""

    def __init__(self, url: str, instances):
        self.url, self.instances = url, instances
        self.conns: list[MCPConnection] = []
        self.streams: list[socket.socket] = []
        self.owners: dict[str, str] = {}

    def open(self, n: int) -> list[MCPConnection]:
        new = []
        for _ in range(n):
            c = MCPConnection(self.url)
            self.conns.append(c)
            c.initialize()
            self.streams.append(open_get_stream(c))
            self.owners[c.session_id] = owner_of(c.session_id, self.instances)
            new.append(c)
        return new

    def close(self) -> None:
        for s in self.streams:
            s.close()
        for c in self.conns:
            c.close()


@pytest.mark.parametrize("server_close", [True, False], ids=["http-server-close", "http-keep-alive"])
def test_sessions_stick_to_their_instance(cluster, server_close):
    url, instances, stats = cluster(server_close)
    sessions = Sessions(url, instances)
    try:
        conns = sessions.open(SESSIONS)
        owners = sessions.owners
        assert set(owners.values()) == {"a", "b"}, f"both instances should have sessions: {owners}"

        for round_ in range(REQUESTS_PER_SESSION):
            for c in conns:
                want = f"instance-{owners[c.session_id]}"
                assert identity(c) == want, f"session {c.session_id[:8]} request {round_} answered by the wrong instance"
                echo = c.rpc("tools/call", {"name": "echo", "arguments": {"text": f"{round_}"}})
                assert echo["result"]["content"][0]["text"] == f"{round_}"
                c.reconnect()  # a fresh client connection each round: stickiness must come from the header

        # an SSE answer streams through: progress events, then the response
        c = conns[0]
        resp = c.open("POST", {"jsonrpc": "2.0", "id": 77, "method": "tools/call",
                               "params": {"name": "progress", "arguments": {"steps": 3, "delay_ms": 50}, "_meta": {"progressToken": 1}}})
        assert resp.status == 200 and resp.getheader("Content-Type", "").startswith("text/event-stream")
        got = []
        for ev in read_sse(resp.readline):
            if ev.data.strip():
                got.append(ev.json())
                if got[-1].get("id") == 77:
                    break
        resp.close()
        c.reconnect()
        assert [m["params"]["progress"] for m in got[:-1]] == [1, 2, 3] and "result" in got[-1], got

        # DELETE through the balancer reaches the owner
        r = conns[1].request("DELETE")
        assert r.status in (200, 204), r
        r = conns[1].post({"jsonrpc": "2.0", "id": 9, "method": "ping"})
        assert r.status == 404, r
    finally:
        sessions.close()


def test_drained_instance_keeps_its_sessions_but_gets_no_new_ones(cluster):
    url, instances, stats = cluster(True)
    sessions = Sessions(url, instances)
    try:
        old = sessions.open(4)
        assert "a" in sessions.owners.values(), f"no session on a to keep: {sessions.owners}"
        assert runtime(stats, "set server plugboard/a state drain").strip() == ""
        assert servers_up(stats)["a"] == "DRAIN"
        new = sessions.open(4)
        assert {sessions.owners[c.session_id] for c in new} == {"b"}, "a drained instance must not get new sessions"
        for c in old:
            assert identity(c) == f"instance-{sessions.owners[c.session_id]}", "existing sessions stay where they are"
        runtime(stats, "set server plugboard/a state ready")
    finally:
        sessions.close()


def test_modern_clients_need_no_session_affinity(cluster, tmp_path: Path):
    """MCP 2026-07-28 is stateless: with the stick lines removed and plain round-robin, every
    call of a modern SDK client is answered, and both instances answer some."""
    url, instances, stats = cluster(True)
    cfg = tmp_path / "haproxy.cfg"
    text = cfg.read_text().replace("balance leastconn", "balance roundrobin")
    text = re.sub(r"(?m)^\s*stick.*$", "", text)
    cfg.write_text(text)
    port = int(re.search(r"bind 127\.0\.0\.1:(\d+)", text).group(1))
    # The cluster's HAProxy still holds its port: this one gets a port of its own.
    rr_port = free_port()
    cfg.write_text(text.replace(f"bind 127.0.0.1:{port}", f"bind 127.0.0.1:{rr_port}").replace(str(stats), str(tmp_path / "rr.sock")))
    proc = ServerProcess([HAPROXY, "-db", "-f", str(cfg)], env=dict(os.environ), cwd=tmp_path, log_path=tmp_path / "haproxy-rr.log", patterns={})
    try:
        deadline = time.monotonic() + 10
        while not ((tmp_path / "rr.sock").exists() and set(servers_up(tmp_path / "rr.sock").values()) == {"UP"}):
            assert time.monotonic() < deadline and proc.proc.poll() is None, proc.log_text()[-2000:]
            time.sleep(0.1)

        import anyio
        from mcp import Client

        async def drive() -> tuple[list[str], list[str]]:
            answers, who = [], []
            async with Client(f"http://127.0.0.1:{rr_port}/mcp", mode="2026-07-28", read_timeout_seconds=10, cache=None) as client:
                for i in range(20):
                    r = await client.call_tool("echo", {"text": f"rr-{i}"})
                    answers.append(r.content[0].text)
                # Alternating two kinds of request would pair each kind with one instance.
                for _ in range(6):
                    readme = await client.read_resource("demo://readme")
                    who.append(re.search(r"Server name: (\S+)", readme.contents[0].text).group(1))
            return answers, who

        answers, who = anyio.run(drive)
        assert answers == [f"rr-{i}" for i in range(20)]
        assert set(who) == {"instance-a", "instance-b"}, f"round-robin should reach both instances: {who}"
    finally:
        proc.stop()
