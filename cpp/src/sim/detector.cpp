// Detector response of the nutag fast simulation; see nutag/sim/detector.hpp and
// docs/simulation.md for the model and the source of every number.
#include "nutag/sim/detector.hpp"

#include <algorithm>
#include <cmath>

#include "nutag/geometry.hpp"
#include "nutag/sim/physics.hpp"

namespace nutag::sim {

namespace detail {

constexpr double kZLkrBack = kZLkrFront_mm + kLkrDepth_mm;
constexpr double kZMuv1End = kZMuv1_mm + kMuv1Depth_mm;
constexpr double kZMuv2End = kZMuv2_mm + kMuv2Depth_mm;
constexpr double kZRichMid = 0.5 * (kZRichStart_mm + kZRichEnd_mm);
constexpr double kFeLambda_mm = 167.7;  // iron nuclear interaction length [PDG]
constexpr double kNoTime = -999.0;

// Calorimeter layers along z, as seen by a hadronic shower.
enum Layer : int { kLayerLkr = 0, kLayerDead, kLayerMuv1, kLayerGap1, kLayerMuv2, kLayerGap2,
                   kLayerWall, kLayerBeyond };

// One charged-particle segment: a particle species between two planes z0 < z < z1.
struct Segment {
  int pdg = 0;
  int charge = 0;
  double mass = 0;
  Point origin;
  Vector p;  // momentum at the origin
  double z0 = 0, z1 = 0;
};

double pdg_mass(int pdg) {
  switch (std::abs(pdg)) {
    case 13: return kMassMuon;
    case 211: return kMassPion;
    case 11: return kMassElectron;
    default: return 0.0;
  }
}

int pdg_charge(int pdg) {
  switch (pdg) {
    case 211: case -13: case -11: return 1;
    case -211: case 13: case 11: return -1;
    default: return 0;
  }
}

bool crosses_magnet(const Segment& s, double z) {
  return s.charge != 0 && s.origin.Z() < kZMagnetCentre_mm && z >= kZMagnetCentre_mm;
}

Point segment_position(const Segment& s, double z) {
  if (crosses_magnet(s, z)) return track_position_at_z(Line{s.origin, s.p}, s.p, s.charge, z);
  return extrapolate_to_z(Line{s.origin, s.p}, z);
}

Vector segment_momentum(const Segment& s, double z) {
  return crosses_magnet(s, z) ? momentum_after_magnet(s.p, s.charge) : s.p;
}

// A charge that the magnet cannot bend by 270 MeV/c in x would curl up: lost.
bool survives_magnet(const Segment& s) {
  if (s.charge == 0 || s.origin.Z() >= kZMagnetCentre_mm) return true;
  const double pxz = std::hypot(s.p.X(), s.p.Z());
  return s.p.Z() > 0.0 && pxz > 2.0 * kMagnetPtKick;
}

double em_resolution(const SimConfig& c, double e) {
  const double a = c.lkr_stoch / std::sqrt(e), b = c.lkr_noise / e, k = c.lkr_const;
  return std::sqrt(a * a + b * b + k * k);
}

constexpr double kFeX0_mm = 17.57;  // iron radiation length [PDG]

// Length [mm along z] of one interaction length (in_x0 false) or radiation length (true) in
// each calorimeter layer; 0 for the air gaps. MUV1/MUV2 and the dead material are given by
// their total depth (NA62MC stacks, docs/simulation.md §4), spread over their z extent.
void layer_unit_lengths(const SimConfig& c, bool in_x0, double out[7]) {
  const double dead = kZMuv1_mm - kZLkrBack;
  const auto per_unit = [](double length, double units) { return length / std::max(units, 1e-9); };
  out[0] = in_x0 ? c.lkr_x0 : c.lkr_lambda_int;
  out[1] = per_unit(dead, in_x0 ? c.lkr_muv_dead_x0 : c.lkr_muv_dead_lambda);
  out[2] = per_unit(kMuv1Depth_mm, in_x0 ? c.muv1_depth_x0 : c.muv1_depth_lambda);
  out[3] = 0.0;
  out[4] = per_unit(kMuv2Depth_mm, in_x0 ? c.muv2_depth_x0 : c.muv2_depth_lambda);
  out[5] = 0.0;
  out[6] = in_x0 ? kFeX0_mm : kFeLambda_mm;
}

// Walk `depth` interaction (or radiation) lengths from z_start along a direction with cosine
// `cz` through the calorimeter stack; returns z and the layer reached.
double depth_to_z_impl(const SimConfig& c, double z_start, double cz, double depth, int& layer,
                       bool in_x0) {
  const double lo[7] = {kZLkrFront_mm, kZLkrBack, kZMuv1_mm, kZMuv1End, kZMuv2_mm, kZMuv2End,
                        kZMuv3IronStart_mm};
  const double hi[7] = {kZLkrBack, kZMuv1_mm, kZMuv1End, kZMuv2_mm, kZMuv2End,
                        kZMuv3IronStart_mm, kZMuv3IronEnd_mm};
  double lam[7];
  layer_unit_lengths(c, in_x0, lam);
  double z = z_start;
  double left = depth;
  for (int i = 0; i < 7; ++i) {
    if (z >= hi[i]) continue;
    const double za = std::max(z, lo[i]);
    if (lam[i] <= 0.0) { z = hi[i]; continue; }
    const double thick = (hi[i] - za) / cz / lam[i];  // lambda (or X0)
    if (left < thick) {
      layer = i;
      return za + left * lam[i] * cz;
    }
    left -= thick;
    z = hi[i];
  }
  layer = kLayerBeyond;
  return kZMuv3IronEnd_mm + left * lam[6] * cz;
}

}  // namespace detail

using namespace detail;

double hard_loss_integral(double v0) {
  return 4.0 / 3.0 * std::log(1.0 / v0) - 4.0 / 3.0 * (1.0 - v0) + 0.5 * (1.0 - v0 * v0);
}

double sample_hard_loss_fraction(Rng& rng, double v0) {
  for (;;) {
    const double v = std::pow(v0, 1.0 - rng.uniform());  // ~ 1/v on [v0, 1]
    const double f = (4.0 / 3.0 * (1.0 - v) + v * v) / (4.0 / 3.0);
    if (rng.uniform() < f) return v;
  }
}

double calo_depth_to_z(const SimConfig& cfg, double z_start, double cz, double depth, int& layer) {
  return depth_to_z_impl(cfg, z_start, cz, depth, layer, false);
}

double calo_depth_x0_to_z(const SimConfig& cfg, double z_start, double cz, double depth, int& layer) {
  return depth_to_z_impl(cfg, z_start, cz, depth, layer, true);
}

HadronShowerProfile hadron_shower_profile(const SimConfig& c, double e) {
  const double le = std::log(std::max(e, 1.0));
  HadronShowerProfile p;
  p.shape = std::max(0.05, c.had_bock_a0 + c.had_bock_a1 * le);
  p.em_slope_x0 = c.had_bock_b;
  p.had_slope_lambda = std::max(0.05, c.had_bock_d0 - c.had_bock_d1 * le);
  p.f_em = 1.0 - std::pow(std::max(e, c.had_fem_e0) / c.had_fem_e0, c.had_fem_m - 1.0);
  return p;
}

double regularized_gamma_p(double a, double x) {
  if (!(x > 0.0)) return 0.0;
  const double log_prefactor = -x + a * std::log(x) - std::lgamma(a);
  if (x < a + 1.0) {  // series
    double term = 1.0 / a, sum = term;
    for (int n = 1; n < 500 && std::fabs(term) > 1e-15 * std::fabs(sum); ++n) {
      term *= x / (a + n);
      sum += term;
    }
    return std::min(1.0, sum * std::exp(log_prefactor));
  }
  // continued fraction for Q(a, x) (modified Lentz)
  const double tiny = 1e-300;
  double b = x + 1.0 - a, cf = 1.0 / tiny, d = 1.0 / b, h = d;
  for (int i = 1; i < 500; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::fabs(d) < tiny) d = tiny;
    cf = b + an / cf;
    if (std::fabs(cf) < tiny) cf = tiny;
    d = 1.0 / d;
    const double delta = d * cf;
    h *= delta;
    if (std::fabs(delta - 1.0) < 1e-15) break;
  }
  return std::max(0.0, 1.0 - std::exp(log_prefactor) * h);
}

