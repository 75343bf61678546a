"""The import template: an empty data package a desk fills in, made from the tables' spec.

A zip of datapackage.json (every table's Frictionless schema, with the import-only columns
the export leaves out), one CSV per table holding only its header row, and README.txt with
the column specification (`tables.spec_markdown()`, as in the README). Nothing in it is
written by hand, so a column added to `tables.py` reaches the template too.
"""

import csv
import io
import json
import zipfile

from detainees.write.exports.package import ZIP_TIME, resource
from detainees.write.exports.tables import TABLES, Table, field_schema, spec_markdown, table_schema

NAME = "import-template"
ARCHIVE = f"{NAME}.zip"
INTRO = """\
Import template for the detainee-release tracker

Fill in the CSV files (UTF-8, one table each; leave a table with only its header row when you
have nothing for it) and import the folder or a zip of it: `manage.py import_records
DIR/datapackage.json`, or the admin's "Import records" page. Rows refer to each other by their
id column: a record's public id (a UUID), or your own identifiers (any other text), which the
tracker keeps so that importing the file again changes the same records. Tables are imported in
the order below; a table refers only to itself or to tables before it.

The columns of each table:

"""


def header(table: Table) -> list[str]:
    """Every column an import reads, the import-only ones included."""
    return [c.name for c in table.columns]


def template_files() -> dict[str, bytes]:
    """{name: content} of the template, datapackage.json first."""
    csvs = {}
    for table in TABLES:
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerow(header(table))
        csvs[f"{table.name}.csv"] = out.getvalue().encode()
    resources = []
    for table in TABLES:
        schema = table_schema(table)
        schema["fields"] = [field_schema(c) for c in table.columns]
        resources.append(resource(table, schema))
    package = {
        "profile": "tabular-data-package",
        "name": NAME,
        "title": "Detainee-release tracker: import template",
        "description": "One CSV per table, header rows only: fill in the rows to import.",
        "resources": resources,
    }
    descriptor = (json.dumps(package, ensure_ascii=False, indent=2) + "\n").encode()
    readme = (INTRO + spec_markdown()).encode()
    return {"datapackage.json": descriptor, **csvs, "README.txt": readme}


def template_zip() -> bytes:
    """The template as a zip of a folder `import-template/` (the same bytes every time)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in template_files().items():
            info = zipfile.ZipInfo(f"{NAME}/{name}", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, content)
    return buffer.getvalue()
