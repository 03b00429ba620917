"""Integrity-risk register (廉政风险点) and control-measure (防控措施) catalogue.

The build wing lives here: strict YAML (yamlload), validation against schema.json and the
cross-file rules (validate, catalog), rows (compile, tables), SQLite (db), driven by build;
fmt and diff work on the YAML. The site wing is riskcatalog.site: it reads the database,
never the validator.
"""
