"""Sign-in throttling, shared by every worker: Redis when configured, else the database.

Two counters, each locked for `lock_seconds` once full (`SignInThrottle`):
- (username, client address): a few failures (5). Whoever guesses from one address
  locks only their own attempts at that name; made-up names lock nothing but themselves,
  and the users behind the same proxy or NAT keep signing in.
- the username from any address: more (20), so a guess spread over many addresses is
  slowed down as well.
Locked or not, the sign-in page answers with the same words, so it tells nobody which
accounts exist. The client address is what `ProxyFix` says only when TRUSTED_PROXIES > 0.
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

    def fail(self, key: str) -> bool:
        """Count a failure; True when this one locks the key."""
        now = utcnow()
        row = self.session.get(LoginFailure, key, with_for_update=True)
        if row is None or now - row.first_failed_at > self.lock:
            if row is None:
                row = LoginFailure(key=key)
                self.session.add(row)
            row.failures, row.first_failed_at, row.locked_until = 0, now, None
        row.failures += 1
        locks = row.failures == self.max_failures
        if row.failures >= self.max_failures:
            row.locked_until = now + self.lock
        self.session.flush()
        return locks

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

    def fail(self, key: str) -> bool:
        """Count a failure; True when this one locks the key."""
        pipe = self.client.pipeline()
        pipe.incr(self._key(key))
        pipe.expire(self._key(key), self.lock_seconds)
        count, _ = pipe.execute()
        return int(count) == self.max_failures

    def reset(self, key: str) -> None:
        self.client.delete(self._key(key))


def make_throttle(session: Session, redis_url: str | None, max_failures: int, lock_seconds: int):
    if redis_url:
        import redis

        return RedisThrottle(redis.Redis.from_url(redis_url), max_failures, lock_seconds)
    return DatabaseThrottle(session, max_failures, lock_seconds)


class SignInThrottle:
    """The two counters of a sign-in attempt: (username, address) and the username alone."""

    def __init__(self, per_address, per_user):
        self.per_address, self.per_user = per_address, per_user

    @staticmethod
    def _keys(username: str, address: str | None) -> tuple[str, str]:
        return f"pair:{username}|{(address or '-')[:64]}", f"user:{username}"

    def is_locked(self, username: str, address: str | None) -> bool:
        pair, user = self._keys(username, address)
        return self.per_address.is_locked(pair) or self.per_user.is_locked(user)

    def fail(self, username: str, address: str | None) -> bool:
        """Count a failure on both; True when it locks either (worth one audit entry)."""
        pair, user = self._keys(username, address)
        locked_pair = self.per_address.fail(pair)
        locked_user = self.per_user.fail(user)
        return locked_pair or locked_user

    def succeed(self, username: str, address: str | None) -> None:
        """A right password from this address clears its own counter; the username's counts on
        until its window ends, or the account's owner would reset a distributed guess."""
        self.per_address.reset(self._keys(username, address)[0])


def sign_in_throttle(
    session: Session, redis_url: str | None, *, per_address: int, per_user: int, lock_seconds: int
) -> SignInThrottle:
    return SignInThrottle(
        make_throttle(session, redis_url, per_address, lock_seconds),
        make_throttle(session, redis_url, per_user, lock_seconds),
    )
