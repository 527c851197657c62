#include <sstream>

#include "daemon/platform_info.hpp"

namespace dollhouse::daemon {

std::string arch_from_machine(const std::string& m) {
  if (m == "x86_64" || m == "amd64") return "x64";
  if (m == "aarch64" || m == "arm64") return "arm64";
  if (m == "i386" || m == "i486" || m == "i586" || m == "i686" || m == "x86") return "x86";
  return "unknown";
}

std::string linux_os_version(const std::string& text) {
  std::string id, version_id;
  std::istringstream in(text);
  std::string line;
  auto value_of = [](const std::string& l, std::size_t eq) {
    std::string v = l.substr(eq + 1);
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'')) v = v.substr(1, v.size() - 2);
    return v;
  };
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq);
    if (key == "ID") id = value_of(line, eq);
    if (key == "VERSION_ID") version_id = value_of(line, eq);
  }
  // Only a short, plain distribution id and the major version: nothing machine-specific.
  std::string name;
  for (char c : id) {
    if (name.size() >= 16) break;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');  // ID should be lower case
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') name.push_back(c);
  }
  std::string major;
  for (char c : version_id) {
    if (c < '0' || c > '9' || major.size() >= 4) break;
    major.push_back(c);
  }
  if (name.empty()) return "Linux";
  if (name[0] >= 'a' && name[0] <= 'z') name[0] = static_cast<char>(name[0] - 'a' + 'A');
  return major.empty() ? name : name + " " + major;
}

}  // namespace dollhouse::daemon
