"""The import template: an empty package made from the tables' spec, which imports to nothing."""

import csv
import io
import json
import zipfile
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from detainees.domain.models import ExternalId
from detainees.write.exports.tables import TABLES, spec_markdown
from detainees.write.importers.generic import import_rows, read_file

pytestmark = pytest.mark.django_db


def test_the_template_holds_the_spec_header_rows_and_schema_and_nothing_else(tmp_path):
    path = tmp_path / "template.zip"
    call_command("import_template", str(path), stdout=StringIO())
    with zipfile.ZipFile(path) as zf:
        files = {name.removeprefix("import-template/"): zf.read(name) for name in zf.namelist()}
    assert set(files) == {"datapackage.json", "README.txt"} | {f"{t.name}.csv" for t in TABLES}
    for table in TABLES:
        rows = list(csv.reader(io.StringIO(files[f"{table.name}.csv"].decode())))
        assert rows == [[c.name for c in table.columns]]
    package = json.loads(files["datapackage.json"])
    assert [r["name"] for r in package["resources"]] == [t.name for t in TABLES]
    for resource, table in zip(package["resources"], TABLES, strict=True):
        assert [f["name"] for f in resource["schema"]["fields"]] == [c.name for c in table.columns]
    assert files["README.txt"].decode().endswith(spec_markdown())


def test_importing_the_empty_template_succeeds_and_writes_nothing(tmp_path):
    path = tmp_path / "template.zip"
    call_command("import_template", str(path), stdout=StringIO())
    report = import_rows(read_file(path))
    assert report.rows() == []
    assert not ExternalId.objects.exists()
    assert all(
        not model.objects.exists()
        for model in apps.get_app_config("detainees").get_models()
        if model in {t.model for t in TABLES}
    )


def test_staff_who_import_download_the_template_from_the_import_page(admin_client):
    page = admin_client.get(reverse("admin-import-records")).content.decode()
    url = reverse("admin-import-template")
    assert f'href="{url}"' in page
    response = admin_client.get(url)
    assert response["Content-Type"] == "application/zip"
    assert 'filename="import-template.zip"' in response["Content-Disposition"]
    assert zipfile.ZipFile(io.BytesIO(response.content)).testzip() is None
    assert Client().get(url).status_code == 302  # anonymous: to the admin's login
