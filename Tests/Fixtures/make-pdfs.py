#!/usr/bin/env python3
"""Writes the small PDFs the examples and tests use: plain PDF 1.4 with Helvetica text,
written by hand so no PDF library is needed. Run from the repository root; the outputs are
committed, so tests never run this. The encrypted fixture is made from one of them with
qpdf (`qpdf --encrypt secret secret 256 -- in.pdf out.pdf`)."""
import sys, textwrap

def pdf(pages):
    """pages: list of lists of text lines (or None for a page with only a drawing)."""
    objects = []
    def add(body):
        objects.append(body)
        return len(objects)
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    page_ids = []
    pages_id = len(objects) + 1 + 2 * len(pages)
    for lines in pages:
        if lines is None:
            stream = b"0.2 0.4 0.8 rg 72 400 300 200 re f"
        else:
            parts = [b"BT /F1 12 Tf 14 TL 72 760 Td"]
            for line in lines:
                escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
                parts.append(b"(" + escaped.encode("latin-1") + b") Tj T*")
            parts.append(b"ET")
            stream = b"\n".join(parts)
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        page_ids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R /Resources << /Font << /F1 %d 0 R >> >> >>"
                            % (pages_id, content, font)))
    assert add(b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % p for p in page_ids) + b"] /Count %d >>" % len(page_ids)) == pages_id
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, xref)
    return bytes(out)

def wrap(paragraphs):
    lines = []
    for paragraph in paragraphs:
        lines += textwrap.wrap(paragraph, 85) + [""]
    return lines

def pages_of(paragraphs, per_page=48):
    lines = wrap(paragraphs)
    return [lines[i:i + per_page] for i in range(0, len(lines), per_page)]

WATER = [
    "Water Treatment Basics. Drinking water passes through several stages before it reaches a tap.",
    "Coagulation and flocculation come first. Chemicals with a positive charge are added to the raw water; they neutralise the negative charge of dirt and dissolved particles, which then bind into larger particles called floc.",
    "Sedimentation follows. The heavy floc settles to the bottom of a basin and the clear water above it moves on.",
    "Filtration removes what remains. The clear water passes through filters of sand, gravel and charcoal, which catch dust, parasites, bacteria, viruses and chemicals.",
    "Disinfection is the last stage. Chlorine or chloramine is added to kill any parasites, bacteria and viruses left, and a small residual amount protects the water on its way through the pipes.",
    "Testing happens throughout. Operators measure turbidity, pH and chlorine levels many times a day and adjust each stage when the raw water changes, for example after heavy rain.",
]
SAFETY = [
    "Laboratory Safety. Every person working in the laboratory must know where the eyewash station, the safety shower and the fire extinguishers are.",
    "Personal protective equipment is required at all times: safety glasses, a buttoned lab coat and closed shoes. Gloves are chosen for the chemical being handled; nitrile suits most water samples.",
    "Chemicals are stored by hazard class, never alphabetically. Acids and bases are kept apart, and oxidisers are kept away from anything that burns.",
    "Spills are reported at once. Small spills are cleaned with the spill kit; large spills mean leaving the room, closing the door and calling the safety officer.",
    "Waste goes into labelled containers. Nothing but water goes down the sink, and sharp objects go into the sharps bin.",
]

if __name__ == "__main__":
    target = sys.argv[1]
    files = {
        "Examples/water-treatment.pdf": pdf(pages_of(WATER)),
        "Examples/lab-safety.pdf": pdf(pages_of(SAFETY)),
        "Tests/Fixtures/image-only.pdf": pdf([None]),
    }
    for name, data in files.items():
        with open(f"{target}/{name}", "wb") as handle:
            handle.write(data)
