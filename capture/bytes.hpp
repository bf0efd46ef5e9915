// Bounds-checked big-endian reads over a byte span. Every parser goes through these so that a
// truncated or hostile frame can only yield "not parsed", never a read past the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace clinicwatch {

using Bytes = std::span<const std::uint8_t>;

inline std::uint16_t load_be16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t load_be32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}
inline std::uint16_t load_le16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
inline std::uint32_t load_le32(const std::uint8_t* p) {
    return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
           (std::uint32_t{p[3]} << 24);
}

// A cursor that refuses to move or read past the end of its span.
class ByteReader {
  public:
    explicit ByteReader(Bytes data) : data_(data) {}

    std::size_t offset() const { return pos_; }
    std::size_t remaining() const { return data_.size() - pos_; }
    bool has(std::size_t n) const { return remaining() >= n; }
    Bytes rest() const { return data_.subspan(pos_); }

    std::optional<std::uint8_t> u8() {
        if (!has(1)) return std::nullopt;
        return data_[pos_++];
    }
    std::optional<std::uint16_t> be16() {
        if (!has(2)) return std::nullopt;
        auto v = load_be16(data_.data() + pos_);
        pos_ += 2;
        return v;
    }
    std::optional<std::uint32_t> be32() {
        if (!has(4)) return std::nullopt;
        auto v = load_be32(data_.data() + pos_);
        pos_ += 4;
        return v;
    }
    std::optional<std::uint16_t> le16() {
        if (!has(2)) return std::nullopt;
        auto v = load_le16(data_.data() + pos_);
        pos_ += 2;
        return v;
    }
    std::optional<std::uint32_t> le32() {
        if (!has(4)) return std::nullopt;
        auto v = load_le32(data_.data() + pos_);
        pos_ += 4;
        return v;
    }
    std::optional<Bytes> take(std::size_t n) {
        if (!has(n)) return std::nullopt;
        auto v = data_.subspan(pos_, n);
        pos_ += n;
        return v;
    }
    bool skip(std::size_t n) {
        if (!has(n)) return false;
        pos_ += n;
        return true;
    }

  private:
    Bytes data_;
    std::size_t pos_ = 0;
};

inline std::string_view as_chars(Bytes b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace clinicwatch
