// Prototype: the kmu2_norm selection as ONE fused RDataFrame node instead of one node per YAML
// column and cut.
//
// Why it is raced: benchmarks.profile counts ~6,000 instructions per event of RDataFrame node
// machinery (a virtual call per Define, Filter and action, and per input of each) in the graph
// nutag builds, against ~550 for the same cuts as straight-line code. This program measures
// what a code generator emitting one fused kernel per region would keep: a single Define reads
// the selection's 26 columns and runs the selection as straight-line code
// (benchmarks/kmu2_event.hpp, shared with the hand-written loop, so the two cannot differ),
// returning how many cutflow rows the event passes; the cutflow is one histogram of that
// number, the six histograms are booked behind one Filter. What it gives up: RDataFrame's
// laziness across columns (the 26 columns are read for every event, also those that fail the
// first cut) and the node-per-cut graph (no Report(), no per-cut Vary).
//
// usage: rdf_fused FILE THREADS [OUT.root]   (stdout: one JSON object, rdf_prototype.hpp)
#include <ROOT/RDataFrame.hxx>
#include <ROOT/RDFHelpers.hxx>
#include <ROOT/RResultHandle.hxx>
#include <TH1D.h>

#include <string>
#include <vector>

#include "kmu2_event.hpp"
#include "rdf_prototype.hpp"

namespace {

using kmu2bench::RVecD;
using kmu2bench::RVecI;

// A column value RDataFrame already read, seen through operator* like the hand loop's readers.
template <typename T>
struct Ref {
  const T* p;
  const T& operator*() const { return *p; }
};

struct Event {
  Ref<bool> trigger_control;
  Ref<int> ktag_sectors;
  Ref<double> ktag_time, gtk_time, gtk_x, gtk_y, gtk_px, gtk_py, gtk_pz;
  Ref<int> straw_n;
  Ref<RVecI> straw_charge;
  Ref<RVecD> straw_x, straw_y, straw_px, straw_py, straw_pz, straw_chod_time, straw_rich_time,
      straw_rich_mass, lkr_x, lkr_y, lkr_e, lkr_time, muv3_x, muv3_y, muv3_time;
};

struct Result {
  int rows = 0;  // cutflow rows passed (kmu2bench::kAllRows: the whole selection)
  kmu2bench::Values v;
};

Result kernel(const bool& trigger_control, const int& ktag_sectors, const double& ktag_time,
              const double& gtk_time, const double& gtk_x, const double& gtk_y,
              const double& gtk_px, const double& gtk_py, const double& gtk_pz,
              const int& straw_n, const RVecI& straw_charge, const RVecD& straw_x,
              const RVecD& straw_y, const RVecD& straw_px, const RVecD& straw_py,
              const RVecD& straw_pz, const RVecD& straw_chod_time, const RVecD& straw_rich_time,
              const RVecD& straw_rich_mass, const RVecD& lkr_x, const RVecD& lkr_y,
              const RVecD& lkr_e, const RVecD& lkr_time, const RVecD& muv3_x,
              const RVecD& muv3_y, const RVecD& muv3_time) {
  Event ev{{&trigger_control}, {&ktag_sectors},   {&ktag_time},     {&gtk_time},
           {&gtk_x},           {&gtk_y},          {&gtk_px},        {&gtk_py},
           {&gtk_pz},          {&straw_n},        {&straw_charge},  {&straw_x},
           {&straw_y},         {&straw_px},       {&straw_py},      {&straw_pz},
           {&straw_chod_time}, {&straw_rich_time}, {&straw_rich_mass}, {&lkr_x},
           {&lkr_y},           {&lkr_e},          {&lkr_time},      {&muv3_x},
           {&muv3_y},          {&muv3_time}};
  Result r;
  r.rows = kmu2bench::kmu2_event(ev, r.v);
  return r;
}

const std::vector<std::string> kColumns = {
    "trigger_control", "ktag_sectors",    "ktag_time",       "gtk_time",        "gtk_x",
    "gtk_y",           "gtk_px",          "gtk_py",          "gtk_pz",          "straw_n",
    "straw_charge",    "straw_x",         "straw_y",         "straw_px",        "straw_py",
    "straw_pz",        "straw_chod_time", "straw_rich_time", "straw_rich_mass", "lkr_x",
    "lkr_y",           "lkr_e",           "lkr_time",        "muv3_x",          "muv3_y",
    "muv3_time"};

}  // namespace

int main(int argc, char** argv) {
  const auto t0 = rdfproto::Clock::now();
  rdfproto::Args args;
  if (!rdfproto::parse(argc, argv, args)) return 2;
  ROOT::RDataFrame df("nutag", args.path);
  constexpr int kRows = kmu2bench::kAllRows;
  auto sel = df.Define("_sel", kernel, kColumns)
                 .Define("_rows", [](const Result& r) { return r.rows; }, {"_sel"});
  // bin i+1 counts the events passing exactly i+1 rows; the cutflow row k is the sum above k
  auto rows = sel.Histo1D<int>({"rows", "", kRows, 0.5, kRows + 0.5}, "_rows");
  auto passed = sel.Filter([](int n) { return n == kRows; }, {"_rows"}, "kmu2_norm")
                    .Define("_w", [] { return 1.0; });
  std::vector<ROOT::RDF::RResultHandle> booked{rows};
  std::vector<ROOT::RDF::RResultPtr<TH1D>> histos;
  auto book = [&](const char* name, int nbins, double lo, double hi, double kmu2bench::Values::*m) {
    const std::string col = std::string("_") + name;
    histos.push_back(passed.Define(col, [m](const Result& r) { return r.v.*m; }, {"_sel"})
                         .Histo1D<double, double>({name, "", nbins, lo, hi}, col, "_w"));
    booked.emplace_back(histos.back());
  };
  // same names and binning as hand_loop.cxx's Histos
  book("m_miss2", 160, -0.04, 0.04, &kmu2bench::Values::m_miss2);
  book("e_nu", 72, 0.0, 72.0, &kmu2bench::Values::e_nu);
  book("p_k", 60, 72.0, 78.0, &kmu2bench::Values::p_k);
  book("p_mu", 75, 0.0, 75.0, &kmu2bench::Values::p_mu);
  book("z_vtx_m", 80, 100.0, 180.0, &kmu2bench::Values::z_vtx_m);
  book("cda", 50, 0.0, 10.0, &kmu2bench::Values::cda);
  BENCH_LOOP_STARTS();
  const auto t1 = rdfproto::Clock::now();
  ROOT::RDF::RunGraphs(booked);
  const auto t2 = rdfproto::Clock::now();
  double n = 0.0;  // row k: the events passing at least k + 1 rows
  std::vector<std::pair<std::string, double>> cutflow(kRows);
  for (int k = kRows - 1; k >= 0; --k) {
    n += rows->GetBinContent(k + 1);
    cutflow[k] = {kmu2bench::kCuts[k], n};
  }
  rdfproto::report("rdf-fused", args, t0, t1, t2, cutflow, histos);
  return 0;
}
