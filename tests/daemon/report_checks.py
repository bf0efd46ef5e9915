#!/usr/bin/python3
"""Independent readers for the report and digest tests; each prints JSON for the C++ test.

  report_checks.py html FILE   strict HTML5 parse (python3-html5lib): {"errors": [...], "text": ...}
  report_checks.py csv FILE    Python's csv reader on UTF-8 with BOM: {"bom": bool, "rows": [[...]]}
  report_checks.py mail FILE   Python's e-mail parser: headers decoded, each part decoded
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
