// The fused selection's action (nutag/rdf/fused_action.hpp) fills what one Histo1D/Histo2D per
// histogram and one Count per cutflow row fill, bit for bit on one thread and to rounding on
// two, and follows RDataFrame's rules for collections: every element, weights element by element
// or one weight for all, collections of different sizes an error.
#include "nutag/rdf/fused_action.hpp"

#include <ROOT/RDataFrame.hxx>
#include <ROOT/RVec.hxx>
#include <TH1D.h>
#include <TH2D.h>
#include <TROOT.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

#include "check.hpp"

namespace {

using ROOT::RVecD;

/// A kernel record as the generated code makes it: which rows passed and the columns.
struct Event {
  static constexpr std::size_t kRows = 2;
  bool pass[kRows] = {};
  double x = 0., y = 0., w = 1.;
  RVecD xs, ws;
  double weight() const { return w; }
};

double x_of(std::uint64_t i) { return static_cast<double>((i * 7919U) % 1000U) / 100.; }
double w_of(std::uint64_t i) { return 0.5 + static_cast<double>(i % 13U) / 7.; }

/// The record of entry ``i``: row 1 (the region) passes for two entries in three.
void make(Event& e, std::uint64_t i) {
  e.pass[0] = true;
  e.pass[1] = i % 3U != 0;
  e.x = x_of(i);
  e.y = x_of(i + 17);
  e.w = w_of(i);
  e.xs.assign({e.x, e.y, e.x + e.y});
  e.ws.assign({e.w, 2. * e.w, 0.5 * e.w});
}

/// What the generated fill function does for: x (weighted) and xs (one weight) in the region,
/// xs with ws (element by element) for all events, and y:x in the region.
void fill(Event& e, ::TH1D* const* h1, ::TH2D* const* h2) {
  if (e.pass[1]) {
    nutag::fill_histogram(*h1[0], e.x, e.w);
    nutag::fill_histogram(*h1[1], e.xs, e.w);
    nutag::fill_histogram(*h2[0], e.x, e.y, e.w);
  }
  if (e.pass[0]) nutag::fill_histogram(*h1[2], e.xs, e.ws);
}

bool same_bins(const TH1& a, const TH1& b) {
  if (a.GetNcells() != b.GetNcells() || a.GetEntries() != b.GetEntries()) return false;
  for (int i = 0; i < a.GetNcells(); ++i) {
    if (a.GetBinContent(i) != b.GetBinContent(i) || a.GetBinError(i) != b.GetBinError(i)) {
      return false;
    }
  }
  return true;
}

void compare_with_histo_actions(unsigned int threads) {
  if (threads > 1) ROOT::EnableImplicitMT(threads);
  const std::uint64_t n = 20000;
  ROOT::RDataFrame df(n);
  auto records = std::make_shared<std::vector<Event>>(df.GetNSlots());
  auto node = ROOT::RDF::RNode(df)
                  .DefineSlotEntry("ev",
                                   [records](unsigned int slot, ULong64_t entry) {
                                     Event& e = (*records)[slot];
                                     make(e, entry);
                                     return &e;
                                   })
                  .Define("x", [](Event* e) { return e->x; }, {"ev"})
                  .Define("y", [](Event* e) { return e->y; }, {"ev"})
                  .Define("w", [](Event* e) { return e->w; }, {"ev"})
                  .Define("xs", [](Event* e) { return e->xs; }, {"ev"})
                  .Define("ws", [](Event* e) { return e->ws; }, {"ev"});
  const ROOT::RDF::TH1DModel mx("fx", "x", 50, 0., 10.), mxs("fxs", "xs", 40, 0., 20.),
      mall("fall", "all", 40, 0., 20.);
  const ROOT::RDF::TH2DModel m2("f2", "y:x", 10, 0., 10., 10, 0., 10.);
  auto fused =
      nutag::book_fused_action<Event, &fill>(node, "ev", true, {mx, mxs, mall}, {m2});
  auto region = node.Filter([](Event* e) { return e->pass[1]; }, {"ev"});
  auto hx = region.Histo1D<double, double>({"rx", "x", 50, 0., 10.}, "x", "w");
  auto hxs = region.Histo1D<RVecD, double>({"rxs", "xs", 40, 0., 20.}, "xs", "w");
  auto hall = node.Histo1D<RVecD, RVecD>({"rall", "all", 40, 0., 20.}, "xs", "ws");
  auto h2 = region.Histo2D<double, double, double>({"r2", "y:x", 10, 0., 10., 10, 0., 10.}, "x",
                                                   "y", "w");
  auto n_all = node.Count();
  auto n_region = region.Count();
  auto sumw_region = region.Sum<double>("w");
  const nutag::FusedResults& out = *fused;
  CHECK(df.GetNRuns() == 1);
  CHECK(out.size() == 2);
  CHECK(out[0].n == *n_all && out[1].n == *n_region && *n_region > 0 && *n_region < n);
  CHECK_CLOSE(out[1].sumw, *sumw_region, 1e-9 * *sumw_region);  // the event weights summed
  CHECK(out.h1.size() == 3 && out.h2.size() == 1);
  CHECK(out.get_h1(0).GetEntries() > 0.5 * n && out.get_h1(0).GetEntries() < 0.8 * n);
  CHECK(out.get_h1(2).GetEntries() == 3. * n);  // every element of every event
  CHECK(std::string(out.get_h1(0).GetName()) == "fx");
  CHECK(out.get_h1(0).GetDirectory() == nullptr);
  if (threads == 1) {  // the same fills in the same order: bit for bit
    CHECK(same_bins(out.get_h1(0), *hx));
    CHECK(same_bins(out.get_h1(1), *hxs));
    CHECK(same_bins(out.get_h1(2), *hall));
    CHECK(same_bins(out.get_h2(0), *h2));
  } else {  // entries split between slots in another way: the sums to rounding
    const std::pair<const TH1*, const TH1*> pairs[] = {{&out.get_h1(0), hx.GetPtr()},
                                                       {&out.get_h1(1), hxs.GetPtr()},
                                                       {&out.get_h1(2), hall.GetPtr()},
                                                       {&out.get_h2(0), h2.GetPtr()}};
    for (const auto& [a, b] : pairs) {
      CHECK(a->GetEntries() == b->GetEntries());
      for (int i = 0; i < a->GetNcells(); ++i) {
        CHECK_CLOSE(a->GetBinContent(i), b->GetBinContent(i), 1e-9 * (1. + b->GetBinContent(i)));
      }
    }
  }
  if (threads > 1) ROOT::DisableImplicitMT();
}

void collections_of_different_sizes_are_an_error() {
  TH1D h("h", "h", 10, 0., 10.);
  h.SetDirectory(nullptr);
  bool thrown = false;
  try {
    nutag::fill_histogram(h, RVecD{1., 2., 3.}, RVecD{1., 2.});
  } catch (const std::runtime_error&) {
    thrown = true;
  }
  CHECK(thrown);
  CHECK(h.GetEntries() == 0.);
  nutag::fill_histogram(h, RVecD{}, 2.);  // an empty collection fills nothing
  CHECK(h.GetEntries() == 0.);
  nutag::fill_histogram(h, RVecD{1.5, 2.5}, 2.);  // one weight for every element
  CHECK_CLOSE(h.GetBinContent(h.FindBin(1.5)), 2., 0.);
  CHECK_CLOSE(h.GetBinContent(h.FindBin(2.5)), 2., 0.);
  nutag::fill_histogram(h, 4.5, 3.);  // a scalar: once
  CHECK_CLOSE(h.GetBinContent(h.FindBin(4.5)), 3., 0.);
  CHECK(h.GetEntries() == 3.);
}

}  // namespace

int main() {
  compare_with_histo_actions(1);
  compare_with_histo_actions(2);
  collections_of_different_sizes_are_an_error();
  return nutag_test::report("test_rdf_fused_action");
}
