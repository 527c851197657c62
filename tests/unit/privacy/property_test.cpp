// Property: for random events with personal data mixed into their free text, every accepted
// event comes out with no string on which any detector fires and none of the injected fragments.
// The generator is a std::mt19937 with a fixed seed, printed so a failure can be replayed.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/privacy/fake_identity.hpp"

namespace dollhouse::privacy {
namespace {

using nlohmann::json;

constexpr std::uint32_t kSeed = 20250113;
constexpr int kEvents = 3000;

const std::vector<std::string> kWords = {"Error:",
                                         "failed",
                                         "to",
                                         "load",
                                         "config",
                                         "MODULE_NOT_FOUND",
                                         "at",
                                         "src/app.ts:10:5",
                                         "node",
                                         "20.10.0",
                                         "EACCES",
                                         "retry",
                                         "1.9.16",
                                         "2025-01-13T09:30:00Z",
                                         "PortfolioManager",
                                         "(",
                                         ")",
                                         "'",
                                         "\"",
                                         ":",
                                         "/",
                                         "\\",
                                         "v1.2.3.4",
                                         "9fceb02d0ae5",
                                         "ECONNREFUSED",
                                         "127.0.0.1:3000",
                                         "Ünïcödé",
                                         "日本語",
                                         "-",
                                         "."};

// Each fragment is personal data; `secret` is the part that must not survive.
struct Fragment {
  std::string text;
  std::string secret;
};
const std::vector<Fragment> kFragments = {
    {"/home/bob/x.js", "bob"},
    {"/Users/carol.dunn/Library", "carol.dunn"},
    {"C:\\Users\\Dave Eggers\\AppData", "Dave Eggers"},
    {"erin@example.com", "erin@example.com"},
    {"10.11.12.13", "10.11.12.13"},
    {"2001:db8:1::42", "2001:db8:1::42"},
    {"00:1a:2b:3c:4d:5e", "00:1a:2b:3c:4d:5e"},
    {"ghp_R4nd0mT0k3nV4lu3F0rT3st1ngOnly0000", "ghp_R4nd0mT0k3nV4lu3F0rT3st1ngOnly0000"},
    {"AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"},
    {"password=hunter2", "hunter2"},
    {"Bearer abc123def456ghi789", "abc123def456ghi789"},
    {"https://u:pw99@db.example.com/x", "pw99"},
    {"alice.liddell", "alice.liddell"},
    {"Alice Liddell", "Alice Liddell"},
    {"wonderland-laptop", "wonderland-laptop"},
    {"~frank/bin", "frank"},
    {"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "eyJhbGciOiJIUzI1NiJ9"},
};

class Generator {
 public:
  explicit Generator(std::uint32_t seed) : rng_(seed) {}

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  template <typename T>
  const T& one_of(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(pick(static_cast<int>(v.size())))];
  }

  // Words with fragments injected, joined by separators seen in real messages. Stops before
  // `max_bytes`, so that no fragment is cut in half by the generator itself.
  std::string text(std::vector<std::string>* secrets, std::size_t max_bytes) {
    static const std::vector<std::string> kJoins = {" ", " ",  " ",  ", ", "\n",  "\t",
                                                    "'", " (", ": ", "=",  " \"", "; "};
    std::string out;
    const int parts = 1 + pick(40);
    for (int i = 0; i < parts; ++i) {
      std::string next = out.empty() ? "" : one_of(kJoins);
      const bool fragment = pick(3) == 0;
      const Fragment& f = one_of(kFragments);
      next += fragment ? f.text : one_of(kWords);
      if (out.size() + next.size() > max_bytes) break;
      out += next;
      if (fragment) secrets->push_back(f.secret);
    }
    return out.empty() ? "x" : out;
  }

  json event(std::vector<std::string>* secrets) {
    static const std::vector<std::string> kTypes = {"installation", "update", "crash", "error"};
    const std::string& type = one_of(kTypes);
    json e = {{"eventType", type}};
    if (type == "installation") {
      e["installMethod"] = one_of(std::vector<std::string>{"npm", "npx", "git-clone", "docker"});
      e["installType"] = one_of(std::vector<std::string>{"new", "upgrade", "reinstall"});
    } else if (type == "update") {
      e["fromVersion"] = "1.9.15";
      e["toVersion"] = "1.9.16";
      e["success"] = pick(2) == 0;
      e["durationMs"] = pick(100000);
    } else {
      e["errorType"] = one_of(std::vector<std::string>{"startup", "runtime", "shutdown"});
      e["errorCategory"] = text(secrets, kMaxShortTextLength);
      e["errorMessage"] = text(secrets, 2000);
      e["component"] = text(secrets, kMaxShortTextLength);
      e["recovered"] = pick(2) == 0;
    }
    if (pick(4) == 0) e["extra" + std::to_string(pick(5))] = text(secrets, 100);
    return e;
  }

 private:
  std::mt19937 rng_;
};

void collect_strings(const json& j, std::vector<std::string>* out) {
  if (j.is_string()) out->push_back(j.get<std::string>());
  if (j.is_structured()) {
    for (const auto& item : j) collect_strings(item, out);
  }
}

TEST(PrivacyProperty, AcceptedEventsCarryNoPersonalData) {
  std::printf("[property] seed %u, %d events\n", kSeed, kEvents);
  const Scrubber scrubber(testing::fake_identity());
  Generator gen(kSeed);
  int accepted = 0;
  for (int i = 0; i < kEvents; ++i) {
    std::vector<std::string> secrets;
    const json event = gen.event(&secrets);
    for (bool stamped : {false, true}) {
      json input = event;
      if (stamped) {
        input["timestamp"] = "2025-01-13T09:30:00Z";
        input["installId"] = "550e8400-e29b-41d4-a716-446655440000";
        input["version"] = "1.9.16";
        input["platform"] = {{"os", "linux"}, {"osVersion", "Debian 12"}, {"arch", "x64"}};
      }
      const Outcome o =
          stamped ? process_stamped_event(input, scrubber) : process_app_event(input, scrubber);
      if (!o.ok) {
        EXPECT_NE(to_string(o.rejection.code), "") << "event " << i;
        continue;
      }
      ++accepted;
      std::vector<std::string> strings;
      collect_strings(o.event, &strings);
      for (const auto& s : strings) {
        EXPECT_EQ(scrubber.detect(s), "") << "event " << i << ": " << s;
        for (const auto& secret : secrets) {
          EXPECT_EQ(s.find(secret), std::string::npos)
              << "event " << i << " leaks '" << secret << "' in: " << s
              << "\ninput: " << input.dump();
        }
      }
    }
  }
  std::printf("[property] accepted %d of %d\n", accepted, 2 * kEvents);
  EXPECT_GT(accepted, kEvents);  // most events are valid; rejections must not hide the check
}

}  // namespace
}  // namespace dollhouse::privacy
