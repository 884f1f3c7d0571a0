"""Fake upstreams shared by the adapter tests: one server per kind per session, reset
before every test so scripts and recorded requests never leak between tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.runner import FakeUpstream


def _fake(kind: str) -> Iterator[FakeUpstream]:
    with FakeUpstream(kind) as fake:
        yield fake


@pytest.fixture(scope="session")
def _openai_server() -> Iterator[FakeUpstream]:
    yield from _fake("openai")


@pytest.fixture(scope="session")
def _anthropic_server() -> Iterator[FakeUpstream]:
    yield from _fake("anthropic")


@pytest.fixture(scope="session")
def _gemini_server() -> Iterator[FakeUpstream]:
    yield from _fake("gemini")


@pytest.fixture
def openai_fake(_openai_server: FakeUpstream) -> FakeUpstream:
    _openai_server.reset()
    return _openai_server


@pytest.fixture
def anthropic_fake(_anthropic_server: FakeUpstream) -> FakeUpstream:
    _anthropic_server.reset()
    return _anthropic_server


@pytest.fixture
def gemini_fake(_gemini_server: FakeUpstream) -> FakeUpstream:
    _gemini_server.reset()
    return _gemini_server
