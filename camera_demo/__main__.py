import sys

from camera_demo.cli import main

sys.exit(main())
