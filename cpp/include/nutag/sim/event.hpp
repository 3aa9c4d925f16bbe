// One simulated event: one public member per column of samples/ntuple-schema.yaml, with the same
// name and type, so the Python driver can write it column by column with RDataFrame.
// Units: GeV, mm, ns (see the schema for each column's meaning).
#pragma once

#include <ROOT/RVec.hxx>
#include <RtypesCore.h>

namespace nutag::sim {

struct Event {
  // --- event ---
  ULong64_t event_id = 0;
  bool trigger_nu = false;
  bool trigger_control = false;
  double trigger_time = 0.0;
  // --- KTAG and GTK ---
  double ktag_time = 0.0;
  int ktag_sectors = 0;
  double gtk_time = 0.0;
  double gtk_x = 0.0;
  double gtk_y = 0.0;
  double gtk_px = 0.0;
  double gtk_py = 0.0;
  double gtk_pz = 0.0;
  // --- STRAW tracks ---
  int straw_n = 0;
  ROOT::RVec<int> straw_charge;
  ROOT::RVec<double> straw_x;
  ROOT::RVec<double> straw_y;
  ROOT::RVec<double> straw_px;
  ROOT::RVec<double> straw_py;
  ROOT::RVec<double> straw_pz;
  ROOT::RVec<double> straw_chod_time;
  ROOT::RVec<double> straw_rich_time;
  ROOT::RVec<double> straw_rich_mass;
  // --- CHOD ---
  int chod_n = 0;
  // --- LKr clusters ---
  int lkr_n = 0;
  ROOT::RVec<double> lkr_x;
  ROOT::RVec<double> lkr_y;
  ROOT::RVec<double> lkr_e;
  ROOT::RVec<double> lkr_time;
  // --- MUV1 / MUV2 clusters ---
  ROOT::RVec<double> muv1_x;
  ROOT::RVec<double> muv1_y;
  ROOT::RVec<double> muv1_e;
  ROOT::RVec<double> muv2_x;
  ROOT::RVec<double> muv2_y;
  ROOT::RVec<double> muv2_e;
  // --- MUV3 hits ---
  int muv3_n = 0;
  ROOT::RVec<int> muv3_tile;
  ROOT::RVec<double> muv3_x;
  ROOT::RVec<double> muv3_y;
  ROOT::RVec<double> muv3_time;
  // --- photon vetoes ---
  int lav_n_intime = 0;
  int sav_n_intime = 0;
  // --- truth and weight ---
  double weight = 0.0;
  int true_process = 0;
  int true_category = 0;
  double true_decay_z = 0.0;
  double true_p_kaon = 0.0;
  double true_p_muon = 0.0;
  double true_e_nu = 0.0;
  bool true_nu_int = false;
  double true_int_z = 0.0;
  double true_y = 0.0;
  double true_x_bj = 0.0;
};

}  // namespace nutag::sim
