"""Reads a .msg file with extract-msg (an independent reader) and prints what it found as JSON.

Used by openvbo-msg's tests and by scripts/compat: the fields are the ones a user sees in
Outlook (subject, sender, recipients, date, bodies, attachments)."""
import hashlib
import json
import sys

import extract_msg


def describe(path):
    msg = extract_msg.openMsg(path, strict=True)
    try:
        # The stored HTML stream itself: htmlBody would synthesize one from the plain text.
        html = msg.getStream("__substg1.0_10130102")
        header = msg.header
        return {
            "subject": msg.subject,
            "sender": msg.sender,
            "to": msg.to,
            "cc": msg.cc,
            "date": msg.date.isoformat() if msg.date else None,
            "messageId": msg.messageId,
            "body": msg.body,
            "html": html.decode("utf-8") if html else None,
            "headerFrom": header.get("From") if header is not None else None,
            "recipients": [
                {"name": r.name, "email": r.email, "type": int(r.type)} for r in msg.recipients
            ],
            "attachments": [
                {
                    "name": a.longFilename or a.shortFilename,
                    "size": len(a.data) if a.data is not None else None,
                    "sha256": hashlib.sha256(a.data).hexdigest(),
                }
                for a in msg.attachments
            ],
        }
    finally:
        msg.close()


if __name__ == "__main__":
    print(json.dumps([describe(p) for p in sys.argv[1:]]))
