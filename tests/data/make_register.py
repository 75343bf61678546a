"""Writes tests/data/register/: a register-shaped data package of invented people, in Latin-1, as
a national register of the detained and disappeared writes it. Run `python tests/data/make_register.py
tests/data/register` after changing it; the CSVs are committed."""

import csv
import io
import sys
from pathlib import Path

out = Path(sys.argv[1])


def write(name, header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    (out / f"{name}.csv").write_bytes(buf.getvalue().encode("latin-1"))


write(
    "places",
    ["id", "name", "kind", "parent", "country", "latitude", "longitude"],
    [
        ["L-AR", "Argentina", "country", "", "AR", "", ""],
        ["L-BA", "Buenos Aires", "province", "L-AR", "", "-34.6036844", "-58.3815591"],
        ["L-CBA", "Córdoba", "province", "L-AR", "", "-31.4200833", "-64.1887761"],
        ["L-SF", "Santa Fe", "province", "L-AR", "", "", ""],
        ["L-ROS", "Rosario", "locality", "L-SF", "", "-32.9442426", "-60.6505388"],
        ["L-TUC", "Tucumán", "province", "L-AR", "", "", ""],
    ],
)
write(
    "facilities",
    ["id", "name", "kind", "place", "description"],
    [
        [
            "CD-01",
            "Centro de detención «El Mirador»",
            "detention_facility",
            "L-BA",
            "Centro clandestino según el registro; nombre inventado para las pruebas.",
        ],
        ["CD-02", "Comisaría 4ª de Rosario", "jail", "L-ROS", ""],
        ["CD-03", "Unidad Penal N.º 9", "prison", "L-CBA", ""],
    ],
)
PEOPLE = [
    # id, name, gender, birth cell, nationality
    ("R01", "Juan Carlos Muñoz", "male", "15/06/1950"),
    ("R02", "María Inés Peña", "female", "1952"),
    ("R03", "Raúl Gómez", "male", "s/f"),
    ("R04", "Ana Fernández", "female", "03/02/1955"),
    ("R05", "Hijo de Ana Fernández", "unknown", "1º/03/1977"),
    ("R06", "José Luis Ibáñez", "male", ""),
    ("R07", "Nélida Acuña", "female", "año 1949"),
    ("R08", "Héctor Núñez", "male", "desconocida"),
    ("R09", "Susana Quiñones", "female", "12/11/1956"),
    ("R10", "Ramón Echeverría", "male", ""),
    ("R11", "Inés Báez", "female", "25/12/1951"),
    ("R12", "", "male", ""),
    ("R13", "Lucía Domínguez", "female", ""),
    ("R14", "Andrés Muñiz", "male", ""),
    ("R15", "Mónica Ríos", "female", "08/07/1958"),
    ("R16", "Tomás Aráoz", "male", ""),
    ("R17", "Begoña Sáenz", "female", ""),
    ("R18", "Martín Güemes", "male", ""),
    ("R19", "Estela Maldonado", "female", "11/02/1953"),
    ("R20", "Ángel Benítez", "male", "sin fecha"),
    ("R25", "Teresa Villalba", "female", "década del 50"),
    ("R26", "Pedro Aguirre", "male", "12/05/49"),
    ("R27", "Graciela Sosa", "female", ""),
    ("R21", "Clara Zúñiga", "female", ""),
    ("R22", "Joaquín Ferraro", "male", ""),
    ("R23", "Rocío Cañete", "female", ""),
    ("R24", "Emilio Olmedo", "male", ""),
]
write(
    "facility_names",
    ["id", "facility", "name", "kind"],
    [
        ["CD-01-N1", "CD-01", "La Casona", "alias"],
        ["CD-03-N1", "CD-03", "Penal de Barrio Güemes", "former"],
    ],
)
FATE = {
    "R03": ("dead", "reported"),
    "R04": ("dead", "confirmed"),
    "R11": ("dead", "confirmed"),
    "R17": ("dead", "reported"),
    "R05": ("alive", "confirmed"),
    "R15": ("alive", "reported"),
}
BIRTHPLACE = {"R01": "L-ROS", "R04": "L-CBA", "R09": "L-TUC"}
WITHHELD = {"R12": "name;birth", "R20": "birthplace"}
write(
    "persons",
    ["id", "gender", "birth", "birthplace", "withheld", "fate", "fate_claim_status", "biography"],
    [
        [p, g, b, BIRTHPLACE.get(p, ""), WITHHELD.get(p, ""), *FATE.get(p, ("", "")), ""]
        for p, _, g, b in PEOPLE
    ],
)
names = []
for p, name, _, _ in PEOPLE:
    if not name:
        continue  # the register withholds this person's name
    given, _, family = name.rpartition(" ")
    names.append([f"{p}-N1", p, name, "birth", "true", given, family])
names += [
    ["R01-N2", "R01", "El Negro", "alias", "false", "", ""],
    ["R04-N2", "R04", "La Flaca", "alias", "false", "", ""],
    ["R09-N2", "R09", "Susana Quiñónez", "spelling", "false", "Susana", "Quiñónez"],
    [
        "R19-N2",
        "R19",
        "Estela Maldonado de Ríos",
        "married",
        "false",
        "Estela",
        "Maldonado de Ríos",
    ],
]
write("person_names", ["id", "person", "name", "kind", "is_primary", "given", "family"], names)
write(
    "nationalities",
    ["id", "person", "country"],
    [[f"{p}-NA", p, "AR"] for p, *_ in PEOPLE] + [["R17-NA2", "R17", "ES"]],
)
# Each person's events as the register gives them: kind, date cell, end cell, place, facility,
# custody end reason, release kind. The expected status after them is in
# tests/data/register_expected.csv.
EVENTS = {
    "R01": [("disappearance", "03/04/1976", "", "L-BA", "", "", "")],
    "R02": [
        ("capture", "12/05/1976", "", "L-BA", "", "", ""),
        ("custody", "12/05/1976", "NOV/1976", "", "CD-01", "release", ""),
    ],
    "R03": [
        ("disappearance", "principios de marzo de 1976", "", "L-CBA", "", "", ""),
        ("death", "sin fecha", "", "", "", "", ""),
    ],
    "R04": [
        ("disappearance", "AGO/1976", "", "L-BA", "", "", ""),
        ("remains_found", "12/11/2009", "", "L-BA", "", "", ""),
        ("remains_identified", "25/12/2010", "", "", "", "", ""),
    ],
    "R05": [
        ("birth_in_captivity", "1º/03/1977", "", "", "CD-01", "", ""),
        ("appropriation", "MAR/1977", "", "L-BA", "", "", ""),
        ("identity_restored", "15/08/2008", "", "", "", "", ""),
    ],
    "R06": [
        ("capture", "s/f", "", "L-TUC", "", "", ""),
        ("release", "DIC/1976", "", "", "CD-03", "", ""),
    ],
    "R07": [
        ("capture", "mediados de 1976", "", "L-ROS", "", "", ""),
        ("escape", "fines de 1976", "", "", "CD-02", "", ""),
    ],
    "R08": [("disappearance", "DIC/1974-ENE/1975", "", "L-TUC", "", "", "")],
    "R09": [
        ("capture", "1ra quincena de marzo 1976", "", "L-ROS", "", "", ""),
        ("transfer", "2da. quincena de marzo de 1976", "", "", "CD-03", "", ""),
    ],
    "R10": [
        ("disappearance", "año 1976", "", "L-CBA", "", "", ""),
        ("release", "sin fecha", "", "", "", "", "handed_to_family"),
    ],
    "R11": [
        ("capture", "20/09/1976", "", "L-BA", "", "", ""),
        ("death", "12/10/1976", "", "", "CD-01", "", ""),
    ],
    "R12": [("disappearance", "ppios. 1977", "", "L-ROS", "", "", "")],
    "R13": [
        ("capture", "med. de 1977", "", "L-CBA", "", "", ""),
        ("custody", "med. de 1977", "fin. 1978", "", "CD-03", "unknown", ""),
    ],
    "R14": [("disappearance", "1976-09-20", "", "L-BA", "", "", "")],
    "R15": [
        ("capture", "03/04/1976", "", "L-BA", "", "", ""),
        ("release", "05/04/1976", "", "", "", "", ""),
    ],
    "R16": [("disappearance", "noviembre de 1976", "", "L-TUC", "", "", "")],
    "R17": [("capture", "desconocida", "", "", "", "", ""), ("death", "s/f", "", "", "", "", "")],
    "R18": [("disappearance", "MAY-OCT/1977", "", "L-CBA", "", "", "")],
    "R19": [
        ("capture", "11/02/1977", "", "L-ROS", "", "", ""),
        ("release", "MAR/1977", "", "", "CD-02", "", ""),
        ("disappearance", "fines de 1977", "", "L-ROS", "", "", ""),
    ],
    "R20": [],
    "R21": [
        ("disappearance", "15 de agosto de 1976", "", "L-BA", "", "", ""),
        ("release", "finales de 1977", "", "", "CD-01", "", ""),
    ],
    "R22": [
        ("capture", "dic. 1976", "", "L-TUC", "", "", ""),
        ("release", "1977", "", "", "", "", ""),
    ],
    "R23": [("disappearance", "fines de marzo de 1976", "", "L-BA", "", "", "")],
    "R24": [
        ("capture", "Noviembre de 1976", "", "L-CBA", "", "", ""),
        ("custody", "Noviembre de 1976", "", "", "CD-03", "", ""),
    ],
    "R25": [("disappearance", "entre marzo y mayo de 1976", "", "L-TUC", "", "", "")],
    "R26": [
        ("capture", "03/04/76", "", "L-BA", "", "", ""),
        ("release", "MAR/77", "", "", "CD-01", "", ""),
    ],
    "R27": [
        ("disappearance", "fines de agosto de 1976", "", "L-BA", "", "", ""),
        ("death", "s/f", "", "", "CD-01", "", ""),
    ],
}
AGES = {"R01-E1": 25, "R04-E1": 21, "R11-E1": 24, "R15-E1": 17, "R26-E1": 26}
CIRCUMSTANCES = {"R11-E2": "died_in_custody", "R03-E2": "unknown", "R27-E2": "executed"}
events, links = [], []
for person, rows in EVENTS.items():
    for i, (kind, when, end, place, facility, end_reason, release_kind) in enumerate(rows, 1):
        key = f"{person}-E{i}"
        events.append(
            [
                key,
                kind,
                when,
                end,
                place,
                facility,
                end_reason,
                release_kind,
                CIRCUMSTANCES.get(key, ""),
            ]
        )
        links.append([f"{key}-S", key, person, AGES.get(key, "")])
write(
    "events",
    [
        "id",
        "kind",
        "date",
        "end_date",
        "place",
        "facility",
        "custody_end_reason",
        "release_kind",
        "death_circumstances",
    ],
    events,
)
write("event_people", ["id", "event", "person", "age"], links)
write(
    "relationships",
    ["id", "person", "other", "kind", "note"],
    [
        ["REL-1", "R04", "R05", "parent", "Born in captivity at the centre «El Mirador»."],
        ["REL-2", "R19", "R15", "sibling", ""],
        ["REL-3", "R01", "R14", "captured_with", "Detenidos en el mismo operativo."],
    ],
)
