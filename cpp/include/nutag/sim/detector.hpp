// Detector response of the nutag fast simulation: propagation of particles through the NA62
// (2022) set-up and the reconstructed quantities written to the ntuple. One DetectorSim is built
// per event on the stack; it owns no heap memory beyond the Event's RVecs. See docs/simulation.md.
#pragma once

#include <limits>

#include "nutag/kinematics.hpp"
#include "nutag/sim/config.hpp"
#include "nutag/sim/event.hpp"
#include "nutag/sim/random.hpp"

namespace nutag::sim {

/// A discrete muon energy loss forced at plane z (importance sampling of rare hard losses).
struct ForcedLoss {
  double z = 0;           ///< mm
  double v = 0;           ///< fraction of the muon energy lost
  bool nuclear = false;   ///< photonuclear (hadronic shower) instead of brems/pair (EM shower)
};

/// Expected number of hard muon losses with v > v_min per g/cm^2 and per unit radiative-loss
/// coefficient b, for the spectrum dN/dv = b X (4/3 (1-v) + v^2)/v (whose energy-weighted
/// integral is b X): 4/3 ln(1/v0) - 4/3 (1 - v0) + (1 - v0^2)/2.
double hard_loss_integral(double v_min);

/// Sample v > v_min from the spectrum above.
double sample_hard_loss_fraction(Rng& rng, double v_min);

/// Walk `depth` nuclear interaction lengths from z_start (direction cosine cz) through the
/// calorimeter stack LKr / cryostat / MUV1 / MUV2 / MUV3 iron wall. Returns z [mm]; `layer` gets
/// 0 LKr, 1 dead material, 2 MUV1, 3 gap, 4 MUV2, 5 gap, 6 MUV3 wall, 7 beyond.
double calo_depth_to_z(const SimConfig& cfg, double z_start, double cz, double depth, int& layer);

/// The same walk with `depth` in radiation lengths (the EM part of a hadronic shower).
double calo_depth_x0_to_z(const SimConfig& cfg, double z_start, double cz, double depth, int& layer);

/// Mean longitudinal profile of a hadronic shower of energy e [GeV] from its start (Bock et al.,
/// NIM 186 (1981) 533, as used in GFLASH): an EM part Gamma(shape, em_slope_x0) in X0 carrying
/// the mean pi0 fraction f_em, and a hadronic part Gamma(shape, had_slope_lambda) in lambda_I.
struct HadronShowerProfile {
  double shape = 1.0;             ///< a = a0 + a1 ln(E/GeV)
  double em_slope_x0 = 1.0;       ///< b, per X0
  double had_slope_lambda = 1.0;  ///< d = d0 - d1 ln(E/GeV), per lambda_I
  double f_em = 0.0;              ///< mean EM (pi0) fraction 1 - (E/E0)^(m-1) (Groom 2007)
};
HadronShowerProfile hadron_shower_profile(const SimConfig& cfg, double e);

/// Regularised lower incomplete gamma function P(a, x) (series / continued fraction).
double regularized_gamma_p(double a, double x);

/// Mean fraction of a hadronic shower of energy e contained within the first depth_x0
/// radiation lengths (EM part) and depth_lambda interaction lengths (hadronic part) of a
/// homogeneous medium, from the shower start: f_em P(a, b t_X0) + (1 - f_em) P(a, d t_lambda).
double hadron_shower_containment(const SimConfig& cfg, double e, double depth_x0, double depth_lambda);

/// Avogadro's number [1/mol] (PDG).
inline constexpr double kAvogadro = 6.02214076e23;

/// Photonuclear mean free path of a photon in liquid krypton [mm]: A / (rho N_A sigma_gammaKr).
double photonuclear_length_mm(const SimConfig& cfg);

/// Whether a straight line crosses z = lav12_z outside LAV12's inner radius, i.e. through its
/// lead glass (which also hides the outer rim of the LKr).
bool crosses_lav12_lead_glass(const SimConfig& cfg, const Line& line);

/// Whether a photon from `origin` along p reaches LAV12's lead glass: it showers there and is
/// vetoed instead of reaching the LKr behind it.
bool photon_shadowed_by_lav12(const SimConfig& cfg, const Point& origin, const Vector& p);

/// Material [radiation lengths] a photon from `origin` along p crosses before the LKr front:
/// the STRAW chambers it crosses inside their active area, the RICH vessel's entrance window,
/// neon outside the beam pipe, mirrors and exit window, NewCHOD, CHOD and the LKr cryostat's
/// front (each thin layer times the path factor 1/cos(theta)).
double material_before_lkr_x0(const SimConfig& cfg, const Point& origin, const Vector& p);

/// Probability that a high-energy photon crosses that material without converting:
/// exp(-7/9 X/X0) (pair-production mean free path 9/7 X0 [PDG]).
double photon_transmission_before_lkr(const SimConfig& cfg, const Point& origin, const Vector& p);

class DetectorSim {
 public:
  static constexpr int kMaxDeposits = 48;
  static constexpr int kMaxChod = 32;
  static constexpr double kNoDecay = std::numeric_limits<double>::quiet_NaN();

  DetectorSim(const SimConfig& cfg, Rng& rng, Event& ev) : cfg_(cfg), rng_(rng), ev_(ev) {}

