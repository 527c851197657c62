// Checking that bytes are UTF-8: the wire protocol refuses a line that is not, the client library
// refuses such an event from the app, and the privacy engine such a string field. Pure; safe from
// any thread.
#pragma once

#include <string_view>

namespace dollhouse {

// True when `bytes` are well-formed UTF-8: no overlong forms, surrogates (U+D800..U+DFFF), code
// points past U+10FFFF, truncated sequences or stray continuation bytes. NUL is allowed.
bool is_valid_utf8(std::string_view bytes);

}  // namespace dollhouse
