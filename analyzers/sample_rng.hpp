// The random slot picker of the bounded tables' sampled eviction. splitmix64 with a
// multiply-shift range: floods evict on every insert, and this is several times cheaper than
// mt19937_64 with uniform_int_distribution. Not for anything that needs real randomness.
#pragma once

#include <cstddef>
#include <cstdint>

namespace clinicwatch {

class SampleRng {
  public:
    explicit SampleRng(std::uint64_t seed) : state_(seed) {}
    // A value in [0, n); n must be > 0.
    std::size_t pick(std::size_t n) {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        return static_cast<std::size_t>((static_cast<unsigned __int128>(z) * n) >> 64);
    }

  private:
    std::uint64_t state_;
};

}  // namespace clinicwatch
