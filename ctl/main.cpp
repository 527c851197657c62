#include "ctl/run_ctl.hpp"

#ifdef _WIN32
#include "common/win32.hpp"

int main() {
  // UTF-8 arguments: argv would hold them in the ANSI code page.
  dollhouse::win32::Utf8Argv args("dollhousectl");
  return dollhouse::ctl::RunCtl(args.argc(), args.argv());
}
#else
int main(int argc, char** argv) {
  return dollhouse::ctl::RunCtl(argc, argv);
}
#endif
