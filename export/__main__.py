import sys

from mnist_edge import run

sys.exit(run("export", sys.argv[1:], label="python -m export"))
