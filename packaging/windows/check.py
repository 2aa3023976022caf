"""dwell's Windows packages: the zip made, and both packages judged
(packaging/windows/package.sh).

    check.py zip STAGE ZIP NAME
        writes ZIP: NAME/ holding every file of STAGE.
    check.py check STAGE MSI ZIP NAME VERSION MSI_VERSION DIR APP_ID
        judges the MSI from msiinfo's exports in DIR (suminfo, tables, TABLE.idt,
        Icon/, extracted/), the zip, and what packaging/windows/wine-check.sh saw under
        Wine (DIR/before, installed, removed). APP_ID: dwell's AppUserModelID, which
        the MSI registers for the toasts. Says every problem, exits 1 if any.
"""

import os
import re
import sys
import zipfile

# What both packages hold, by name.
FILES = ["dwell-agent.exe", "dwell-agent-background.exe", "dwell-report.exe",
         "dwell-native-host.exe", "LICENSE.txt", "dwell.ico"]
# Built for the windows subsystem (no console window at log-in), the rest for the console.
WINDOWLESS = {"dwell-agent-background.exe"}
INSTALLED = "./AppData/Local/Programs/dwell"
MENU = "./AppData/Roaming/Microsoft/Windows/Start Menu/Programs"
SHORTCUTS = {
    # Start-menu entry: (its target in the Shortcut table, a part of its
    # arguments, what the installed .lnk must name)
    "dwell": ("[INSTALLDIR]dwell-report.exe", "week --format html --open", "dwell-report.exe"),
    "dwell setup": ("[%ComSpec]", '/k ""[INSTALLDIR]dwell-agent.exe" setup"', "cmd.exe"),
}
RUN_KEY = r"Software\\Microsoft\\Windows\\CurrentVersion\\Run"
# Where an unpackaged app's AppUserModelID gets its name and icon (HKCU).
APP_ID_KEY = "Software\\Classes\\AppUserModelId\\"

problems = []


def fail(text):
    problems.append(text)
    print(f"  FAIL: {text}", file=sys.stderr)


def read(path, encoding="utf-8"):
    with open(path, "rb") as f:
        return f.read().decode(encoding, errors="replace")


def make_zip(stage, path, name):
    tmp = path + ".part"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for f in FILES:
            z.write(os.path.join(stage, f), f"{name}/{f}")
    os.replace(tmp, path)


def idt(dir, table):
    """Rows of an exported table as dicts (msiinfo export: names, types, keys, rows)."""
    path = os.path.join(dir, f"{table}.idt")
    if not os.path.exists(path):
        return None
    lines = read(path, "cp1252").split("\r\n")
    names = lines[0].split("\t")
    return [dict(zip(names, line.split("\t"))) for line in lines[3:] if line]


def long_name(field):
    """`SHORT~1.EXE|long name.exe` or `name`: the long one."""
    return field.split("|")[-1]


