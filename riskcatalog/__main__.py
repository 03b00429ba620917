"""`python -m riskcatalog`: the same command line as build.py, for an installed package."""

import sys

from .cli import main

sys.exit(main())
