// Every tunable parameter of the nutag fast simulation, with its default.
// Units: GeV, mm, ns, MHz (rates), rad. Sources: [pub] PLB 863 (2025) 139345, [NA62] detector
// papers / offline software, [PDG], [est] estimate explained in docs/simulation.md.
// simulation/default.yaml lists the same keys (== field names) with the same defaults; the Python
// driver fills this struct from YAML. Plain fields only, so cling and PyROOT can set them.
#pragma once

namespace nutag::sim {

struct SimConfig {
  // ---------------- beam [NA62] ----------------
  double beam_momentum = 75.0;           // GeV/c, central K+ momentum [NA62]
  double beam_momentum_spread = 0.01;    // relative rms momentum spread [NA62]
  double beam_slope_x = 1.2e-3;          // rad, beam-axis slope in x through x=y=0 at GTK3 [NA62]
  double beam_divergence = 0.10e-3;      // rad rms per plane around the axis (~ +-0.3 mrad) [NA62/est]
  double beam_sigma_x = 14.0;            // mm rms at GTK3, truncated to the GTK (60.8 mm wide) [est]
  double beam_sigma_y = 6.5;             // mm rms at GTK3, truncated to the GTK (27 mm high) [est]
  double fiducial_z_min = 105000.0;      // mm, start of the fiducial decay region [NA62]
  double fiducial_z_max = 180000.0;      // mm, end of the fiducial decay region [NA62]

  // ---------------- K+ branching ratios [PDG] ----------------
  double br_kmu2 = 0.6356;
  double br_pipi0 = 0.2067;
  double br_pipipi = 0.05583;
  double br_pi0enu = 0.0507;
  double br_pi0munu = 0.03352;
  double br_pipi0pi0 = 0.0176;

  // ---------------- KTAG / GTK [NA62] ----------------
  double ktag_time_res = 0.070;          // ns [NA62]
  double ktag_sector_prob = 0.85;        // probability a sector fires for a K+ (P(>=5 of 8) ~ 99.5 %) [est]
  double gtk_momentum_res = 0.002;       // relative [NA62]
  double gtk_angle_res = 11.3e-6;        // rad per plane = 16 urad / sqrt2 [NA62, read as the space angle]
  double gtk_position_res = 0.10;        // mm at GTK3 (300 um pixels / sqrt(12)) [est]
  double gtk_time_res = 0.100;           // ns [NA62]
  double gtk_mistag_prob = 0.01;         // wrong GTK track associated (pile-up beam particle) [est]
  double gtk_mistag_force_fraction = 0.2;  // misreco stream: share of entries generated with the pile-up GTK track (the m_miss^2 tails); weight x p/q or (1-p)/(1-q), exact [choice]

  // ---------------- STRAW spectrometer [NA62] ----------------
  double straw_p_res_const = 0.0030;     // relative, sigma_p/p = c (+) s*p [NA62]
  double straw_p_res_slope = 0.00005;    // per GeV/c [NA62]
  double straw_angle_res_const = 6e-6;   // rad per plane, sigma = c (+) ms/p; space angle 55 urad @10, 13 @50 GeV/c [NA62 ~60/~20, read as space angles]
  double straw_angle_res_ms = 390e-6;    // rad*GeV/c per plane [NA62, read as a space angle, see docs]
  double straw_position_res = 0.15;      // mm, track position at STRAW1 [est]
  double straw_track_eff = 0.99;         // track reconstruction efficiency in acceptance [est]
  double straw_kink_max_angle = 0.3e-3;  // rad, max y-slope change of a track between STRAW 1-2 and 3-4 (fit quality) [est]
  double straw_kink_max_offset = 3.0;    // mm, max mismatch of the upstream/downstream segments at the magnet [est]
  double straw_kink_tail_prob = 0.05;    // a kinked track failing the quality cuts is still reconstructed (hit mis-association around the kink) with this probability [est]
  double straw_kink_tail_width = 0.5;    // then its curvature 1/p is wrong by a relative error uniform in +-this [est]

  // ---------------- RICH [NA62] ----------------
  double rich_n_minus_1 = 62.8e-6;       // neon refractive index - 1 [NA62]
  double rich_angle_res = 60e-6;         // rad, Cherenkov-angle resolution per ring [est]
  double rich_photons_sat = 20.0;        // mean hits of a beta=1 ring [NA62]
  int rich_min_hits = 4;                 // hits needed for a ring [est]
  double rich_time_res = 0.070;          // ns [NA62]

