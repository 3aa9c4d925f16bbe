// Physics tests of the nutag fast simulation: nu_mu CC interaction probability and kinematics,
// muon range to MUV3, stream weights and the preselection. Standalone, assert-based.
#include <cassert>
#include <cmath>
#include <cstdio>

#include "nutag/geometry.hpp"
#include "nutag/sim/detector.hpp"
#include "nutag/sim/generator.hpp"
#include "nutag/sim/physics.hpp"

using namespace nutag;
using namespace nutag::sim;

static void test_interaction_probability() {
  SimConfig cfg;
  cfg.nu_neutron_excess = 1.0;  // isoscalar: the spec's 6.5e-11 at 52 GeV over 127 cm
  const double p0 = cc_interaction_probability(cfg, 52.0, 1270.0);
  const double pd = cc_interaction_probability(SimConfig{}, 52.0, 1270.0);
  std::printf("P_int(52 GeV, 127 cm): isoscalar %.3e, with Kr neutron excess %.3e\n", p0, pd);
  assert(std::fabs(p0 / 6.5e-11 - 1.0) < 0.01);
  assert(std::fabs(pd / 6.5e-11 - 1.0) < 0.05);
}

static void test_cc_kinematics() {
  const SimConfig cfg;
  Rng rng(5, 1, 0);
  const Vector pnu(0.0, 0.05, 52.0);
  const int n = 100000;
  double sy = 0, sx = 0, maxpt = 0;
  for (int i = 0; i < n; ++i) {
    const CCInteraction cc = sample_cc_interaction(cfg, rng, pnu);
    sy += cc.y;
    sx += cc.x;
    // the hadrons balance the mu- (momentum conservation with the target at rest)
    const Vector sum = cc.p_muon + cc.p_hadrons - pnu;
    assert(std::sqrt(sum.Mag2()) < 1e-9);
    const double emu = std::sqrt(cc.p_muon.Mag2() + kMassMuon * kMassMuon);
    assert(std::fabs(emu - (1.0 - cc.y) * std::sqrt(pnu.Mag2())) < 1e-6);
    maxpt = std::max(maxpt, std::sqrt(cc.p_muon.Cross(pnu.Unit()).Mag2()));
  }
  std::printf("CC at 52 GeV: <y> = %.3f (analytic 0.484 for eps = 0.2), <x> = %.3f, max pT %.2f\n",
              sy / n, sx / n, maxpt);
  assert(sy / n > 0.44 && sy / n < 0.50);
  assert(sx / n > 0.17 && sx / n < 0.23);
}

static void test_muon_range() {
  // A mu- needs about 3-4 GeV to cross LKr + MUV1 + MUV2 + the MUV3 wall.
  const SimConfig cfg;
  auto reach = [&](double p) {
    int hits = 0;
    for (int i = 0; i < 2000; ++i) {
      Rng rng(9, 99, static_cast<std::uint64_t>(i));
      Event ev;
      DetectorSim det(cfg, rng, ev);
      det.add_calo_muon(Point(400.0, 400.0, kZLkrFront_mm), Vector(0, 0, p), -1, 0.0);
      det.finish();
      hits += ev.muv3_n > 0 ? 1 : 0;
    }
    return hits / 2000.0;
  };
  const double r2 = reach(2.5), r5 = reach(5.0), r20 = reach(20.0);
  std::printf("mu- from the LKr front reaching MUV3: 2.5 GeV %.3f, 5 GeV %.3f, 20 GeV %.3f\n", r2, r5,
              r20);
  assert(r2 < 0.05 && r5 > 0.9 && r20 > 0.95);
}

static void test_stream_weights() {
  const SimConfig cfg;
  const int n = 20000;
  double w[5] = {0, 0, 0, 0, 0};
  int nint = 0, npre = 0;
  for (int s = kKmu2; s <= kMinimumBias; ++s) {
    for (ULong64_t i = 0; i < static_cast<ULong64_t>(n); ++i) {
      const Event ev = generate_event(cfg, s, 77, i);
      assert(std::isfinite(ev.weight) && ev.weight >= 0.0);
      assert(ev.straw_n == static_cast<int>(ev.straw_px.size()));
      assert(ev.lkr_n == static_cast<int>(ev.lkr_e.size()) && ev.lkr_e.size() == ev.lkr_time.size());
      assert(ev.muv3_n == static_cast<int>(ev.muv3_tile.size()));
      assert(passes_preselection(ev) == (ev.trigger_control || passes_nu_preselection(ev, cfg)));
      assert(!passes_nu_preselection(ev, cfg) || ev.trigger_nu);
      npre += passes_preselection(ev) ? 1 : 0;
      w[s] += ev.weight;
      if (s == kSignal) {
        if (ev.weight > 0) {
          assert(ev.true_nu_int && ev.true_category == 1);
          assert(ev.true_int_z >= kZLkrFront_mm && ev.true_int_z <= kZLkrFront_mm + kLkrDepth_mm);
          ++nint;
        }
      }
      if (s == kKmu2 || s == kMinimumBias) assert(!ev.true_nu_int);
    }
  }
  std::printf("mean weights: Kmu2 %.4f signal %.3e overlay %.3e misreco %.3e minbias %.1f\n",
              w[0] / n, w[1] / n, w[2] / n, w[3] / n, w[4] / n);
  assert(std::fabs(w[0] / n - 0.6356) < 1e-12);
  assert(std::fabs(w[4] / n - 1.0) < 1e-12);
  // CC interactions per fiducial K+ decay: BR * <P_int> * P(nu hits the LKr), ~3e-11
  assert(w[1] / n > 2.0e-11 && w[1] / n < 3.5e-11);
  assert(nint > 0.7 * n);
  assert(w[2] > 0.0 && w[3] > 0.0);
  assert(npre > 0);
}

int main() {
  test_interaction_probability();
  test_cc_kinematics();
  test_muon_range();
  test_stream_weights();
  std::printf("test_sim_interaction: OK\n");
  return 0;
}
