// The WinHTTP transport (Windows): the system's TLS (Schannel), certificate store and proxy
// settings.
//
// Each exchange runs WinHTTP's synchronous calls on a thread of its own and posts the result
// to the I/O thread; a deadline timer on the I/O thread bounds the whole exchange as the Beast
// transport's does. A cancelled or timed-out exchange gets its answer at once; its thread ends
// by itself within WinHTTP's own timeouts (set from HttpTimeouts) and its result is dropped.
//
// Proxy: WinHTTP's automatic proxy (the system's proxy settings, WPAD/PAC), falling back to the
// static WinHTTP proxy setting where the automatic mode is not available; never a proxy for
// plain http:// to this machine (the only plain http:// the endpoint parser allows).
//
// DOLLHOUSE_TELEMETRY_CA_FILE: WinHTTP verifies against the system store only. With a CA file,
// WinHTTP is told to accept an unknown root (every other check it makes stays: host name, dates,
// usage), the request is sent without its body, and before the body goes out the server's
// chain is built with CryptoAPI (CertGetCertificateChain) and accepted only when it is valid up
// to a root the system trusts or to a certificate of the CA file, and passes the SSL policy for
// the endpoint's host name (CertVerifyCertificateChainPolicy). A chain that fails is answered
// as a TLS error and the body is never sent.
#include <windows.h>
// After windows.h, which they build on.
#include <wincrypt.h>
#include <winhttp.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/win32.hpp"
#include "daemon/upload/http_exchange.hpp"

namespace dollhouse::daemon {

namespace asio = boost::asio;

// The extra trust anchors from DOLLHOUSE_TELEMETRY_CA_FILE, as an in-memory certificate store;
// no store when there is no CA file.
class TlsContext {
 public:
  TlsContext() = default;
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  ~TlsContext() {
    if (ca_store_ != nullptr) ::CertCloseStore(ca_store_, 0);
  }

  // A new reference to the store (the caller closes it), or null.
  HCERTSTORE share_ca_store() const {
    return ca_store_ != nullptr ? ::CertDuplicateStore(ca_store_) : nullptr;
  }
  void set_ca_store(HCERTSTORE store) { ca_store_ = store; }

 private:
  HCERTSTORE ca_store_ = nullptr;
};

namespace {

constexpr std::string_view kPemBegin = "-----BEGIN CERTIFICATE-----";
constexpr std::string_view kPemEnd = "-----END CERTIFICATE-----";

std::string last_error_text() {
  return win32::error_text(::GetLastError());
}

// Every certificate of a PEM file, added to a new memory store.
Result<HCERTSTORE> load_ca_file(const std::string& ca_file) {
  std::ifstream in(std::filesystem::path(win32::widen(ca_file)), std::ios::binary);
  if (!in)
    return Status::error("tls_error", "cannot read DOLLHOUSE_TELEMETRY_CA_FILE (" + ca_file + ")");
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  HCERTSTORE store = ::CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, 0, nullptr);
  if (store == nullptr) {
    return Status::error("tls_error", "cannot create a certificate store: " + last_error_text());
  }
  int added = 0;
  for (std::size_t at = pem.find(kPemBegin); at != std::string::npos;
       at = pem.find(kPemBegin, at + kPemBegin.size())) {
    std::size_t end = pem.find(kPemEnd, at);
    if (end == std::string::npos) break;
    std::string block = pem.substr(at, end + kPemEnd.size() - at);
    DWORD size = 0;
    if (!::CryptStringToBinaryA(block.data(), static_cast<DWORD>(block.size()),
                                CRYPT_STRING_BASE64HEADER, nullptr, &size, nullptr, nullptr)) {
      continue;
    }
    std::string der(size, '\0');
    if (!::CryptStringToBinaryA(block.data(), static_cast<DWORD>(block.size()),
                                CRYPT_STRING_BASE64HEADER, reinterpret_cast<BYTE*>(der.data()),
                                &size, nullptr, nullptr)) {
      continue;
    }
    if (::CertAddEncodedCertificateToStore(store, X509_ASN_ENCODING,
                                           reinterpret_cast<const BYTE*>(der.data()), size,
                                           CERT_STORE_ADD_USE_EXISTING, nullptr)) {
      ++added;
    }
  }
  if (added == 0) {
    ::CertCloseStore(store, 0);
    return Status::error("tls_error",
                         "DOLLHOUSE_TELEMETRY_CA_FILE (" + ca_file + ") holds no PEM certificate");
  }
  return store;
}

// A WinHTTP handle closed when it goes out of scope.
class InternetHandle {
 public:
  explicit InternetHandle(HINTERNET h = nullptr) : h_(h) {}
  InternetHandle(const InternetHandle&) = delete;
  InternetHandle& operator=(const InternetHandle&) = delete;
  ~InternetHandle() {
    if (h_ != nullptr) ::WinHttpCloseHandle(h_);
  }
  HINTERNET get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr; }
  void reset(HINTERNET h) {
    if (h_ != nullptr) ::WinHttpCloseHandle(h_);
    h_ = h;
  }

