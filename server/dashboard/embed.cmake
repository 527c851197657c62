# Writes a C++ file defining `std::string_view FUNCTION()` that returns the bytes of INPUT.
# Usage: cmake -DINPUT=file -DOUTPUT=file.cpp -DFUNCTION=name -P embed.cmake
file(READ "${INPUT}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
file(WRITE "${OUTPUT}.tmp" "// Generated from ${INPUT} by embed.cmake; do not edit.\n"
  "#include \"server/dashboard/assets.hpp\"\n\nnamespace dollhouse::server {\n\n"
  "namespace {\nconst unsigned char kData[] = {\n${bytes}0x00};\n}  // namespace\n\n"
  "std::string_view ${FUNCTION}() { return std::string_view(reinterpret_cast<const char*>(kData), ${size}); }\n\n"
  "}  // namespace dollhouse::server\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
