"""A small MCP server on HTTP, built with the official Python SDK, for plugboard's remote upstreams.

    python contrib/demo-http-server/server.py [--port 0] [--transport streamable-http|sse] [--name NAME]

Prints `listening http://127.0.0.1:PORT/mcp` (or `.../sse` with `--transport sse`) as its first
stdout line once it accepts connections; logs go to stderr. Streamable HTTP keeps its events in
memory, so a client can resume a dropped stream with `Last-Event-ID`.

Tools: `add(a, b)`, `whoami` (name, port, transport), `slow(ms, steps=4)` (progress per step when
the call has a progressToken), `ask_model(prompt)` (sampling/createMessage to the client).
"""

from __future__ import annotations

import argparse
import itertools
import json
import socket
import sys
import warnings

import anyio
import uvicorn
from mcp import SamplingMessage
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.streamable_http import EventCallback, EventMessage, EventStore
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types import JSONRPCMessage, TextContent

# Sampling is deprecated for 2026-07-28 but core in 2025-11-25, which is what we speak.
warnings.filterwarnings("ignore", category=MCPDeprecationWarning)


class MemoryEventStore(EventStore):
    """Every event of every stream, kept for replay (a demo: nothing is ever evicted)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, JSONRPCMessage | None]] = []  # (event id, stream id, message)
        self.ids = itertools.count(1)

    async def store_event(self, stream_id: str, message: JSONRPCMessage | None) -> str:
        event_id = str(next(self.ids))
        self.events.append((event_id, stream_id, message))
        return event_id

    async def replay_events_after(self, last_event_id: str, send_callback: EventCallback) -> str | None:
        index = next((i for i, (eid, _, _) in enumerate(self.events) if eid == last_event_id), None)
        if index is None:
            return None
        stream_id = self.events[index][1]
        for eid, sid, message in self.events[index + 1 :]:
            if sid == stream_id and message is not None:
                await send_callback(EventMessage(message, eid))
        return stream_id


def build(name: str, transport: str, port_box: list[int]) -> MCPServer:
    server = MCPServer(name, version="1.0.0", log_level="WARNING")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool()
    def whoami() -> str:
        """This server's name, port and transport, as JSON."""
        return json.dumps({"name": name, "port": port_box[0], "transport": transport})

    @server.tool()
    async def slow(ms: int, ctx: Context, steps: int = 4) -> str:
        """Wait `ms` milliseconds in `steps` steps, reporting progress after each."""
        steps = max(1, steps)
        for i in range(1, steps + 1):
            await anyio.sleep(ms / steps / 1000)
            await ctx.report_progress(i, steps, f"step {i}/{steps}")
        return f"slept {ms} ms"

    @server.tool()
    async def ask_model(prompt: str, ctx: Context) -> str:
        """Ask the client's model (sampling/createMessage) and return its text."""
        result = await ctx.session.create_message(
            [SamplingMessage(role="user", content=TextContent(type="text", text=prompt))],
            max_tokens=64,
            related_request_id=ctx.request_id,
        )
        return result.content.text if isinstance(result.content, TextContent) else str(result.content)

    return server


async def serve(args: argparse.Namespace) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    port_box = [sock.getsockname()[1]]
    server = build(args.name, args.transport, port_box)
    if args.transport == "sse":
        app, path = server.sse_app(), "/sse"
    else:
        app, path = server.streamable_http_app(event_store=MemoryEventStore()), "/mcp"
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2)
    http = uvicorn.Server(config)

    async def announce() -> None:
        while not http.started:
            if http.should_exit:
                return
            await anyio.sleep(0.01)
        print(f"listening http://127.0.0.1:{port_box[0]}{path}", flush=True)

    async with anyio.create_task_group() as tg:
        tg.start_soon(announce)
        await http.serve(sockets=[sock])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--transport", choices=["streamable-http", "sse"], default="streamable-http")
    parser.add_argument("--name", default="demo-http", help="server name, reported by whoami and serverInfo")
    args = parser.parse_args()
    try:
        anyio.run(serve, args)
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
