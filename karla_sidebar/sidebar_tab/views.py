"""Settings → Integrations → GoKarla → Sidebar: embedding the sidebar in ArminCX, its secret,
the agents' settings and the reply templates with their previews.

The sidebar feature's own settings page: it shows what the sidebar does (replies filled in
from a demo order), so it lives with the sidebar, not in ``accounts``. Each view: check
access, check the form's shape, call one service, render the page or, for an HTMX request,
the partial of the same template.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from accounts import services
from accounts.access import workspace_required
from accounts.reply_templates import reply_template_texts, reply_templates_save
from karla_sidebar.armincx import launch_token_mint
from karla_sidebar.languages import supported_language
from karla_sidebar.replies import (
    KINDS,
    PLACEHOLDERS,
    default_template,
    demo_cases,
    reply_render,
    reply_values,
)
from karla_sidebar.security import sidebar_frame_origins

from .forms import ReplyTemplatesForm, SidebarSettingsForm, TestSidebarForm

SIDEBAR_PAGE = "accounts/gokarla-sidebar.html"
# The test sidebar's agent and conversation, as the history shows them.
TEST_AGENT_PREFIX = "test:"
TEST_CONVERSATION = "karla-test"


def _sidebar_tab(request, *, revealed=False, partial="secret", status=200, **forms):
    """The Sidebar tab: trying the sidebar, embedding, secret, the agents' settings and reply
    templates. An HTMX request gets ``partial`` (the secret, or the reply templates with their
    previews)."""
    language = _reply_language(request)
    context = {
        "test_form": forms.get("test_form") or TestSidebarForm(),
        "test_sidebar": forms.get("test_sidebar"),
        "tab": "sidebar",
        "can_change": request.membership.is_admin,
        "revealed": revealed,
        "sidebar_url": request.build_absolute_uri(reverse("sidebar:launch")),
        "frame_ancestors": sidebar_frame_origins(),
        "grace_hours": settings.SIDEBAR_SECRET_GRACE_HOURS,
        "settings_form": forms.get("settings_form")
        or SidebarSettingsForm(instance=request.workspace),
        "replies_form": forms.get("replies_form") or _replies_form(request, language),
        "reply_language": language,
        "languages": settings.LANGUAGES,
        "placeholders": PLACEHOLDERS.items(),
        "previews": forms.get("previews"),
    }
    name = f"{SIDEBAR_PAGE}#{partial}" if request.htmx else SIDEBAR_PAGE
    return render(request, name, context, status=status)


def _reply_language(request) -> str:
    """The language whose reply templates the tab shows: asked for, else the workspace's
    default, else the page's."""
    asked = request.POST.get("language") or request.GET.get("language", "")
    return (
        supported_language(asked)
        or supported_language(request.workspace.sidebar_language)
        or supported_language(translation.get_language())
        or settings.LANGUAGE_CODE
    )


def _template_defaults(language: str) -> dict[str, str]:
    with translation.override(language):
        return {kind: default_template(kind) for kind in KINDS}


def _replies_form(request, language: str, data=None) -> ReplyTemplatesForm:
    texts = reply_template_texts(workspace=request.workspace, language=language)
    return ReplyTemplatesForm(data, texts=texts, defaults=_template_defaults(language))


def _previews(request, form: ReplyTemplatesForm, language: str) -> dict[str, str]:
    """Each valid template filled in from a demo order in its situation, in its language."""
    agent = request.user.get_full_name() or request.user.get_username()
    cases = demo_cases()
    defaults = _template_defaults(language)
    previews = {}
    with translation.override(language):
        for kind in KINDS:
            if kind in form.errors:
                continue
            text = form.cleaned_data.get(kind) or defaults[kind]
            previews[kind] = reply_render(text, reply_values(cases[kind], agent_name=agent))
    return previews


@require_GET
@workspace_required
def sidebar_tab(request):
    return _sidebar_tab(request)


@require_POST
@workspace_required(admin=True)
def sidebar_settings_save(request):
    form = SidebarSettingsForm(request.POST, instance=request.workspace)
    if not form.is_valid():
        return _sidebar_tab(request, settings_form=form, status=422)
    form.save()
    messages.success(request, gettext("Sidebar settings saved."))
    return redirect("sidebar-tab:page")


@require_POST
@workspace_required(admin=True)
def sidebar_replies_save(request):
    """Save the reply templates of one language, or (the Preview button) only show them
    filled in from a demo order."""
    language = _reply_language(request)
    form = _replies_form(request, language, data=request.POST)
    valid = form.is_valid()
    if "preview" in request.POST or not valid:
        previews = _previews(request, form, language)
        status = 200 if valid else 422
        return _sidebar_tab(
            request, replies_form=form, previews=previews, partial="replies", status=status
        )
    reply_templates_save(
        workspace=request.workspace,
        language=language,
        texts={kind: form.cleaned_data[kind] for kind in KINDS},
        defaults=_template_defaults(language),
        actor=request.user,
    )
    messages.success(
        request,
        gettext("Reply templates (%(language)s) saved.")
        % {"language": dict(settings.LANGUAGES)[language]},
    )
    return redirect(f"{reverse('sidebar-tab:page')}?language={language}#reply-templates")


def _test_launch_token(request, form: TestSidebarForm) -> str:
    """A launch token for the admin, as ArminCX signs one for an agent: a test conversation
    of the customer asked for, in the admin's own time zone."""
    user = request.user
    return launch_token_mint(
        workspace=request.workspace,
        agent_id=f"{TEST_AGENT_PREFIX}{user.get_username()}",
        agent_name=user.get_full_name() or user.get_username(),
        conversation=TEST_CONVERSATION,
        customer_email=form.cleaned_data["customer_email"],
        tz=timezone.get_current_timezone_name(),
        locale=form.cleaned_data["locale"],
    )


@require_GET
@workspace_required(admin=True)
def sidebar_test(request):
    """The Sidebar tab with a test sidebar in a frame: launched as the admin, in a test
    conversation; its lookups go into the history under the admin's name."""
    form = TestSidebarForm(request.GET)
    if not form.is_valid():
        return _sidebar_tab(request, test_form=form, status=422)
    query = urlencode({name: value for name, value in form.cleaned_data.items() if value})
    test_sidebar = {
        "src": (
            f"{reverse('sidebar:launch')}?{urlencode({'token': _test_launch_token(request, form)})}"
        ),
        "origin": request.build_absolute_uri("/").rstrip("/"),
        "token_url": f"{reverse('sidebar-tab:test-token')}?{query}",
    }
    return _sidebar_tab(request, test_form=form, test_sidebar=test_sidebar)


@require_GET
@workspace_required(admin=True)
def sidebar_test_token(request):
    """The test sidebar's host asks for a fresh launch token when its session has ended
    (the README's "Host messages"), as ArminCX's page does."""
    form = TestSidebarForm(request.GET)
    if not form.is_valid():
        return JsonResponse({"error": form.errors.get_json_data()}, status=400)
    return JsonResponse({"token": _test_launch_token(request, form)})


@require_POST
@workspace_required(admin=True)
def sidebar_secret_reveal(request):
    return _sidebar_tab(request, revealed=True)


@require_POST
@workspace_required(admin=True)
def sidebar_secret_rotate(request):
    services.workspace_rotate_sidebar_secret(workspace=request.workspace)
    messages.success(
        request,
        gettext(
            "New sidebar secret created. The previous one keeps working for %(hours)s hours: "
            "update ArminCX before then."
        )
        % {"hours": f"{settings.SIDEBAR_SECRET_GRACE_HOURS:g}"},
    )
    return redirect("sidebar-tab:page")
