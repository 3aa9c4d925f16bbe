// Tests of nutag/kinematics.hpp against hand calculations (arithmetic in the comments).
// Standalone: returns non-zero if any check fails; assert() is kept alive by -UNDEBUG.
#include <cassert>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "nutag/kinematics.hpp"
#include "check.hpp"


using nutag::FourVector;
using nutag::Line;
using nutag::Point;
using nutag::Vector;

static void test_cda_skew() {
  // a = (1,2,3) + s (2,0,0), b = (4,5,10) + t (0,0,1): a runs along x at y=2, z=3; b along z
  // at x=4, y=5. Closest points: x: 1 + 2 s = 4 -> s = 1.5; z: 10 + t = 3 -> t = -7;
  // points (4,2,3) and (4,5,3): CDA = 3, midpoint (4, 3.5, 3).
  const Line a{Point(1, 2, 3), Vector(2, 0, 0)};
  const Line b{Point(4, 5, 10), Vector(0, 0, 1)};
  const nutag::Vertex v = nutag::closest_approach(a, b);
  CHECK_CLOSE(v.cda, 3.0, 1e-12);
  CHECK_CLOSE(v.s1, 1.5, 1e-12);
  CHECK_CLOSE(v.s2, -7.0, 1e-12);
  CHECK_CLOSE(v.point.X(), 4.0, 1e-12);
  CHECK_CLOSE(v.point.Y(), 3.5, 1e-12);
  CHECK_CLOSE(v.point.Z(), 3.0, 1e-12);

  // Crossed diagonals in parallel planes: a = (2,2,0) + s (1,1,0) in z = 0,
  // b = (0,0,1) + t (1,-1,0) in z = 1. a passes (0,0,0) at s = -2; b passes (0,0,1) at t = 0;
  // d1.d2 = 0, and the segment (0,0,0)-(0,0,1) is perpendicular to both -> CDA = 1,
  // midpoint (0,0,0.5), s1 = -2, s2 = 0.
  const nutag::Vertex w = nutag::closest_approach(Line{Point(2, 2, 0), Vector(1, 1, 0)},
                                                  Line{Point(0, 0, 1), Vector(1, -1, 0)});
  CHECK_CLOSE(w.cda, 1.0, 1e-12);
  CHECK_CLOSE(w.s1, -2.0, 1e-12);
  CHECK_CLOSE(w.s2, 0.0, 1e-12);
  CHECK_CLOSE(w.point.Z(), 0.5, 1e-12);

  // Oblique skew pair with a generic answer: a = (0,0,0) + s (1,0,1), b = (1,0,0) + t (0,1,1).
  // n = d1 x d2 = (0*1-1*1, 1*0-1*1, 1*1-0*0) = (-1,-1,1), |n| = sqrt(3);
  // CDA = |(b0 - a0) . n| / |n| = |(1,0,0).(-1,-1,1)| / sqrt(3) = 1/sqrt(3).
  // w0 = a0 - b0 = (-1,0,0); A = 2, B = d1.d2 = 1, C = 2, D = d1.w0 = -1, E = d2.w0 = 0;
  // A C - B^2 = 3; s1 = (B E - C D)/3 = 2/3; s2 = (A E - B D)/3 = 1/3.
  // p1 = (2/3, 0, 2/3), p2 = (1, 1/3, 1/3); midpoint (5/6, 1/6, 1/2).
  const nutag::Vertex o = nutag::closest_approach(Line{Point(0, 0, 0), Vector(1, 0, 1)},
                                                  Line{Point(1, 0, 0), Vector(0, 1, 1)});
  CHECK_CLOSE(o.cda, 1.0 / std::sqrt(3.0), 1e-12);
  CHECK_CLOSE(o.s1, 2.0 / 3.0, 1e-12);
  CHECK_CLOSE(o.s2, 1.0 / 3.0, 1e-12);
  CHECK_CLOSE(o.point.X(), 5.0 / 6.0, 1e-12);
  CHECK_CLOSE(o.point.Y(), 1.0 / 6.0, 1e-12);
  CHECK_CLOSE(o.point.Z(), 0.5, 1e-12);
}

