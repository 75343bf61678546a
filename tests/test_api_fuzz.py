"""Schemathesis against every operation of the API, with every check it has.

Anonymous, as a Researcher and as an Editor, with schema-valid and schema-invalid requests; then
stateful runs that follow the schema's links from a created record to reading, editing and
deleting it. Every answer must be documented and match its schema: status, content type,
headers and body. Run alone with `pytest -m schema`; bounded to stay well under three minutes.
"""

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.modes import GenerationMode

from tests.conftest import keeping_test_transaction, member_of

pytestmark = pytest.mark.schema

# Few examples per operation: the value is in trying every operation with every check, and the
# whole module must stay quick on a small machine.
MAX_EXAMPLES = 6
STATEFUL_SCENARIOS = 10


def config(headers: dict | None = None) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": 20240601,
            "headers": headers or {},
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True},
            # Replaced by `schema_valid_requests_are_accepted`, which names its exceptions.
            "checks": {"positive_data_acceptance": {"enabled": False}},
        }
    )


# Strings no JSON schema can tell apart from valid ones: an opaque page cursor, and a date in
# words or EDTF that the fuzzy-date parser must read. A schema-valid value may be refused (400)
# only under one of these names, and the body must name it.
PARSED_PARAMETERS = {
    "cursor",
    "captured_from",
    "captured_to",
    "released_from",
    "released_to",
}


def schema_valid_requests_are_accepted(ctx, response, case):
    """Schemathesis' positive-data check, with the refusals no schema can foresee named.

    A read may refuse only a parameter in PARSED_PARAMETERS. A write may be refused (400) for a
    rule of the record no JSON schema states (exactly one primary name, a readable date, a link
    to a record that exists, a move between publication states the role may make), or (412)
    because the record changed since its ETag was read.
    """
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    status = response.status_code
    if status < 400 or status in (401, 403, 404, 409, 429):
        return
    if case.method == "GET" and status == 400:
        named = set(response.json())
        assert named <= PARSED_PARAMETERS, f"schema-valid parameters refused: {response.text}"
        return
    assert case.method != "GET" and status in (400, 412), (
        f"schema-valid {case.method} answered {status}: {response.text[:500]}"
    )
    return


ACCEPTS = [schema_valid_requests_are_accepted]


@pytest.fixture(scope="module")
def api_schema(django_db_blocker):
    """Built when the first test of this module runs, not when tests are collected."""
    # The request's signals look at the connection: it stays, with the shared demo's transaction.
    with django_db_blocker.unblock(), keeping_test_transaction():
        return load_schema()


def load_schema(headers: dict | None = None):
    from tracker.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/", application, config=config(headers))


@pytest.fixture
def demo(demo, wsgi_keeps_test_transaction):
    return demo


def credentials(role: str | None) -> dict:
    """The `Authorization` header of a staff user in `role` (none for anonymous)."""
    if role is None:
        return {}
    username = f"fuzz-{role.lower()}"
    user = get_user_model().objects.filter(username=username).first() or member_of(role, username)
    token, _ = Token.objects.get_or_create(user=user)
    return {"Authorization": f"Token {token.key}"}


CASES = {"run": 0}


@pytest.fixture(scope="module", autouse=True)
def count_cases():
    yield
    print(f"\nschemathesis cases run: {CASES['run']}")


def run_every_operation(api_schema, role) -> list[str]:
    """Schema-valid and schema-invalid requests to every operation; each failure's report."""
    headers = credentials(role)
    failures = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=MAX_EXAMPLES,
                derandomize=True,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case):
                CASES["run"] += 1
                case.call_and_validate(headers=headers, additional_checks=ACCEPTS)

            try:
                check()
            except (FailureGroup, AssertionError) as exc:  # reported together, at the end
                failures.append(f"{operation.label} ({mode}): {exc}")
    return failures


def test_every_operation_keeps_its_contract_anonymously(api_schema, demo):
    failures = run_every_operation(api_schema, None)
    assert not failures, "\n\n".join(failures)


def test_every_operation_keeps_its_contract_for_a_researcher(api_schema, demo):
    failures = run_every_operation(api_schema, "Researcher")
    assert not failures, "\n\n".join(failures)


def test_every_operation_keeps_its_contract_for_an_editor(api_schema, demo):
    failures = run_every_operation(api_schema, "Editor")
    assert not failures, "\n\n".join(failures)


def test_created_records_can_be_read_edited_and_deleted_as_documented(demo):
    """Follows the schema's links: POST, then GET, PUT, PATCH and DELETE of what it created."""
    workflow = load_schema(headers=credentials("Editor")).as_state_machine()

    class EditorWorkflow(workflow):
        def get_call_kwargs(self, case):
            CASES["run"] += 1
            return {}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            super().validate_response(response, case, additional_checks=ACCEPTS, **kwargs)

    EditorWorkflow.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=6,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