 private:
  HINTERNET h_;
};

DWORD clamp_ms(std::chrono::milliseconds ms) {
  return static_cast<DWORD>(std::clamp<std::int64_t>(ms.count(), 1, 0x7fffffff));
}

// Whether `cert` chains up to a root the system trusts, or to one of `ca_store`'s certificates,
// and is valid for TLS server `host`. Empty when it is; else why not.
std::string verify_chain(PCCERT_CONTEXT cert, HCERTSTORE ca_store, const std::string& host) {
  // The CA file's certificates join the server's own intermediates as material for the chain.
  HCERTSTORE extra = ::CertOpenStore(CERT_STORE_PROV_COLLECTION, 0, 0, 0, nullptr);
  if (extra == nullptr) return "cannot create a certificate store: " + last_error_text();
  ::CertAddStoreToCollection(extra, ca_store, 0, 0);
  if (cert->hCertStore != nullptr) ::CertAddStoreToCollection(extra, cert->hCertStore, 0, 0);

  CERT_CHAIN_PARA para{};
  para.cbSize = sizeof(para);
  LPSTR server_usage = const_cast<LPSTR>(szOID_PKIX_KP_SERVER_AUTH);
  para.RequestedUsage.dwType = USAGE_MATCH_TYPE_AND;
  para.RequestedUsage.Usage.cUsageIdentifier = 1;
  para.RequestedUsage.Usage.rgpszUsageIdentifier = &server_usage;
  PCCERT_CHAIN_CONTEXT chain = nullptr;
  BOOL built = ::CertGetCertificateChain(nullptr, cert, nullptr, extra, &para, 0, nullptr, &chain);
  ::CertCloseStore(extra, 0);
  if (!built || chain == nullptr) return "cannot build the certificate chain: " + last_error_text();

  std::string error;
  DWORD status = chain->TrustStatus.dwErrorStatus;
  bool root_from_ca_file = false;
  if ((status & CERT_TRUST_IS_UNTRUSTED_ROOT) != 0 && chain->cChain > 0) {
    // Not a root the system trusts: then it must be one of the CA file's.
    const CERT_SIMPLE_CHAIN* simple = chain->rgpChain[0];
    PCCERT_CONTEXT root = simple->rgpElement[simple->cElement - 1]->pCertContext;
    PCCERT_CONTEXT found = ::CertFindCertificateInStore(ca_store, X509_ASN_ENCODING, 0,
                                                        CERT_FIND_EXISTING, root, nullptr);
    if (found != nullptr) {
      ::CertFreeCertificateContext(found);
      root_from_ca_file = true;
      status &= ~static_cast<DWORD>(CERT_TRUST_IS_UNTRUSTED_ROOT);
    }
  }
  // Revocation is not asked for (as in the OpenSSL transport); any other problem rejects.
  status &=
      ~static_cast<DWORD>(CERT_TRUST_REVOCATION_STATUS_UNKNOWN | CERT_TRUST_IS_OFFLINE_REVOCATION);
  if (status != CERT_TRUST_NO_ERROR) {
    std::ostringstream why;
    why << "the server's certificate chain is not trusted (CryptoAPI trust status 0x" << std::hex
        << chain->TrustStatus.dwErrorStatus << ")";
    error = why.str();
  } else {
    std::wstring wide_host = win32::widen(host);
    SSL_EXTRA_CERT_CHAIN_POLICY_PARA ssl{};
    ssl.cbSize = sizeof(ssl);
    ssl.dwAuthType = AUTHTYPE_SERVER;
    ssl.fdwChecks = root_from_ca_file ? SECURITY_FLAG_IGNORE_UNKNOWN_CA : 0;
    ssl.pwszServerName = wide_host.data();
    CERT_CHAIN_POLICY_PARA policy{};
    policy.cbSize = sizeof(policy);
    policy.pvExtraPolicyPara = &ssl;
    CERT_CHAIN_POLICY_STATUS result{};
    result.cbSize = sizeof(result);
    if (!::CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_SSL, chain, &policy, &result)) {
      error = "cannot check the certificate chain: " + last_error_text();
    } else if (result.dwError != 0) {
      error = "the server's certificate is not valid for " + host + ": " +
              win32::error_text(result.dwError);
    }
  }
  ::CertFreeCertificateChain(chain);
  return error;
}

