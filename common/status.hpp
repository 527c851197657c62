// Errors as values across module boundaries.
//
// Storage, configuration and IPC calls return a Status or a Result<T> that the caller must look
// at. A Status carries a short machine-readable code ("io_error", "corrupt", ...) and a message
// written for a person: what happened and, where we know it, what to do about it.
// These types are plain values; they are safe to copy between threads.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace dollhouse {

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status error(std::string code, std::string message) {
    Status s;
    s.code_ = std::move(code);
    s.message_ = std::move(message);
    return s;
  }

  bool is_ok() const { return code_.empty(); }
  explicit operator bool() const { return is_ok(); }
  const std::string& code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  std::string code_;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}       // NOLINT: implicit by design
  Result(Status error) : value_(std::move(error)) {}  // NOLINT: implicit by design

  bool is_ok() const { return std::holds_alternative<T>(value_); }
  explicit operator bool() const { return is_ok(); }
  T& value() & { return std::get<T>(value_); }
  const T& value() const& { return std::get<T>(value_); }
  T&& value() && { return std::get<T>(std::move(value_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  // The error; only meaningful when !is_ok().
  const Status& status() const { return std::get<Status>(value_); }

 private:
  std::variant<T, Status> value_;
};

}  // namespace dollhouse