double hadron_shower_containment(const SimConfig& c, double e, double depth_x0, double depth_lambda) {
  const HadronShowerProfile p = hadron_shower_profile(c, e);
  return p.f_em * regularized_gamma_p(p.shape, p.em_slope_x0 * depth_x0) +
         (1.0 - p.f_em) * regularized_gamma_p(p.shape, p.had_slope_lambda * depth_lambda);
}

void DetectorSim::add_lkr_deposit(double x, double y, double e, double t) { lkr_.add(x, y, e, t); }

void DetectorSim::add_chod_candidate(double t) {
  if (chod_n_ < kMaxChod) chod_t_[chod_n_++] = t;
}

void DetectorSim::add_veto_hit(int which, double t) {
  if (which < 0 || which > 1 || veto_n_[which] >= kMaxChod) return;
  veto_t_[which][veto_n_[which]++] = t + rng_.gauss(0.0, cfg_.veto_time_res);
}

void DetectorSim::add_muv3_hit(double x, double y, double t) {
  const int tile = muv3_tile(x, y);
  if (tile < 0 || !rng_.bernoulli(cfg_.muv3_eff)) return;
  ev_.muv3_tile.push_back(tile);
  ev_.muv3_x.push_back(muv3_tile_x(tile));
  ev_.muv3_y.push_back(muv3_tile_y(tile));
  ev_.muv3_time.push_back(t + rng_.gauss(0.0, cfg_.muv3_time_res));
}

bool crosses_lav12_lead_glass(const SimConfig& c, const Line& line) {
  const Point at = extrapolate_to_z(line, c.lav12_z);
  return std::hypot(at.X(), at.Y()) > c.lav12_inner_radius;
}

bool photon_shadowed_by_lav12(const SimConfig& c, const Point& origin, const Vector& p) {
  return p.Z() > 0.0 && origin.Z() < c.lav12_z && crosses_lav12_lead_glass(c, Line{origin, p});
}

namespace {
// A photon reaches the LKr's liquid when it hits the LKr acceptance (`at_lkr`: its point on the
// LKr front) without first crossing LAV12's lead glass, which hides the LKr's outer rim.
bool photon_reaches_lkr(const SimConfig& c, const Point& origin, const Vector& p, const Point& at_lkr) {
  return in_lkr_acceptance(at_lkr.X(), at_lkr.Y()) && !photon_shadowed_by_lav12(c, origin, p);
}
}  // namespace

void DetectorSim::add_photon(const Point& origin, const Vector& p, double t) {
  if (p.Z() <= 0.0) return;
  const Point at = extrapolate_to_z(Line{origin, p}, kZLkrFront_mm);
  if (!photon_reaches_lkr(cfg_, origin, p, at)) {
    // photon vetoes: IRC/SAC for the LKr beam hole, LAV for larger angles up to 50 mrad
    // (including LAV12 in front of the LKr's rim)
    const double r = std::hypot(at.X(), at.Y());
    const double theta = std::atan2(std::hypot(p.X(), p.Y()), p.Z());
    if (r < 150.0) {
      if (!rng_.bernoulli(cfg_.sav_inefficiency)) add_veto_hit(1, t);
    } else if (theta < cfg_.lav_max_angle) {
      if (!rng_.bernoulli(cfg_.lav_inefficiency)) add_veto_hit(0, t);
    }
    return;
  }
  const double e = std::sqrt(p.Mag2());
  const double es = e * (1.0 + rng_.gauss() * em_resolution(cfg_, e));
  const double dy = rng_.gauss(0.0, cfg_.lkr_position_res);  // y first: fixed draw order (§1)
  const double dx = rng_.gauss(0.0, cfg_.lkr_position_res);
  lkr_.add(at.X() + dx, at.Y() + dy, es, t);
}

