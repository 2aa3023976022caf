#!/usr/bin/env python3
"""Checks what tests/windows/e2e.sh left in WORK: the seconds dwell recorded per site
against the plan (within 1 s, from the database and from `dwell-report day --json`), the
Word trap not counted, the planted title token in no file of the data directory and in
no log or output, and `status --json` naming the "windows" backend. The browser
extension's way in: reddit.com counted from the host dwell-native-host.exe reported (the
window's title names no site), as extension spans, only while Edge had the foreground and
its tab was on Reddit; Edge named as the browser; the reported hosts (the token in lower
case) in no data file, output or log line above debug.

    tests/windows/check.py WORK TOKEN
"""
import json
import os
import struct
import sqlite3
import sys

work, token = sys.argv[1], sys.argv[2]
# Planted in the hosts the extension reported (a host name is lower case).
host_token = token.lower()
problems = []


def load(name):
    path = os.path.join(work, name)
    try:
        with open(path, "rb") as f:
            return json.loads(f.read())
    except (OSError, ValueError) as e:
        sys.exit(f"tests/windows/check.py: cannot read {path}: {e}")




def planned(path):
    """Seconds per site from plan.tsv, whose lines say from when a site (or `other`) has
    focus, the employee is away from the keyboard (`idle`, until the next site), or the
    screen is locked or unlocked: locked and idle time count for no site; the plan ends
    at its last line. `locked` and `idle` are the times spent so."""
    with open(path) as f:
        events = sorted((float(t), what) for t, what in (line.split() for line in f if line.strip()))
    seconds, focus, is_locked = {"locked": 0.0, "idle": 0.0}, "other", False
    for (t, what), (t_next, _) in zip(events, events[1:]):
        if what in ("lock", "unlock"):
            is_locked = what == "lock"
        else:
            focus = what
        key = "locked" if is_locked else focus
        seconds[key] = seconds.get(key, 0.0) + (t_next - t)
    return seconds


plan = planned(os.path.join(work, "plan.tsv"))
status = load("status.json")
day = load("day.json")

if status.get("backend") != "windows":
    problems.append(f"status --json backend is {status.get('backend')!r}, expected 'windows'")

db = sqlite3.connect(f"file:{os.path.join(work, 'data', 'dwell.db')}?mode=ro", uri=True)
recorded = dict(db.execute(
    "SELECT coalesce(t.label, '(other)'), sum(s.end - s.start) / 1000.0 "
    "FROM spans s LEFT JOIN sites t ON t.id = s.site GROUP BY 1"))
# Where each site's spans came from: 2 the extension, 5 the Windows watcher.
sources = dict(db.execute(
    "SELECT t.label, group_concat(DISTINCT s.source) FROM spans s JOIN sites t ON t.id = s.site GROUP BY 1"))
db.close()
reported = {s["site"]: s["seconds"] for s in day.get("sites", [])}
SITES = ["discord.com", "facebook.com", "reddit.com"]
for site in SITES:
    want = plan[site]
    got = recorded.get(site, 0.0)
    if abs(got - want) > 1.0:
        problems.append(f"{site}: {got:.2f} s recorded, {want:.2f} s in the plan (±1 s)")
    # The report gives whole seconds.
    if abs(reported.get(site, 0) - want) > 1.5:
        problems.append(f"{site}: {reported.get(site)} s in day --json, {want:.2f} s in the plan")
# The Word trap (and Outlook's mail) would show as more Facebook time or another site.
social = sorted(k for k in recorded if k != "(other)")
if social != SITES:
    problems.append(f"sites recorded: {social}, expected {', '.join(SITES)} only")
if sorted(reported) != SITES:
    problems.append(f"sites in day --json: {sorted(reported)}")
want_sources = {"discord.com": "5", "facebook.com": "5", "reddit.com": "2"}
for site, want in want_sources.items():
    if site in sources and str(sources[site]) != want:
        problems.append(f"{site}: spans from source {sources[site]}, expected {want} "
                        "(2 the extension, 5 the Windows watcher)")

