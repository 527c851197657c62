#include "ctl/run_ctl.hpp"

int main(int argc, char** argv) {
  return dollhouse::ctl::RunCtl(argc, argv);
}
