"""Visitors, profiles, events and the catalog, kept in Redis."""
