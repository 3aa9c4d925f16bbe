// Command line and JSON report shared by the RDataFrame prototypes of the benchmark
// (rdf_compiled.cxx, rdf_fused.cxx): the same interface, so benchmarks/run.py reads both alike.
//
// usage: PROGRAM FILE THREADS [OUT.root]
// stdout: {mode, threads, entries, open_s, loop_s, first_event_s, maxrss_kb, cutflow: [...]}
#pragma once

#include <ROOT/RDataFrame.hxx>
#include <TFile.h>
#include <TH1D.h>

#include "callgrind_marks.hpp"
#include "peak_rss.hpp"


#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace rdfproto {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string path, out;
  int threads = 1;
};

// Parses the command line and enables implicit MT for THREADS > 1; false (usage printed) if
// the arguments are missing.
inline bool parse(int argc, char** argv, Args& a) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s FILE THREADS [OUT.root]\n", argv[0]);
    return false;
  }
  a.path = argv[1];
  a.out = argc > 3 ? argv[3] : "";
  a.threads = std::stoi(argv[2]);
  if (a.threads > 1) ROOT::EnableImplicitMT(a.threads);
  return true;
}

// Writes the histograms into `out` (if given) and prints the JSON line; cutflow rows are
// (name, count) of a data sample: sum w = sum w^2 = count.
template <typename Histos>
void report(const char* mode, const Args& a, Clock::time_point t0, Clock::time_point t1,
            Clock::time_point t2, const std::vector<std::pair<std::string, double>>& cutflow,
            Histos& histos) {
  if (!a.out.empty()) {
    TFile f(a.out.c_str(), "RECREATE");
    for (auto& h : histos) h->Write();
  }
  auto s = [](auto x, auto y) { return std::chrono::duration<double>(y - x).count(); };
  std::printf("{\"mode\": \"%s\", \"threads\": %d, \"entries\": %.0f, \"open_s\": %.6f, "
              "\"loop_s\": %.6f, \"first_event_s\": %.6f, \"maxrss_kb\": %ld, \"cutflow\": [",
              mode, a.threads, cutflow.empty() ? 0.0 : cutflow[0].second, s(t0, t1), s(t1, t2),
              s(t0, t1), bench::peak_rss_kb());
  for (std::size_t i = 0; i < cutflow.size(); ++i) {
    const double n = cutflow[i].second;
    std::printf("%s[\"%s\", %.0f, %.17g, %.17g]", i ? ", " : "", cutflow[i].first.c_str(), n, n,
                n);
  }
  std::printf("]}\n");
}

}  // namespace rdfproto
