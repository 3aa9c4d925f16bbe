// Generator-level preselection of the nutag fast simulation, applied alike to the pseudo-data
// and to every MC stream before writing (docs/simulation.md, "Preselection"). It is LOOSER than
// every analysis region (signal, side-bands, relaxed regions) of selections/*.yaml:
//
//   trigger_control
//   || ( trigger_nu && chod_n <= preselection_chod_max (1)
//        && no in-time LAV / IRC+SAC hit (if preselection_photon_veto)
//        && exactly one STRAW track, positive, preselection_p_min < p < preselection_p_max
//        && |m_miss^2| < preselection_m2_max          (K+ from the GTK, mu hypothesis)
//        && an LKr cluster with E > preselection_lkr_e_min within +-preselection_time of the
//           trigger time and within preselection_lkr_radius of the reconstructed nu line,
//           with more than preselection_muv_e_min of MUV1+MUV2 energy within
//           preselection_muv_radius of it, not counting clusters within preselection_muv_mu_veto
//           of the mu+ extrapolation — the hadronic signature; needs the proposed analysis
//           cut muv_hadronic (e_muv1 + e_muv2 > 4 GeV) in every neutrino region )
//
// The forced streams (kOverlay, kMisreco) only generate the configurations that can pass it.
#pragma once

#include "nutag/kinematics.hpp"
#include "nutag/sim/config.hpp"
#include "nutag/sim/event.hpp"

namespace nutag::sim {

/// The Kmu2 hypothesis of an event's single STRAW track: false if the event has not exactly one
/// positive track. Fills m_miss^2 and the reconstructed neutrino line.
bool reconstruct_kmu2(const Event& ev, double& p_mu, double& m2, Line& nu_line);

/// Smallest transverse distance, in the LKr front plane, between the reconstructed neutrino line
/// and an LKr cluster above e_min within +-dt of the trigger time (1e9 if none).
double nearest_cluster_to_nu(const Event& ev, const Line& nu_line, double e_min, double dt);

/// MUV1+MUV2 cluster energy within `radius` of (x, y), not counting clusters within `mu_veto`
/// of the mu+ positions mu1 (MUV1) and mu2 (MUV2).
double muv_energy_near(const Event& ev, double x, double y, double radius, const Point& mu1,
                       const Point& mu2, double mu_veto);

/// The neutrino-trigger branch of the preselection (see the file comment).
bool passes_nu_preselection(const Event& ev, const SimConfig& cfg);

/// trigger_control || passes_nu_preselection.
bool passes_preselection(const Event& ev, const SimConfig& cfg);

}  // namespace nutag::sim