bool DetectorSim::add_photon_photonuclear(const Point& origin, const Vector& p, double t) {
  if (p.Z() <= 0.0) return false;
  const Point at = extrapolate_to_z(Line{origin, p}, kZLkrFront_mm);
  if (!photon_reaches_lkr(cfg_, origin, p, at)) {
    add_photon(origin, p, t);
    return false;
  }
  const double e = std::sqrt(p.Mag2());
  const Vector dir = p / e;
  const double lambda_ga = photonuclear_length_mm(cfg_);
  const double lambda_pair = 9.0 / 7.0 * cfg_.lkr_x0;  // mean free path for pair production [PDG]
  const double lambda_tot = 1.0 / (1.0 / lambda_ga + 1.0 / lambda_pair);
  const double path = kLkrDepth_mm / dir.Z();
  if (cfg_.photon_conversions != 0) forced_weight_ *= photon_transmission_before_lkr(cfg_, origin, p);
  forced_weight_ *= lambda_tot / lambda_ga * -std::expm1(-path / lambda_tot);
  const double s = rng_.truncated_exponential(lambda_tot, 0.0, path);
  add_hadron_shower(at + dir * s, dir, e, t);
  return true;
}

namespace {

/// Length in z, within [z_a, z_b], over which the straight line is farther than r from the z axis.
/// R^2(u) = A u^2 + B u + C with u = z - z_origin: outside the roots of R^2 = r^2.
double z_length_outside_radius(const Line& line, double z_a, double z_b, double r) {
  if (!(z_b > z_a)) return 0.0;
  const Vector& d = line.direction;
  const double ax = d.X() / d.Z(), ay = d.Y() / d.Z();
  const double x0 = line.origin.X(), y0 = line.origin.Y(), z0 = line.origin.Z();
  const double qa = ax * ax + ay * ay;
  const double qb = 2.0 * (x0 * ax + y0 * ay);
  const double qc = x0 * x0 + y0 * y0 - r * r;
  const double disc = qb * qb - 4.0 * qa * qc;
  if (qa <= 0.0 || disc <= 0.0) return qc > 0.0 || qa > 0.0 ? z_b - z_a : 0.0;  // never inside
  const double sq = std::sqrt(disc);
  const double z_in = z0 + (-qb - sq) / (2.0 * qa), z_out = z0 + (-qb + sq) / (2.0 * qa);
  const double inside = std::max(0.0, std::min(z_b, z_out) - std::max(z_a, z_in));
  return (z_b - z_a) - inside;
}

}  // namespace

double material_before_lkr_x0(const SimConfig& c, const Point& origin, const Vector& p) {
  if (!(p.Z() > 0.0)) return 0.0;
  const Vector dir = p.Unit();
  const double sec = 1.0 / dir.Z();  // path length per unit z (thin layers perpendicular to z)
  const Line line{origin, dir};
  double x0 = 0.0;
  for (int i = 0; i < 4; ++i) {
    if (origin.Z() >= straw_z(i)) continue;
    const Point at = extrapolate_to_z(line, straw_z(i));
    if (in_straw_acceptance(i, at.X(), at.Y())) x0 += c.straw_chamber_x0 * sec;
  }
  const double z_neon = std::max(origin.Z(), kZRichStart_mm);
  x0 += z_length_outside_radius(line, z_neon, kZRichEnd_mm, kRichBeamPipeRadius_mm) * sec / c.rich_neon_x0_mm;
  // a thin layer at z, crossed where `accepts` its (x, y)
  const auto thin_layer = [&](double z, bool (*accepts)(double, double), double layer_x0) {
    if (origin.Z() >= z) return;
    const Point at = extrapolate_to_z(line, z);
    if (accepts(at.X(), at.Y())) x0 += layer_x0 * sec;
  };
  // The RICH windows and the support panel span the vessel outside the beam pipe; a photon
  // beyond the mirrors' 1100 mm there is behind LAV12 at the LKr (photon_shadowed_by_lav12).
  thin_layer(kZRichStart_mm, in_rich_acceptance, c.rich_beam_window_x0);
  thin_layer(kZRichEnd_mm, in_rich_acceptance,
             c.rich_mirror_x0 + c.rich_mirror_support_x0 + c.rich_mirror_window_x0);
  thin_layer(kZNewChod_mm, in_chod_acceptance, c.newchod_x0);
  thin_layer(kZChod_mm, in_chod_acceptance, c.chod_x0);
  // LKr cryostat front: windows, the honeycomb between them (its depth follows the cold
  // window's dome, radius kLkrColdWindowDomeRadius_mm) and the epoxy front plate
  if (origin.Z() < kZLkrFront_mm) {
    const Point at = extrapolate_to_z(line, kZLkrFront_mm);
    if (in_lkr_acceptance(at.X(), at.Y())) {
      const double r2 = at.X() * at.X() + at.Y() * at.Y();
      const double r2_ref = kLkrInnerRadius_mm * kLkrInnerRadius_mm;
      const double depth = std::max(0.0, c.lkr_honeycomb_depth_mm - (r2 - r2_ref) / (2.0 * kLkrColdWindowDomeRadius_mm));
      x0 += (c.lkr_warm_window_x0 + c.lkr_cold_window_x0 + depth / c.lkr_honeycomb_x0_mm + c.lkr_front_plate_x0) * sec;
    }
  }
  return x0;
}

