"""A TCP proxy in front of PostgreSQL that can cut a connection at an exact protocol point.

`drop_after(b"COMMIT")` makes the proxy close the next connection whose server sends a
`CommandComplete` with that tag *instead of* forwarding it: the server has done the
work (committed, for COMMIT), the client only sees its connection die. That is the
"the connection dropped just after commit" fault, produced deterministically.

The server→client stream is parsed as typed messages (1 type byte + 4 length bytes),
which holds from the first byte when the client disables SSL and GSS encryption
(`sslmode=disable&gssencmode=disable`, see `proxied_dsn`).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass, field

__all__ = ["DropProxy"]


@dataclass
class DropProxy:
    upstream_port: int
    upstream_host: str = "127.0.0.1"
    port: int = 0
    drops: int = 0
    """How many connections were cut so far."""
    _armed: list[bytes] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    async def start(self) -> DropProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    def dsn(self, database: str) -> str:
        return (
            f"postgresql://postgres@127.0.0.1:{self.port}/{database}"
            "?sslmode=disable&gssencmode=disable"
        )

    def drop_after(self, tag: bytes) -> None:
        """Cut the next connection that completes a command whose tag starts with `tag`."""
        self._armed.append(tag)

    @property
    def armed(self) -> bool:
        return bool(self._armed)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            await self._server.wait_closed()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        self._writers.update((client_w, server_w))

        def cut() -> None:
            for writer in (client_w, server_w):
                writer.transport.abort()

        async def client_to_server() -> None:
            while data := await client_r.read(65536):
                server_w.write(data)
                await server_w.drain()
            cut()

        async def server_to_client() -> None:
            while True:
                header = await server_r.readexactly(5)
                kind, length = header[:1], struct.unpack("!I", header[1:])[0]
                body = await server_r.readexactly(length - 4)
                if kind == b"C" and self._armed and body.startswith(self._armed[0]):
                    self._armed.pop(0)
                    self.drops += 1
                    cut()
                    return
                client_w.write(header + body)
                await client_w.drain()

        tasks = [asyncio.create_task(client_to_server()), asyncio.create_task(server_to_client())]
        with contextlib.suppress(Exception):
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        cut()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        self._writers.difference_update((client_w, server_w))
