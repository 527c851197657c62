// Human output of dollhousectl: relative times and aligned "label: value" rows. Pure.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/clock.hpp"

namespace dollhouse::ctl {

// "just now", "5 minutes ago", "3 days ago", "in 2 hours"; the input text when unparsable.
std::string relative_time(const std::string& iso8601, SystemTime now);

// Rows as "label  value", labels padded to the widest; multi-line values are indented.
std::string aligned_rows(const std::vector<std::pair<std::string, std::string>>& rows);

}  // namespace dollhouse::ctl
