"""Fails unless every PNG given shows something: many colours, and a good share
of pixels that are not the background. Usage: python not-blank.py SHOT.png..."""
import sys

from PIL import Image

MIN_COLOURS = 64  # a blank or error page has a handful
MIN_INK = 0.02  # share of pixels unlike the most common colour

failed = False
for path in sys.argv[1:]:
    image = Image.open(path).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 24)
    background = max(colours)[0]
    ink = 1 - background / (image.width * image.height)
    ok = len(colours) >= MIN_COLOURS and ink >= MIN_INK
    failed |= not ok
    print(f"{path}: {image.width}x{image.height}, {len(colours)} colours, "
          f"{ink:.1%} not background: {'ok' if ok else 'BLANK'}")
sys.exit(1 if failed else 0)
