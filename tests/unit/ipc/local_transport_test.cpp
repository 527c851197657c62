// Which accept errors only mean that the client left: the same answers on every platform (the
// Windows pipe errors are checked in tests/windows/named_pipe_test.cpp).
#include "ipc/local_transport.hpp"

#include <gtest/gtest.h>

#include <boost/asio/error.hpp>

namespace dollhouse::ipc {
namespace {

namespace asio = boost::asio;

TEST(ClientLeftBeforeAccept, AnAbortedOrResetConnectionMeansTheClientLeft) {
  EXPECT_TRUE(client_left_before_accept(asio::error::connection_aborted));
  EXPECT_TRUE(client_left_before_accept(asio::error::connection_reset));
}

TEST(ClientLeftBeforeAccept, TheListenersOwnErrorsDoNot) {
  EXPECT_FALSE(client_left_before_accept(boost::system::error_code()));
  EXPECT_FALSE(client_left_before_accept(asio::error::operation_aborted));
  EXPECT_FALSE(client_left_before_accept(asio::error::no_descriptors));
  EXPECT_FALSE(client_left_before_accept(asio::error::access_denied));
  EXPECT_FALSE(client_left_before_accept(asio::error::bad_descriptor));
}

}  // namespace
}  // namespace dollhouse::ipc
