"""About three hundred generated demo-shop orders (``COUNT``; a benchmark may ask for more),
numbered from ``5001`` in the order they were placed over the last 60 days, so that paging,
e-mail searches, date filters and the sync mean something.

Deterministic: one ``random.Random`` with a fixed seed, times relative to the server's start.
Each shipment follows a plausible carrier timeline (handed over, hubs, out for delivery,
delivered; or a pickup point, a failed attempt, a delay, a return) cut at the start moment, so
recent orders are still under way and old ones are done; a shipment whose carrier has not yet
scanned it stays a draft. The mix: every GoKarla carrier code at least once, about one order
in fifteen split into two shipments (some of them only partially fulfilled), a few never
shipped, pickups of each type, percentage and fixed discounts, ETAs as ISO date-times, German
or English text or none, sixty customers who order again and again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from sandbox.carriers import CARRIER_CODES, carrier, tracking_number
from sandbox.customers import CARRIERS, CITIES, CURRENCIES, TIMEZONES, Customer, customer_pool
from sandbox.customers import street_address as street
from sandbox.events import state_for
from sandbox.products import CATALOGUE
from sandbox.shapes import (
    BERLIN,
    WAREHOUSE,
    JsonDict,
    address,
    days,
    delivery_window,
    eta_in_words,
    eta_iso,
    event,
    hours,
    iso,
    order,
    place,
    tracking,
)

SHOP = "demo-shop"
SEED = "karla-sandbox-generated-v1"
FIRST_NUMBER = 5001
COUNT = 300
MAX_AGE_DAYS = 60
ARCHIVE_AFTER_DAYS = 45

_PERCENT_CODES = (("WELCOME10", "10.0"), ("SPRING15", "15.0"), ("SUMMER20", "20.0"))
_FIXED_CODES = (("GIFT5", "5.00"), ("LOYAL10", "10.00"))
_HUBS = (("Ludwigsfelde", "14974"), ("Hannover", "30179"), ("Köln", "50829"),
         ("Nürnberg", "90451"), ("Aschheim", "85609"), ("Radefeld", "04435"))  # fmt: skip
_NOTICES = (
    "Recipient not at home. A second attempt follows on the next working day.",
    "Address could not be found. Please check the house number.",
    "Recipient not at home. A notification card was left in the letterbox.",
)
_SHOP_LABELS = {"dhl": "DHL Paketshop", "dhl2man": "DHL Paketshop", "dhl_old": "DHL Paketshop",
                "hrs": "Hermes PaketShop", "dpd": "DPD Pickup Paketshop", "gls": "GLS PaketShop",
                "depost": "Postfiliale", "postat": "Post Partner", "postnl_inter": "PostNL-punt",
                "bpost": "Point Poste", "royalmail": "Post Office"}  # fmt: skip
_LOCKER_HOURS = ("Mo–So 00:00–24:00", {"Mo-So": "00:00-24:00"})
_SHOP_HOURS = ("Mo–Fr 08:00–20:00, Sa 09:00–18:00", {"Mo-Fr": "08:00-20:00", "Sa": "09:00-18:00"})
_PICKUP_URL = "https://www.dhl.de/de/privatkunden/dhl-standorte-finden.html"


@dataclass(frozen=True, slots=True)
class Step:
    """One event of a planned timeline; ``timed=False`` leaves its time out of the event."""

    key: str
    when: datetime
    where: JsonDict
    info: JsonDict | None = None
    timezone: str = BERLIN
    timed: bool = True


@dataclass(frozen=True, slots=True)
class Plan:
    steps: list[Step]
    delivery: datetime  # when the customer was meant to get it: the ETA's moment
    pickup: JsonDict | None = None
    pickup_from: str = ""  # the event key from which the pickup applies


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


class _Generator:
    def __init__(self, now: datetime, taken: set[str], count: int) -> None:
        self.rng = random.Random(SEED)
        self.now = now
        self.taken = set(taken)
        self.count = count
        self.customers = customer_pool(self.rng)

    def orders(self) -> list[JsonDict]:
        rng = self.rng
        # A third placed in the last week: enough shipments still under way.
        ages = sorted(
            (
                rng.uniform(0.02, 7 if rng.random() < 0.33 else MAX_AGE_DAYS)
                for _ in range(self.count)
            ),
            reverse=True,
        )
        # Every carrier code once on an order old enough to have been shipped (as many as
        # there are such orders, when asked for only a few).
        old = [index for index, age in enumerate(ages) if age > 6]
        codes = CARRIER_CODES[: len(old)]
        forced = dict(zip(rng.sample(old, len(codes)), codes, strict=True))
        return [
            self.order(FIRST_NUMBER + index, self.now - days(age), forced.get(index))
            for index, age in enumerate(ages)
        ]

    def order(self, number: int, placed: datetime, code: str | None) -> JsonDict:
        rng = self.rng
        pool = [c for c in self.customers if code in CARRIERS[c.country_code]] if code else []
        customer = rng.choice(pool or self.customers)
        skus = rng.sample(list(CATALOGUE), rng.choices((1, 2, 3), (55, 30, 15))[0])
        split = len(skus) >= 2 and rng.random() < 0.15
        unshippable = code is None and rng.random() < 0.03  # no shipment at all yet
        items = []
        for position, sku in enumerate(skus):
            key = f"{number}-b" if split and position == len(skus) - 1 else f"{number}-a"
            items.append(
                (sku, rng.choices((1, 2, 3), (80, 17, 3))[0], None if unshippable else key)
            )
        body = order(
            SHOP,
            number,
            placed,
            customer.address,
            customer.email,
            items,
            **self.money(customer, items),
        )
        keys = dict.fromkeys(key for _, _, key in items if key)
        for position, key in enumerate(keys):
            if code is None and rng.random() < (0.3 if position else 0.04):
                continue  # back-ordered: the shipment stays a draft
            start = placed + days(rng.uniform(1, 6) if position else 0)
            built = self.tracking(body, key, start, customer, None if position else code)
            if built is not None:
                body["trackings"].append(built)
        return body

    def money(self, customer: Customer, items: list) -> JsonDict:
        rng = self.rng
        subtotal = sum(CATALOGUE[sku][1] * quantity for sku, quantity, _ in items)
        cc = customer.country_code
        segments = ["b2b"] if customer.address["company"] else []
        if rng.random() < 0.3:
            segments.append(rng.choice(("returning_customer", "returning_customer", "vip")))
        fields: JsonDict = {
            "shipping_price": 0.0 if subtotal >= 100 else (4.95 if cc == "DE" else 9.95),
            "segments": segments,
            "currency": CURRENCIES.get(cc, "EUR"),
        }
        chance = rng.random()
        if chance < 0.12:
            code, amount = rng.choice(_PERCENT_CODES)
            fields["discounts"] = [{"code": code, "amount": amount, "type": "percentage"}]
            fields["discount_price"] = round(subtotal * float(amount) / 100, 2)
        elif chance < 0.2:
            code, amount = rng.choice(_FIXED_CODES)
            fields["discounts"] = [{"code": code, "amount": amount, "type": "fixed_amount"}]
        return fields

    def tracking(
        self, body: JsonDict, key: str, start: datetime, customer: Customer, code: str | None
    ) -> JsonDict | None:
        rng = self.rng
        code = code or _weighted(rng, CARRIERS[customer.country_code])
        plan = self.plan(start, code, customer)
        kept = [step for step in plan.steps if step.when <= self.now]
        if "PARCEL_HANDED_TO_CARRIER" not in {step.key for step in kept}:
            return None  # no carrier scan yet: still a draft
        events = [
            event(step.key, step.when if step.timed else None, step.where, step.info, step.timezone)
            for step in kept
        ]
        pickup = plan.pickup if any(step.key == plan.pickup_from for step in kept) else None
        state = state_for(events)
        if state == "delivered" and self.now - kept[-1].when > days(ARCHIVE_AFTER_DAYS):
            state = "archived" if rng.random() < 0.5 else state
        window = None
        if rng.random() < 0.12:
            window = delivery_window(plan.delivery - hours(3), plan.delivery + hours(3))
        return tracking(
            body,
            key,
            carrier(code, self.tracking_number(code)),
            events,
            eta=self.eta(plan.delivery),
            pickup=pickup,
            expected_delivery=window,
            state=state,
        )

    def plan(self, start: datetime, code: str, customer: Customer) -> Plan:
        """The whole planned timeline; the caller cuts it at the start moment."""
        rng, home = self.rng, customer.address
        cc, zone = home["country_code"], TIMEZONES[home["country_code"]]
        age = (self.now - start).total_seconds() / 86400
        merchant = {"merchant_name": "Demo Shop"} if rng.random() < 0.2 else None
        processed = start + hours(rng.uniform(1, 18))
        steps = [
            Step("ORDER_CREATED", start, {}, merchant),
            Step("ORDER_IN_PROCESSING", processed, WAREHOUSE, timed=rng.random() > 0.1),
        ]
        moment = processed + hours(rng.uniform(4, 30))
        steps.append(Step("PARCEL_HANDED_TO_CARRIER", moment, self.where("Leipzig", "04159", "DE")))
        hub, hub_zip = rng.choice(_HUBS)
        facility = f"Paketzentrum {hub}"
        moment += hours(rng.uniform(3, 12))
        steps.append(
            Step("ARRIVAL_AT_TRANSPORT_HUB", moment, self.where(hub, hub_zip, "DE", facility))
        )
        moment += hours(rng.uniform(1, 5))
        steps.append(Step("DEPARTURE_FROM_TRANSPORT_HUB", moment, self.where(hub, hub_zip, "DE")))
        if cc != "DE":
            city, zip_code = next((c[0], c[1]) for c in CITIES if c[5] == cc)
            moment += hours(rng.uniform(12, 48))
            steps.append(
                Step("ARRIVAL_AT_TRANSPORT_HUB", moment, self.where(city, zip_code, cc), None, zone)
            )
        if rng.random() < (0.12 if age < 12 else 0.05):
            moment += hours(rng.uniform(6, 30))
            steps.append(
                Step("SHIPMENT_DELAYED", moment, steps[-1].where, None, steps[-1].timezone)
            )
            moment += hours(rng.uniform(24, 72))
        outcome = _weighted(
            rng, {"delivered": 76, "collect": 10, "failed": 6, "return": 6, "returned": 2}
        )
        at_home = self.where(home["city"], home["zip_code"], cc)
        if outcome == "collect":
            return self.collect(steps, moment + hours(rng.uniform(8, 24)), code, home)
        moment += hours(rng.uniform(6, 20))
        steps.append(Step("OUT_FOR_DELIVERY", moment, place(home["city"]), None, zone))
        moment += hours(rng.uniform(1, 8))
        delivery = moment
        if outcome in ("failed", "returned"):
            notice = {"mail_message": rng.choice(_NOTICES)}
            steps.append(Step("DELIVERY_ATTEMPTED", moment, at_home, notice, zone))
            if outcome == "returned":
                steps.append(
                    Step("RETURNED_TO_SENDER", moment + days(rng.uniform(5, 8)), WAREHOUSE)
                )
                return Plan(steps, delivery)
            moment += hours(rng.uniform(18, 30))
            steps.append(Step("OUT_FOR_DELIVERY", moment, place(home["city"]), None, zone))
            moment += hours(rng.uniform(1, 8))
        pickup, info = self.doorstep(home)
        steps.append(Step("SUCCESSFULLY_DELIVERED", moment, at_home, info, zone))
        if outcome == "return":
            moment += days(rng.uniform(1, 12))
            steps.append(Step("RETURN_CREATED", moment, {}, None, zone))
            moment += days(rng.uniform(0.5, 3))
            steps.append(Step("RETURN_IN_TRANSIT", moment, place(home["city"]), None, zone))
            steps.append(Step("RETURN_RECEIVED", moment + days(rng.uniform(1, 4)), WAREHOUSE))
        return Plan(steps, delivery, pickup, "SUCCESSFULLY_DELIVERED")

    def collect(self, steps: list[Step], ready: datetime, code: str, home: JsonDict) -> Plan:
        """Waiting at a locker or a parcel shop; collected after a while."""
        rng = self.rng
        if code in ("dhl", "dhl2man", "dhl_old") and home["country_code"] == "DE":
            locker = rng.random() < 0.6
        else:
            locker = False
        if locker:
            name, kind, (text, opening) = (
                f"DHL Packstation {rng.randint(100, 399)}",
                "locker",
                _LOCKER_HOURS,
            )
        else:
            label = _SHOP_LABELS.get(code, "Pickup point")
            name, kind, (text, opening) = f"{label} {rng.randint(1, 40)}", "shop", _SHOP_HOURS
        pickup: JsonDict = {"type": kind, "name": name, "address": self.nearby(name, home)}
        info: JsonDict = {"pickup_point": name, "pickup_opening_hours": opening}
        if code.startswith("dhl"):
            pickup["url"] = info["pickup_point_url"] = _PICKUP_URL
        pickup.update(opening_hours=text, date_to=iso(ready + days(7)))
        location = place(home["city"], home["zip_code"], home["country_code"], name=name)
        zone = TIMEZONES[home["country_code"]]
        collected = ready + hours(rng.uniform(4, 96))
        steps.append(Step("READY_FOR_COLLECTION", ready, location, info, zone))
        steps.append(Step("SUCCESSFULLY_DELIVERED", collected, location, None, zone))
        return Plan(steps, ready, pickup, "READY_FOR_COLLECTION")

    def doorstep(self, home: JsonDict) -> tuple[JsonDict | None, JsonDict | None]:
        """Now and then a parcel goes to a neighbour or into the letterbox: a pickup."""
        rng = self.rng
        chance = rng.random()
        if chance < 0.04:
            name = f"{rng.choice(('K.', 'M.', 'S.'))} {rng.choice(('Schulz', 'Yilmaz', 'Berg'))}"
            pickup = {"type": "neighbor", "name": name, "address": self.nearby(name, home)}
            return pickup, {"mail_message": f"Delivered to your neighbour {name}."}
        if chance < 0.07:
            return {"type": "letterbox", "name": "Letterbox", "address": home}, None
        return None, None

    def nearby(self, name: str, home: JsonDict) -> JsonDict:
        """An address in the customer's town."""
        cc = home["country_code"]
        return address(
            name, street(self.rng, cc), home["city"], home["zip_code"], home["country"], cc
        )

    def where(self, city: str, zip_code: str, cc: str, name: str | None = None) -> JsonDict:
        """An event location, as detailed as a carrier happens to send it."""
        chance = self.rng.random()
        if chance < 0.3:
            return place(city)
        return place(city, zip_code, cc, name=name if chance > 0.6 else None)

    def eta(self, moment: datetime) -> JsonDict | None:
        chance = self.rng.random()
        if chance < 0.4:
            return eta_iso(moment)
        if chance < 0.8:
            return eta_in_words(moment, "de" if chance < 0.65 else "en")
        return None

    def tracking_number(self, code: str) -> str:
        number = tracking_number(code, self.rng)
        while number in self.taken:
            number = tracking_number(code, self.rng)
        self.taken.add(number)
        return number


def generated_orders(now: datetime, taken: set[str], count: int = COUNT) -> list[JsonDict]:
    """``count`` generated demo-shop orders; ``taken`` are tracking numbers already in use."""
    return _Generator(now, taken, count).orders()
