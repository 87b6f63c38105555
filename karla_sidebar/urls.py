from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import views as account_views
from karla_sidebar import api, demo, history, sidebar, sidebar_tab, webhooks

sidebar_urls = (
    [
        path("", sidebar.launch, name="launch"),
        path("order/", sidebar.order, name="order"),
        path("shipment/", sidebar.shipment, name="shipment"),
        path("customer-orders/", sidebar.customer_orders, name="customer-orders"),
        path("renew/", sidebar.renew, name="renew"),
        path("live/", sidebar.live, name="live"),
        path("resume/", sidebar.resume, name="resume"),
    ],
    "sidebar",
)

SIDEBAR_TAB = "settings/integrations/gokarla/sidebar/"
sidebar_tab_urls = (
    [
        path(SIDEBAR_TAB, sidebar_tab.sidebar_tab, name="page"),
        path(f"{SIDEBAR_TAB}secret/", sidebar_tab.sidebar_secret_reveal, name="secret"),
        path(f"{SIDEBAR_TAB}rotate/", sidebar_tab.sidebar_secret_rotate, name="rotate"),
        path(f"{SIDEBAR_TAB}settings/", sidebar_tab.sidebar_settings_save, name="settings"),
        path(f"{SIDEBAR_TAB}replies/", sidebar_tab.sidebar_replies_save, name="replies"),
        path(f"{SIDEBAR_TAB}test/", sidebar_tab.sidebar_test, name="test"),
        path(f"{SIDEBAR_TAB}test/token/", sidebar_tab.sidebar_test_token, name="test-token"),
    ],
    "sidebar-tab",
)

history_urls = (
    [
        path("settings/integrations/gokarla/history/", history.history_page, name="list"),
        path(
            "settings/integrations/gokarla/history/export.csv",
            history.history_export,
            name="export",
        ),
    ],
    "history",
)

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="accounts:gokarla-accounts"), name="home"),
    path("login/", account_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the settings pages' menu
    path("sidebar/", include(sidebar_urls)),
    path("demo/conversation/", demo.conversation, name="demo-conversation"),
    path("demo/launch-token/", demo.launch_token, name="demo-launch-token"),
    path("api/v1/actions/get-order", api.get_order, name="api-get-order"),
    path("api/v1/actions/get-shipment", api.get_shipment, name="api-get-shipment"),
    path("api/v1/openapi.json", api.openapi, name="api-openapi"),
    path("api/<path:path>", api.not_found),
    path("webhooks/gokarla/<str:webhook_id>/", webhooks.gokarla_webhook, name="gokarla-webhook"),
    path("", include("accounts.urls")),
    path("", include(sidebar_tab_urls)),
    path("", include(history_urls)),
    path("django-admin/", admin.site.urls),
]
