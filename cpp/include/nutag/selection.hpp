// Event-selection helpers for the RDataFrame hot loop: pick the mu+ track, associate LKr
// clusters and MUV3 hits with it, pick the neutrino's LKr cluster and MUV3 hit among the rest,
// sum the MUV1/MUV2 energy of the neutrino shower, and emulate the neutrino trigger line.
//
// Why C++ helpers and not long YAML expressions: each helper loops over an RVec once, returns an
// index or a value, and keeps every selection YAML column a one-liner a physicist can read.
// Conventions: an index of -1 means "none"; a distance or energy of -1 means "not available"
// (so a cut "x >= 0" or "idx >= 0" removes it explicitly, and histograms never see NaN).
// All functions are pure (no static mutable state): thread-safe from any RDataFrame slot.
// Units: GeV, mm, ns.
#pragma once

#include <ROOT/RVec.hxx>

#include "nutag/geometry.hpp"
#include "nutag/kinematics.hpp"

namespace nutag {

using RVecD = ROOT::RVec<double>;
using RVecI = ROOT::RVec<int>;

// --- the mu+ track ---

/// Index of the only track with charge > 0; -1 if the event has no or several positive tracks.
/// Why "only": a second positive track means a multi-track decay (K3pi) or pile-up, which the
/// Kmu2 topology excludes; the caller decides separately whether negative tracks are allowed.
int single_positive_track(const RVecI& charge);

/// |p| of track i [GeV/c], -1 for i < 0 or out of range.
double track_p(const RVecD& px, const RVecD& py, const RVecD& pz, int i);

/// 3-momentum of track i upstream of the magnet; (0, 0, 1) for an invalid index, so that the
/// kinematics helpers downstream never see a zero direction (the event is cut anyway).
Vector track_momentum(const RVecD& px, const RVecD& py, const RVecD& pz, int i);

/// Straight line of track i upstream of the magnet, through its point at STRAW1.
Line track_line(const RVecD& x, const RVecD& y, const RVecD& px, const RVecD& py,
                const RVecD& pz, int i);

/// Position of track i at plane z [mm], through the MNP33 kick when z is downstream of it
/// (wraps track_position_at_z). Invalid index: a point far outside every detector (1e9, 1e9).
Point track_at_z(const RVecD& x, const RVecD& y, const RVecD& px, const RVecD& py,
                 const RVecD& pz, const RVecI& charge, int i, double z_mm);

/// True if (x, y) in the MUV3 plane is on a tile (outer or inner), i.e. muv3_tile(x, y) >= 0.
/// Why a separate name: RDataFrame's JIT replaces every token equal to a column name, even
/// after `nutag::`, so `nutag::muv3_tile(...)` cannot be written where the input column
/// `muv3_tile` exists.
bool on_muv3_tile(double x_mm, double y_mm);

/// Element i of v, or `fallback` when i is not a valid index.
double at_or(const RVecD& v, int i, double fallback);

// --- association with the mu+ track ---

/// Index of the object (cluster or hit) nearest to (x0, y0) among those within max_dist_mm of
/// it and within max_dt_ns of t0; -1 if none. Ties keep the lower index (deterministic).
int nearest_in_time(const RVecD& xs, const RVecD& ys, const RVecD& ts, double x0_mm,
                    double y0_mm, double max_dist_mm, double t0_ns, double max_dt_ns);

/// Half-width [mm] of the square MUV3 search window around a muon extrapolation: half a tile
/// (110 mm, the hit position is the tile centre) plus 3 sigma of multiple scattering in the
/// calorimeters and the MUV3 iron (sigma = 530 mm GeV / p [NA62 spec section 3]).
double muv3_search_halfwidth(double p_gev);

/// MUV3 hit associated with a muon of momentum p extrapolated to (x0, y0): the nearest in-time
/// hit inside the momentum-dependent square window (muv3_search_halfwidth); -1 if none.
int muv3_muon_hit(const RVecD& hx, const RVecD& hy, const RVecD& ht, double x0_mm, double y0_mm,
                  double p_gev, double t0_ns, double max_dt_ns);

// --- the neutrino's deposits ---

/// The neutrino's LKr cluster: the most energetic cluster other than `exclude` (the mu+ one)
/// with |t - t0| < max_dt_ns and E > e_min; -1 if none. Why the most energetic and not the one
/// nearest to the neutrino line: choosing by distance would pull accidental clusters towards
/// small d_LKr and spoil the flatness the d_LKr side-band extrapolation relies on.
int leading_other_in_time(const RVecD& e, const RVecD& t, int exclude, double t0_ns,
                          double max_dt_ns, double e_min_gev);

/// The neutrino's MUV3 hit: among hits other than `exclude` (the mu+ one) within max_dt_ns of
/// t0, the one closest in time; -1 if none. Selection by time only (not by position) keeps
/// d_MUV3 and phi unbiased for accidental hits.
int closest_in_time_other(const RVecD& t, int exclude, double t0_ns, double max_dt_ns);

/// Sum of the energies of clusters within r_mm of (x0, y0) and farther than r_veto_mm from
/// (xv, yv) — the MUV1/MUV2 energy of the neutrino shower, excluding the mu+ MIP deposit.
double energy_near(const RVecD& xs, const RVecD& ys, const RVecD& es, double x0_mm, double y0_mm,
                   double r_mm, double xv_mm, double yv_mm, double r_veto_mm);

/// Sum of the energies of the LKr clusters within max_dt_ns of t0 (the trigger's LKr energy).
double energy_in_time(const RVecD& e, const RVecD& t, double t0_ns, double max_dt_ns);

/// Transverse distance in plane z between object i and the line; -1 for i < 0.
double distance_to_line(const Line& line, const RVecD& xs, const RVecD& ys, int i, double z_mm);

// --- trigger emulation (neutrino line, spec section 6) ---

/// True if two hits on OUTER MUV3 tiles lie in diagonally opposite quadrants, each within
/// `window_ns` of the trigger time, and within `max_dt_ns` of each other.
bool muv3_opposite_pair(const RVecI& tile, const RVecD& x, const RVecD& y, const RVecD& t,
                        double t_trigger_ns, double window_ns, double max_dt_ns);

}  // namespace nutag
