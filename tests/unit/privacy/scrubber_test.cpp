// Scrubber behaviour beyond the corpus: placeholders, detector names, identity edge cases,
// adversarial inputs and use from many threads.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/privacy/fake_identity.hpp"

namespace dollhouse::privacy {
namespace {

TEST(Scrubber, ReplacesHomeDirectoryNameOnly) {
  const Scrubber scrubber;
  EXPECT_EQ(scrubber.scrub("/home/alice/proj/x.js"), "/home/<user>/proj/x.js");
  EXPECT_EQ(scrubber.scrub("C:\\Users\\alice\\x"), "C:\\Users\\<user>\\x");
}

TEST(Scrubber, PlaceholdersDoNotFire) {
  const Scrubber scrubber(testing::fake_identity());
  for (const char* text :
       {"<user>", "<email>", "<ip>", "<mac>", "<secret>", "<host>", "/home/<user>/x",
        "C:\\Users\\<user>\\x", "token=<secret>", "\"password\": \"<secret>\"",
        "https://<secret>@github.com/x", "https://example.com/x?<secret>",
        "Authorization: <secret>", "\\\\<host>\\share", "~<user>/x", "[<ip>]:443"}) {
    EXPECT_EQ(scrubber.detect(text), "") << text;
    EXPECT_EQ(scrubber.scrub(text), text);
  }
}

TEST(Scrubber, DetectNamesTheDetectorNeverTheContent) {
  const Scrubber scrubber(testing::fake_identity());
  EXPECT_EQ(scrubber.detect("mail bob@example.com"), "email");
  EXPECT_EQ(scrubber.detect("from 10.1.2.3"), "ipv4");
  EXPECT_EQ(scrubber.detect("from 2001:db8::7"), "ipv6");
  EXPECT_EQ(scrubber.detect("nic 00:1a:2b:3c:4d:5e"), "mac");
  EXPECT_EQ(scrubber.detect("open /home/bob/x"), "home_path");
  EXPECT_EQ(scrubber.detect("key ghp_R4nd0mT0k3nV4lu3F0rT3st1ngOnly0000"), "token");
  EXPECT_EQ(scrubber.detect("password=hunter2"), "credential_pair");
  EXPECT_EQ(scrubber.detect("on wonderland-laptop"), "machine_identity");
  EXPECT_EQ(scrubber.detect("nothing to see at src/app.ts:1:2"), "");
}

TEST(Scrubber, KeepsVersionsThatCannotBeAddresses) {
  const Scrubber scrubber;
  for (const char* text :
       {"node 20.10.0", "Windows 10.0.19045.2", "v1.2.3.4", "V1.2.3.4", "version 1.2.3.4",
        "Version: 4.2.1.0", "Chrome/120.0.0.0", "1.2.3.4-beta", "python3.11.4.2",
        "2025-01-13T09:30:00.123Z", "127.0.0.1:3000", "0.0.0.0", "::1", "ECONNREFUSED ::1:5432"}) {
    EXPECT_EQ(scrubber.scrub(text), text);
  }
  // A bare dotted quad is taken for an address: privacy first.
  EXPECT_EQ(scrubber.scrub("1.2.3.4"), "<ip>");
  EXPECT_EQ(scrubber.scrub("at 10.0.0.1."), "at <ip>.");
}

TEST(Scrubber, FindsAddressesWhereverTheyStandInLongCleanText) {
  // The address scanners skip ahead to the next ':' or '.': an address after runs of hex-like
  // words, after colons and dots that are no address, or in the middle of a run, is still found.
  const Scrubber scrubber;
  std::string filler;
  while (filler.size() < 2000) filler += "deadbeef cafe face added ";
  EXPECT_EQ(scrubber.scrub(filler + "from 2001:db8::7 and 10.1.2.3"),
            filler + "from <ip> and <ip>");
  EXPECT_EQ(scrubber.scrub("Error: bad. retry: later. then fe80::1%eth0, then 192.168.0.9."),
            "Error: bad. retry: later. then <ip>, then <ip>.");
  EXPECT_EQ(scrubber.scrub("a:b.c 1.2.3 fe80: 10.0.0.1 ab:cd:ef::12"),
            "a:b.c 1.2.3 fe80: <ip> <ip>");
  EXPECT_EQ(scrubber.scrub(filler), filler);
  EXPECT_EQ(scrubber.detect(filler + ":" + filler + "."), "");
}

TEST(Scrubber, SkipsNamesTooShortOrCommonToReplace) {
  MachineIdentity who;
  who.user_names = {"root", "al", "node"};
  who.real_names = {"Will Mark"};
  who.host_names = {"localhost", "ub"};
  who.home_dirs = {"/root", "/"};
  const Scrubber scrubber(who);
  const std::string text = "root will retry; mark al as done on localhost";
  EXPECT_EQ(scrubber.scrub(text), text);
  EXPECT_EQ(scrubber.scrub("Will Mark signed"), "<user> signed");
}

TEST(Scrubber, TheAccountsOwnHomeGoesEvenWhenItsNameIsCommon) {
  MachineIdentity who;
  who.user_names = {"root"};
  who.home_dirs = {"/root"};
  const Scrubber scrubber(who);
  EXPECT_EQ(scrubber.scrub("open '/root/.dollhouse/portfolio/x.md'"),
            "open '/<user>/.dollhouse/portfolio/x.md'");
  EXPECT_EQ(scrubber.scrub("cd /root"), "cd /<user>");
  EXPECT_EQ(scrubber.scrub("/rootfs/etc and root"), "/rootfs/etc and root") << "bounded";
  EXPECT_EQ(scrubber.detect("open '/<user>/.dollhouse'"), "");
}

TEST(Scrubber, MatchesNamesAsWholeWordsOnly) {
  MachineIdentity who;
  who.user_names = {"ali"};
  who.host_names = {"pluto"};
  const Scrubber scrubber(who);
  EXPECT_EQ(scrubber.scrub("alias for ali on pluto-2 and pluto"),
            "alias for <user> on pluto-2 and <host>");
}

TEST(Scrubber, UsesNonStandardHomeDirectories) {
  MachineIdentity who;
  who.home_dirs = {"/srv/people/zed42"};
  const Scrubber scrubber(who);
  EXPECT_EQ(scrubber.scrub("open /srv/people/zed42/x"), "open /srv/people/<user>/x");
  EXPECT_EQ(scrubber.scrub("open /srv/people/zed421/x"), "open /srv/people/zed421/x");
}

TEST(Scrubber, CurrentIdentityCanBeRead) {
  const MachineIdentity who = MachineIdentity::current();
  const Scrubber scrubber(who);
  for (const auto& home : who.home_dirs) {
    const std::string text = "open " + home + "/x";
    EXPECT_EQ(scrubber.detect(scrubber.scrub(text)), "");
  }
}

TEST(Scrubber, AdversarialInputsFinishQuickly) {
  const Scrubber scrubber(testing::fake_identity());
  std::vector<std::string> inputs;
  std::string digits;
  while (digits.size() < 65536) digits += "1.2.3.4.";
  inputs.push_back(digits);
  inputs.push_back(std::string(65536, '@'));
  inputs.push_back(std::string(65536, ':'));
  std::string base64;
  while (base64.size() < 65536) base64 += "QWxpY2VMaWRkZWxs";
  inputs.push_back("token=" + base64);
  std::string homes;
  while (homes.size() < 65536) homes += "x/home/";
  inputs.push_back(homes);
  std::string emails;
  while (emails.size() < 65536) emails += "a.b@c.d";
  inputs.push_back(emails);
  for (const auto& input : inputs) {
    const auto start = std::chrono::steady_clock::now();
    const std::string out = scrubber.scrub(input);
    EXPECT_EQ(scrubber.detect(out), "");
    const auto elapsed = std::chrono::steady_clock::now() - start;
    // Generous: sanitizer builds are slow; a quadratic scan of 64 KiB would take far longer.
    EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), 5000);
  }
}

