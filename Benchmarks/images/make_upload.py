"""Writes a zip upload for the image benchmarks: `catalogue/products.csv` naming one PNG per row.

    make_upload.py OUT.zip ROWS noise   # 128 × 128 random pixels: ~50 KB each, incompressible
    make_upload.py OUT.zip ROWS flat    # 1024 × 1024 of one colour: a few KB, 765 tokens at OpenAI

Standard library only (zlib and struct write the PNGs), so a fresh machine can run it.
"""
import os, random, struct, sys, zipfile, zlib


def png(width, height, rows):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b"")


def main():
    out, rows, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    rng = random.Random(1)
    with zipfile.ZipFile(out, "w") as archive:
        lines = ["id,name,photo"]
        for i in range(rows):
            if kind == "noise":
                data = b"".join(b"\x00" + rng.randbytes(128 * 3) for _ in range(128))
                image = png(128, 128, data)
            else:
                colour = bytes([rng.randrange(256) for _ in range(3)])
                image = png(1024, 1024, (b"\x00" + colour * 1024) * 1024)
            # Images are stored: they are compressed already, as real photos are.
            archive.writestr(f"catalogue/photos/{i}.png", image, compress_type=zipfile.ZIP_STORED)
            lines.append(f"{i},product {i},photos/{i}.png")
        archive.writestr("catalogue/products.csv", "\n".join(lines) + "\n", compress_type=zipfile.ZIP_DEFLATED)
    print(f"{out}: {rows} rows, {os.path.getsize(out) / 1e6:.1f} MB")


main()
