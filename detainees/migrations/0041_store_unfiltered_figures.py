from django.db import migrations

# The figures of every listed person (and of every detainee), stored with the generation of the
# data they were computed from (detainees.read.figures.stored_figures). Every statement writing
# a table the figures read moves the generation on, in its own transaction: figures stored
# under an older generation are never read again. Each writing transaction holds the one
# generation row until it commits, as it holds the stored lists' totals rows it changes.
READ_TABLES = (
    "detainees_person",
    "detainees_personlisting",
    "detainees_event",
    "detainees_eventperson",
    "detainees_eventorganization",
    "detainees_organization",
)

FORWARD = [
    """
CREATE TABLE detainees_figures_generation (
    id smallint PRIMARY KEY CHECK (id = 1),
    generation bigint NOT NULL
)""",
    "INSERT INTO detainees_figures_generation VALUES (1, 0)",
    """
CREATE TABLE detainees_figures_stored (
    selection text PRIMARY KEY,
    generation bigint NOT NULL,
    figures jsonb NOT NULL
)""",
    """
CREATE FUNCTION detainees_figures_moved() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE detainees_figures_generation SET generation = generation + 1;
    RETURN NULL;
END;
$fn$""",
    *(
        f"CREATE TRIGGER {table}_figures_moved AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION detainees_figures_moved()"
        for table in READ_TABLES
    ),
]
BACKWARD = [
    *(f"DROP TRIGGER {table}_figures_moved ON {table}" for table in READ_TABLES),
    "DROP FUNCTION detainees_figures_moved()",
    "DROP TABLE detainees_figures_stored",
    "DROP TABLE detainees_figures_generation",
]


class Migration(migrations.Migration):
    dependencies = [("detainees", "0040_touch_rows_showing_changed_records")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
