// Property: whatever apps send, nothing the daemon stores matches any PII detector. Random
// events (fixed, printed seed) with personal fragments spliced into every free-text field go
// through the real daemon; every string it kept is checked with the shared detectors.
#include <unistd.h>

#include <random>

#include <gtest/gtest.h>

#include "privacy/privacy.hpp"
#include "tests/support/daemon_harness.hpp"

namespace dollhouse::testing {
namespace {

using nlohmann::json;

std::vector<std::string> pii_fragments(const std::string& home) {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return {home + "/.dollhouse/portfolio/personas/x.md",
          "/Users/jane.doe/Library/Application Support/Claude",
          "C:\\Users\\JohnSmith\\AppData\\Roaming\\npm",
          "jane.doe@example.com",
          "ops+alerts@dollhouse-mail.org",
          "192.168.1.24",
          "10.20.30.40:8443",
          "fe80::1ff:fe23:4567:890a",
          "00:1A:2B:3C:4D:5E",
          "ghp_" + std::string(36, 'a'),
          "AKIAIOSFODNN7EXAMPLE",
          "xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx",
          "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
          "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_"
          "XgL0n3I9PlFUP0THsR8U",
          "Bearer abcdef0123456789abcdef0123456789",
          "password=hunter2hunter2",
          "https://admin:s3cret@internal.example.com/api",
          "https://api.example.com/v1/items?token=abc123&user=jane",
          std::string(host).size() >= 3 ? std::string("connect to ") + host + ":5432" : "",
          "~jane/.npmrc"};
}

const std::vector<std::string> kFiller = {"ENOENT: no such file or directory, open '",
                                          "Failed to load",
                                          "at Object.<anonymous> (",
                                          "Cannot find module",
                                          "EACCES: permission denied, mkdir '",
                                          "connect ECONNREFUSED ",
                                          "while syncing portfolio",
                                          "token expired for",
                                          " -- ",
                                          "(line 12:7)"};

std::string random_text(std::mt19937& rng, const std::vector<std::string>& pii) {
  std::string text;
  int parts = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < parts; ++i) {
    if (rng() % 2 == 0) {
      const std::string& p = pii[rng() % pii.size()];
      text += p;
    } else {
      text += kFiller[rng() % kFiller.size()];
    }
    text += rng() % 3 == 0 ? "'" : " ";
  }
  return text;
}

json random_event(std::mt19937& rng, const std::vector<std::string>& pii) {
  static const char* kErrorTypes[] = {"startup", "runtime", "shutdown", "unknown"};
  switch (rng() % 3) {
    case 0:
    case 1:
      return {{"eventType", rng() % 2 ? "crash" : "error"},
              {"errorType", kErrorTypes[rng() % 4]},
              {"errorCategory", rng() % 4 == 0 ? random_text(rng, pii) : "MODULE_NOT_FOUND"},
              {"errorMessage", random_text(rng, pii)},
              {"component", rng() % 4 == 0 ? random_text(rng, pii) : "PortfolioManager"},
              {"recovered", rng() % 2 == 0},
              {"extraField", random_text(rng, pii)}};
    default:
      return {{"eventType", "installation"},
              {"installMethod", "npm"},
              {"installType", "upgrade"},
              {"previousVersion", rng() % 4 == 0 ? random_text(rng, pii) : "1.9.15"},
              {"installPath", random_text(rng, pii)}};
  }
}

void collect_strings(const json& j, std::vector<std::string>& out) {
  if (j.is_string()) out.push_back(j.get<std::string>());
  if (j.is_structured()) {
    for (const auto& v : j) collect_strings(v, out);
    if (j.is_object()) {
      for (const auto& [k, v] : j.items()) out.push_back(k);
    }
  }
}

TEST(PrivacyProperty, NoStoredFieldMatchesAnyDetector) {
  DaemonHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.enable()["ok"].get<bool>());
  const std::string home = h.env().at("HOME");
  const auto pii = pii_fragments(home);

  const unsigned seed = 20261129;
  std::cout << "property seed " << seed << "\n";
  std::mt19937 rng(seed);
  TestClient c = h.client();
  ASSERT_TRUE(c.hello()["ok"].get<bool>());
  int accepted = 0, rejected = 0;
  constexpr int kEvents = 400;
  for (int i = 0; i < kEvents; ++i) {
    json reply = c.request({{"op", "track"}, {"event", random_event(rng, pii)}});
    if (reply.value("accepted", false)) {
      ++accepted;
    } else {
      ++rejected;
      ASSERT_FALSE(reply["ok"].get<bool>()) << reply.dump();
    }
  }
  ASSERT_TRUE(c.request({{"op", "sync"}})["ok"].get<bool>());
  std::cout << accepted << " stored, " << rejected << " rejected\n";
  EXPECT_GT(accepted, kEvents / 2) << "scrubbing keeps most events useful";

  privacy::MachineIdentity who = privacy::MachineIdentity::current();
  who.home_dirs.push_back(home);
  privacy::Scrubber detectors(who);
  json entries = h.entries(kEvents + 10);
  ASSERT_EQ(entries.size(), static_cast<std::size_t>(accepted));
  std::size_t checked = 0;
  for (const auto& entry : entries) {
    std::vector<std::string> strings;
    collect_strings(entry["data"], strings);
    for (const auto& s : strings) {
      ++checked;
      EXPECT_EQ(detectors.detect(s), "") << s;
      EXPECT_EQ(s.find(home), std::string::npos) << s;
    }
    EXPECT_FALSE(entry["data"].contains("extraField"));
    EXPECT_FALSE(entry["data"].contains("installPath"));
  }
  EXPECT_GT(checked, entries.size() * 5);
  EXPECT_EQ(h.status()["queue"]["dropped"].value("pii_detected", 0) +
                h.status()["queue"]["dropped"].value("invalid_event", 0),
            rejected);
}

}  // namespace
}  // namespace dollhouse::testing
