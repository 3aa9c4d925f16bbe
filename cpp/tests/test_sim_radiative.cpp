// Physics tests of the radiative misreco mechanism: K+ -> mu+ nu gamma inner bremsstrahlung
// (Bijnens-Ecker-Gasser f_IB) and the forced photonuclear interaction of its photon in the LKr.
// Every expected number is a hand calculation written next to the check.
#include <cmath>
#include <cstdio>

#include "check.hpp"
#include "nutag/geometry.hpp"
#include "nutag/kinematics.hpp"
#include "nutag/sim/detector.hpp"
#include "nutag/sim/generator.hpp"
#include "nutag/sim/physics.hpp"

using namespace nutag;
using namespace nutag::sim;

static double r_mu() { return kMassMuon * kMassMuon / (kMassKaon * kMassKaon); }

// Soft-photon limit: for x -> 0, (alpha/2pi)(1-r)^-2 int f_IB dy must become the classical
// radiation of a charge created with the mu+ velocity beta: (alpha/pi)(1/x)[ln((1+b)/(1-b))/b - 2].
static void test_soft_photon_limit() {
  const double r = r_mu();
  const double p = (kMassKaon * kMassKaon - kMassMuon * kMassMuon) / (2.0 * kMassKaon);
  const double e = (kMassKaon * kMassKaon + kMassMuon * kMassMuon) / (2.0 * kMassKaon);
  const double b = p / e;  // 0.9124
  for (const double x : {1e-3, 1e-4}) {
    const double ylo = kmu2gamma_y_min(x, r), yhi = 1.0 + r;
    const int n = 200000;
    const double dy = (yhi - ylo) / n;
    double integral = 0.0;
    for (int j = 0; j < n; ++j) integral += kmu2gamma_ib_density(x, ylo + (j + 0.5) * dy, r) * dy;
    const double bijnens = integral / (2.0 * (1.0 - r) * (1.0 - r));  // in units of alpha/pi
    const double classical = (std::log((1.0 + b) / (1.0 - b)) / b - 2.0) / x;
    std::printf("soft limit x=%g: Bijnens %.6g, classical %.6g\n", x, bijnens, classical);
    CHECK_CLOSE(bijnens / classical, 1.0, 20.0 * x);  // corrections are O(x)
  }
  // outside the Dalitz region the density is zero
  CHECK(kmu2gamma_ib_density(0.1, 1.0 + r + 1e-6, r) == 0.0);
  CHECK(kmu2gamma_ib_density(0.1, kmu2gamma_y_min(0.1, r) - 1e-6, r) == 0.0);
  CHECK(kmu2gamma_ib_density(1.0 - r + 1e-6, 1.0, r) == 0.0);
}

// The sampled events: four-momentum conserved, (P_K - P_mu)^2 inside the generated range and
// equal to (p_nu + k)^2, photon above the E* threshold, and the mean importance weight equal to
// the deterministic integral of the same range (the weight is exact).
static void test_sampling_is_exact() {
  const RadiativeRange range{0.020, 0.035};
  const double reference = kmu2gamma_ib_fraction(range, 600);
  // hand estimate: IB with E* > 20 MeV is 0.47 % of Kmu2; the m2 < 0.035 part about half of it
  std::printf("BR_IB(E*>20 MeV, m2<0.035)/BR(Kmu2) = %.5g\n", reference);
  CHECK(reference > 0.0015 && reference < 0.004);
  Rng rng(7, 6, 0);
  const FourVector kaon = four_vector(Vector(0.1, -0.05, 75.0), kMassKaon);
  const Vector beta_k = kaon.Vect() / kaon.E();
  const int n = 400000;
  double sum = 0.0, sum2 = 0.0, worst_p = 0.0, worst_m2 = 0.0;
  bool in_range = true, photon_ok = true;
  for (int i = 0; i < n; ++i) {
    Daughter d[8];
    const double w = decay_kmu2_radiative(rng, kaon, range, d);
    sum += w;
    sum2 += w * w;
    CHECK(d[0].pdg == -13 && d[1].pdg == 14 && d[2].pdg == 22);
    const FourVector tot = d[0].p4 + d[1].p4 + d[2].p4;
    worst_p = std::max(worst_p, std::fabs(tot.E() - kaon.E()) + (tot.Vect() - kaon.Vect()).R());
    const double m2 = missing_mass2(kaon.Vect(), d[0].p4.Vect());
    worst_m2 = std::max(worst_m2, std::fabs(m2 - (d[1].p4 + d[2].p4).M2()));
    in_range = in_range && m2 < range.m2_max + 1e-9 && m2 > -1e-9;
    const FourVector k_rest = boost(d[2].p4, -beta_k);
    photon_ok = photon_ok && k_rest.E() > range.egamma_min - 1e-9;
  }
  const double mean = sum / n, err = std::sqrt((sum2 / n - mean * mean) / n);
  std::printf("mean weight %.6g +- %.2g vs integral %.6g\n", mean, err, reference);
  CHECK_CLOSE(mean, reference, 4.0 * err + 2e-3 * reference);
  CHECK(worst_p < 1e-9);
  CHECK(worst_m2 < 1e-9);
  CHECK(in_range);
  CHECK(photon_ok);
}

