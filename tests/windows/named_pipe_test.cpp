// The named-pipe transport through the interface the daemon uses (LocalListener, LocalStream)
// and the one clients use (LineConnection): overlapped round trips, concurrent clients,
// deadlines, closing, the user-only access list, refusing a second holder of the name, which
// pipe errors mean that a client left before it was accepted, and that socket activation is
// refused.
#include <windows.h>
// clang-format off
#include <aclapi.h>
#include <sddl.h>
// clang-format on

#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "common/win32.hpp"
#include "ipc/line_connection.hpp"
#include "ipc/local_transport.hpp"
#include "ipc/named_pipe.hpp"
#include "ipc/private_directory.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/windows/wine.hpp"

namespace dollhouse::testing {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string unique_pipe(const std::string& what) {
  static std::atomic<int> counter{0};
  return "\\\\.\\pipe\\dollhouse-test-" + std::to_string(::GetCurrentProcessId()) + "-" +
         std::to_string(counter++) + "-" + what;
}

// A line server on its own io_context thread: answers "echo:<line>" to every line, stays silent
// for lines starting with "silent", and closes the connection after "bye".
class EchoServer {
 public:
  explicit EchoServer(const std::string& name) {
    auto opened = ipc::LocalListener::open(io_.get_executor(), name);
    if (!opened) {
      open_status_ = opened.status();
      return;
    }
    listener_.emplace(std::move(*opened));
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~EchoServer() {
    if (!thread_.joinable()) return;
    asio::post(io_, [this] {
      listener_->close();
      for (auto& c : connections_) ipc::close_stream(c->stream);
    });
    work_.reset();
    thread_.join();
  }

  const Status& open_status() const { return open_status_; }
  int same_user_peers() const { return same_user_peers_; }
  int other_peers() const { return other_peers_; }

 private:
  struct Connection {
    explicit Connection(ipc::LocalStream s) : stream(std::move(s)) {}
    ipc::LocalStream stream;
    asio::streambuf in;
    std::string out;
  };

  void accept() {
    listener_->async_accept([this](const boost::system::error_code& ec, ipc::LocalStream s) {
      if (ec) return;
      if (ipc::peer_is_same_user(s).value_or(false)) {
        ++same_user_peers_;
      } else {
        ++other_peers_;
      }
      auto conn = std::make_shared<Connection>(std::move(s));
      connections_.push_back(conn);
      read(conn);
      accept();
    });
  }

  void read(const std::shared_ptr<Connection>& conn) {
    asio::async_read_until(
        conn->stream, conn->in, '\n',
        [this, conn](const boost::system::error_code& ec, std::size_t n) {
          if (ec) return ipc::close_stream(conn->stream);
          std::string line(asio::buffers_begin(conn->in.data()),
                           asio::buffers_begin(conn->in.data()) + static_cast<long>(n) - 1);
          conn->in.consume(n);
          if (line == "bye") return ipc::close_stream(conn->stream);
          if (line.rfind("silent", 0) == 0) return read(conn);
          conn->out = "echo:" + line + "\n";
          asio::async_write(conn->stream, asio::buffer(conn->out),
                            [this, conn](const boost::system::error_code& wec, std::size_t) {
                              if (!wec) read(conn);
                            });
        });
  }

  asio::io_context io_{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
      asio::make_work_guard(io_)};
  std::optional<ipc::LocalListener> listener_;
  std::vector<std::shared_ptr<Connection>> connections_;
  std::atomic<int> same_user_peers_{0};
  std::atomic<int> other_peers_{0};
  Status open_status_;
  std::thread thread_;
};

Result<ipc::LineConnection> connect(const std::string& name) {
  return ipc::LineConnection::connect(name, Clock::now() + 5s);
}

// An echo server on a pipe of its own, and one client already connected to it.
class EchoPipe : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<EchoServer>(name_);
    ASSERT_TRUE(server_->open_status()) << server_->open_status().message();
    auto opened = connect(name_);
    ASSERT_TRUE(opened) << opened.status().message();
    conn_ = std::move(*opened);
  }

