"""Which corpus phrases come out whole in pdftotext -layout and in PyMuPDF.

Reads paper/testdata/corpus/truth.json and prints, per paper and in total,
how many of its phrases and caption starts occur (whitespace collapsed) in
the whole text each tool extracts. The tools have no section tree, so the
check is looser than r2c's, which needs each phrase inside its section.
Run by bench/paper.sh with the PyMuPDF venv's interpreter.
"""

import json
import subprocess
import sys
from pathlib import Path

try:
    import pymupdf
except ImportError:  # the bench script prints the reason and goes on
    pymupdf = None


def squash(text):
    return " ".join(text.split())


def pdftotext_layout(path):
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        check=True, capture_output=True, text=True,
    )
    return out.stdout


def pymupdf_text(path):
    with pymupdf.open(str(path)) as doc:
        return "\n".join(page.get_text() for page in doc)


def main(corpus):
    truth = json.loads((corpus / "truth.json").read_text(encoding="utf-8"))
    tools = {"pdftotext -layout": pdftotext_layout}
    if pymupdf is not None:
        tools["PyMuPDF " + pymupdf.__version__] = pymupdf_text
    else:
        print("paper: PyMuPDF not importable, its column skipped")
    totals = {name: [0, 0, 0] for name in tools}
    for name in sorted(truth):
        want = truth[name]
        phrases = [p["text"] for p in want["phrases"]]
        captions = [c["text"] for c in want["captions"]]
        row = []
        for tool, extract in tools.items():
            text = squash(extract(corpus / name))
            whole = sum(squash(p) in text for p in phrases)
            caps = sum(squash(c) in text for c in captions)
            totals[tool][0] += whole
            totals[tool][1] += len(phrases)
            totals[tool][2] += caps
            row.append(f"{tool}: phrases {whole}/{len(phrases)}, captions {caps}/{len(captions)}")
        print(f"paper: {name:34s} " + "; ".join(row))
    for tool, (whole, n, caps) in totals.items():
        print(f"paper: TOTAL {tool}: phrases whole {whole}/{n}, caption starts found {caps}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
