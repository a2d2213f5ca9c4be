"""The official document (`tracker.reports.document`) as a DOCX with python-docx, for the
office to edit, number and sign as it does today: A4, Times New Roman (Decree 30/2020;
LibreOffice draws it with the metric-compatible Liberation Serif), the same layout as
the PDF (`render_pdf`), a PAGE field centred in the top margin from page 2 on.

User text goes in as the text of runs (`tracker.downloads.docx_text`): python-docx
escapes it and Word reads no field, formula or markup from it.
"""

from __future__ import annotations

import io

from tracker.downloads import docx_text
from tracker.reports import fonts
from tracker.reports.document import MOTTO, MOTTO_COUNTRY, Grid, OfficialDocument
from tracker.reports.render_pdf import BODY, MARGINS_MM, SMALL, TABLE

FONT = "Times New Roman"
PAGE_MM = (210, 297)


def _run(paragraph, text: str, size: float = BODY, *, bold=False, italic=False):
    from docx.shared import Pt

    run = paragraph.add_run(docx_text(text))
    run.font.size = Pt(size)
    run.bold, run.italic = bold, italic
    return run


def _para(container, text: str, size: float = BODY, *, align="center", bold=False,
          italic=False, first=False, before=0.0, after=0.0):
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    paragraph = container.add_paragraph() if not first else container.paragraphs[0]
    paragraph.alignment = {"center": WD_ALIGN_PARAGRAPH.CENTER, "left": WD_ALIGN_PARAGRAPH.LEFT,
                           "right": WD_ALIGN_PARAGRAPH.RIGHT,
                           "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}[align]
    paragraph.paragraph_format.space_before = Pt(before)
    paragraph.paragraph_format.space_after = Pt(after)
    if align == "justify":
        paragraph.paragraph_format.first_line_indent = Mm(10)
    _run(paragraph, text, size, bold=bold, italic=italic)
    return paragraph


def _rule(container, width_pt: float, column_pt: float):
    """A centred line `width_pt` long: an empty paragraph's bottom border, indented."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    paragraph = container.add_paragraph()
    indent = max((column_pt - width_pt) / 2, 0)
    fmt = paragraph.paragraph_format
    fmt.left_indent = fmt.right_indent = Pt(indent)
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing = Pt(2)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "4"), ("w:space", "1"),
                       ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _table(document, rows: int, widths_pt: list[float], *, grid: bool):
    from docx.shared import Pt

    table = document.add_table(rows=rows, cols=len(widths_pt))
    if grid:
        table.style = "Table Grid"
    table.autofit = False
    for column, width in zip(table.columns, widths_pt, strict=True):
        column.width = Pt(width)  # the grid LibreOffice lays out by
    for row in table.rows:
        for cell, width in zip(row.cells, widths_pt, strict=True):
            cell.width = Pt(width)
    return table


def _letterhead(document, doc: OfficialDocument, width: float):
    head = doc.letterhead
    columns = [0.4 * width, 0.6 * width]
    table = _table(document, 2, columns, grid=False)
    left, right = table.rows[0].cells
    first = True
    if head.parent_body:
        _para(left, head.parent_body.upper(), first=True)
        first = False
    _para(left, head.issuing_body.upper(), bold=True, first=first)
    issuer = fonts.text_width(head.issuing_body.upper(), BODY, bold=True)
    _rule(left, min(max(issuer / 2, 57), columns[0] * 0.9), columns[0])
    _para(right, MOTTO_COUNTRY, SMALL, bold=True, first=True)
    _para(right, MOTTO, bold=True)
    _rule(right, fonts.text_width(MOTTO, BODY, bold=True), columns[1])
    _para(table.rows[1].cells[0], doc.number, first=True, before=6)
    _para(table.rows[1].cells[1], doc.dated, italic=True, first=True, before=6)
    _para(document, doc.kind, 14, bold=True, before=18)
    _para(document, doc.subject, 14, bold=True)
    subject = min(fonts.text_width(doc.subject, 14, bold=True), width * 0.9)
    _rule(document, max(subject / 3, 85), width)


def _grid(document, grid: Grid, width: float):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    table = _table(document, 1 + len(grid.rows), [f * width for f in grid.widths], grid=True)
    header = table.rows[0]
    repeat = OxmlElement("w:tblHeader")  # the header row again on each page
    header._tr.get_or_add_trPr().append(repeat)
    repeat.set(qn("w:val"), "true")
    for cell, text in zip(header.cells, grid.header, strict=True):
        _para(cell, text, TABLE, bold=True, first=True)
    for row, values in zip(table.rows[1:], grid.rows, strict=True):
        for column, (cell, text) in enumerate(zip(row.cells, values, strict=True)):
            _para(cell, text, TABLE, first=True,
                  align="right" if column in grid.numeric else "left")
    document.add_paragraph()


def _closing(document, doc: OfficialDocument, width: float):
    head = doc.letterhead
    table = _table(document, 1, [0.45 * width, 0.55 * width], grid=False)
    left, right = table.rows[0].cells
    _para(left, "Nơi nhận:", SMALL, align="left", bold=True, italic=True, first=True, before=12)
    lines = list(head.recipients)
    for i, line in enumerate(lines):
        end = "." if i == len(lines) - 1 else ";"
        _para(left, f"- {line.rstrip(';.')}{end}", 11, align="left")
    first = True
    for line in (head.signer_authority, head.signer_title):
        if line:
            _para(right, line.upper(), bold=True, first=first, before=12 if first else 0)
            first = False
    _para(right, head.signer_name, bold=True, first=first, before=72)


def _page_numbers(section) -> None:
    """Decree 30: the page number centred in the top margin, none on the first page."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    section.different_first_page_header_footer = True
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run()
    run.font.size = Pt(BODY)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)


def render(doc: OfficialDocument) -> bytes:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    normal.paragraph_format.space_after = Pt(0)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    for side, value in MARGINS_MM.items():
        setattr(section, f"{side}_margin", Mm(value))
    section.header_distance = Mm(10)
    _page_numbers(section)
    width = (PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]) * 72 / 25.4
    _letterhead(document, doc, width)
    for block in doc.body:
        if isinstance(block, Grid):
            _grid(document, block, width)
        elif block.style == "heading":
            heading = _para(document, block.text, align="left", bold=True, before=6, after=3)
            heading.paragraph_format.keep_with_next = True
        else:
            _para(document, block.text, align="justify", italic=block.style == "note",
                  after=4)
    _closing(document, doc, width)
    properties = document.core_properties
    # (the core properties hold at most 255 characters each)
    properties.title = docx_text(doc.title)[:255]
    properties.subject = docx_text(doc.subject)[:255]
    properties.author = docx_text(doc.letterhead.issuing_body)[:255]
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()

