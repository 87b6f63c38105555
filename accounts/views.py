"""Settings → Integrations → GoKarla: the Accounts tab and the API keys tab; the login.

Each view: check access, check the form's shape, call one service, render the page or, for
an HTMX request, the partial of the same template.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from accounts import advice, api_keys, selectors, services
from accounts.access import SESSION_KEY, workspace_required
from accounts.errors import DuplicateAccount
from accounts.forms import (
    AccountConnectForm,
    ApiKeyForm,
    ThrottledAuthenticationForm,
    TokenUpdateForm,
)
from karla_sidebar.gokarla import GoKarlaError

ACCOUNTS_PAGE = "accounts/gokarla-accounts.html"


def _accounts_url():
    return reverse("accounts:gokarla-accounts")


def _accounts_context(request, **extra):
    return {
        "tab": "accounts",
        "accounts": selectors.account_list(workspace=request.workspace),
        "activity": selectors.activity_list(workspace=request.workspace)
        if request.membership.is_admin
        else [],
        "can_change": request.membership.is_admin,
        **extra,
    }


def _list_response(request, flash: str = "", error: str = "", *, changed: int | None = None):
    """After a change: HTMX gets the refreshed list, focus going to the ``changed`` account's
    row (or, when it is gone, to the message); a plain form post is redirected."""
    if request.htmx:
        context = _accounts_context(request, flash=flash, flash_error=error, changed=changed)
        response = render(request, f"{ACCOUNTS_PAGE}#accounts-list", context)
        response = reswap(retarget(response, "#accounts-list"), "outerHTML")
        return trigger_client_event(response, "accountsChanged")
    if error:
        messages.error(request, error)
    elif flash:
        messages.success(request, flash)
    return HttpResponseRedirect(_accounts_url())


@require_GET
@workspace_required
def accounts_tab(request):
    return render(request, ACCOUNTS_PAGE, _accounts_context(request))


def _dialog(request, template: str, context: dict, *, status: int = 200):
    """A dialog's content: the partial for HTMX, a whole page without JavaScript."""
    context = {"tab": "accounts", **context}
    name = f"{template}#dialog" if request.htmx else template
    return render(request, name, context, status=status)


@require_http_methods(["GET", "POST"])
@workspace_required(admin=True)
def account_add(request):
    form = AccountConnectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account = services.account_connect(
                workspace=request.workspace,
                url=data["url"],
                username=data["username"],
                token=data["api_token"],
                shop_slug=data["shop_slug"],
                label=data["label"],
                actor=request.user,
            )
        except (GoKarlaError, DuplicateAccount) as error:
            form.add_gokarla_error(error)
        else:
            label = account.label
            if account.shop_name != account.label:
                label = f"{account.label} ({account.shop_name})"
            flash = gettext("Connected %(label)s: shop “%(slug)s” at %(root)s.") % {
                "label": label,
                "slug": account.shop_slug,
                "root": account.api_root,
            }
            if form.url_notes:
                flash += " " + " ".join(form.url_notes)
            return _list_response(request, flash=flash, changed=account.pk)
    status = 422 if form.is_bound else 200  # bound here means refused: shown with its errors
    return _dialog(request, "accounts/account-add.html", {"form": form}, status=status)


@require_POST
@workspace_required(admin=True)
def account_test(request, account_id):
    account = selectors.account_get(workspace=request.workspace, account_id=account_id)
    try:
        services.account_test(account=account, actor=request.user)
    except GoKarlaError as error:
        message = f"{account.label}: {advice.after_test(error)}"
        return _list_response(request, error=message, changed=account.pk)
    return _list_response(
        request,
        flash=gettext("%(label)s: connection works (%(shop)s).")
        % {"label": account.label, "shop": account.shop_name},
        changed=account.pk,
    )