static void test_vertex_intersecting() {
  // A realistic K+ / mu+ pair meeting at a known decay point P on the beam axis at z = 150 m:
  // beam axis x = 1.2e-3 * (z - 102400) -> x = 1.2e-3 * 47600 = 57.12 mm, y = 0.
  const Point P(57.12, 0.0, 150000.0);
  const Vector pK = 75.0 * Vector(1.2e-3, 0.0, 1.0);
  const Vector pMu = 25.0 * Vector(0.01, -0.005, 1.0);
  // K+ line from GTK3 (0,0,102400); mu+ line from a point 30 m downstream of P (z = 180 m).
  const Line kaon{Point(0.0, 0.0, 102400.0), pK};
  const Line muon{P + 30000.0 * Vector(0.01, -0.005, 1.0), pMu};
  const nutag::Vertex v = nutag::closest_approach(kaon, muon);
  CHECK_CLOSE(v.cda, 0.0, 1e-6);
  CHECK_CLOSE(v.point.X(), 57.12, 1e-6);
  CHECK_CLOSE(v.point.Y(), 0.0, 1e-6);
  CHECK_CLOSE(v.point.Z(), 150000.0, 1e-6);
  // s along the momentum-scaled directions: kaon 47600 mm / 75 GeV; muon -30000 mm / 25 GeV.
  CHECK_CLOSE(v.s1, 47600.0 / 75.0, 1e-8);
  CHECK_CLOSE(v.s2, -30000.0 / 25.0, 1e-8);
}