std::string winhttp_error(const char* what) {
  DWORD code = ::GetLastError();
  std::string text;
  switch (code) {
    case ERROR_WINHTTP_TIMEOUT:
      text = "timed out";
      break;
    case ERROR_WINHTTP_NAME_NOT_RESOLVED:
      text = "the host name cannot be resolved";
      break;
    case ERROR_WINHTTP_CANNOT_CONNECT:
      text = "the connection was refused or cannot be made";
      break;
    case ERROR_WINHTTP_SECURE_FAILURE:
      text = "TLS handshake failed: the server's certificate was not accepted";
      break;
    case ERROR_WINHTTP_CONNECTION_ERROR:
      text = "the connection was reset";
      break;
    default:
      text = "WinHTTP error " + std::to_string(code);
  }
  return std::string(what) + ": " + text;
}

// A response header as UTF-8; empty when absent.
std::string query_header(HINTERNET request, const wchar_t* name) {
  DWORD size = 0;
  ::WinHttpQueryHeaders(request, WINHTTP_QUERY_CUSTOM, name, WINHTTP_NO_OUTPUT_BUFFER, &size,
                        WINHTTP_NO_HEADER_INDEX);
  if (::GetLastError() != ERROR_INSUFFICIENT_BUFFER || size == 0) return "";
  std::wstring value(size / sizeof(wchar_t) + 1, L'\0');
  if (!::WinHttpQueryHeaders(request, WINHTTP_QUERY_CUSTOM, name, value.data(), &size,
                             WINHTTP_NO_HEADER_INDEX)) {
    return "";
  }
  value.resize(size / sizeof(wchar_t));
  return win32::narrow(value);
}

struct Job {
  Endpoint endpoint;
  HttpRequestSpec request;
  HttpTimeouts timeouts;
  HCERTSTORE ca_store = nullptr;  // owned; null without a CA file
};

