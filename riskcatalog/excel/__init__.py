"""The register in and out of Excel: the 登记表 workbook (export) and a unit's own workbook (importer).

layout names the sheets and columns both sides share; export writes a workbook from the
database (for `build.py export` and the site's .xlsx downloads); importer reads a workbook into
a register folder (`build.py import`). export and layout import neither the validator nor YAML.
"""
