from __future__ import annotations

import pytest

from tests.widgets.factories import make_catalog, make_signals
from widgets.catalog import Catalog
from widgets.context import Signals
from widgets.registry import WidgetRegistry


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return make_catalog()


@pytest.fixture(scope="session")
def signals(catalog: Catalog) -> Signals:
    return make_signals(catalog)


@pytest.fixture(scope="session")
def registry() -> WidgetRegistry:
    return WidgetRegistry.create()
