"""tools/call through a stdio MCP server, as the official Python SDK's clients make them.

The client is asyncio with one reader task matching responses to futures by id and
json.dumps/json.loads per message: the runtime model of the `mcp` package, without its
validation layer, so the figures are the transport's and the server's. Standard library only.

Each target is a command line (split on spaces) started as a stdio MCP server and spoken to
in one era: `legacy` (initialize first) or `modern` (2026-07-28: `_meta` on every request).
For each size: --iterations sequential calls (p50/p99 latency), then --in-flight calls kept
outstanding for --duration-ms (calls per second, and the target's CPU per call: the user and
system time of its process and of every descendant running the same executable, from /proc,
over that phase: for plugboard its own cost, its core's included, its upstream's not). Several
targets are measured in turns.

    asyncio-client.py --target legacy=legacy:"plugboard run --config etc" \\
                      --target modern=modern:"plugboard run --config etc" [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shlex
import sys
import time

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def own_cpu_seconds(root: int) -> float | None:
    """User + system time of `root` and of its descendants that run the same executable."""
    try:
        executable = os.readlink(f"/proc/{root}/exe")
    except OSError:
        return None
    total, frontier = 0, [root]
    while frontier:
        pid = frontier.pop()
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            if pid == root or os.readlink(f"/proc/{pid}/exe") == executable:
                total += int(fields[11]) + int(fields[12])
            with open(f"/proc/{pid}/task/{pid}/children") as children:
                frontier += [int(child) for child in children.read().split()]
        except (OSError, IndexError, ValueError):
            continue
    return total / TICKS_PER_SECOND

META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "asyncio-bench", "version": "1"},
}


class Client:
    def __init__(self, label: str, era: str, command: str):
        self.label, self.era, self.command = label, era, command
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future] = {}
        self.errors = 0

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *shlex.split(self.command), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=1 << 24
        )
        self.reader = asyncio.create_task(self.read())
        if self.era == "legacy":
            await self.request(
                "initialize",
                {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "asyncio-bench", "version": "1"}},
            )
            self.write({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def write(self, message: dict) -> None:
        self.process.stdin.write(json.dumps(message).encode() + b"\n")

    async def request(self, method: str, params: dict) -> dict:
        id = next(self.ids)
        if self.era == "modern":
            params = {**params, "_meta": META}
        future = asyncio.get_running_loop().create_future()
        self.pending[id] = future
        self.write({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
        await self.process.stdin.drain()
        return await future

    async def read(self) -> None:
        while line := await self.process.stdout.readline():
            message = json.loads(line)
            future = self.pending.pop(message.get("id"), None)
            if future is None:
                continue
            if "error" in message:
                self.errors += 1
            future.set_result(message)

    async def call(self, size: int) -> None:
        await self.request("tools/call", {"name": "payload", "arguments": {"bytes": size}})

    async def stop(self) -> None:
        self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 5)
        except asyncio.TimeoutError:
            self.process.kill()
            await self.process.wait()
        self.reader.cancel()


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def throughput(client: Client, size: int, in_flight: int, duration: float) -> tuple[float, float | None]:
    """Calls per second, and the target's CPU µs per call over the same time."""
    done = 0
    deadline = time.monotonic() + duration

    async def worker() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            await client.call(size)
            done += 1

    cpu_before = own_cpu_seconds(client.process.pid)
    start = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    elapsed = time.monotonic() - start
    cpu_after = own_cpu_seconds(client.process.pid)
    cpu = (cpu_after - cpu_before) * 1e6 / done if cpu_before is not None and cpu_after is not None and done else None
    return done / elapsed, cpu


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", action="append", required=True, help='label=era:"command …"')
    parser.add_argument("--sizes", default="1024,51200")
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--duration-ms", type=int, default=3000)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()

    clients = []
    for spec in options.target:
        label, rest = spec.split("=", 1)
        era, command = rest.split(":", 1)
        if era not in ("legacy", "modern"):
            parser.error(f"--target {label}: era is legacy or modern, not {era!r}")
        clients.append(Client(label, era, command))
    for client in clients:
        await client.start()

    results = []
    for size in (int(s) for s in options.sizes.split(",")):
        samples: dict[str, list[float]] = {c.label: [] for c in clients}
        for client in clients:
            for _ in range(options.warmup):
                await client.call(size)
        for i in range(options.iterations):
            for client in clients if i % 2 == 0 else reversed(clients):
                start = time.perf_counter_ns()
                await client.call(size)
                samples[client.label].append((time.perf_counter_ns() - start) / 1000)
        for client in clients:
            rate, cpu = await throughput(client, size, options.in_flight, options.duration_ms / 1000)
            s = samples[client.label]
            results.append(
                {"target": client.label, "era": client.era, "size": size, "p50_us": percentile(s, 0.5),
                 "p99_us": percentile(s, 0.99), "calls_per_s": rate, "cpu_us_per_call": cpu}
            )
    for client in clients:
        await client.stop()

    print(f"asyncio client: {options.iterations} sequential calls per size after {options.warmup} warm-up; "
          f"throughput with {options.in_flight} in flight for {options.duration_ms} ms")
    print(f"{'target':<12}{'size':>8}{'p50 µs':>11}{'p99 µs':>11}{'calls/s':>11}{'CPU µs/call':>13}")
    for r in results:
        cpu = f"{r['cpu_us_per_call']:>13.1f}" if r["cpu_us_per_call"] is not None else f"{'-':>13}"
        print(f"{r['target']:<12}{r['size'] // 1024:>5} KB{r['p50_us']:>11.1f}{r['p99_us']:>11.1f}{r['calls_per_s']:>11.0f}{cpu}")
    base = clients[0].label
    for other in clients[1:]:
        for size in sorted({r["size"] for r in results}):
            a = next(r for r in results if r["target"] == base and r["size"] == size)
            b = next(r for r in results if r["target"] == other.label and r["size"] == size)
            print(f"{other.label} vs {base}, {size // 1024} KB: Δp50 {b['p50_us'] - a['p50_us']:+.1f} µs, "
                  f"throughput {100 * b['calls_per_s'] / a['calls_per_s']:.1f}%")
    errors = sum(c.errors for c in clients)
    print(f"errors: {errors}")
    if options.json:
        comparison = []
        for other in clients[1:]:
            for size in sorted({r["size"] for r in results}):
                a = next(r for r in results if r["target"] == base and r["size"] == size)
                b = next(r for r in results if r["target"] == other.label and r["size"] == size)
                comparison.append({
                    "target": other.label, "size": size, "delta_p50_us": b["p50_us"] - a["p50_us"],
                    "delta_p99_us": b["p99_us"] - a["p99_us"], "throughput_ratio": b["calls_per_s"] / a["calls_per_s"],
                    "cpu_us_per_call": b["cpu_us_per_call"],
                })
        print(json.dumps({
            "benchmark": "proxy-asyncio", "iterations": options.iterations, "warmup": options.warmup,
            "in_flight": options.in_flight, "duration_ms": options.duration_ms,
            "asyncio": results, "comparison": comparison, "errors": errors,
        }))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
