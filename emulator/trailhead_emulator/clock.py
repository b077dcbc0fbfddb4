"""The emulator's clock: a daemon thread that lets trails deliver (delivery.py) and alarms
evaluate (alarms.py) while the server answers calls. Each tick is cheap when nothing is due."""

import sys
import threading
import time
import traceback

from . import alarms, delivery
from .settings import SETTINGS

TICK_SECONDS = 0.25


def _run():
    while True:
        time.sleep(TICK_SECONDS)
        if not SETTINGS.delivery:
            continue
        try:
            delivery.tick()
            alarms.tick()
        except Exception:  # the clock must keep running whatever one tick met
            traceback.print_exc(file=sys.stderr)


def start():
    thread = threading.Thread(target=_run, name="trailhead-clock", daemon=True)
    thread.start()
    return thread
