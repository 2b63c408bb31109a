import sys

from mnist_edge import run

sys.exit(run("camera", sys.argv[1:], label="python -m camera_demo"))
