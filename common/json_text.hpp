// Facts about JSON text found without parsing it, so that they can be checked before a parser
// (whose recursion they bound) ever sees the text. Shared by the daemon's protocol and the
// server's ingestion route.
#pragma once
#include <string_view>

namespace dollhouse {

// The deepest nesting of arrays and objects in `text` ("[]" is 1; brackets inside strings do
// not count). Linear and allocation-free; malformed text is measured as far as it goes.
int json_nesting_depth(std::string_view text);

}  // namespace dollhouse