  /// A charged particle (PDG code) produced at `origin` with momentum p (as it is at the origin),
  /// at time t. Pions decay in flight (at `forced_decay_z` if given). `invisible_upstream` makes
  /// the particle leave no STRAW track and no CHOD candidate (forced inefficiency).
  /// Returns the index of its STRAW track in the event, or -1.
  int add_charged(int pdg, const Point& origin, const Vector& p, double t,
                  double forced_decay_z = kNoDecay, bool invisible_upstream = false);
  /// A photon: an EM cluster if it reaches the LKr acceptance.
  void add_photon(const Point& origin, const Vector& p, double t);
  /// A photon forced to interact photonuclearly in the LKr (radiative misreco stream): if it
  /// reaches the LKr acceptance, forced_weight() gets P(no conversion before the LKr) (when
  /// cfg.photon_conversions; a converted photon showers electromagnetically and can never give
  /// the hadronic shower this stream needs) times P(the first interaction within the LKr
  /// depth is photonuclear) = (lambda_tot / lambda_gammaA)(1 - exp(-L / lambda_tot)) and a
  /// hadronic shower of the photon energy starts at the interaction point (truncated
  /// exponential depth); otherwise the photon is treated as by add_photon (vetoes).
  /// Returns whether the photon reached the LKr (and was forced).
  bool add_photon_photonuclear(const Point& origin, const Vector& p, double t);
  /// A hadronic shower of visible energy e starting at `start` along unit vector `dir`.
  void add_hadron_shower(const Point& start, const Vector& dir, double e, double t);
  /// A muon inside or in front of the calorimeters (p downstream of the magnet): MIP and hard
  /// losses in LKr/MUV1/MUV2, energy loss and multiple scattering in the iron, MUV3 hit.
  void add_calo_muon(const Point& start, const Vector& p, int charge, double t,
                     const ForcedLoss* forced = nullptr);
  /// Raw hits/deposits (accidentals).
  void add_lkr_deposit(double x, double y, double e, double t);
  void add_muv3_hit(double x, double y, double t);
  void add_chod_candidate(double t);
  /// A photon-veto hit (0 LAV, 1 IRC/SAC) at time t.
  void add_veto_hit(int which, double t);
  /// Force the kink-tail reconstruction (straw_kink_tail_prob) of a kinked track failing the
  /// quality cuts; the probability is then multiplied into forced_weight() (importance sampling).
  void force_kink_tail(bool on) { force_kink_tail_ = on; }
  /// Importance sampling of the forced kink tail: the relative curvature error is drawn from
  /// a mixture of the uniform density and a "core" of the values for which the tagged-
  /// neutrino line (GTK K+ minus the track) passes within misreco_kink_core_radius of `target`
  /// (a point at the LKr front: the impact of the event's hadron); exact factor p/q in
  /// forced_weight(). Changes MC statistics only.
  void set_kink_target(const Point& kaon_at, const Vector& p_kaon, const Point& target) {
    kt_on_ = true;
    kt_kaon_at_ = kaon_at;
    kt_p_kaon_ = p_kaon;
    kt_target_ = target;
  }
  void clear_kink_target() { kt_on_ = false; }
  double forced_weight() const { return forced_weight_; }
  /// Number of MUV3 hits recorded so far (hits are stored immediately, in order).
  int muv3_hits() const { return static_cast<int>(ev_.muv3_tile.size()); }

  /// Cluster the calorimeter deposits, fill the Event's detector columns and the trigger bits.
  void finish();

 private:
  struct Deposit {
    double x, y, e, t;
  };
  struct DepositList {
    Deposit d[kMaxDeposits];
    int n = 0;
    void add(double x, double y, double e, double t) {
      if (n < kMaxDeposits && e > 0.0) d[n++] = Deposit{x, y, e, t};
    }
  };
  void cluster(DepositList& list, double merge, double threshold, double pos_res,
               ROOT::RVec<double>& x, ROOT::RVec<double>& y, ROOT::RVec<double>& e,
               ROOT::RVec<double>* time);
  void charged_in_calo(int pdg, const Point& at_lkr, const Vector& p, double t);
  /// Event-by-event EM fraction of a hadronic shower: Beta distributed around the profile's mean.
  double sample_em_fraction(double mean);
  /// Energy-weighted deposits of one shower per calorimeter (LKr, MUV1, MUV2), on the EM scale.
  struct ShowerDeposits {
    double e[3] = {0, 0, 0}, x[3] = {0, 0, 0}, y[3] = {0, 0, 0};
  };
  /// Spread `energy` in `n` quanta along the shower axis with depths ~ Gamma(shape, 1/slope) in
  /// X0 (em) or lambda_I, each seen with the response of the layer it stops in.
  void deposit_shower_component(const Point& start, const Vector& dir, double energy, int n,
                                double shape, double slope, bool em, ShowerDeposits& out);

  const SimConfig& cfg_;
  Rng& rng_;
  Event& ev_;
  DepositList lkr_, muv1_, muv2_;
  double chod_t_[kMaxChod];
  int chod_n_ = 0;
  double veto_t_[2][kMaxChod];
  int veto_n_[2] = {0, 0};
  bool force_kink_tail_ = false;
  bool kt_on_ = false;
  Point kt_kaon_at_, kt_target_;
  Vector kt_p_kaon_;
  double kink_tail_delta(const Point& at_straw1, const Vector& p_upstream, const Vector& dir);
  double forced_weight_ = 1.0;
};

}  // namespace nutag::sim
