// Prototype: the graph nutag builds for benchmarks/kmu2_norm.yaml, written as COMPILED RDataFrame
// code (typed Define/Filter with C++ lambdas, g++ -O2) instead of jitted strings.
//
// It measures what nutag would gain by compiling the YAML selection ahead of time (code
// generation from the YAML into a cached shared library; see BENCHMARKS.md "Proposed changes"):
// the same nodes (one Define per YAML column, one named Filter per cut, the cutflow nutag books
// for a data sample after every cut — Count only, sum w = sum w^2 = count —, six weighted
// histograms), no JIT before the first event.
//
// usage: rdf_compiled FILE THREADS [OUT.root]   (TTree or RNTuple input, detected by RDF)
// stdout: one JSON object like hand_loop's (rdf_prototype.hpp).
#include <ROOT/RDataFrame.hxx>
#include <ROOT/RDFHelpers.hxx>
#include <ROOT/RResultHandle.hxx>
#include <ROOT/RVec.hxx>
#include <TROOT.h>

#include <string>
#include <vector>

#include "nutag/geometry.hpp"
#include "nutag/kinematics.hpp"
#include "nutag/selection.hpp"
#include "rdf_prototype.hpp"

using RVecD = ROOT::RVec<double>;
using RVecI = ROOT::RVec<int>;
using nutag::Line;
using nutag::Point;
using nutag::Vector;

