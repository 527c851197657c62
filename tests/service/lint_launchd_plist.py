"""Lints a LaunchAgent plist with plistlib (which raises on malformed XML or values) and checks
every key and type the agent relies on.

usage: lint_launchd_plist.py template SOURCE_DIR
         the template in the source tree, with sample install paths substituted
       lint_launchd_plist.py installed PLIST HOME
         a plist `dollhousectl service install --manager launchd` wrote for HOME
"""
import plistlib
import sys


def expect(condition, message):
    if not condition:
        sys.exit(f"FAIL: {message}")


mode_name = sys.argv[1]
if mode_name == "template":
    with open(f"{sys.argv[2]}/launchd/com.dollhousemcp.telemetry.plist.in", "rb") as f:
        template = f.read()
    home = "/Users/sample"
    text = (template.replace(b"@BINDIR@", b"/usr/local/bin")
            .replace(b"@DATA_ROOT@", b"/Users/sample/.dollhouse")
            .replace(b"@SOCKET@", b"/Users/sample/.dollhouse/run/telemetry.sock")
            .replace(b"@HOME@", home.encode()))
    expect(b"@" not in text, "every placeholder is substituted")
    daemon = "/usr/local/bin/dollhouse-telemetryd"
elif mode_name == "installed":
    with open(sys.argv[2], "rb") as f:
        text = f.read()
    home = sys.argv[3]
    daemon = None
else:
    sys.exit(__doc__)

plist = plistlib.loads(text)
expect(plist.get("Label") == "com.dollhousemcp.telemetry", "Label")
args = plist.get("ProgramArguments")
expect(isinstance(args, list) and args and all(isinstance(a, str) for a in args),
       "ProgramArguments is a list of strings")
expect(args[0].startswith("/") and args[0].endswith("/dollhouse-telemetryd"),
       "ProgramArguments[0] is the daemon, by absolute path")
if daemon:
    expect(args[0] == daemon, f"ProgramArguments[0] is {daemon}")
expect(all("~" not in a and "$" not in a for a in args), "no ~ or $ in ProgramArguments")
expect("--home" in args and args[args.index("--home") + 1].startswith("/"),
       "--home is given an absolute data root")
listeners = plist.get("Sockets", {}).get("Listeners")
expect(isinstance(listeners, dict), "Sockets.Listeners is a dict")
expect(listeners.get("SockPathName", "").startswith("/"), "SockPathName is absolute")
mode = listeners.get("SockPathMode")
expect(isinstance(mode, int) and not isinstance(mode, bool) and mode == 0o600,
       "SockPathMode is the integer 384 (0600)")
expect(plist.get("RunAtLoad") is False, "RunAtLoad is false (on-demand start)")
expect(plist.get("KeepAlive") is False, "KeepAlive is false (on-demand start)")
umask = plist.get("Umask")
expect(isinstance(umask, int) and umask == 0o077, "Umask is 63 (077)")
log = plist.get("StandardErrorPath", "")
expect(log.startswith(f"{home}/Library/Logs/"), "StandardErrorPath under ~/Library/Logs")
print(f"OK: the {mode_name} launchd plist parses and has the keys and types the agent relies on")
