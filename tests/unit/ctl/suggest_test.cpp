#include "ctl/suggest.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace dollhouse::ctl {
namespace {

TEST(EditDistance, CountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("limt", "limit"), 1u);
  EXPECT_EQ(edit_distance("show", "shoe"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(EditDistance, AnAdjacentTranspositionCostsOne) {
  EXPECT_EQ(edit_distance("statsu", "status"), 1u);
  EXPECT_EQ(edit_distance("shwo", "show"), 1u);
  EXPECT_EQ(edit_distance("ab", "ba"), 1u);
  // Optimal string alignment: no substring is edited twice.
  EXPECT_EQ(edit_distance("ca", "abc"), 3u);
}

TEST(EditDistance, IsCaseSensitive) {
  EXPECT_EQ(edit_distance("Status", "status"), 1u);
}

const std::vector<std::string> kCommands = {"status", "enable",  "disable", "show",  "delete",
                                            "export", "consent", "flush",   "config"};

TEST(Suggestions, ATypoOfOneOrTwoEditsFindsTheCommand) {
  EXPECT_EQ(suggestions("statsu", kCommands), std::vector<std::string>{"status"});
  EXPECT_EQ(suggestions("dlete", kCommands), std::vector<std::string>{"delete"});
  EXPECT_EQ(suggestions("enalbe", kCommands), std::vector<std::string>{"enable"});
  EXPECT_EQ(suggestions("shwo", kCommands), std::vector<std::string>{"show"});
}

TEST(Suggestions, APrefixFindsEveryCommandItStarts) {
  EXPECT_EQ(suggestions("stat", kCommands), std::vector<std::string>{"status"});
  EXPECT_EQ(suggestions("s", kCommands), (std::vector<std::string>{"show", "status"}));
  EXPECT_EQ(suggestions("con", kCommands), (std::vector<std::string>{"config", "consent"}));
}

TEST(Suggestions, CaseIsIgnored) {
  EXPECT_EQ(suggestions("STATUS", kCommands), std::vector<std::string>{"status"});
}

TEST(Suggestions, NothingCloseGivesNone) {
  EXPECT_TRUE(suggestions("frobnicate", kCommands).empty());
  EXPECT_TRUE(suggestions("xyz", kCommands).empty());
  EXPECT_TRUE(suggestions("", kCommands).empty());
  EXPECT_TRUE(suggestions("status", {}).empty());
}

TEST(Suggestions, ShortWordsMatchOnlyAsPrefixes) {
  // "sw" is two edits from "show", which is too far for a two-letter word.
  EXPECT_TRUE(suggestions("sw", kCommands).empty());
  EXPECT_TRUE(suggestions("x", {"h"}).empty());
}

TEST(Suggestions, OnlyTheBestScoreIsKeptAndAtMostThree) {
  EXPECT_EQ(suggestions("abcde", {"abcdx", "abxyz", "abcdy"}),
            (std::vector<std::string>{"abcdx", "abcdy"}));
  EXPECT_EQ(suggestions("a", {"ad", "ac", "ab", "aa"}),
            (std::vector<std::string>{"aa", "ab", "ac"}));
}

TEST(DidYouMean, NamesOneTwoOrThreeAndNothingForNone) {
  EXPECT_EQ(did_you_mean({}), "");
  EXPECT_EQ(did_you_mean({"status"}), "Did you mean \"status\"?");
  EXPECT_EQ(did_you_mean({"show", "status"}), "Did you mean \"show\" or \"status\"?");
  EXPECT_EQ(did_you_mean({"a", "b", "c"}), "Did you mean \"a\", \"b\" or \"c\"?");
}

// A tree shaped like dollhousectl's: global options on the root, a telemetry command whose
// subcommands fall through to it, a command with a positional argument, and service commands
// that do not fall through.
class CommandLine : public ::testing::Test {
 protected:
  CommandLine() {
    app_.require_subcommand(1);
    app_.set_version_flag("--version", "1.0");
    app_.add_option("--home", home_, "Data root");
    app_.add_option("--socket", socket_, "Socket");
    app_.add_flag("--no-start", no_start_, "Do not start");
    auto* telemetry = app_.add_subcommand("telemetry", "Telemetry");
    telemetry->require_subcommand(1);
    telemetry->fallthrough();
    auto* status = telemetry->add_subcommand("status", "Show the status");
    status->add_flag("--json", json_, "JSON");
    auto* show = telemetry->add_subcommand("show", "Show the log");
    show->add_option("--limit", limit_, "How many");
    show->add_option("--since", since_, "Since");
    show->add_flag("--json", json_, "JSON");
    auto* exp = telemetry->add_subcommand("export", "Export");
    exp->add_option("--output,-o", output_, "File");
    auto* config = telemetry->add_subcommand("config", "Settings");
    config->add_option("key", key_, "Setting name");
    for (auto* sub : telemetry->get_subcommands({})) sub->fallthrough();
    auto* service = app_.add_subcommand("service", "Service");
    service->require_subcommand(1);
    service->add_subcommand("install", "Install")->add_flag("--dry-run", dry_run_, "Dry run");
  }

  std::optional<std::string> check(const std::vector<std::string>& args) {
    return unknown_name_message(app_, "dollhousectl", args);
  }

  CLI::App app_{"test"};
  std::optional<std::string> home_, socket_;
  bool no_start_ = false, json_ = false, dry_run_ = false;
  int limit_ = 0;
  std::string since_, output_, key_;
};

TEST_F(CommandLine, KnownCommandsAndFlagsPass) {
  EXPECT_EQ(check({"telemetry", "status"}), std::nullopt);
  EXPECT_EQ(check({"--home", "/x", "telemetry", "show", "--limit", "5", "--json"}), std::nullopt);
  EXPECT_EQ(check({"telemetry", "show", "--limit=5", "--since", "2026-12-01"}), std::nullopt);
  EXPECT_EQ(check({"telemetry", "export", "-o", "out.json"}), std::nullopt);
  EXPECT_EQ(check({"telemetry", "export", "-oout.json"}), std::nullopt);
  EXPECT_EQ(check({}), std::nullopt);
}

TEST_F(CommandLine, GlobalFlagsAreKnownWhereCommandsFallThrough) {
  EXPECT_EQ(check({"telemetry", "status", "--no-start", "--home", "/x", "--socket=/s"}),
            std::nullopt);
  EXPECT_EQ(check({"telemetry", "--home", "/x", "show"}), std::nullopt);
}

TEST_F(CommandLine, AValueIsNeverTakenForACommand) {
  // "statsu" is --home's value, "status" --limit's.
  EXPECT_EQ(check({"--home", "statsu", "telemetry", "status"}), std::nullopt);
  EXPECT_EQ(check({"telemetry", "show", "--limit", "status"}), std::nullopt);
}

TEST_F(CommandLine, AnUnknownCommandIsNamedWithItsParentAndASuggestion) {
  auto message = check({"telemetry", "statsu"});
  ASSERT_TRUE(message);
  EXPECT_EQ(*message,
            "dollhousectl: unknown command \"statsu\" for \"dollhousectl telemetry\"\n"
            "Did you mean \"status\"?\n"
            "Run \"dollhousectl telemetry --help\" to see its commands.\n");
  auto top = check({"telemtry", "status"});
  ASSERT_TRUE(top);
  EXPECT_NE(top->find("unknown command \"telemtry\" for \"dollhousectl\"\n"
                      "Did you mean \"telemetry\"?"),
            std::string::npos)
      << *top;
}

TEST_F(CommandLine, AnUnknownCommandWithNothingCloseHasNoSuggestion) {
  auto message = check({"telemetry", "frobnicate"});
  ASSERT_TRUE(message);
  EXPECT_EQ(message->find("Did you mean"), std::string::npos) << *message;
  EXPECT_NE(message->find("unknown command \"frobnicate\""), std::string::npos);
}

TEST_F(CommandLine, AnUnknownFlagIsNamedWithItsCommandAndASuggestion) {
  auto message = check({"telemetry", "show", "--limt", "5"});
  ASSERT_TRUE(message);
  EXPECT_EQ(*message,
            "dollhousectl: unknown flag \"--limt\" for \"dollhousectl telemetry show\"\n"
            "Did you mean \"--limit\"?\n"
            "Run \"dollhousectl telemetry show --help\" to see its flags.\n");
  auto with_value = check({"telemetry", "show", "--limt=5"});
  ASSERT_TRUE(with_value);
  EXPECT_NE(with_value->find("unknown flag \"--limt\""), std::string::npos) << *with_value;
  auto global = check({"telemetry", "status", "--no-strat"});
  ASSERT_TRUE(global);
  EXPECT_NE(global->find("Did you mean \"--no-start\"?"), std::string::npos) << *global;
}

TEST_F(CommandLine, ASingleDashLongFlagSuggestsTheDoubleDashOne) {
  auto message = check({"telemetry", "show", "-limit", "5"});
  ASSERT_TRUE(message);
  EXPECT_NE(message->find("Did you mean \"--limit\"?"), std::string::npos) << *message;
  auto letter = check({"telemetry", "show", "-x"});
  ASSERT_TRUE(letter);
  EXPECT_EQ(letter->find("Did you mean"), std::string::npos) << *letter;
}

TEST_F(CommandLine, FlagsOfOneCommandAreUnknownToAnother) {
  auto message = check({"telemetry", "status", "--limit", "5"});
  ASSERT_TRUE(message);
  EXPECT_NE(message->find("unknown flag \"--limit\" for \"dollhousectl telemetry status\""),
            std::string::npos)
      << *message;
}

TEST_F(CommandLine, CommandsThatDoNotFallThroughDoNotKnowTheGlobalFlags) {
  auto message = check({"service", "install", "--home", "/x"});
  ASSERT_TRUE(message);
  EXPECT_NE(message->find("unknown flag \"--home\" for \"dollhousectl service install\""),
            std::string::npos)
      << *message;
}

TEST_F(CommandLine, HelpAndVersionWinOverEveryMistake) {
  EXPECT_EQ(check({"telemetry", "statsu", "--help"}), std::nullopt);
  EXPECT_EQ(check({"telemetry", "show", "--limt", "5", "-h"}), std::nullopt);
  EXPECT_EQ(check({"telemetry", "--version"}), std::nullopt);
}

TEST_F(CommandLine, PositionalArgumentsAndWordsAfterADoubleDashAreNotCommands) {
  EXPECT_EQ(check({"telemetry", "config", "retention"}), std::nullopt);
  EXPECT_EQ(check({"telemetry", "status", "--", "statsu", "--limt"}), std::nullopt);
}

TEST_F(CommandLine, OtherMistakesAreLeftToTheParser) {
  // An extra word after a command without subcommands, and a flag without its value.
  EXPECT_EQ(check({"telemetry", "status", "extra"}), std::nullopt);
  EXPECT_EQ(check({"telemetry", "show", "--limit"}), std::nullopt);
}

TEST_F(CommandLine, AMissingSubcommandListsTheCommandsOfTheDeepestCommand) {
  EXPECT_THROW(app_.parse(std::vector<std::string>{"telemetry"}), CLI::RequiredError);
  std::string list = missing_subcommand_list(app_, "dollhousectl");
  EXPECT_EQ(list,
            "Commands of \"dollhousectl telemetry\":\n"
            "  status   Show the status\n"
            "  show     Show the log\n"
            "  export   Export\n"
            "  config   Settings\n");
}

TEST_F(CommandLine, AMissingSubcommandAtTheTopListsTheTopCommands) {
  EXPECT_THROW(app_.parse(std::vector<std::string>{}), CLI::RequiredError);
  std::string list = missing_subcommand_list(app_, "dollhousectl");
  EXPECT_NE(list.find("Commands of \"dollhousectl\":\n  telemetry"), std::string::npos) << list;
  EXPECT_NE(list.find("  service"), std::string::npos) << list;
}

TEST_F(CommandLine, ChosenCommandNamesTheSubcommandsParsed) {
  // CLI11 parses a vector from its end.
  app_.parse(std::vector<std::string>{"--json", "status", "telemetry"});
  EXPECT_EQ(chosen_command(app_), (std::vector<std::string>{"telemetry", "status"}));
  EXPECT_EQ(missing_subcommand_list(app_, "dollhousectl"), "");
}

}  // namespace
}  // namespace dollhouse::ctl
