// Hadronic shower model of the fast simulation against numbers computed by hand from its
// parametrisation (docs/simulation.md §4 "Hadronic showers"): Bock et al., NIM 186 (1981) 533
// for the longitudinal profile, <f_em> = 1 - (E/E0)^(m-1) (Groom, NIM A572 (2007) 633).
//
// Hand numbers (E in GeV, ln E natural log):
//   a = 0.6165 + 0.3183 ln E, d = 0.9099 - 0.0237 ln E, b = 0.2198, f_em = 1 - E^-0.17;
//   containment(t_X0, t_lambda) = f_em P(a, b t_X0) + (1 - f_em) P(a, d t_lambda),
//   P the regularised lower incomplete gamma function (evaluated with scipy.special.gammainc).
#include <cmath>
#include <cstdio>

#include "check.hpp"
#include "nutag/constants.hpp"
#include "nutag/sim/detector.hpp"

using namespace nutag;
using namespace nutag::sim;

namespace {

// Iron: X0 = 17.57 mm, lambda_I = 167.7 mm [PDG], so t lambda_I = t x 9.5447 X0.
constexpr double kFeX0PerLambda = 167.7 / 17.57;

struct HandNumber {
  double e, depth_lambda, containment;
};

void test_profile_parameters() {
  const SimConfig cfg;
  // E = 36 GeV: ln 36 = 3.583519
  const HadronShowerProfile p = hadron_shower_profile(cfg, 36.0);
  CHECK_CLOSE(p.shape, 1.757134, 1e-5);
  CHECK_CLOSE(p.had_slope_lambda, 0.824971, 1e-5);
  CHECK_CLOSE(p.em_slope_x0, 0.2198, 1e-12);
  CHECK_CLOSE(p.f_em, 0.456213, 1e-5);
  CHECK_CLOSE(hadron_shower_profile(cfg, 10.0).f_em, 0.323917, 1e-5);
  CHECK_CLOSE(hadron_shower_profile(cfg, 60.0).f_em, 0.501444, 1e-5);
}

void test_incomplete_gamma() {
  // P(1, x) = 1 - exp(-x); P(2, x) = 1 - (1 + x) exp(-x)
  CHECK_CLOSE(regularized_gamma_p(1.0, 0.7), 1.0 - std::exp(-0.7), 1e-12);
  CHECK_CLOSE(regularized_gamma_p(2.0, 5.0), 1.0 - 6.0 * std::exp(-5.0), 1e-12);
  CHECK_CLOSE(regularized_gamma_p(0.5, 0.0), 0.0, 1e-15);
}

// Containment in iron at 2, 5, 8 lambda_I from the shower start.
void test_containment_in_iron() {
  const SimConfig cfg;
  const HandNumber hand[] = {
      {10.0, 2.0, 0.798456}, {10.0, 5.0, 0.981202}, {10.0, 8.0, 0.998340},
      {36.0, 2.0, 0.739455}, {36.0, 5.0, 0.967112}, {36.0, 8.0, 0.996273},
      {60.0, 2.0, 0.719597}, {60.0, 5.0, 0.960615}, {60.0, 8.0, 0.995078},
  };
  for (const HandNumber& h : hand) {
    const double c = hadron_shower_containment(cfg, h.e, h.depth_lambda * kFeX0PerLambda, h.depth_lambda);
    std::printf("iron, %4.0f GeV, %.0f lambda_I: containment %.6f (hand %.6f)\n", h.e,
                h.depth_lambda, c, h.containment);
    CHECK_CLOSE(c, h.containment, 2e-6);
  }
}

// The sampler behind the simulated profile: gamma variates of non-integer shape reproduce P(a, x).
void test_gamma_sampler() {
  Rng rng(11, 3, 0);
  const double shape = 1.757134, slope = 0.824971;  // the 36 GeV hadronic part
  const int n = 200000;
  int below2 = 0, below5 = 0;
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    const double t = rng.gamma(shape, 1.0 / slope);
    sum += t;
    below2 += t < 2.0 ? 1 : 0;
    below5 += t < 5.0 ? 1 : 0;
  }
  CHECK_CLOSE(sum / n, shape / slope, 0.01);
  CHECK_CLOSE(static_cast<double>(below2) / n, regularized_gamma_p(shape, 2.0 * slope), 0.004);
  CHECK_CLOSE(static_cast<double>(below5) / n, regularized_gamma_p(shape, 5.0 * slope), 0.002);
  // shape < 1 (the profile at 1 GeV): the boosted branch keeps the mean
  double s1 = 0;
  for (int i = 0; i < n; ++i) s1 += rng.gamma(0.6165, 1.0);
  CHECK_CLOSE(s1 / n, 0.6165, 0.01);
}

