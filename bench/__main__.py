import sys

from mnist_edge import run

sys.exit(run("bench", sys.argv[1:], label="python -m bench"))
