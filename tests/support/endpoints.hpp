// An ingestion URL on loopback where nothing listens (the discard port): tests that need a
// configured uploader point it here, so nothing ever leaves the machine and every attempt is
// refused at once.
#pragma once

namespace dollhouse::testing {

inline constexpr const char* kRefusedEndpoint = "http://127.0.0.1:9/api/v1/telemetry";

}  // namespace dollhouse::testing
