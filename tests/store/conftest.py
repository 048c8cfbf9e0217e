"""Fixtures for the store tests: the store's objects on the real embedded Redis."""

from __future__ import annotations

from typing import Any

import pytest

from edge.settings import Settings
from edge.store.identity import Identity
from edge.store.store import Store
from tests.store.factories import make_settings


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def store(redis: Any, settings: Settings) -> Store:
    return Store(redis, settings)


@pytest.fixture
def identity(redis: Any, settings: Settings) -> Identity:
    return Identity(settings, redis)
