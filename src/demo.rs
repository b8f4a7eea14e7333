//! Demo data: a few hundred realistic Indonesian contacts for an offline demo. The same
//! seed gives the same contacts, so a demo can be rehearsed.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;
use time::Duration;

use crate::domain::{NewContact, PhoneRules, Timestamp};

pub const DEFAULT_DEMO_CONTACTS: usize = 300;
const SEED: u64 = 0x6b6f6e74616b; // "kontak"

const FIRST_NAMES: [&str; 32] = [
    "Budi", "Siti", "Agus", "Dewi", "Rizky", "Putri", "Andi", "Nur", "Fajar", "Indah", "Hendra",
    "Wulan", "Dimas", "Ayu", "Yusuf", "Rina", "Bayu", "Lestari", "Eko", "Sri", "Arif", "Maya",
    "Teguh", "Fitri", "Joko", "Ratna", "Hadi", "Nia", "Rudi", "Yuni", "Gilang", "Intan",
];
const FAMILY_NAMES: [&str; 24] = [
    "Santoso",
    "Wijaya",
    "Saputra",
    "Hidayat",
    "Pratama",
    "Nugroho",
    "Kusuma",
    "Setiawan",
    "Siregar",
    "Nasution",
    "Simanjuntak",
    "Wibowo",
    "Gunawan",
    "Halim",
    "Lubis",
    "Hasibuan",
    "Sitompul",
    "Rahman",
    "Syahputra",
    "Permana",
    "Purnomo",
    "Utami",
    "Hutapea",
    "Tanjung",
];
const MAIL_DOMAINS: [&str; 6] = [
    "gmail.com",
    "yahoo.co.id",
    "outlook.com",
    "mail.com",
    "contoh.co.id",
    "example.id",
];
const TAGS: [&str; 8] = [
    "customer", "vip", "lead", "prospect", "reseller", "jakarta", "surabaya", "bandung",
];
const COMPANIES: [&str; 10] = [
    "PT Maju Jaya",
    "PT Sinar Abadi",
    "CV Berkah Sentosa",
    "PT Nusantara Digital",
    "PT Karya Mandiri",
    "Toko Sumber Rejeki",
    "PT Cahaya Timur",
    "CV Mitra Usaha",
    "PT Samudra Niaga",
    "Warung Bu Sri",
];
const CITIES: [&str; 8] = [
    "Jakarta",
    "Surabaya",
    "Bandung",
    "Medan",
    "Semarang",
    "Makassar",
    "Yogyakarta",
    "Denpasar",
];

/// `count` demo contacts, each with the time it was "created": spread over the past
/// year, oldest first, so lists and sorts look lived-in.
pub fn demo_contacts(count: usize, now: Timestamp) -> Vec<(NewContact, Timestamp)> {
    let mut rng = StdRng::seed_from_u64(SEED);
    let rules = PhoneRules::default();
    let mut ages: Vec<i64> = (0..count)
        .map(|_| rng.gen_range(0..365 * 24 * 60))
        .collect();
    ages.sort_unstable_by(|a, b| b.cmp(a));
    ages.into_iter()
        .enumerate()
        .map(|(index, minutes_ago)| {
            let body = demo_body(&mut rng, index);
            let contact = NewContact::from_json(&body, &rules).expect("demo contacts are valid");
            let created =
                Timestamp::from_datetime(now.as_datetime() - Duration::minutes(minutes_ago));
            (contact, created)
        })
        .collect()
}

fn demo_body(rng: &mut StdRng, index: usize) -> serde_json::Value {
    let first = *FIRST_NAMES.choose(rng).expect("non-empty");
    let family = *FAMILY_NAMES.choose(rng).expect("non-empty");
    // The index makes every number unique; the rest looks like an Indonesian mobile.
    let phone = format!(
        "+628{}{:04}{:04}",
        rng.gen_range(11..=59),
        index,
        rng.gen_range(0..10_000)
    );
    let email = (rng.gen_ratio(4, 5)).then(|| {
        let domain = MAIL_DOMAINS.choose(rng).expect("non-empty");
        format!(
            "{}.{}{}@{domain}",
            first.to_lowercase(),
            family.to_lowercase(),
            index
        )
    });
    let tag_count = rng.gen_range(0..=3);
    let tags: Vec<&str> = TAGS.choose_multiple(rng, tag_count).copied().collect();
    let mut custom_fields = json!({
        "customer_id": format!("CUST-2026-{:04}", index + 1),
        "city": CITIES.choose(rng).expect("non-empty"),
        "is_subscriber": rng.gen_bool(0.4),
    });
    if rng.gen_ratio(2, 3) {
        custom_fields["company"] = json!(COMPANIES.choose(rng).expect("non-empty"));
        custom_fields["lifetime_value"] = json!(rng.gen_range(1..=500) * 50_000);
        custom_fields["tier"] = json!(["bronze", "silver", "gold"].choose(rng).expect("non-empty"));
    }
    json!({
        "phone": phone,
        "name": format!("{first} {family}"),
        "email": email,
        "tags": tags,
        "custom_fields": custom_fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_contacts_are_valid_unique_and_repeatable() {
        let now = Timestamp::now();
        let contacts = demo_contacts(DEFAULT_DEMO_CONTACTS, now);
        assert_eq!(contacts.len(), DEFAULT_DEMO_CONTACTS);
        let mut phones: Vec<&str> = contacts.iter().map(|(c, _)| c.phone.as_str()).collect();
        phones.sort_unstable();
        phones.dedup();
        assert_eq!(phones.len(), DEFAULT_DEMO_CONTACTS, "phones are unique");
        assert!(phones.iter().all(|p| p.starts_with("+628")));
        let again = demo_contacts(DEFAULT_DEMO_CONTACTS, now);
        assert_eq!(contacts, again);
        assert!(
            contacts.windows(2).all(|w| w[0].1 <= w[1].1),
            "oldest first"
        );
    }
}
