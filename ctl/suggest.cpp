#include "ctl/suggest.hpp"

#include <algorithm>
#include <cctype>
#include <numeric>

namespace dollhouse::ctl {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string quoted(const std::string& s) {
  return "\"" + s + "\"";
}

// The subcommands of `app` that can be chosen, looking through option groups (unnamed
// subcommands, whose members belong to `app`).
std::vector<CLI::App*> named_subcommands(CLI::App& app) {
  std::vector<CLI::App*> out;
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_disabled()) continue;
    if (sub->get_name().empty()) {
      auto inner = named_subcommands(*sub);
      out.insert(out.end(), inner.begin(), inner.end());
    } else {
      out.push_back(sub);
    }
  }
  return out;
}

// The options of `app`, its option groups' included.
std::vector<CLI::Option*> own_options(CLI::App& app) {
  std::vector<CLI::Option*> out = app.get_options();
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    if (!sub->get_name().empty() || sub->get_disabled()) continue;
    auto inner = own_options(*sub);
    out.insert(out.end(), inner.begin(), inner.end());
  }
  return out;
}

CLI::App* named_parent(CLI::App* app) {
  CLI::App* p = app->get_parent();
  while (p != nullptr && p->get_name().empty() && p->get_parent() != nullptr) p = p->get_parent();
  return p;
}

// `level` and the parents its flags and positional arguments fall through to, as CLI11 walks
// them: up while each command says fallthrough().
std::vector<CLI::App*> fallthrough_chain(CLI::App* level) {
  std::vector<CLI::App*> chain;
  for (CLI::App* a = level; a != nullptr; a = a->get_fallthrough() ? named_parent(a) : nullptr) {
    chain.push_back(a);
  }
  return chain;
}

// "dollhousectl telemetry show" for the show command.
std::string command_path(CLI::App* app, const std::string& program) {
  std::vector<std::string> names;
  for (CLI::App* a = app; a != nullptr; a = named_parent(a)) {
    if (a->get_parent() != nullptr) names.push_back(a->get_name());
  }
  std::string out = program;
  for (auto it = names.rbegin(); it != names.rend(); ++it) out += " " + *it;
  return out;
}

struct Level {
  CLI::App* app;
  std::vector<CLI::App*> chain;
  std::vector<CLI::Option*> options;

  explicit Level(CLI::App* a) : app(a), chain(fallthrough_chain(a)) {
    for (CLI::App* c : chain) {
      auto o = own_options(*c);
      options.insert(options.end(), o.begin(), o.end());
    }
  }

  CLI::Option* long_option(const std::string& name) const {
    for (CLI::Option* o : options) {
      if (o->nonpositional() && o->check_lname(name)) return o;
    }
    return nullptr;
  }
  CLI::Option* short_option(const std::string& name) const {
    for (CLI::Option* o : options) {
      if (o->nonpositional() && o->check_sname(name)) return o;
    }
    return nullptr;
  }
  // --help, -h, --help-all and --version: CLI11 answers them whatever else is wrong.
  bool answers_at_once(const CLI::Option* o) const {
    return std::any_of(chain.begin(), chain.end(), [o](const CLI::App* a) {
      return o == a->get_help_ptr() || o == a->get_help_all_ptr() || o == a->get_version_ptr();
    });
  }
  bool takes_positionals() const {
    return std::any_of(options.begin(), options.end(),
                       [](const CLI::Option* o) { return o->get_positional(); });
  }
  CLI::App* subcommand(const std::string& word) const {
    for (CLI::App* sub : named_subcommands(*app)) {
      if (sub->check_name(word)) return sub;
    }
    return nullptr;
  }
  // Visible long flag names without their dashes (hidden options are valid, never suggested).
  std::vector<std::string> long_names() const {
    std::vector<std::string> out;
    for (const CLI::Option* o : options) {
      if (o->get_group().empty()) continue;
      out.insert(out.end(), o->get_lnames().begin(), o->get_lnames().end());
    }
    return out;
  }
  std::vector<std::string> subcommand_names() const {
    std::vector<std::string> out;
    for (CLI::App* sub : named_subcommands(*app)) {
      if (sub->get_group().empty()) continue;
      out.push_back(sub->get_name());
      out.insert(out.end(), sub->get_aliases().begin(), sub->get_aliases().end());
    }
    return out;
  }
};

std::string unknown_message(const std::string& what, const std::string& typed,
                            const std::string& where, const std::vector<std::string>& close,
                            const std::string& help_for) {
  std::string out =
      "dollhousectl: unknown " + what + " " + quoted(typed) + " for " + quoted(where) + "\n";
  if (std::string hint = did_you_mean(close); !hint.empty()) out += hint + "\n";
  out += "Run " + quoted(where + " --help") + " to see its " + help_for + ".\n";
  return out;
}

std::string unknown_flag(const Level& level, const std::string& program, const std::string& typed,
                         const std::string& bare) {
  std::vector<std::string> close;
  if (bare.size() > 1) {
    for (const std::string& n : suggestions(bare, level.long_names())) close.push_back("--" + n);
  }
  return unknown_message("flag", typed, command_path(level.app, program), close, "flags");
}

