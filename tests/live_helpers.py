"""Listen to a page's event stream (text/event-stream through Redis) from a test client."""

from __future__ import annotations

import threading


class Listener:
    """Reads the stream's chunks in a thread until it has seen `event: changed` (or the stream ends).

    The stream subscribes to Redis after its first chunk (`retry:`); any later chunk, a keep-alive after a
    second of quiet or an event, comes from the subscription: `subscribed()` waits for it, so a change
    committed after it cannot be missed however slow the machine."""

    def __init__(self, response):
        self.response, self.received = response, []
        chunks = response.iter_encoded()
        self.first = next(chunks)
        self._heard = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(chunks,), daemon=True)
        self._thread.start()

    def _read(self, chunks) -> None:
        for chunk in chunks:
            self.received.append(chunk)
            self._heard.set()
            if b"event: changed" in chunk:
                return
        self._heard.set()

    def subscribed(self, seconds: float = 30) -> bool:
        return self._heard.wait(seconds)

    def changed(self, seconds: float = 30) -> bool:
        """Whether an `event: changed` came before the stream ended (waits for it up to `seconds`)."""
        self._thread.join(seconds)
        if not self._thread.is_alive():
            self.response.close()  # unsubscribes (the stream's generator closes its pub/sub)
        return b"event: changed" in b"".join(self.received)


REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_or_skip(reason: str):
    """A Redis client on the tests' database 15, or the test skipped with `reason` when none answers."""
    import pytest

    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=5)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"Redis is not reachable at 127.0.0.1:6379: {reason}")
    return client
