// The hand-written reference loop of the nutag benchmark (benchmarks/run.py compiles it at -O2).
//
// It does exactly the work of benchmarks/kmu2_norm.yaml on the benchmark input: the Kmu2
// normalisation selection (selections/kmu2.yaml + the control trigger, in the same cut order),
// a weighted cutflow (count, sum w, sum w^2 after every cut) and the six histograms the default
// config books on region kmu2_norm. The selection of one event is benchmarks/kmu2_event.hpp:
// columns computed lazily, only when the next cut needs them, as RDataFrame does, with the same
// compiled nutag:: functions (build/libnutag.so) that the analysis calls.
//
// Modes:
//   kmu2-ntuple RNTupleReader analysis loop        (the reference of the race: the simulation
//               writes RNTuple)
//   read-ntuple RNTupleReader pure read of the columns the selection uses (the I/O limit)
//   kmu2        TTreeReader analysis loop          (on a TTree copy of the input)
//   read        TTreeReader pure read
//
// usage: hand_loop MODE FILE [OUT.root]
// stdout: one JSON object {mode, entries, loop_s, open_s, cutflow:[...], checksum, maxrss_kb}.
#include <TFile.h>
#include <TH1D.h>
#include <TROOT.h>
#include <TTree.h>
#include <TTreeReader.h>
#include <TTreeReaderValue.h>

#include <ROOT/RNTupleReader.hxx>
#include <ROOT/RNTupleView.hxx>
#include <ROOT/RVec.hxx>


#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "callgrind_marks.hpp"
#include "kmu2_event.hpp"
#include "peak_rss.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using RVecD = ROOT::RVec<double>;
using RVecI = ROOT::RVec<int>;

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

using kmu2bench::kCuts;

struct Cutflow {
  std::array<long long, kCuts.size()> n{};
  std::array<double, kCuts.size()> sumw{};
  std::array<double, kCuts.size()> sumw2{};
  void pass(std::size_t i, double w) {
    ++n[i];
    sumw[i] += w;
    sumw2[i] += w * w;
  }
};

// Same names, titles and binning as selections/nutag.yaml (histograms booked on kmu2_norm).
struct Histos {
  TH1D m_miss2{"m_miss2", "", 160, -0.04, 0.04};
  TH1D e_nu{"e_nu", "", 72, 0.0, 72.0};
  TH1D p_k{"p_k", "", 60, 72.0, 78.0};
  TH1D p_mu{"p_mu", "", 75, 0.0, 75.0};
  TH1D z_vtx_m{"z_vtx_m", "", 80, 100.0, 180.0};
  TH1D cda{"cda", "", 50, 0.0, 10.0};
  void write(const std::string& path) {
    if (path.empty()) return;
    TFile f(path.c_str(), "RECREATE");
    for (TH1D* h : {&m_miss2, &e_nu, &p_k, &p_mu, &z_vtx_m, &cda}) h->Write();
  }
};

// The input of one event, read lazily: Get() returns a reference valid for the current entry.
// Two implementations (TTreeReader, RNTupleReader) so the selection below is written once.
struct TreeSource {
  TTreeReader reader;
  TTreeReaderValue<bool> trigger_control{reader, "trigger_control"};
  TTreeReaderValue<int> ktag_sectors{reader, "ktag_sectors"};
  TTreeReaderValue<double> ktag_time{reader, "ktag_time"}, gtk_time{reader, "gtk_time"},
      gtk_x{reader, "gtk_x"}, gtk_y{reader, "gtk_y"}, gtk_px{reader, "gtk_px"},
      gtk_py{reader, "gtk_py"}, gtk_pz{reader, "gtk_pz"};
  TTreeReaderValue<int> straw_n{reader, "straw_n"};
  TTreeReaderValue<RVecI> straw_charge{reader, "straw_charge"};
  TTreeReaderValue<RVecD> straw_x{reader, "straw_x"}, straw_y{reader, "straw_y"},
      straw_px{reader, "straw_px"}, straw_py{reader, "straw_py"}, straw_pz{reader, "straw_pz"},
      straw_chod_time{reader, "straw_chod_time"}, straw_rich_time{reader, "straw_rich_time"},
      straw_rich_mass{reader, "straw_rich_mass"};
  TTreeReaderValue<RVecD> lkr_x{reader, "lkr_x"}, lkr_y{reader, "lkr_y"}, lkr_e{reader, "lkr_e"},
      lkr_time{reader, "lkr_time"};
  TTreeReaderValue<RVecD> muv3_x{reader, "muv3_x"}, muv3_y{reader, "muv3_y"},
      muv3_time{reader, "muv3_time"};

