"""Importers: records from files into the tracker."""
