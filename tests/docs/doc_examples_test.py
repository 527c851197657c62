#!/usr/bin/env python3
"""The C and C++ code examples of docs/clients.md are the files the tests build and run.

Every fenced block of C or C++ (```c, ```cpp) in the page must follow a marker line naming the
file it shows, relative to the source tree:

  <!-- example: tests/integration/client_examples/native_app.cpp -->

and equal that file byte for byte (apart from the final newline). Every file in
tests/integration/client_examples/ must be shown by one block. crash_capture_test compiles and
runs those files, so an example in the page cannot stop compiling or working unnoticed.

Usage: doc_examples_test.py --source DIR
Only the standard library.
"""
import argparse
import os
import re
import sys
import unittest

SOURCE = ""
PAGE = os.path.join("docs", "clients.md")
EXAMPLES = os.path.join("tests", "integration", "client_examples")
CODE_LANGUAGES = {"c", "cpp", "c++", "h", "hpp"}
MARKER = re.compile(r"^<!--\s*example:\s*(\S+)\s*-->\s*$")


def code_blocks(text):
    """(language, marker path or None, body, line number) for every fenced block."""
    blocks = []
    lines = text.split("\n")
    i = 0
    last_marker = None
    while i < len(lines):
        line = lines[i]
        marker = MARKER.match(line)
        if marker:
            last_marker = marker.group(1)
            i += 1
            continue
        if line.startswith("```"):
            language = line[3:].strip().lower()
            start = i + 1
            j = start
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            blocks.append((language, last_marker, "\n".join(lines[start:j]), start))
            last_marker = None
            i = j + 1
            continue
        if line.strip():
            last_marker = None
        i += 1
    return blocks


class ExamplesMatchFiles(unittest.TestCase):
    def setUp(self):
        with open(os.path.join(SOURCE, PAGE), encoding="utf-8") as page:
            self.blocks = code_blocks(page.read())

    def test_every_code_block_names_its_file_and_equals_it(self):
        problems = []
        for language, path, body, line in self.blocks:
            if language not in CODE_LANGUAGES:
                continue
            if path is None:
                problems.append(f"{PAGE}:{line}: a {language} block without an example marker")
                continue
            try:
                with open(os.path.join(SOURCE, path), encoding="utf-8") as f:
                    expected = f.read().rstrip("\n")
            except OSError as e:
                problems.append(f"{PAGE}:{line}: {path}: {e.strerror}")
                continue
            if body.rstrip("\n") != expected:
                problems.append(f"{PAGE}:{line}: the block differs from {path}")
        self.assertFalse(problems, "\n  ".join([""] + problems))

    def test_every_example_file_is_shown_in_the_page(self):
        shown = {os.path.normpath(path) for _, path, _, _ in self.blocks if path}
        files = sorted(os.path.join(EXAMPLES, name)
                       for name in os.listdir(os.path.join(SOURCE, EXAMPLES)))
        missing = [f for f in files if os.path.normpath(f) not in shown]
        self.assertFalse(missing, f"not shown in {PAGE}: {missing}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True)
    args, rest = parser.parse_known_args()
    SOURCE = args.source
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
