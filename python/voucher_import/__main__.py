"""``python -m voucher_import ...``: the ``voucher-import`` command line, from the wheel alone.

Every subcommand, option, environment variable and exit code is the binary's (0 every row
accepted, 1 rows rejected, 2 error, 130 interrupted).
"""

from __future__ import annotations

import sys
from typing import List, Optional

from . import _native


def main(argv: Optional[List[str]] = None) -> int:
    """Runs the command line on ``argv`` (default: this process's arguments) and exits with
    its code."""
    args = sys.argv[1:] if argv is None else argv
    # What the command prints goes straight to the process's stdout and stderr: what Python
    # buffered goes first.
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        code = _native.cli(["voucher-import", *args])
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