double photon_transmission_before_lkr(const SimConfig& c, const Point& origin, const Vector& p) {
  return std::exp(-7.0 / 9.0 * material_before_lkr_x0(c, origin, p));
}

double photonuclear_length_mm(const SimConfig& c) {
  const double atoms_per_cm3 = c.lkr_density * kAvogadro / c.kr_molar_mass;
  return 10.0 / (atoms_per_cm3 * c.photonuclear_sigma_mb * 1e-27);
}

double DetectorSim::sample_em_fraction(double mean) {
  const double m = std::min(0.98, std::max(0.02, mean));
  const double var = std::min(cfg_.had_fem_sigma * cfg_.had_fem_sigma, 0.9 * m * (1.0 - m));
  if (!(var > 0.0)) return m;
  const double kappa = m * (1.0 - m) / var - 1.0;  // Beta(m kappa, (1 - m) kappa) has variance var
  return rng_.beta(m * kappa, (1.0 - m) * kappa);
}

void DetectorSim::deposit_shower_component(const Point& start, const Vector& dir, double energy,
                                           int n, double shape, double slope, bool em,
                                           ShowerDeposits& out) {
  if (!(energy > 0.0)) return;
  const double q = energy / n;
  for (int i = 0; i < n; ++i) {
    int layer = kLayerBeyond;
    const double depth = rng_.gamma(shape, 1.0 / slope);
    const double z = em ? calo_depth_x0_to_z(cfg_, start.Z(), dir.Z(), depth, layer)
                        : calo_depth_to_z(cfg_, start.Z(), dir.Z(), depth, layer);
    const double s = (z - start.Z()) / dir.Z();
    const double x = start.X() + s * dir.X(), y = start.Y() + s * dir.Y();
    int k = -1;
    if (layer == kLayerLkr && in_lkr_acceptance(x, y)) k = 0;
    else if (layer == kLayerMuv1 && in_muv12_acceptance(x, y)) k = 1;
    else if (layer == kLayerMuv2 && in_muv12_acceptance(x, y)) k = 2;
    if (k < 0) continue;  // dead material, gaps, the MUV3 wall, beyond: leakage
    // EM quanta at the EM scale; hadronic ones at h/e of the calorimeter they stop in
    const double response = em ? 1.0 : (k == 0 ? cfg_.had_h_over_e_lkr : cfg_.had_h_over_e_muv);
    out.e[k] += q * response;
    out.x[k] += q * response * x;
    out.y[k] += q * response * y;
  }
}

void DetectorSim::add_hadron_shower(const Point& start, const Vector& dir_in, double e, double t) {
  if (!(e > 0.0) || dir_in.Z() <= 0.0) return;
  const Vector dir = dir_in.Unit();
  const double sig = std::sqrt(cfg_.had_stoch * cfg_.had_stoch / e + cfg_.had_const * cfg_.had_const);
  const double es = e * (1.0 + rng_.gauss() * sig);
  if (es <= 0.0) return;
  const HadronShowerProfile prof = hadron_shower_profile(cfg_, es);
  const double f_em = sample_em_fraction(prof.f_em);
  const int n = std::max(1, cfg_.had_chunks);
  ShowerDeposits dep;
  deposit_shower_component(start, dir, f_em * es, n, prof.shape, prof.em_slope_x0, true, dep);
  deposit_shower_component(start, dir, (1.0 - f_em) * es, n, prof.shape, prof.had_slope_lambda,
                           false, dep);
  const double el = dep.e[0], e1 = dep.e[1], e2 = dep.e[2];
  // position smearing: y drawn before x, in statements of their own (fixed draw order, §1)
  if (el > 0) {
    const double dy = rng_.gauss(0.0, cfg_.had_lateral_res);
    const double dx = rng_.gauss(0.0, cfg_.had_lateral_res);
    lkr_.add(dep.x[0] / el + dx, dep.y[0] / el + dy, el, t);
  }
  if (e1 > 0) {
    const double dy = rng_.gauss(0.0, cfg_.muv1_position_res);
    const double dx = rng_.gauss(0.0, cfg_.muv1_position_res);
    muv1_.add(dep.x[1] / e1 + dx, dep.y[1] / e1 + dy, e1, t);
  }
  if (e2 > 0) {
    const double dy = rng_.gauss(0.0, cfg_.muv2_position_res);
    const double dx = rng_.gauss(0.0, cfg_.muv2_position_res);
    muv2_.add(dep.x[2] / e2 + dx, dep.y[2] / e2 + dy, e2, t);
  }
  // Punch-through: shower leakage (and muons from pi/K decays inside it) reaching MUV3.
  const double ppt = std::min(0.3, cfg_.punch_through_prob * es / 20.0);
  if (rng_.bernoulli(ppt)) {
    const double s = (kZMuv3_mm - start.Z()) / dir.Z();
    const double dy = rng_.gauss(0.0, 300.0);  // y first: fixed draw order (§1)
    const double dx = rng_.gauss(0.0, 300.0);
    add_muv3_hit(start.X() + s * dir.X() + dx, start.Y() + s * dir.Y() + dy, t);
  }
}

