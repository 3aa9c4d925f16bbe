// Generator-level preselection; see nutag/sim/preselection.hpp and docs/simulation.md.
#include "nutag/sim/preselection.hpp"

#include <cmath>

#include "nutag/constants.hpp"
#include "nutag/geometry.hpp"

namespace nutag::sim {

bool reconstruct_kmu2(const Event& ev, double& p_mu, double& m2, Line& nu_line) {
  if (ev.straw_n != 1 || ev.straw_charge.size() != 1 || ev.straw_charge[0] <= 0) return false;
  const Vector pk(ev.gtk_px, ev.gtk_py, ev.gtk_pz);
  const Vector pm(ev.straw_px[0], ev.straw_py[0], ev.straw_pz[0]);
  if (!(pk.Z() > 0.0) || !(pm.Z() > 0.0)) return false;
  p_mu = std::sqrt(pm.Mag2());
  m2 = missing_mass2(pk, pm);
  const Line kl{Point(ev.gtk_x, ev.gtk_y, kZGtk3_mm), pk};
  const Line ml{Point(ev.straw_x[0], ev.straw_y[0], kZStraw1_mm), pm};
  const Vertex v = closest_approach(kl, ml);
  const TaggedNeutrino nu = tag_neutrino(pk, pm, v.point);
  nu_line = nu.line;
  return nu_line.direction.Z() > 0.0;
}

double nearest_cluster_to_nu(const Event& ev, const Line& nu_line, double e_min, double dt) {
  double best = 1e9;
  for (int i = 0; i < ev.lkr_n; ++i) {
    if (ev.lkr_e[i] <= e_min || std::fabs(ev.lkr_time[i] - ev.trigger_time) >= dt) continue;
    const double d = transverse_distance(nu_line, ev.lkr_x[i], ev.lkr_y[i], kZLkrFront_mm);
    if (d < best) best = d;
  }
  return best;
}

double muv_energy_near(const Event& ev, double x, double y, double radius, const Point& mu1,
                       const Point& mu2, double mu_veto) {
  double e = 0.0;
  const double r2 = radius * radius, v2 = mu_veto * mu_veto;
  for (std::size_t i = 0; i < ev.muv1_e.size(); ++i) {
    const double dx = ev.muv1_x[i] - x, dy = ev.muv1_y[i] - y;
    const double mx = ev.muv1_x[i] - mu1.X(), my = ev.muv1_y[i] - mu1.Y();
    if (dx * dx + dy * dy < r2 && mx * mx + my * my >= v2) e += ev.muv1_e[i];
  }
  for (std::size_t i = 0; i < ev.muv2_e.size(); ++i) {
    const double dx = ev.muv2_x[i] - x, dy = ev.muv2_y[i] - y;
    const double mx = ev.muv2_x[i] - mu2.X(), my = ev.muv2_y[i] - mu2.Y();
    if (dx * dx + dy * dy < r2 && mx * mx + my * my >= v2) e += ev.muv2_e[i];
  }
  return e;
}

bool passes_nu_preselection(const Event& ev, const SimConfig& cfg) {
  if (!ev.trigger_nu) return false;
  if (ev.chod_n > cfg.preselection_chod_max) return false;
  if (cfg.preselection_photon_veto != 0 && (ev.lav_n_intime > 0 || ev.sav_n_intime > 0)) return false;
  double p = 0, m2 = 0;
  Line nu;
  if (!reconstruct_kmu2(ev, p, m2, nu)) return false;
  if (!(p > cfg.preselection_p_min && p < cfg.preselection_p_max)) return false;
  if (!(std::fabs(m2) < cfg.preselection_m2_max)) return false;
  const Line mu{Point(ev.straw_x[0], ev.straw_y[0], kZStraw1_mm),
                Vector(ev.straw_px[0], ev.straw_py[0], ev.straw_pz[0])};
  const Point mu1 = track_position_at_z(mu, mu.direction, ev.straw_charge[0], kZMuv1_mm);
  const Point mu2 = track_position_at_z(mu, mu.direction, ev.straw_charge[0], kZMuv2_mm);
  for (int i = 0; i < ev.lkr_n; ++i) {
    if (ev.lkr_e[i] <= cfg.preselection_lkr_e_min ||
        std::fabs(ev.lkr_time[i] - ev.trigger_time) >= cfg.preselection_time)
      continue;
    if (transverse_distance(nu, ev.lkr_x[i], ev.lkr_y[i], kZLkrFront_mm) >= cfg.preselection_lkr_radius)
      continue;
    if (cfg.preselection_muv_e_min <= 0.0 ||
        muv_energy_near(ev, ev.lkr_x[i], ev.lkr_y[i], cfg.preselection_muv_radius, mu1, mu2,
                        cfg.preselection_muv_mu_veto) > cfg.preselection_muv_e_min)
      return true;
  }
  return false;
}

bool passes_preselection(const Event& ev, const SimConfig& cfg) {
  return ev.trigger_control || passes_nu_preselection(ev, cfg);
}

}  // namespace nutag::sim
