#!/usr/bin/env python3
"""`dollhousectl telemetry consent` answered as a person at a terminal answers it.

Starts a real dollhouse-telemetryd per test (its own data root and socket in a temporary
directory, uploads pointed at a loopback port where nothing listens), puts events in its queue
through protocol v1 over the socket, and runs dollhousectl on a pseudo-terminal: it waits for
each question and types the answer, Enter or Ctrl-D. Without a terminal, standard input is
/dev/null.

Usage: consent_prompt_test.py DOLLHOUSECTL DOLLHOUSE_TELEMETRYD
Only the standard library.
"""
import json
import os
import pty
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

CTL = ""
DAEMON = ""

REFUSED_ENDPOINT = "http://127.0.0.1:9/api/v1/telemetry"
KEEP_QUESTION = "? [Y/n] "
FIRST_QUESTION = "? [y/N] "
UNCLEAR = "Please answer y (yes) or n (no)."
CRASH = {"eventType": "crash", "errorType": "runtime", "errorCategory": "EPIPE",
         "errorMessage": "pipe closed", "component": "MCPServer", "recovered": False}
TIMEOUT = 30.0


def base_env(home):
    """PATH, HOME and sanitizer settings only: no kill switch or CI variable of this machine."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
           "DOLLHOUSE_TELEMETRY_ENDPOINT": REFUSED_ENDPOINT}
    for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TZ"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


class Daemon:
    """A dollhouse-telemetryd with its own data root and socket; stopped with SIGTERM."""

    def __init__(self):
        # Under /tmp so the socket path stays well below the sun_path limit.
        self.dir = tempfile.mkdtemp(prefix="dh-prompt-", dir="/tmp")
        self.root = os.path.join(self.dir, "root")
        self.socket = os.path.join(self.dir, "telemetry.sock")
        self.home = os.path.join(self.dir, "home")
        os.mkdir(self.home, 0o700)
        self.env = base_env(self.home)
        self.log = open(os.path.join(self.dir, "daemon.stderr"), "w+b")
        self.process = subprocess.Popen(
            [DAEMON, "--home", self.root, "--socket", self.socket, "--log-level", "debug"],
            env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + TIMEOUT
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the daemon did not start: " + self.stderr())
            time.sleep(0.01)

    def _answers(self):
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(self.socket)
            return True
        except OSError:
            return False

    def stderr(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def ctl_args(self, *args):
        return [CTL, "--home", self.root, "--socket", self.socket, "--no-start"] + list(args)

    def ctl(self, *args):
        """dollhousectl with standard input from /dev/null (no terminal)."""
        return subprocess.run(self.ctl_args(*args), env=self.env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=TIMEOUT)

    def status(self):
        r = self.ctl("telemetry", "status", "--json")
        if r.returncode != 0:
            raise AssertionError("status failed: " + r.stderr)
        return json.loads(r.stdout)


class AppClient:
    """An app speaking protocol v1 over the daemon's socket."""

    def __init__(self, daemon, app="demo-app"):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(daemon.socket)
        self.buffer = b""
        self.next_id = 1
        reply = self.request({"op": "hello", "app": app, "appVersion": "1.2.3"})
        if not reply.get("ok"):
            raise AssertionError("hello refused: %r" % reply)

    def request(self, body):
        body = dict(body, v=1, id=self.next_id)
        self.next_id += 1
        self.sock.sendall((json.dumps(body) + "\n").encode())
        while True:
            while b"\n" not in self.buffer:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise AssertionError("the daemon closed the connection")
                self.buffer += chunk
            line, self.buffer = self.buffer.split(b"\n", 1)
            reply = json.loads(line)
            if reply.get("id") == body["id"]:
                return reply

    def track_crashes(self, n):
        for i in range(n):
            event = dict(CRASH, errorMessage="pipe closed %d" % i)
            reply = self.request({"op": "track", "event": event})
            if reply.get("accepted") is not True:
                raise AssertionError("event not accepted: %r" % reply)

    def close(self):
        self.sock.close()