TEST(Scrubber, IsSafeToShareBetweenThreads) {
  const Scrubber scrubber(testing::fake_identity());
  const std::string text = "open /home/bob/x from 10.0.0.9 as alice.liddell token=abc123";
  const std::string expected = scrubber.scrub(text);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        if (scrubber.scrub(text) != expected) ++mismatches[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

TEST(Scrubber, CanBeMoved) {
  Scrubber a(testing::fake_identity());
  Scrubber b = std::move(a);
  EXPECT_EQ(b.scrub("by Alice Liddell"), "by <user>");
}

// The names a Windows machine reports for itself (account, display name, profile, computer
// name), scrubbed wherever they appear, whichever platform the scrubber runs on.
TEST(Scrubber, RemovesAWindowsMachinesOwnNames) {
  MachineIdentity who;
  who.user_names = {"hkowalski"};
  who.real_names = {"Hanna Kowalski"};
  who.home_dirs = {"E:\\Profiles\\hkowalski"};
  who.host_names = {"FINANCE-PC7"};
  const Scrubber scrubber(who);
  EXPECT_EQ(scrubber.scrub("open E:\\Profiles\\hkowalski\\.dollhouse\\x.json"),
            "open E:\\Profiles\\<user>\\.dollhouse\\x.json");
  EXPECT_EQ(scrubber.scrub("denied for FINANCE-PC7\\hkowalski"), "denied for <host>\\<user>");
  EXPECT_EQ(scrubber.scrub("signed in as Hanna Kowalski on finance-pc7"),
            "signed in as <user> on <host>");
  EXPECT_EQ(scrubber.detect("COMPUTERNAME=FINANCE-PC7"), "environment_name");
}

TEST(Scrubber, NamesEachWindowsDetector) {
  const Scrubber scrubber;
  EXPECT_EQ(scrubber.detect("\\\\fs01\\home\\jsmith\\x"), "unc_user_folder");
  EXPECT_EQ(scrubber.detect("\\\\fs01\\share\\x"), "unc_path");
  EXPECT_EQ(scrubber.detect("on DESKTOP-4F7K2QZ now"), "computer_name");
  EXPECT_EQ(scrubber.detect("as AzureAD\\MariaGarcia"), "account_name");
  EXPECT_EQ(scrubber.detect("USERDOMAIN=CONTOSO"), "environment_name");
  // A path under a share that is not a home share keeps everything but the server.
  EXPECT_EQ(scrubber.scrub("\\\\fs01\\builds\\release\\app.zip"),
            "\\\\<host>\\builds\\release\\app.zip");
}

}  // namespace
}  // namespace dollhouse::privacy