# The extension's way in: the browser named from the host's ancestors (msedge.exe), not
# from the origin (which says "chromium"), connected while status was asked; the host
# answered "on"; it left at the end of its input.
browsers = {b.get("browser"): b.get("connected") for b in status.get("browsers", [])}
if browsers != {"edge": True}:
    problems.append(f"status --json browsers: {status.get('browsers')!r}, expected edge connected")


def frames(raw):
    while len(raw) >= 4:
        (n,) = struct.unpack("=I", raw[:4])
        yield raw[4:4 + n]
        raw = raw[4 + n:]


with open(os.path.join(work, "host.out"), "rb") as f:
    answers = [json.loads(m) for m in frames(f.read())]
if answers[:1] != [{"dwell": "on"}]:
    problems.append(f"dwell-native-host.exe answered {answers!r}, expected {{'dwell': 'on'}} first")
with open(os.path.join(work, "host.log"), encoding="utf-8", errors="replace") as f:
    host_log = f.read()
for line in ("native-messaging host started browser=\"edge\"", "native-messaging host done"):
    if line not in host_log:
        problems.append(f"the host's log has no {line!r}: {host_log.strip()!r}")

# The token, in UTF-8 and UTF-16 (Windows' own strings), in any file dwell wrote or said.
needles = [token.encode(), token.encode("utf-16-le")]
looked = 0
for root, _, files in os.walk(os.path.join(work, "data")):
    for name in files:
        looked += 1
        with open(os.path.join(root, name), "rb") as f:
            raw = f.read()
        if any(n in raw for n in needles):
            problems.append(f"the title token is in the data file {os.path.join(root, name)}")
        if host_token.encode() in raw.lower() or host_token.encode("utf-16-le") in raw.lower():
            problems.append(f"a reported host is in the data file {os.path.join(root, name)}")
outputs = ("agent.log", "agent.out", "status.json", "day.json", "enable.out", "disable.out",
           "host.out", "host.log", "apps.log")
for name in outputs:
    path = os.path.join(work, name)
    if os.path.exists(path):
        with open(path, "rb") as f:
            raw = f.read()
        if any(n in raw for n in needles):
            problems.append(f"the title token is in {name}")
        if name == "agent.log":
            # The agent's log was at debug: the hosts may be there, in debug lines only.
            lines = [l for l in raw.lower().splitlines() if host_token.encode() in l]
            above = [l for l in lines if not l.split(None, 2)[1:2] in ([b"debug"], [b"trace"])]
            if above:
                problems.append(f"a reported host is in {len(above)} line(s) of agent.log above debug: "
                                f"{above[0][:120]!r}")
        elif host_token.encode() in raw.lower() or host_token.encode("utf-16-le") in raw.lower():
            problems.append(f"a reported host is in {name}")
if looked == 0:
    problems.append("the data directory is empty")

if problems:
    sys.exit("tests/windows/check.py: dwell under Wine:\n  " + "\n  ".join(problems))
print(f"dwell-agent under Wine: facebook.com {recorded['facebook.com']:.2f} s "
      f"(plan {plan['facebook.com']:.2f}), discord.com {recorded['discord.com']:.2f} s "
      f"(plan {plan['discord.com']:.2f}), the Word trap, a {plan['locked']:.1f} s lock and "
      f"{plan['idle']:.1f} s away from the keyboard not counted, the title token in none of {looked} data files nor the log; backend windows")
print(f"the browser extension's way in: reddit.com {recorded['reddit.com']:.2f} s from "
      f"dwell-native-host.exe's reports under msedge.exe (plan {plan['reddit.com']:.2f}), "
      "not while the tab was elsewhere or another program had the foreground; the reported "
      "hosts in no data file, output or log line above debug")