// A shower without the sampling terms, the f_em fluctuation or the cluster thresholds: what is
// left is the mean profile the hand numbers are computed from.
SimConfig noiseless_shower_config() {
  SimConfig cfg;
  cfg.had_stoch = 0.0;
  cfg.had_const = 0.0;
  cfg.had_fem_sigma = 0.0;
  cfg.lkr_cluster_threshold = 0.0;
  cfg.muv_cluster_threshold = 0.0;
  return cfg;
}

// Mean sharing of showers started at the LKr front, simulated through LKr / dead material / MUV1
// / MUV2 with no fluctuation of f_em and h/e = 1, against the hand numbers for the stack depths
// LKr 1270/47 = 27.02 X0, 1270/619 = 2.0517 lambda_I; dead 2.9 X0, 0.3 lambda_I; MUV1 36.3 X0,
// 4.15 lambda_I; MUV2 34.4 X0, 3.73 lambda_I.
void test_sharing_through_the_stack() {
  SimConfig cfg = noiseless_shower_config();
  cfg.had_h_over_e_lkr = 1.0;
  cfg.had_h_over_e_muv = 1.0;
  const HandNumber lkr[] = {{10.0, 0, 0.813461}, {36.0, 0, 0.766696}, {60.0, 0, 0.753536}};
  const double muv1[] = {0.143074, 0.182279, 0.193079};
  const double muv2[] = {0.005349, 0.010512, 0.013154};
  for (int k = 0; k < 3; ++k) {
    const double e = lkr[k].e;
    const int n = 4000;
    double sl = 0, s1 = 0, s2 = 0;
    for (int i = 0; i < n; ++i) {
      Rng rng(21, 7, static_cast<std::uint64_t>(i));
      Event ev;
      DetectorSim det(cfg, rng, ev);
      det.add_hadron_shower(Point(400.0, 400.0, kZLkrFront_mm), Vector(0, 0, 1), e, 0.0);
      det.finish();
      for (double v : ev.lkr_e) sl += v;
      for (double v : ev.muv1_e) s1 += v;
      for (double v : ev.muv2_e) s2 += v;
    }
    std::printf("%4.0f GeV from the LKr front: LKr %.4f (hand %.4f), MUV1 %.4f (%.4f), MUV2 %.4f (%.4f)\n",
                e, sl / n / e, lkr[k].containment, s1 / n / e, muv1[k], s2 / n / e, muv2[k]);
    CHECK_CLOSE(sl / n / e, lkr[k].containment, 0.01);
    CHECK_CLOSE(s1 / n / e, muv1[k], 0.01);
    CHECK_CLOSE(s2 / n / e, muv2[k], 0.003);
  }
}

// Non-compensation: with f_em fixed, the visible energy is f_em + (1 - f_em) h/e of the contained.
void test_non_compensation() {
  SimConfig cfg = noiseless_shower_config();
  // a huge LKr: everything stops there
  cfg.lkr_lambda_int = 1.0;
  cfg.lkr_x0 = 0.1;
  const double e = 36.0, f_em = hadron_shower_profile(cfg, e).f_em;
  Rng rng(5, 5, 0);
  Event ev;
  DetectorSim det(cfg, rng, ev);
  det.add_hadron_shower(Point(400.0, 400.0, kZLkrFront_mm), Vector(0, 0, 1), e, 0.0);
  det.finish();
  CHECK(ev.lkr_e.size() == 1);
  CHECK_CLOSE(ev.lkr_e[0], e * (f_em + (1.0 - f_em) * cfg.had_h_over_e_lkr), 1e-9);
}

}  // namespace

int main() {
  test_profile_parameters();
  test_incomplete_gamma();
  test_containment_in_iron();
  test_gamma_sampler();
  test_sharing_through_the_stack();
  test_non_compensation();
  return nutag_test::report("test_sim_shower");
}