void DetectorSim::add_calo_muon(const Point& start, const Vector& p, int charge, double t,
                                const ForcedLoss* forced) {
  (void)charge;  // the calorimeters have no field; kept for symmetry and future use
  const double m = kMassMuon;
  double e = std::sqrt(p.Mag2() + m * m);
  Vector dir = p.Unit();
  if (dir.Z() <= 0.0) return;
  Point pos = start;
  struct MuLayer { double lo, hi, x0, dedx, brho, mip, mip_len; int id; };
  const MuLayer layers[4] = {
      {kZLkrFront_mm, kZLkrBack, cfg_.lkr_x0, cfg_.dedx_lkr, cfg_.mu_rad_b_kr * cfg_.lkr_density,
       cfg_.mip_lkr, kLkrDepth_mm, 0},
      {kZMuv1_mm, kZMuv1End, cfg_.muv_x0, cfg_.dedx_fe, cfg_.mu_rad_b_fe * cfg_.fe_density,
       cfg_.mip_muv1, kMuv1Depth_mm, 1},
      {kZMuv2_mm, kZMuv2End, cfg_.muv_x0, cfg_.dedx_fe, cfg_.mu_rad_b_fe * cfg_.fe_density,
       cfg_.mip_muv2, kMuv2Depth_mm, 2},
      {kZMuv3IronStart_mm, kZMuv3IronEnd_mm, cfg_.fe_x0, cfg_.dedx_fe,
       cfg_.mu_rad_b_fe * cfg_.fe_density, 0.0, 1.0, 3}};
  const double ihard = hard_loss_integral(cfg_.mu_hard_v_min);
  auto move_to = [&](double z) {
    const double s = (z - pos.Z()) / dir.Z();
    pos = Point(pos.X() + s * dir.X(), pos.Y() + s * dir.Y(), z);
  };
  auto deposit = [&](int id, double x, double y, double de, bool em) {
    if (de <= 0.0) return;
    if (id == 0 && in_lkr_acceptance(x, y)) {
      lkr_.add(x, y, em ? de * (1.0 + rng_.gauss() * em_resolution(cfg_, de)) : de, t);
    } else if (id == 1 && in_muv12_acceptance(x, y)) {
      muv1_.add(x, y, de, t);
    } else if (id == 2 && in_muv12_acceptance(x, y)) {
      muv2_.add(x, y, de, t);
    }
  };
  auto hard_loss = [&](int id, double v, bool nuclear) {
    const double de = v * (e - m);
    e -= de;
    if (nuclear) add_hadron_shower(pos, dir, de, t);
    else deposit(id, pos.X(), pos.Y(), de, true);
  };
  for (const MuLayer& ly : layers) {
    if (pos.Z() >= ly.hi) continue;
    move_to(std::max(pos.Z(), ly.lo));
    double cuts[3] = {pos.Z(), ly.hi, ly.hi};
    int ncut = 2;
    if (forced && forced->z > pos.Z() && forced->z < ly.hi) {
      cuts[1] = forced->z;
      ncut = 3;
    }
    for (int k = 0; k + 1 < ncut; ++k) {
      const double za = cuts[k], zb = cuts[k + 1];
      const double len = (zb - za) / dir.Z();  // mm
      const double pmom = std::sqrt(std::max(e * e - m * m, 1e-6));
      // discrete hard losses (brems, pair production, photonuclear) at a random point
      const int nh = rng_.poisson(ly.brho * len * 0.1 * ihard);
      for (int h = 0; h < nh && e > m + 0.05; ++h) {
        const double v = sample_hard_loss_fraction(rng_, cfg_.mu_hard_v_min);
        const bool nuc = rng_.bernoulli(cfg_.mu_nuclear_fraction);
        const Point save = pos;
        move_to(za + rng_.uniform() * (zb - za));
        hard_loss(ly.id, v, nuc);
        pos = save;
      }
      // ionisation: visible MIP deposit (Moyal fluctuations) and mean loss
      if (ly.mip > 0.0) {
        const double width = ly.id == 0 ? cfg_.mip_lkr_width : cfg_.mip_muv_width;
        const double frac = len / ly.mip_len;
        const double mip = std::max(0.0, rng_.moyal(ly.mip - 1.27 * width, width)) * frac;
        const double zm = 0.5 * (za + zb);
        const double sm = (zm - pos.Z()) / dir.Z();
        deposit(ly.id, pos.X() + sm * dir.X(), pos.Y() + sm * dir.Y(), mip, false);
      }
      e -= ly.dedx * len * 1e-3;
      // multiple scattering (Highland), correlated displacement and angle per plane
      const double xx0 = len / ly.x0;
      const double th0 = 0.0136 / pmom * std::sqrt(xx0) * (1.0 + 0.038 * std::log(xx0));
      double dx = 0, dy = 0, tx = 0, ty = 0;
      {
        const double z1 = rng_.gauss();
        const double z2 = rng_.gauss();
        dx = len * th0 * (z1 / std::sqrt(12.0) + z2 / 2.0);
        tx = z2 * th0;
      }
      {
        const double z1 = rng_.gauss();
        const double z2 = rng_.gauss();
        dy = len * th0 * (z1 / std::sqrt(12.0) + z2 / 2.0);
        ty = z2 * th0;
      }
      move_to(zb);
      pos = Point(pos.X() + dx, pos.Y() + dy, pos.Z());
      dir = Vector(dir.X() / dir.Z() + tx, dir.Y() / dir.Z() + ty, 1.0).Unit();
      if (k + 1 < ncut - 1 && forced && e > m + 0.05) hard_loss(ly.id, forced->v, forced->nuclear);
      if (e < m + 0.01) return;  // ranged out
    }
  }
  if (e - m < cfg_.muv3_min_energy) return;
  move_to(kZMuv3_mm);
  add_muv3_hit(pos.X(), pos.Y(), t);
}

