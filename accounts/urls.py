from django.urls import path

from accounts import views

app_name = "accounts"

BASE = "settings/integrations/gokarla/"

urlpatterns = [
    path(f"{BASE}accounts/", views.accounts_tab, name="gokarla-accounts"),
    path(f"{BASE}accounts/add/", views.account_add, name="gokarla-account-add"),
    path(f"{BASE}accounts/<int:account_id>/test/", views.account_test, name="gokarla-account-test"),
    path(
        f"{BASE}accounts/<int:account_id>/token/", views.account_token, name="gokarla-account-token"
    ),
    path(
        f"{BASE}accounts/<int:account_id>/default/",
        views.account_make_default,
        name="gokarla-account-default",
    ),
    path(
        f"{BASE}accounts/<int:account_id>/remove/",
        views.account_remove,
        name="gokarla-account-remove",
    ),
    path(f"{BASE}api-keys/", views.api_keys_tab, name="gokarla-api-keys"),
    path(f"{BASE}api-keys/create/", views.api_key_create, name="gokarla-api-key-create"),
    path(
        f"{BASE}api-keys/<int:key_id>/revoke/", views.api_key_revoke, name="gokarla-api-key-revoke"
    ),
    path(
        f"{BASE}api-keys/<int:key_id>/customer-guard/",
        views.api_key_customer_guard,
        name="gokarla-api-key-customer-guard",
    ),
    path("settings/workspace/", views.switch_workspace, name="switch-workspace"),
]
