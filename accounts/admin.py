"""Django admin for operators. Secrets are never shown or editable here."""

from django.contrib import admin

from accounts.forms import ThrottledAdminAuthenticationForm
from accounts.models import AccountActivity, GoKarlaAccount, Membership, Workspace

# The admin's login counts failures with the app's own login (accounts.throttle).
admin.site.login_form = ThrottledAdminAuthenticationForm


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    exclude = ["sidebar_secret", "previous_sidebar_secret"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "role"]
    list_filter = ["role", "workspace"]


@admin.register(GoKarlaAccount)
class GoKarlaAccountAdmin(admin.ModelAdmin):
    list_display = ["label", "workspace", "url", "username", "shop_name", "status", "is_default"]
    list_filter = ["status", "workspace"]
    search_fields = ["label", "url", "username", "shop_name"]
    exclude = ["api_token"]
    readonly_fields = ["shop_name", "shop_slug", "last_verified_at", "last_error", "created_by"]

    def has_add_permission(self, request):
        # Accounts are connected through the Accounts tab, which verifies them with GoKarla.
        return False


@admin.register(AccountActivity)
class AccountActivityAdmin(admin.ModelAdmin):
    list_display = ["created_at", "workspace", "account_label", "action", "actor_name"]
    list_filter = ["action", "workspace"]

    def has_change_permission(self, request, obj=None):
        return False
