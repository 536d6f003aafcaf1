"""Fixtures shared by test modules of this folder, and one TLS context per process."""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable, Iterator

import pytest
from httpx._transports import default as httpx_transports

from tests.examples import Servers


def _one_default_tls_context_per_process() -> None:
    """For speed only: every httpx client made in this process without a TLS context of
    its own (the tests', the reference client's, the plugin's) gets httpx's default one,
    built once. Building it parses the CA bundle, some 20 ms of CPU, and a run of the
    suite makes over a thousand clients, each talking http:// to a local mock: about 40 s
    of CPU a run (docs/testing.md). A client given a context, a
    certificate or `trust_env=False` builds its own as before. The name is httpx's own,
    not public (`httpx.create_ssl_context` as the transports see it): if httpx renames it,
    this fails here, at once."""
    build: Callable[..., ssl.SSLContext] = httpx_transports.create_ssl_context  # type: ignore[attr-defined]
    shared: dict[tuple[str | None, str | None], ssl.SSLContext] = {}

    def create_ssl_context(
        verify: ssl.SSLContext | str | bool = True,
        cert: object = None,
        trust_env: bool = True,
    ) -> ssl.SSLContext:
        if verify is not True or cert is not None or not trust_env:
            return build(verify=verify, cert=cert, trust_env=trust_env)
        where = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
        if where not in shared:
            shared[where] = build(verify=True, trust_env=True)
        return shared[where]

    httpx_transports.create_ssl_context = create_ssl_context  # type: ignore[attr-defined]


_one_default_tls_context_per_process()


# For speed only (docs/testing.md): pytest-xdist (`make test`) gives a worker a whole
# file at a time, in the order it holds them, which by default it sorts by each file's
# number of tests. That sent the longest files (a few long tests each) out last, and the
# suite ended with one of them running alone. These go out first, in this order, and the
# rest fill in around them in the order they are collected; the browser's file waits
# for a worker to come free rather than start with the others, in the burst of CPU that
# starting them all makes (its page is slow to answer a click then). Under `make test`:
# about 60, 55, 45, 20 and 30 s.
LONG_FILES = (
    "tests/test_examples_docs.py",
    "tests/test_wheel.py",
    "tests/test_openapi.py",
    "tests/test_examples.py",
    "tests/test_inspector_browser.py",
)


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config.option, "loadscopereorder"):  # pytest-xdist: keep the order below
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long files first, in LONG_FILES's order; the rest as collected."""
    root = config.rootpath
    for name in LONG_FILES:
        assert (root / name).is_file(), f"LONG_FILES names {name}, which is gone"
    rank = {name: place for place, name in enumerate(LONG_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(LONG_FILES)))


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    """The `mock-pokee serve` processes a module's documentation examples talk to, one per
    way of starting it that a block asks for, stopped when the module is done."""
    running = Servers()
    yield running
    running.stop()