void DetectorSim::charged_in_calo(int pdg, const Point& at, const Vector& p, double t) {
  const int a = std::abs(pdg);
  if (a == 13) {
    add_calo_muon(at, p, pdg_charge(pdg), t);
    return;
  }
  const double e = std::sqrt(p.Mag2() + pdg_mass(pdg) * pdg_mass(pdg));
  if (a == 11) {
    if (!in_lkr_acceptance(at.X(), at.Y())) return;
    const double z = rng_.gauss();  // energy, y, x: fixed draw order (§1)
    const double dy = rng_.gauss(0.0, cfg_.lkr_position_res);
    const double dx = rng_.gauss(0.0, cfg_.lkr_position_res);
    lkr_.add(at.X() + dx, at.Y() + dy, e * (1.0 + z * em_resolution(cfg_, e)), t);
    return;
  }
  // charged pion: first inelastic interaction after an exponential number of lambda_I
  const Vector dir = p.Unit();
  int layer = kLayerBeyond;
  const double zi = calo_depth_to_z(cfg_, at.Z(), dir.Z(), rng_.exponential(1.0), layer);
  if (layer >= kLayerWall) {  // no interaction in LKr/MUV1/MUV2: behaves like a MIP
    add_calo_muon(at, p, pdg_charge(pdg), t);
    return;
  }
  const double s = (zi - at.Z()) / dir.Z();
  const Point pint(at.X() + s * dir.X(), at.Y() + s * dir.Y(), zi);
  if (layer == kLayerLkr && in_lkr_acceptance(at.X(), at.Y()))
    lkr_.add(at.X(), at.Y(), cfg_.mip_lkr * (zi - at.Z()) / kLkrDepth_mm, t);
  add_hadron_shower(pint, dir, e - pdg_mass(pdg), t);
}

double DetectorSim::kink_tail_delta(const Point& at_straw1, const Vector& p_upstream,
                                    const Vector& dir) {
  const double w = cfg_.straw_kink_tail_width;
  if (!(force_kink_tail_ && kt_on_) || cfg_.misreco_kink_core_fraction <= 0.0)
    return w * (2.0 * rng_.uniform() - 1.0);
  // grid of the relative curvature error; a cell is "core" if the neutrino line of that
  // momentum passes within the core radius of the target at the LKr front
  constexpr int kGrid = 240;
  const double step = 2.0 * w / kGrid, p0 = std::sqrt(p_upstream.Mag2());
  const Vertex v = closest_approach(Line{kt_kaon_at_, kt_p_kaon_}, Line{at_straw1, dir});
  int core[kGrid];
  int ncore = 0;
  for (int j = 0; j < kGrid; ++j) {
    const double pm = p0 / (1.0 + (-w + (j + 0.5) * step));
    const Vector nu = kt_p_kaon_ - pm * dir;
    if (!(nu.Z() > 0.0)) continue;
    const Point at = v.point + nu * ((kZLkrFront_mm - v.point.Z()) / nu.Z());
    if (std::hypot(at.X() - kt_target_.X(), at.Y() - kt_target_.Y()) < cfg_.misreco_kink_core_radius)
      core[ncore++] = j;
  }
  const double a = ncore > 0 ? 1.0 - std::min(1.0, cfg_.misreco_kink_core_fraction) : 1.0;
  double delta;
  if (a < 1.0 && rng_.uniform() >= a) {
    const int pick = core[std::min(ncore - 1, static_cast<int>(rng_.uniform() * ncore))];
    delta = -w + (pick + rng_.uniform()) * step;  // cell, then position in it (fixed order, §1)
  }
  else {
    delta = w * (2.0 * rng_.uniform() - 1.0);
  }
  const int cell = std::min(kGrid - 1, std::max(0, static_cast<int>((delta + w) / step)));
  bool in_core = false;
  for (int k = 0; k < ncore && !in_core; ++k) in_core = core[k] == cell;
  // p/q with p = 1/(2w) uniform, q = a/(2w) + (1-a) [core] / (ncore step)
  const double p = 1.0 / (2.0 * w);
  const double q = a * p + (in_core ? (1.0 - a) / (ncore * step) : 0.0);
  forced_weight_ *= p / q;
  return delta;
}

