#!/usr/bin/env python3
"""The flag tables of the docs agree with what the programs say in --help.

For each program it runs `--help` (for dollhousectl also every subcommand's, found by walking
the "Subcommands:" lists), reads the options CLI11 lists and the defaults CLI11 prints, and
compares them with the doc's table:

  dollhouse-telemetryd        docs/daemon.md  table | option | default | meaning |
  dollhouse-telemetry-server  docs/server.md  table | option | default | meaning |
  dollhousectl                docs/cli.md     table | command | flag | default | meaning |
                              docs/daemon.md  table | command | flags | what it does |

A test fails, naming the doc, the command and the flag, when a flag is documented but --help
does not list it, listed but not documented, documented with a value where it takes none (or
the other way round), or documented with another default than --help prints. `-h,--help` and
`--version` are left out: every program has them.

Table rules (docs/cli.md says the same for people who edit it):
- a flag cell holds code spans such as `--limit N`, `--json`, `-o FILE`; a word after the flag
  name means the flag takes a value. A row names every spelling of one option (`--output FILE`,
  `-o FILE`), or several options in the `flags` column of the command table;
- a default cell starts with the default in a code span (`20`), or with a range of numbers
  (`2`–`4`) when the default depends on the machine, or holds `—` or prose when --help prints
  no default. Only defaults that --help prints are compared;
- a command cell is one code span: the command's words, then its positional arguments in
  capitals, optional ones in brackets (`dollhousectl telemetry config get [KEY]`).

Usage: doc_tables_test.py --docs DIR --daemon PATH --server PATH --ctl PATH
Only the standard library.
"""
import argparse
import os
import re
import subprocess
import sys
import unittest

DOCS = ""
DAEMON = ""
SERVER = ""
CTL = ""

# Options every program has; not repeated in the tables.
UNIVERSAL = {"-h", "--help", "--version"}
EN_DASH = "\u2013"


# ---------------------------------------------------------------------------------------------
# --help, as CLI11 prints it

class Option:
    """One option of a --help page: its spellings, whether it takes a value, its default."""

    def __init__(self, names, takes_value, default):
        self.names = names  # e.g. ["-o", "--output"]
        self.takes_value = takes_value
        self.default = default  # the text CLI11 printed, or None

    @property
    def key(self):
        longs = [n for n in self.names if n.startswith("--")]
        return longs[0] if longs else self.names[0]


class HelpPage:
    def __init__(self):
        self.options = {}  # key -> Option, universal ones left out
        self.positionals = []  # (name, required)
        self.subcommands = []


def _split_at_depth_zero(text, char):
    """Index of the first `char` outside [] and {}, or -1."""
    depth = 0
    for i, c in enumerate(text):
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        elif c == char and depth == 0:
            return i
    return -1


def parse_option_spec(spec, description):
    """Parses `--limit INT:INT in [1 - 10000]=20` (and the older `TEXT [20]` and the newer
    `Default: 20` forms) into an Option."""
    names_text, _, rest = spec.partition(" ")
    names = [n for n in names_text.split(",") if n]
    # What follows the type: constraints between options, not part of it.
    rest = re.split(r"(?:^|\s+)(?:Excludes:|Needs:|REQUIRED\b|\(Env:)", rest, maxsplit=1)[0].strip()
    default = None
    at = _split_at_depth_zero(rest, "=")
    if at >= 0:
        default = rest[at + 1:].strip()
        rest = rest[:at]
    else:
        old_style = re.search(r"(?<! in) \[([^\]]*)\]$", rest)
        if old_style:
            default = old_style.group(1)
            rest = rest[:old_style.start()]
    if default is None:
        newer = re.search(r"(?:^|\s)Default: ?(\S+)", description)
        if newer:
            default = newer.group(1)
    return Option(names, bool(rest.strip()), default)


def parse_help(text):
    """The options, positionals and subcommands of one CLI11 --help page."""
    page = HelpPage()
    section = None
    items = []  # (section, spec, description)
    for line in text.splitlines():
        if re.match(r"^\S.*:$", line):
            section = line[:-1].strip()
            continue
        if section is None or not line.strip():
            continue
        if re.match(r"^  \S", line):
            # The item, then its description after two or more spaces (or on the next lines).
            spec, description = (re.split(r"\s{2,}", line.strip(), maxsplit=1) + [""])[:2]
            items.append([section, spec, description])
        elif items:
            items[-1][2] = (items[-1][2] + " " + line.strip()).strip()
    for section, spec, description in items:
        if section == "Options":
            option = parse_option_spec(spec, description)
            if not set(option.names) <= UNIVERSAL:
                page.options[option.key] = option
        elif section == "Positionals":
            page.positionals.append((spec.split()[0], " REQUIRED" in f" {spec} "))
        elif section == "Subcommands":
            page.subcommands.append(spec.split()[0])
    return page


