// Event generation of the nutag fast simulation: beam K+, decay, stream-specific forcing with
// exact weights, pile-up, detector response. See nutag/sim/generator.hpp and docs/simulation.md.
#include "nutag/sim/generator.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "nutag/geometry.hpp"
#include "nutag/sim/detector.hpp"
#include "nutag/sim/physics.hpp"

namespace nutag::sim {

namespace gen_detail {

constexpr double kGtkHalfX = 30.4, kGtkHalfY = 13.5;  // mm, GTK sensor half-sizes [NA62]
constexpr double kNsPerMHz = 1e-3;                      // rate[MHz] * time[ns] * 1e-3 = count

struct BeamParticle {
  Point at_gtk3;
  Vector p;
};

double truncated_gauss(Rng& rng, double sigma, double half) {
  for (;;) {
    const double x = rng.gauss(0.0, sigma);
    if (std::fabs(x) < half) return x;
  }
}

BeamParticle sample_beam(const SimConfig& c, Rng& rng) {
  const double p = c.beam_momentum * (1.0 + c.beam_momentum_spread * rng.gauss());
  const double x = truncated_gauss(rng, c.beam_sigma_x, kGtkHalfX);
  const double y = truncated_gauss(rng, c.beam_sigma_y, kGtkHalfY);
  const double sx = c.beam_slope_x + c.beam_divergence * rng.gauss();
  const double sy = c.beam_divergence * rng.gauss();
  const Vector dir = Vector(sx, sy, 1.0).Unit();
  return BeamParticle{Point(x, y, kZGtk3_mm), p * dir};
}

int sample_channel(const SimConfig& c, Rng& rng, bool with_kmu2, double& br_sum) {
  const double br[6] = {with_kmu2 ? c.br_kmu2 : 0.0, c.br_pipi0, c.br_pipipi,
                        c.br_pi0munu, c.br_pi0enu, c.br_pipi0pi0};
  // br[] is indexed by Process: 0 mu nu, 1 pi+ pi0, 2 pi+ pi+ pi-, 3 pi0 mu nu, 4 pi0 e nu, 5 pi+ pi0 pi0
  br_sum = 0.0;
  for (double b : br) br_sum += b;
  double u = rng.uniform() * br_sum;
  for (int i = 0; i < 6; ++i) {
    if (u < br[i]) return i;
    u -= br[i];
  }
  return 5;
}

// Path of a straight neutral line through the LKr active volume (octagon prism); returns the
// length [mm] and the z-range [za, zb] used to place an interaction uniformly along it.
double lkr_path(const Line& nu, double& za, double& zb) {
  const double z0 = kZLkrFront_mm, z1 = kZLkrFront_mm + kLkrDepth_mm;
  const Point a = extrapolate_to_z(nu, z0), b = extrapolate_to_z(nu, z1);
  const bool ina = in_lkr_acceptance(a.X(), a.Y()), inb = in_lkr_acceptance(b.X(), b.Y());
  const double len_per_z = std::sqrt(nu.direction.Mag2()) / nu.direction.Z();
  if (ina && inb) {
    za = z0;
    zb = z1;
    return (z1 - z0) * len_per_z;
  }
  if (!ina && !inb) return 0.0;
  // one edge crossed (lines cross LKr at < 30 mrad: at most ~40 mm transverse): bisection
  double lo = z0, hi = z1;
  for (int i = 0; i < 40; ++i) {
    const double mid = 0.5 * (lo + hi);
    const Point m = extrapolate_to_z(nu, mid);
    if (in_lkr_acceptance(m.X(), m.Y()) == ina) lo = mid; else hi = mid;
  }
  za = ina ? z0 : lo;
  zb = ina ? lo : z1;
  return (zb - za) * len_per_z;
}

Point uniform_in_lkr(Rng& rng) {
  for (;;) {
    const double x = rng.uniform(-kLkrApothem_mm, kLkrApothem_mm);
    const double y = rng.uniform(-kLkrApothem_mm, kLkrApothem_mm);
    if (in_lkr_acceptance(x, y)) return Point(x, y, kZLkrFront_mm);
  }
}

double muv3_half() { return 0.5 * kMuv3TilesPerSide * kMuv3TileSize_mm; }

void add_pileup(const SimConfig& c, Rng& rng, DetectorSim& det) {
  const double w = c.readout_window;
  const int nm = rng.poisson(c.muv3_accidental_rate * 2.0 * w * kNsPerMHz);
  for (int i = 0; i < nm; ++i) {
    const double h = muv3_half();
    const double x = rng.uniform(-h, h), y = rng.uniform(-h, h);
    det.add_muv3_hit(x, y, rng.uniform(-w, w));
  }
  const int nl = rng.poisson(c.lkr_accidental_rate * 2.0 * w * kNsPerMHz);
  for (int i = 0; i < nl; ++i) {
    const Point p = uniform_in_lkr(rng);
    det.add_lkr_deposit(p.X(), p.Y(), c.lkr_cluster_threshold + rng.exponential(c.lkr_accidental_emean),
                        rng.uniform(-w, w));
  }
  const int nc = rng.poisson(c.chod_accidental_rate * 2.0 * w * kNsPerMHz);
  for (int i = 0; i < nc; ++i) det.add_chod_candidate(rng.uniform(-w, w));
}

// Overlay A: a beam-halo / upstream-decay muon crossing the LKr in the readout window, forced to
// be missed by CHOD and STRAW and to lose a large fraction of its energy in LKr/MUV1/MUV2.
// Returns the weight factor (expected number of such configurations per event).
double overlay_halo_muon(const SimConfig& c, Rng& rng, DetectorSim& det) {
  const double w = c.overlay_time_window;
  double weight = c.halo_muon_rate * c.halo_detector_fraction * 2.0 * w * kNsPerMHz;
  const int pdg = rng.bernoulli(c.halo_positive_fraction) ? -13 : 13;
  const double r = rng.gamma_int(2, c.halo_radius_scale);  // area density ~ exp(-R/R0)
  const double phi = 2.0 * M_PI * rng.uniform();
  const Point at(r * std::cos(phi), r * std::sin(phi), kZLkrFront_mm);
  const double pm = rng.uniform(c.halo_p_min, c.halo_p_max);
  const Vector dir = Vector(rng.gauss(0.0, c.halo_angle_spread), rng.gauss(0.0, c.halo_angle_spread), 1.0).Unit();
  const Line line{at, dir};
  // CHOD/NewCHOD and STRAW must miss it (forced, exact probability in the weight)
  const Point pc = extrapolate_to_z(line, kZNewChod_mm);
  const double rc2 = pc.X() * pc.X() + pc.Y() * pc.Y();
  if (rc2 > 140.0 * 140.0 && rc2 < 1070.0 * 1070.0) weight *= c.chod_inefficiency;
  bool in_straw = true;
  for (int i = 0; i < 4 && in_straw; ++i) {
    const Point ps = extrapolate_to_z(line, straw_z(i));
    in_straw = in_straw_acceptance(i, ps.X(), ps.Y());
  }
  if (in_straw) weight *= c.straw_miss_prob;
  // forced hard loss: layer chosen by its expected number of losses
  const double ih = hard_loss_integral(c.halo_hard_v_min);
  const double n_lkr = c.mu_rad_b_kr * c.lkr_density * kLkrDepth_mm * 0.1 * ih;
  const double n_m1 = c.mu_rad_b_fe * c.fe_density * kMuv1Depth_mm * 0.1 * ih;
  const double n_m2 = c.mu_rad_b_fe * c.fe_density * kMuv2Depth_mm * 0.1 * ih;
  const double ntot = n_lkr + n_m1 + n_m2;
  weight *= ntot;
  ForcedLoss f;
  const double u = rng.uniform() * ntot;
  if (u < n_lkr) f.z = kZLkrFront_mm + rng.uniform() * kLkrDepth_mm;
  else if (u < n_lkr + n_m1) f.z = kZMuv1_mm + rng.uniform() * kMuv1Depth_mm;
  else f.z = kZMuv2_mm + rng.uniform() * kMuv2Depth_mm;
  f.v = sample_hard_loss_fraction(rng, c.halo_hard_v_min);
  f.nuclear = rng.bernoulli(c.mu_nuclear_fraction);
  det.add_calo_muon(at, pm * dir, pdg == -13 ? 1 : -1, rng.uniform(-w, w), &f);
  return weight;
}

// Overlay B: an accidental neutral-hadron shower (n, K_L) in the LKr plus an independent
// accidental MUV3 hit, each uniform in the window. Returns the weight factor.
double overlay_neutral_plus_muv3(const SimConfig& c, Rng& rng, DetectorSim& det) {
  const double w = c.overlay_time_window;
  const double weight = c.neutral_accidental_rate * 2.0 * w * kNsPerMHz *
                        c.muv3_accidental_rate * 2.0 * w * kNsPerMHz;
  const Point at = uniform_in_lkr(rng);
  const Vector dir = Vector(rng.gauss(0.0, 1e-3), rng.gauss(0.0, 1e-3), 1.0).Unit();
  int layer = 7;
  const double zi = calo_depth_to_z(c, kZLkrFront_mm, dir.Z(), rng.exponential(1.0), layer);
  const double s = (zi - at.Z()) / dir.Z();
  const double e = rng.exponential(c.neutral_accidental_emean);
  det.add_hadron_shower(Point(at.X() + s * dir.X(), at.Y() + s * dir.Y(), zi), dir, e,
                        rng.uniform(-w, w));
  const double h = muv3_half();
  det.add_muv3_hit(rng.uniform(-h, h), rng.uniform(-h, h), rng.uniform(-w, w));
  return weight;
}

}  // namespace gen_detail

using namespace gen_detail;

Event generate_event(const SimConfig& cfg, int stream, ULong64_t seed, ULong64_t entry) {
  if (stream < kKmu2 || stream > kMinimumBias) {
    throw std::invalid_argument("nutag::sim::generate_event: unknown stream " + std::to_string(stream) +
                                " (0 kKmu2, 1 kSignal, 2 kOverlay, 3 kMisreco, 4 kMinimumBias)");
  }
  Rng rng(seed, static_cast<std::uint64_t>(stream), entry);
  Event ev;
  ev.event_id = entry;
  DetectorSim det(cfg, rng, ev);

  // ---- the K+ and its decay point (truncated exponential over the fiducial region) ----
  const BeamParticle k = sample_beam(cfg, rng);
  const double pk = std::sqrt(k.p.Mag2());
  const double lambda_z = pk / kMassKaon * kCTauKaon_mm * k.p.Z() / pk;
  const double zdec = rng.truncated_exponential(lambda_z, cfg.fiducial_z_min, cfg.fiducial_z_max);
  const Point vtx = k.at_gtk3 + k.p * ((zdec - kZGtk3_mm) / k.p.Z());
  ev.true_decay_z = zdec;
  ev.true_p_kaon = pk;

  // ---- KTAG and GTK ----
  ev.ktag_time = rng.gauss(0.0, cfg.ktag_time_res);
  for (int i = 0; i < 8; ++i) ev.ktag_sectors += rng.bernoulli(cfg.ktag_sector_prob) ? 1 : 0;
  BeamParticle g = k;
  if (rng.bernoulli(cfg.gtk_mistag_prob)) g = sample_beam(cfg, rng);  // in-time pile-up track
  {
    const double pg = std::sqrt(g.p.Mag2()) * (1.0 + cfg.gtk_momentum_res * rng.gauss());
    const double sx = g.p.X() / g.p.Z() + cfg.gtk_angle_res * rng.gauss();
    const double sy = g.p.Y() / g.p.Z() + cfg.gtk_angle_res * rng.gauss();
    const double pz = pg / std::sqrt(1.0 + sx * sx + sy * sy);
    ev.gtk_px = sx * pz;
    ev.gtk_py = sy * pz;
    ev.gtk_pz = pz;
    ev.gtk_x = g.at_gtk3.X() + cfg.gtk_position_res * rng.gauss();
    ev.gtk_y = g.at_gtk3.Y() + cfg.gtk_position_res * rng.gauss();
    ev.gtk_time = cfg.gtk_time_res * rng.gauss();
  }

  // ---- decay channel and base weight ----
  int proc = kProcMuNu;
  double weight = cfg.br_kmu2;
  if (stream == kMinimumBias) {
    double s = 0;
    proc = sample_channel(cfg, rng, true, s);
    weight = 1.0;
  } else if (stream == kMisreco) {
    double s = 0;
    proc = sample_channel(cfg, rng, false, s);
    weight = s;
  }
  ev.true_process = proc;
  ev.true_category = stream == kOverlay ? 2 : (stream == kMisreco ? 3 : 0);
  Daughter d[8];
  const int nd = decay_kaon(rng, four_vector(k.p, kMassKaon), proc, d);

  // ---- mis-reconstruction: one pi+ forced to decay to mu+ nu before STRAW4 ----
  int candidate = -1;
  double forced_z = DetectorSim::kNoDecay;
  if (stream == kMisreco) {
    int npip = 0;
    for (int i = 0; i < nd; ++i) npip += d[i].pdg == 211 ? 1 : 0;
    if (npip > 0) {
      int pick = static_cast<int>(rng.uniform() * npip);
      for (int i = 0; i < nd; ++i)
        if (d[i].pdg == 211 && pick-- == 0) { candidate = i; break; }
      const Vector pp = d[candidate].p4.Vect();
      const double pm = std::sqrt(pp.Mag2());
      const double lz = pm / kMassPion * kCTauPion_mm * pp.Z() / pm;
      const double zend = kZStraw4_mm;
      weight *= npip * (1.0 - std::exp(-(zend - zdec) / lz));
      forced_z = rng.truncated_exponential(lz, zdec, zend);
    }
  }
  // the daughter taken as the muon candidate (truth bookkeeping)
  if (candidate < 0)
    for (int i = 0; i < nd; ++i)
      if (d[i].pdg == -13 || d[i].pdg == 211 || d[i].pdg == -11) { candidate = i; break; }
  if (candidate >= 0) ev.true_p_muon = d[candidate].p4.P();

  // ---- propagate the decay products ----
  for (int i = 0; i < nd; ++i) {
    const Vector p = d[i].p4.Vect();
    switch (d[i].pdg) {
      case 22:
        det.add_photon(vtx, p, 0.0);
        break;
      case 12:
      case 14:
        ev.true_e_nu = d[i].p4.E();
        if (stream == kSignal && proc == kProcMuNu) {
          double za = 0, zb = 0;
          const double len = lkr_path(Line{vtx, p}, za, zb);
          if (len <= 0.0) {
            weight = 0.0;  // the neutrino misses the LKr: counted in N_generated, weight 0
            break;
          }
          weight *= cc_interaction_probability(cfg, d[i].p4.E(), len);
          const double zi = rng.uniform(za, zb);
          const Point pint = extrapolate_to_z(Line{vtx, p}, zi);
          const CCInteraction cc = sample_cc_interaction(cfg, rng, p);
          ev.true_nu_int = true;
          ev.true_category = 1;
          ev.true_int_z = zi;
          ev.true_y = cc.y;
          ev.true_x_bj = cc.x;
          if (cc.p_muon.Mag2() > 0.0) det.add_calo_muon(pint, cc.p_muon, -1, 0.0);
          det.add_hadron_shower(pint, cc.p_hadrons, cc.e_hadrons, 0.0);
        }
        break;
      default:
        det.add_charged(d[i].pdg, vtx, p, 0.0, i == candidate ? forced_z : DetectorSim::kNoDecay);
    }
  }

  // ---- overlay: forced accidental activity ----
  if (stream == kOverlay) {
    // f = 1 (0) generates only configuration A (B): then the other one is simply not simulated
    const double f = std::min(1.0, std::max(0.0, cfg.overlay_muon_fraction));
    if (f > 0.0 && rng.uniform() < f) weight *= overlay_halo_muon(cfg, rng, det) / f;
    else if (f < 1.0) weight *= overlay_neutral_plus_muv3(cfg, rng, det) / (1.0 - f);
  }

  add_pileup(cfg, rng, det);
  det.finish();
  ev.weight = weight;
  return ev;
}

bool passes_preselection(const Event& ev) { return ev.trigger_nu || ev.trigger_control; }

}  // namespace nutag::sim
