"""What the tenants' reads and use cases refuse, as domain errors: no HTTP here.

Another workspace's object and a missing one are the same error (``NotInWorkspace``), so no
caller can tell them apart. Pages answer it with 404, the workflow API with its
``not_found`` body (the feature layer maps errors to HTTP, in one place).
"""

from django.utils.translation import gettext_lazy


class AccountsError(Exception):
    """Base of the errors of ``accounts``: each carries the message a person should read."""

    default_message = ""

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class NotInWorkspace(AccountsError):
    """No such object in this workspace: it does not exist, or it is another workspace's."""

    code = "not_found"


class WorkspaceNotFound(NotInWorkspace):
    default_message = gettext_lazy("No such workspace.")


class AccountNotFound(NotInWorkspace):
    default_message = gettext_lazy("No such GoKarla account in this workspace.")


class ApiKeyNotFound(NotInWorkspace):
    default_message = gettext_lazy("No such API key in this workspace.")


class DuplicateAccount(AccountsError):
    """Connect (or a new token) would make a second account for the same shop and key."""

    code = "invalid_input"
    default_message = gettext_lazy(
        "This shop is already connected with this username at this address in this workspace."
    )
