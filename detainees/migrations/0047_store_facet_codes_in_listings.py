# Each stored list row's facet values also as integers (`facet_codes`), computed by PostgreSQL
# from `facets` in the same row: counting a selection's values groups integers instead of text,
# which PostgreSQL hashes and compares faster (detainees.read.filters._count_tokens).
#
# A value's code is the first 32 bits of the MD5 of its text: the same in every PostgreSQL
# version (unlike hashtext), so a dump restored elsewhere computes the same codes. Two values
# may share a code; the counts find such a pair among the values they count and count that
# selection's text instead. The bodies are SQL-standard (parsed when created), so a restore
# with an empty search_path still finds the first function from the second.
#
# Adding the columns computes them for every existing row (a rewrite of both tables).

from django.contrib.postgres.fields import ArrayField
from django.db import migrations, models

FUNCTIONS = """
CREATE FUNCTION detainees_facet_code(token text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN ('x' || left(md5(token), 8))::bit(32)::integer;

CREATE FUNCTION detainees_facet_codes(tokens text[]) RETURNS integer[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN ARRAY(
    SELECT detainees_facet_code(t.token) FROM unnest(tokens) WITH ORDINALITY t(token, n)
    ORDER BY t.n
);
"""

DROP_FUNCTIONS = """
DROP FUNCTION detainees_facet_codes(text[]);
DROP FUNCTION detainees_facet_code(text);
"""


def codes():
    return models.GeneratedField(
        db_persist=True,
        expression=models.Func(
            models.F("facets"),
            function="detainees_facet_codes",
            output_field=ArrayField(base_field=models.IntegerField(), size=None),
        ),
        output_field=ArrayField(base_field=models.IntegerField(), size=None),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("detainees", "0046_index_batch_members_in_entry_order"),
    ]

    operations = [
        migrations.RunSQL(FUNCTIONS, DROP_FUNCTIONS),
        migrations.AddField(model_name="personlisting", name="facet_codes", field=codes()),
        migrations.AddField(model_name="eventlisting", name="facet_codes", field=codes()),
    ]
