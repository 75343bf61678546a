"""The Qari Bilal case: the data package in `data/demo/`, loaded by the generic importer.

The case (FDD's Long War Journal's 2014 article about him, every fact cited) is data, not
code: `data/demo/README.md` says what it holds and where it comes from. Its rows carry their
permanent public ids, so a second load matches every row and changes nothing.
"""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from detainees.write.importers.generic import ImportReport, import_rows, read_file

PACKAGE = Path(settings.BASE_DIR) / "data" / "demo" / "datapackage.json"
PERSON_NAME = "Qari Bilal"
PERSON_SLUG = "qari-bilal"
# A database may already hold the case's organizations (and their other names), places,
# facility or sources, entered another way (a synthetic dataset, the ISAF import): the case
# takes those records rather than doubling them or colliding with their unique names.
SAME_AS = {
    "organizations": ("name",),
    "organization_names": ("organization", "name"),
    "places": ("parent", "kind", "name"),
    "facilities": ("name",),
    "facility_names": ("facility", "name"),
    "sources": ("title", "publisher"),
}


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @classmethod
    def of(cls, report: ImportReport) -> "LoadReport":
        totals = [sum(column) for column in zip(*(r[1:] for r in report.rows()), strict=True)]
        return cls(*totals) if totals else cls()

    def __str__(self) -> str:
        return (
            f"Qari Bilal demo case: {self.created} records created, {self.updated} updated, "
            f"{self.unchanged} already present."
        )


def load_demo(package: Path = PACKAGE) -> LoadReport:
    """Import the case, every record published, all or nothing; a second run changes nothing."""
    return LoadReport.of(import_rows(read_file(package), publish=True, same_as=SAME_AS))
