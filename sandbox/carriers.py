"""GoKarla's carrier codes (gokarla-api.md, the full list) with the shape of each carrier's
tracking numbers and, where the sandbox gives one, its tracking URL. ``tracking_url`` is
optional in GoKarla's carrier object: carriers without a template here omit it.
"""

from __future__ import annotations

import random
import string
from typing import Any

# code -> tracking URL template ("{}" is the tracking number), or None: no URL.
TRACKING_URLS: dict[str, str | None] = {
    "amz": None,
    "brt": "https://vas.brt.it/vas/sped_det_show.hsm?referer=sped_numspe_par.htm&Nspediz={}",
    "depost": "https://www.deutschepost.de/de/s/sendungsverfolgung.html?piececode={}",
    "dhl": "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode={}",
    "dhlexp": "https://www.dhl.com/global-en/home/tracking/tracking-express.html?tracking-id={}",
    "dhl_old": None,
    "dhl2man": "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode={}",
    "dpd": "https://tracking.dpd.de/status/en_US/parcel/{}",
    "dpdn": "https://tracking.dpd.de/status/nl_NL/parcel/{}",
    "dpduk": "https://track.dpd.co.uk/parcels/{}",
    "gls": "https://gls-group.com/DE/en/parcel-tracking?match={}",
    "gls_es": "https://gls-group.com/ES/es/seguimiento-envio?match={}",
    "goexp": None,
    "hrs": "https://www.myhermes.de/empfangen/sendungsverfolgung/sendungsinformation#{}",
    "postat": "https://www.post.at/s/sendungsdetails?snr={}",
    "rhe": None,
    "royalmail": "https://www.royalmail.com/track-your-item#/tracking-results/{}",
    "swisspost": "https://service.post.ch/ekp-web/ui/entry/shipping/1/{}",
    "ups": "https://www.ups.com/track?loc=en_US&tracknum={}",
    "bpost": "https://track.bpost.cloud/btr/web/#/search?itemCode={}",
    "dao": None,
    "anpost": "https://www.anpost.com/Post-Parcels/Track/History?item={}",
    "bring": "https://tracking.bring.com/tracking/{}",
    "posti": "https://www.posti.fi/en/tracking#/lahetys/{}",
    "postnl_inter": "https://jouw.postnl.nl/track-and-trace/{}-NL",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={}",
    "postnord": "https://tracking.postnord.com/tracking?id={}",
    "parcelone": None,
    "dachser": None,
    "asendia_de": "https://tracking.asendia.com/tracking/{}",
}
CARRIER_CODES: tuple[str, ...] = tuple(TRACKING_URLS)


def carrier(code: str, tracking_number: str) -> dict[str, Any]:
    """GoKarla's carrier object: ``tracking_url`` only where the carrier has one."""
    body: dict[str, Any] = {"tracking_number": tracking_number, "carrier_reference": code}
    template = TRACKING_URLS.get(code)
    if template:
        body["tracking_url"] = template.format(tracking_number)
    return body


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


def _letters(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.ascii_uppercase) for _ in range(count))


def s10(prefix: str, serial: str, country: str) -> str:
    """A UPU S10 item number (``RR123456785DE``): 8 digits and their check digit."""
    total = sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - total % 11
    check = {10: 0, 11: 5}.get(check, check)
    return f"{prefix}{serial}{check}{country}"


def tracking_number(code: str, rng: random.Random) -> str:
    """A random tracking number of the carrier's usual shape."""
    if code in ("dhl", "dhl_old", "dhl2man"):
        return "00340434" + _digits(rng, 12)
    if code == "ups":
        return "1Z" + _letters(rng, 3) + _digits(rng, 3) + _digits(rng, 10)
    if code in ("depost", "anpost", "royalmail", "asendia_de"):
        country = {"depost": "DE", "anpost": "IE", "royalmail": "GB", "asendia_de": "DE"}[code]
        return s10(_letters(rng, 2), _digits(rng, 8), country)
    if code == "postnl_inter":
        return "3S" + _letters(rng, 4) + _digits(rng, 9)
    if code == "amz":
        return "TBA" + _digits(rng, 12)
    lengths = {
        "dhlexp": 10, "goexp": 10, "dachser": 9, "gls": 11, "gls_es": 12, "fedex": 12,
        "rhe": 12, "brt": 15, "bring": 17, "postnord": 18, "swisspost": 18, "usps": 22,
        "postat": 22, "bpost": 24, "posti": 16, "dao": 14, "parcelone": 14,
    }  # fmt: skip
    return _digits(rng, lengths.get(code, 14))  # dpd, dpdn, dpduk, hrs: 14 digits
