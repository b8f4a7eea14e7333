#!/usr/bin/env python3
"""Writes a deterministic set of Indonesian-looking contacts as NDJSON create bodies.

Usage: gen_contacts.py N OUT.ndjson [TERMS.json]

The same N gives the same file, byte for byte, on any machine (a seeded PRNG and a
bijective phone numbering), so kontak and PocketBase are loaded with identical rows.
TERMS.json, if given, records search terms whose selectivity the benchmark relies on,
with how many rows each matches, counted here rather than guessed.
"""

import json
import random
import sys

FIRST = [
    "Budi", "Siti", "Agus", "Dewi", "Rizky", "Putri", "Andi", "Sri", "Eko", "Rina",
    "Hendra", "Wulan", "Joko", "Ayu", "Fajar", "Indah", "Dedi", "Lestari", "Bayu", "Nur",
    "Yusuf", "Fitri", "Arif", "Maya", "Dimas", "Ratna", "Teguh", "Wati", "Gilang", "Intan",
    "Rudi", "Sari", "Hadi", "Yuni", "Iwan", "Mega", "Bambang", "Ani", "Surya", "Kartika",
    "Adi", "Nia", "Wahyu", "Dian", "Rahmat", "Eka", "Irfan", "Tari", "Galih", "Citra",
    "Hafari", "Bagus", "Laras", "Reza", "Novi", "Aditya", "Purnama", "Slamet", "Asih", "Yoga",
]
LAST = [
    "Santoso", "Wijaya", "Saputra", "Hartono", "Kusuma", "Pratama", "Lestari", "Nugroho",
    "Setiawan", "Gunawan", "Hidayat", "Susanto", "Wibowo", "Halim", "Siregar", "Nasution",
    "Simanjuntak", "Harahap", "Sitompul", "Lubis", "Tanjung", "Putra", "Rahayu", "Utomo",
    "Purba", "Sinaga", "Situmorang", "Pohan", "Daulay", "Ginting", "Tarigan", "Sembiring",
    "Manurung", "Panjaitan", "Hutapea", "Wirawan", "Suryadi", "Prasetyo", "Permana", "Firmansyah",
    "Ramadhan", "Kurniawan", "Salim", "Effendi", "Hakim", "Maulana", "Syahputra", "Anggraini",
    "Fauzi", "Iskandar", "Sutanto", "Darmawan", "Budiman", "Yulianto", "Haryanto", "Sudirman",
    "Rusli", "Ramli", "Sopian", "Zulkarnain",
]
# Weights chosen so that one domain is a broad term (~10% of rows) and one is rare.
DOMAINS = [
    ("gmail.com", 53), ("yahoo.co.id", 12), ("outlook.com", 9), ("hotmail.com", 6),
    ("ymail.com", 5), ("icloud.com", 4), ("mail.com", 4), ("telkom.net", 3),
    ("ptabc.co.id", 1), ("tokoku.id", 2), ("sehat.or.id", 1),
]
TAGS = [("customer", 45), ("lead", 30), ("vip", 8), ("reseller", 6), ("jakarta", 12),
        ("surabaya", 8), ("bandung", 6), ("inactive", 5)]
COMPANIES = ["PT ABC", "PT Maju Jaya", "CV Sinar Terang", "PT Sumber Rejeki", "Toko Berkah",
             "PT Nusantara Digital", "CV Karya Mandiri", "UD Sejahtera"]
TIERS = ["bronze", "silver", "gold", "platinum"]

# Phones are +628 followed by 10 digits: i -> (i * A + B) mod 9e9 is a bijection
# (A is coprime with 9e9), so every row gets a distinct, random-looking number.
PHONE_SPACE = 9_000_000_000
PHONE_A = 7_919_000_003
PHONE_B = 1_234_567


def phone(i):
    return "+628%010d" % (1_000_000_000 + (i * PHONE_A + PHONE_B) % PHONE_SPACE)


def weighted(rng, pairs):
    total = sum(w for _, w in pairs)
    pick = rng.randrange(total)
    for value, weight in pairs:
        pick -= weight
        if pick < 0:
            return value
    raise AssertionError


def contact(rng, i):
    first, last = rng.choice(FIRST), rng.choice(LAST)
    body = {"phone": phone(i)}
    if rng.random() < 0.95:
        body["name"] = f"{first} {last}"
    if rng.random() < 0.85:
        domain = weighted(rng, DOMAINS)
        body["email"] = f"{first.lower()}.{last.lower()}{rng.randrange(1000)}@{domain}"
    tags = []
    for tag, percent in TAGS:
        if rng.randrange(100) < percent:
            tags.append(tag)
    if tags:
        body["tags"] = tags
    fields = {"customer_id": f"CUST-{2020 + i % 7}-{i:07d}", "tier": rng.choice(TIERS)}
    if rng.random() < 0.6:
        fields["company"] = rng.choice(COMPANIES)
    if rng.random() < 0.7:
        fields["lifetime_value"] = rng.randrange(50_000, 250_000_000)
    if rng.random() < 0.5:
        fields["is_subscriber"] = rng.random() < 0.5
    if rng.random() < 0.2:
        fields["discount"] = round(rng.random() * 0.5, 2)
    body["custom_fields"] = fields
    return body


def main():
    n = int(sys.argv[1])
    out_path = sys.argv[2]
    rng = random.Random(20261125)
    rows = []
    with open(out_path, "w", encoding="utf-8") as out:
        for i in range(n):
            body = contact(rng, i)
            out.write(json.dumps(body, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
            if len(sys.argv) > 3:
                rows.append((body.get("name", "").lower(), body.get("email", "").lower(),
                             body["phone"]))
    if len(sys.argv) > 3:
        write_terms(n, rows, sys.argv[3])


def write_terms(n, rows, path):
    probe = phone(n // 2)
    terms = {
        "name": "hafari hartono",          # one of 3,600 name pairs: ~0.03% of rows
        "phone": probe[-8:],               # the last 8 digits of one number
        "email_domain": "@ptabc.co.id",     # ~1% of rows
        "none": "zzqxj",                    # matches nothing
        "broad": "yahoo.co.id",             # ~10% of rows
    }
    counts = {}
    for key, term in terms.items():
        counts[key] = sum(1 for name, email, ph in rows
                          if term in name or term in email or term in ph)
    json.dump({"terms": terms, "matches": counts, "rows": n}, open(path, "w"), indent=2)


if __name__ == "__main__":
    main()