// The whole exchange, blocking; runs on the exchange's own thread.
HttpResult run_exchange(const Job& job) {
  HttpResult result;
  auto fail = [&](std::string error) {
    result = HttpResult{};
    result.error = std::move(error);
    return result;
  };
  const std::wstring agent = win32::widen(std::string("dollhouse-telemetryd/") + DOLLHOUSE_VERSION);
  InternetHandle session;
  if (!job.endpoint.tls) {
    session.reset(::WinHttpOpen(agent.c_str(), WINHTTP_ACCESS_TYPE_NO_PROXY, WINHTTP_NO_PROXY_NAME,
                                WINHTTP_NO_PROXY_BYPASS, 0));
  } else {
    session.reset(::WinHttpOpen(agent.c_str(), WINHTTP_ACCESS_TYPE_AUTOMATIC_PROXY,
                                WINHTTP_NO_PROXY_NAME, WINHTTP_NO_PROXY_BYPASS, 0));
    if (!session) {
      session.reset(::WinHttpOpen(agent.c_str(), WINHTTP_ACCESS_TYPE_DEFAULT_PROXY,
                                  WINHTTP_NO_PROXY_NAME, WINHTTP_NO_PROXY_BYPASS, 0));
    }
  }
  if (!session) return fail(winhttp_error("cannot open a WinHTTP session"));

  const DWORD connect_ms = clamp_ms(job.timeouts.connect);
  const DWORD io_ms = clamp_ms(job.timeouts.total);
  ::WinHttpSetTimeouts(session.get(), connect_ms, connect_ms, io_ms, io_ms);
  if (job.endpoint.tls) {
    DWORD protocols = WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_2 | WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_3;
    if (!::WinHttpSetOption(session.get(), WINHTTP_OPTION_SECURE_PROTOCOLS, &protocols,
                            sizeof(protocols))) {
      // Systems without TLS 1.3 in Schannel refuse the flag: TLS 1.2 alone then.
      protocols = WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_2;
      if (!::WinHttpSetOption(session.get(), WINHTTP_OPTION_SECURE_PROTOCOLS, &protocols,
                              sizeof(protocols))) {
        return fail(winhttp_error("cannot require TLS 1.2 or newer"));
      }
    }
  }

  int port = 0;
  for (char c : job.endpoint.port) port = port * 10 + (c - '0');
  const std::wstring host = win32::widen(job.endpoint.host);
  InternetHandle connection(
      ::WinHttpConnect(session.get(), host.c_str(), static_cast<INTERNET_PORT>(port), 0));
  if (!connection) return fail(winhttp_error(("cannot connect to " + job.endpoint.host).c_str()));

  const std::wstring method = win32::widen(job.request.method);
  const std::wstring target = win32::widen(job.request.target);
  InternetHandle request(::WinHttpOpenRequest(
      connection.get(), method.c_str(), target.c_str(), nullptr, WINHTTP_NO_REFERER,
      WINHTTP_DEFAULT_ACCEPT_TYPES, job.endpoint.tls ? WINHTTP_FLAG_SECURE : 0));
  if (!request) return fail(winhttp_error("cannot create the request"));

  // As the Beast transport: no cookies, no redirects followed, no stored credentials, one
  // connection per exchange.
  DWORD features = WINHTTP_DISABLE_COOKIES | WINHTTP_DISABLE_REDIRECTS |
                   WINHTTP_DISABLE_AUTHENTICATION | WINHTTP_DISABLE_KEEP_ALIVE;
  ::WinHttpSetOption(request.get(), WINHTTP_OPTION_DISABLE_FEATURE, &features, sizeof(features));
  DWORD no_autologon = WINHTTP_AUTOLOGON_SECURITY_LEVEL_HIGH;
  ::WinHttpSetOption(request.get(), WINHTTP_OPTION_AUTOLOGON_POLICY, &no_autologon,
                     sizeof(no_autologon));
  if (job.endpoint.tls && job.ca_store != nullptr) {
    // The root may be the CA file's: checked below, before the body is sent.
    DWORD flags = SECURITY_FLAG_IGNORE_UNKNOWN_CA;
    if (!::WinHttpSetOption(request.get(), WINHTTP_OPTION_SECURITY_FLAGS, &flags, sizeof(flags))) {
      return fail(winhttp_error("cannot set the certificate checks"));
    }
  }

  std::wstring headers;
  for (const auto& [name, value] : job.request.headers) {
    headers += win32::widen(name) + L": " + win32::widen(value) + L"\r\n";
  }
  if (!headers.empty() && !::WinHttpAddRequestHeaders(
                              request.get(), headers.c_str(), static_cast<DWORD>(headers.size()),
                              WINHTTP_ADDREQ_FLAG_ADD | WINHTTP_ADDREQ_FLAG_REPLACE)) {
    return fail(winhttp_error("cannot set the request headers"));
  }

  const std::string& body = job.request.body;
  const std::string where = (job.endpoint.tls ? "https://" : "http://") + job.endpoint.host;
  // The headers only; the body follows once the connection is known to be the right one.
  if (!::WinHttpSendRequest(request.get(), WINHTTP_NO_ADDITIONAL_HEADERS, 0,
                            WINHTTP_NO_REQUEST_DATA, 0, static_cast<DWORD>(body.size()), 0)) {
    return fail(winhttp_error(("sending the request to " + where + " failed").c_str()));
  }
  if (job.endpoint.tls && job.ca_store != nullptr) {
    PCCERT_CONTEXT cert = nullptr;
    DWORD size = sizeof(cert);
    if (!::WinHttpQueryOption(request.get(), WINHTTP_OPTION_SERVER_CERT_CONTEXT, &cert, &size) ||
        cert == nullptr) {
      return fail(winhttp_error("TLS handshake failed: no server certificate"));
    }
    std::string why = verify_chain(cert, job.ca_store, job.endpoint.host);
    ::CertFreeCertificateContext(cert);
    if (!why.empty()) return fail("TLS handshake failed: " + why);
  }
  std::size_t sent = 0;
  while (sent < body.size()) {
    DWORD written = 0;
    DWORD chunk = static_cast<DWORD>(std::min<std::size_t>(body.size() - sent, 1 << 20));
    if (!::WinHttpWriteData(request.get(), body.data() + sent, chunk, &written) || written == 0) {
      return fail(winhttp_error("sending the request failed"));
    }
    sent += written;
  }
  if (!::WinHttpReceiveResponse(request.get(), nullptr)) {
    return fail(winhttp_error("reading the response failed"));
  }

  DWORD status = 0;
  DWORD size = sizeof(status);
  if (!::WinHttpQueryHeaders(request.get(), WINHTTP_QUERY_STATUS_CODE | WINHTTP_QUERY_FLAG_NUMBER,
                             WINHTTP_HEADER_NAME_BY_INDEX, &status, &size,
                             WINHTTP_NO_HEADER_INDEX)) {
    return fail(winhttp_error("reading the response failed"));
  }
  result.status = static_cast<int>(status);
  result.retry_after = query_header(request.get(), L"Retry-After");
  char buffer[16 * 1024];
  while (true) {
    DWORD got = 0;
    if (!::WinHttpReadData(request.get(), buffer, sizeof(buffer), &got)) {
      return fail(winhttp_error("reading the response failed"));
    }
    if (got == 0) break;
    if (result.body.size() + got > kMaxResponseBytes) {
      return fail("reading the response failed: the body is longer than " +
                  std::to_string(kMaxResponseBytes) + " bytes");
    }
    result.body.append(buffer, got);
  }
  return result;
}