  // ---------------- CHOD / NewCHOD [NA62] ----------------
  double chod_time_res = 1.0;            // ns, NewCHOD hit time [NA62]
  double chod_inefficiency = 2e-3;       // probability a charged particle leaves no CHOD/NewCHOD candidate [est]
  double chod_window = 5.0;              // ns, half-width of the window chod_n counts in [est]
  double chod_accidental_rate = 10.0;    // MHz of accidental CHOD candidates [est]

  // ---------------- material a photon crosses before the LKr (conversions) ----------------
  // Only the misreco stream's forced photon uses it: a photon that converts upstream makes an EM
  // shower, never the photonuclear one that stream needs (docs/simulation.md §7).
  int photon_conversions = 1;            // 1: weight the forced photon by P(no pair conversion before the LKr) [choice]
  double straw_chamber_x0 = 0.0045;      // X0 per STRAW chamber inside its active area (~1.8 % X0 for the four) [est, after NA62 JINST 12 P05025]
  double rich_neon_x0_mm = 345000.0;     // mm, radiation length of neon gas at 1 atm, 20 C (28.93 g/cm^2 / 0.8385 mg/cm^3) [PDG]
  // Layers from the NA62 Geant4 geometry (NA62MC, RICH/LKr/NewCHOD/CHOD *GeometryParameters.cc
  // and *MaterialParameters.cc); X0 from PDG (Al 88.97 mm, Fe 17.57 mm, PVT 425.4 mm).
  double rich_beam_window_x0 = 0.0225;   // RICH beam window (vacuum/neon), r 121-1100 mm: 2 mm Al [NA62MC; PDG]
  double rich_mirror_x0 = 0.234;         // RICH mirrors: 25 mm G4_GLASS_PLATE (2.40 g/cm^3, X0 = 106.9 mm) [NA62MC; PDG]
  double rich_mirror_support_x0 = 0.039; // RICH mirror support panel, r 100-1520 mm: 3.47 mm Al equivalent [NA62MC; PDG]
  double rich_mirror_window_x0 = 0.045;  // RICH mirror window (neon/air), r 90-1400 mm: 4 mm Al [NA62MC; PDG]
  double newchod_x0 = 0.102;             // NewCHOD: 30 mm PVT + 2 x 0.6 mm Al + 3 mm G10 (2.0 g/cm^3) [NA62MC; PDG]
  double chod_x0 = 0.0940;               // CHOD: two planes of 20 mm PVT [NA62MC; PDG]
  double lkr_warm_window_x0 = 0.045;     // LKr cryostat warm window: 4 mm Al [NA62MC; PDG]
  double lkr_cold_window_x0 = 0.199;     // LKr cold window + closing foil: 3 + 0.5 mm stainless steel [NA62MC; PDG]
  double lkr_honeycomb_x0_mm = 2776.0;   // mm, X0 of the Al honeycomb behind the cold window (86.5 kg/m^3) [NA62MC; PDG]
  double lkr_honeycomb_depth_mm = 262.8; // mm, its depth at r = 150 mm; it shrinks as the dome's sagitta (r^2 - 150^2) / (2 x 4067 mm) [NA62MC]
  double lkr_front_plate_x0 = 0.213;     // LKr front plate inside the liquid: 47.45 mm epoxy C8H14O4, 1.8 g/cm^3 (X0 = 222.8 mm) [NA62MC; PDG]

  // ---------------- LKr [NA62] ----------------
  double lkr_stoch = 0.048;              // sigma_E/E stochastic term, GeV^0.5 [NA62]
  double lkr_noise = 0.11;               // GeV, noise term (11 %/E) [NA62]
  double lkr_const = 0.009;              // constant term [NA62]
  double lkr_position_res = 1.0;         // mm, EM cluster position [NA62]
  double lkr_time_res = 0.5;             // ns [NA62]
  double lkr_cluster_threshold = 0.2;    // GeV, reconstructed-cluster threshold [est]
  double lkr_merge_distance = 40.0;      // mm, deposits closer than ~2 cells form one cluster [est]
  double lkr_lambda_int = 619.0;         // mm, nuclear interaction length: 149.7 g/cm^2 / 2.418 g/cm^3 (1270 mm = 2.05 lambda_I) [PDG: Kr interpolated as A^0.31 between Cu 137.3 and Sn 166.7 g/cm^2]
  double lkr_x0 = 47.0;                  // mm, radiation length (1270 mm = 27 X0) [NA62]
  double lkr_density = 2.418;            // g/cm^3 [PDG]
  double mip_lkr = 0.6;                  // GeV, mean muon deposit over 1270 mm [NA62]
  double mip_lkr_width = 0.05;           // GeV, Moyal scale of that deposit [est]