// Material before the LKr, by hand (default config: STRAW 0.0045 X0 per chamber, neon
// X0 = 345 m, mirrors 0.198, NewCHOD 0.0705, CHOD 0.094 X0; STRAW beam holes of 63.8 mm centred
// at x = 101.2, 114.4, 92.4, 52.8 mm; RICH beam pipe R < 100 mm; CHODs 140 < R < 1070 mm).
static void test_photon_material() {
  SimConfig cfg;
  // (a) from z = 150 m with slope 0.004 in x: x = 134 and 176 mm at STRAW1/2 (inside the holes:
  // 32.8 and 61.9 mm from their centres), 218 and 276 mm at STRAW3/4 (crossed); R > 100 mm
  // from z = 175 m, so the whole 18 m of neon; RICH beam window, mirrors + support panel + mirror
  // window (0.318) at R = 350 mm, NewCHOD, CHOD, LKr windows (0.244), honeycomb at R = 364.4 mm
  // (262.8 - (364.4^2 - 150^2) / 8134 = 249.24 mm of X0 2776 mm) and front plate (0.213) crossed.
  // X = (2 * 0.0045 + 18000 / 345000 + 0.0225 + 0.318 + 0.102 + 0.094 + 0.244 + 249.24 / 2776
  //      + 0.213) * sqrt(1 + 0.004^2) = 1.144468
  const Point o_a(0.0, 0.0, 150000.0);
  const Vector p_a(0.12, 0.0, 30.0);
  CHECK_CLOSE(material_before_lkr_x0(cfg, o_a, p_a), 1.144468, 2e-6);
  CHECK_CLOSE(photon_transmission_before_lkr(cfg, o_a, p_a), std::exp(-7.0 / 9.0 * 1.144468), 1e-6);
  // (b) from z = 200 m with slope 0.005 in y: STRAW1/2 upstream of it; STRAW3 at y = 22.3 mm,
  // 95 mm from its hole's centre, and STRAW4 at y = 94.4 mm, 108 mm from its hole's centre
  // (both crossed); R = 98 mm at the RICH beam window (inside the beam pipe: not crossed);
  // R > 100 mm from z = 220 m: 17.6 m of neon; mirror layers, NewCHOD, CHOD at R = 188, 191,
  // 196 mm; LKr windows, honeycomb (R = 205.5 mm: 260.38 mm) and front plate.
  // X = (2 * 0.0045 + 17600 / 345000 + 0.318 + 0.102 + 0.094 + 0.244 + 260.38 / 2776 + 0.213)
  //     * sqrt(1 + 0.005^2) = 1.124824
  CHECK_CLOSE(material_before_lkr_x0(cfg, Point(0.0, 0.0, 200000.0), Vector(0.0, 0.1, 20.0)), 1.124824, 2e-6);
  // (c) along the z axis from z = 150 m: STRAW1-3 crossed (the holes are centred at x > 63.8 mm),
  // STRAW4's hole contains the axis, no neon (beam pipe), no mirror, no CHOD: 3 * 0.0045
  CHECK_CLOSE(material_before_lkr_x0(cfg, o_a, Vector(0.0, 0.0, 30.0)), 0.0135, 1e-12);
  // conversions switched off: no factor
  SimConfig off;
  off.photon_conversions = 0;
  Rng rng(11, 3, 7);
  Event ev;
  DetectorSim det(off, rng, ev);
  det.add_photon_photonuclear(o_a, p_a, 0.0);
  CHECK_CLOSE(det.forced_weight(), 8.40e-4, 0.02e-4);
}

