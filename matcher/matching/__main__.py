"""`python -m matcher.matching` runs the command line."""

import os
import sys

from .cli import main

if __name__ == "__main__":
    kept: list[object] = []
    status = main(keep=kept)
    # Skip the interpreter's teardown: freeing the millions of objects `kept` holds one by one
    # takes seconds at scale, and the operating system reclaims the memory at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
