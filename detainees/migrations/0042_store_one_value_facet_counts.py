from django.db import migrations

# The facet counts of a list narrowed to one facet value (`/events/?kind=capture`), stored with
# the generation of the list they were counted from (detainees.read.filters.stored_facet_counts).
# Every statement writing a table the counts read moves that list's generation on, in its own
# transaction: counts stored under an older generation are never read again.
LISTS = {
    "people": ("detainees_person", "detainees_personlisting"),
    "events": ("detainees_event", "detainees_eventlisting"),
}

FORWARD = [
    """
CREATE TABLE detainees_listing_generation (
    list text PRIMARY KEY,
    generation bigint NOT NULL
)""",
    "INSERT INTO detainees_listing_generation VALUES ('people', 0), ('events', 0)",
    """
CREATE TABLE detainees_facet_counts_stored (
    list text NOT NULL,
    selection text NOT NULL,
    generation bigint NOT NULL,
    counts jsonb NOT NULL,
    PRIMARY KEY (list, selection)
)""",
    """
CREATE FUNCTION detainees_listing_moved() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE detainees_listing_generation SET generation = generation + 1
    WHERE list = TG_ARGV[0];
    RETURN NULL;
END;
$fn$""",
    *(
        f"CREATE TRIGGER {table}_{name}_counts_moved AFTER INSERT OR UPDATE OR DELETE OR "
        f"TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION "
        f"detainees_listing_moved('{name}')"
        for name, tables in LISTS.items()
        for table in tables
    ),
]
BACKWARD = [
    *(
        f"DROP TRIGGER {table}_{name}_counts_moved ON {table}"
        for name, tables in LISTS.items()
        for table in tables
    ),
    "DROP FUNCTION detainees_listing_moved()",
    "DROP TABLE detainees_facet_counts_stored",
    "DROP TABLE detainees_listing_generation",
]


class Migration(migrations.Migration):
    dependencies = [("detainees", "0041_store_unfiltered_figures")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
