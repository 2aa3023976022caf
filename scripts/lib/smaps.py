"""Where a process's resident memory goes, from /proc/PID/smaps (used by scripts/bench-agent).

    python3 scripts/lib/smaps.py PID     ->  one line per kind: "MB<TAB>kind", then the total

Kinds: the program's own file by segment (code, read-only data and relocations, data), each
shared library, the main heap (glibc's main arena, grown by brk), the main thread's stack,
other threads' stacks (an anonymous mapping right above a small no-access guard), glibc's
arenas of other threads (64 MB-aligned reservations), and other anonymous mappings (mostly
single allocations of 128 KB or more, which glibc maps on their own).
"""
import os
import re
import sys

ARENA = 64 << 20


def mappings(pid):
    maps, cur = [], None
    with open(f"/proc/{pid}/smaps", encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$", line)
            if m:
                cur = {"start": int(m.group(1), 16), "end": int(m.group(2), 16),
                       "perms": m.group(3), "path": m.group(4).strip(), "rss": 0}
                maps.append(cur)
            elif cur is not None and line.startswith("Rss:"):
                cur["rss"] = int(line.split()[1])
    return maps


def kind(maps, i, exe):
    m = maps[i]
    path = m["path"].removesuffix(" (deleted)")
    if path == exe:
        return {"r-xp": "program: code", "r--p": "program: read-only data, relocations",
                "rw-p": "program: data"}.get(m["perms"], "program: " + m["perms"])
    if path == "[heap]":
        return "heap (main arena)"
    if path == "[stack]":
        return "main thread's stack"
    if path.startswith("/"):
        return "library " + os.path.basename(path)
    if path:
        return path
    if m["perms"] == "---p":
        return "reserved, no access"
    prev = maps[i - 1] if i else None
    if prev and prev["perms"] == "---p" and not prev["path"] and prev["end"] == m["start"] \
            and prev["end"] - prev["start"] <= 65536:
        return "other threads' stacks"
    nxt = maps[i + 1] if i + 1 < len(maps) else None
    if m["start"] % ARENA == 0 and nxt and nxt["perms"] == "---p" and nxt["start"] == m["end"]:
        return "malloc arenas of other threads"
    return "other anonymous mappings"


def main():
    pid = sys.argv[1]
    exe = os.path.realpath(f"/proc/{pid}/exe")
    maps = mappings(pid)
    total = {}
    for i, m in enumerate(maps):
        k = kind(maps, i, exe)
        total[k] = total.get(k, 0) + m["rss"]
    libs = sum(v for k, v in total.items() if k.startswith("library "))
    lines = [(v, k) for k, v in total.items() if not k.startswith("library ") and v]
    lines.append((libs, "shared libraries (" + ", ".join(
        k.removeprefix("library ") for k, v in sorted(total.items(), key=lambda kv: -kv[1])
        if k.startswith("library ") and v >= 64) + ")"))
    for v, k in sorted(lines, reverse=True):
        print(f"{v / 1024:.2f}\t{k}")
    print(f"{sum(total.values()) / 1024:.2f}\ttotal")


if __name__ == "__main__":
    main()
