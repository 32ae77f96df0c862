"""The Kitsu server the publish tests talk to, started once for the session."""

from __future__ import annotations

import pytest

from tests.publish.kitsu_server import missing_tools, start_kitsu


@pytest.fixture(scope="session")
def kitsu(tmp_path_factory):
    missing = missing_tools()
    if missing:
        pytest.fail(f"the publish tests run a real Kitsu server; missing: {', '.join(missing)} "
                    "(`make test` installs them)")
    server = start_kitsu(tmp_path_factory.mktemp("kitsu"))
    yield server
    server.stop()