// Forced photonuclear interaction: the weight is P(no conversion before the LKr) (above) times
// (lambda_tot/lambda_gA)(1 - exp(-L/lambda_tot)) = 8.4e-4 for sigma = 8 mb, rho = 2.418 g/cm^3,
// A = 83.8, X0 = 47 mm, L = 1270 mm (hand: lambda_gA = 83.8 / (2.418 * 6.022e23 * 8e-27) cm =
// 71.9 m, lambda_pair = 9/7 * 47 = 60.4 mm), and the photon leaves a hadronic shower (MUV1
// energy) instead of an EM cluster only.
static void test_forced_photonuclear() {
  SimConfig cfg;
  CHECK_CLOSE(photonuclear_length_mm(cfg), 71940.0, 100.0);
  double muv_energy = 0.0;
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    Rng rng(11, 3, static_cast<std::uint64_t>(i));
    Event ev;
    DetectorSim det(cfg, rng, ev);
    det.add_photon_photonuclear(Point(0.0, 0.0, 150000.0), Vector(0.12, 0.0, 30.0), 0.0);  // 364 mm off axis at the LKr
    CHECK_CLOSE(det.forced_weight(), 8.40e-4 * std::exp(-7.0 / 9.0 * 1.144468), 0.02e-4);
    det.finish();
    for (double e : ev.muv1_e) muv_energy += e;
    for (double e : ev.muv2_e) muv_energy += e;
  }
  std::printf("mean MUV1+MUV2 energy of a 30 GeV photonuclear photon: %.2f GeV\n", muv_energy / n);
  CHECK(muv_energy / n > 3.0);  // an EM shower leaves ~0 there (27 X0 of LKr)
  // a photon missing the LKr is not forced (the vetoes see it): weight stays 1
  Rng rng(11, 3, 99999);
  Event ev;
  DetectorSim det(cfg, rng, ev);
  det.add_photon_photonuclear(Point(0.0, 0.0, 150000.0), Vector(0.0, 0.0, 30.0), 0.0);
  CHECK(det.forced_weight() == 1.0);
  // nor is one at x = 1118 mm on the LKr (inside its 1130 mm apothem) that crossed LAV12's lead
  // glass at x = 1080 mm > 1070 mm (slope 1080 / 88000): the LKr rim lies behind LAV12
  const Vector p_rim(30.0 * 1080.0 / 88000.0, 0.0, 30.0);
  CHECK(photon_shadowed_by_lav12(cfg, Point(0.0, 0.0, 150000.0), p_rim));
  CHECK(!photon_shadowed_by_lav12(cfg, Point(0.0, 0.0, 150000.0), Vector(0.12, 0.0, 30.0)));
  Rng rng_rim(11, 3, 99998);
  Event ev_rim;
  DetectorSim det_rim(cfg, rng_rim, ev_rim);
  CHECK(!det_rim.add_photon_photonuclear(Point(0.0, 0.0, 150000.0), p_rim, 0.0));
  CHECK(det_rim.forced_weight() == 1.0);
}

// The misreco stream's mixture is exact: the radiative part's weight per generated decay is the
// same whether it is 100 % or 50 % of the stream (weight / share), and the pion part of a mixed
// stream carries K3pi only.
static void test_mixture_weights() {
  SimConfig all, half;
  all.misreco_radiative_fraction = 1.0;
  half.misreco_radiative_fraction = 0.5;
  const int n = 200000;
  double wa = 0, w2a = 0, wh = 0, w2h = 0;
  int n_pion = 0;
  bool pion_is_k3pi = true;
  for (ULong64_t i = 0; i < static_cast<ULong64_t>(n); ++i) {
    const Event a = generate_event(all, kMisreco, 51, i);
    const Event b = generate_event(half, kMisreco, 52, i);
    CHECK(a.true_process == kProcMuNuGamma);
    wa += a.weight;
    w2a += a.weight * a.weight;
    if (b.true_process == kProcMuNuGamma) {
      wh += b.weight;
      w2h += b.weight * b.weight;
    } else {
      ++n_pion;
      pion_is_k3pi = pion_is_k3pi && b.true_process == kProcPiPiPi;
    }
  }
  const double sig = std::hypot(std::sqrt(w2a), std::sqrt(w2h)) / n;
  std::printf("radiative weight per decay: share 1 %.4e, share 0.5 %.4e +- %.1e; pion entries %d\n",
              wa / n, wh / n, sig, n_pion);
  CHECK(wa > 0.0);
  CHECK_CLOSE(wa / n, wh / n, 4.0 * sig);
  CHECK(std::abs(n_pion - n / 2) < 5.0 * std::sqrt(n / 4.0));
  CHECK(pion_is_k3pi);
}

int main() {
  test_mixture_weights();
  test_soft_photon_limit();
  test_sampling_is_exact();
  test_photon_material();
  test_forced_photonuclear();
  return nutag_test::report("test_sim_radiative");
}