  const std::string name_ =
      unique_pipe(::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::unique_ptr<EchoServer> server_;
  ipc::LineConnection conn_;
};

TEST_F(EchoPipe, OverlappedRoundTripThroughTheDaemonsListener) {
  for (int i = 0; i < 20; ++i) {
    const std::string text = "line " + std::to_string(i);
    ASSERT_TRUE(conn_.send(text + "\n", Clock::now() + 5s));
    auto reply = conn_.read_line(Clock::now() + 5s);
    ASSERT_TRUE(reply) << reply.status().message();
    EXPECT_EQ(*reply, "echo:" + text);
  }
  EXPECT_EQ(server_->same_user_peers(), 1);
  EXPECT_EQ(server_->other_peers(), 0);
}

TEST_F(EchoPipe, LinesLargerThanThePipeBufferArriveWhole) {
  std::string big(3 * ipc::kPipeBufferBytes + 17, 'x');
  for (std::size_t i = 0; i < big.size(); i += 97) big[i] = static_cast<char>('a' + i % 26);
  ASSERT_TRUE(conn_.send(big + "\n", Clock::now() + 10s));
  auto reply = conn_.read_line(Clock::now() + 10s);
  ASSERT_TRUE(reply) << reply.status().message();
  EXPECT_EQ(*reply, "echo:" + big);
}

TEST_F(EchoPipe, ManyMoreClientsAtOnceEachGetTheirOwnReplies) {
  constexpr int kClients = 8;
  constexpr int kLines = 40;
  std::atomic<int> good{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto conn = connect(name_);
      if (!conn) return;
      for (int i = 0; i < kLines; ++i) {
        std::string text = std::to_string(c) + "/" + std::to_string(i);
        if (!conn->send(text + "\n", Clock::now() + 10s)) return;
        auto reply = conn->read_line(Clock::now() + 10s);
        if (reply && *reply == "echo:" + text) ++good;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(good.load(), kClients * kLines);
  EXPECT_EQ(server_->same_user_peers(), kClients + 1);
}

TEST_F(EchoPipe, ReadDeadlineTimesOutAndTheConnectionStaysUsable) {
  ASSERT_TRUE(conn_.send("silent please\n", Clock::now() + 5s));
  auto start = Clock::now();
  auto nothing = conn_.read_line(Clock::now() + 200ms);
  ASSERT_FALSE(nothing);
  EXPECT_EQ(nothing.status().code(), "timeout");
  EXPECT_LT(Clock::now() - start, 5s);
  // A deadline already past still returns a reply that has arrived.
  ASSERT_TRUE(conn_.send("after\n", Clock::now() + 5s));
  std::optional<std::string> reply;
  for (auto until = Clock::now() + 5s; !reply && Clock::now() < until;) {
    auto line = conn_.read_line(Clock::now());
    if (line) reply = *line;
  }
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(*reply, "echo:after");
}

TEST_F(EchoPipe, ServerClosingIsSeenAsClosed) {
  ASSERT_TRUE(conn_.send("bye\n", Clock::now() + 5s));
  auto line = conn_.read_line(Clock::now() + 5s);
  ASSERT_FALSE(line);
  EXPECT_EQ(line.status().code(), "closed");
}

TEST(NamedPipe, NoServerMeansUnreachable) {
  auto conn = connect(unique_pipe("nobody"));
  ASSERT_FALSE(conn);
  EXPECT_EQ(conn.status().code(), "unreachable");
  auto bad = ipc::LineConnection::connect("C:\\not-a-pipe", Clock::now() + 1s);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.status().code(), "invalid_path");
}

TEST(NamedPipe, ClosingTheListenerAbortsItsPendingAccept) {
  asio::io_context io(1);
  auto listener = ipc::LocalListener::open(io.get_executor(), unique_pipe("abort"));
  ASSERT_TRUE(listener) << listener.status().message();
  std::optional<boost::system::error_code> result;
  listener->async_accept(
      [&](const boost::system::error_code& ec, ipc::LocalStream) { result = ec; });
  io.poll();
  EXPECT_FALSE(result.has_value()) << "accept completed with no client";
  listener->close();
  io.run_for(5s);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, asio::error::operation_aborted);
}

TEST(NamedPipe, ASecondListenerOnTheSameNameIsRefused) {
  const std::string name = unique_pipe("twice");
  EchoServer first(name);
  ASSERT_TRUE(first.open_status()) << first.open_status().message();
  asio::io_context io(1);
  auto second = ipc::LocalListener::open(io.get_executor(), name);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.status().code(), "in_use");
}

