"""1,000 stateless MCP 2026-07-28 clients ask plugboard's HTTP endpoint for tools/list.

The upstream is Tests/Interop/fixtures/modern_server.py, whose list results are public for
60 s (ttlMs 60000). Each client is a connection of its own making one modern request, 50 at
a time. Prints how many of the 1,000 reached the server (plugboard's /status counts them as
listCache fetches) and the wall time. Standard library only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "Tests" / "Interop" / "fixtures" / "modern_server.py"
META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "eras-cache", "version": "1"},
}


async def one_client(port: int, n: int) -> int:
    body = json.dumps({"jsonrpc": "2.0", "id": n, "method": "tools/list", "params": {"_meta": META}}).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/list\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    writer.write(head + body)
    await writer.drain()
    data = await reader.read()
    writer.close()
    status = int(data.split(b" ", 2)[1])
    payload = json.loads(data.split(b"\r\n\r\n", 1)[1] or b"{}") if status == 200 else {}
    assert status == 200 and payload.get("result", {}).get("tools"), data[:300]
    return status


def status(port: int) -> dict:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5) as r:
        return json.load(r)


async def run(port: int, clients: int, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def bounded(n: int) -> int:
        async with gate:
            return await one_client(port, n)

    started = time.monotonic()
    await asyncio.gather(*(bounded(n) for n in range(clients)))
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plugboard", required=True)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "plugboard.toml").write_text(
            "[log]\nlevel = \"warning\"\n[servers.modern]\n"
            f"command = {json.dumps(sys.executable)}\nargs = [{json.dumps(str(SERVER))}, \"--era\", \"modern\"]\n"
        )
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        proc = subprocess.Popen(
            [args.plugboard, "run", "--config", tmp, "--http", f"127.0.0.1:{port}"], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    if status(port)["proxy"]["upstreams"]["modern"]["phase"] == "ready":
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline and proc.poll() is None, "plugboard did not come up"
                time.sleep(0.05)
            seconds = asyncio.run(run(port, args.clients, args.concurrency))
            cache = status(port)["proxy"]["listCache"]
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    reached = cache["fetches"]
    result = {"benchmark": "list-cache", "clients": args.clients, "concurrency": args.concurrency, "reached_server": reached,
              "served_from_cache": cache["hits"], "seconds": round(seconds, 3), "requests_per_s": round(args.clients / seconds)}
    print(f"list cache: {args.clients} stateless modern clients asked tools/list ({args.concurrency} at a time): "
          f"{reached} reached the server, {args.clients - reached} were answered from plugboard's cache or its fetch in flight; "
          f"{seconds:.2f} s, {args.clients / seconds:.0f} requests/s")
    if args.json:
        print(json.dumps(result))
    # Concurrent requests for a page being fetched wait for that fetch.
    return 0 if reached == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
