"""GoKarla's refusals as an admin reads them where they are.

A GoKarla error carries a message for anyone who meets it (an agent in the sidebar, a
workflow): "enter a new token with Update token under Settings → Integrations → GoKarla".
In the Accounts tab the next step is at hand: in Add account or Update token, the token
field; after Test connection, that account's Update token button.
"""

from django.utils.translation import gettext

from karla_sidebar.gokarla import CredentialsRejected, GoKarlaError, TokenRevoked


def in_token_field(error: GoKarlaError) -> str:
    """The message under the API Token field of Add account or Update token."""
    if isinstance(error, TokenRevoked):
        return gettext(
            "GoKarla says this API token was revoked or has expired (it may have been "
            "regenerated). Create a new token in GoKarla's portal (Settings → API keys) and "
            "paste it here."
        )
    return error.message


def in_token_update(error: GoKarlaError, *, username: str) -> str:
    """The message under Update token's field: the username cannot be changed there."""
    if isinstance(error, CredentialsRejected) and not isinstance(error, TokenRevoked):
        return gettext(
            "GoKarla rejected this token for the username “%(username)s”. Check it in "
            "GoKarla's portal (Settings → API keys) and paste it again."
        ) % {"username": username}
    return in_token_field(error)


def after_test(error: GoKarlaError) -> str:
    """The message in the accounts list after a failed Test connection."""
    if isinstance(error, TokenRevoked):
        return gettext(
            "GoKarla says the API token was revoked or has expired. Create a new token in "
            "GoKarla's portal (Settings → API keys), then use Update token on this account."
        )
    if isinstance(error, CredentialsRejected):
        return gettext(
            "GoKarla rejected the username or API token. Check them in GoKarla's portal "
            "(Settings → API keys); a new token goes in with Update token on this account."
        )
    return error.message
