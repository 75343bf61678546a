"""One rule set (detainees.domain.permissions) for the admin, the importer and the API.

Every model the admin registers is tried by every role: a real change posted to its change
form and a delete, against published records (and rows of published records), with the
outcome read back from the database and compared with what the rules say. Then the same
questions are put to the API, the admin and the importer side by side.
"""

import itertools
import json

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.forms import CharField, ChoiceField, EmailField, ModelChoiceField, Textarea
from django.forms.models import _get_foreign_key
from django.urls import reverse
from procrastinate.contrib.django.models import ProcrastinateJob
from rest_framework.authtoken.models import Token, TokenProxy

from detainees.domain import permissions, roles
from detainees.domain.models import (
    Affiliation,
    BatchMembership,
    Citation,
    Event,
    EventOrganization,
    EventPerson,
    Facility,
    FacilityControl,
    FacilityName,
    ImportJob,
    Nationality,
    Organization,
    OrganizationName,
    Person,
    PersonName,
    Place,
    PublicationStatus,
    Relationship,
    ReleaseBatch,
    ReviewComment,
    Source,
)
from detainees.write.importers.generic import ImportRefused, import_rows, read_file
from tests import factories as f
from tests.conftest import member_of
from tests.test_import import run_queued_jobs
from tests.test_roles import form_data

pytestmark = [pytest.mark.django_db, pytest.mark.crawl]
PUBLISHED = PublicationStatus.PUBLISHED
DRAFT = PublicationStatus.DRAFT
ROLES = ("anonymous", roles.RESEARCHER, roles.EDITOR, roles.ADMIN, "superuser")


def make_user(role):
    if role == "anonymous":
        return None
    if role == "superuser":
        return get_user_model().objects.create_superuser("root", "root@example.org", "x-pass-1")
    return member_of(role, f"user-{role.lower()}")


def published_event():
    return f.EventFactory(status=PUBLISHED)


SERIAL = itertools.count()
# A published record, or a row of one, for every model the admin registers.
MAKERS = {
    Person: lambda: f.PersonFactory(status=PUBLISHED),
    PersonName: lambda: f.PersonFactory(status=PUBLISHED).names.get(),
    Nationality: lambda: f.NationalityFactory(person=f.PersonFactory(status=PUBLISHED)),
    Affiliation: lambda: f.AffiliationFactory(status=PUBLISHED),
    Relationship: lambda: f.RelationshipFactory(person=f.PersonFactory(status=PUBLISHED)),
    Event: published_event,
    ReleaseBatch: lambda: f.ReleaseBatchFactory(status=PUBLISHED),
    BatchMembership: lambda: f.BatchMembershipFactory(
        batch=f.ReleaseBatchFactory(status=PUBLISHED)
    ),
    Organization: lambda: f.OrganizationFactory(status=PUBLISHED),
    OrganizationName: lambda: OrganizationName.objects.create(
        organization=f.OrganizationFactory(status=PUBLISHED), name="Other name"
    ),
    Place: lambda: f.PlaceFactory(status=PUBLISHED),
    Facility: lambda: f.FacilityFactory(status=PUBLISHED),
    FacilityControl: lambda: f.FacilityControlFactory(facility=f.FacilityFactory(status=PUBLISHED)),
    FacilityName: lambda: FacilityName.objects.create(
        facility=f.FacilityFactory(status=PUBLISHED), name="Other name"
    ),
    Source: lambda: f.SourceFactory(status=PUBLISHED),
    Citation: lambda: f.CitationFactory(event=published_event(), locator="p. 1"),
    get_user_model(): lambda: get_user_model().objects.create_user(f"someone-{next(SERIAL)}"),
    Group: lambda: Group.objects.create(name=f"Some group {next(SERIAL)}"),
    TokenProxy: lambda: TokenProxy.objects.get(
        pk=Token.objects.create(
            user=get_user_model().objects.create_user(f"token-{next(SERIAL)}")
        ).pk
    ),
}
ACCESS = {"user_agent": "test", "ip_address": "127.0.0.1", "path_info": "/"}
MAKERS.update(
    {
        AccessAttempt: lambda: AccessAttempt.objects.create(
            **ACCESS, username=f"u{next(SERIAL)}", get_data="", post_data="", failures_since_start=1
        ),
        AccessLog: lambda: AccessLog.objects.create(**ACCESS, username=f"u{next(SERIAL)}"),
        AccessFailureLog: lambda: AccessFailureLog.objects.create(
            **ACCESS, username=f"u{next(SERIAL)}"
        ),
    }
)
SKIPPED_FIELDS = {"password", "slug", "import_key", "username_0", "key"}