int main(int argc, char** argv) {
  const auto t0 = rdfproto::Clock::now();
  rdfproto::Args args;
  if (!rdfproto::parse(argc, argv, args)) return 2;
  ROOT::RDataFrame df("nutag", args.path);
  auto n0 = df.Define("_w", [] { return 1.0; }).Define("_w2", [](double w) { return w * w; }, {"_w"});
  // --- selections/kmu2.yaml columns (same order, same expressions) ---
  auto n1 =
      n0.Define("k_p3", [](double x, double y, double z) { return Vector(x, y, z); },
                {"gtk_px", "gtk_py", "gtk_pz"})
          .Define("p_k", [](const Vector& k) { return k.R(); }, {"k_p3"})
          .Define("k_line",
                  [](double x, double y, const Vector& k) {
                    return Line{Point(x, y, nutag::kZGtk3_mm), k};
                  },
                  {"gtk_x", "gtk_y", "k_p3"})
          .Define("mu_idx", [](const RVecI& c) { return nutag::single_positive_track(c); },
                  {"straw_charge"})
          .Define("p_mu", nutag::track_p, {"straw_px", "straw_py", "straw_pz", "mu_idx"})
          .Define("mu_p3", nutag::track_momentum, {"straw_px", "straw_py", "straw_pz", "mu_idx"})
          .Define("mu_line", nutag::track_line,
                  {"straw_x", "straw_y", "straw_px", "straw_py", "straw_pz", "mu_idx"})
          .Define("vtx", nutag::closest_approach, {"k_line", "mu_line"})
          .Define("cda", [](const nutag::Vertex& v) { return v.cda; }, {"vtx"})
          .Define("z_vtx", [](const nutag::Vertex& v) { return v.point.Z(); }, {"vtx"})
          .Define("z_vtx_m", [](double z) { return z / 1000.0; }, {"z_vtx"})
          .Define("m_miss2", [](const Vector& k, const Vector& m) { return nutag::missing_mass2(k, m); },
                  {"k_p3", "mu_p3"})
          .Define("t_chod", [](const RVecD& t, int i) { return nutag::at_or(t, i, -999.0); },
                  {"straw_chod_time", "mu_idx"})
          .Define("t_rich", [](const RVecD& t, int i) { return nutag::at_or(t, i, -999.0); },
                  {"straw_rich_time", "mu_idx"})
          .Define("t_mu", [](double r, double c) { return r > -900.0 ? r : c; }, {"t_rich", "t_chod"})
          .Define("rich_mass", [](const RVecD& m, int i) { return nutag::at_or(m, i, -1.0); },
                  {"straw_rich_mass", "mu_idx"})
          .Define("mu_at_lkr",
                  [](const RVecD& x, const RVecD& y, const RVecD& px, const RVecD& py,
                     const RVecD& pz, const RVecI& q, int i) {
                    return nutag::track_at_z(x, y, px, py, pz, q, i, nutag::kZLkrFront_mm);
                  },
                  {"straw_x", "straw_y", "straw_px", "straw_py", "straw_pz", "straw_charge", "mu_idx"})
          .Define("mu_at_muv3",
                  [](const RVecD& x, const RVecD& y, const RVecD& px, const RVecD& py,
                     const RVecD& pz, const RVecI& q, int i) {
                    return nutag::track_at_z(x, y, px, py, pz, q, i, nutag::kZMuv3_mm);
                  },
                  {"straw_x", "straw_y", "straw_px", "straw_py", "straw_pz", "straw_charge", "mu_idx"})
          .Define("mu_lkr_idx",
                  [](const RVecD& x, const RVecD& y, const RVecD& t, const Point& p, double tm) {
                    return nutag::nearest_in_time(x, y, t, p.X(), p.Y(), 50.0, tm, 3.0);
                  },
                  {"lkr_x", "lkr_y", "lkr_time", "mu_at_lkr", "t_mu"})
          .Define("mu_muv3_idx",
                  [](const RVecD& x, const RVecD& y, const RVecD& t, const Point& p, double pm,
                     double tm) { return nutag::muv3_muon_hit(x, y, t, p.X(), p.Y(), pm, tm, 2.0); },
                  {"muv3_x", "muv3_y", "muv3_time", "mu_at_muv3", "p_mu", "t_mu"})
          .Define("e_over_p",
                  [](const RVecD& e, int i, double p) { return nutag::at_or(e, i, 0.0) / p; },
                  {"lkr_e", "mu_lkr_idx", "p_mu"})
          // --- benchmarks/kmu2_norm.yaml ---
          .Define("nu",
                  [](const Vector& k, const Vector& m, const nutag::Vertex& v) {
                    return nutag::tag_neutrino(k, m, v.point);
                  },
                  {"k_p3", "mu_p3", "vtx"})
          .Define("e_nu", [](const nutag::TaggedNeutrino& nu) { return nu.p4.E(); }, {"nu"});

  std::vector<ROOT::RDF::RResultHandle> booked;
  std::vector<std::pair<std::string, ROOT::RDF::RResultPtr<ULong64_t>>> counts;
  auto cutflow = [&](ROOT::RDF::RNode n, const std::string& name) {
    auto c = n.Count();
    counts.emplace_back(name, c);
    booked.emplace_back(c);
  };
  ROOT::RDF::RNode node = n1;
  cutflow(node, "(all)");
  auto filt = [&](auto f, const std::vector<std::string>& cols, const std::string& name) {
    node = node.Filter(f, cols, name);
    cutflow(node, name);
  };
  filt([](bool t) { return t; }, {"trigger_control"}, "trig_control");
  filt([](int s) { return s >= 5; }, {"ktag_sectors"}, "ktag_kaon");
  filt([](double p) { return p > 72.0 && p < 78.0; }, {"p_k"}, "gtk_momentum");
  filt([](int n, int i) { return n == 1 && i >= 0; }, {"straw_n", "mu_idx"}, "single_track");
  filt([](double p) { return p > 5.0 && p < 70.0; }, {"p_mu"}, "track_momentum");
  filt([](const Point& l, const Point& m) {
    return nutag::in_lkr_acceptance(l.X(), l.Y()) && nutag::on_muv3_tile(m.X(), m.Y());
  }, {"mu_at_lkr", "mu_at_muv3"}, "mu_acceptance");
  filt([](double c) { return c < 5.0; }, {"cda"}, "cda");
  filt([](double z) { return z > 110000.0 && z < 175000.0; }, {"z_vtx"}, "fiducial");
  filt([](int i) { return i >= 0; }, {"mu_muv3_idx"}, "muon_muv3");
  filt([](double e) { return e < 0.2; }, {"e_over_p"}, "muon_lkr");
  filt([](double p, double m) { return p < 15.0 || (m > 0.0 && m < 0.125); }, {"p_mu", "rich_mass"},
       "muon_rich");
  filt([](double k, double g) { return std::abs(k - g) < 0.5; }, {"ktag_time", "gtk_time"},
       "timing_ktag_gtk");
  filt([](double g, double t) { return std::abs(g - t) < 1.0; }, {"gtk_time", "t_mu"}, "timing_gtk_mu");
  filt([](double c, double t) { return std::abs(c - t) < 3.0; }, {"t_chod", "t_mu"}, "timing_chod");
  filt([](double m) { return std::abs(m) < 0.006; }, {"m_miss2"}, "kmu2_peak");
  std::vector<ROOT::RDF::RResultPtr<TH1D>> histos = {
      node.Histo1D<double, double>({"m_miss2", "", 160, -0.04, 0.04}, "m_miss2", "_w"),
      node.Histo1D<double, double>({"e_nu", "", 72, 0.0, 72.0}, "e_nu", "_w"),
      node.Histo1D<double, double>({"p_k", "", 60, 72.0, 78.0}, "p_k", "_w"),
      node.Histo1D<double, double>({"p_mu", "", 75, 0.0, 75.0}, "p_mu", "_w"),
      node.Histo1D<double, double>({"z_vtx_m", "", 80, 100.0, 180.0}, "z_vtx_m", "_w"),
      node.Histo1D<double, double>({"cda", "", 50, 0.0, 10.0}, "cda", "_w")};
  for (auto& h : histos) booked.emplace_back(h);
  BENCH_LOOP_STARTS();
  const auto t1 = rdfproto::Clock::now();
  ROOT::RDF::RunGraphs(booked);
  const auto t2 = rdfproto::Clock::now();
  std::vector<std::pair<std::string, double>> rows;
  for (auto& [name, n] : counts) rows.emplace_back(name, static_cast<double>(*n));
  rdfproto::report("rdf-compiled", args, t0, t1, t2, rows, histos);
  return 0;
}
