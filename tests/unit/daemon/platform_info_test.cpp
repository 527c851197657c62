#include "daemon/platform_info.hpp"

#include <gtest/gtest.h>

#include <string>

namespace dollhouse::daemon {
namespace {

TEST(ArchFromMachine, MapsKnownMachineNames) {
  EXPECT_EQ(arch_from_machine("x86_64"), "x64");
  EXPECT_EQ(arch_from_machine("amd64"), "x64");
  EXPECT_EQ(arch_from_machine("aarch64"), "arm64");
  EXPECT_EQ(arch_from_machine("arm64"), "arm64");
  for (const char* m : {"i386", "i486", "i586", "i686", "x86"}) {
    EXPECT_EQ(arch_from_machine(m), "x86") << m;
  }
}

TEST(ArchFromMachine, EverythingElseIsUnknown) {
  for (const char* m : {"", "armv7l", "riscv64", "ppc64le", "s390x", "X86_64", "x86_64 "}) {
    EXPECT_EQ(arch_from_machine(m), "unknown") << '"' << m << '"';
  }
}

TEST(LinuxOsVersion, Debian12) {
  EXPECT_EQ(linux_os_version(R"os(PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
)os"),
            "Debian 12");
}

TEST(LinuxOsVersion, UbuntuKeepsOnlyTheMajorVersion) {
  EXPECT_EQ(linux_os_version(R"os(PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
ID=ubuntu
ID_LIKE=debian
)os"),
            "Ubuntu 22");
}

TEST(LinuxOsVersion, Fedora39WithUnquotedValues) {
  EXPECT_EQ(linux_os_version("NAME=\"Fedora Linux\"\nVERSION=\"39 (Workstation Edition)\"\n"
                             "ID=fedora\nVERSION_ID=39\nPLATFORM_ID=\"platform:f39\"\n"),
            "Fedora 39");
}

TEST(LinuxOsVersion, ArchWithoutVersionIdIsTheNameAlone) {
  EXPECT_EQ(linux_os_version("NAME=\"Arch Linux\"\nPRETTY_NAME=\"Arch Linux\"\nID=arch\n"
                             "BUILD_ID=rolling\n"),
            "Arch");
}

TEST(LinuxOsVersion, SingleQuotesAndCrlfLineEnds) {
  EXPECT_EQ(linux_os_version("ID='debian'\r\nVERSION_ID='12'\r\n"), "Debian 12");
}

TEST(LinuxOsVersion, GarbageGivesLinux) {
  EXPECT_EQ(linux_os_version(""), "Linux");
  EXPECT_EQ(linux_os_version("this is not an os-release file\n\x01\x02"), "Linux");
  EXPECT_EQ(linux_os_version("VERSION_ID=12\n"), "Linux");
  EXPECT_EQ(linux_os_version("ID=\"\"\nVERSION_ID=\"12\"\n"), "Linux");
  EXPECT_EQ(linux_os_version("ID=!!!\n"), "Linux");
}

TEST(LinuxOsVersion, IdLikeIsNotTheId) {
  EXPECT_EQ(linux_os_version("ID_LIKE=debian\nVERSION_ID=12\n"), "Linux");
}

TEST(LinuxOsVersion, NeverLongerThanANameAndAShortMajor) {
  std::string text = "ID=\"" + std::string(200, 'a') + "/home/ada secret\"\nVERSION_ID=\"" +
                     std::string(50, '9') + ".1\"\n";
  std::string v = linux_os_version(text);
  // At most a 16-character name, a space and a 4-digit major.
  EXPECT_LE(v.size(), 16u + 1 + 4) << v;
  EXPECT_EQ(v.find('/'), std::string::npos) << v;
  EXPECT_EQ(v.find(' '), v.rfind(' ')) << v;
  EXPECT_EQ(v.substr(0, 3), "Aaa");
}

TEST(LinuxOsVersion, DropsCharactersOutsideAPlainId) {
  std::string v = linux_os_version("ID=\"open$(id);se\"\nVERSION_ID=\"15.5\"\n");
  EXPECT_EQ(v.find_first_of("$();"), std::string::npos) << v;
  EXPECT_EQ(v.substr(0, 4), "Open") << v;
  EXPECT_EQ(v.substr(v.size() - 3), " 15") << v;
}

TEST(DetectPlatform, ReportsLinuxFieldsOnThisMachine) {
  PlatformInfo p = detect_platform();
  EXPECT_EQ(p.os, "linux");
  EXPECT_FALSE(p.os_version.empty());
  EXPECT_TRUE(p.arch == "x64" || p.arch == "arm64" || p.arch == "x86" || p.arch == "unknown")
      << p.arch;
}

}  // namespace
}  // namespace dollhouse::daemon

namespace dollhouse::daemon {
namespace {

TEST(LinuxOsVersion, UpperCaseIdsAreReadLikeLowerCaseOnes) {
  EXPECT_EQ(linux_os_version("ID=Debian\nVERSION_ID=\"12\"\n"), "Debian 12");
}

}  // namespace
}  // namespace dollhouse::daemon
