#!/usr/bin/python3
"""Independent readers for the report and digest tests; each prints JSON for the C++ test.

  report_checks.py html FILE   strict HTML5 parse (python3-html5lib): {"errors": [...], "text": ...}
  report_checks.py csv FILE    Python's csv reader on UTF-8 with BOM: {"bom": bool, "rows": [[...]]}
  report_checks.py mail FILE   Python's e-mail parser: headers decoded, each part decoded
  report_checks.py schema FILE SCHEMA  JSON Schema validation (python3-jsonschema, draft 2020-12)
                               with date and date-time checked: {"errors": [...]}
"""
import csv
import email
import email.policy
import json
import sys

kind, path = sys.argv[1], sys.argv[2]
if kind == "html":
    import html5lib
    parser = html5lib.HTMLParser(strict=False)
    doc = parser.parse(open(path, "rb"), transport_encoding=None)
    text = "".join(doc.itertext())
    print(json.dumps({"errors": [str(e) for e in parser.errors], "text": text,
                      "svg": sum(1 for el in doc.iter() if el.tag.endswith("}svg")),
                      "asset_rows": sum(1 for el in doc.iter()
                                        if el.tag.endswith("}tr") and el.get("class") == "asset")},
                     ensure_ascii=False))
elif kind == "schema":
    import datetime
    import re
    import jsonschema
    checker = jsonschema.FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def is_date_time(value):
        if not isinstance(value, str):
            return True
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value):
            raise ValueError(value)
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True

    @checker.checks("date", raises=ValueError)
    def is_date(value):
        if isinstance(value, str):
            datetime.date.fromisoformat(value)
        return True

    schema = json.load(open(sys.argv[3]))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=checker)
    doc = json.load(open(path))
    errors = ["/".join(str(p) for p in e.absolute_path) + ": " + e.message
              for e in validator.iter_errors(doc)]
    print(json.dumps({"errors": errors[:50]}, ensure_ascii=False))
elif kind == "csv":
    raw = open(path, "rb").read()
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    print(json.dumps({"bom": raw.startswith(b"\xef\xbb\xbf"), "rows": rows}, ensure_ascii=False))
elif kind == "mail":
    raw = open(path, "rb").read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    parts = {}
    charsets = {}
    for part in msg.walk():
        if part.is_multipart():
            continue
        parts[part.get_content_type()] = part.get_content()
        charsets[part.get_content_type()] = part.get_content_charset()
    raw_subject = msg.get("Subject", "")
    print(json.dumps({
        "subject": str(msg["Subject"]),
        "subject_raw_ascii": all(ord(c) < 128 for c in raw.split(b"\r\n\r\n")[0].decode("ascii", "replace")),
        "date": str(msg["Date"]),
        "date_parsed": msg["Date"].datetime is not None if msg["Date"] else False,
        "message_id": str(msg["Message-ID"]),
        "content_type": msg.get_content_type(),
        "from": str(msg["From"]), "to": str(msg["To"]),
        "tls": str(msg["X-Was-TLS"]),
        "parts": parts, "charsets": charsets,
        "defects": [str(d) for d in msg.defects],
    }, ensure_ascii=False))
