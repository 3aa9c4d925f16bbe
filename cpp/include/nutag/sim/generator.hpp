// The nutag fast simulation of NA62 (2022): one call = one K+ decay in the fiducial region with
// the detector response. Pure function of (cfg, stream, seed, entry): identical on any platform
// and thread. Physics model and sources: docs/simulation.md.
#pragma once

#include <RtypesCore.h>

#include "nutag/sim/config.hpp"
#include "nutag/sim/event.hpp"
#include "nutag/sim/preselection.hpp"

namespace nutag::sim {

/// Generation streams. Every stream's weight is "per K+ decay in the fiducial region": the
/// expected number of events of a set of N_K fiducial decays passing a selection S is
/// N_K * sum_{i in S} w_i / N_generated.
enum Stream : int {
  kKmu2 = 0,         ///< K+ -> mu+ nu only, weight BR(Kmu2)
  kSignal = 1,       ///< Kmu2 with the neutrino's CC interaction forced in the LKr
  kOverlay = 2,      ///< Kmu2 with forced accidental activity faking the interaction
  kMisreco = 3,      ///< non-Kmu2 decays forced to configurations that fake the signal
  kMinimumBias = 4,  ///< all K+ decays by BR, nothing forced, weight 1
};

/// Which GTK track the analysis associates with the downstream mu+: the K+ itself, or (with
/// probability `p_mistag`) an in-time pile-up beam particle, whose independent momentum, slope
/// and position give the m_miss^2 tails of wrong K-mu association (docs/simulation.md §4, §8).
/// `u` is one uniform draw in [0, 1). Without forcing (`force_fraction` <= 0) the pile-up track
/// is taken for u < p_mistag, weight 1. With forcing (importance sampling, used by the misreco
/// stream for MC statistics in the tails) it is taken for u < q = force_fraction
/// with weight p/q, the K+ otherwise with weight (1 - p)/(1 - q): the weighted probability of
/// each outcome is exactly p and 1 - p.
struct GtkAssociation {
  bool pileup = false;
  double weight = 1.0;
};
GtkAssociation associate_gtk(double u, double p_mistag, double force_fraction);

/// Simulate event `entry` of `stream` with master seed `seed`. Throws std::invalid_argument for
/// an unknown stream.
Event generate_event(const SimConfig& cfg, int stream, ULong64_t seed, ULong64_t entry);

/// The generator preselection (nutag/sim/preselection.hpp) with the default SimConfig; the
/// driver calls passes_preselection(ev, cfg) with the sample's configuration.
bool passes_preselection(const Event& ev);

}  // namespace nutag::sim
