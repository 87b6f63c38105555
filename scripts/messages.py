"""The message catalogs (README, "Languages"), with Babel alone: no system gettext needed.

    python scripts/messages.py compile   # locale/*/LC_MESSAGES/django.po → django.mo (make)
    python scripts/messages.py extract   # the sources' strings → each django.po (make messages)
    python scripts/messages.py check     # exit 1 when a catalog misses or leaves a string

``compile`` runs on every install (``make run``, ``make test``, ``make bench``) and from the
test suite; it rewrites a ``.mo`` only when its ``.po`` is newer. ``extract`` reads Django
templates through Django's own ``templatize`` (what ``makemessages`` feeds to xgettext) and
Python files with Babel's extractor, then updates every catalog: new strings arrive
untranslated, strings no longer used are dropped.
"""

from __future__ import annotations

import io
import os
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_python
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

BASE_DIR = Path(__file__).resolve().parent.parent
LOCALE_DIR = BASE_DIR / "locale"
DOMAIN = "django"
PYTHON_SOURCES = ("karla_sidebar", "accounts")
TEMPLATE_SOURCES = ("templates",)
SKIPPED_DIRS = {"migrations", "__pycache__"}
# Django's translation functions, as Babel's extractor reads them (argument positions).
KEYWORDS = {
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def catalogs() -> list[Path]:
    return sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def compile_catalogs(*, quiet: bool = False) -> int:
    """Write each catalog's ``.mo`` that is missing or older than its ``.po``."""
    written = 0
    for po_path in catalogs():
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as source:
            catalog = read_po(source, locale=po_path.parts[-3])
        temporary = mo_path.with_suffix(f".mo.{os.getpid()}")
        with temporary.open("wb") as target:
            write_mo(target, catalog)
        temporary.replace(mo_path)  # atomic: a server reading it never sees half a file
        written += 1
        if not quiet:
            print(f"compiled {mo_path.relative_to(BASE_DIR)}")
    return written


def _python_files():
    for root in PYTHON_SOURCES:
        for path in sorted((BASE_DIR / root).rglob("*.py")):
            if not SKIPPED_DIRS & set(path.parts):
                yield path


def _template_as_python(path: Path) -> bytes:
    from django.utils.translation.template import templatize

    # templatize keeps the template's layout; Python's tokenizer wants no indentation.
    code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    return "\n".join(line.lstrip() for line in code.splitlines()).encode()


def extract() -> Catalog:
    """Every translatable string of the sources, as a catalog template."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    sys.path.insert(0, str(BASE_DIR))
    django.setup()
    template = Catalog(project="Karla Sidebar", fuzzy=False)
    sources = [(path, path.read_bytes()) for path in _python_files()]
    for root in TEMPLATE_SOURCES:
        for path in sorted((BASE_DIR / root).rglob("*.html")):
            sources.append((path, _template_as_python(path)))
    for path, code in sources:
        where = str(path.relative_to(BASE_DIR))
        for lineno, function, message, _comments in extract_python(
            io.BytesIO(code), KEYWORDS.keys(), [], {}
        ):
            context = None
            if isinstance(message, tuple | list):
                if function.startswith(("pgettext", "npgettext")):
                    context, *message = message
                message = tuple(m for m in message if m is not None)
                if len(message) == 1:
                    message = message[0]
            if not message:
                continue
            template.add(message, locations=[(where, lineno)], context=context)
    return template


def update() -> None:
    template = extract()
    for po_path in catalogs():
        with po_path.open("rb") as source:
            catalog = read_po(source, locale=po_path.parts[-3])
        catalog.update(template, no_fuzzy_matching=True)
        with po_path.open("wb") as target:
            write_po(target, catalog, width=100, omit_header=False, ignore_obsolete=True)
        print(f"updated {po_path.relative_to(BASE_DIR)}")


def problems() -> list[str]:
    """What a catalog lacks: strings of the sources not in it, untranslated or fuzzy ones,
    translations whose placeholders differ from the original's."""
    template = extract()
    found = []
    for po_path in catalogs():
        with po_path.open("rb") as source:
            catalog = read_po(source, locale=po_path.parts[-3])
        name = po_path.relative_to(BASE_DIR)
        for message in template:
            if not message.id:
                continue
            translated = catalog.get(message.id, context=message.context)
            if translated is None:
                found.append(f"{name}: missing {message.id!r}")
            elif translated.fuzzy or not all(_strings(translated.string)):
                found.append(f"{name}: not translated {message.id!r}")
            else:
                for original, string in zip(
                    _plural_pairs(message.id), _strings(translated.string), strict=False
                ):
                    if _placeholders(original) != _placeholders(string):
                        found.append(f"{name}: placeholders differ in {message.id!r}")
    return found


def _strings(value) -> list[str]:
    return list(value) if isinstance(value, tuple | list) else [value]


def _plural_pairs(message_id) -> list[str]:
    ids = _strings(message_id)
    return ids + [ids[-1]] * 4  # every plural form answers to the plural original


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)} - {"count", "counter"}


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "compile":
        compile_catalogs()
        return 0
    if command == "extract":
        update()
        return 0
    if command == "check":
        found = problems()
        print("\n".join(found) or "every string is translated")
        return 1 if found else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
