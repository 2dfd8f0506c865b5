"""The event stream's HTTP response: the broker's pre-encoded SSE bytes straight to the socket.

Starlette's StreamingResponse ran the SSE generator, encoded each chunk and passed it through
every middleware's `send` wrapper; the generator waited on an asyncio.Queue inside an
`asyncio.timeout` (a timer armed and cancelled per wait). With 200 screens all of that happens
200 times per event: in a profile of one worker (bench/README.md, bench_push) it was about a
third of the CPU per screen. `EventStream` sends the start message and then the broker's bytes
as they come (the generator now waits on the subscriber's mailbox, live/broker.py), and watches
for the client leaving itself (one waiting task per connection), so a closed tab ends its
subscription at once rather than at the next write. Served before routing by `EventsFastPath`
(web/routers/events.py), it is wrapped only by Starlette's outermost error handler,
SecurityHeaders and BodySizeLimit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable, Mapping

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from floodpost.live.broker import Subscriber


class EventStream(Response):
    media_type = "text/event-stream"

    def __init__(
        self,
        chunks: AsyncGenerator[bytes, None],
        subscriber: Subscriber,
        unsubscribe: Callable[[Subscriber], None],
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.chunks = chunks
        self.subscriber = subscriber
        self.unsubscribe = unsubscribe
        self.gone = False  # the client disconnected
        self.status_code = 200
        self.background = None
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        watcher = asyncio.create_task(self._until_disconnect(receive))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async for chunk in self.chunks:
                if self.gone:  # also stops a catch-up replay of many pages
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await self.chunks.aclose()
            self.unsubscribe(self.subscriber)  # also when the stream never started

    async def _until_disconnect(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.gone = True
        self.subscriber.end()
