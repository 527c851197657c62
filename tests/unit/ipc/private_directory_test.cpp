// The directories the daemon keeps its data and its socket in: missing ones are created for
// this user only, existing ones are used as they are or refused, never re-permissioned.
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "ipc/private_directory.hpp"
#include "ipc/unix_socket.hpp"
#include "tests/support/temp_dir.hpp"

namespace dollhouse::ipc {
namespace {

constexpr uid_t kOtherUser = 65534;  // nobody

// The permission bits of `path` (sticky bit included), or -1 when it cannot be inspected.
int mode_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

// A directory made for the test with exactly `mode`, whatever the umask.
std::string make_dir(const testing::TempDir& dir, const std::string& name, mode_t mode) {
  std::string path = dir.file(name);
  EXPECT_EQ(::mkdir(path.c_str(), 0700), 0) << path;
  EXPECT_EQ(::chmod(path.c_str(), mode), 0) << path;
  return path;
}

TEST(PrivateDirectory, MissingDirectoriesAndTheirMissingParentsAreCreatedUserOnly) {
  testing::TempDir dir;
  const std::string path = dir.file("a/b/c");
  ASSERT_TRUE(prepare_private_directory(path));
  EXPECT_EQ(mode_of(dir.file("a")), 0700);
  EXPECT_EQ(mode_of(dir.file("a/b")), 0700);
  EXPECT_EQ(mode_of(path), 0700);
}

TEST(PrivateDirectory, AnExistingDirectoryOfThisUserIsUsedWithoutChangingItsMode) {
  testing::TempDir dir;
  for (mode_t mode : {0700, 0750, 0755, 0711}) {
    const std::string path = make_dir(dir, "d" + std::to_string(mode), mode);
    Status st = prepare_private_directory(path);
    EXPECT_TRUE(st) << st.message();
    EXPECT_EQ(mode_of(path), static_cast<int>(mode));
  }
}

TEST(PrivateDirectory, AnExistingParentIsNeverChanged) {
  testing::TempDir dir;
  const std::string parent = make_dir(dir, "shared", 01777);
  ASSERT_TRUE(prepare_private_directory(parent + "/mine"));
  EXPECT_EQ(mode_of(parent), 01777);
  EXPECT_EQ(mode_of(parent + "/mine"), 0700);
}

TEST(PrivateDirectory, ADirectoryOthersCanWriteIsRefusedAndLeftAsItIs) {
  testing::TempDir dir;
  for (mode_t mode : {0770, 0720, 0702, 0777, 01777, 01770}) {
    const std::string path = make_dir(dir, "d" + std::to_string(mode), mode);
    Status st = prepare_private_directory(path);
    ASSERT_FALSE(st) << std::oct << mode;
    EXPECT_EQ(st.code(), "insecure_path");
    EXPECT_NE(st.message().find("writable by other users"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("chmod go-w " + path), std::string::npos) << st.message();
    EXPECT_EQ(mode_of(path), static_cast<int>(mode));
  }
}

TEST(PrivateDirectory, ADirectoryOfAnotherUserIsRefusedAndLeftAsItIs) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory to another user";
  testing::TempDir dir;
  const std::string path = make_dir(dir, "theirs", 0755);
  ASSERT_EQ(::chown(path.c_str(), kOtherUser, kOtherUser), 0);
  Status st = prepare_private_directory(path);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), "insecure_path");
  EXPECT_NE(st.message().find("belongs to another user"), std::string::npos) << st.message();
  EXPECT_EQ(mode_of(path), 0755);
}

TEST(PrivateDirectory, ASymlinkOrAFileIsRefused) {
  testing::TempDir dir;
  const std::string target = make_dir(dir, "target", 0700);
  ASSERT_EQ(::symlink(target.c_str(), dir.file("link").c_str()), 0);
  EXPECT_EQ(prepare_private_directory(dir.file("link")).code(), "insecure_path");
  { std::ofstream(dir.file("file")) << "x"; }
  EXPECT_EQ(prepare_private_directory(dir.file("file")).code(), "insecure_path");
}

