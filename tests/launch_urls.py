"""Tiny views that exercise the sidebar's authentication and framing decorators."""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import path

from karla_sidebar.security import sidebar_frameable
from karla_sidebar.sidebar_access import sidebar_session_required


def plain(request):
    return HttpResponse("plain page")


@sidebar_session_required
def whoami(request):
    return HttpResponse(f"{request.sidebar.agent_name} in {request.workspace.slug}")


@sidebar_frameable
def frameable(request):
    return HttpResponse("sidebar page")


@sidebar_frameable
@sidebar_session_required
def frameable_whoami(request):
    return HttpResponse(f"{request.sidebar.agent_name} in {request.workspace.slug}")


@sidebar_frameable
def frameable_forbidden(request):
    raise PermissionDenied


urlpatterns = [
    path("plain/", plain),
    path("whoami/", whoami),
    path("frameable/", frameable),
    path("frameable/whoami/", frameable_whoami),
    path("frameable/forbidden/", frameable_forbidden),
]
