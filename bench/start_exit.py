"""The app as ``python -m dunning``, ending the process as soon as the first frame that
names an account (a customer reference, ``C0000123``) is handed to the terminal: a runner
for counting the start's instructions (deterministic where wall and CPU time under load
are not), e.g. on a pseudo-terminal made by ``script``:

    script -qec "stty cols 100 rows 30; valgrind --tool=callgrind \\
        python bench/start_exit.py --db COPY --as dave" /dev/null

A tool, not a test: it changes nothing the app does before that frame.
"""

from __future__ import annotations

import os
import re
import runpy
import sys
from typing import Any

REF = re.compile(r"C\d{7}")


def install() -> None:
    from textual.drivers.linux_driver import LinuxDriver

    write = LinuxDriver.write

    def first_account(self: Any, data: str) -> None:
        write(self, data)
        if REF.search(data):
            os._exit(0)

    LinuxDriver.write = first_account  # type: ignore[method-assign]


if __name__ == "__main__":
    install()
    sys.argv[0] = "dunning"
    runpy.run_module("dunning", run_name="__main__", alter_sys=True)
