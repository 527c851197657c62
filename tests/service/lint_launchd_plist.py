"""Lints the LaunchAgent template: substitutes sample install paths, parses it with plistlib
(which raises on malformed XML or values) and checks every key and type the agent relies on.

usage: lint_launchd_plist.py SOURCE_DIR
"""
import plistlib
import sys

source_dir = sys.argv[1]
with open(f"{source_dir}/launchd/com.dollhousemcp.telemetry.plist.in", "rb") as f:
    template = f.read()
text = template.replace(b"@BINDIR@", b"/usr/local/bin").replace(b"@HOME@", b"/Users/sample")
assert b"@" not in text, "a placeholder was left in the plist"
plist = plistlib.loads(text)


def expect(condition, message):
    if not condition:
        sys.exit(f"FAIL: {message}")


expect(plist.get("Label") == "com.dollhousemcp.telemetry", "Label")
args = plist.get("ProgramArguments")
expect(isinstance(args, list) and args and all(isinstance(a, str) for a in args),
       "ProgramArguments is a list of strings")
expect(args[0] == "/usr/local/bin/dollhouse-telemetryd", "ProgramArguments[0] is the daemon")
expect(all(not a.startswith("~") for a in args), "no ~ in ProgramArguments")
listeners = plist.get("Sockets", {}).get("Listeners")
expect(isinstance(listeners, dict), "Sockets.Listeners is a dict")
expect(listeners.get("SockPathName", "").startswith("/"), "SockPathName is absolute")
mode = listeners.get("SockPathMode")
expect(isinstance(mode, int) and not isinstance(mode, bool) and mode == 0o600,
       "SockPathMode is the integer 384 (0600)")
expect(plist.get("RunAtLoad") is False, "RunAtLoad is false (on-demand start)")
expect(plist.get("KeepAlive") is False, "KeepAlive is false (on-demand start)")
log = plist.get("StandardErrorPath", "")
expect(log.startswith("/Users/sample/Library/Logs/"), "StandardErrorPath under ~/Library/Logs")
print("OK: launchd plist parses and has the keys and types the agent relies on")
