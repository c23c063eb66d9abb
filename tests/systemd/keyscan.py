"""keyscan.py - whether a process's memory holds an EC private key.

    python3 tests/systemd/keyscan.py KEY.pem PID

Reads KEY.pem (an EC key, PEM) with the openssl command and searches the
writable mappings of PID (heap, stacks, data; through /proc/PID/mem, so as
root) for its 32-byte private scalar, as stored and reversed (a BIGNUM's
little-endian limbs), and for a line of its PEM. Prints "held" or "absent"
and the bytes searched; exit status 0 when found, 1 when not, 2 on error.
"""

import subprocess
import sys


def needles(path):
    der = subprocess.run(["openssl", "pkey", "-in", path, "-outform", "DER"],
                         capture_output=True, check=True, timeout=30).stdout
    i = der.find(b"\x02\x01\x01\x04\x20")
    if i < 0:
        raise OSError("no EC private key in %s" % path)
    scalar = der[i + 5:i + 37]
    with open(path, "rb") as f:
        pem_line = f.read().splitlines()[2]
    return [scalar, scalar[::-1], pem_line]


def search(pid, want):
    """Mappings over 1 GiB (a sanitizer's shadow memory) are skipped; pieces
    overlap by a needle's length."""
    found, searched, piece, overlap = set(), 0, 16 << 20, max(map(len, want))
    with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            f = line.split()
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            if "w" not in f[1] or hi - lo > 1 << 30:
                continue
            for at in range(lo, hi, piece):
                try:
                    mem.seek(at)
                    data = mem.read(min(piece + overlap, hi - at))
                except OSError:
                    continue
                searched += len(data)
                found.update(i for i, n in enumerate(want) if n in data)
    return found, searched


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    found, searched = search(int(sys.argv[2]), needles(sys.argv[1]))
    print("%s (%d bytes searched)" % ("held" if found else "absent", searched))
    sys.exit(0 if found else 1)


if __name__ == "__main__":
    try:
        main()
    except (OSError, subprocess.SubprocessError) as e:
        print("keyscan: %s" % e)
        sys.exit(2)
