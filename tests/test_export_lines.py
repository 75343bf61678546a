"""The export's JSON lines are what json.dumps with the API's encoder writes, byte for byte."""

import datetime
import decimal
import json
import uuid

from rest_framework.utils.encoders import JSONEncoder

from detainees.api.export import json_line


def reference(data) -> str:
    text = json.dumps(data, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":"))
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"


def test_json_lines_match_the_apis_json_for_every_kind_of_value():
    data = {
        "type": "person",
        "text": 'Qari "Bilal"\\ ملا\n\t\r\b\f\x00\x1f\x7f \u2028 \u2029 é 😀 </script>',
        "numbers": [
            0,
            -1,
            2**53,
            1.5,
            0.1,
            12345678.9,
        ],  # no serializer gives 1e-07 (see json_line)
        "flags": [True, False, None],
        "nested": {"empty": {}, "list": [], "edtf": "2011-04-20/2014"},
        "at": datetime.datetime(2026, 11, 30, 22, 52, 25, 226938, tzinfo=datetime.UTC),
        "on": datetime.date(2011, 4, 20),
        "whole_second": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        "id": uuid.UUID("198c1cca-9ec6-846a-ad4c-e48a39e3909b"),
        "amount": decimal.Decimal("34.52000"),
    }
    assert json_line(data) == reference(data)
    assert json_line(data).count("\n") == 1
