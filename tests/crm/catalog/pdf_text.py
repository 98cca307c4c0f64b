"""Just enough PDF reading to check what fpdf2 wrote, without adding a PDF library.

fpdf2 embeds TrueType fonts as Type0/Identity-H subsets with a ToUnicode CMap and, with
text shaping on, draws every glyph as a two-byte code in its own `(..) Tj`. This reads
the (Flate-compressed) streams, maps codes back to text through each font's ToUnicode
CMap and returns one string per BT..ET text object. Glyph order is visual, so
right-to-left runs come out reversed; use it for left-to-right text.
"""

from __future__ import annotations

import re
import zlib

OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)\s*endobj", re.S)
STREAM = re.compile(rb"^(.*?)stream\r?\n(.*)\r?\nendstream$", re.S)
ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"(": b"(", b")": b")", b"\\": b"\\"}


def objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Object number -> (dictionary, decoded stream or None)."""
    found = {}
    for match in OBJECT.finditer(pdf):
        body = match.group(2)
        stream = STREAM.match(body)
        if stream is None:
            found[int(match.group(1))] = (body, None)
            continue
        head, data = stream.group(1), stream.group(2)
        if b"/FlateDecode" in head:
            data = zlib.decompress(data)
        found[int(match.group(1))] = (head, data)
    return found


def to_unicode_map(cmap: bytes) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, text in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block):
            mapping[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be") if text else ""
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for low, high, start in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            first = int(start, 16)
            for offset, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                mapping[code] = chr(first + offset)
    return mapping


def font_maps(found: dict[int, tuple[bytes, bytes | None]]) -> dict[bytes, dict[int, str]]:
    """Resource name (b"F1") -> code-to-text map, from the page resources' /Font dictionary."""
    maps: dict[bytes, dict[int, str]] = {}
    for head, _stream in found.values():
        fonts = re.search(rb"/Font\s*<<(.*?)>>", head, re.S)
        if not fonts:
            continue
        for name, number in re.findall(rb"/(\w+)\s+(\d+) 0 R", fonts.group(1)):
            font_dict = found[int(number)][0]
            reference = re.search(rb"/ToUnicode\s+(\d+) 0 R", font_dict)
            if reference:
                maps[name] = to_unicode_map(found[int(reference.group(1))][1] or b"")
    return maps


def unescape(literal: bytes) -> bytes:
    out = bytearray()
    index = 0
    while index < len(literal):
        char = literal[index : index + 1]
        if char != b"\\":
            out += char
            index += 1
            continue
        following = literal[index + 1 : index + 2]
        octal = re.match(rb"[0-7]{1,3}", literal[index + 1 : index + 4])
        if octal:
            out.append(int(octal.group(0), 8) & 0xFF)
            index += 1 + len(octal.group(0))
        else:
            out += ESCAPES.get(following, following)
            index += 2
    return bytes(out)


TOKEN = re.compile(rb"/(\w+)\s+[\d.]+\s+Tf|\(((?:\\.|[^\\)])*)\)\s*Tj|<([0-9A-Fa-f]+)>\s*Tj|\b(BT|ET)\b", re.S)


def pdf_text_runs(pdf: bytes) -> list[str]:
    """The text of every BT..ET text object of every page, in drawing order."""
    found = objects(pdf)
    maps = font_maps(found)
    runs: list[str] = []
    for head, stream in found.values():
        if stream is None or b"/Length" not in head or b"/Subtype" in head or b"begincmap" in stream:
            continue
        current: dict[int, str] = {}
        text: list[str] = []
        for font, literal, hexa, marker in TOKEN.findall(stream):
            if font:
                current = maps.get(font, {})
            elif marker == b"BT":
                text = []
            elif marker == b"ET":
                runs.append("".join(text))
            else:
                raw = unescape(literal) if literal else bytes.fromhex(hexa.decode())
                codes = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw) - 1, 2)]
                text.append("".join(current.get(code, "\ufffd") for code in codes))
    return runs


def pdf_text(pdf: bytes) -> str:
    return "\n".join(pdf_text_runs(pdf))


def embedded_glyph_names(pdf: bytes) -> set[str]:
    """Names of the glyphs in every embedded TrueType subset (fontTools comes with fpdf2)."""
    from io import BytesIO

    from fontTools.ttLib import TTFont

    names: set[str] = set()
    for head, stream in objects(pdf).values():
        if stream is not None and b"/Length1" in head:
            names.update(TTFont(BytesIO(stream)).getGlyphOrder())
    return names