  // ---------------- MUV1 / MUV2 [NA62] ----------------
  double muv1_depth_lambda = 4.15;       // lambda_I of MUV1: 25 x 25 mm Fe (3.73) + 24 x 10 mm scintillator (0.34) + 24 x 2 mm rubber (0.08) [NA62MC MUV1Geometry; PDG]
  double muv1_depth_x0 = 36.3;           // X0 of MUV1: Fe 35.6 + scintillator 0.56 + rubber 0.1 [NA62MC; PDG]
  double muv2_depth_lambda = 3.73;       // lambda_I of MUV2: 24 x 25 mm Fe (3.58) + 24 x 4.3 mm scintillator (0.15) [NA62MC MUV2GeometryParameters; PDG]
  double muv2_depth_x0 = 34.4;           // X0 of MUV2: Fe 34.15 + scintillator 0.24 [NA62MC; PDG]
  double muv_x0 = 20.0;                  // mm, effective radiation length [est]
  double mip_muv1 = 1.38;                // GeV [NA62]
  double mip_muv2 = 1.25;                // GeV [NA62]
  double mip_muv_width = 0.12;           // GeV, Moyal scale [est]
  double muv1_position_res = 20.0;       // mm (60 mm strips) [est]
  double muv2_position_res = 35.0;       // mm (120 mm strips) [est]
  double muv_merge_distance = 150.0;     // mm [est]
  double muv_cluster_threshold = 0.3;    // GeV [est]
  double lkr_muv_dead_lambda = 0.3;      // lambda_I of dead material between LKr and MUV1 (cryostat) [est]
  double lkr_muv_dead_x0 = 2.9;          // X0 of that material, read as steel (0.3 x 167.7 / 17.57) [est]

  // ---------------- hadronic showers [Bock 1981; Groom 2007; est] ----------------
  // Longitudinal profile from the shower start (Bock et al., NIM 186 (1981) 533, as in GFLASH,
  // hep-ex/0001020): an EM part Gamma(a, b) in X0 and a hadronic part Gamma(a, d) in lambda_I,
  // a = a0 + a1 ln(E/GeV), d = d0 - d1 ln(E/GeV); the EM part carries the pi0 fraction f_em.
  double had_stoch = 0.40;               // sigma_E/E stochastic (sampling) term of LKr+MUV1+MUV2 [est]
  double had_const = 0.05;               // constant term besides the f_em fluctuations [est]
  double had_bock_a0 = 0.6165;           // profile shape a = a0 + a1 ln E [Bock 1981]
  double had_bock_a1 = 0.3183;           // [Bock 1981]
  double had_bock_b = 0.2198;            // per X0, slope of the EM part [Bock 1981]
  double had_bock_d0 = 0.9099;           // per lambda_I, slope of the hadronic part d = d0 - d1 ln E [Bock 1981]
  double had_bock_d1 = 0.0237;           // per lambda_I [Bock 1981]
  double had_fem_e0 = 1.0;               // GeV, <f_em> = 1 - (E/E0)^(m-1) [PDG calorimetry review; Groom, NIM A572 (2007) 633]
  double had_fem_m = 0.83;               // [PDG calorimetry review; Groom 2007: m = 0.80-0.87]
  double had_fem_sigma = 0.12;           // rms of f_em event by event (Beta distributed) [est: Groom 2007; Wigmans, Calorimetry (2000) ch. 2]
  double had_h_over_e_lkr = 0.50;        // h/e of the LKr (quasi-homogeneous noble liquid, e/h ~ 2) [est: Groom 2007; Wigmans]
  double had_h_over_e_muv = 0.70;        // h/e of the MUV1/MUV2 Fe-scintillator stacks (e/h ~ 1.4) [est: Wigmans, Calorimetry]
  int had_chunks = 24;                   // energy quanta per component used to sample the profile [choice]
  double had_lateral_res = 8.0;          // mm, fluctuation of the LKr centroid of a hadron shower [est]
  double punch_through_prob = 2e-3;      // P(MUV3 hit from a 20 GeV pion shower), scales with E [est]

  // ---------------- muons in matter [PDG/est] ----------------
  double dedx_lkr = 0.47;                // GeV/m mean loss in LKr (= 0.6 GeV MIP over 1.27 m) [NA62]
  double dedx_fe = 1.40;                 // GeV/m mean loss in iron incl. relativistic rise [PDG]
  double fe_density = 7.874;             // g/cm^3 [PDG]
  double fe_x0 = 17.57;                  // mm [PDG]
  double mu_rad_b_kr = 3.2e-6;           // cm^2/g, muon radiative-loss coefficient in Kr [PDG/est]
  double mu_rad_b_fe = 2.5e-6;           // cm^2/g, in Fe at 10-50 GeV [PDG]
  double mu_hard_v_min = 0.05;           // smallest fractional loss treated as a discrete "hard" loss [est]
  double mu_nuclear_fraction = 0.12;     // share of hard losses that are photonuclear (hadronic) [PDG/est]

