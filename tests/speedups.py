"""What the suite computes once per test process instead of once per test.

- **URL builders.** Every test builds its own app (`create_app`, flaskr style), and binding the
  portal's ~190 routes compiles two URL-builder functions per route from a Python AST
  (`Rule._compile_builder`): about 0.1 s of every test, a third of the suite's set-up. The generated
  function depends only on the rule's text, its parsed trace, its defaults and `append_unknown`; the
  rule object itself is passed in when the function is bound, so a builder compiled for one app's
  rule serves the same rule in the next app (Werkzeug is pinned for this reason).
- **Password checks.** Every test user shares one scrypt hash (`factories.user`), and scrypt is slow
  on purpose (about 0.1 s a check): a sign-in through the form checks (hash, password) pairs the
  process has already checked. The first check of each pair is the real one, and the answer for a
  pair never changes, so the suite still tests real hashes.

Tests only (a test that counts hash runs turns the memo off: `check_passwords_for_real`); a server
builds its app once and must check every password for real.
"""

from __future__ import annotations

import functools

from werkzeug.routing.rules import Rule

_original_builder = Rule._compile_builder
_builders: dict[tuple, object] = {}


def _builder_key(rule: Rule, append_unknown: bool) -> tuple:
    defaults = tuple(sorted((name, repr(value)) for name, value in (rule.defaults or {}).items()))
    return (rule.rule, tuple(rule._trace), defaults, append_unknown, rule.merge_slashes)


def _compile_builder(self: Rule, append_unknown: bool = True):
    key = _builder_key(self, append_unknown)
    builder = _builders.get(key)
    if builder is None:
        builder = _builders[key] = _original_builder(self, append_unknown)
    return builder


def install() -> None:
    """Called from conftest's pytest_configure, before any app is built."""
    from portal.models import users
    from portal.services.platform import accounts

    Rule._compile_builder = _compile_builder
    for module in (users, accounts):
        module.check_password_hash = functools.lru_cache(maxsize=256)(module.check_password_hash)


def check_passwords_for_real(monkeypatch) -> None:
    """For the rest of one test, every password check runs scrypt (for tests that count the runs)."""
    from portal.models import users
    from portal.services.platform import accounts

    for module in (users, accounts):
        monkeypatch.setattr(module, "check_password_hash", module.check_password_hash.__wrapped__)
