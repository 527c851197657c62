// Collecting MachineIdentity's names (identity_posix.cpp, identity_windows.cpp).
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace dollhouse::privacy {

// Adds `value` without trailing spaces, unless it is empty or already listed.
inline void add_identity_name(std::vector<std::string>& list, std::string value) {
  while (!value.empty() && value.back() == ' ') value.pop_back();
  if (value.empty() || std::find(list.begin(), list.end(), value) != list.end()) return;
  list.push_back(std::move(value));
}

}  // namespace dollhouse::privacy
