// The EventStore contract: behaviour every implementation must show, written once against the
// interface. An implementation joins by instantiating EventStoreContract with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, EventStoreContract, ::testing::Values(MyFactory()),
//                            EventStoreContract::factory_name);
//
// Each test gets a fresh private directory; the factory opens (or reopens) the store kept there.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "daemon/storage/event_store.hpp"
#include "tests/support/temp_dir.hpp"

namespace dollhouse::daemon::contract {

struct EventStoreFactory {
  std::string name;
  // Opens the store kept in `dir`, creating it the first time. Fails the test when it cannot.
  std::function<std::unique_ptr<EventStore>(const std::string& dir)> open;
  // Marks one event as sent. The interface leaves sending to the upload path, so each
  // implementation says how its tests reach that state.
  std::function<void(EventStore& store, const std::string& dir, std::int64_t id)> mark_sent;
  // Whether what was committed is still there after the store is closed and opened again.
  bool persistent = true;
};

class EventStoreContract : public ::testing::TestWithParam<EventStoreFactory> {
 public:
  static std::string factory_name(const ::testing::TestParamInfo<EventStoreFactory>& info) {
    return info.param.name;
  }

 protected:
  void SetUp() override { store_ = GetParam().open(dir_.path()); }

  // Closes the store and opens it again from what it left behind.
  void reopen() {
    store_.reset();
    store_ = GetParam().open(dir_.path());
  }
  void mark_sent(std::int64_t id) { GetParam().mark_sent(*store_, dir_.path(), id); }

  // Appends and fails the test on error.
  void add(std::int64_t created_ms, const std::string& type, const std::string& body,
           const std::string& app = "dollhousemcp") {
    Status st = store_->append(created_ms, type, app, body);
    ASSERT_TRUE(st) << st.message();
  }

  EventStore& store() { return *store_; }

  dollhouse::testing::TempDir dir_;
  std::unique_ptr<EventStore> store_;
};

}  // namespace dollhouse::daemon::contract
