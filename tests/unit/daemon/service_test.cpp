// Socket activation and notify parsing: which LISTEN_* values mean "activated", and how
// NOTIFY_SOCKET maps to a socket address.
#include <gtest/gtest.h>

#include "daemon/service.hpp"

namespace dollhouse::daemon {
namespace {

TEST(SocketActivation, CountsDescriptorsMeantForThisProcess) {
  auto env = map_env({{"LISTEN_PID", "4242"}, {"LISTEN_FDS", "1"}});
  EXPECT_EQ(activated_fd_count(env, 4242), 1);
}

TEST(SocketActivation, IgnoresVariablesMeantForAnotherProcess) {
  auto env = map_env({{"LISTEN_PID", "4241"}, {"LISTEN_FDS", "1"}});
  EXPECT_EQ(activated_fd_count(env, 4242), std::nullopt);
}

TEST(SocketActivation, IgnoresMissingZeroOrMalformedValues) {
  EXPECT_EQ(activated_fd_count(map_env({}), 7), std::nullopt);
  EXPECT_EQ(activated_fd_count(map_env({{"LISTEN_PID", "7"}}), 7), std::nullopt);
  EXPECT_EQ(activated_fd_count(map_env({{"LISTEN_PID", "7"}, {"LISTEN_FDS", "0"}}), 7),
            std::nullopt);
  EXPECT_EQ(activated_fd_count(map_env({{"LISTEN_PID", "7x"}, {"LISTEN_FDS", "1"}}), 7),
            std::nullopt);
  EXPECT_EQ(activated_fd_count(map_env({{"LISTEN_PID", "7"}, {"LISTEN_FDS", "-1"}}), 7),
            std::nullopt);
  EXPECT_EQ(activated_fd_count(map_env({{"LISTEN_PID", ""}, {"LISTEN_FDS", "1"}}), 7),
            std::nullopt);
}

TEST(NotifySocket, AbsolutePathIsUsedAsItIs) {
  auto address = parse_notify_socket("/run/user/1000/systemd/notify");
  ASSERT_TRUE(address);
  EXPECT_EQ(address->sun_path, "/run/user/1000/systemd/notify");
}

TEST(NotifySocket, LeadingAtMeansTheAbstractNamespace) {
  auto address = parse_notify_socket("@/org/freedesktop/systemd1/notify/123");
  ASSERT_TRUE(address);
  ASSERT_FALSE(address->sun_path.empty());
  EXPECT_EQ(address->sun_path[0], '\0');
  EXPECT_EQ(address->sun_path.substr(1), "/org/freedesktop/systemd1/notify/123");
}

TEST(NotifySocket, RelativeEmptyOrTooLongValuesAreRejected) {
  EXPECT_FALSE(parse_notify_socket(""));
  EXPECT_FALSE(parse_notify_socket("@"));
  EXPECT_FALSE(parse_notify_socket("notify"));
  EXPECT_FALSE(parse_notify_socket("/" + std::string(200, 'a')));
}

TEST(NotifySocket, NothingIsSentWhenTheVariableIsUnset) {
  EXPECT_TRUE(notify_service_manager("READY=1", map_env({})));
}

}  // namespace
}  // namespace dollhouse::daemon