def same_bytes(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def subsystem(path):
    """A PE file's subsystem: 2 windows (no console), 3 console, None if not PE."""
    with open(path, "rb") as f:
        data = f.read(4096)
    if data[:2] != b"MZ" or len(data) < 0x40:
        return None
    pe = int.from_bytes(data[0x3C:0x40], "little")
    # "PE\0\0", the 20-byte COFF header, then the optional header: Subsystem at 68.
    at = pe + 4 + 20 + 68
    if data[pe:pe + 4] != b"PE\0\0" or len(data) < at + 2:
        return None
    return int.from_bytes(data[at:at + 2], "little")


def check_msi(stage, icon, msi_version, dir, app_id):
    before = len(problems)
    tables = read(os.path.join(dir, "tables")).split()
    suminfo = read(os.path.join(dir, "suminfo"))
    # The word count (msiinfo: Source) 10: compressed (2), no elevation (8: per-user).
    words = re.search(r"^Source: (\d+)", suminfo, re.M)
    if not words or int(words.group(1)) != 10:
        fail(f"the summary does not say compressed and per-user (no privileges): {words and words.group(0)}")
    if not re.search(r"^Template: x64;1033$", suminfo, re.M):
        fail("the summary's Template is not x64;1033")

    props = {r["Property"]: r["Value"] for r in idt(dir, "Property") or []}
    if props.get("ProductVersion") != msi_version:
        fail(f"ProductVersion is {props.get('ProductVersion')!r}, not {msi_version}")
    if props.get("ProductName") != "dwell":
        fail(f"ProductName is {props.get('ProductName')!r}")
    if "ALLUSERS" in props:
        fail(f"ALLUSERS is set ({props['ALLUSERS']}): the MSI would install for every user")
    if props.get("ARPPRODUCTICON") != "dwell.ico":
        fail("no icon for Add/Remove Programs (ARPPRODUCTICON)")
    icons = [r["Name"] for r in idt(dir, "Icon") or []]
    if icons != ["dwell.ico"]:
        fail(f"the Icon table holds {icons}, not dwell.ico")
    elif not same_bytes(os.path.join(dir, "Icon", "Icon.dwell.ico"), icon):
        fail("the MSI's dwell.ico is not the one made from packaging/org.dwell.Dwell.svg")

    files = {long_name(r["FileName"]): r for r in idt(dir, "File") or []}
    if sorted(files) != sorted(FILES):
        fail(f"the MSI holds {sorted(files)}, expected {sorted(FILES)}")
    dirs = {r["Directory"]: r for r in idt(dir, "Directory") or []}
    chain, d = [], "INSTALLDIR"
    while d in dirs and d != "LocalAppDataFolder":
        chain.append(long_name(dirs[d]["DefaultDir"]))
        d = dirs[d]["Directory_Parent"]
    if d != "LocalAppDataFolder" or chain != ["dwell", "Programs"]:
        fail(f"the programs do not go to %LOCALAPPDATA%\\Programs\\dwell: {chain}")
    for f in FILES:
        got = os.path.join(dir, "extracted", "Programs", "dwell", f)
        if not os.path.exists(got):
            fail(f"msiextract found no {f} in the MSI")
        elif not same_bytes(got, os.path.join(stage, f)):
            fail(f"{f} in the MSI is not the one built")
        elif f.endswith(".exe"):
            want = 2 if f in WINDOWLESS else 3
            if subsystem(got) != want:
                fail(f"{f} is built for PE subsystem {subsystem(got)}, not {want} "
                     f"({'windows: no console' if want == 2 else 'console'})")

    shortcuts = {r["Name"]: r for r in idt(dir, "Shortcut") or []}
    for label, (target, args, _) in SHORTCUTS.items():
        s = shortcuts.get(label)
        if not s:
            fail(f"no Start-menu entry {label!r} (has {sorted(shortcuts)})")
            continue
        if s["Directory_"] != "ProgramMenuFolder":
            fail(f"the entry {label!r} is not in the Start menu")
        if s["Target"] != target or args not in s["Arguments"] or s["Icon_"] != "dwell.ico":
            fail(f"the entry {label!r} runs {s['Target']} {s['Arguments']} (icon {s['Icon_']!r})")
    if len(shortcuts) != len(SHORTCUTS):
        fail(f"Start-menu entries: {sorted(shortcuts)}")

    # Installing starts nothing and records nothing: no registry value but the
    # toasts' name and icon (the Run value is dwell-agent install's), no
    # services, no custom actions.
    for table in ["ServiceInstall", "CustomAction", "RemoveRegistry"]:
        if table in tables and idt(dir, table):
            fail(f"the MSI has a {table} table: installing must start nothing")
    registry = sorted((r["Root"], r["Key"], r["Name"], r["Value"], r["Component_"])
                      for r in idt(dir, "Registry") or [])
    key = APP_ID_KEY + app_id
    want = [("1", key, "DisplayName", "dwell", "AppUserModelId"),
            ("1", key, "IconUri", "[INSTALLDIR]dwell.ico", "AppUserModelId")]
    if registry != want:
        fail(f"the Registry table is not just dwell's AppUserModelID under HKCU: {registry}")
    comps = {r["Component"]: r for r in idt(dir, "Component") or []}
    appid = comps.get("AppUserModelId", {})
    if not appid.get("KeyPath", "").startswith("reg") or not int(appid.get("Attributes", "0")) & 4:
        fail(f"the AppUserModelID's component is not kept by its registry value: {appid}")
    # The "dwell" entry carries the AppUserModelID (added by msibuild: wixl cannot).
    props = sorted((r["Shortcut_"], r["PropertyKey"], r["PropVariantValue"])
                   for r in idt(dir, "MsiShortcutProperty") or [])
    if props != [("ReportShortcut", "System.AppUserModel.ID", app_id)]:
        fail(f"the MsiShortcutProperty table does not give the dwell entry {app_id}: {props}")
    # "=-PATH": set at install, taken back at uninstall ("-"), the user's ("*" is
    # the system's); "[~];": appended to what is there.
    env = idt(dir, "Environment") or []
    if [(e["Name"], e["Value"]) for e in env] != [("=-PATH", "[~];[INSTALLDIR]")]:
        fail(f"the Environment table is not the user's PATH, added to: {env}")
    if len(problems) == before:
        print(f"  MSI: per-user, version {msi_version}, {len(files)} files, "
              f"{len(shortcuts)} Start-menu entries, the AppUserModelID {app_id} "
              f"(HKCU, and on the dwell entry), no other registry value, no custom action")


def check_zip(stage, path, name):
    with zipfile.ZipFile(path) as z:
        names = sorted(z.namelist())
        want = sorted(f"{name}/{f}" for f in FILES)
        if names != want:
            fail(f"the zip holds {names}, expected {want}")
        for f in FILES:
            with open(os.path.join(stage, f), "rb") as built:
                if f"{name}/{f}" in names and z.read(f"{name}/{f}") != built.read():
                    fail(f"{f} in the zip is not the one built")
        bad = z.testzip()
        if bad:
            fail(f"the zip's {bad} is damaged")
    print(f"  zip: {len(names)} files in {name}/")


def reg_section(text, key):
    """The values of one key in a Wine registry file (user.reg), as text."""
    m = re.search(r"^\[" + re.escape(key) + r"\][^\n]*\n(.*?)(?:\n\n|\Z)", text, re.M | re.S | re.I)
    return m.group(1) if m else ""


def check_wine(version, dir, app_id):
    before = len(problems)
    phase = {}
    for p in ["before", "installed", "removed"]:
        phase[p] = {
            "home": read(os.path.join(dir, p, "home.list")).splitlines(),
            "reg": read(os.path.join(dir, p, "user.reg")),
            "arp": read(os.path.join(dir, p, "uninstaller.list")),
        }
    rc = read(os.path.join(dir, "install.rc")).strip()
    if rc != "0":
        fail(f"msiexec /i /qn exited {rc} (log: {dir}/install.log)")
    home = set(phase["installed"]["home"])
    for f in FILES:
        if f"{INSTALLED}/{f}" not in home:
            fail(f"after installing, no %LOCALAPPDATA%\\Programs\\dwell\\{f}")
    for label, (_, _, target) in SHORTCUTS.items():
        lnk = f"{MENU}/{label}.lnk"
        if lnk not in home:
            fail(f"after installing, no Start-menu entry {label}.lnk")
            continue
        # A shell link names its target in ANSI or UTF-16; wine-check.sh kept a copy.
        with open(os.path.join(dir, "installed", f"{label}.lnk"), "rb") as f:
            raw = f.read().lower()
        if target.encode() not in raw and target.encode("utf-16-le") not in raw:
            fail(f"the Start-menu entry {label}.lnk does not start {target}")
    for data in ["./AppData/Local/dwell", "./AppData/Roaming/dwell"]:
        if data in home:
            fail(f"installing created {data}: nothing may be recorded before setup")
    if "dwell" not in phase["installed"]["arp"]:
        fail("after installing, Add/Remove Programs (wine uninstaller --list) has no dwell")
    for p in ["before", "installed", "removed"]:
        run = reg_section(phase[p]["reg"], RUN_KEY)
        if "dwell" in run.lower():
            fail(f"{p}: the Run key names dwell: installing must start nothing")
    # `wine reg query` of the AppUserModelID: absent, there with dwell's name and
    # icon, gone.
    for p, there in [("before", False), ("installed", True), ("removed", False)]:
        rc = read(os.path.join(dir, p, "app-id.rc")).strip()
        out = read(os.path.join(dir, p, "app-id.out"))
        if there and (rc != "0" or not re.search(r"DisplayName\s+REG_SZ\s+dwell\s*$", out, re.M)
                      or not re.search(r"IconUri\s+REG_SZ\s+\S.*\\dwell\.ico\s*$", out, re.M | re.I)):
            fail(f"after installing, the AppUserModelID {app_id} has not dwell's name and icon: {out.strip()!r}")
        if not there and rc == "0":
            fail(f"{p}: the AppUserModelID {app_id} is registered: {out.strip()!r}")
    path = reg_section(phase["installed"]["reg"], "Environment")
    if "programs\\\\dwell" not in path.lower():
        fail("after installing, the user's PATH does not hold the programs' directory")

    out = read(os.path.join(dir, "version.out")).strip()
    if read(os.path.join(dir, "version.rc")).strip() != "0" or out != f"dwell-agent {version}":
        fail(f"the installed dwell-agent.exe --version said {out!r} "
             f"({read(os.path.join(dir, 'version.err')).strip()[:300]!r})")

    rc = read(os.path.join(dir, "uninstall.rc")).strip()
    if rc != "0":
        fail(f"msiexec /x /qn exited {rc} (log: {dir}/uninstall.log)")
    left = [p for p in phase["removed"]["home"] if "dwell" in p.lower()]
    if left:
        fail(f"after uninstalling, still there: {left}")
    if "dwell" in phase["removed"]["arp"]:
        fail("after uninstalling, Add/Remove Programs still lists dwell")
    if "programs\\\\dwell" in reg_section(phase["removed"]["reg"], "Environment").lower():
        fail("after uninstalling, the user's PATH still holds the programs' directory")
    if len(problems) == before:
        print(f"  Wine: installed ({len(FILES)} files, {len(SHORTCUTS)} Start-menu entries, "
              f"Add/Remove Programs, PATH, the AppUserModelID), {out!r}, uninstalled with nothing left")


def main(argv):
    if argv[1] == "zip":
        make_zip(*argv[2:5])
        return 0
    stage, msi, zip_path, name, version, msi_version, dir, app_id = argv[2:10]
    print(f"==> checking {msi} and {zip_path}")
    check_msi(stage, os.path.join(os.path.dirname(msi), "dwell.ico"), msi_version, dir, app_id)
    check_zip(stage, zip_path, name)
    check_wine(version, dir, app_id)
    if problems:
        print(f"scripts/package --check --windows: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"==> Windows packages ok: {msi}, {zip_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
