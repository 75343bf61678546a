"""The public data package: its table specification, the export that writes it."""
