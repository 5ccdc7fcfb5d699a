"""Parses one RFC 5322 message with Python's standard `email` package and prints what a
mail client would see, as JSON, for SidecarMessageTests' round-trip tests.

Usage: python3 parse_message.py < message.eml

The output is an independent reading of the message: headers decoded (RFC 2047),
addresses parsed, bodies and attachments decoded (quoted-printable, base64), filenames
decoded (RFC 2231), and every defect the parser noticed.
"""
import base64
import email
import email.policy
import json
import sys


def addresses(message, name):
    header = message[name]
    if header is None:
        return None
    return [
        {"display_name": address.display_name, "addr_spec": address.addr_spec}
        for address in header.addresses
    ]


def describe(part):
    entry = {
        "content_type": part.get_content_type(),
        "charset": part.get_content_charset(),
        "transfer_encoding": part.get("Content-Transfer-Encoding"),
        "disposition": part.get_content_disposition(),
        "filename": part.get_filename(),
        "content_id": part.get("Content-ID"),
        "defects": [type(defect).__name__ for defect in part.defects],
    }
    if part.is_multipart():
        entry["boundary"] = part.get_boundary()
        entry["parts"] = [describe(child) for child in part.iter_parts()]
    else:
        payload = part.get_payload(decode=True)
        entry["payload_base64"] = base64.b64encode(payload).decode("ascii")
    return entry


def main():
    raw = sys.stdin.buffer.read()
    # Messages with UTF-8 headers (RFC 6532) are parsed as text, as SMTPUTF8 clients do.
    try:
        raw.decode("ascii")
        message = email.message_from_bytes(raw, policy=email.policy.default)
    except UnicodeDecodeError:
        message = email.message_from_string(raw.decode("utf-8"), policy=email.policy.default)
    result = {
        "header_names": list(message.keys()),
        "headers": {name.lower(): [str(value) for value in message.get_all(name)] for name in set(message.keys())},
        "subject": str(message["Subject"]) if message["Subject"] is not None else None,
        "from": addresses(message, "From"),
        "to": addresses(message, "To"),
        "cc": addresses(message, "Cc"),
        "reply_to": addresses(message, "Reply-To"),
        "message_id": str(message["Message-ID"]) if message["Message-ID"] is not None else None,
        "structure": describe(message),
    }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
