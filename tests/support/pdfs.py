"""Small PDFs made with pypdf for the PDF reading tests: text pages, an image-only page, encrypted, damaged."""

import io

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject


def _escape(line: str) -> str:
    """A line as a PDF literal string."""
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[list[str]], password: str | None = None) -> bytes:
    """A PDF with one page per list of lines (Helvetica); an empty list makes a page without text."""
    writer = PdfWriter()
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"), NameObject("/Encoding"): NameObject("/WinAnsiEncoding")}))
    for lines in pages:
        page = writer.add_blank_page(612, 792)
        ops = [f"BT /F1 11 Tf 72 {720 - 16 * i} Td ({_escape(line)}) Tj ET" for i, line in enumerate(lines)]
        if not lines:
            ops = ["0.5 g 72 72 400 600 re f"]  # a grey box: something drawn, no text
        stream = DecodedStreamObject()
        stream.set_data("\n".join(ops).encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject({
            NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    if password is not None:
        writer.encrypt(password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
