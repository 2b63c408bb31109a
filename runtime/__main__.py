import sys

from mnist_edge import run

sys.exit(run("predict", sys.argv[1:], label="python -m runtime"))
