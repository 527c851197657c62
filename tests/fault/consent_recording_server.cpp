#include "tests/fault/consent_recording_server.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <optional>

#include "daemon/upload/gzip.hpp"

namespace dollhouse::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// One connection: read one request, record it, answer (now or at release()), close.
class RecordingServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, RecordingServer& server)
      : stream_(std::move(socket)), server_(server) {
    parser_.body_limit(kMaxRecordedBodyBytes);
  }

  void start() {
    http::async_read(stream_, buffer_, parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (!ec) self->on_request();
                     });
  }

  void answer(int status) {
    auto response =
        std::make_shared<http::response<http::string_body>>(static_cast<http::status>(status), 11);
    response->set(http::field::content_type, "application/json");
    response->body() = nlohmann::json{{"accepted", accepted_}}.dump();
    response->keep_alive(false);
    response->prepare_payload();
    http::async_write(stream_, *response,
                      [self = shared_from_this(), response](beast::error_code, std::size_t) {
                        beast::error_code ignored;
                        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
                      });
  }

 private:
  void on_request() {
    const auto& message = parser_.get();
    RecordedRequest r;
    r.method = std::string(message.method_string());
    r.target = std::string(message.target());
    for (const auto& field : message) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = std::string(field.value());
    }
    std::optional<std::string> text = message.body();
    if (r.headers["content-encoding"] == "gzip") {
      text = daemon::gzip_decompress(message.body(), kMaxRecordedBodyBytes);
    }
    if (text && !text->empty()) {
      r.body = nlohmann::json::parse(*text, nullptr, false);
      if (r.body.is_discarded()) r.body = nullptr;
    }
    if (r.body.is_object() && r.body.contains("events") && r.body["events"].is_array()) {
      accepted_ = r.body["events"].size();
    }
    r.at = std::chrono::steady_clock::now();
    if (!server_.record(std::move(r), shared_from_this())) answer(server_.status_now());
  }

  beast::tcp_stream stream_;
  RecordingServer& server_;
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
  std::size_t accepted_ = 0;
};

RecordingServer::RecordingServer()
    : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  accept();
  thread_ = std::thread([this] { io_.run(); });
}

RecordingServer::~RecordingServer() {
  io_.stop();
  thread_.join();
  std::lock_guard lock(mutex_);
  held_.clear();
}

std::string RecordingServer::url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/api/v1/telemetry";
}

void RecordingServer::accept() {
  acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec) return;
    std::make_shared<Session>(std::move(socket), *this)->start();
    accept();
  });
}

bool RecordingServer::record(RecordedRequest request, const std::shared_ptr<Session>& session) {
  std::lock_guard lock(mutex_);
  requests_.push_back(std::move(request));
  arrived_.notify_all();
  if (holding_) held_.push_back(session);
  return holding_;
}

int RecordingServer::status_now() const {
  std::lock_guard lock(mutex_);
  return status_;
}

void RecordingServer::hold() {
  std::lock_guard lock(mutex_);
  holding_ = true;
}

void RecordingServer::release(int status) {
  std::vector<std::shared_ptr<Session>> held;
  {
    std::lock_guard lock(mutex_);
    holding_ = false;
    status_ = status;
    held.swap(held_);
  }
  asio::post(io_, [held = std::move(held), status] {
    for (const auto& session : held) session->answer(status);
  });
}

std::vector<RecordedRequest> RecordingServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

bool RecordingServer::wait_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return arrived_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
}

}  // namespace dollhouse::testing
