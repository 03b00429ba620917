"""What a file is, from its first bytes (never its name), and the reader that opens it.

.xlsx and .docx are zip archives (Excel, WPS and Word all save them so); .xls is an OLE2
compound file, as are a password-protected .xlsx and a Word 97–2003 .doc; a CSV is text in
UTF-8 or GB18030. Anything else is refused in one line saying what it is and what to save it as.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from .reading import MAX_BYTES, MAX_UNPACKED, MIB, Book, ImportRefused, refused

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SAVE_AS = "open it in Excel or WPS and save it as an Excel workbook (.xlsx)"


def open_book(path: Path, shown: str) -> Book:
    """The file at path as a Book, or ImportRefused with one line saying what the file is instead."""
    if not path.is_file():
        raise refused(shown, "no such file — check the name and folder")
    size = path.stat().st_size
    if size == 0:
        raise refused(shown, "the file is empty — save the register from Excel, WPS or Word again")
    if size > MAX_BYTES:
        raise refused(shown, f"file is {size / MIB:.1f} MB, over the {MAX_BYTES // MIB} MB limit — split the register "
                             "into several files")
    with path.open("rb") as file:
        head = file.read(4096)
    if head.startswith(_OLE):
        return _ole(path, shown)
    if head.startswith(b"PK\x03\x04"):
        return _zip(path, shown)
    if head.startswith(b"%PDF"):
        raise refused(shown, "this is a PDF, which keeps the register's look but not its table — import the "
                             "register's own .xlsx, .docx or .xls file")
    from . import csvtext

    return csvtext.open_csv(path, shown, head)


def _ole(path: Path, shown: str) -> Book:
    data = path.read_bytes()  # within MAX_BYTES
    if "EncryptionInfo".encode("utf-16-le") in data:
        raise refused(shown, "the file is password-protected — open it in Excel, WPS or Word, remove the password "
                             "(文件 › 信息 › 保护工作簿 › 用密码进行加密, leave it empty) and save it again")
    if "WordDocument".encode("utf-16-le") in data:
        raise refused(shown, "this is a Word 97–2003 document (.doc) — open it in Word or WPS and save it as a "
                             "Word document (.docx)")
    from . import xls

    return xls.open_xls(path, shown, data)


def _zip(path: Path, shown: str) -> Book:
    try:
        archive = zipfile.ZipFile(path)
        names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise refused(shown, f"the file is damaged ({exc}) — open it in Excel or WPS, save a new copy and import "
                             "that") from None
    try:
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_UNPACKED and names & {"xl/workbook.xml", "word/document.xml"}:  # a zip bomb, or far more
            raise refused(shown, f"the file unpacks to {unpacked / MIB:.0f} MB, over the {MAX_UNPACKED // MIB} MB "
                                 "limit — split the register into several files")
        if "xl/workbook.xml" in names:
            from . import xlsx

            return xlsx.open_xlsx(path, shown, archive)
        if "word/document.xml" in names:
            from . import word

            return word.open_docx(path, shown, archive)
        if "content.xml" in names:
            raise refused(shown, "this is an OpenDocument file (.ods or .odt) — open it in Excel, WPS or Word and "
                                 "save it as .xlsx or .docx")
        raise refused(shown, f"this is a zip archive, not a workbook — {_SAVE_AS}")
    except BaseException:
        archive.close()
        raise


__all__ = ["open_book", "ImportRefused"]
