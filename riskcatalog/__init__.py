"""Integrity-risk register (廉政风险点) and control-measure (防控措施) catalogue."""

from __future__ import annotations

from pathlib import Path

#: The repository root: catalogue, schema, metadata, templates and static files live here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