class Terminal:
    """dollhousectl on a pseudo-terminal: what it prints, and keys typed as answers."""

    def __init__(self, daemon, *args):
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(daemon.ctl_args(*args), env=daemon.env, stdin=slave,
                                        stdout=slave, stderr=slave, close_fds=True,
                                        start_new_session=True)
        os.close(slave)
        self.output = ""

    def _read(self, deadline):
        """Reads what is there until `deadline`; False once the terminal is closed."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return True
        ready, _, _ = select.select([self.master], [], [], remaining)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: every process holding the terminal has ended
            return False
        if not data:
            return False
        self.output += data.decode(errors="replace").replace("\r\n", "\n")
        return True

    def wait_for(self, text, count=1):
        """Waits until `text` has been printed `count` times."""
        deadline = time.monotonic() + TIMEOUT
        while self.output.count(text) < count:
            if time.monotonic() > deadline or not self._read(deadline):
                raise AssertionError("never printed %r (%d times); printed:\n%s"
                                     % (text, count, self.output))

    def type(self, keys):
        os.write(self.master, keys.encode())

    def finish(self):
        """Reads to the end and returns the exit code."""
        deadline = time.monotonic() + TIMEOUT
        while self._read(deadline) and time.monotonic() < deadline:
            pass
        try:
            code = self.process.wait(TIMEOUT)
        finally:
            os.close(self.master)
        return code


class ConsentPrompt(unittest.TestCase):
    def setUp(self):
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.stop()

    def daemon(self):
        d = Daemon()
        self.daemons.append(d)
        return d

    def consented_with_queue(self, events=3):
        """A daemon with consent given and `events` crash reports queued, unsent."""
        d = self.daemon()
        r = d.ctl("telemetry", "enable")
        self.assertEqual(r.returncode, 0, r.stderr)
        app = AppClient(d)
        app.track_crashes(events)
        app.close()
        status = d.status()
        self.assertEqual(status["consent"]["state"], "given")
        self.assertEqual(status["queue"]["pending"], events)
        return d, status

    def assert_kept_on(self, d, before, output):
        self.assertIn("Kept your choice: telemetry stays on.", output)
        self.assertNotIn("Telemetry stays off", output)
        self.assertNotIn("Changed", output)
        after = d.status()
        self.assertEqual(after["consent"]["state"], "given")
        self.assertTrue(after["enabled"])
        self.assertEqual(after["consent"]["timestamp"], before["consent"]["timestamp"])
        self.assertEqual(after["queue"]["pending"], before["queue"]["pending"])

    # --- an earlier yes, asked whether to keep it ----------------------------------------------

    def test_enter_keeps_an_earlier_yes_and_the_queued_events(self):
        d, before = self.consented_with_queue()
        t = Terminal(d, "telemetry", "consent")
        t.wait_for(KEEP_QUESTION)
        self.assertIn("Your current choice: on: you said yes", t.output)
        t.type("\n")
        self.assertEqual(t.finish(), 0, t.output)
        self.assert_kept_on(d, before, t.output)

    def test_end_of_input_keeps_an_earlier_yes(self):
        d, before = self.consented_with_queue()
        t = Terminal(d, "telemetry", "consent")
        t.wait_for(KEEP_QUESTION)
        t.type("\x04")  # Ctrl-D at the start of a line: end of input
        self.assertEqual(t.finish(), 0, t.output)
        self.assert_kept_on(d, before, t.output)

    def test_no_terminal_keeps_an_earlier_yes_and_changes_nothing(self):
        d, before = self.consented_with_queue()
        r = d.ctl("telemetry", "consent")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Never collected", r.stdout)
        self.assert_kept_on(d, before, r.stdout)

    def test_unclear_answers_ask_again_and_the_third_answer_counts(self):
        d, before = self.consented_with_queue()
        t = Terminal(d, "telemetry", "consent")
        t.wait_for(KEEP_QUESTION)
        t.type("maybe\n")
        t.wait_for(KEEP_QUESTION, 2)
        t.type("maybe\n")
        t.wait_for(KEEP_QUESTION, 3)
        t.type("n\n")
        self.assertEqual(t.finish(), 0, t.output)
        self.assertEqual(t.output.count(UNCLEAR), 2, t.output)
        self.assertIn("Deleted 3 queued events that had not been sent.", t.output)
        self.assertIn("Changed: telemetry is now off.", t.output)
        after = d.status()
        self.assertEqual(after["consent"]["state"], "withdrawn")
        self.assertFalse(after["enabled"])
        self.assertEqual(after["queue"]["pending"], 0)
        show = d.ctl("telemetry", "show", "--json")
        self.assertEqual(json.loads(show.stdout), [], "no unsent event outlives a withdrawal")

    def test_three_unclear_answers_change_nothing(self):
        d, before = self.consented_with_queue()
        t = Terminal(d, "telemetry", "consent")
        for i in range(1, 4):
            t.wait_for(KEEP_QUESTION, i)
            t.type("maybe\n")
        self.assertEqual(t.finish(), 0, t.output)
        self.assertEqual(t.output.count(KEEP_QUESTION), 3, t.output)
        self.assertEqual(t.output.count(UNCLEAR), 3, t.output)
        self.assert_kept_on(d, before, t.output)

    # --- before any answer ---------------------------------------------------------------------

    def test_before_any_answer_yes_gives_consent_and_no_declines(self):
        d = self.daemon()
        self.assertEqual(d.status()["consent"]["state"], "not_answered")
        t = Terminal(d, "telemetry", "consent")
        t.wait_for(FIRST_QUESTION)
        t.type("y\n")
        self.assertEqual(t.finish(), 0, t.output)
        self.assertIn("Thank you: telemetry is on.", t.output)
        status = d.status()
        self.assertEqual(status["consent"]["state"], "given")
        self.assertTrue(status["enabled"])
        self.assertIsNotNone(status["installId"])

        fresh = self.daemon()
        t = Terminal(fresh, "telemetry", "consent")
        t.wait_for(FIRST_QUESTION)
        t.type("n\n")
        self.assertEqual(t.finish(), 0, t.output)
        self.assertIn("You declined: nothing is collected.", t.output)
        status = fresh.status()
        self.assertEqual(status["consent"]["state"], "declined")
        self.assertFalse(status["enabled"])
        self.assertIsNone(status["installId"])

    def test_no_terminal_before_any_answer_records_nothing(self):
        d = self.daemon()
        r = d.ctl("telemetry", "consent")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("nothing recorded", r.stdout)
        status = d.status()
        self.assertEqual(status["consent"]["state"], "not_answered")
        self.assertFalse(status["enabled"])
        self.assertIsNone(status["consent"]["timestamp"])


def main():
    global CTL, DAEMON
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    CTL, DAEMON = sys.argv[1], sys.argv[2]
    program = unittest.main(argv=[sys.argv[0]] + sys.argv[3:], exit=False, verbosity=2)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