  // ---------------- MUV3 [NA62] ----------------
  double muv3_time_res = 0.45;           // ns [NA62]
  double muv3_eff = 0.99;                // tile efficiency [est]
  double muv3_min_energy = 0.3;          // GeV, muon energy needed after the 80 cm wall [est]
  double muv3_accidental_rate = 13.0;    // MHz of accidental MUV3 hits over the detector [est]

  // ---------------- readout / pile-up [est] ----------------
  double readout_window = 75.0;          // ns, half-width of the event window [NA62]
  double lkr_accidental_rate = 2.0;      // MHz of accidental LKr clusters above threshold [est]
  double lkr_accidental_emean = 1.5;     // GeV, mean of their exponential energy spectrum [est]

  // ---------------- neutrino interaction [PDG/est] ----------------
  double nu_sigma_over_e = 0.677e-38;    // cm^2/GeV per isoscalar nucleon, nu_mu CC [PDG]
  double nu_neutron_excess = 1.047;      // Kr (Z=36, N=48): (2Z+4N)/(3A) with sigma_n = 2 sigma_p [est]
  double nu_nucleon_density = 1.456e24;  // nucleons/cm^3 in LKr [PDG]
  double nu_y_antiquark = 0.2;           // dsigma/dy ~ 1 + eps (1-y)^2 [PDG/est]
  double nu_x_beta = 4.0;                // x ~ (1-x)^(beta-1) (Beta(1,beta)), mean 1/(1+beta)=0.2 [est]
  double nu_w_min = 1.2;                 // GeV, minimal hadronic invariant mass (above Delta threshold) [est]

  // ---------------- trigger [pub/NA62] ----------------
  double trigger_lkr_threshold = 10.0;   // GeV, LKr energy in the trigger window [est, LKr10]
  double trigger_window = 6.25;          // ns, half-width around the trigger time [pub]
  double trigger_muv3_dt = 2.0;          // ns, max time difference of the two MUV3 hits [pub]
  int trigger_chod_max = 99;             // max CHOD candidates (>= 1 always required; 99 = no cap) [est]
  double nu_trigger_downscaling = 15.0;   // neutrino-line downscaling D (random, 1/D kept) [fit: N_sig; simulation/default.yaml CALIBRATION]

  // ---------------- overlay stream [spec/est] ----------------
  double halo_muon_rate = 135.0;         // MHz, beam-halo + upstream-decay muons at 750 MHz [NA62]
  double halo_detector_fraction = 0.10;  // share crossing the detectors outside the beam pipe [est]
  double halo_positive_fraction = 0.82;  // [NA62]
  double halo_radius_scale = 600.0;      // mm, area density ~ exp(-R/R0) at the LKr [est]
  double halo_angle_spread = 3e-3;       // rad rms per plane [est]
  double halo_p_min = 5.0;               // GeV/c, flat momentum spectrum [est]
  double halo_p_max = 75.0;              // GeV/c [est]
  double halo_hard_v_min = 0.10;         // forced hard loss: fractional loss above this [est]
  double halo_loss_e_min = 5.0;          // GeV, forced LKr loss at least this (LKr10 needs ~9 GeV) [choice]
  double straw_miss_prob = 0.01;         // probability a crossing halo muon gives no STRAW track [est]
  double neutral_accidental_rate = 2.5e-4; // MHz of isolated neutral-hadron showers (> e_min) in the LKr [fit: overlaid Kmu2; simulation/default.yaml CALIBRATION]
  double neutral_accidental_emean = 8.0; // GeV, exponential energy spectrum [est]
  double overlay_muon_fraction = 0.5;    // share of overlay events generated as a halo muon [choice]
  double overlay_time_window = 10.0;     // ns, forced accidentals uniform in +-window: > trigger window 6.25 + 3 sigma [choice]
  double overlay_force_radius = 750.0;   // mm, forced accidentals within this radius of the true nu impact at the LKr (> preselection_lkr_radius) [choice]
  double overlay_core_radius = 100.0;    // mm, core around the nu impact sampled more densely (signal box + gap) [choice]
  double overlay_core_fraction = 0.5;    // share of forced accidentals drawn in the core (exact importance factor) [choice]
  double neutral_accidental_e_min = 5.0; // GeV, forced neutral showers above this (exponential tail, weight exp(-e_min/mean)); < 10 GeV/0.7/(1+3 sigma) [choice]

