"""python -m trailhead_emulator --dir STATE_DIR --port PORT"""

from .server import main

main()