static void test_cda_parallel() {
  // Parallel lines along z, 5 mm apart ((3,4) offset): the documented choice is s1 = 0 (line a's
  // origin) and its projection on b: s2 = (0 - 100) / 2 = -50 (b's direction is (0,0,2)).
  const Line a{Point(0, 0, 0), Vector(0, 0, 1)};
  const Line b{Point(3, 4, 100), Vector(0, 0, 2)};
  const nutag::Vertex v = nutag::closest_approach(a, b);
  CHECK_CLOSE(v.cda, 5.0, 1e-12);
  CHECK_CLOSE(v.s1, 0.0, 0.0);
  CHECK_CLOSE(v.s2, -50.0, 1e-12);
  CHECK_CLOSE(v.point.X(), 1.5, 1e-12);
  CHECK_CLOSE(v.point.Y(), 2.0, 1e-12);
  CHECK_CLOSE(v.point.Z(), 0.0, 1e-12);
  // Anti-parallel also counts as parallel.
  CHECK_CLOSE(nutag::closest_approach(a, Line{Point(3, 4, 100), Vector(0, 0, -1)}).cda, 5.0, 1e-12);

  bool threw = false;
  try {
    nutag::closest_approach(a, Line{Point(1, 1, 1), Vector(0, 0, 0)});
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}

static void test_four_vector() {
  // |p| = |(3,4,12)| = 13, m^2 = 27 -> E = sqrt(169 + 27) = 14.
  const FourVector v = nutag::four_vector(Vector(3, 4, 12), std::sqrt(27.0));
  CHECK_CLOSE(v.E(), 14.0, 1e-12);
  CHECK_CLOSE(v.M2(), 27.0, 1e-11);
}

static void test_kmu2_missing_mass_zero() {
  // A real K+ -> mu+ nu decay built by hand. Rest frame: p* = (mK^2 - mmu^2) / (2 mK)
  //   = (0.243717 - 0.0111637) / 0.987354 = 0.2355318 GeV (the 235.53 MeV/c of the spec),
  //   E*_mu = sqrt(p*^2 + mmu^2) = 0.2581452 GeV.
  // Boost along z with the kaon momentum pK: gamma = E_K/mK, beta*gamma = pK/mK;
  //   p_mu,z = gamma p* cos(theta*) + beta gamma E*_mu,  p_mu,x = p* sin(theta*).
  // Then rotate everything about y by alpha (a beam slope), exactly:
  //   x' = x cos(alpha) + z sin(alpha),  z' = -x sin(alpha) + z cos(alpha).
  const double mK = nutag::kMassKaon;
  const double mmu = nutag::kMassMuon;
  const double pstar = (mK * mK - mmu * mmu) / (2.0 * mK);
  CHECK_CLOSE(pstar, 0.23553, 1e-5);
  const double estar = std::sqrt(pstar * pstar + mmu * mmu);
  const double thetas[] = {0.0, 0.3, 0.7, 1.5707963, 2.5, 3.14159265358979};
  const double kaon_p[] = {72.0, 75.0, 77.34};
  const double alphas[] = {0.0, 1.2e-3, -0.3};
  for (double pK : kaon_p) {
    const double eK = std::sqrt(pK * pK + mK * mK);
    const double gamma = eK / mK;
    const double betagamma = pK / mK;
    for (double th : thetas) {
      for (double alpha : alphas) {
        const double mx = pstar * std::sin(th);
        const double mz = gamma * pstar * std::cos(th) + betagamma * estar;
        const double ca = std::cos(alpha), sa = std::sin(alpha);
        const Vector pKaon(pK * sa, 0.0, pK * ca);
        const Vector pMuon(mx * ca + mz * sa, 0.0, -mx * sa + mz * ca);
        CHECK_CLOSE(nutag::missing_mass2(pKaon, pMuon), 0.0, 1e-9);
        const nutag::TaggedNeutrino nu = nutag::tag_neutrino(pKaon, pMuon, Point(0, 0, 150000));
        CHECK_CLOSE(nu.p4.M2(), 0.0, 1e-9);
        // E_nu from the boost by hand: E_mu = gamma E* + beta gamma p* cos(theta*).
        const double emu = gamma * estar + betagamma * pstar * std::cos(th);
        CHECK_CLOSE(nu.p4.E(), eK - emu, 1e-9);
      }
    }
  }
}

static void test_published_candidate() {
  // p_K = 77.34, p_mu = 25.26 GeV/c:
  //   E_K  = sqrt(77.34^2 + 0.493677^2)      = 77.3415756 GeV
  //   E_mu = sqrt(25.26^2 + 0.1056583755^2)  = 25.2602210 GeV
  //   E_nu = 52.0813546 GeV (the paper quotes 52.09; the spec's check value is 52.081).
  CHECK_CLOSE(nutag::neutrino_energy(77.34, 25.26), 52.081, 1e-3);
  CHECK_CLOSE(nutag::neutrino_energy(77.34, 25.26), 52.0813546, 1e-6);

  const Vector pK(0, 0, 77.34);
  const Vector pMu(0, 0, 25.26);
  const Point vtx(0.0, 0.0, 161200.0);
  const nutag::TaggedNeutrino nu = nutag::tag_neutrino(pK, pMu, vtx);
  CHECK_CLOSE(nu.p4.E(), 52.081, 1e-3);
  CHECK_CLOSE(nu.p4.Pz(), 77.34 - 25.26, 1e-12);
  CHECK_CLOSE(nu.p4.Px(), 0.0, 0.0);
  CHECK_CLOSE(nu.line.origin.Z(), 161200.0, 0.0);
  CHECK_CLOSE(nu.line.direction.Z(), 52.08, 1e-12);
  CHECK_CLOSE(nu.line.direction.X(), 0.0, 0.0);

  // Collinear m_miss^2 with the hand formula m^2 = mK^2 + mmu^2 - 2 (E_K E_mu - pK pmu):
  //   mK^2 + mmu^2 = 0.2437170 + 0.0111637 = 0.2548807;
  //   E_K E_mu - pK pmu ~ pK mmu^2/(2 pmu) + pmu mK^2/(2 pK) = 0.0170903 + 0.0397997 = 0.0568900;
  //   m^2 = 0.2548807 - 0.1137800 = 0.14110 GeV^2 (positive: a collinear muon of 25 GeV/c is
  //   kinematically forbidden for a 77 GeV/c kaon; the real candidate has an opening angle and
  //   m_miss^2 = -0.00086).
  const double eK = std::sqrt(77.34 * 77.34 + nutag::kMassKaon * nutag::kMassKaon);
  const double eMu = std::sqrt(25.26 * 25.26 + nutag::kMassMuon * nutag::kMassMuon);
  const double hand = nutag::kMassKaon * nutag::kMassKaon + nutag::kMassMuon * nutag::kMassMuon -
                      2.0 * (eK * eMu - 77.34 * 25.26);
  CHECK_CLOSE(nutag::missing_mass2(pK, pMu), hand, 1e-9);
  CHECK_CLOSE(nutag::missing_mass2(pK, pMu), 0.14110, 1e-5);
  // Pion hypothesis for the "muon" changes only m_mu: mpi^2 = 0.0194799 instead of 0.0111637
  // and E_pi = sqrt(25.26^2 + mpi^2).
  const double ePi = std::sqrt(25.26 * 25.26 + nutag::kMassPion * nutag::kMassPion);
  const double handPi = nutag::kMassKaon * nutag::kMassKaon +
                        nutag::kMassPion * nutag::kMassPion - 2.0 * (eK * ePi - 77.34 * 25.26);
  CHECK_CLOSE(nutag::missing_mass2(pK, pMu, nutag::kMassKaon, nutag::kMassPion), handPi, 1e-9);
}

int main() {
  test_cda_skew();
  test_vertex_intersecting();
  test_cda_parallel();
  test_four_vector();
  test_kmu2_missing_mass_zero();
  test_published_candidate();
  assert(nutag_test::g_failures >= 0);  // keeps <cassert> honest: the build undefines NDEBUG
  return nutag_test::report("test_kinematics");
}
