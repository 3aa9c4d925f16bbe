// Physics tests of the nutag fast simulation: K+ -> mu+ nu kinematics, decay-z distribution,
// reproducibility, and the reconstructed Kmu2 m_miss^2 resolution. Standalone, assert-based.
#include <cassert>
#include <cmath>
#include <cstdio>
#include <vector>

#include "nutag/geometry.hpp"
#include "nutag/kinematics.hpp"
#include "nutag/sim/generator.hpp"
#include "nutag/sim/physics.hpp"

using namespace nutag;
using namespace nutag::sim;

static void test_kmu2_momentum_range() {
  // At exactly 75 GeV/c the mu+ momentum spans [3.4, 75] GeV/c and m_miss^2 is exactly 0.
  Rng rng(1, 0, 0);
  const FourVector k = four_vector(Vector(0, 0, 75.0), kMassKaon);
  double pmin = 1e9, pmax = 0, m2max = 0;
  for (int i = 0; i < 200000; ++i) {
    Daughter d[8];
    const int n = decay_kaon(rng, k, kProcMuNu, d);
    assert(n == 2 && d[0].pdg == -13 && d[1].pdg == 14);
    const double p = d[0].p4.P();
    pmin = std::min(pmin, p);
    pmax = std::max(pmax, p);
    m2max = std::max(m2max, std::fabs(missing_mass2(k.Vect(), d[0].p4.Vect())));
  }
  std::printf("Kmu2 p_mu range [%.4f, %.4f] GeV/c, max |m_miss^2| %.2e\n", pmin, pmax, m2max);
  std::fflush(stdout);
  assert(pmin > 3.35 && pmin < 3.5);
  assert(pmax > 74.8 && pmax < 75.001);  // p_mu max = 75.0003: the nu can be softer than m_K^2/2p
  assert(m2max < 1e-9);
  assert(std::fabs(two_body_momentum(kMassKaon, kMassMuon, 0.0) - 0.23553) < 2e-5);
}

static void test_decay_z_slope() {
  SimConfig cfg;
  cfg.beam_momentum_spread = 0.0;
  const double lambda = 75.0 / kMassKaon * kCTauKaon_mm;  // 563.8 m
  assert(std::fabs(lambda - 563.8e3) < 0.5e3);
  const double a = cfg.fiducial_z_min, b = cfg.fiducial_z_max, len = b - a;
  const double expected = a + lambda - len * std::exp(-len / lambda) / (1.0 - std::exp(-len / lambda));
  const int n = 100000;
  double s = 0;
  for (int i = 0; i < n; ++i) {
    const Event ev = generate_event(cfg, kKmu2, 3, static_cast<ULong64_t>(i));
    assert(ev.true_decay_z >= a && ev.true_decay_z <= b);
    s += ev.true_decay_z;
  }
  const double mean = s / n;
  const double err = len / std::sqrt(12.0 * n);
  std::printf("decay z mean %.1f mm, truncated-exponential expectation %.1f +- %.1f mm\n", mean,
              expected, err);
  assert(std::fabs(mean - expected) < 4.0 * err);
  assert(mean < 0.5 * (a + b));  // exponential: more decays upstream
}

static bool same(const Event& x, const Event& y) {
  auto eqv = [](const auto& u, const auto& v) {
    if (u.size() != v.size()) return false;
    for (std::size_t i = 0; i < u.size(); ++i)
      if (u[i] != v[i]) return false;
    return true;
  };
  return x.event_id == y.event_id && x.trigger_nu == y.trigger_nu &&
         x.trigger_control == y.trigger_control && x.trigger_time == y.trigger_time &&
         x.ktag_time == y.ktag_time && x.gtk_px == y.gtk_px && x.gtk_pz == y.gtk_pz &&
         eqv(x.straw_px, y.straw_px) && eqv(x.straw_pz, y.straw_pz) && eqv(x.lkr_e, y.lkr_e) &&
         eqv(x.lkr_x, y.lkr_x) && eqv(x.muv1_e, y.muv1_e) && eqv(x.muv3_tile, y.muv3_tile) &&
         eqv(x.muv3_time, y.muv3_time) && x.weight == y.weight && x.true_decay_z == y.true_decay_z &&
         x.true_y == y.true_y;
}

static void test_reproducibility() {
  const SimConfig cfg;
  for (int stream = kKmu2; stream <= kMinimumBias; ++stream) {
    for (ULong64_t entry = 0; entry < 50; ++entry) {
      const Event a = generate_event(cfg, stream, 42, entry);
      const Event b = generate_event(cfg, stream, 42, entry);
      assert(same(a, b));
      const Event c = generate_event(cfg, stream, 42, entry + 1);
      assert(a.true_decay_z != c.true_decay_z && a.gtk_pz != c.gtk_pz);
      const Event d = generate_event(cfg, stream, 43, entry);
      assert(a.true_decay_z != d.true_decay_z);
      assert(std::isfinite(a.weight) && a.weight >= 0.0);
    }
  }
  bool threw = false;
  try {
    generate_event(cfg, 7, 1, 0);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  assert(threw);
  std::printf("reproducibility: identical events for identical (seed, stream, entry)\n");
}

static void test_mmiss2_resolution() {
  // Simple Kmu2 selection: one positive track 5-70 GeV/c, K+ 72-78 GeV/c, CDA < 5 mm.
  const SimConfig cfg;
  std::vector<double> m2;
  for (ULong64_t i = 0; i < 60000; ++i) {
    const Event ev = generate_event(cfg, kKmu2, 11, i);
    if (ev.straw_n != 1 || ev.straw_charge[0] != 1) continue;
    const Vector pm(ev.straw_px[0], ev.straw_py[0], ev.straw_pz[0]);
    const Vector pk(ev.gtk_px, ev.gtk_py, ev.gtk_pz);
    const double p = std::sqrt(pm.Mag2()), pkm = std::sqrt(pk.Mag2());
    if (p < 5 || p > 70 || pkm < 72 || pkm > 78) continue;
    const Vertex v = closest_approach(Line{Point(ev.gtk_x, ev.gtk_y, kZGtk3_mm), pk},
                                      Line{Point(ev.straw_x[0], ev.straw_y[0], kZStraw1_mm), pm});
    if (v.cda > 5.0) continue;
    m2.push_back(missing_mass2(pk, pm));
  }
  assert(m2.size() > 20000);
  // Gaussian core: iterative 2.5-sigma clipping, corrected for the truncation (rms/sigma = 0.9546).
  double mu = 0, sg = 1e-3;
  for (int it = 0; it < 30; ++it) {
    double s0 = 0, s1 = 0, s2 = 0;
    for (double x : m2)
      if (std::fabs(x - mu) < 2.5 * sg) { s0 += 1; s1 += x; s2 += x * x; }
    mu = s1 / s0;
    sg = std::sqrt(s2 / s0 - mu * mu) / 0.9546;
  }
  std::printf("Kmu2 m_miss^2: %zu selected, core mean %.2e sigma %.3e GeV^2/c^4\n", m2.size(), mu,
              sg);
  assert(std::fabs(mu) < 1e-4);
  assert(sg > 0.7e-3 && sg < 1.0e-3);
}

int main() {
  test_kmu2_momentum_range();
  test_decay_z_slope();
  test_reproducibility();
  test_mmiss2_resolution();
  std::printf("test_sim_kinematics: OK\n");
  return 0;
}
