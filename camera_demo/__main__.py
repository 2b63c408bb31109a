import sys

import camera_demo.cli
from mnist_edge import run

camera_demo.cli.PROG = "python -m camera_demo"
sys.exit(run("camera", sys.argv[1:], label="python -m camera_demo"))
