"""Importers that turn published data sets into records, each idempotent and all-or-nothing."""
