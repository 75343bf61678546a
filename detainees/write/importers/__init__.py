"""Importers: records from files and published data sets into the tracker, each idempotent
and all-or-nothing."""
