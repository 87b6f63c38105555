"""Reads of workspace data. Each takes the workspace, so scoping lives in one place:
another workspace's object and a missing one both answer 404."""

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import AccountActivity, GoKarlaAccount, Membership, Workspace


def membership_list(*, user) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name")
    )


def workspace_by_slug(*, slug: str) -> Workspace:
    try:
        return Workspace.objects.get(slug=slug)
    except Workspace.DoesNotExist:
        raise Http404("No such workspace.") from None


def account_list(*, workspace: Workspace) -> QuerySet[GoKarlaAccount]:
    return GoKarlaAccount.objects.filter(workspace=workspace)


def account_get(*, workspace: Workspace, account_id) -> GoKarlaAccount:
    try:
        return account_list(workspace=workspace).get(pk=int(account_id))
    except (GoKarlaAccount.DoesNotExist, TypeError, ValueError):
        raise Http404("No such GoKarla account in this workspace.") from None


def account_default(*, workspace: Workspace) -> GoKarlaAccount | None:
    return account_list(workspace=workspace).filter(is_default=True).first()


def activity_list(*, workspace: Workspace, limit: int = 20) -> QuerySet[AccountActivity]:
    return AccountActivity.objects.filter(workspace=workspace)[:limit]