TEST(SocketDirectory, AStickySharedDirectoryIsUsedAndNeverChanged) {
  testing::TempDir dir;
  const std::string shared = make_dir(dir, "shared", 01777);
  Status st = prepare_socket_directory(shared);
  EXPECT_TRUE(st) << st.message();
  EXPECT_EQ(mode_of(shared), 01777);
}

TEST(SocketDirectory, AnExistingDirectoryOfThisUserIsUsedWithoutChangingItsMode) {
  testing::TempDir dir;
  const std::string path = make_dir(dir, "run", 0755);
  Status st = prepare_socket_directory(path);
  EXPECT_TRUE(st) << st.message();
  EXPECT_EQ(mode_of(path), 0755);
}

TEST(SocketDirectory, AMissingDirectoryIsCreatedUserOnly) {
  testing::TempDir dir;
  const std::string shared = make_dir(dir, "shared", 01777);
  ASSERT_TRUE(prepare_socket_directory(shared + "/dollhouse"));
  EXPECT_EQ(mode_of(shared + "/dollhouse"), 0700);
  EXPECT_EQ(mode_of(shared), 01777);
}

TEST(SocketDirectory, ADirectoryOthersCanWriteWithoutTheStickyBitIsRefusedAndLeftAsItIs) {
  testing::TempDir dir;
  for (mode_t mode : {0777, 0770, 0730}) {
    const std::string path = make_dir(dir, "d" + std::to_string(mode), mode);
    Status st = prepare_socket_directory(path);
    ASSERT_FALSE(st) << std::oct << mode;
    EXPECT_EQ(st.code(), "insecure_path");
    EXPECT_NE(st.message().find("writable by other users"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("sticky bit"), std::string::npos) << st.message();
    EXPECT_EQ(mode_of(path), static_cast<int>(mode));
  }
}

TEST(SocketDirectory, AStickySharedDirectoryOfAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory to another user";
  testing::TempDir dir;
  const std::string shared = make_dir(dir, "shared", 01777);
  ASSERT_EQ(::chown(shared.c_str(), kOtherUser, kOtherUser), 0);
  Status st = prepare_socket_directory(shared);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), "insecure_path");
  EXPECT_NE(st.message().find("another user"), std::string::npos) << st.message();
  EXPECT_EQ(mode_of(shared), 01777);
  const std::string theirs = make_dir(dir, "theirs", 0755);
  ASSERT_EQ(::chown(theirs.c_str(), kOtherUser, kOtherUser), 0);
  EXPECT_EQ(prepare_socket_directory(theirs).code(), "insecure_path");
}

TEST(ListenUnix, ASocketInAStickySharedDirectoryIsUserOnlyAndTheDirectoryIsUnchanged) {
  testing::TempDir dir;
  const std::string shared = make_dir(dir, "shared", 01777);
  const std::string path = shared + "/t.sock";
  auto fd = listen_unix(path, 4);
  ASSERT_TRUE(fd) << fd.status().message();
  EXPECT_EQ(mode_of(path), 0600);
  EXPECT_EQ(mode_of(shared), 01777);
  ::close(*fd);
  ::unlink(path.c_str());
}

TEST(ListenUnix, ASocketDirectoryOthersCanWriteWithoutTheStickyBitIsRefused) {
  testing::TempDir dir;
  const std::string open_dir = make_dir(dir, "open", 0777);
  auto fd = listen_unix(open_dir + "/t.sock", 4);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.status().code(), "insecure_path");
  EXPECT_EQ(::access((open_dir + "/t.sock").c_str(), F_OK), -1) << "no socket was created";
  EXPECT_EQ(mode_of(open_dir), 0777);
}

}  // namespace
}  // namespace dollhouse::ipc