// What the exchange's thread and the I/O thread share: the thread posts its result only while
// the exchange still waits for it.
struct Shared {
  std::mutex mutex;
  bool waiting = true;
};

class WinHttpExchange final : public HttpExchange,
                              public std::enable_shared_from_this<WinHttpExchange> {
 public:
  WinHttpExchange(asio::io_context& io, HttpTimeouts timeouts, Done done)
      : io_(io),
        deadline_(io),
        timeouts_(timeouts),
        done_(std::move(done)),
        shared_(std::make_shared<Shared>()) {}

  ~WinHttpExchange() override { abandon(); }

  void run(Job job) {
    auto self = shared_from_this();
    deadline_.expires_after(timeouts_.total);
    deadline_.async_wait([self](const boost::system::error_code& ec) {
      if (!ec)
        self->fail("no complete answer within " +
                   std::to_string(self->timeouts_.total.count() / 1000) + " s");
    });
    std::weak_ptr<WinHttpExchange> weak = self;
    std::thread([job = std::move(job), shared = shared_, weak, &io = io_]() mutable {
      HttpResult result = run_exchange(job);
      if (job.ca_store != nullptr) ::CertCloseStore(job.ca_store, 0);
      std::lock_guard lock(shared->mutex);
      if (!shared->waiting) return;
      asio::post(io, [weak, result = std::move(result)]() mutable {
        if (auto exchange = weak.lock()) exchange->finish(std::move(result));
      });
    }).detach();
  }

  void cancel() override { fail("cancelled"); }

 private:
  void abandon() {
    std::lock_guard lock(shared_->mutex);
    shared_->waiting = false;
  }

  void fail(std::string error) {
    HttpResult result;
    result.error = std::move(error);
    finish(std::move(result));
  }

  void finish(HttpResult result) {
    if (!done_) return;
    abandon();
    Done done = std::move(done_);
    done_ = nullptr;
    deadline_.cancel();
    // Run the callback after this handler returns, so it may start another exchange.
    asio::post(io_, [done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  }

  asio::io_context& io_;
  asio::steady_timer deadline_;
  HttpTimeouts timeouts_;
  Done done_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace

Result<std::shared_ptr<TlsContext>> make_tls_context(const std::string& ca_file) {
  auto tls = std::make_shared<TlsContext>();
  if (!ca_file.empty()) {
    auto store = load_ca_file(ca_file);
    if (!store) return store.status();
    tls->set_ca_store(store.value());
  }
  return tls;
}

std::shared_ptr<HttpExchange> HttpExchange::start(asio::io_context& io, TlsContext& tls,
                                                  const Endpoint& endpoint, HttpRequestSpec request,
                                                  HttpTimeouts timeouts, Done done) {
  auto exchange = std::make_shared<WinHttpExchange>(io, timeouts, std::move(done));
  Job job{endpoint, std::move(request), timeouts, tls.share_ca_store()};
  exchange->run(std::move(job));
  return exchange;
}

}  // namespace dollhouse::daemon
