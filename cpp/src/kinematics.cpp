// Kinematics of the tagged K+ -> mu+ nu decay. See nutag/kinematics.hpp for the contract.
// Everything here is a pure function of its arguments: no static or global mutable state, so
// RDataFrame may call these concurrently from any slot.
#include "nutag/kinematics.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace nutag {

namespace {

// Lines whose directions are closer than ~1e-8 rad (sin^2 below this) are treated as parallel:
// there the closed-form solution divides rounding noise by rounding noise. Real K+/mu+ pairs
// this collinear (mu+ emitted along the kaon in the K rest frame) have no measurable vertex anyway.
constexpr double kParallelSin2 = 1e-16;

}  // namespace

Vertex closest_approach(const Line& a, const Line& b) {
  // Standard two-line closest approach: minimise |(o1 + s1 d1) - (o2 + s2 d2)|^2.
  // With w0 = o1 - o2, A = d1.d1, B = d1.d2, C = d2.d2, D = d1.w0, E = d2.w0:
  //   s1 = (B E - C D) / (A C - B^2),  s2 = (A E - B D) / (A C - B^2).
  // A C - B^2 = |d1 x d2|^2 is computed from the cross product, which does not suffer from
  // the cancellation of A C - B^2 for nearly collinear tracks (the K+ and mu+ are a few mrad
  // apart).
  const Vector& d1 = a.direction;
  const Vector& d2 = b.direction;
  const double aa = d1.Mag2();
  const double cc = d2.Mag2();
  if (!(aa > 0.0) || !(cc > 0.0)) {
    throw std::invalid_argument(
        "nutag::closest_approach: a line has a zero (or NaN) direction vector; check the track "
        "momenta passed as directions");
  }
  const Vector w0 = a.origin - b.origin;
  const double bb = d1.Dot(d2);
  const double dd = d1.Dot(w0);
  const double ee = d2.Dot(w0);
  const double denom = d1.Cross(d2).Mag2();

  Vertex v;
  if (denom <= kParallelSin2 * aa * cc) {
    // Parallel lines: every point of line 1 is equally close; take line 1's origin (s1 = 0) and
    // its orthogonal projection onto line 2, as documented in the header.
    v.s1 = 0.0;
    v.s2 = ee / cc;
  } else {
    v.s1 = (bb * ee - cc * dd) / denom;
    v.s2 = (aa * ee - bb * dd) / denom;
  }
  const Point p1 = a.origin + v.s1 * d1;
  const Point p2 = b.origin + v.s2 * d2;
  v.cda = (p1 - p2).R();
  v.point = Point(0.5 * (p1.X() + p2.X()), 0.5 * (p1.Y() + p2.Y()), 0.5 * (p1.Z() + p2.Z()));
  return v;
}

FourVector four_vector(const Vector& p, double mass) {
  // On-shell energy from the mass hypothesis; the detectors measure only the 3-momentum.
  return FourVector(p.X(), p.Y(), p.Z(), std::sqrt(p.Mag2() + mass * mass));
}

double missing_mass2(const Vector& p_kaon, const Vector& p_muon, double m_kaon, double m_muon) {
  // Exactly (P_K - P_mu)^2 = (E_K - E_mu)^2 - |p_K - p_mu|^2, no small-angle expansion.
  // Rounding: E ~ 50 GeV gives an absolute error ~ 1e-12 GeV^2, far below the ~1e-3 GeV^2
  // resolution.
  const FourVector diff = four_vector(p_kaon, m_kaon) - four_vector(p_muon, m_muon);
  return diff.M2();
}

TaggedNeutrino tag_neutrino(const Vector& p_kaon, const Vector& p_muon, const Point& vertex,
                            double m_kaon, double m_muon) {
  // The tag: the neutrino four-momentum is fully determined by the K+ and mu+ measurements,
  // E_nu = E_K - E_mu, and it flies from the decay vertex along p_K - p_mu.
  TaggedNeutrino nu;
  nu.p4 = four_vector(p_kaon, m_kaon) - four_vector(p_muon, m_muon);
  nu.line.origin = vertex;
  nu.line.direction = p_kaon - p_muon;
  return nu;
}

double neutrino_energy(double p_kaon, double p_muon, double m_kaon, double m_muon) {
  // The paper's E_nu = E_K - E_mu; it needs only momentum magnitudes (no angles).
  return std::sqrt(p_kaon * p_kaon + m_kaon * m_kaon) - std::sqrt(p_muon * p_muon + m_muon * m_muon);
}

}  // namespace nutag