TEST(NamedPipe, ANameHeldBySomeoneElseIsNotListenedOn) {
  // A squatter created an instance first: the daemon must not serve next to it.
  const std::string name = unique_pipe("squatted");
  auto squatter = ipc::create_pipe_instance(name, /*first=*/false);
  ASSERT_TRUE(squatter) << squatter.status().message();
  asio::io_context io(1);
  auto listener = ipc::LocalListener::open(io.get_executor(), name);
  ASSERT_FALSE(listener);
  EXPECT_EQ(listener.status().code(), "in_use");
  ::CloseHandle(static_cast<HANDLE>(*squatter));
}

TEST(NamedPipe, FirstPipeInstanceFlagRefusesAnExistingName) {
  if (running_under_wine()) {
    GTEST_SKIP() << "Wine accepts FILE_FLAG_FIRST_PIPE_INSTANCE without enforcing it; the "
                    "listener's probe (previous test) covers the squatter there";
  }
  const std::string name = unique_pipe("first");
  auto squatter = ipc::create_pipe_instance(name, /*first=*/false);
  ASSERT_TRUE(squatter) << squatter.status().message();
  auto ours = ipc::create_pipe_instance(name, /*first=*/true);
  ASSERT_FALSE(ours);
  EXPECT_EQ(ours.status().code(), "in_use");
  ::CloseHandle(static_cast<HANDLE>(*squatter));
}

// The DACL of `object` has exactly one entry: allow, for the current user.
void expect_user_only_dacl(PSECURITY_DESCRIPTOR descriptor, PACL dacl) {
  ASSERT_NE(dacl, nullptr) << "no DACL means everyone has access";
  SECURITY_DESCRIPTOR_CONTROL control = 0;
  DWORD revision = 0;
  ASSERT_TRUE(::GetSecurityDescriptorControl(descriptor, &control, &revision));
  EXPECT_TRUE(control & SE_DACL_PROTECTED) << "entries could be inherited from the parent";
  ACL_SIZE_INFORMATION size{};
  ASSERT_TRUE(::GetAclInformation(dacl, &size, sizeof size, AclSizeInformation));
  ASSERT_EQ(size.AceCount, 1u);
  void* ace = nullptr;
  ASSERT_TRUE(::GetAce(dacl, 0, &ace));
  auto* header = static_cast<ACE_HEADER*>(ace);
  ASSERT_EQ(header->AceType, ACCESS_ALLOWED_ACE_TYPE);
  auto* allowed = static_cast<ACCESS_ALLOWED_ACE*>(ace);
  wchar_t* text = nullptr;
  ASSERT_TRUE(::ConvertSidToStringSidW(reinterpret_cast<PSID>(&allowed->SidStart), &text));
  std::string sid = win32::narrow(text);
  ::LocalFree(text);
  auto ours = win32::current_user_sid();
  ASSERT_TRUE(ours);
  EXPECT_EQ(sid, *ours);
}

