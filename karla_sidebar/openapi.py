"""The OpenAPI 3.1 document of the workflow API, served at /api/v1/openapi.json.

Tests validate every response body the API gives against these schemas, and schemathesis
runs against the document, so it has to say exactly what the endpoints answer.
"""

from karla_sidebar.gokarla import OrderStatus, ShipmentStatus
from karla_sidebar.gokarla.records import ATTENTION
from karla_sidebar.http_errors import STATUS_FOR_CODE

ERROR_CODES = list(STATUS_FOR_CODE)


def _nullable(schema: dict) -> dict:
    kind = schema.get("type")
    if kind is None:
        return {"anyOf": [schema, {"type": "null"}]}
    return {**schema, "type": [kind, "null"]}


STRING = {"type": "string"}
TIME = {"type": "string", "format": "date-time"}
DATE = {"type": "string", "format": "date"}
STALE = {
    "type": "boolean",
    "description": "GoKarla failed or was too slow: this is the last result fetched, at "
    "`fetched_at` (at most LOOKUP_STALE_SECONDS old).",
}


def _object(properties: dict, *, required=None) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


SCHEMAS = {
    "ActionRequest": {
        "type": "object",
        "properties": {
            "reference": {
                "type": ["string", "integer"],
                "minLength": 1,
                "maxLength": 200,
                "description": "Order number, order name (#1001), order id, customer e-mail; "
                "or, for get-shipment, a shipment id or tracking number.",
                "examples": ["1001"],
            },
            "account": {
                "type": "string",
                "description": 'A connected account\'s id, or "all" to search every account. '
                "Default: the workspace's default account.",
                "examples": ["all"],
            },
            "customer_email": {
                "type": "string",
                "maxLength": 254,
                "description": "The customer the answer is for (an automation replying to a "
                "customer should always send it): an order or shipment of anyone else answers "
                "exactly like not found (404). For get-shipment, also where Karla Sidebar "
                "looks when its shipment index does not know the tracking number (GoKarla "
                "cannot look one up itself). Required (400 without it) for an API key set to "
                "answer only for the customer named.",
                "examples": ["jane@example.com"],
            },
        },
        "required": ["reference"],
        "additionalProperties": False,
    },
    "Money": _object(
        {
            "amount": {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["151.95"]},
            "currency": _nullable({"type": "string", "examples": ["EUR"]}),
        }
    ),
    "Address": _object(
        {
            name: STRING
            for name in (
                "name",
                "company",
                "line1",
                "line2",
                "zip_code",
                "city",
                "province",
                "country",
                "country_code",
                "phone",
            )
        }
    ),
    "LineItem": _object(
        {
            "title": STRING,
            "quantity": {"type": "integer"},
            "price": _nullable({"$ref": "#/components/schemas/Money"}),
            "sku": STRING,
            "size": STRING,
            "shipment_id": _nullable(STRING),
        }
    ),
    "EventInfo": _object(
        {
            "pickup_point": _nullable(STRING),
            "pickup_point_url": _nullable(STRING),
            "pickup_time": _nullable(TIME),
            "pickup_opening_hours": {
                "type": "object",
                "additionalProperties": STRING,
                "description": "Opening hours by days, as GoKarla gives them.",
            },
            "mail_message": _nullable(STRING),
            "merchant_name": _nullable(STRING),
            "preferred_delivery_date": _nullable(TIME),
            "date": _nullable(TIME),
        }
    ),
    "Event": _object(
        {
            "time": _nullable(TIME),
            "label": STRING,
            "location": STRING,
            "event_key": STRING,
            "phase": STRING,
            "additional_info": _nullable({"$ref": "#/components/schemas/EventInfo"}),
        }
    ),
    "Pickup": _object(
        {
            "type": _nullable(
                {"type": "string", "description": "shop, neighbor, locker or letterbox"}
            ),
            "name": STRING,
            "address": _nullable({"$ref": "#/components/schemas/Address"}),
            "url": _nullable(STRING),
            "opening_hours": _nullable(STRING),
            "until": _nullable(TIME),
            "pickup_time": _nullable(TIME),
        }
    ),
    "Shipment": _object(
        {
            "id": STRING,
            "order_id": _nullable(STRING),
            "order_number": _nullable(STRING),
            "carrier": _object({"reference": STRING, "name": STRING}),
            "tracking_number": STRING,
            "tracking_url": _nullable(STRING),
            "status": {"type": "string", "enum": [s.value for s in ShipmentStatus]},
            "status_label": STRING,
            "delayed": {"type": "boolean"},
            "exception": {"type": "boolean"},
            "phase": _nullable(STRING),
            "last_event": _nullable({"$ref": "#/components/schemas/Event"}),
            "estimated_delivery": _nullable(
                _object(
                    {
                        "from": _nullable({"anyOf": [DATE, TIME]}),
                        "to": _nullable({"anyOf": [DATE, TIME]}),
                        "text": {
                            "type": ["string", "null"],
                            "description": "GoKarla's own words for the ETA (its format is "
                            "not documented), in `language`, when it is not a date.",
                        },
                        "language": _nullable(STRING),
                    }
                )
            ),
            "pickup": _nullable({"$ref": "#/components/schemas/Pickup"}),
            "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
            "updated_at": _nullable(TIME),
        }
    ),
    "Order": _object(
        {
            "id": STRING,
            "order_number": STRING,
            "order_name": STRING,
            "external_id": _nullable(STRING),
            "status": {"type": "string", "enum": [s.value for s in OrderStatus]},
            "status_label": STRING,
            "attention": {
                "type": ["string", "null"],
                "enum": [*(s.value for s in ATTENTION), None],
                "description": "The most serious shipment problem (delayed, failed, …) that "
                "the order status alone would hide.",
            },
            "placed_at": _nullable(TIME),
            "customer": _object({"name": STRING, "email": _nullable(STRING)}),
            "shipping_address": _nullable({"$ref": "#/components/schemas/Address"}),
            "payment": _object(
                {
                    "status": {
                        "type": "string",
                        "description": 'Always "paid": GoKarla has no payment field and '
                        "receives orders once they are accepted and paid.",
                    },
                    "reported_by_gokarla": {"type": "boolean"},
                    "label": STRING,
                }
            ),
            "fulfillment": _object(
                {
                    "expected_shipments": {"type": "integer"},
                    "fulfilled_shipments": {"type": "integer"},
                    "label": STRING,
                }
            ),
            "line_items": {"type": "array", "items": {"$ref": "#/components/schemas/LineItem"}},
            "discounts": {
                "type": "array",
                "items": _object(
                    {
                        "code": STRING,
                        "type": _nullable(STRING),
                        "amount": _nullable({"$ref": "#/components/schemas/Money"}),
                        "percentage": {
                            "type": ["string", "null"],
                            "description": 'For a percentage discount: "10.0" is 10 %.',
                        },
                    }
                ),
            },
            "totals": _object(
                {
                    name: _nullable({"$ref": "#/components/schemas/Money"})
                    for name in ("subtotal", "shipping", "discount", "total")
                }
            ),
            "shipments": {"type": "array", "items": {"$ref": "#/components/schemas/Shipment"}},
        }
    ),
    "Source": _object(
        {
            "id": STRING,
            "label": STRING,
            "shop": STRING,
        }
    ),
    "OrderResponse": _object(
        {
            "order": {"$ref": "#/components/schemas/Order"},
            "matches": {
                "type": "integer",
                "minimum": 1,
                "description": "How many orders matched (an e-mail may match several; "
                "`order` is the most recent).",
            },
            "account": {"$ref": "#/components/schemas/Source"},
            "fetched_at": TIME,
            "cached": {"type": "boolean"},
            "stale": STALE,
        }
    ),
    "ShipmentResponse": _object(
        {
            "shipment": {"$ref": "#/components/schemas/Shipment"},
            "account": {"$ref": "#/components/schemas/Source"},
            "fetched_at": TIME,
            "cached": {"type": "boolean"},
            "stale": STALE,
            "resolved_by": {
                "type": ["string", "null"],
                "enum": ["index", "customer", None],
                "description": "How the shipment's order was found: Karla Sidebar's shipment "
                "index, or the customer's orders (`customer_email`).",
            },
        }
    ),
    "Error": _object(
        {
            "error": _object(
                {
                    "code": {"type": "string", "enum": ERROR_CODES},
                    "message": STRING,
                }
            ),
        }
    ),
}

