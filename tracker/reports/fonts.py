"""The serif font of the official reports: Liberation Serif (Debian's `fonts-liberation2`,
metric-compatible with Times New Roman, which Decree 30/2020 asks for, and with every
Vietnamese letter), else FreeSerif (`fonts-freefont-ttf`), else DejaVu Serif
(`fonts-dejavu-extra`); `TRACKER_REPORT_FONT` names another regular TrueType file, whose
Bold, Italic and BoldItalic siblings are used when they lie beside it.

The PDF embeds it; the DOCX names Times New Roman (what Word offers the office), which
LibreOffice draws with Liberation Serif. Both measure text with it (`text_width`).
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app

FAMILY = "ReportSerif"
STYLES = ("Regular", "Bold", "Italic", "BoldItalic")
# (regular file, the suffix each style puts in place of the regular one's)
CANDIDATES = (
    ("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
     ("-Regular", "-Bold", "-Italic", "-BoldItalic")),
    ("/usr/share/fonts/truetype/freefont/FreeSerif.ttf", ("", "Bold", "Italic", "BoldItalic")),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
     ("", "-Bold", "-Italic", "-BoldItalic")),
)


def font_name(bold: bool = False, italic: bool = False) -> str:
    style = ("Bold" if bold else "") + ("Italic" if italic else "")
    return f"{FAMILY}-{style or 'Regular'}"


def _files() -> dict[str, str]:
    configured = current_app.config.get("TRACKER_REPORT_FONT")
    if configured:
        regular = Path(configured)
        if not regular.is_file():
            raise RuntimeError(f"TRACKER_REPORT_FONT: no such file {configured}")
        stem = regular.stem.removesuffix("-Regular")
        found = {style: regular.with_name(f"{stem}-{style}{regular.suffix}")
                 for style in STYLES[1:]}
        return {"Regular": str(regular),
                **{s: str(p if p.is_file() else regular) for s, p in found.items()}}
    for regular, suffixes in CANDIDATES:
        path = Path(regular)
        if path.is_file():
            base = path.stem.removesuffix(suffixes[0])
            files = {style: path.with_name(f"{base}{suffix}{path.suffix}")
                     for style, suffix in zip(STYLES, suffixes, strict=True)}
            return {s: str(p if p.is_file() else path) for s, p in files.items()}
    raise RuntimeError("No serif TrueType font for the official reports: install "
                       "fonts-liberation2 or set TRACKER_REPORT_FONT")


def register() -> str:
    """Register the family with reportlab once; returns its regular face's name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if font_name() not in pdfmetrics.getRegisteredFontNames():
        for style, path in _files().items():
            pdfmetrics.registerFont(TTFont(f"{FAMILY}-{style}", path))
        pdfmetrics.registerFontFamily(FAMILY, normal=font_name(), bold=font_name(True),
                                      italic=font_name(italic=True),
                                      boldItalic=font_name(True, True))
    return font_name()


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """The width of `text` in points, longest line."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    register()
    return max(stringWidth(line, font_name(bold), size) for line in text.split("\n"))
