"""The text encodings an import reads its files in, and what it says when a file is not in one.

Registers come from desks whose spreadsheets save Windows-1252 or Latin-1 as often as UTF-8.
The default is UTF-8, with or without a byte-order mark (UTF-16 with its mark is read too,
as spreadsheets save "Unicode text"). Any Python codec may be chosen; "detect" asks
charset-normalizer and says which encoding it used. A file that is not valid in the chosen
encoding is refused at the line and column of its first bad byte, with that line as the likely
encoding reads it and the option that would read it.
"""

import codecs
from dataclasses import dataclass, field

import charset_normalizer

DEFAULT = "utf-8"
DETECT = "detect"
# Single-byte Latin-script encodings charset-normalizer hesitates between on short texts (it
# reads "Muñoz" as Windows-1250 "Muńoz"): a file it places among them that Windows-1252 reads
# is taken as Windows-1252, as desks' Western European files far more often are.
LATIN_LOOKALIKES = frozenset(
    "cp1250 cp1252 cp1254 cp1257 latin_1 iso8859_2 iso8859_4 iso8859_9 iso8859_10 iso8859_13 "
    "iso8859_15 iso8859_16 mac_roman mac_latin2 mac_iceland mac_turkish cp437 cp775 cp850 "
    "cp852 cp857 cp858 cp860 cp861 cp863 cp865 hp_roman8".split()
)
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# The line shown with a refusal is cut to this many characters.
SHOWN_CHARS = 120


class UndecodableText(ValueError):
    """The file is not text in the encoding asked for; `where` names it, line and column."""

    def __init__(self, where: str, message: str):
        self.where, self.message = where, message
        super().__init__(f"{where}: {message}")


def codec_name(name: str) -> str:
    """The encoding `name` names ("detect", or any Python codec); ValueError if none."""
    name = (name or DEFAULT).strip()
    if name.lower() == DETECT:
        return DETECT
    try:
        codecs.lookup(name)
    except LookupError:
        raise ValueError(
            f"unknown encoding '{name}' (e.g. utf-8, cp1252, latin-1, utf-16, or detect)"
        ) from None
    return name


def detect(content: bytes) -> str:
    """The likely encoding of `content` (a Python codec name)."""
    if content.startswith(UTF16_BOMS):
        return "utf-16"
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return DEFAULT
    best = charset_normalizer.from_bytes(content).best()
    if best is None or best.encoding in LATIN_LOOKALIKES:
        try:
            content.decode("cp1252")
        except UnicodeDecodeError:
            pass
        else:
            return "cp1252"
    return best.encoding if best is not None else "latin-1"


@dataclass
class Decoder:
    """Turns each file of an import into text, in one encoding (or each in the one detected).

    `detected` records, for "detect", which encoding each file was read in.
    """

    encoding: str = DEFAULT
    detected: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        self.encoding = codec_name(self.encoding)

    def text(self, content: bytes, name: str) -> str:
        encoding = self.encoding
        if encoding == DETECT:
            encoding = detect(content)
            self.detected[name] = encoding
        elif codecs.lookup(encoding).name == "utf-8":
            encoding = "utf-16" if content.startswith(UTF16_BOMS) else "utf-8-sig"
        try:
            return content.decode(encoding)
        except UnicodeDecodeError as exc:
            raise UndecodableText(*_refusal(content, name, encoding, exc)) from exc

    def notes(self) -> list[str]:
        """What "detect" chose, a line per file."""
        return [f"{name}: read as {enc} (detected)" for name, enc in self.detected.items()]


def _refusal(content: bytes, name: str, encoding: str, exc: UnicodeDecodeError):
    """(where, message) for the first byte `encoding` cannot read."""
    start = content.rfind(b"\n", 0, exc.start) + 1
    end = content.find(b"\n", exc.start)
    end = len(content) if end == -1 else end
    line = content.count(b"\n", 0, exc.start) + 1
    column = len(content[start : exc.start].decode(encoding, errors="replace")) + 1
    label = "UTF-8" if encoding in ("utf-8-sig", DEFAULT) else encoding
    bad = content[exc.start : exc.end].hex(" ").upper()
    message = f"not {label} text (byte {bad} at column {column})"
    likely = detect(content)
    if likely.replace("-", "_").lower() not in (encoding.replace("-", "_").lower(), "utf_8_sig"):
        shown = content[start:end].decode(likely, errors="replace").rstrip("\r")
        if len(shown) > SHOWN_CHARS:
            shown = shown[: SHOWN_CHARS - 1] + "…"
        message += (
            f"; read as {likely} the line is: {shown}; "
            f"import it with --encoding {likely} (the admin's Encoding field)"
        )
    return f"{name}, line {line}", message
