"""Reads of workspace data. Each takes the workspace (or, for the sidebar token and the API
key, what identifies it), so scoping lives in one place: another workspace's object and a
missing one both raise ``NotInWorkspace``, or answer None where the caller decides.

The reads on every lookup and sidebar request (the sidebar token's workspace, the lookup's
account, the API key with its workspace) run statements built once instead of querysets: the
one bypass of the ORM the app keeps, because it pays (docs/performance.md, "Bypasses of the
framework"). They select what the ORM would (same rows, same order) and return model
instances all the same.
"""

from functools import cache

from django.db import connection
from django.db.models import Model, QuerySet

from accounts.errors import AccountNotFound, WorkspaceNotFound
from accounts.models import AccountActivity, ApiKey, GoKarlaAccount, Membership, Workspace


def membership_list(*, user) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name")
    )


def workspace_by_slug(*, slug: str) -> Workspace:
    try:
        return Workspace.objects.get(slug=slug)
    except Workspace.DoesNotExist:
        raise WorkspaceNotFound() from None


def account_list(*, workspace: Workspace) -> QuerySet[GoKarlaAccount]:
    return GoKarlaAccount.objects.filter(workspace=workspace)


def account_get(*, workspace: Workspace, account_id) -> GoKarlaAccount:
    """The workspace's account with that id (as typed: any text), else AccountNotFound."""
    try:
        account_id = int(account_id)
    except (TypeError, ValueError):
        account_id = None
    sql = _select(GoKarlaAccount, ("workspace", "id"), ACCOUNT_UNREAD)
    account = (
        _first(GoKarlaAccount, sql, [workspace.pk, account_id]) if _is_id(account_id) else None
    )
    if account is None:
        raise AccountNotFound()
    return account


WORKSPACE_SECRETS = ("sidebar_secret", "previous_sidebar_secret")
# Left out of a single account's read (deferred: loaded if asked for): a lookup never needs
# the webhook's secret, and each encrypted field read is a decryption.
ACCOUNT_UNREAD = ("webhook_secret",)


@cache
def _select(
    model: type[Model],
    where: tuple[str, ...],
    exclude: tuple[str, ...] = (),
) -> str:
    """``SELECT`` the model's columns (less ``exclude``) whose ``where`` fields equal the
    parameters, in ``Meta.ordering``, the first row only."""
    meta, quote = model._meta, connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in meta.concrete_fields if f.name not in exclude)
    conditions = " AND ".join(f"{quote(meta.get_field(name).column)} = %s" for name in where)
    order = ", ".join(
        quote(meta.get_field(name.lstrip("-")).column) + (" DESC" if name[0] == "-" else "")
        for name in meta.ordering
    )
    # Identifiers from the model's metadata, quoted; every value is a parameter.
    table = quote(meta.db_table)
    return f"SELECT {columns} FROM {table} WHERE {conditions} ORDER BY {order} LIMIT 1"  # noqa: S608


def _first(model: type[Model], sql: str, params: list) -> Model | None:
    return next(iter(model.objects.raw(sql, params)), None)


def _is_id(value) -> bool:
    """An id the database can hold (the ORM checks this itself; a raw statement does not, and
    SQLite raises OverflowError past 64 bits)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def account_for_lookup(*, workspace: Workspace) -> GoKarlaAccount | None:
    """The account a lookup asks when none is chosen: the default one, else the first in the
    Accounts tab's order (``GoKarlaAccount.Meta.ordering``); None when none is connected."""
    sql = _select(GoKarlaAccount, ("workspace",), ACCOUNT_UNREAD)
    return _first(GoKarlaAccount, sql, [workspace.pk])


def workspace_for_session(*, workspace_id: int, slug: str) -> Workspace | None:
    """The workspace a sidebar token names, if it still exists under that slug. Its secrets
    are left out (deferred): checking a sidebar token needs neither."""
    if not (_is_id(workspace_id) and isinstance(slug, str)):
        return None
    sql = _select(Workspace, ("id", "slug"), WORKSPACE_SECRETS)
    return _first(Workspace, sql, [workspace_id, slug])


# What the API reads of the key's workspace: no secret, nothing that needs converting.
API_WORKSPACE_FIELDS = ("id", "slug", "name")


@cache
def _api_key_statement() -> str:
    """The unrevoked key with a hash, joined to its workspace's ``API_WORKSPACE_FIELDS`` (as
    ``workspace__<field>``): one round trip to the database instead of two."""
    quote = connection.ops.quote_name
    keys, workspaces = ApiKey._meta, Workspace._meta
    key_table, workspace_table = quote(keys.db_table), quote(workspaces.db_table)
    columns = [f"{key_table}.{quote(field.column)}" for field in keys.concrete_fields] + [
        f"{workspace_table}.{quote(workspaces.get_field(name).column)} AS "
        + quote(f"workspace__{name}")
        for name in API_WORKSPACE_FIELDS
    ]
    join = (
        f"{workspace_table}.{quote(workspaces.pk.column)} = "
        f"{key_table}.{quote(keys.get_field('workspace').column)}"
    )
    # Identifiers from the models' metadata, quoted; the hash is a parameter.
    return (
        f"SELECT {', '.join(columns)} FROM {key_table} INNER JOIN {workspace_table} ON {join} "  # noqa: S608
        f"WHERE {key_table}.{quote(keys.get_field('key_hash').column)} = %s "
        f"AND {key_table}.{quote(keys.get_field('revoked_at').column)} IS NULL LIMIT 1"
    )


def api_key_active(*, key_hash: str) -> ApiKey | None:
    """The unrevoked workflow API key with that hash, its workspace loaded with only
    ``API_WORKSPACE_FIELDS`` (the rest, secrets included, deferred: the API never needs it)."""
    api_key = _first(ApiKey, _api_key_statement(), [key_hash])
    if api_key is None:
        return None
    # from_db takes the values in the model's field order.
    loaded = [f.attname for f in Workspace._meta.concrete_fields if f.name in API_WORKSPACE_FIELDS]
    values = [getattr(api_key, f"workspace__{name}") for name in loaded]
    api_key.workspace = Workspace.from_db(connection.alias, loaded, values)
    return api_key


def activity_list(*, workspace: Workspace, limit: int = 20) -> QuerySet[AccountActivity]:
    return AccountActivity.objects.filter(workspace=workspace)[:limit]