ERRORS = {
    "400": "Bad input: not JSON, unknown fields, a missing or invalid reference.",
    "401": "Missing, unknown or revoked API key.",
    "404": "Not found (also: an account id that is not this workspace's, no tracking yet).",
    "409": "No GoKarla account is connected to the workspace.",
    "429": "Rate limited (this API key, or GoKarla). See Retry-After.",
    "502": "GoKarla refused or failed (credentials, access, unavailable, unexpected answer).",
    "504": "GoKarla did not answer in time.",
}


def _operation(summary: str, description: str, response_schema: str, example: str) -> dict:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    responses = {
        "200": {
            "description": "Found.",
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{response_schema}"}}
            },
        },
        **{status: {"description": text, "content": error} for status, text in ERRORS.items()},
    }
    responses["429"]["headers"] = {
        "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
    }
    return {
        "summary": summary,
        "description": description,
        "security": [{"workflowKey": []}],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/ActionRequest"},
                    "example": {"reference": example},
                }
            },
        },
        "responses": responses,
    }


def openapi_document(server_url: str) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Karla Sidebar workflow API",
            "version": "1.0.0",
            "description": "Get Order and Get Shipment from GoKarla for ArminCX automations. "
            "Every call is recorded in the workspace's lookup history.",
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/api/v1/actions/get-order": {
                "post": _operation(
                    "Get Order",
                    "Find an order by number, name (#1001), id or the customer's e-mail.",
                    "OrderResponse",
                    "1001",
                )
            },
            "/api/v1/actions/get-shipment": {
                "post": _operation(
                    "Get Shipment",
                    "Find a shipment by shipment id or tracking number.",
                    "ShipmentResponse",
                    "00340434161094042557",
                )
            },
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "workflowKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A workflow API key (Settings → Integrations → "
                    "GoKarla → API keys).",
                },
            },
        },
    }
