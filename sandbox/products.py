"""The demo shop's products and GoKarla's line item shapes (ProductDTO on an order,
ProductSchema on a tracking; weights in grams)."""

from __future__ import annotations

from typing import Any

_IMAGE_ROOT = "https://images.karla-demo.example/products"
_VAT_RATE = 0.19
_LINE_ITEM_ONLY = frozenset({"shipment_id", "type"})

# sku -> (title, unit price, size, weight in grams, image file)
CATALOGUE: dict[str, tuple[str, float, str | None, int, str]] = {
    "KS-MER-CRW-M": ("Merino Crew Sweater", 89.0, "M", 420, "merino-crew-sweater.jpg"),
    "KS-ORG-TEE-L": ("Organic Cotton T-Shirt", 29.0, "L", 180, "organic-cotton-tee.jpg"),
    "KS-CNV-WKD-01": ("Canvas Weekender Bag", 149.0, None, 1200, "canvas-weekender.jpg"),
    "KS-TRL-RUN-42": ("Trail Running Shoes", 129.0, "42", 900, "trail-running-shoes.jpg"),
    "KS-WOL-BEA-01": ("Wool Beanie", 24.0, None, 80, "wool-beanie.jpg"),
    "KS-LIN-SHT-S": ("Linen Shirt", 69.0, "S", 250, "linen-shirt.jpg"),
    "KS-RAI-JKT-M": ("Packable Rain Jacket", 119.0, "M", 350, "rain-jacket.jpg"),
    "KS-SOC-3PK-39": ("Hiking Socks (3-pack)", 19.0, "39-42", 150, "hiking-socks.jpg"),
    "KS-BOT-STL-75": ("Steel Water Bottle 750 ml", 27.0, None, 330, "steel-bottle.jpg"),
    "KS-OUT-HDY-L": ("Outlet Hoodie (last season)", 39.0, "L", 600, "outlet-hoodie.jpg"),
    "KS-DWN-VST-S": ("Light Down Vest", 99.0, "S", 280, "down-vest.jpg"),
    "KS-CHN-PNT-32": ("Stretch Chino Trousers", 79.0, "32/32", 520, "chino-trousers.jpg"),
    "KS-LTH-BLT-90": ("Leather Belt", 45.0, "90", 210, "leather-belt.jpg"),
    "KS-SUN-GLS-01": ("Polarized Sunglasses", 59.0, None, 60, "sunglasses.jpg"),
    "KS-YOG-MAT-01": ("Cork Yoga Mat", 69.0, None, 2100, "yoga-mat.jpg"),
    "KS-DAY-PCK-20": ("Day Pack 20 l", 89.0, None, 780, "day-pack.jpg"),
    "KS-WOL-SCF-01": ("Merino Scarf", 39.0, None, 140, "merino-scarf.jpg"),
    "KS-KID-TEE-128": ("Kids Organic T-Shirt", 19.0, "128", 110, "kids-tee.jpg"),
}


def line_item(
    sku: str, quantity: int, shipment_id: str | None, currency: str = "EUR"
) -> dict[str, Any]:
    """A ProductDTO; ``shipment_id`` ties it to a (draft or fulfilled) shipment."""
    title, price, size, weight, image = CATALOGUE[sku]
    gross = price * quantity
    return {
        "title": title,
        "quantity": quantity,
        "price": price,
        "size": size,
        "sku": sku,
        "weight": weight,
        "images": [{"src": f"{_IMAGE_ROOT}/{image}", "alt": title}],
        "tax_lines": [
            {
                "title": "VAT",
                "rate": _VAT_RATE,
                "price": round(gross - gross / (1 + _VAT_RATE), 2),
                "currency": currency,
            }
        ],
        "bundled_products": [],
        "shipment_id": shipment_id,
        "type": "product",
    }


def shipment_products(order: dict[str, Any], shipment_id: str) -> list[dict[str, Any]]:
    """The tracking's ``products`` (ProductSchema): the order's line items of that shipment,
    without the shipment link."""
    return [
        {name: value for name, value in item.items() if name not in _LINE_ITEM_ONLY}
        for item in order["products"]
        if item["shipment_id"] == shipment_id
    ]
