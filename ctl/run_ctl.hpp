// Entry point of dollhousectl, in the library so tests can link it.
#pragma once

namespace dollhouse::ctl {

// Returns the exit code: 0 done, 1 failed, 2 usage error, 3 daemon unreachable.
int RunCtl(int argc, char** argv);

}  // namespace dollhouse::ctl