int DetectorSim::add_charged(int pdg, const Point& origin, const Vector& p, double t,
                             double forced_decay_z, bool invisible_upstream) {
  Segment seg[2];
  int ns = 1;
  seg[0] = Segment{pdg, pdg_charge(pdg), pdg_mass(pdg), origin, p, origin.Z(), 1e9};
  const double pmag = std::sqrt(p.Mag2());
  if (pmag < 0.5 || p.Z() <= 0.0 || !survives_magnet(seg[0])) return -1;
  if (std::abs(pdg) == 211) {
    double zd = forced_decay_z;
    if (std::isnan(zd)) {
      const double lambda = pmag / kMassPion * kCTauPion_mm;
      zd = origin.Z() + rng_.exponential(lambda) * p.Z() / pmag;
    }
    if (zd < kZLkrFront_mm) {
      const Point pd = segment_position(seg[0], zd);
      const Vector pp = segment_momentum(seg[0], zd);
      FourVector mu, nu;
      two_body_decay(rng_, four_vector(pp, kMassPion), kMassMuon, 0.0, mu, nu);
      seg[0].z1 = zd;
      const int mupdg = pdg > 0 ? -13 : 13;
      seg[1] = Segment{mupdg, seg[0].charge, kMassMuon, pd, mu.Vect(), zd, 1e9};
      if (std::sqrt(mu.Vect().Mag2()) > 0.5 && mu.Pz() > 0.0 && survives_magnet(seg[1])) ns = 2;
    }
  }
  auto seg_at = [&](double z) -> const Segment* {
    for (int i = 0; i < ns; ++i)
      if (z >= seg[i].z0 && z < seg[i].z1) return &seg[i];
    return nullptr;
  };
  // ---- STRAW: a track needs all four chambers ----
  int track = -1;
  const Segment* s_at[4];
  Point xs[4];
  bool in_acc = !invisible_upstream;
  for (int i = 0; i < 4 && in_acc; ++i) {
    const double z = straw_z(i);
    s_at[i] = seg_at(z);
    if (!s_at[i]) { in_acc = false; break; }
    xs[i] = segment_position(*s_at[i], z);
    in_acc = in_straw_acceptance(i, xs[i].X(), xs[i].Y());
  }
  if (in_acc && rng_.bernoulli(cfg_.straw_track_eff)) {
    Vector ptrue;
    bool ok = true;
    if (s_at[0] == s_at[3]) {
      ptrue = segment_momentum(*s_at[0], straw_z(0));
    } else {
      // kink inside the spectrometer: what a two-segment fit would return
      const double z0 = straw_z(0), z1 = straw_z(1), z2 = straw_z(2), z3 = straw_z(3);
      const double sxu = (xs[1].X() - xs[0].X()) / (z1 - z0), syu = (xs[1].Y() - xs[0].Y()) / (z1 - z0);
      const double sxd = (xs[3].X() - xs[2].X()) / (z3 - z2), syd = (xs[3].Y() - xs[2].Y()) / (z3 - z2);
      const double zm = kZMagnetCentre_mm;
      const double dxm = (xs[0].X() + sxu * (zm - z0)) - (xs[3].X() + sxd * (zm - z3));
      const double dym = (xs[0].Y() + syu * (zm - z0)) - (xs[3].Y() + syd * (zm - z3));
      const double kick = kMagnetKickSign * seg[0].charge * kMagnetPtKick;
      const double pz = kick / (sxd - sxu);
      ok = std::fabs(syd - syu) < cfg_.straw_kink_max_angle && std::fabs(dxm) < cfg_.straw_kink_max_offset &&
           std::fabs(dym) < cfg_.straw_kink_max_offset && pz > 1.0 && pz < 500.0;
      ptrue = Vector(sxu * pz, syu * pz, pz);
      if (!ok && cfg_.straw_kink_tail_prob > 0.0) {
        // Kink tail: the pattern recognition mis-associates straw hits around the kink and
        // still returns a single track (direction of the upstream segment) whose curvature is
        // wrong by a relative error uniform in +-straw_kink_tail_width (no correlation with the
        // true kink kept). Natural probability straw_kink_tail_prob, or forced with that
        // probability in the weight (misreco stream).
        bool tail = false;
        if (force_kink_tail_) {
          forced_weight_ *= cfg_.straw_kink_tail_prob;
          tail = true;
        } else {
          tail = rng_.bernoulli(cfg_.straw_kink_tail_prob);
        }
        if (tail) {
          const Vector pu = segment_momentum(*s_at[0], z0);
          const Vector dir = Vector(sxu, syu, 1.0).Unit();
          const double delta = kink_tail_delta(xs[0], pu, dir);
          const double pm = std::sqrt(pu.Mag2()) / (1.0 + delta);
          ptrue = pm * dir;
          ok = pm > 1.0;
        }
      }
    }
    if (ok) {
      const double pt = std::sqrt(ptrue.Mag2());
      const double rp = std::hypot(cfg_.straw_p_res_const, cfg_.straw_p_res_slope * pt);
      const double ra = std::hypot(cfg_.straw_angle_res_const, cfg_.straw_angle_res_ms / pt);
      const double pr = pt * (1.0 + rng_.gauss() * rp);
      const double sx = ptrue.X() / ptrue.Z() + rng_.gauss() * ra;
      const double sy = ptrue.Y() / ptrue.Z() + rng_.gauss() * ra;
      const double pz = pr / std::sqrt(1.0 + sx * sx + sy * sy);
      track = static_cast<int>(ev_.straw_x.size());
      ev_.straw_charge.push_back(seg[0].charge);
      ev_.straw_x.push_back(xs[0].X() + rng_.gauss(0.0, cfg_.straw_position_res));
      ev_.straw_y.push_back(xs[0].Y() + rng_.gauss(0.0, cfg_.straw_position_res));
      ev_.straw_px.push_back(sx * pz);
      ev_.straw_py.push_back(sy * pz);
      ev_.straw_pz.push_back(pz);
      // RICH ring of the particle crossing the radiator, read with the measured momentum
      double rtime = kNoTime, rmass = -1.0;
      if (const Segment* sr = seg_at(kZRichMid)) {
        const double pm = std::sqrt(sr->p.Mag2());
        const double beta = pm / std::sqrt(pm * pm + sr->mass * sr->mass);
        const double n = 1.0 + cfg_.rich_n_minus_1;
        if (n * beta > 1.0) {
          const double c = 1.0 / (n * beta);
          const double sin2max = 1.0 - 1.0 / (n * n);
          const int hits = rng_.poisson(cfg_.rich_photons_sat * (1.0 - c * c) / sin2max);
          if (hits >= cfg_.rich_min_hits) {
            const double th = std::acos(c) + rng_.gauss() * cfg_.rich_angle_res;
            const double cm = std::cos(th);
            rmass = pr * std::sqrt(std::max(0.0, n * n * cm * cm - 1.0));
            rtime = t + rng_.gauss(0.0, cfg_.rich_time_res);
          }
        }
      }
      ev_.straw_rich_time.push_back(rtime);
      ev_.straw_rich_mass.push_back(rmass);
      ev_.straw_chod_time.push_back(kNoTime);
    }
  }
  // ---- NewCHOD/CHOD ----
  if (const Segment* sc = seg_at(kZNewChod_mm)) {
    const Point pc = segment_position(*sc, kZNewChod_mm);
    if (!invisible_upstream && in_chod_acceptance(pc.X(), pc.Y()) &&
        !rng_.bernoulli(cfg_.chod_inefficiency)) {
      const double tc = t + rng_.gauss(0.0, cfg_.chod_time_res);
      add_chod_candidate(tc);
      if (track >= 0) ev_.straw_chod_time[track] = tc;
    }
  }
  // ---- calorimeters and MUV3 ----
  if (const Segment* sl = seg_at(kZLkrFront_mm)) {
    charged_in_calo(sl->pdg, segment_position(*sl, kZLkrFront_mm),
                    segment_momentum(*sl, kZLkrFront_mm), t);
  }
  return track;
}

