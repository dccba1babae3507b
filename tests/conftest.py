"""Store fixtures: the jongodb MongoDB-wire test server and the store backends.

jongodb comes from npm (package.json at the repository root; `npm ci`). Its
binary serves ``mongodb://127.0.0.1:<port>`` in memory. When it is missing the
wire tests skip locally and fail when the environment variable CI is set.
"""
from __future__ import annotations

import os
import socket
import subprocess
import uuid
from pathlib import Path
from typing import Any, Iterator, Optional

import pymongo
import pytest

REPO = Path(__file__).resolve().parent.parent
JONGODB_BIN = REPO / "node_modules" / "@jongodb" / "memory-server-bin-linux-x64-gnu" / "bin" / "jongodb"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class JongoServer:
    """One jongodb process on 127.0.0.1; ``stop()``/``start()`` keep the port."""

    def __init__(self, port: Optional[int] = None):
        self.port = port or _free_port()
        self.uri = f"mongodb://127.0.0.1:{self.port}"
        self.process: Optional[subprocess.Popen[str]] = None

    def start(self) -> "JongoServer":
        self.process = subprocess.Popen(
            [str(JONGODB_BIN), f"--port={self.port}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        # The server prints its URI once it listens; reading blocks until then (no sleep).
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("JONGODB_URI="):
                break
        else:
            raise RuntimeError(f"jongodb exited with {self.process.wait()} before listening on {self.port}")
        client: pymongo.MongoClient[Any] = pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=10000)
        try:
            client.admin.command("ping")
        finally:
            client.close()
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None


def _require_jongodb() -> None:
    if JONGODB_BIN.is_file() and os.access(JONGODB_BIN, os.X_OK):
        return
    message = f"jongodb binary missing at {JONGODB_BIN}: run `npm ci` in {REPO}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def jongodb() -> Iterator[JongoServer]:
    """The session's shared jongodb server."""
    _require_jongodb()
    server = JongoServer().start()
    yield server
    server.stop()


@pytest.fixture
def jongodb_factory() -> Iterator[Any]:
    """Start private jongodb servers (for tests that kill them); all are killed at teardown."""
    _require_jongodb()
    servers: list[JongoServer] = []

    def start(port: Optional[int] = None) -> JongoServer:
        server = JongoServer(port).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(params=["embedded", "jongodb", "mongodb"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Scrapy settings for one store backend, with a fresh database and data directory."""
    settings: dict[str, Any] = {
        "EMBEDDED_DB_DIR": str(tmp_path / "db"),
        "SPILL_DIR": str(tmp_path / "spill"),
        "MONGO_DATABASE": f"kspider_test_{uuid.uuid4().hex[:10]}",
        "MONGO_URI": "",
        "MONGO_TIMEOUT_MS": 3000,
    }
    if request.param == "jongodb":
        settings["MONGO_URI"] = request.getfixturevalue("jongodb").uri
    elif request.param == "mongodb":
        uri = os.environ.get("MONGO_TEST_URI")
        if not uri:
            pytest.skip("set MONGO_TEST_URI to run the store tests against a real MongoDB")
        settings["MONGO_URI"] = uri
        request.addfinalizer(lambda: _drop_database(uri, settings["MONGO_DATABASE"]))
    return settings


def _drop_database(uri: str, name: str) -> None:
    client: pymongo.MongoClient[Any] = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
    try:
        client.drop_database(name)
    finally:
        client.close()
