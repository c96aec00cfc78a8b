#!/usr/bin/env python3
"""Write the word-frequency benchmark's text: exactly 10,000,000 bytes by default.

Usage: gen_text.py OUT [BYTES]

Deterministic (its own 64-bit LCG, no `random`), so every run and every
language reads the same text. A vocabulary of 20,000 words of 2-9 letters
a-z; each word is drawn with a skewed (roughly Zipf-like) distribution, so a
few words are very frequent and most are rare, as in prose. Words are
separated by one space, lines of 12 words end in "\\n"; the last line is cut
to the exact size (its last word may be cut short too).
"""
import sys

M = (1 << 64) - 1


class Lcg:
    """Knuth's MMIX LCG; the top 31 bits as the random number."""

    def __init__(self, seed):
        self.s = seed & M

    def next(self):
        self.s = (self.s * 6364136223846793005 + 1442695040888963407) & M
        return self.s >> 33


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: gen_text.py OUT [BYTES]")
    out = sys.argv[1]
    size = int(sys.argv[2]) if len(sys.argv) == 3 else 10_000_000
    rng = Lcg(19)
    vocab = []
    seen = set()
    while len(vocab) < 20_000:
        n = 2 + rng.next() % 8
        w = "".join(chr(97 + rng.next() % 26) for _ in range(n))
        if w not in seen:
            seen.add(w)
            vocab.append(w)
    parts = []
    total = 0
    while total < size:
        line = []
        for _ in range(12):
            u = rng.next() / 2**31
            line.append(vocab[int(len(vocab) * u * u * u)])
        s = " ".join(line) + "\n"
        parts.append(s)
        total += len(s)
    text = "".join(parts)[:size]
    with open(out, "w", encoding="ascii", newline="\n") as f:
        f.write(text)


if __name__ == "__main__":
    main()