def url(model, view, *args):
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


def a_change(form, data):
    """(field name, posted value) of one real change to the form's own fields, or None.

    Free text first (a note, a quote), then any text, then another choice."""
    fields = [
        (name, field)
        for name, field in form.fields.items()
        if name not in SKIPPED_FIELDS
        and not field.disabled
        and not isinstance(field, ModelChoiceField)
        and name != "status"
    ]
    texts = [(n, f) for n, f in fields if type(f) is CharField or isinstance(f, EmailField)]
    texts.sort(key=lambda pair: not isinstance(pair[1].widget, Textarea))
    if texts:
        name = texts[0][0]
        return name, (data.get(name) or "") + "x"
    for name, field in fields:
        if isinstance(field, ChoiceField):
            choices = [str(v) for v, _ in field.choices if v not in ("", None)]
            others = [c for c in choices if c != data.get(name)]
            if others:
                return name, others[0]
    return None


def exists(obj) -> bool:
    model = type(obj)
    return model._base_manager.filter(pk=getattr(obj, model._meta.pk.attname)).exists()


def stored(obj, name):
    model = type(obj)
    value = getattr(model._base_manager.get(pk=getattr(obj, model._meta.pk.attname)), name)
    return str(value) if value is not None else ""


# The queue's job logs: shown in the admin, written only by the jobs themselves.
JOB_LOGS = {ImportJob, ProcrastinateJob}


@pytest.mark.parametrize("model", sorted(JOB_LOGS, key=lambda m: m.__name__))
def test_job_logs_are_read_only_in_the_admin_for_everyone(rf, model):
    root = get_user_model().objects.create_superuser("boss", "b@example.org", "x-pass-1")
    request = rf.get("/admin/")
    request.user = root
    model_admin = admin.site._registry[model]
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


@pytest.mark.parametrize("role", ROLES)
def test_every_admin_change_form_and_delete_follows_the_rules(client, role):
    root = get_user_model().objects.create_superuser("boss", "b@example.org", "x-pass-1")
    user = make_user(role)
    registered = [m for m in admin.site._registry if m not in JOB_LOGS]
    missing = [m.__name__ for m in registered if m not in MAKERS]
    assert not missing, f"add a maker for every registered model: {missing}"
    tried = 0
    for model in registered:
        # --- a real change, posted to the change form ---
        obj = MAKERS[model]()
        client.force_login(root)
        page = client.get(url(model, "change", obj.pk))
        data = form_data(page)
        change = a_change(page.context["adminform"].form, data)
        allowed = permissions.may(user or AnonymousUser(), permissions.CHANGE, obj)
        if user is None:
            client.logout()
        else:
            client.force_login(user)
        if change is not None:
            name, value = change
            data[name] = value
            response = client.post(url(model, "change", obj.pk), data)
            changed = stored(obj, name) == value
            context = response.context
            errors = (
                context["adminform"].form.errors if context and "adminform" in context else None
            )
            assert changed == allowed, (model.__name__, role, name, errors)
            assert response.status_code < 500
            tried += 1
        if user is not None:
            shown = client.get(url(model, "change", obj.pk))
            if shown.status_code == 200:
                assert shown.context["has_change_permission"] == allowed, model.__name__
        # --- a delete ---
        victim = MAKERS[model]()
        may_delete = permissions.may(user or AnonymousUser(), permissions.DELETE, victim)
        response = client.post(url(model, "delete", victim.pk), {"post": "yes"})
        assert response.status_code < 500
        gone = not exists(victim)
        assert gone == may_delete, (model.__name__, role, "delete")
        client.logout()
    assert tried >= 14