@require_http_methods(["GET", "POST"])
@workspace_required(admin=True)
def account_token(request, account_id):
    account = selectors.account_get(workspace=request.workspace, account_id=account_id)
    form = TokenUpdateForm(request.POST or None, username=account.username)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["api_token"]
        if not token:
            return _list_response(
                request,
                flash=gettext("%(label)s: kept the current token.") % {"label": account.label},
                changed=account.pk,
            )
        try:
            services.account_update_token(account=account, token=token, actor=request.user)
        except GoKarlaError as error:
            form.add_gokarla_error(error)
        else:
            return _list_response(
                request,
                flash=gettext("%(label)s: token updated and verified.") % {"label": account.label},
                changed=account.pk,
            )
    status = 422 if form.is_bound else 200
    return _dialog(
        request, "accounts/account-token.html", {"form": form, "account": account}, status=status
    )


@require_POST
@workspace_required(admin=True)
def account_make_default(request, account_id):
    account = selectors.account_get(workspace=request.workspace, account_id=account_id)
    services.account_make_default(account=account, actor=request.user)
    return _list_response(
        request,
        flash=gettext("%(label)s is now the default account.") % {"label": account.label},
        changed=account.pk,
    )


@require_http_methods(["GET", "POST"])
@workspace_required(admin=True)
def account_remove(request, account_id):
    account = selectors.account_get(workspace=request.workspace, account_id=account_id)
    if request.method == "POST":
        services.account_remove(account=account, actor=request.user)
        return _list_response(
            request, flash=gettext("Removed %(label)s.") % {"label": account.label}
        )
    return _dialog(request, "accounts/account-remove.html", {"account": account})


@require_POST
@workspace_required
def switch_workspace(request):
    chosen = request.POST.get("workspace", "")
    for membership in request.memberships:
        if str(membership.workspace_id) == chosen:
            request.session[SESSION_KEY] = membership.workspace_id
            return redirect(_accounts_url())
    raise Http404("You are not a member of that workspace.")


def _api_keys_tab(request, *, form=None, new_key="", status=200):
    listed, revoked_earlier = api_keys.api_key_lists(workspace=request.workspace)
    context = {
        "tab": "api-keys",
        "can_change": request.membership.is_admin,
        "api_keys": listed,
        "revoked_earlier": revoked_earlier,
        "revoked_days": api_keys.REVOKED_LISTED_DAYS,
        "form": form or ApiKeyForm(),
        "new_key": new_key,
        "api_base": request.build_absolute_uri("/api/v1/actions/"),
        "rate_limit": settings.API_RATE_LIMIT,
    }
    return render(request, "accounts/gokarla-api-keys.html", context, status=status)


@require_GET
@workspace_required(admin=True)
def api_keys_tab(request):
    return _api_keys_tab(request)


@never_cache  # the answer holds the new key
@require_POST
@workspace_required(admin=True)
def api_key_create(request):
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _api_keys_tab(request, form=form, status=422)
    _, key = api_keys.api_key_create(
        workspace=request.workspace,
        name=form.cleaned_data["name"],
        actor=request.user,
        requires_customer_email=form.cleaned_data["requires_customer_email"],
    )
    # Shown once, in this answer only: the key is never stored in the session (or anywhere
    # else) in plain text.
    return _api_keys_tab(request, new_key=key, status=201)


@require_POST
@workspace_required(admin=True)
def api_key_customer_guard(request, key_id):
    api_key = api_keys.api_key_get(workspace=request.workspace, key_id=key_id)
    required = request.POST.get("required") == "1"
    api_keys.api_key_require_customer(api_key=api_key, required=required)
    if required:
        messages.success(
            request,
            gettext("%(name)s now answers only for the customer named.") % {"name": api_key.name},
        )
    else:
        messages.success(
            request, gettext("%(name)s no longer needs customer_email.") % {"name": api_key.name}
        )
    return redirect("accounts:gokarla-api-keys")


@require_POST
@workspace_required(admin=True)
def api_key_revoke(request, key_id):
    api_key = api_keys.api_key_get(workspace=request.workspace, key_id=key_id)
    api_keys.api_key_revoke(api_key=api_key)
    messages.success(
        request,
        gettext("Revoked %(name)s. Calls with it are refused from now on.")
        % {"name": api_key.name},
    )
    return redirect("accounts:gokarla-api-keys")


class LoginView(auth_views.LoginView):
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if getattr(form, "locked", False):
            response.status_code = 429
        return response
