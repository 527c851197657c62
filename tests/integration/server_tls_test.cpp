// HTTPS: the server with a certificate signed by a CA made at test time with the openssl CLI;
// a client that verifies chain and address gets through, plain HTTP and untrusted CAs do not.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "tests/integration/server_harness.hpp"
#include "tests/unit/server/server_samples.hpp"

namespace dollhouse::testing {
namespace {

using namespace server::samples;

class ServerTls : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/usr/bin/openssl", X_OK) != 0) {
      GTEST_SKIP() << "TLS test skipped: the openssl command is not installed";
    }
    ASSERT_TRUE(make_ca("ca"));
    ASSERT_TRUE(make_ca("other-ca"));
    std::ofstream(dir_.file("ext.cnf")) << "subjectAltName=IP:127.0.0.1\n"
                                           "extendedKeyUsage=serverAuth\n";
    ASSERT_TRUE(openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                         "-nodes", "-keyout", dir_.file("server.key"), "-out",
                         dir_.file("server.csr"), "-subj", "/CN=127.0.0.1"}));
    ASSERT_TRUE(openssl({"x509", "-req", "-in", dir_.file("server.csr"), "-CA", dir_.file("ca.pem"),
                         "-CAkey", dir_.file("ca.key"), "-CAcreateserial", "-out",
                         dir_.file("server.pem"), "-days", "2", "-extfile", dir_.file("ext.cnf")}));
  }

  bool make_ca(const std::string& name) {
    return openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", dir_.file(name + ".key"), "-out", dir_.file(name + ".pem"),
                    "-days", "2", "-subj", "/CN=Dollhouse Test " + name, "-addext",
                    "basicConstraints=critical,CA:TRUE", "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign"});
  }

  bool openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/bin/openssl");
    RunResult r = run_process(args, base_env(dir_.path()));
    if (r.exit_code != 0) ADD_FAILURE() << r.err;
    return r.exit_code == 0;
  }

  TempDir dir_;
};

TEST_F(ServerTls, VerifiedClientsAreServedOverHttps) {
  ServerProcess server(
      {"--tls-cert", dir_.file("server.pem"), "--tls-key", dir_.file("server.key")});
  ASSERT_TRUE(server.running()) << server.process().err();
  EXPECT_NE(server.process().err().find("listening on https://"), std::string::npos);
  HttpClient c("127.0.0.1", server.port(), dir_.file("ca.pem"));
  EXPECT_EQ(c.get("/healthz").status, 200);
  HttpReply r = c.post_batch(batch(uuid(1), uuid(100), {stamp(crash(), uuid(1))}), true);
  EXPECT_EQ(r.status, 202) << r.error;
  EXPECT_EQ(c.get("/healthz").status, 200);
  EXPECT_EQ(c.connections_opened(), 1);  // keep-alive over TLS

  HttpClient untrusted("127.0.0.1", server.port(), dir_.file("other-ca.pem"));
  HttpReply refused = untrusted.get("/healthz");
  EXPECT_EQ(refused.status, 0);
  EXPECT_FALSE(refused.error.empty());

  HttpClient plain("127.0.0.1", server.port());
  EXPECT_EQ(plain.get("/healthz").status, 0);
  // The server survives both and still serves.
  HttpClient again("127.0.0.1", server.port(), dir_.file("ca.pem"));
  EXPECT_EQ(again.get("/healthz").status, 200);
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(ServerTls, ACertificateWithoutItsKeyIsAUsageError) {
  RunResult r = run_process({build_bin("dollhouse-telemetry-server"), "--listen", "127.0.0.1:0",
                             "--database", dir_.file("db"), "--tls-cert", dir_.file("server.pem")},
                            base_env(dir_.path()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--tls-key"), std::string::npos);
  RunResult wrong = run_process(
      {build_bin("dollhouse-telemetry-server"), "--listen", "127.0.0.1:0", "--database",
       dir_.file("db"), "--tls-cert", dir_.file("server.pem"), "--tls-key", dir_.file("ca.key")},
      base_env(dir_.path()));
  EXPECT_EQ(wrong.exit_code, 2) << wrong.err;
}

}  // namespace
}  // namespace dollhouse::testing