// The deepest command a parse chose, following the first named subcommand chosen at each level.
CLI::App* deepest_chosen(CLI::App* app) {
  while (true) {
    CLI::App* next = nullptr;
    for (CLI::App* sub : app->get_subcommands()) {
      if (!sub->get_name().empty()) {
        next = sub;
        break;
      }
    }
    if (next == nullptr) return app;
    app = next;
  }
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rows of the dynamic-programming table: the one before the previous is what a
  // transposition looks back to.
  const std::size_t n = b.size();
  std::vector<std::size_t> before(n + 1), previous(n + 1), current(n + 1);
  std::iota(previous.begin(), previous.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= n; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[n];
}

std::vector<std::string> suggestions(std::string_view typed,
                                     const std::vector<std::string>& candidates) {
  if (typed.empty()) return {};
  const std::string t = lower(typed);
  const std::size_t max_distance = t.size() <= 2 ? 0 : t.size() <= 4 ? 1 : 2;
  std::vector<std::pair<std::size_t, std::string>> scored;
  for (const std::string& c : candidates) {
    const std::string lc = lower(c);
    std::size_t score = 0;
    if (lc.compare(0, t.size(), t) != 0) {
      if (max_distance == 0) continue;
      score = edit_distance(t, lc);
      if (score > max_distance) continue;
    }
    scored.emplace_back(score, c);
  }
  if (scored.empty()) return {};
  std::sort(scored.begin(), scored.end());
  scored.erase(std::unique(scored.begin(), scored.end()), scored.end());
  std::vector<std::string> out;
  for (const auto& [score, name] : scored) {
    if (score != scored.front().first || out.size() == 3) break;
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

std::string did_you_mean(const std::vector<std::string>& names) {
  if (names.empty()) return {};
  std::string out = "Did you mean ";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += quoted(names[i]);
  }
  return out + "?";
}

std::optional<std::string> unknown_name_message(CLI::App& root, const std::string& program,
                                                const std::vector<std::string>& args) {
  Level level(&root);
  std::optional<std::string> problem;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") break;
    if (arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
      const std::size_t eq = arg.find('=');
      const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      const CLI::Option* opt = level.long_option(name);
      if (opt == nullptr) {
        if (!problem) problem = unknown_flag(level, program, arg.substr(0, eq), name);
        continue;
      }
      if (level.answers_at_once(opt)) return std::nullopt;
      const int values = std::max(opt->get_expected_min(), 0) - (eq == std::string::npos ? 0 : 1);
      i += static_cast<std::size_t>(std::max(values, 0));
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-' && std::isdigit(static_cast<unsigned char>(arg[1])) == 0) {
      const CLI::Option* opt = level.short_option(arg.substr(1, 1));
      if (opt == nullptr) {
        // "-limit" for "--limit" is worth a suggestion; "-x" alone is not.
        if (!problem) problem = unknown_flag(level, program, arg, arg.substr(1));
        continue;
      }
      if (level.answers_at_once(opt)) return std::nullopt;
      // "-o FILE" takes the next word; "-oFILE" and grouped flags ("-ab") stay in this one.
      if (arg.size() == 2) i += static_cast<std::size_t>(std::max(opt->get_expected_min(), 0));
      continue;
    }
    if (problem) continue;  // after an unknown name, only --help and --version still count
    if (arg.empty() || arg[0] == '-') continue;  // "", "-" or "-5": a value, never a command
    if (CLI::App* sub = level.subcommand(arg)) {
      level = Level(sub);
      continue;
    }
    if (level.takes_positionals()) continue;
    if (named_subcommands(*level.app).empty()) continue;  // an extra word: CLI11 says so
    problem = unknown_message("command", arg, command_path(level.app, program),
                              suggestions(arg, level.subcommand_names()), "commands");
  }
  return problem;
}

std::string missing_subcommand_list(CLI::App& root, const std::string& program) {
  CLI::App* app = deepest_chosen(&root);
  if (app->get_require_subcommand_min() == 0) return {};
  std::vector<CLI::App*> subs;
  for (CLI::App* sub : named_subcommands(*app)) {
    if (!sub->get_group().empty()) subs.push_back(sub);
  }
  if (subs.empty()) return {};
  std::size_t width = 0;
  for (const CLI::App* sub : subs) width = std::max(width, sub->get_name().size());
  std::string out = "Commands of " + quoted(command_path(app, program)) + ":\n";
  for (const CLI::App* sub : subs) {
    out += "  " + sub->get_name() + std::string(width - sub->get_name().size() + 3, ' ') +
           sub->get_description() + "\n";
  }
  return out;
}

std::vector<std::string> chosen_command(CLI::App& root) {
  std::vector<std::string> names;
  for (CLI::App* app = deepest_chosen(&root); app != &root && app != nullptr;
       app = named_parent(app)) {
    names.insert(names.begin(), app->get_name());
  }
  return names;
}

}  // namespace dollhouse::ctl
