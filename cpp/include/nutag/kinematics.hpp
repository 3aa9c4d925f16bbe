// Kinematics of the tagged K+ -> mu+ nu decay: vertex, missing mass, tagged neutrino.
// Exact four-vector arithmetic, no small-angle approximations. Units: GeV, mm.
// All functions are pure (thread-safe, no static state) so RDataFrame may call them from any slot.
#pragma once

#include <Math/Point3D.h>
#include <Math/Vector3D.h>
#include <Math/Vector4D.h>

#include "nutag/constants.hpp"

namespace nutag {

using Point = ROOT::Math::XYZPoint;        // position [mm]
using Vector = ROOT::Math::XYZVector;      // momentum [GeV/c] or direction
using FourVector = ROOT::Math::PxPyPzEVector;  // [GeV]

/// A straight line: a point on it and a (not necessarily unit) direction.
struct Line {
  Point origin;
  Vector direction;
};

/// Closest approach of two straight tracks.
struct Vertex {
  Point point;      ///< midpoint of the shortest segment joining the two lines [mm]
  double cda = 0;   ///< closest distance of approach [mm]
  double s1 = 0;    ///< parameter along line 1 of its closest point (origin + s1*direction)
  double s2 = 0;    ///< same for line 2
};

/// Closest approach between two lines. Parallel lines give the CDA at line 1's origin.
Vertex closest_approach(const Line& a, const Line& b);

/// Four-vector of a particle of mass m with 3-momentum p.
FourVector four_vector(const Vector& p, double mass);

/// m_miss^2 = (P_K - P_mu)^2 [GeV^2/c^4] from 3-momenta and mass hypotheses.
double missing_mass2(const Vector& p_kaon, const Vector& p_muon, double m_kaon = kMassKaon,
                     double m_muon = kMassMuon);

/// The tagged neutrino: P_nu = P_K - P_mu, its line starting at the decay vertex.
struct TaggedNeutrino {
  FourVector p4;  ///< E = E_K - E_mu [GeV]
  Line line;      ///< origin = vertex, direction = p_K - p_mu
};

TaggedNeutrino tag_neutrino(const Vector& p_kaon, const Vector& p_muon, const Point& vertex,
                            double m_kaon = kMassKaon, double m_muon = kMassMuon);

/// E_nu = E_K - E_mu [GeV] from momentum magnitudes (the paper's definition).
double neutrino_energy(double p_kaon, double p_muon, double m_kaon = kMassKaon,
                       double m_muon = kMassMuon);

}  // namespace nutag
