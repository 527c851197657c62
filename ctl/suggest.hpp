// "Did you mean" for dollhousectl: finds the first subcommand or flag on a command line that the
// CLI11 App tree does not know, before CLI11 parses it, and names the known ones that are close
// (git and gh style). Also lists a command's subcommands for "a subcommand is required".
//
// Pure: no I/O, no globals; the App tree is only read. Use from the thread that owns the App.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

namespace dollhouse::ctl {

// Optimal string alignment distance between `a` and `b`: insertions, deletions, substitutions
// and transpositions of two adjacent bytes, each costing 1 (Damerau-Levenshtein where no
// substring is edited twice). Case-sensitive.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidates `typed` most likely stands for, best first. A candidate qualifies when `typed`
// is a prefix of it, or when its distance to `typed` (ignoring ASCII case) is at most 1 for a
// typed word of 3-4 characters and 2 for a longer one (shorter words only match as prefixes).
// Only the best-scoring candidates are kept (prefixes score 0), in name order, at most three;
// none when nothing is close. `typed` and the candidates are compared as given (callers strip
// leading dashes from flags).
std::vector<std::string> suggestions(std::string_view typed,
                                     const std::vector<std::string>& candidates);

// `Did you mean "a"?`, `Did you mean "a" or "b"?`, `Did you mean "a", "b" or "c"?`; "" for none.
std::string did_you_mean(const std::vector<std::string>& names);

// The first name on `args` (the arguments after the program name) that the tree under `root`
// does not know where it stands, as the lines to print (each ending in "\n"), e.g.
//   dollhousectl: unknown command "statsu" for "dollhousectl telemetry"
//   Did you mean "status"?
//   Run "dollhousectl telemetry --help" to see its commands.
// `program` names the root in messages. A word is a subcommand where the command has
// subcommands and takes no positional arguments (itself or through fallthrough); a flag is
// looked up in the command and in its parents as far as fallthrough() reaches; flags that take
// values consume them ("--limit 5", "--limit=5", "-o FILE"). nullopt when every name is known,
// when --help, -h or --version is given anywhere (CLI11 answers those), and for every other
// mistake (missing or bad values, extra words), which CLI11 reports itself. Scanning stops at
// "--".
std::optional<std::string> unknown_name_message(CLI::App& root, const std::string& program,
                                                const std::vector<std::string>& args);

// For a parse that failed because a command needs a subcommand: when the deepest command the
// parse selected under `root` requires one and got none, its subcommands as lines to print
//   Commands of "dollhousectl telemetry":
//     status   Show whether telemetry is on, and why
// and "" otherwise. Call after CLI::App::parse threw.
std::string missing_subcommand_list(CLI::App& root, const std::string& program);

// The names of the subcommands a successful parse chose, root first: {"telemetry", "show"}.
std::vector<std::string> chosen_command(CLI::App& root);

}  // namespace dollhouse::ctl
