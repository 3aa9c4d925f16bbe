// Platform-independent random numbers for the nutag fast simulation.
// xoshiro256** seeded through splitmix64 from (seed, stream, entry), and hand-written
// distributions (no <random> distributions, whose output differs between standard libraries),
// so an event is bit-identical on any platform, compiler and thread. Header-only, no statics.
#pragma once

#include <cmath>
#include <cstdint>

namespace nutag::sim {

/// splitmix64 step (Steele, Lea, Flood 2014): advances `state` and returns a well-mixed word.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// xoshiro256** 1.0 (Blackman & Vigna) with the distributions the simulation needs.
class Rng {
 public:
  /// The generator of event `entry` of stream `stream` with master seed `seed`: the three
  /// numbers are hashed together (each through splitmix64), so neighbouring entries get
  /// unrelated sequences and no state is shared between events.
  Rng(std::uint64_t seed, std::uint64_t stream, std::uint64_t entry) {
    std::uint64_t h = seed;
    std::uint64_t k = splitmix64(h) ^ (stream * 0xD1B54A32D192ED03ULL);
    k = splitmix64(k) ^ (entry * 0x8CB92BA72F3D8DD7ULL);
    std::uint64_t sm = splitmix64(k);
    for (auto& w : s_) w = splitmix64(sm);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Uniform in (0, 1]: safe for log().
  double uniform_pos() { return 1.0 - uniform(); }
  double uniform(double a, double b) { return a + (b - a) * uniform(); }
  bool bernoulli(double p) { return uniform() < p; }

  /// Standard normal by the Marsaglia polar method (one value per call; the partner value is
  /// discarded so the state stays a plain 256-bit word — simpler than caching, cost negligible).
  double gauss() {
    double u, v, s;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    return u * std::sqrt(-2.0 * std::log(s) / s);
  }
  double gauss(double mean, double sigma) { return mean + sigma * gauss(); }

  /// Exponential with the given mean.
  double exponential(double mean) { return -mean * std::log(uniform_pos()); }

  /// Exponential with decay length `lambda` truncated to [a, b] (a < b), by inversion.
  double truncated_exponential(double lambda, double a, double b) {
    const double f = 1.0 - std::exp(-(b - a) / lambda);
    return a - lambda * std::log(1.0 - uniform() * f);
  }

  /// Poisson by multiplication of uniforms (means used here are below ~30).
  int poisson(double mean) {
    if (!(mean > 0.0)) return 0;
    if (mean > 60.0) {  // normal approximation, never reached with the default configuration
      const int n = static_cast<int>(std::lround(gauss(mean, std::sqrt(mean))));
      return n < 0 ? 0 : n;
    }
    const double l = std::exp(-mean);
    int k = 0;
    double p = uniform_pos();
    while (p > l) {
      ++k;
      p *= uniform_pos();
    }
    return k;
  }

  /// Gamma distribution with integer shape k and the given mean (sum of k exponentials).
  double gamma_int(int k, double mean) {
    double prod = 1.0;
    for (int i = 0; i < k; ++i) prod *= uniform_pos();
    return -mean / k * std::log(prod);
  }

  /// Gamma distribution of real shape k > 0 and scale theta (mean k theta): Marsaglia & Tsang,
  /// ACM TOMS 26 (2000) 363, with the k < 1 boost x U^(1/k). Needed because the hadronic
  /// shower profile's shape parameter (Bock 1981) is not an integer.
  double gamma(double k, double theta) {
    if (!(k > 0.0)) return 0.0;
    if (k < 1.0) {
      const double boost = std::pow(uniform_pos(), 1.0 / k);
      return gamma(k + 1.0, theta) * boost;
    }
    const double d = k - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      const double x = gauss();
      double v = 1.0 + c * x;
      if (v <= 0.0) continue;
      v = v * v * v;
      const double u = uniform_pos();
      if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v * theta;
    }
  }

  /// Beta(alpha, beta) from two gamma variates: X / (X + Y).
  double beta(double alpha, double beta_) {
    const double x = gamma(alpha, 1.0);
    const double y = gamma(beta_, 1.0);
    return x + y > 0.0 ? x / (x + y) : 0.5;
  }

  /// Moyal distribution (the usual Landau approximation) with location mu and scale c:
  /// if Z is standard normal, Z^2 is chi^2(1) and -ln(Z^2) is Moyal(0, 1) (exact, cheap).
  /// The far upper tail is cut at 12 scale units (probability ~2e-3) to avoid absurd MIPs.
  double moyal(double mu, double c) {
    double z = gauss();
    double x = -std::log(z * z + 1e-300);
    if (x > 12.0) x = 12.0;
    return mu + c * x;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace nutag::sim
