"""PostgreSQL keeps the frequencies of each organization's roles together (migration 0043), so
an organization's page, which lists its events by role, is planned on the real number of its
links in that role. Statistics change no result: the test checks that they are kept."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_the_organization_and_role_are_counted_together():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.stxkind, s.stxstattarget, "
            "ARRAY(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = s.stxrelid "
            "AND a.attnum = ANY(s.stxkeys) ORDER BY a.attname)::text[] "
            "FROM pg_statistic_ext s WHERE s.stxname = 'eventorg_org_role_stats' "
            "AND s.stxrelid = 'detainees_eventorganization'::regclass"
        )
        kinds, target, columns = cursor.fetchone()
    assert set(kinds) >= {"m", "f"}  # MCV list and functional dependencies
    assert target == 1000
    assert columns == ["organization_id", "role"]