TEST(NamedPipe, EveryInstanceAdmitsOnlyTheCurrentUser) {
  auto pipe = ipc::create_pipe_instance(unique_pipe("dacl"), /*first=*/true);
  ASSERT_TRUE(pipe) << pipe.status().message();
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  ASSERT_EQ(
      ::GetSecurityInfo(static_cast<HANDLE>(*pipe), SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION,
                        nullptr, nullptr, &dacl, nullptr, &descriptor),
      static_cast<DWORD>(ERROR_SUCCESS));
  expect_user_only_dacl(descriptor, dacl);
  ::LocalFree(descriptor);
  ::CloseHandle(static_cast<HANDLE>(*pipe));
}

TEST(NamedPipe, APipeClientThatClosedFirstMeansTheClientLeftBeforeAccept) {
  const auto& system = boost::system::system_category();
  EXPECT_EQ(ERROR_NO_DATA, 232);
  EXPECT_EQ(ERROR_PIPE_NOT_CONNECTED, 233);
  EXPECT_TRUE(ipc::client_left_before_accept(boost::system::error_code(ERROR_NO_DATA, system)));
  EXPECT_TRUE(
      ipc::client_left_before_accept(boost::system::error_code(ERROR_PIPE_NOT_CONNECTED, system)));
  // The same numbers in another category, and the pipe errors of the listener itself, do not.
  EXPECT_FALSE(ipc::client_left_before_accept(
      boost::system::error_code(ERROR_NO_DATA, boost::system::generic_category())));
  EXPECT_FALSE(ipc::client_left_before_accept(boost::system::error_code(ERROR_PIPE_BUSY, system)));
  EXPECT_FALSE(
      ipc::client_left_before_accept(boost::system::error_code(ERROR_ACCESS_DENIED, system)));
  EXPECT_FALSE(
      ipc::client_left_before_accept(boost::system::error_code(ERROR_BROKEN_PIPE, system)));
}

TEST(NamedPipe, AdoptingASocketIsUnsupported) {
  asio::io_context io;
  auto adopted = ipc::LocalListener::adopt(io.get_executor(), 3);
  ASSERT_FALSE(adopted);
  EXPECT_EQ(adopted.status().code(), "unsupported");
}

TEST(PrivateDirectory, AdmitsOnlyTheCurrentUser) {
  TempDir dir;
  const std::string data_root = dir.file("data\\root");
  ASSERT_TRUE(ipc::prepare_private_directory(data_root));
  ASSERT_TRUE(std::filesystem::is_directory(win32::widen(data_root)));
  // Running it again on the existing directory is fine (the daemon does at every start).
  ASSERT_TRUE(ipc::prepare_private_directory(data_root));
  if (running_under_wine()) {
    GTEST_SKIP() << "Wine does not store file access lists; it reports one made up from the "
                    "Unix mode bits, so only Windows can check the directory's DACL";
  }
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  ASSERT_EQ(::GetNamedSecurityInfoW(win32::widen(data_root).c_str(), SE_FILE_OBJECT,
                                    DACL_SECURITY_INFORMATION, nullptr, nullptr, &dacl, nullptr,
                                    &descriptor),
            static_cast<DWORD>(ERROR_SUCCESS));
  expect_user_only_dacl(descriptor, dacl);
  ::LocalFree(descriptor);
}

TEST(PrivateDirectory, AFileInTheWayIsRefusedNotReplaced) {
  TempDir dir;
  const std::string path = dir.file("not-a-directory");
  { std::ofstream(std::filesystem::path(win32::widen(path))) << "keep me"; }
  Status st = ipc::prepare_private_directory(path);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), "insecure_path");
  EXPECT_TRUE(std::filesystem::is_regular_file(win32::widen(path)));
}

TEST(Win32Text, Utf8AndUtf16RoundTrip) {
  const std::string text = "Grüße, 世界, \xF0\x9F\x8E\x89";
  EXPECT_EQ(win32::narrow(win32::widen(text)), text);
  EXPECT_EQ(win32::widen("abc"), L"abc");
  EXPECT_NE(win32::error_text(ERROR_FILE_NOT_FOUND).find("(error 2)"), std::string::npos);
}

}  // namespace
}  // namespace dollhouse::testing
