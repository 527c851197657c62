// A server's route table over a real SQLite file, with an injected clock, for tests that call
// the handlers directly (no sockets).
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "server/routes/routes.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/unit/server/fake_clock.hpp"
#include "tests/unit/server/server_samples.hpp"

namespace dollhouse::server::samples {

class RoutesFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = open_storage(dir_.file("server.db"));
    ASSERT_TRUE(opened.is_ok());
    storage_ = std::move(*opened);
    ctx_.reset(new ServerContext{
        *storage_, clock_, scrubber_, bucket_, limits_, {}, clock_.now(), stats_token_});
  }

  Response post(const json& body, const std::string& content_type = "application/json") {
    Request r;
    r.method = "POST";
    r.path = "/api/v1/telemetry";
    r.content_type = content_type;
    r.telemetry_version = "1.0";
    r.body = body.is_string() ? body.get<std::string>() : body.dump();
    return route(*ctx_, r);
  }
  Response request(const std::string& method, const std::string& path,
                   std::map<std::string, std::string> query = {},
                   const std::string& authorization = "") {
    Request r;
    r.method = method;
    r.path = path;
    r.query = std::move(query);
    r.authorization = authorization;
    return route(*ctx_, r);
  }
  json stats(const std::string& view, const std::string& from = "2025-01-01",
             const std::string& to = "2025-01-31", const std::string& app = "") {
    std::map<std::string, std::string> query = {{"from", from}, {"to", to}};
    if (!app.empty()) query["app"] = app;
    Response r = request("GET", "/api/v1/stats/" + view, query);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }
  std::int64_t raw_events() { return storage_->counts()->raw_events; }

  ::dollhouse::testing::TempDir dir_;
  FakeClock clock_{at("2025-01-13T12:00:00Z")};
  privacy::Scrubber scrubber_;
  TokenBucket bucket_{0, 0, {}};
  Limits limits_{};
  std::string stats_token_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<ServerContext> ctx_;
};

}  // namespace dollhouse::server::samples
