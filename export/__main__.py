import sys

import export.cli
from mnist_edge import run

export.cli.PROG = "python -m export"
sys.exit(run("export", sys.argv[1:], label="python -m export"))
