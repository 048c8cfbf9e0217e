"""The demo data goes into the edge's store through the real importers, without a bad row."""

from __future__ import annotations

from typing import Any

from edge.demo.catalog import products
from edge.demo.contacts import contacts
from edge.store.imports import import_catalog, import_contacts


async def test_demo_data_imports_cleanly(redis: Any) -> None:
    catalog_report = await import_catalog(redis, products(), fmt="dicts")
    assert catalog_report.failed == 0, catalog_report.bad_rows
    assert catalog_report.imported == len(products())
    contacts_report = await import_contacts(redis, contacts(), fmt="dicts")
    assert contacts_report.failed == 0, contacts_report.bad_rows
    assert contacts_report.imported == len(contacts())
