// Scrubber throughput: typical ~200-byte error messages, adversarial 64 KiB inputs, and the same
// adversarial shapes at 16, 64 and 256 KiB to show that time grows linearly with input size.
//
// Each figure comes with a ratio against a baseline measured in the same run over the same
// input: a plain copy of the text plus std::string_view::find passes for "/home/", '@' and "://"
// (roughly the least any scrubber must do). Usage: dollhouse-scrub-bench [seconds-per-case]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "privacy/privacy.hpp"

namespace {

using dollhouse::privacy::MachineIdentity;
using dollhouse::privacy::Scrubber;
using Clock = std::chrono::steady_clock;

// Keeps the optimiser from discarding results.
volatile std::size_t g_sink = 0;

std::size_t baseline(std::string_view text) {
  const std::string copy(text);
  const std::string_view view(copy);
  std::size_t hits = 0;
  for (std::string_view needle :
       {std::string_view("/home/"), std::string_view("@"), std::string_view("://")}) {
    for (auto pos = view.find(needle); pos != std::string_view::npos;
         pos = view.find(needle, pos + 1)) {
      ++hits;
    }
  }
  return hits + copy.size();
}

struct Rate {
  double per_second = 0;  // inputs per second
  double mb_per_second = 0;
};

// Runs `fn` over all inputs repeatedly for at least `seconds`.
template <typename Fn>
Rate measure(const std::vector<std::string>& inputs, double seconds, Fn fn) {
  std::size_t bytes_per_round = 0;
  for (const auto& s : inputs) bytes_per_round += s.size();
  std::size_t rounds = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  do {
    for (const auto& s : inputs) g_sink = g_sink + fn(s);
    ++rounds;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  Rate r;
  r.per_second = static_cast<double>(rounds * inputs.size()) / elapsed;
  r.mb_per_second = static_cast<double>(rounds * bytes_per_round) / elapsed / 1e6;
  return r;
}

std::string repeat_to(std::string_view unit, std::size_t size) {
  std::string out;
  out.reserve(size + unit.size());
  while (out.size() < size) out.append(unit);
  out.resize(size);
  return out;
}

struct Shape {
  const char* name;
  std::string unit;
};

std::vector<Shape> adversarial_shapes() {
  return {
      {"digits and dots", "1.2.3.4.5.6.7.8.9.10."},
      {"'@' repeated", "@"},
      {"base64-ish token", "QWxpY2VMaWRkZWxsV29uZGVybGFuZA"},
      {"password= run", "password=QWxpY2VMaWRkZWxsV29uZGVybGFuZA"},
      {"hex and colons", "a1:b2:c3:"},
      {"email-like runs", "a.b@c.d"},
      {"'/home/' in words", "x/home/"},
      {"name fragments", "alice.liddel wonderland-lapto "},
  };
}

MachineIdentity bench_identity() {
  MachineIdentity who;
  who.user_names = {"alice.liddell"};
  who.real_names = {"Alice Liddell"};
  who.host_names = {"wonderland-laptop.local", "wonderland-laptop"};
  who.home_dirs = {"/home/alice.liddell"};
  return who;
}

std::vector<std::string> typical_messages() {
  return {
      "Error: ENOENT: no such file or directory, open '/home/bob/projects/app/config.json' "
      "at Object.openSync (node:fs:601:3) at PortfolioManager.load (dist/portfolio.js:214:23)",
      "Error: connect ECONNREFUSED 10.0.0.5:5432 at TCPConnectWrap.afterConnect [as oncomplete] "
      "(node:net:1555:16) while syncing portfolio for component MCPServer (attempt 3 of 5)",
      "TypeError: Cannot read properties of undefined (reading 'map') at renderList "
      "(src/components/List.tsx:42:17) at processChild (node_modules/react-dom/cjs.js:10:5)",
      "  File \"/Users/jsmith/venv/lib/python3.11/site-packages/requests/adapters.py\", line "
      "519, in send raise ConnectionError(e, request=request) for maria.garcia@example.org",
      "GitHubAuth: request with credentials ghp_R4nd0mT0k3nV4lu3F0rT3st1ngOnly0000 failed: 401 "
      "Bad credentials; retrying in 250ms with Authorization: Bearer abc123def456ghi789",
      "Faulting application path: C:\\Users\\Alice Liddell\\AppData\\Local\\Programs\\Dollhouse"
      "\\dollhouse.exe; faulting module ntdll.dll, version 10.0.22621.2506, code 0xc0000005",
      "npm ERR! code ERESOLVE npm ERR! ERESOLVE unable to resolve dependency tree npm ERR! peer "
      "react@\"^18.2.0\" from react-dom@18.2.0 npm ERR! node v20.10.0 npm v10.2.3 on linux",
      "SyntaxError: Unexpected token } in JSON at position 42 while parsing settings written at "
      "2025-01-13T09:30:00.000Z by version 1.9.16 (commit "
      "9fceb02d0ae598e95dc970b74767f19372d61af8)",
  };
}

void print_row(const char* label, std::size_t size, const Rate& scrub, const Rate& base) {
  std::printf("  %-22s %8zu B %12.0f msg/s %9.1f MB/s   baseline %9.1f MB/s   ratio %6.1fx\n",
              label, size, scrub.per_second, scrub.mb_per_second, base.mb_per_second,
              base.mb_per_second / scrub.mb_per_second);
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 0.5;
  const Scrubber scrubber(bench_identity());
  auto scrub = [&](const std::string& s) { return scrubber.scrub(s).size(); };
  auto base = [](const std::string& s) { return baseline(s); };

  std::printf("dollhouse-scrub-bench: %.2f s per case; ratio = baseline MB/s / scrub MB/s\n\n",
              seconds);

  const auto typical = typical_messages();
  std::size_t typical_bytes = 0;
  for (const auto& m : typical) typical_bytes += m.size();
  std::printf("Typical messages (%zu messages, %zu bytes on average)\n", typical.size(),
              typical_bytes / typical.size());
  print_row("typical", typical_bytes / typical.size(), measure(typical, seconds, scrub),
            measure(typical, seconds, base));

  std::printf("\nAdversarial inputs, 64 KiB each\n");
  for (const auto& shape : adversarial_shapes()) {
    const std::vector<std::string> input = {repeat_to(shape.unit, 64 * 1024)};
    print_row(shape.name, input[0].size(), measure(input, seconds, scrub),
              measure(input, seconds, base));
  }

  std::printf("\nLinearity: scrub MB/s at 16 KiB, 64 KiB, 256 KiB (flat = linear)\n");
  for (const auto& shape : adversarial_shapes()) {
    std::printf("  %-22s", shape.name);
    double first = 0;
    double last = 0;
    for (std::size_t kib : {16, 64, 256}) {
      const std::vector<std::string> input = {repeat_to(shape.unit, kib * 1024)};
      const Rate r = measure(input, seconds, scrub);
      std::printf(" %9.1f", r.mb_per_second);
      if (first == 0) first = r.mb_per_second;
      last = r.mb_per_second;
    }
    std::printf("   256K/16K throughput %.2f\n", last / first);
  }
  return g_sink == 42 ? 1 : 0;
}
