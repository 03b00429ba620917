#!/usr/bin/env python3
"""Compile the catalogue into catalog.db: `python build.py --help` lists every command."""

import sys

from riskcatalog.cli import main

if __name__ == "__main__":
    sys.exit(main())
