// Exactness of the forced (importance-sampled) streams and of the generator preselection:
// * overlay configuration B: every non-zero weight equals the analytic probability of the
//   forced configuration, BR x (shower rate x 2T x disc/LKr area x exp(-E_min/E_mean)) x
//   (1 - exp(-mu_MUV3)), mu_MUV3 = MUV3 rate x 2T / 4;
// * the forced accidental MUV3 hit: the weighted rate of "an accidental hit in time in the
//   quadrant opposite the mu+ candidate" with forcing equals the natural (unforced) rate;
// * the preselection is looser than its own parts (consistency of the helpers).
#include <cassert>
#include <cmath>
#include <cstdio>

#include "nutag/geometry.hpp"
#include "nutag/sim/generator.hpp"
#include "nutag/sim/preselection.hpp"

using namespace nutag;
using namespace nutag::sim;

static double lkr_area_mc() {  // independent estimate of the LKr acceptance area (1 mm grid)
  const double a = kLkrApothem_mm + 10.0;
  long n = 0;
  for (double x = -a + 0.5; x < a; x += 1.0)
    for (double y = -a + 0.5; y < a; y += 1.0) n += in_lkr_acceptance(x, y) ? 1 : 0;
  return static_cast<double>(n);
}

static void test_overlay_b_weight_is_analytic() {
  SimConfig cfg;
  cfg.overlay_muon_fraction = 0.0;  // configuration B only
  const double T = cfg.overlay_time_window, R = cfg.overlay_force_radius;
  const double mu = cfg.muv3_accidental_rate * 2.0 * T * 1e-3 / 4.0;
  const double expected = cfg.br_kmu2 * cfg.neutral_accidental_rate * 2.0 * T * 1e-3 * M_PI * R * R /
                          lkr_area_mc() *
                          std::exp(-cfg.neutral_accidental_e_min / cfg.neutral_accidental_emean) *
                          (1.0 - std::exp(-mu));
  int nonzero = 0, n_in = 0, n_out = 0;
  double last = 0.0;
  const int n = 4000;
  for (ULong64_t i = 0; i < static_cast<ULong64_t>(n); ++i) {
    const Event ev = generate_event(cfg, kOverlay, 11, i);
    if (ev.weight == 0.0) continue;  // mu+ without an outer MUV3 hit
    ++nonzero;
    last = ev.weight;
    // position importance factor: 1/a outside the core, 1/(a + (1-a)(R/r_core)^2) inside
    const double a = 1.0 - cfg.overlay_core_fraction, k = R / cfg.overlay_core_radius;
    const double f_out = 1.0 / a, f_in = 1.0 / (a + (1.0 - a) * k * k);
    const bool ok = std::fabs(ev.weight / (expected * f_out) - 1.0) < 2e-3 ||
                    std::fabs(ev.weight / (expected * f_in) - 1.0) < 2e-3;  // grid area: ~1e-3
    assert(ok);
    (ev.weight < expected ? ++n_in : ++n_out);
  }
  std::printf("overlay B: a weight %.4e (analytic, outside the core: %.4e x 1/a), %d of %d with an outer mu+ hit\n",
              last, expected, nonzero, n);
  assert(nonzero > n / 2);
  // core sampling: the share of points inside the core is (1-a) + a (r_core/R)^2 = 0.509
  const double share = static_cast<double>(n_in) / nonzero;
  std::printf("overlay B: share of forced showers in the core %.3f (expected 0.509)\n", share);
  assert(std::fabs(share - 0.509) < 0.04);
}

// Accidental hit in time (|t| < t_cut) in the quadrant opposite the candidate's outer hit (the
// first outer hit at t = 0 when the MUV3 time resolution is 0).
static bool opposite_accidental(const Event& ev, double t_cut) {
  int first = -1;
  for (int i = 0; i < ev.muv3_n; ++i)
    if (!muv3_is_inner(ev.muv3_tile[i]) && std::fabs(ev.muv3_time[i]) < 0.01) { first = i; break; }
  if (first < 0) return false;
  for (int i = 0; i < ev.muv3_n; ++i) {
    if (i == first || std::fabs(ev.muv3_time[i]) >= t_cut) continue;
    if (ev.muv3_x[i] * ev.muv3_x[first] < 0 && ev.muv3_y[i] * ev.muv3_y[first] < 0) return true;
  }
  return false;
}

