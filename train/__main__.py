import sys

from mnist_edge import run

sys.exit(run("train", sys.argv[1:], label="python -m train"))
