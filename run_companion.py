#!/usr/bin/env python3
"""companion: real-time streaming companion engine. See README.md and ``--help``."""
import sys

from companion.cli import main

if __name__ == "__main__":
    sys.exit(main())