  explicit TreeSource(TTree* t) : reader(t) {}
  bool next() { return reader.Next(); }
};

template <typename T>
struct NView {
  ROOT::RNTupleView<T> view;
  std::uint64_t* entry;
  const T& operator*() { return view(*entry); }
};

struct NTupleSource {
  std::unique_ptr<ROOT::RNTupleReader> reader;
  std::uint64_t entry = 0, n = 0;
  bool started = false;
  template <typename T>
  NView<T> v(const char* name) {
    return NView<T>{reader->GetView<T>(name), &entry};
  }
  NView<bool> trigger_control;
  NView<int> ktag_sectors;
  NView<double> ktag_time, gtk_time, gtk_x, gtk_y, gtk_px, gtk_py, gtk_pz;
  NView<int> straw_n;
  NView<RVecI> straw_charge;
  NView<RVecD> straw_x, straw_y, straw_px, straw_py, straw_pz, straw_chod_time, straw_rich_time,
      straw_rich_mass;
  NView<RVecD> lkr_x, lkr_y, lkr_e, lkr_time;
  NView<RVecD> muv3_x, muv3_y, muv3_time;

  explicit NTupleSource(std::unique_ptr<ROOT::RNTupleReader> r)
      : reader(std::move(r)),
        n(reader->GetNEntries()),
        trigger_control(v<bool>("trigger_control")),
        ktag_sectors(v<int>("ktag_sectors")),
        ktag_time(v<double>("ktag_time")),
        gtk_time(v<double>("gtk_time")),
        gtk_x(v<double>("gtk_x")),
        gtk_y(v<double>("gtk_y")),
        gtk_px(v<double>("gtk_px")),
        gtk_py(v<double>("gtk_py")),
        gtk_pz(v<double>("gtk_pz")),
        straw_n(v<int>("straw_n")),
        straw_charge(v<RVecI>("straw_charge")),
        straw_x(v<RVecD>("straw_x")),
        straw_y(v<RVecD>("straw_y")),
        straw_px(v<RVecD>("straw_px")),
        straw_py(v<RVecD>("straw_py")),
        straw_pz(v<RVecD>("straw_pz")),
        straw_chod_time(v<RVecD>("straw_chod_time")),
        straw_rich_time(v<RVecD>("straw_rich_time")),
        straw_rich_mass(v<RVecD>("straw_rich_mass")),
        lkr_x(v<RVecD>("lkr_x")),
        lkr_y(v<RVecD>("lkr_y")),
        lkr_e(v<RVecD>("lkr_e")),
        lkr_time(v<RVecD>("lkr_time")),
        muv3_x(v<RVecD>("muv3_x")),
        muv3_y(v<RVecD>("muv3_y")),
        muv3_time(v<RVecD>("muv3_time")) {}
  bool next() {
    if (started) ++entry;
    started = true;
    return entry < n;
  }
};

// The Kmu2 normalisation selection (benchmarks/kmu2_event.hpp) over every entry. Never inlined:
// benchmarks.profile counts the instructions executed inside this function (the event loop).
template <typename Src>
[[gnu::noinline]] long long kmu2(Src& s, Cutflow& cf, Histos& h) {
  long long entries = 0;
  const double w = 1.0;  // data: unit weight, summed as nutag sums its weight column
  kmu2bench::Values v;
  while (s.next()) {
    ++entries;
    const int rows = kmu2bench::kmu2_event(s, v);
    for (int i = 0; i < rows; ++i) cf.pass(static_cast<std::size_t>(i), w);
    if (rows < kmu2bench::kAllRows) continue;
    h.m_miss2.Fill(v.m_miss2, w);
    h.e_nu.Fill(v.e_nu, w);
    h.p_k.Fill(v.p_k, w);
    h.p_mu.Fill(v.p_mu, w);
    h.z_vtx_m.Fill(v.z_vtx_m, w);
    h.cda.Fill(v.cda, w);
  }
  return entries;
}

