#!/usr/bin/env python3
"""Makes the binary test fixtures of baraza-xlsform (workbooks that cannot be written by hand).

    python3 tools/conformance/make_fixtures.py

Needs openpyxl, xlwt and pyxform (PyPI). Writes into crates/baraza-xlsform/tests/fixtures/:
- household.xlsx / household.xls: the realistic household water survey case, as workbooks, with
  household.xml, pyxform's XForm for the .xlsx (the golden the reader tests compare with);
- formula.xlsx: a label typed as a formula (the reader warns and uses the cached value);
- merged.xlsx: merged cells in the survey sheet (the reader warns);
- bomb.xlsx: a workbook whose one sheet expands to 300 MB (the reader refuses it unread).
"""
import os
import sys
import zipfile

import openpyxl
import xlwt
from pyxform.xls2xform import convert

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CASES = os.path.join(ROOT, "crates/baraza-xlsform/tests/conformance/cases")
OUT = os.path.join(ROOT, "crates/baraza-xlsform/tests/fixtures")
SOURCE = "179-realistic-household-water.md"


def md_sheets(path):
    """pyxform's Markdown layout -> {sheet: [rows]}."""
    sheets, current = {}, None
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if all(c and set(c) <= set("-:") for c in cells):
            continue
        if cells[0]:
            current = cells[0]
            sheets[current] = []
        elif current is not None:
            sheets[current].append(cells[1:])
    return sheets


def write_xlsx(sheets, path):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append([c if c != "" else None for c in row])
    wb.save(path)


def write_xls(sheets, path):
    wb = xlwt.Workbook(encoding="utf-8")
    for name, rows in sheets.items():
        ws = wb.add_sheet(name)
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if v != "":
                    ws.write(r, c, v)
    wb.save(path)


def main():
    os.makedirs(OUT, exist_ok=True)
    sheets = md_sheets(os.path.join(CASES, SOURCE))
    write_xlsx(sheets, os.path.join(OUT, "household.xlsx"))
    write_xls(sheets, os.path.join(OUT, "household.xls"))
    result = convert(xlsform=os.path.join(OUT, "household.xlsx"), pretty_print=True, validate=False)
    with open(os.path.join(OUT, "household.xml"), "w", encoding="utf-8") as f:
        f.write(result.xform.rstrip() + "\n")

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", "label"])
    ws.append(["text", "village", '="Village"'])
    ws.append(["integer", "age", "Age"])
    wb.save(os.path.join(OUT, "formula.xlsx"))

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", "label", "hint"])
    ws.append(["text", "village", "Village", None])
    ws.append(["integer", "age", "Age", None])
    ws.merge_cells("C2:D2")
    wb.save(os.path.join(OUT, "merged.xlsx"))

    # Hostile cell positions: a cell a million rows down (a dense reader would allocate the whole
    # grid), and a reference with more column letters than any integer holds.
    base = os.path.join(OUT, "formula.xlsx")
    for name, ref in [("far-cell.xlsx", "B1500000"), ("bad-ref.xlsx", "A" * 30 + "1")]:
        with zipfile.ZipFile(base) as src, zipfile.ZipFile(os.path.join(OUT, name), "w", zipfile.ZIP_DEFLATED) as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                if item.filename == "xl/worksheets/sheet1.xml":
                    data = data.replace(b"</sheetData>", f'<row r="{ref[len(ref.rstrip("0123456789")):]}"><c r="{ref}" t="inlineStr"><is><t>far</t></is></c></row></sheetData>'.encode())
                dst.writestr(item, data)

    with zipfile.ZipFile(os.path.join(OUT, "bomb.xlsx"), "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            chunk = b" " * (1 << 20)
            for _ in range(300):
                f.write(chunk)
    print("fixtures written to", OUT)


if __name__ == "__main__":
    sys.exit(main())
