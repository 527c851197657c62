#include "ctl/run_ctl.hpp"

#ifdef _WIN32
#include <string>
#include <vector>

#include "common/win32.hpp"

int main() {
  // UTF-8 arguments: argv would hold them in the ANSI code page.
  std::vector<std::string> args = dollhouse::win32::utf8_arguments();
  if (args.empty()) args.push_back("dollhousectl");  // CLI11 reads argv[0]
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return dollhouse::ctl::RunCtl(static_cast<int>(args.size()), argv.data());
}
#else
int main(int argc, char** argv) {
  return dollhouse::ctl::RunCtl(argc, argv);
}
#endif
