"""``sanhu scheduler`` in a process whose clock starts at ``SANHU_TEST_NOW`` (ISO instant).

Used by the crash tests: time-machine moves this process's clock (ticking),
the scheduler itself is the real command.
"""

import os
import sys

import time_machine

from web.cli.commands import main

if __name__ == "__main__":
    with time_machine.travel(os.environ["SANHU_TEST_NOW"], tick=True):
        main(["scheduler", *sys.argv[1:]], prog_name="sanhu")
