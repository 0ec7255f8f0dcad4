"""Sign-in throttling, shared by every worker: Redis when configured, else the database.

A key (the username tried, and separately the client address) that fails
`max_failures` times is locked for `lock_seconds`. Locked or not, the sign-in
page answers with the same words, so it tells nobody which accounts exist.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from portal.models import LoginFailure
from portal.models.base import utcnow


class DatabaseThrottle:
    def __init__(self, session: Session, max_failures: int, lock_seconds: int):
        self.session, self.max_failures, self.lock = session, max_failures, timedelta(seconds=lock_seconds)

    def is_locked(self, key: str) -> bool:
        row = self.session.get(LoginFailure, key)
        return bool(row and row.locked_until and row.locked_until > utcnow())

    def fail(self, key: str) -> None:
        now = utcnow()
        row = self.session.get(LoginFailure, key, with_for_update=True)
        if row is None or now - row.first_failed_at > self.lock:
            if row is None:
                row = LoginFailure(key=key)
                self.session.add(row)
            row.failures, row.first_failed_at, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= self.max_failures:
            row.locked_until = now + self.lock
        self.session.flush()

    def reset(self, key: str) -> None:
        row = self.session.get(LoginFailure, key)
        if row is not None:
            self.session.delete(row)


class RedisThrottle:
    def __init__(self, client, max_failures: int, lock_seconds: int):
        self.client, self.max_failures, self.lock_seconds = client, max_failures, lock_seconds

    def _key(self, key: str) -> str:
        return f"portal:login-failures:{key}"

    def is_locked(self, key: str) -> bool:
        count = self.client.get(self._key(key))
        return count is not None and int(count) >= self.max_failures

    def fail(self, key: str) -> None:
        pipe = self.client.pipeline()
        pipe.incr(self._key(key))
        pipe.expire(self._key(key), self.lock_seconds)
        pipe.execute()

    def reset(self, key: str) -> None:
        self.client.delete(self._key(key))


def make_throttle(session: Session, redis_url: str | None, max_failures: int, lock_seconds: int):
    if redis_url:
        import redis

        return RedisThrottle(redis.Redis.from_url(redis_url), max_failures, lock_seconds)
    return DatabaseThrottle(session, max_failures, lock_seconds)
