"""Writes the image fixtures: one small picture (37 x 23, a red field with a blue band) in every
format and variant the header reader must know — PNG, baseline and progressive JPEG (with Exif),
GIF, and WebP lossy (VP8), lossless (VP8L) and with alpha (VP8X) — and the PNG variants whose
pixels the offline provider reads: a palette, grey at 16 bits, and RGBA with a transparent band. Needs Pillow (PyPI); the
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
picture.convert("P", palette=Image.ADAPTIVE, colors=4).save(os.path.join(here, "picture-palette.png"))
luma = picture.convert("L")
grey = Image.new("I;16", picture.size)
for x in range(37):
    for y in range(23):
        grey.putpixel((x, y), luma.getpixel((x, y)) * 257)
grey.save(os.path.join(here, "picture-grey16.png"))
clear = picture.convert("RGBA")
for x in range(37):
    for y in range(0, 8):
        clear.putpixel((x, y), (0, 0, 0, 0))
clear.save(os.path.join(here, "picture-transparent.png"))
