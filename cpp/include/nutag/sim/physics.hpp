// Particle physics of the nutag fast simulation: K+ decays (two- and three-body phase space),
// pi+ -> mu+ nu, and the nu_mu CC interaction in liquid krypton. Units: GeV, mm.
// Pure functions of their arguments and of the Rng passed in. See docs/simulation.md.
#pragma once

#include "nutag/kinematics.hpp"
#include "nutag/sim/config.hpp"
#include "nutag/sim/random.hpp"

namespace nutag::sim {

/// K+ decay channels, numbered as the true_process column.
enum Process : int {
  kProcMuNu = 0,
  kProcPiPi0 = 1,
  kProcPiPiPi = 2,
  kProcPi0MuNu = 3,
  kProcPi0ENu = 4,
  kProcPiPi0Pi0 = 5,
  kProcMuNuGamma = 6,  ///< K+ -> mu+ nu gamma, inner bremsstrahlung (misreco stream only)
};

/// Lorentz boost of a four-vector by velocity beta (|beta| < 1).
FourVector boost(const FourVector& v, const Vector& beta);

/// A random unit vector, isotropic.
Vector isotropic_direction(Rng& rng);

/// Two-body decay of `parent` into masses m1, m2, isotropic in the parent rest frame.
void two_body_decay(Rng& rng, const FourVector& parent, double m1, double m2, FourVector& d1,
                    FourVector& d2);

/// Three-body decay by phase space (uniform Dalitz plot, rejection sampling).
void three_body_decay(Rng& rng, const FourVector& parent, double m1, double m2, double m3,
                      FourVector& d1, FourVector& d2, FourVector& d3);

/// Momentum of either daughter in the rest frame of a two-body decay M -> m1 m2.
double two_body_momentum(double m_parent, double m1, double m2);

/// A decay product of the K+ (final state after pi0 -> gamma gamma).
struct Daughter {
  int pdg = 0;       ///< PDG code: 13 mu-, -13 mu+, 211 pi+, -211 pi-, 22, -11 e+, 14 nu
  FourVector p4;
};

/// Decay products of a K+ with four-momentum `kaon` in channel `process` (pi0s already decayed
/// into photon pairs). Returns the number of daughters written to `out` (at most 7).
int decay_kaon(Rng& rng, const FourVector& kaon, int process, Daughter out[8]);

// ---------------- K+ -> mu+ nu gamma, inner bremsstrahlung ----------------
// Bijnens, Ecker, Gasser, Nucl. Phys. B396 (1993) 81 [hep-ph/9209261], eq. (3.5)-(3.7):
//   d Gamma_IB / dx dy = Gamma(K -> mu nu) * alpha/(2 pi) * (1 - r)^-2 * f_IB(x, y),
// x = 2 E*_gamma / m_K, y = 2 E*_mu / m_K, r = m_mu^2 / m_K^2 (K+ rest frame), inside
// 0 < x < 1 - r, 1 - x + r/(1 - x) < y < 1 + r. The missing mass of the tagged analysis is
// (P_K - P_mu)^2 = m_K^2 (1 + r - y): y fixes m_miss^2 exactly. Structure-dependent terms
// (SD+, SD-, interference; BR ~ 1e-5) are not modelled (docs/simulation.md section 7).

/// f_IB(x, y) of Bijnens-Ecker-Gasser; 0 outside the Dalitz region.
double kmu2gamma_ib_density(double x, double y, double r);

/// Lower kinematic limit of y for a given x: 1 - x + r / (1 - x).
double kmu2gamma_y_min(double x, double r);

/// The part of the radiative Kmu2 phase space the misreco stream generates.
struct RadiativeRange {
  double egamma_min = 0.020;  ///< GeV, photon energy in the K+ rest frame
  double m2_max = 0.035;      ///< GeV^2, largest (P_K - P_mu)^2 = m_K^2 (1 + r - y)
};

/// K+ -> mu+ nu gamma (IB) of a K+ with four-momentum `kaon`, restricted to `range`. Writes the
/// mu+, the nu_mu and the photon to `out` (3 daughters) and returns the exact importance
/// weight w: x is drawn ~ 1/x and y ~ 1/(x + y - 1 - r) in its allowed interval, and
/// w = alpha/(2 pi) (1 - r)^-2 f_IB / q(x, y), so that E[w] = BR_IB(range) / BR(K -> mu nu).
double decay_kmu2_radiative(Rng& rng, const FourVector& kaon, const RadiativeRange& range,
                            Daughter out[8]);

/// BR_IB(range) / BR(K -> mu nu) by deterministic 2D integration (midpoint rule, n x n cells in
/// (ln x, y)); the reference the sampling weight is tested against.
double kmu2gamma_ib_fraction(const RadiativeRange& range, int n = 400);

// ---------------- nu_mu CC interaction in LKr ----------------

/// Interaction probability of a nu_mu of energy e_nu over `path_mm` of liquid krypton:
/// sigma/E * E * neutron-excess factor * nucleon density * path.
double cc_interaction_probability(const SimConfig& cfg, double e_nu, double path_mm);

/// y from dsigma/dy ~ 1 + eps (1-y)^2 (rejection sampling).
double sample_inelasticity(Rng& rng, double eps);
/// Bjorken x from Beta(1, beta): density ~ (1-x)^(beta-1), mean 1/(1+beta).
double sample_bjorken_x(Rng& rng, double beta);

struct CCInteraction {
  double x = 0, y = 0, q2 = 0;
  Vector p_muon;      ///< the outgoing mu- [GeV/c]
  Vector p_hadrons;   ///< the hadronic system, balancing the mu- transverse momentum [GeV/c]
  double e_hadrons = 0;  ///< visible hadronic energy nu = y E_nu [GeV]
};

/// CC kinematics for a neutrino of momentum p_nu (x, y sampled; Q^2 = 2 M E x y; the mu- angle
/// from Q^2; requires W > cfg.nu_w_min and a physical angle; resampled otherwise).
CCInteraction sample_cc_interaction(const SimConfig& cfg, Rng& rng, const Vector& p_nu);

}  // namespace nutag::sim
