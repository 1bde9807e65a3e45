"""Writes the image fixtures: one small picture (37 x 23, a red field with a blue band) in every
format and variant the header reader must know — PNG, baseline and progressive JPEG (with Exif),
GIF, and WebP lossy (VP8), lossless (VP8L) and with alpha (VP8X). Needs Pillow (PyPI); the
files are committed, so the tests do not."""
import os

from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
picture = Image.new("RGB", (37, 23), (200, 30, 30))
for x in range(37):
    for y in range(8, 15):
        picture.putpixel((x, y), (20, 40, 220))
exif = Image.Exif()
exif[0x010F] = "Sluice test camera"
picture.save(os.path.join(here, "picture.png"))
picture.save(os.path.join(here, "picture.jpg"), quality=80, exif=exif)
picture.save(os.path.join(here, "picture-progressive.jpg"), quality=80, progressive=True)
picture.save(os.path.join(here, "picture.gif"))
picture.save(os.path.join(here, "picture-lossy.webp"), quality=80)
picture.save(os.path.join(here, "picture-lossless.webp"), lossless=True)
picture.convert("RGBA").save(os.path.join(here, "picture-alpha.webp"), quality=80, exif=exif)
