#!/usr/bin/env python3
"""Loads the benchmark's NDJSON contacts straight into PocketBase's SQLite file.

Usage: load_pocketbase.py CONTACTS.ndjson PB_DATA_DIR

PocketBase's REST API creates about a thousand records a second, so a million would
take a quarter of an hour; instead the rows go into pb_data/data.db in one
transaction, after `pocketbase migrate up` has created the collection (table, indexes
and the collection's metadata). PocketBase must not be running meanwhile. Values are
stored as PocketBase itself stores them: '' for an absent text field, JSON text for
json fields, and "YYYY-MM-DD HH:MM:SS.sssZ" times.
"""

import datetime
import json
import random
import sqlite3
import sys

ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def main():
    source, data_dir = sys.argv[1], sys.argv[2]
    rng = random.Random(7)
    # One millisecond apart, in file order, so -created lists the last line first,
    # as kontak does.
    base = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    conn = sqlite3.connect(f"{data_dir}/data.db")
    conn.execute("PRAGMA journal_mode = WAL")

    def rows():
        with open(source, encoding="utf-8") as lines:
            for i, line in enumerate(lines):
                c = json.loads(line)
                at = (base + datetime.timedelta(milliseconds=i)).strftime(
                    "%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"
                yield (
                    "".join(rng.choice(ID_ALPHABET) for _ in range(15)),
                    c["phone"],
                    c.get("name") or "",
                    c.get("email") or "",
                    json.dumps(c.get("tags") or [], ensure_ascii=False),
                    json.dumps(c.get("custom_fields") or {}, ensure_ascii=False),
                    at,
                    at,
                )

    with conn:
        conn.executemany(
            "INSERT INTO contacts (id, phone, name, email, tags, custom_fields, created, updated)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows(),
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    count = conn.execute("SELECT count(*) FROM contacts").fetchone()[0]
    conn.close()
    print(f"loaded {count} contacts into {data_dir}/data.db", file=sys.stderr)


if __name__ == "__main__":
    main()
