// The Kmu2 normalisation selection of the benchmark (benchmarks/kmu2_norm.yaml:
// selections/kmu2.yaml + the control trigger, region kmu2_norm) for ONE event, as the
// hand-written loop (hand_loop.cxx) runs it on either input format.
//
// Columns are computed lazily, only when the next cut needs them, as RDataFrame does; the
// physics helpers are the compiled nutag:: functions (build/libnutag.so) the analysis calls.
// `Src` gives the columns as members with operator* (a lazy RNTuple or TTree read).
#pragma once

#include <ROOT/RVec.hxx>

#include <array>
#include <cmath>

#include "nutag/geometry.hpp"
#include "nutag/kinematics.hpp"
#include "nutag/selection.hpp"

namespace kmu2bench {

using RVecD = ROOT::RVec<double>;
using RVecI = ROOT::RVec<int>;

// Cutflow rows in the order of region kmu2_norm (first row: before any cut).
constexpr std::array<const char*, 16> kCuts = {
    "(all)",         "trig_control",  "ktag_kaon",     "gtk_momentum", "single_track",
    "track_momentum", "mu_acceptance", "cda",          "fiducial",     "muon_muv3",
    "muon_lkr",      "muon_rich",     "timing_ktag_gtk", "timing_gtk_mu", "timing_chod",
    "kmu2_peak"};
constexpr int kAllRows = static_cast<int>(kCuts.size());

// The values the six kmu2_norm histograms are filled with, for an event passing every cut.
struct Values {
  double m_miss2 = 0.0, e_nu = 0.0, p_k = 0.0, p_mu = 0.0, z_vtx_m = 0.0, cda = 0.0;
};

// Number of cutflow rows the event passes (1: only "(all)"; kAllRows: the whole selection,
// and then `v` holds the histogram values).
template <typename Src>
int kmu2_event(Src& s, Values& v) {
  if (!*s.trigger_control) return 1;
  if (!(*s.ktag_sectors >= 5)) return 2;
  const nutag::Vector k_p3(*s.gtk_px, *s.gtk_py, *s.gtk_pz);
  const double p_k = k_p3.R();
  if (!(p_k > 72.0 && p_k < 78.0)) return 3;
  const RVecI& charge = *s.straw_charge;
  const int mu_idx = nutag::single_positive_track(charge);
  if (!(*s.straw_n == 1 && mu_idx >= 0)) return 4;
  const RVecD &px = *s.straw_px, &py = *s.straw_py, &pz = *s.straw_pz;
  const double p_mu = nutag::track_p(px, py, pz, mu_idx);
  if (!(p_mu > 5.0 && p_mu < 70.0)) return 5;
  const RVecD &x = *s.straw_x, &y = *s.straw_y;
  const nutag::Point mu_at_lkr =
      nutag::track_at_z(x, y, px, py, pz, charge, mu_idx, nutag::kZLkrFront_mm);
  const nutag::Point mu_at_muv3 =
      nutag::track_at_z(x, y, px, py, pz, charge, mu_idx, nutag::kZMuv3_mm);
  if (!(nutag::in_lkr_acceptance(mu_at_lkr.X(), mu_at_lkr.Y()) &&
        nutag::on_muv3_tile(mu_at_muv3.X(), mu_at_muv3.Y())))
    return 6;
  const nutag::Line k_line{nutag::Point(*s.gtk_x, *s.gtk_y, nutag::kZGtk3_mm), k_p3};
  const nutag::Line mu_line = nutag::track_line(x, y, px, py, pz, mu_idx);
  const nutag::Vertex vtx = nutag::closest_approach(k_line, mu_line);
  const double cda = vtx.cda;
  if (!(cda < 5.0)) return 7;
  const double z_vtx = vtx.point.Z();
  if (!(z_vtx > 110000.0 && z_vtx < 175000.0)) return 8;
  const double t_chod = nutag::at_or(*s.straw_chod_time, mu_idx, -999.0);
  const double t_rich = nutag::at_or(*s.straw_rich_time, mu_idx, -999.0);
  const double t_mu = t_rich > -900.0 ? t_rich : t_chod;
  const int mu_muv3_idx = nutag::muv3_muon_hit(*s.muv3_x, *s.muv3_y, *s.muv3_time,
                                               mu_at_muv3.X(), mu_at_muv3.Y(), p_mu, t_mu, 2.0);
  if (!(mu_muv3_idx >= 0)) return 9;
  const int mu_lkr_idx = nutag::nearest_in_time(*s.lkr_x, *s.lkr_y, *s.lkr_time,
                                                mu_at_lkr.X(), mu_at_lkr.Y(), 50.0, t_mu, 3.0);
  const double e_over_p = nutag::at_or(*s.lkr_e, mu_lkr_idx, 0.0) / p_mu;
  if (!(e_over_p < 0.2)) return 10;
  const double rich_mass = nutag::at_or(*s.straw_rich_mass, mu_idx, -1.0);
  if (!(p_mu < 15.0 || (rich_mass > 0.0 && rich_mass < 0.125))) return 11;
  const double ktag_time = *s.ktag_time, gtk_time = *s.gtk_time;
  if (!(std::abs(ktag_time - gtk_time) < 0.5)) return 12;
  if (!(std::abs(gtk_time - t_mu) < 1.0)) return 13;
  if (!(std::abs(t_chod - t_mu) < 3.0)) return 14;
  const nutag::Vector mu_p3 = nutag::track_momentum(px, py, pz, mu_idx);
  v.m_miss2 = nutag::missing_mass2(k_p3, mu_p3);
  if (!(std::abs(v.m_miss2) < 0.006)) return 15;
  const nutag::TaggedNeutrino nu = nutag::tag_neutrino(k_p3, mu_p3, vtx.point);
  v.e_nu = nu.p4.E();
  v.p_k = p_k;
  v.p_mu = p_mu;
  v.z_vtx_m = z_vtx / 1000.0;
  v.cda = cda;
  return kAllRows;
}

}  // namespace kmu2bench
