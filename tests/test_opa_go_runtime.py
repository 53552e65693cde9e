"""Issue 12: the managed OPA runs with Go runtime settings that keep a 100k-token streamed audit under 1 GiB of
RSS (docs/benchmark.md); a GOGC or GOMEMLIMIT of the user's own is left as the user set it."""

from __future__ import annotations

import sys

import pytest

from auditor.engine.server import ManagedOpa, opa_environment
from tests.conftest import OPA_BIN


def _environ_of(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/environ", "rb") as handle:
        entries = handle.read().decode().split("\0")
    return dict(entry.split("=", 1) for entry in entries if "=" in entry)


def _go_settings(env: dict[str, str]) -> tuple[str | None, str | None]:
    return env.get("GOGC"), env.get("GOMEMLIMIT")


def test_defaults_are_added_and_the_rest_of_the_environment_kept():
    env = opa_environment({"PATH": "/usr/bin", "LANG": "C.UTF-8"})
    assert env == {"PATH": "/usr/bin", "LANG": "C.UTF-8", "GOMEMLIMIT": "500MiB"}


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ({"GOGC": "50"}, ("50", None)),
        ({"GOMEMLIMIT": "2GiB"}, (None, "2GiB")),
        ({"GOGC": "off", "GOMEMLIMIT": "3GiB"}, ("off", "3GiB")),
        ({"GOGC": ""}, ("", "500MiB")),  # empty is unset to Go
    ],
)
def test_a_users_own_setting_wins(user, expected):
    assert _go_settings(opa_environment({"PATH": "/usr/bin", **user})) == expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/environ")
def test_the_managed_opa_process_gets_the_settings(monkeypatch):
    monkeypatch.delenv("GOGC", raising=False)
    monkeypatch.delenv("GOMEMLIMIT", raising=False)
    with ManagedOpa(OPA_BIN) as server:
        assert server.pid is not None
        defaults = _go_settings(_environ_of(server.pid))
    monkeypatch.setenv("GOGC", "75")
    with ManagedOpa(OPA_BIN) as server:
        assert server.pid is not None
        users = _go_settings(_environ_of(server.pid))
    assert (defaults, users) == ((None, "500MiB"), ("75", None))
