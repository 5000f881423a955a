"""Independent reference for the `html_generation` function's known answers (Python 3, stdlib only).

SplitMix64 transcribed from Vigna's splitmix64.c, the same rejection sampling as `below(256)`,
and the cell written by html.escape(chr(c)), or as f"&#{c};" for Unicode control characters.

    python3 functions/reference/html_generation.py SEED N          # prints the table
    python3 functions/reference/html_generation.py SEED N --sha256  # its UTF-8 length and SHA-256
"""
import hashlib
import html
import sys
import unicodedata

M = (1 << 64) - 1


def splitmix64(seed):
    state = seed
    while True:
        state = (state + 0x9E3779B97F4A7C15) & M
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
        yield z ^ (z >> 31)


def below(gen, n):
    zone = M - M % n
    while True:
        x = next(gen)
        if x < zone:
            return x % n


def cell(c):
    ch = chr(c)
    return f"&#{c};" if unicodedata.category(ch) == "Cc" else html.escape(ch)


def table(seed, n):
    gen = splitmix64(seed)
    rows = []
    for _ in range(n):
        c = below(gen, 256)
        rows.append(f"<tr><td>{cell(c)}</td><td>{c}</td></tr>")
    return "<table><tr><th>Character</th><th>ASCII Code</th></tr>" + "".join(rows) + "</table>"


if __name__ == "__main__":
    out = table(int(sys.argv[1]), int(sys.argv[2]))
    if sys.argv[3:] == ["--sha256"]:
        print(len(out.encode()), hashlib.sha256(out.encode()).hexdigest())
    else:
        print(out)