double first_or_zero(const RVecD& v) { return v.empty() ? 0.0 : v[0]; }

// Every column the selection uses, for every entry: what no analysis of these columns can beat.
template <typename Src>
long long pure_read(Src& s, double& checksum) {
  long long entries = 0;
  double sum = 0.0;
  std::size_t sizes = 0;
  while (s.next()) {
    ++entries;
    sum += *s.trigger_control + *s.ktag_sectors + *s.ktag_time + *s.gtk_time + *s.gtk_x +
           *s.gtk_y + *s.gtk_px + *s.gtk_py + *s.gtk_pz + *s.straw_n;
    sizes += (*s.straw_charge).size();
    for (const RVecD* v : {&*s.straw_x, &*s.straw_y, &*s.straw_px, &*s.straw_py, &*s.straw_pz,
                           &*s.straw_chod_time, &*s.straw_rich_time, &*s.straw_rich_mass,
                           &*s.lkr_x, &*s.lkr_y, &*s.lkr_e, &*s.lkr_time, &*s.muv3_x,
                           &*s.muv3_y, &*s.muv3_time}) {
      sizes += v->size();
      sum += first_or_zero(*v);
    }
  }
  checksum = sum + static_cast<double>(sizes);
  return entries;
}

}  // namespace

int main(int argc, char** argv) {
  const auto t0 = Clock::now();
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s kmu2|read|kmu2-ntuple|read-ntuple FILE [OUT.root]\n",
                 argv[0]);
    return 2;
  }
  const std::string mode = argv[1], path = argv[2], out = argc > 3 ? argv[3] : "";
  const bool ntuple = mode.size() > 7 && mode.substr(mode.size() - 7) == "-ntuple";
  const bool analysis = mode.rfind("kmu2", 0) == 0;
  TH1::AddDirectory(false);
  Cutflow cf;
  Histos h;
  double checksum = 0.0;
  long long entries = 0;
  Clock::time_point t1, t2;
  std::unique_ptr<TFile> file;
  if (ntuple) {
    NTupleSource src(ROOT::RNTupleReader::Open("nutag", path));
    BENCH_LOOP_STARTS();
    t1 = Clock::now();
    entries = analysis ? kmu2(src, cf, h) : pure_read(src, checksum);
    t2 = Clock::now();
  } else {
    file.reset(TFile::Open(path.c_str()));
    if (!file || file->IsZombie()) {
      std::fprintf(stderr, "cannot open %s\n", path.c_str());
      return 1;
    }
    auto* tree = file->Get<TTree>("nutag");
    if (tree == nullptr) {
      std::fprintf(stderr, "%s has no TTree 'nutag'\n", path.c_str());
      return 1;
    }
    TreeSource src(tree);
    BENCH_LOOP_STARTS();
    t1 = Clock::now();
    entries = analysis ? kmu2(src, cf, h) : pure_read(src, checksum);
    t2 = Clock::now();
  }
  if (analysis) h.write(out);
  std::printf("{\"mode\": \"%s\", \"entries\": %lld, \"open_s\": %.6f, \"loop_s\": %.6f, "
              "\"checksum\": %.17g, \"maxrss_kb\": %ld, \"cutflow\": [",
              mode.c_str(), entries, seconds(t0, t1), seconds(t1, t2), checksum, bench::peak_rss_kb());
  for (std::size_t i = 0; i < kCuts.size() && analysis; ++i) {
    std::printf("%s[\"%s\", %lld, %.17g, %.17g]", i ? ", " : "", kCuts[i], cf.n[i], cf.sumw[i],
                cf.sumw2[i]);
  }
  std::printf("]}\n");
  return 0;
}