void DetectorSim::cluster(DepositList& list, double merge, double threshold, double pos_res,
                          ROOT::RVec<double>& x, ROOT::RVec<double>& y, ROOT::RVec<double>& e,
                          ROOT::RVec<double>* time) {
  // seeds in decreasing energy; each deposit joins the first cluster within `merge`
  std::sort(list.d, list.d + list.n, [](const Deposit& a, const Deposit& b) { return a.e > b.e; });
  Deposit cl[kMaxDeposits];
  int nc = 0;
  for (int i = 0; i < list.n; ++i) {
    const Deposit& d = list.d[i];
    int j = 0;
    for (; j < nc; ++j) {
      const double dx = cl[j].x - d.x, dy = cl[j].y - d.y;
      if (dx * dx + dy * dy < merge * merge && std::fabs(cl[j].t - d.t) < 5.0) break;
    }
    if (j < nc) {
      const double et = cl[j].e + d.e;
      cl[j].x = (cl[j].x * cl[j].e + d.x * d.e) / et;
      cl[j].y = (cl[j].y * cl[j].e + d.y * d.e) / et;
      cl[j].e = et;
    } else {
      cl[nc++] = d;
    }
  }
  for (int j = 0; j < nc; ++j) {
    if (cl[j].e < threshold) continue;
    x.push_back(cl[j].x + (pos_res > 0 ? rng_.gauss(0.0, pos_res) : 0.0));
    y.push_back(cl[j].y + (pos_res > 0 ? rng_.gauss(0.0, pos_res) : 0.0));
    e.push_back(cl[j].e);
    if (time) time->push_back(cl[j].t + rng_.gauss(0.0, cfg_.lkr_time_res));
  }
}

void DetectorSim::finish() {
  cluster(lkr_, cfg_.lkr_merge_distance, cfg_.lkr_cluster_threshold, 0.0, ev_.lkr_x, ev_.lkr_y,
          ev_.lkr_e, &ev_.lkr_time);
  cluster(muv1_, cfg_.muv_merge_distance, cfg_.muv_cluster_threshold, cfg_.muv1_position_res,
          ev_.muv1_x, ev_.muv1_y, ev_.muv1_e, nullptr);
  cluster(muv2_, cfg_.muv_merge_distance, cfg_.muv_cluster_threshold, cfg_.muv2_position_res,
          ev_.muv2_x, ev_.muv2_y, ev_.muv2_e, nullptr);
  ev_.lkr_n = static_cast<int>(ev_.lkr_e.size());
  ev_.muv3_n = static_cast<int>(ev_.muv3_tile.size());
  ev_.straw_n = static_cast<int>(ev_.straw_x.size());
  // The event is built around the CHOD candidate that fired L0 (the one nearest the event).
  double ttrig = 0.0;
  bool have = false;
  for (int i = 0; i < chod_n_; ++i)
    if (!have || std::fabs(chod_t_[i]) < std::fabs(ttrig)) { ttrig = chod_t_[i]; have = true; }
  ev_.trigger_time = ttrig;
  int nchod = 0;
  for (int i = 0; i < chod_n_; ++i)
    if (std::fabs(chod_t_[i] - ttrig) < cfg_.chod_window) ++nchod;
  ev_.chod_n = nchod;
  const double w = cfg_.trigger_window;
  double elkr = 0.0;
  for (int i = 0; i < ev_.lkr_n; ++i)
    if (std::fabs(ev_.lkr_time[i] - ttrig) < w) elkr += ev_.lkr_e[i];
  bool muv3_any = false, muv3_pair = false;
  for (int i = 0; i < ev_.muv3_n; ++i) {
    if (std::fabs(ev_.muv3_time[i] - ttrig) >= w) continue;
    muv3_any = true;
    if (muv3_is_inner(ev_.muv3_tile[i])) continue;
    for (int j = i + 1; j < ev_.muv3_n && !muv3_pair; ++j) {
      if (std::fabs(ev_.muv3_time[j] - ttrig) >= w || muv3_is_inner(ev_.muv3_tile[j])) continue;
      if (std::fabs(ev_.muv3_time[i] - ev_.muv3_time[j]) >= cfg_.trigger_muv3_dt) continue;
      muv3_pair = diagonally_opposite(ev_.muv3_x[i], ev_.muv3_y[i], ev_.muv3_x[j], ev_.muv3_y[j]);
    }
  }
  for (int k = 0; k < 2; ++k) {
    int n = 0;
    for (int i = 0; i < veto_n_[k]; ++i)
      if (std::fabs(veto_t_[k][i] - ttrig) < cfg_.veto_window) ++n;
    (k == 0 ? ev_.lav_n_intime : ev_.sav_n_intime) = n;
  }
  const bool chod_ok = have && nchod >= 1 && nchod <= cfg_.trigger_chod_max;
  // downscaler: one uniform from the event's own stream (drawn only when D > 1)
  const bool kept = cfg_.nu_trigger_downscaling <= 1.0 ||
                    rng_.uniform() * cfg_.nu_trigger_downscaling < 1.0;
  ev_.trigger_nu = chod_ok && elkr > cfg_.trigger_lkr_threshold && muv3_pair && kept;
  ev_.trigger_control = chod_ok && muv3_any;
}

}  // namespace nutag::sim
