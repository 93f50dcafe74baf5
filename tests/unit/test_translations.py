"""Every user-facing string of the web app has a Chinese translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from web.core.i18n import TRANSLATIONS, merged_catalog

WEB = Path(__file__).parents[2] / "web"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}


def extracted_messages() -> dict[str, str]:
    with (WEB / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(WEB), method_map, options_map, keywords=KEYWORDS):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, f"web/{filename}:{lineno}")
    return found


def test_every_message_in_the_web_app_is_translated_into_chinese():
    catalog = merged_catalog(TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES")
    missing = [f"{where}: {msgid!r}" for msgid, where in sorted(extracted_messages().items())
               if not (catalog.get(msgid) and catalog.get(msgid).string)]
    assert not missing, "untranslated (add them to a .po file):\n" + "\n".join(missing)


def test_the_extraction_finds_the_strings_of_templates_and_code():
    found = extracted_messages()
    assert "Sign in" in found and "Username" in found


def test_no_message_is_translated_differently_in_two_catalogs():
    from babel.messages.pofile import read_po

    seen: dict[str, dict[str, str]] = {}
    for po in sorted((TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as f:
            for message in read_po(f):
                if message.id and message.string:
                    seen.setdefault(message.id, {})[po.name] = message.string
    clashes = {msgid: files for msgid, files in seen.items() if len(set(files.values())) > 1}
    assert not clashes, f"one message, two translations (the first file would win): {clashes}"


def test_chinese_translations_use_full_width_punctuation():
    """，：；？！（） beside Chinese text, not their ASCII forms; CSV syntax shown for
    typing (``日期,holiday|workday,名称``, ``类型[,名称]``) keeps its literal commas."""
    import re

    from babel.messages.pofile import read_po

    han = "[\u3400-\u9fff]"
    ascii_beside_chinese = re.compile(
        rf"{han}\s*[,:;?!(]|[,;?!)]\s*{han}|\(\s*{han}|{han}\s*\)")
    found = []
    for po in sorted((TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as f:
            for message in read_po(f):
                strings = message.string if isinstance(message.string, tuple) else (
                    message.string,)
                for text in strings:
                    checked = re.sub(r"[^\s，：。]*(holiday|workday|类型\[)[^\s，：。]*", "",
                                     text or "")
                    if ascii_beside_chinese.search(checked):
                        found.append(f"{po.name}: {text}")
    assert not found, "ASCII punctuation in Chinese text:\n" + "\n".join(found)
