# The tombstone table and the triggers that fill it.

import django.db.models.functions.datetime
from django.db import migrations, models


# Publishable tables and the record type their tombstones carry.
TABLES = {
    "detainees_person": "person",
    "detainees_event": "event",
    "detainees_organization": "organization",
    "detainees_place": "place",
    "detainees_facility": "facility",
    "detainees_releasebatch": "batch",
    "detainees_source": "source",
    "detainees_affiliation": "affiliation",
}

# clock_timestamp(), not now(): rows changed in one transaction get distinct, ordered times, and
# times closer to the commit that makes them visible.
FUNCTIONS = """
CREATE FUNCTION detainees_record_tombstone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO detainees_tombstone (record_type, public_id, change, at)
    VALUES (
        TG_ARGV[0],
        OLD.public_id,
        CASE WHEN TG_OP = 'DELETE' THEN 'deleted' ELSE 'withdrawn' END,
        clock_timestamp()
    );
    RETURN NULL;
END;
$$;

-- A status change made with update() leaves `updated` alone; move it, so that a record
-- published again shows in the lists' updated_since= however it was published.
CREATE FUNCTION detainees_touch_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated IS NOT DISTINCT FROM OLD.updated THEN
        NEW.updated := clock_timestamp();
    END IF;
    RETURN NEW;
END;
$$;
"""

TRIGGERS = """
CREATE TRIGGER detainees_tombstone_on_withdraw AFTER UPDATE OF status ON {table}
    FOR EACH ROW WHEN (OLD.status = 'published' AND NEW.status <> 'published')
    EXECUTE FUNCTION detainees_record_tombstone('{record_type}');
CREATE TRIGGER detainees_tombstone_on_delete AFTER DELETE ON {table}
    FOR EACH ROW WHEN (OLD.status = 'published')
    EXECUTE FUNCTION detainees_record_tombstone('{record_type}');
CREATE TRIGGER detainees_touch_updated_on_status BEFORE UPDATE OF status ON {table}
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION detainees_touch_updated();
"""

DROP_TRIGGERS = """
DROP TRIGGER detainees_tombstone_on_withdraw ON {table};
DROP TRIGGER detainees_tombstone_on_delete ON {table};
DROP TRIGGER detainees_touch_updated_on_status ON {table};
"""

DROP_FUNCTIONS = """
DROP FUNCTION detainees_record_tombstone();
DROP FUNCTION detainees_touch_updated();
"""

CREATE_SQL = FUNCTIONS + "".join(
    TRIGGERS.format(table=table, record_type=record_type) for table, record_type in TABLES.items()
)
DROP_SQL = "".join(DROP_TRIGGERS.format(table=table) for table in TABLES) + DROP_FUNCTIONS


class Migration(migrations.Migration):

    dependencies = [
        ('detainees', '0004_index_facets'),
    ]

    operations = [
        migrations.CreateModel(
            name='Tombstone',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('record_type', models.CharField(choices=[('person', 'Person'), ('event', 'Event'), ('organization', 'Organization'), ('place', 'Place'), ('facility', 'Facility'), ('batch', 'Release batch'), ('source', 'Source'), ('affiliation', 'Affiliation')], max_length=12)),
                ('public_id', models.UUIDField(help_text='The public id the record had.')),
                ('change', models.CharField(choices=[('withdrawn', 'Withdrawn'), ('deleted', 'Deleted')], max_length=10)),
                ('at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
            ],
            options={
                'ordering': ['at', 'pk'],
                'indexes': [models.Index(fields=['at', 'id'], name='tombstone_at_id_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('record_type__in', ['person', 'event', 'organization', 'place', 'facility', 'batch', 'source', 'affiliation'])), name='tombstone_record_type_valid', violation_error_message='record_type must be one of: person, event, organization, place, facility, batch, source, affiliation.'), models.CheckConstraint(condition=models.Q(('change__in', ['withdrawn', 'deleted'])), name='tombstone_change_valid', violation_error_message='change must be one of: withdrawn, deleted.')],
            },
        ),
        # Tombstones for every way a published record can leave: admin, shell, bulk update() and
        # delete(), raw SQL. Only rows that were published leave one.
        migrations.RunSQL(CREATE_SQL, reverse_sql=DROP_SQL),
    ]
