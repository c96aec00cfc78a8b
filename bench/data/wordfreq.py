"""Word frequency over the text of gen_text.py (path in argv[1]): split at
white space, count each word in a dict. Prints: total words, distinct words,
the most frequent word and its count (ties: the smallest word)."""
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
counts = {}
for w in text.split():
    counts[w] = counts.get(w, 0) + 1
best, best_n = None, -1
for w, n in counts.items():
    if n > best_n or (n == best_n and w < best):
        best, best_n = w, n
print(sum(counts.values()), len(counts), best, best_n)
