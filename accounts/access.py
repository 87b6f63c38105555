"""Who may see which workspace's settings pages.

``workspace_required`` resolves the signed-in user's current workspace (kept in the session,
switchable when the user belongs to several) and attaches ``request.workspace`` and
``request.membership``. A user with no membership gets 404, never another tenant's data.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache

from accounts.models import Membership
from accounts.selectors import membership_list

SESSION_KEY = "workspace_id"


def current_membership(request) -> Membership:
    memberships = request.memberships = list(membership_list(user=request.user))
    if not memberships:
        raise Http404(gettext("You are not a member of any workspace."))
    chosen = request.session.get(SESSION_KEY)
    for membership in memberships:
        if membership.workspace_id == chosen:
            return membership
    return memberships[0]


def workspace_required(view=None, *, admin=False):
    """Sign-in plus a workspace membership; ``admin=True`` also requires the admin role."""

    def decorator(view_func):
        @never_cache  # private pages: no shared or browser cache keeps them
        @login_required
        @wraps(view_func)
        def wrapper(request, *args, **kwargs):
            membership = current_membership(request)
            if admin and not membership.is_admin:
                raise PermissionDenied(
                    gettext("Only workspace admins can change GoKarla accounts.")
                )
            request.membership = membership
            request.workspace = membership.workspace
            return view_func(request, *args, **kwargs)

        return wrapper

    return decorator(view) if view else decorator