# One row of each inline, for the record `parent` (through foreign key `fk`).
INLINE_ROWS = {
    PersonName: lambda fk, parent: PersonName.objects.create(**{fk: parent}, name="Variant"),
    Nationality: lambda fk, parent: Nationality.objects.create(**{fk: parent}, country="AF"),
    Affiliation: lambda fk, parent: f.AffiliationFactory(**{fk: parent}),
    Relationship: lambda fk, parent: f.RelationshipFactory(**{fk: parent}),
    Citation: lambda fk, parent: f.CitationFactory(**{"event": None, fk: parent}),
    EventPerson: lambda fk, parent: f.EventPersonFactory(**{fk: parent}),
    EventOrganization: lambda fk, parent: EventOrganization.objects.create(
        **{fk: parent}, organization=f.OrganizationFactory(), role="custodian"
    ),
    BatchMembership: lambda fk, parent: f.BatchMembershipFactory(**{fk: parent}),
    OrganizationName: lambda fk, parent: OrganizationName.objects.create(
        **{fk: parent}, name="Alternative"
    ),
    FacilityControl: lambda fk, parent: f.FacilityControlFactory(**{fk: parent}),
    FacilityName: lambda fk, parent: FacilityName.objects.create(**{fk: parent}, name="Other"),
}


@pytest.mark.parametrize("role", [roles.RESEARCHER, roles.EDITOR])
def test_every_inline_of_a_published_record_follows_the_rules(client, role):
    """A row changed on a published record's page (a name, a link, a citation) is saved
    exactly when the rules let the role change that row."""
    root = get_user_model().objects.create_superuser("boss", "b@example.org", "x-pass-1")
    user = make_user(role)
    tried = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label != "detainees":
            continue
        for inline in (cls(model, admin.site) for cls in model_admin.inlines):
            if inline.model not in INLINE_ROWS:
                assert inline.model is ReviewComment, f"add a row maker for {inline.model}"
                continue
            parent = MAKERS[model]()
            fk = _get_foreign_key(model, inline.model, fk_name=inline.fk_name).name
            row = INLINE_ROWS[inline.model](fk, parent)
            client.force_login(root)
            page = client.get(url(model, "change", parent.pk))
            data = form_data(page)
            data.pop("not_a_duplicate", None)
            data["not_a_duplicate"] = "on"
            formset = next(
                i.formset
                for i in page.context["inline_admin_formsets"]
                if i.formset.model is inline.model and i.formset.fk.name == fk
            )
            form = next(form for form in formset.forms if form.instance.pk == row.pk)
            name, value = a_change(form, {n: data.get(form.add_prefix(n)) for n in form.fields})
            data[form.add_prefix(name)] = value
            client.force_login(user)
            response = client.post(url(model, "change", parent.pk), data)
            assert response.status_code < 500
            # The row's own rule, on the page of a record the role may change (a draft
            # affiliation of a published person is changed on the affiliation's own page).
            allowed = permissions.may(user, permissions.CHANGE, row) and permissions.may(
                user, permissions.CHANGE, parent
            )
            changed = stored(row, name) == value
            assert changed == allowed, (model.__name__, inline.model.__name__, role, name)
            tried.append(f"{model.__name__}.{inline.model.__name__}")
    assert len(tried) >= 14, tried


@pytest.mark.parametrize("role", [roles.RESEARCHER, roles.EDITOR])
def test_inlines_of_a_published_record_follow_the_rules(client, role):
    user = make_user(role)
    person = f.PersonFactory(name="Qari Bilal", status=PUBLISHED)
    root = get_user_model().objects.create_superuser("boss", "b@example.org", "x-pass-1")
    client.force_login(root)
    data = form_data(client.get(url(Person, "change", person.pk)))
    data["names-0-name"] = "Qari Bilal Changed"
    client.force_login(user)
    client.post(url(Person, "change", person.pk), data)
    may = permissions.may(user, permissions.CHANGE, person.names.get())
    assert may == (role == roles.EDITOR)
    assert person.names.filter(name="Qari Bilal Changed").exists() == may


