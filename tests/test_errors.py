"""Errors wherever they surface: GoKarla's, the app's own refusals and another workspace's
objects, in one vocabulary of codes (the lookup history's outcomes) answered with one table
of HTTP statuses, which the OpenAPI document lists."""

import inspect

from accounts import errors as accounts_errors
from karla_sidebar import errors as app_errors
from karla_sidebar.gokarla import errors as gokarla_errors
from karla_sidebar.http_errors import STATUS_FOR_CODE
from karla_sidebar.models import LookupRecord
from karla_sidebar.openapi import openapi_document

OUTCOMES = set(LookupRecord.Outcome.values) - {LookupRecord.Outcome.FOUND}
API_ONLY = {"unauthorized", "method_not_allowed"}  # no lookup was made


def _codes(module) -> set[str]:
    classes = inspect.getmembers(module, inspect.isclass)
    return {cls.code for _, cls in classes if getattr(cls, "code", "")}


def test_every_way_a_lookup_can_end_has_an_api_status_and_is_documented():
    assert set(STATUS_FOR_CODE) == OUTCOMES | API_ONLY
    error = openapi_document("https://karla.example.com")["components"]["schemas"]["Error"]
    documented = error["properties"]["error"]["properties"]["code"]["enum"]
    assert set(documented) == OUTCOMES | API_ONLY


def test_every_error_s_code_is_an_outcome_the_history_knows():
    codes = _codes(gokarla_errors) | _codes(app_errors) | _codes(accounts_errors)
    assert codes <= OUTCOMES
