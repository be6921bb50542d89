"""Microsoft's published REST specification (MicrosoftDocs/vsts-rest-api-specs), kept as data:
for the API areas the docs' REST calls use, each operation's method, host, path, api-version,
query parameters and body fields (operations.json, written by extract.py, with its source
commit and the date it was read).
"""

import json
from pathlib import Path

DATA = Path(__file__).with_name("operations.json")


def reference() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))