@pytest.mark.parametrize("role", [roles.RESEARCHER, roles.EDITOR])
def test_a_published_affiliation_shown_on_a_draft_persons_page_follows_the_rules(client, role):
    user = make_user(role)
    person = f.PersonFactory()
    affiliation = f.AffiliationFactory(person=person, status=PUBLISHED, role="commander")
    client.force_login(user)
    data = form_data(client.get(url(Person, "change", person.pk)))
    data["affiliations-0-role"] = "deputy"
    data["biography"] = "Edited"
    client.post(url(Person, "change", person.pk), data)
    may = permissions.may(user, permissions.CHANGE, affiliation)
    assert may == (role == roles.EDITOR)
    affiliation.refresh_from_db()
    assert (affiliation.role == "deputy") == may
    # All or nothing: the person's own change is not half-saved either.
    assert (Person.objects.get(pk=person.pk).biography == "Edited") == may


@pytest.mark.parametrize("role", [roles.RESEARCHER, roles.EDITOR])
def test_bulk_delete_of_a_published_events_citations_follows_the_rules(client, role):
    user = make_user(role)
    citation = f.CitationFactory(event=published_event())
    draft_citation = f.CitationFactory(event=f.EventFactory())
    client.force_login(user)
    for row in (citation, draft_citation):
        client.post(
            url(Citation, "changelist"),
            {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
        )
    assert Citation.objects.filter(pk=citation.pk).exists() == (role == roles.RESEARCHER)
    assert not Citation.objects.filter(pk=draft_citation.pk).exists()


def test_a_researcher_cannot_move_a_citation_onto_a_published_event(client):
    user = make_user(roles.RESEARCHER)
    citation = f.CitationFactory(event=f.EventFactory(), locator="p. 1")
    target = published_event()
    root = get_user_model().objects.create_superuser("boss", "b@example.org", "x-pass-1")
    client.force_login(root)
    data = form_data(client.get(url(Citation, "change", citation.pk)))
    data["event"] = str(target.pk)
    client.force_login(user)
    response = client.post(url(Citation, "change", citation.pk), data)
    assert response.status_code == 200
    assert "only an editor" in str(response.context["adminform"].form.non_field_errors())
    citation.refresh_from_db()
    assert citation.event_id != target.pk


# --- Confidential sources ----------------------------------------------------------------------


@pytest.mark.parametrize("role", [roles.RESEARCHER, roles.EDITOR])
def test_only_editors_make_a_confidential_source_non_confidential_in_the_admin(client, role):
    user = make_user(role)
    source = f.SourceFactory(is_confidential=True, title="Informant report")
    client.force_login(user)
    page = client.get(url(Source, "change", source.pk))
    data = form_data(page)
    data.pop("is_confidential", None)  # an unticked box: "make it non-confidential"
    data["title"] = "Informant report, retitled"
    client.post(url(Source, "change", source.pk), data)
    source.refresh_from_db()
    assert source.title == "Informant report, retitled"  # researchers still edit the draft
    assert source.is_confidential == (role == roles.RESEARCHER)


def test_a_researcher_may_mark_a_draft_source_confidential(client):
    user = make_user(roles.RESEARCHER)
    source = f.SourceFactory(title="Sensitive")
    client.force_login(user)
    data = form_data(client.get(url(Source, "change", source.pk)))
    data["is_confidential"] = "on"
    assert client.post(url(Source, "change", source.pk), data).status_code == 302
    source.refresh_from_db()
    assert source.is_confidential


# --- Admin == API == importer -------------------------------------------------------------------


def via_admin(client, user, record, field, value) -> bool:
    root = get_user_model().objects.filter(is_superuser=True).first() or (
        get_user_model().objects.create_superuser("boss", "b@example.org", "x-pass-1")
    )
    client.force_login(root)
    data = form_data(client.get(url(type(record), "change", record.pk)))
    if value is False:
        data.pop(field, None)
    else:
        data[field] = value
    client.force_login(user)
    client.post(url(type(record), "change", record.pk), data)
    client.logout()
    return str(getattr(type(record).objects.get(pk=record.pk), field)) == str(value)


def via_api(token_client, user, record, field, value) -> bool:
    api = token_client(user)
    kind = {Person: "persons", Source: "sources"}[type(record)]
    path = f"/api/v1/{kind}/{record.public_id}/"
    etag = api.get(path)["ETag"]
    response = api.patch(
        path, {field: value}, content_type="application/json", headers={"if-match": etag}
    )
    assert response.status_code in (200, 403), response.content
    return response.status_code == 200


def via_import(tmp_path, user, record, field, value) -> bool:
    table = {Person: "persons", Source: "sources"}[type(record)]
    path = tmp_path / f"{table}.csv"
    extra = ",kind,title" if table == "sources" else ""
    extra_values = f",{record.kind},{record.title}" if table == "sources" else ""
    publish = field == "status"  # an import publishes what it holds when told to
    cell = str(value).lower() if isinstance(value, bool) else value
    if publish:
        path.write_text(f"id{extra}\n{record.public_id}{extra_values}\n")
    else:
        path.write_text(f"id,{field}{extra}\n{record.public_id},{cell}{extra_values}\n")
    try:
        import_rows(read_file(path), user=user, publish=publish)
    except ImportRefused as refused:
        assert all(e.where == f"{table}.csv, line 2" for e in refused.errors)
        return False
    return True


SCENARIOS = {
    # name: (make the record, field, new value, the action the rules are asked about)
    "edit a draft person": (lambda: f.PersonFactory(), "biography", "New text.", "change"),
    "edit a published person": (
        lambda: f.PersonFactory(status=PUBLISHED),
        "biography",
        "New text.",
        "change",
    ),
    "publish a person in review": (
        lambda: f.PersonFactory(status=PublicationStatus.IN_REVIEW),
        "status",
        PUBLISHED,
        "publish",
    ),
    "clear a source's confidentiality": (
        lambda: f.SourceFactory(is_confidential=True),
        "is_confidential",
        False,
        "clear_confidential",
    ),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("role", [roles.RESEARCHER, roles.EDITOR, roles.ADMIN, "superuser"])
def test_admin_api_and_importer_decide_alike(client, token_client, tmp_path, role, scenario):
    user = make_user(role)
    make, field, value, action = SCENARIOS[scenario]
    rule = permissions.may(user, action, make())
    decisions = {}
    for path, attempt in (("admin", via_admin), ("api", via_api), ("import", via_import)):
        record = make()
        args = (client, user) if path == "admin" else (token_client, user)
        if path == "import":
            args = (tmp_path, user)
        decisions[path] = attempt(*args, record, field, value)
        written = str(getattr(type(record).objects.get(pk=record.pk), field)) == str(value)
        assert written == decisions[path], path
    assert decisions == {"admin": rule, "api": rule, "import": rule}
    assert rule == (role != roles.RESEARCHER or scenario == "edit a draft person")


# --- The importer -------------------------------------------------------------------------------


def test_the_engine_refuses_a_researchers_update_of_a_published_person_and_writes_nothing(
    tmp_path,
):
    user = make_user(roles.RESEARCHER)
    draft = f.PersonFactory(biography="draft before")
    published = f.PersonFactory(status=PUBLISHED, biography="before")
    path = tmp_path / "persons.csv"
    path.write_text(f"id,biography\n{draft.public_id},draft after\n{published.public_id},after\n")
    with pytest.raises(ImportRefused) as refused:
        import_rows(read_file(path), user=user)
    assert [e.where for e in refused.value.errors] == ["persons.csv, line 3"]
    assert "only an editor" in str(refused.value.errors[0])
    assert Person.objects.get(pk=draft.pk).biography == "draft before"  # nothing at all
    assert Person.objects.get(pk=published.pk).biography == "before"
    # The same file as an editor goes in.
    import_rows(read_file(path), user=make_user(roles.EDITOR))
    assert Person.objects.get(pk=published.pk).biography == "after"


def test_the_engine_refuses_a_name_added_to_a_published_person(tmp_path):
    user = make_user(roles.RESEARCHER)
    published = f.PersonFactory(status=PUBLISHED)
    path = tmp_path / "person_names.csv"
    path.write_text(f"id,person,name\nN1,{published.public_id},Another name\n")
    with pytest.raises(ImportRefused) as refused:
        import_rows(read_file(path), user=user)
    assert [e.where for e in refused.value.errors] == ["person_names.csv, line 2"]
    assert published.names.count() == 1


def test_the_engine_refuses_publishing_for_a_researcher_and_the_command_without_as_user_may(
    tmp_path,
):
    path = tmp_path / "persons.csv"
    path.write_text("id,biography,is_placeholder\nP1,New person,true\n")
    with pytest.raises(ImportRefused) as refused:
        import_rows(read_file(path), publish=True, user=make_user(roles.RESEARCHER))
    assert [e.where for e in refused.value.errors] == ["persons.csv, line 2"]
    assert not Person.objects.exists()
    import_rows(read_file(path), publish=True)  # the server's operator: full rights
    assert Person.objects.get().status == PUBLISHED


def test_the_command_as_a_researcher_is_refused_with_the_line(tmp_path):
    from io import StringIO

    from django.core.management import CommandError, call_command

    make_user(roles.RESEARCHER)
    published = f.PersonFactory(status=PUBLISHED, biography="before")
    path = tmp_path / "persons.csv"
    path.write_text(f"id,biography\n{published.public_id},after\n")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_records", str(path), "--as-user", "user-researcher", stderr=err)
    assert "persons.csv, line 2" in err.getvalue()
    call_command("import_records", str(path), stdout=StringIO())
    assert Person.objects.get().biography == "after"


@pytest.mark.parametrize("role", [roles.RESEARCHER, roles.EDITOR])
def test_admin_import_preview_and_confirm_follow_the_role(client, tmp_path, role):
    user = make_user(role)
    published = f.PersonFactory(status=PUBLISHED, biography="before")
    source = f.SourceFactory(is_confidential=True, title="Secret")
    path = tmp_path / "records.json"
    document = {
        "persons": [{"id": str(published.public_id), "biography": "after"}],
        "sources": [
            {
                "id": str(source.public_id),
                "kind": source.kind,
                "title": "Secret",
                "is_confidential": False,
            }
        ],
    }
    path.write_text(json.dumps(document))
    client.force_login(user)
    endpoint = reverse("admin-import-records")
    with path.open("rb") as upload:
        queued = client.post(endpoint, {"file": upload, "system": "x"})
    run_queued_jobs()
    preview = client.get(queued.url)
    errors = [str(e) for e in preview.context["errors"]]
    if role == roles.RESEARCHER:
        assert any("persons record 1" in e for e in errors)
        assert any("sources record 1" in e for e in errors)
        assert 'name="confirm"' not in preview.content.decode()
    else:
        assert not errors
        confirmed = client.post(queued.url, {"confirm": "1"})
        run_queued_jobs()
        result = client.get(confirmed.url)
        assert result.context["job"].state == "succeeded" and not result.context["errors"]
    changed = role == roles.EDITOR
    assert (Person.objects.get(pk=published.pk).biography == "after") == changed
    assert Source.objects.get(pk=source.pk).is_confidential != changed


def test_a_researchers_import_reads_each_record_its_rows_belong_to_once(tmp_path):
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from bench.importfile import write_import_file

    user = make_user(roles.RESEARCHER)

    def queries(rows: int) -> int:
        write_import_file(tmp_path / str(rows), rows=rows)
        records = read_file(tmp_path / str(rows) / "datapackage.json")
        with CaptureQueriesContext(connection) as captured, transaction.atomic():
            import_rows(records, user=user)
            transaction.set_rollback(True)
        return len(captured)

    small, large = queries(400), queries(1400)

    # The names, links and citations of the new records are checked against the records as
    # the import wrote them, not read again row by row.
    assert large - small < 20