  // ---------------- photon vetoes (LAV, IRC/SAC) [NA62/est] ----------------
  double lav_max_angle = 0.050;          // rad, LAV coverage 8.5-50 mrad: photons outside the LKr up to this angle [NA62]
  double lav_inefficiency = 1e-3;        // per photon above ~0.2 GeV [NA62/est]
  double sav_inefficiency = 1e-4;        // IRC/SAC per photon in the LKr beam hole [NA62/est]
  double veto_time_res = 1.0;            // ns [est]
  double veto_window = 6.25;             // ns, half-width of the in-time count around the trigger time = trigger window [choice]
  double lav_accidental_rate = 3.0;      // MHz of accidental LAV hits (halo, beam) [est]
  double lav12_z = 238000.0;             // mm, LAV12 (last ring, in front of the LKr) [NA62]
  double lav12_inner_radius = 1070.0;    // mm, a halo muon outside this radius crosses LAV12 [NA62/est]

  // ---------------- misreco stream forcing [choice] ----------------
  int misreco_force_invisible = 1;       // 1: K3pi pions other than the mu+ candidate forced to leave no STRAW track / CHOD candidate [choice]
  int misreco_force_muv3 = 1;            // 1: force >= 1 accidental MUV3 hit in time, opposite quadrant to the mu+ candidate [choice]
  int misreco_k3pi_only = 1;             // 1: generate only K+ -> pi+ pi+ pi- (the only channel with a charged hadron for the MUV1/2 shower) [choice]
  double misreco_kink_core_radius = 100.0;   // mm, kink-tail importance core: nu line within this of the hadron's LKr impact (signal box 50 mm) [choice]
  double misreco_kink_core_fraction = 0.5;  // share of forced kink tails drawn in that core; exact factor p/q [choice]
  int misreco_force_kink = 1;            // 1: the candidate pi+ decays between STRAW1 and STRAW4 and its kinked track is kept with the tail momentum (weight x probabilities) [choice]
  double misreco_radiative_fraction = 1.0;  // share of misreco entries generated as radiative Kmu2 (rest: K3pi kink, never passing the muon ID); exact weight / share [choice]
  double kmu2g_egamma_min = 0.020;       // GeV, K+ -> mu+ nu gamma generated above this photon energy in the K+ frame (lab E < 304 E*: below 20 MeV it cannot make E_had > 5 GeV) [choice]
  double kmu2g_m2_max = 0.035;           // GeV^2, ... and with (P_K - P_mu)^2 below this (side-band edge 0.03 + 5 sigma of the m2 resolution) [choice]
  double photonuclear_sigma_mb = 8.0;    // mb, sigma(gamma Kr) at 10-60 GeV: sigma(gamma p) = 0.12 mb x A_eff, A_eff = 0.8 A (shadowing) [PDG, est]
  double kr_molar_mass = 83.798;         // g/mol, krypton [PDG]

  // ---------------- generator preselection (data and MC alike) [choice] ----------------
  double preselection_lkr_radius = 700.0;  // mm, an LKr cluster within this distance of the reconstructed nu line (> d_LKr side-band 600) [choice]
  double preselection_lkr_e_min = 1.5;     // GeV, that cluster's energy (analysis: > 2 GeV) [choice]
  double preselection_time = 25.0;         // ns, that cluster within this of the trigger time (analysis: +-20 ns of t_mu) [choice]
  double preselection_m2_max = 0.05;       // GeV^2/c^4, |m_miss^2| (analysis side-bands end at 0.03) [choice]
  double preselection_p_min = 4.0;         // GeV/c, the single positive track (analysis 5-70) [choice]
  double preselection_p_max = 72.0;        // GeV/c [choice]
  double preselection_muv_e_min = 3.9;     // GeV, MUV1+MUV2 energy within preselection_muv_radius of that LKr cluster (proposed cut muv_hadronic: > 4 GeV within 300 mm); 0 disables [choice]
  double preselection_muv_radius = 350.0;  // mm [choice]
  int preselection_chod_max = 1;           // chod_n <= this (analysis trig_nu_emulated: chod_n == 1) [choice]
  int preselection_photon_veto = 1;        // 1: require lav_n_intime == 0 && sav_n_intime == 0 (proposed cut photon_veto) [choice]
  double preselection_muv_mu_veto = 90.0;  // mm, MUV clusters this close to the mu+ extrapolation are not counted (analysis: 100 mm) [choice]
};

}  // namespace nutag::sim
