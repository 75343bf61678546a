"""A chunk of rows by primary key: `column = ANY(array)`, the one condition the streamed CSVs
and the JSON Lines export read each chunk's related rows with."""

from django.db.models import F, Lookup, TextField, Value


class AnyOf(Lookup):
    """`column = ANY(array)`."""

    lookup_name = "any_of"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs}::bigint[])", [*lhs_params, *rhs_params]


def among(column: str, ids):
    """`column` is one of a chunk's `ids`, sent as one array parameter rather than thousands,
    each prepared and quoted by Django and the driver."""
    array = "{" + ",".join(map(str, ids)) + "}"
    return AnyOf(F(column), Value(array, output_field=TextField()))
