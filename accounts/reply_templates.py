"""A workspace's own wording of the sidebar's replies (Sidebar tab), per kind and language.

What a reply says and which placeholders it may use is the sidebar feature's (its replies,
the built-in defaults included); here is only what a workspace changed. A template equal to
the default (or emptied) is not stored, so the workspace keeps getting the improved defaults.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction

from accounts.models import ReplyTemplate, Workspace

# Every card asks; admins change them rarely. Saving forgets the cached copy at once; a
# per-process cache (LocMem under several workers) holds an old one for at most this long.
CACHE_SECONDS = 60


def _cache_key(workspace: Workspace, language: str) -> str:
    return f"reply-templates:v1:{workspace.pk}:{language}"


def reply_template_texts(*, workspace: Workspace, language: str) -> dict[str, str]:
    """The workspace's own templates in that language, by kind (kinds it has not worded
    itself are missing: the built-in default applies)."""
    key = _cache_key(workspace, language)
    texts = cache.get(key)
    if texts is None:
        rows = ReplyTemplate.objects.filter(workspace=workspace, language=language)
        texts = dict(rows.values_list("kind", "text"))
        cache.set(key, texts, CACHE_SECONDS)
    return texts


@transaction.atomic
def reply_templates_save(
    *, workspace: Workspace, language: str, texts: dict[str, str], defaults: dict[str, str], actor
) -> None:
    """Store each kind's text that differs from its default; forget the others."""
    for kind, text in texts.items():
        text = text.replace("\r\n", "\n").strip()
        if not text or text == defaults[kind].strip():
            ReplyTemplate.objects.filter(workspace=workspace, language=language, kind=kind).delete()
        else:
            ReplyTemplate.objects.update_or_create(
                workspace=workspace,
                language=language,
                kind=kind,
                defaults={"text": text, "updated_by": actor},
            )
    # Now, and once committed (a card read meanwhile may have cached the old ones again).
    forget = lambda: cache.delete(_cache_key(workspace, language))  # noqa: E731
    forget()
    transaction.on_commit(forget)
