"""trailhead's emulator: moto 5.2.5 in server mode, made to refuse what AWS refuses.

One module per service contract. Each rule cites its AWS source in docs/emulator.md. Nothing
here makes moto more permissive than it was; everything here makes it stricter or more truthful.
"""

MOTO_VERSION = "5.2.5"