def run_help(program, words):
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}
    result = subprocess.run([program, *words, "--help"], capture_output=True, text=True,
                            timeout=30, env=env)
    if result.returncode != 0:
        raise AssertionError(f"`{os.path.basename(program)} {' '.join(words)} --help` exited "
                             f"{result.returncode}: {result.stderr.strip()}")
    return parse_help(result.stdout)


def command_tree(program):
    """Every command of `program` (as a tuple of words, () for the program itself) and its
    help page."""
    pages = {}
    todo = [()]
    while todo:
        words = todo.pop()
        page = run_help(program, list(words))
        pages[words] = page
        todo.extend(words + (name,) for name in page.subcommands)
    return pages


# ---------------------------------------------------------------------------------------------
# Markdown tables

def split_row(line):
    """Cells of one table row; `\\|` is a pipe inside a cell."""
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    cells = re.split(r"(?<!\\)\|", body)
    return [c.strip().replace("\\|", "|") for c in cells]


def find_table(path, header):
    """The rows (lists of cells) of the table in `path` whose header row is `header`, with the
    line number of each row."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith("|") and split_row(line) == header:
            rows = []
            for j in range(i + 2, len(lines)):
                if not lines[j].strip().startswith("|"):
                    break
                rows.append((j + 1, split_row(lines[j])))
            return rows
    raise AssertionError(f"{path}: no table with the header | {' | '.join(header)} |")


def code_spans(cell):
    return re.findall(r"`([^`]+)`", cell)


class DocFlag:
    def __init__(self, name, takes_value):
        self.name = name
        self.takes_value = takes_value


def parse_flag_spans(cell):
    """`--limit N`, `-o FILE`, `--json` in a cell, in order; other code spans are ignored."""
    flags = []
    for span in code_spans(cell):
        m = re.match(r"^(--?[A-Za-z0-9][A-Za-z0-9-]*)(?:[ =](\S.*))?$", span.strip())
        if m:
            flags.append(DocFlag(m.group(1), m.group(2) is not None))
    return flags


def parse_default_cell(cell):
    """("value", text) for `20` at the start, ("range", (low, high)) for `2`–`4`, or
    ("none", None) for — or prose."""
    text = cell.strip()
    m = re.match(r"^`(-?\d+)`\s*[" + EN_DASH + r"-]\s*`(-?\d+)`", text)
    if m:
        return "range", (int(m.group(1)), int(m.group(2)))
    m = re.match(r"^`([^`]*)`", text)
    if m:
        return "value", m.group(1)
    return "none", None


def parse_command_cell(cell, program):
    """(words, positionals) of `dollhousectl telemetry config set KEY VALUE`; positionals are
    (NAME, required)."""
    spans = code_spans(cell)
    if len(spans) != 1:
        raise AssertionError(f"a command cell holds one code span, not {cell!r}")
    tokens = spans[0].split()
    if not tokens or tokens[0] != program:
        raise AssertionError(f"a command cell starts with `{program}`, not {cell!r}")
    words, positionals = [], []
    for token in tokens[1:]:
        optional = token.startswith("[") and token.endswith("]")
        name = token.strip("[]")
        if positionals or optional or name.isupper():
            positionals.append((name, not optional))
        else:
            words.append(token)
    return tuple(words), positionals


# ---------------------------------------------------------------------------------------------
# Comparisons

def describe_command(program, words):
    return " ".join([program, *words])


def compare_flags(where, command, help_page, doc_rows, check_defaults):
    """Problems between the options of one help page and the flags documented for it.
    `doc_rows` is a list of (line, [DocFlag...], default cell or None)."""
    problems = []
    documented = {}
    for line, flags, default_cell in doc_rows:
        for flag in flags:
            option = next((o for o in help_page.options.values() if flag.name in o.names), None)
            if option is None:
                if flag.name not in UNIVERSAL:
                    problems.append(f"{where}:{line}: {flag.name} is documented for `{command}`, "
                                    f"but `{command} --help` does not list it")
                continue
            documented.setdefault(option.key, []).append(flag.name)
            if flag.takes_value != option.takes_value:
                problems.append(
                    f"{where}:{line}: {flag.name} of `{command}` "
                    + ("takes a value, but the doc shows it without one"
                       if option.takes_value else
                       "is a flag without a value, but the doc shows a value after it"))
            if check_defaults and default_cell is not None and option.default is not None:
                kind, value = parse_default_cell(default_cell)
                if kind == "none":
                    problems.append(f"{where}:{line}: {flag.name} of `{command}`: --help prints "
                                    f"the default `{option.default}`; the doc's default cell "
                                    f"should start with it (found {default_cell!r})")
                elif kind == "value" and value != option.default:
                    problems.append(f"{where}:{line}: {flag.name} of `{command}`: documented "
                                    f"default `{value}`, but --help prints `{option.default}`")
                elif kind == "range":
                    low, high = value
                    try:
                        shown = int(option.default)
                    except ValueError:
                        shown = None
                    if shown is None or not low <= shown <= high:
                        problems.append(
                            f"{where}:{line}: {flag.name} of `{command}`: documented default "
                            f"`{low}`{EN_DASH}`{high}`, but --help prints `{option.default}`")
    for key, option in help_page.options.items():
        if key not in documented:
            spelled = ",".join(option.names)
            problems.append(f"{where}: `{command} --help` lists {spelled}, which is not "
                            f"documented")
        else:
            missing = [n for n in option.names if n not in documented[key]]
            if missing and len(option.names) > 1:
                problems.append(f"{where}: {key} of `{command}` is also spelled "
                                f"{', '.join(missing)}; the doc should name it too")
    return problems


def compare_positionals(where, line, command, help_page, positionals):
    expected = [(name.upper(), required) for name, required in help_page.positionals]
    if expected != positionals:
        def show(items):
            return " ".join(n if r else f"[{n}]" for n, r in items) or "(none)"
        return [f"{where}:{line}: `{command}` takes {show(expected)}; the doc shows "
                f"{show(positionals)}"]
    return []


def option_table_problems(doc, program_path, program_name):
    """For a program without subcommands: docs table | option | default | meaning |."""
    rows = find_table(doc, ["option", "default", "meaning"])
    page = run_help(program_path, [])
    doc_rows = [(line, parse_flag_spans(cells[0]), cells[1]) for line, cells in rows]
    for line, flags, _ in doc_rows:
        if not flags:
            return [f"{doc}:{line}: the option cell names no flag in a code span"]
    return compare_flags(os.path.basename(doc), program_name, page, doc_rows, True)


def documented_commands(doc, header, flag_column, default_column):
    """{words: {"line", "positionals", "rows"}} from a command table."""
    commands = {}
    problems = []
    for line, cells in find_table(doc, header):
        try:
            words, positionals = parse_command_cell(cells[0], "dollhousectl")
        except AssertionError as e:
            problems.append(f"{os.path.basename(doc)}:{line}: {e}")
            continue
        entry = commands.setdefault(words, {"line": line, "positionals": positionals,
                                            "rows": []})
        if entry["positionals"] != positionals:
            command = describe_command("dollhousectl", words)
            problems.append(f"{os.path.basename(doc)}:{line}: `{command}` is shown with "
                            f"different arguments in different rows")
        default_cell = cells[default_column] if default_column is not None else None
        entry["rows"].append((line, parse_flag_spans(cells[flag_column]), default_cell))
    return commands, problems


def command_table_problems(doc, header, flag_column, default_column):
    where = os.path.basename(doc)
    pages = command_tree(CTL)
    commands, problems = documented_commands(doc, header, flag_column, default_column)
    # A command needs a row when it can be run (no subcommands) or has options of its own.
    needed = {w for w, p in pages.items() if not p.subcommands or p.options}
    for words in sorted(needed - set(commands)):
        problems.append(f"{where}: `{describe_command('dollhousectl', words)}` is a command of "
                        f"dollhousectl but has no row")
    for words in sorted(set(commands) - set(pages)):
        command = describe_command("dollhousectl", words)
        problems.append(f"{where}:{commands[words]['line']}: `{command}` is documented, but "
                        f"dollhousectl has no such command")
    for words, entry in sorted(commands.items()):
        if words not in pages:
            continue
        command = describe_command("dollhousectl", words)
        problems += compare_positionals(where, entry["line"], command, pages[words],
                                        entry["positionals"])
        problems += compare_flags(where, command, pages[words], entry["rows"],
                                  default_column is not None)
    return problems


# ---------------------------------------------------------------------------------------------
# Tests

class HelpParserTest(unittest.TestCase):
    """The parser on each way CLI11 versions print an option."""

    def test_reads_the_default_after_the_type(self):
        o = parse_option_spec("--threads UINT:UINT in [1 - 64]=2", "I/O threads")
        self.assertEqual((o.names, o.takes_value, o.default), (["--threads"], True, "2"))

    def test_reads_a_default_that_contains_a_colon(self):
        o = parse_option_spec("--listen TEXT=127.0.0.1:8080", "")
        self.assertEqual(o.default, "127.0.0.1:8080")

    def test_reads_the_bracketed_default_of_older_versions(self):
        o = parse_option_spec("--limit INT [20]", "How many entries")
        self.assertEqual((o.takes_value, o.default), (True, "20"))

    def test_reads_the_default_line_of_newer_versions(self):
        o = parse_option_spec("--limit INT:INT in [1 - 10000]", "How many entries Default: 20")
        self.assertEqual((o.takes_value, o.default), (True, "20"))

    def test_a_range_is_not_a_default(self):
        o = parse_option_spec("--count INT:INT in [1 - 10000]", "Rounds")
        self.assertEqual((o.takes_value, o.default), (True, None))

    def test_a_flag_with_exclusions_takes_no_value(self):
        o = parse_option_spec("--only-crashes Excludes: --only-installations --level", "")
        self.assertEqual((o.names, o.takes_value, o.default), (["--only-crashes"], False, None))

    def test_an_option_with_exclusions_keeps_its_type(self):
        o = parse_option_spec("--level TEXT:{all,error,crash,off} Excludes: --app", "")
        self.assertEqual((o.takes_value, o.default), (True, None))

    def test_reads_short_and_long_names(self):
        o = parse_option_spec("-o,--output TEXT", "File to write")
        self.assertEqual((o.names, o.key), (["-o", "--output"], "--output"))

    def test_reads_sections_and_wrapped_descriptions(self):
        page = parse_help(
            "Usage: x [OPTIONS] key\n\nPositionals:\n  key TEXT:{a,b} REQUIRED\n"
            "                              the key\n\nOptions:\n"
            "  -h,--help                   Print this help message and exit\n"
            "  --limit INT:INT in [1 - 9]\n                              How many Default: 3\n"
            "\nSubcommands:\n  get                         Print\n")
        self.assertEqual(list(page.options), ["--limit"])
        self.assertEqual(page.options["--limit"].default, "3")
        self.assertEqual(page.positionals, [("key", True)])
        self.assertEqual(page.subcommands, ["get"])


class DocTableParserTest(unittest.TestCase):
    def test_splits_cells_at_unescaped_pipes(self):
        self.assertEqual(split_row("| `--level all\\|off` | `all` | x |"),
                         ["`--level all|off`", "`all`", "x"])

    def test_reads_flags_and_whether_they_take_values(self):
        flags = parse_flag_spans("`--limit N`, `--json`, `-o FILE`, see `status`")
        self.assertEqual([(f.name, f.takes_value) for f in flags],
                         [("--limit", True), ("--json", False), ("-o", True)])

    def test_reads_default_cells(self):
        self.assertEqual(parse_default_cell("`20`"), ("value", "20"))
        self.assertEqual(parse_default_cell("`2`\u2013`4`: processor cores"), ("range", (2, 4)))
        self.assertEqual(parse_default_cell("—"), ("none", None))

    def test_reads_command_cells(self):
        self.assertEqual(parse_command_cell("`dollhousectl telemetry config get [KEY]`",
                                            "dollhousectl"),
                         (("telemetry", "config", "get"), [("KEY", False)]))
        self.assertEqual(parse_command_cell("`dollhousectl`", "dollhousectl"), ((), []))


class DocTablesMatchHelpTest(unittest.TestCase):
    def assertNoProblems(self, problems):
        if problems:
            self.fail("the doc and --help disagree:\n  " + "\n  ".join(problems))

    def test_daemon_md_lists_every_flag_of_dollhouse_telemetryd(self):
        self.assertNoProblems(option_table_problems(os.path.join(DOCS, "daemon.md"), DAEMON,
                                                    "dollhouse-telemetryd"))

    def test_server_md_lists_every_flag_of_dollhouse_telemetry_server(self):
        self.assertNoProblems(option_table_problems(os.path.join(DOCS, "server.md"), SERVER,
                                                    "dollhouse-telemetry-server"))

    def test_cli_md_lists_every_command_flag_and_default_of_dollhousectl(self):
        self.assertNoProblems(command_table_problems(
            os.path.join(DOCS, "cli.md"), ["command", "flag", "default", "meaning"], 1, 2))

    def test_daemon_md_command_table_lists_every_command_and_flag_of_dollhousectl(self):
        self.assertNoProblems(command_table_problems(
            os.path.join(DOCS, "daemon.md"), ["command", "flags", "what it does"], 1, None))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", required=True)
    parser.add_argument("--daemon", required=True)
    parser.add_argument("--server", required=True)
    parser.add_argument("--ctl", required=True)
    args, rest = parser.parse_known_args()
    DOCS, DAEMON, SERVER, CTL = args.docs, args.daemon, args.server, args.ctl
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