static void test_forced_muv3_equals_natural() {
  SimConfig nat;
  nat.misreco_force_muv3 = 0;
  nat.muv3_time_res = 0.0;  // sharp time edges; the candidate's hit is at t = 0 exactly
  // K+ -> pi+ pi0 only: the forced pi+ -> mu+ is the only particle reaching MUV3
  nat.br_pipipi = nat.br_pi0munu = nat.br_pi0enu = nat.br_pipi0pi0 = 0.0;
  nat.misreco_k3pi_only = 0;   // sample the channel by BR (here: pi+ pi0 only)
  nat.misreco_force_kink = 0;  // pi+ decay anywhere before STRAW4, no forced kink tail
  nat.misreco_radiative_fraction = 0.0;  // the pion part of the misreco stream only
  SimConfig forced = nat;
  forced.misreco_force_muv3 = 1;
  const double tcut = 0.8 * nat.overlay_time_window;  // inside the forced window
  const int n = 60000;
  double wn = 0, wf = 0, w2n = 0, w2f = 0, totn = 0, totf = 0;
  for (ULong64_t i = 0; i < static_cast<ULong64_t>(n); ++i) {
    const Event a = generate_event(nat, kMisreco, 21, i);
    const Event b = generate_event(forced, kMisreco, 22, i);
    totn += a.weight;
    totf += b.weight;
    if (opposite_accidental(a, tcut)) { wn += a.weight; w2n += a.weight * a.weight; }
    if (opposite_accidental(b, tcut)) { wf += b.weight; w2f += b.weight * b.weight; }
  }
  const double sig = std::sqrt(w2n + w2f);
  std::printf("misreco, accidental opposite MUV3 hit in time: natural %.4e +- %.1e, forced %.4e +- "
              "%.1e per decay (forced weight sum %.3e of natural %.3e)\n",
              wn / n, std::sqrt(w2n) / n, wf / n, std::sqrt(w2f) / n, totf / n, totn / n);
  assert(std::fabs(wn - wf) < 4.0 * sig);
  assert(totf < 0.2 * totn);  // the forcing concentrates the weight: rare configurations only
}

static void test_preselection_parts() {
  const SimConfig cfg;
  int nsig = 0, npass = 0;
  for (ULong64_t i = 0; i < 20000; ++i) {
    const Event ev = generate_event(cfg, kSignal, 31, i);
    if (ev.weight <= 0.0) continue;
    ++nsig;
    if (!passes_nu_preselection(ev, cfg)) continue;
    ++npass;
    double p = 0, m2 = 0;
    Line nu;
    assert(ev.trigger_nu && reconstruct_kmu2(ev, p, m2, nu));
    assert(std::fabs(m2) < cfg.preselection_m2_max);
    assert(nearest_cluster_to_nu(ev, nu, cfg.preselection_lkr_e_min, cfg.preselection_time) <
           cfg.preselection_lkr_radius);
  }
  std::printf("signal: %d of %d interacting events pass the neutrino preselection\n", npass, nsig);
  assert(npass > 0);
}

// The forced kink tail of the misreco stream (decay forced between STRAW1 and STRAW4, tail
// forced with its probability, delta importance-sampled towards the neutrino line) must give
// the same weighted rate of "a positive track measured > 30 % above the pi+ momentum" (only the
// tail makes such tracks) as the natural simulation (decay anywhere, tail by chance).
static void test_forced_kink_tail_equals_natural() {
  SimConfig nat;
  nat.misreco_force_muv3 = 0;
  nat.misreco_force_kink = 0;
  nat.misreco_radiative_fraction = 0.0;  // the K3pi kink part of the misreco stream only
  SimConfig forced = nat;
  forced.misreco_force_kink = 1;
  auto tail_track = [](const Event& ev) {
    for (std::size_t i = 0; i < ev.straw_pz.size(); ++i) {
      const double p = std::sqrt(ev.straw_px[i] * ev.straw_px[i] + ev.straw_py[i] * ev.straw_py[i] +
                                 ev.straw_pz[i] * ev.straw_pz[i]);
      if (ev.straw_charge[i] > 0 && p > 1.3 * ev.true_p_muon) return true;
    }
    return false;
  };
  const int nn = 400000, nf = 40000;
  double wn = 0, w2n = 0, wf = 0, w2f = 0;
  int kn = 0, kf = 0;
  for (ULong64_t i = 0; i < static_cast<ULong64_t>(nn); ++i) {
    const Event a = generate_event(nat, kMisreco, 41, i);
    if (tail_track(a)) { wn += a.weight; w2n += a.weight * a.weight; ++kn; }
  }
  for (ULong64_t i = 0; i < static_cast<ULong64_t>(nf); ++i) {
    const Event b = generate_event(forced, kMisreco, 42, i);
    if (tail_track(b)) { wf += b.weight; w2f += b.weight * b.weight; ++kf; }
  }
  const double rn = wn / nn, rf = wf / nf;
  const double sig = std::hypot(std::sqrt(w2n) / nn, std::sqrt(w2f) / nf);
  std::printf("misreco kink tail (p_meas > 1.3 p_pi): natural %.4e +- %.1e (%d), forced %.4e +- "
              "%.1e (%d) per decay\n", rn, std::sqrt(w2n) / nn, kn, rf, std::sqrt(w2f) / nf, kf);
  assert(kn > 20 && kf > 10 * kn * nf / nn);
  assert(std::fabs(rn - rf) < 4.0 * sig);
}

int main() {
  test_overlay_b_weight_is_analytic();
  test_forced_muv3_equals_natural();
  test_forced_kink_tail_equals_natural();
  test_preselection_parts();
  std::printf("test_sim_forcing: OK\n");
  return 0;
}
