"""The generated orders' customers: a deterministic pool of about sixty people in the
countries the demo shop ships to, with the carriers each country gets and its local time
zone. Names and e-mail domains stay clear of the hand-written orders' customers, so that an
e-mail search for an anchor's customer finds only the anchors.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from typing import Any

from sandbox.shapes import address

# (city, zip code, province, province code, country, country code)
CITIES: tuple[tuple[str, str, str | None, str | None, str, str], ...] = (
    ("Berlin", "10115", "Berlin", "BE", "Germany", "DE"),
    ("Hamburg", "20095", "Hamburg", "HH", "Germany", "DE"),
    ("München", "80331", "Bayern", "BY", "Germany", "DE"),
    ("Köln", "50667", "Nordrhein-Westfalen", "NW", "Germany", "DE"),
    ("Frankfurt am Main", "60311", "Hessen", "HE", "Germany", "DE"),
    ("Leipzig", "04103", "Sachsen", "SN", "Germany", "DE"),
    ("Stuttgart", "70178", "Baden-Württemberg", "BW", "Germany", "DE"),
    ("Düsseldorf", "40213", "Nordrhein-Westfalen", "NW", "Germany", "DE"),
    ("Bremen", "28195", "Bremen", "HB", "Germany", "DE"),
    ("Nürnberg", "90402", "Bayern", "BY", "Germany", "DE"),
    ("Hannover", "30159", "Niedersachsen", "NI", "Germany", "DE"),
    ("Freiburg im Breisgau", "79098", "Baden-Württemberg", "BW", "Germany", "DE"),
    ("Wien", "1010", "Wien", "9", "Austria", "AT"),
    ("Graz", "8010", "Steiermark", "6", "Austria", "AT"),
    ("Zürich", "8001", "Zürich", "ZH", "Switzerland", "CH"),
    ("Amsterdam", "1012 AB", "Noord-Holland", "NH", "Netherlands", "NL"),
    ("Rotterdam", "3011 AA", "Zuid-Holland", "ZH", "Netherlands", "NL"),
    ("Bruxelles", "1000", None, None, "Belgium", "BE"),
    ("Milano", "20121", "Milano", "MI", "Italy", "IT"),
    ("Madrid", "28013", "Madrid", "M", "Spain", "ES"),
    ("Paris", "75002", None, None, "France", "FR"),
    ("London", "EC1A 1BB", None, None, "United Kingdom", "GB"),
    ("Dublin", "D02 X285", None, None, "Ireland", "IE"),
    ("København", "1050", None, None, "Denmark", "DK"),
    ("Oslo", "0150", None, None, "Norway", "NO"),
    ("Stockholm", "111 51", None, None, "Sweden", "SE"),
    ("Helsinki", "00100", None, None, "Finland", "FI"),
    ("New York", "10001", "New York", "NY", "United States", "US"),
)

TIMEZONES = {
    "DE": "Europe/Berlin", "AT": "Europe/Vienna", "CH": "Europe/Zurich",
    "NL": "Europe/Amsterdam", "BE": "Europe/Brussels", "IT": "Europe/Rome",
    "ES": "Europe/Madrid", "FR": "Europe/Paris", "GB": "Europe/London", "IE": "Europe/Dublin",
    "DK": "Europe/Copenhagen", "NO": "Europe/Oslo", "SE": "Europe/Stockholm",
    "FI": "Europe/Helsinki", "US": "America/New_York",
}  # fmt: skip
CURRENCIES = {"GB": "GBP", "CH": "CHF", "US": "USD"}  # everyone else pays in EUR

# country -> {carrier code: weight}: between them, every carrier code GoKarla lists.
CARRIERS: dict[str, dict[str, int]] = {
    "DE": {
        "dhl": 40, "dpd": 12, "hrs": 12, "gls": 8, "depost": 5, "ups": 4, "amz": 3,
        "dhl2man": 3, "dhl_old": 2, "dhlexp": 2, "goexp": 2, "rhe": 1, "dachser": 1,
        "parcelone": 1, "asendia_de": 1,
    },
    "AT": {"postat": 6, "dhl": 3, "dpd": 3, "gls": 2, "ups": 1},
    "CH": {"swisspost": 5, "dhlexp": 2, "ups": 1},
    "NL": {"postnl_inter": 5, "dpdn": 3, "dhl": 2},
    "BE": {"bpost": 5, "dpd": 2},
    "IT": {"brt": 4, "gls": 2, "dhlexp": 2},
    "ES": {"gls_es": 4, "ups": 2},
    "FR": {"dpd": 2, "ups": 2, "fedex": 1},
    "GB": {"royalmail": 4, "dpduk": 3, "fedex": 1},
    "IE": {"anpost": 4, "dpduk": 1},
    "DK": {"dao": 3, "postnord": 3},
    "NO": {"bring": 4, "postnord": 1},
    "SE": {"postnord": 4, "bring": 1},
    "FI": {"posti": 4},
    "US": {"usps": 3, "fedex": 2, "ups": 2},
}  # fmt: skip

_STREETS = {
    "DE": ("Hauptstraße", "Bahnhofstraße", "Lindenallee", "Schillerstraße", "Goethestraße",
           "Gartenweg", "Mühlenweg", "Kastanienallee"),
    "AT": ("Hauptplatz", "Landstraße", "Herrengasse"),
    "CH": ("Bahnhofstrasse", "Seestrasse"),
    "NL": ("Keizersgracht", "Herengracht", "Witte de Withstraat"),
    "BE": ("Rue Neuve", "Avenue Louise"),
    "IT": ("Via Roma", "Corso Buenos Aires"),
    "ES": ("Calle Mayor", "Calle de Alcalá"),
    "FR": ("Rue de Rivoli", "Rue Montorgueil"),
    "GB": ("High Street", "Baker Street"),
    "IE": ("Grafton Street", "Camden Street"),
    "DK": ("Nørregade", "Vesterbrogade"),
    "NO": ("Karl Johans gate", "Thorvald Meyers gate"),
    "SE": ("Drottninggatan", "Götgatan"),
    "FI": ("Mannerheimintie", "Aleksanterinkatu"),
    "US": ("Broadway", "West 34th Street"),
}  # fmt: skip
_NUMBER_FIRST = frozenset({"GB", "IE", "US", "FR"})  # "12 High Street"

_FIRST_NAMES = (
    "Paul", "Marie", "Felix", "Hannah", "Jonas", "Sophie", "Leon", "Clara", "Elias", "Lea",
    "Finn", "Johanna", "Ben", "Ida", "Luis", "Greta", "Oskar", "Mila", "Anton", "Frieda",
    "Julia", "David", "Laura", "Moritz", "Nora", "Simon", "Eva", "Tim", "Sara", "Jakob",
    "Chloé", "Matteo", "Lucía", "Oliver", "Freja", "Aino", "Ingrid", "Sean", "Emily", "Lars",
)  # fmt: skip
_LAST_NAMES = (
    "Müller", "Schneider", "Meyer", "Schulz", "Koch", "Richter", "Klein", "Wolf", "Neumann",
    "Schwarz", "Zimmermann", "Braun", "Krüger", "Hartmann", "Lange", "Werner", "Krause",
    "Lehmann", "Köhler", "Maier", "Bauer", "Vogel", "Brandt", "Peters", "Dubois", "Bianchi",
    "García", "Smith", "Murphy", "Nielsen", "Hansen", "Lindqvist", "Virtanen", "Janssens",
    "Visser", "Gruber", "Steiner", "Keller", "Baker", "O'Brien",
)  # fmt: skip
_DOMAINS = ("example.net", "example.org", "mail.example")
POOL_SIZE = 60


@dataclass(frozen=True, slots=True)
class Customer:
    email: str
    address: dict[str, Any]

    @property
    def country_code(self) -> str:
        return self.address["country_code"]


def _ascii(text: str) -> str:
    for special, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("ø", "oe")):
        text = text.replace(special, plain)
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return folded.lower().replace(" ", "").replace("'", "")


def street_address(rng: random.Random, country_code: str) -> str:
    street = rng.choice(_STREETS[country_code])
    number = rng.randint(1, 140)
    return f"{number} {street}" if country_code in _NUMBER_FIRST else f"{street} {number}"


def customer_pool(rng: random.Random) -> list[Customer]:
    """Every city once, then more Germans; the last customer shares the e-mail and address
    of the one before (a household with one mailbox)."""
    cities = list(CITIES)
    german = [city for city in CITIES if city[5] == "DE"]
    while len(cities) < POOL_SIZE:
        cities.append(rng.choice(german) if rng.random() < 0.6 else rng.choice(CITIES))
    names = rng.sample([(f, s) for f in _FIRST_NAMES for s in _LAST_NAMES], POOL_SIZE)
    pool = []
    for (first, last), (city, zip_code, province, code, country, cc) in zip(
        names, cities, strict=True
    ):
        email = f"{_ascii(first)}.{_ascii(last)}@{rng.choice(_DOMAINS)}"
        phone = f"+{rng.randint(30, 49)} {rng.randint(100, 999)} {rng.randint(100000, 9999999)}"
        company = (
            f"{last} {rng.choice(('GmbH', 'Studio', '& Co.'))}" if rng.random() < 0.06 else None
        )
        body = address(
            f"{first} {last}",
            street_address(rng, cc),
            city,
            zip_code,
            country,
            cc,
            province=province,
            province_code=code,
            phone=phone if rng.random() < 0.6 else None,
            company=company,
        )
        pool.append(Customer(email, body))
    # Same mailbox, same door, another first name.
    partner = f"{names[-1][0]} {names[-2][1]}"
    pool[-1] = Customer(pool[-2].email, pool[-2].address | {"name": partner, "phone": None})
    return pool
