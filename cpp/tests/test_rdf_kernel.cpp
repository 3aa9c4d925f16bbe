// The shared part of a fused selection's kernel (nutag/rdf/kernel/): a kernel reading its inputs
// straight from a chain of RNTuple files sees, entry by entry, the values RDataFrame's own
// column readers give, across file boundaries, on one thread and on two, reads an input only
// on its first use in the event, and refuses (before the event loop) a file it cannot read;
// the records fed by RDataFrame and the region filters give the numbers of the plain graph.
#include "nutag/rdf/kernel/direct_read.hpp"
#include "nutag/rdf/kernel/records.hpp"

#include <ROOT/RDataFrame.hxx>
#include <ROOT/RNTupleModel.hxx>
#include <ROOT/RNTupleWriter.hxx>
#include <ROOT/RVec.hxx>
#include <TROOT.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "check.hpp"

namespace {

using ROOT::RVecF;

double x_of(std::uint64_t i) { return static_cast<double>((i * 7919U) % 1000U) / 100.; }
int n_of(std::uint64_t i) { return static_cast<int>(i % 5U); }

/// ``entries`` events whose values are those of global entries ``first``, ``first + 1``, ...
void write_file(const std::string& path, std::uint64_t first, std::uint64_t entries) {
  auto model = ROOT::RNTupleModel::Create();
  auto x = model->MakeField<double>("x");
  auto n = model->MakeField<int>("n");
  auto v = model->MakeField<RVecF>("v");
  auto writer = ROOT::RNTupleWriter::Recreate(std::move(model), "events", path);
  for (std::uint64_t i = first; i < first + entries; ++i) {
    *x = x_of(i);
    *n = n_of(i);
    v->assign(static_cast<std::size_t>(n_of(i)), static_cast<float>(x_of(i)));
    writer->Fill();
  }
}

/// What the generated code writes for a selection reading x, n and v.
struct Inputs {
  std::unique_ptr<ROOT::RNTupleReader> reader;
  nutag::DirectField<double> f_x;
  nutag::DirectField<int> f_n;
  nutag::DirectField<RVecF> f_v;
  explicit Inputs(std::unique_ptr<ROOT::RNTupleReader> r)
      : reader(std::move(r)), f_x(*reader, "x"), f_n(*reader, "n"), f_v(*reader, "v") {}
};

/// Rows: 0 (all), 1 "n > 1", 2 "n > 1 && sum(v) > 10" (v is read only for events passing 1).
struct Event {
  static constexpr std::size_t kRows = 3;
  bool pass[kRows] = {};
  std::uint64_t gen = 0;
  nutag::DirectCursor<Inputs> direct;
  nutag::EventInput<double> in_x;
  nutag::EventInput<int> in_n;
  nutag::EventInput<RVecF> in_v;
  std::uint64_t reads_of_v = 0;  // the events on which the kernel asked for v
  double& i_x() { return direct.get(in_x, &Inputs::f_x, gen); }
  double w = 0.;  // a compiled column: 2 x
  double& i_w() { return w = 2. * i_x(); }
  int& i_n() { return direct.get(in_n, &Inputs::f_n, gen); }
  RVecF& i_v() {
    ++reads_of_v;
    return direct.get(in_v, &Inputs::f_v, gen);
  }
};

void rows(Event& e) {
  e.pass[0] = true;
  e.pass[1] = e.pass[0] && e.i_n() > 1;
  e.pass[2] = e.pass[1] && ROOT::VecOps::Sum(e.i_v()) > 10.f;
}

void kernel(Event& e, double& x, int& n, RVecF& v) {
  const std::uint64_t g = ++e.gen;
  e.in_x.set(&x, g);
  e.in_n.set(&n, g);
  e.in_v.set(&v, g);
  rows(e);
}

struct Files {
  std::filesystem::path dir;
  std::vector<std::string> chain;      // a, b: entries [0, 700) and [700, 1900)
  std::string empty, bad;              // no entries; x alone (no n, no v)
  Files() {
    dir = std::filesystem::temp_directory_path() /
          ("nutag_test_rdf_kernel_" + std::to_string(static_cast<long>(::getpid())));
    std::filesystem::create_directories(dir);
    chain = {(dir / "a.root").string(), (dir / "b.root").string()};
    write_file(chain[0], 0, 700);
    write_file(chain[1], 700, 1200);
    empty = (dir / "empty.root").string();
    write_file(empty, 700, 0);
    bad = (dir / "bad.root").string();
    auto model = ROOT::RNTupleModel::Create();
    auto x = model->MakeField<double>("x");
    auto writer = ROOT::RNTupleWriter::Recreate(std::move(model), "events", bad);
    *x = 1.;
    writer->Fill();
  }
  Files(const Files&) = delete;
  Files& operator=(const Files&) = delete;
  ~Files() { std::filesystem::remove_all(dir); }
};

/// A cursor walks a chain (with an empty file inside it) forwards, backwards and across
/// files, reading each input of an entry once per event; the first file's reader, opened by
/// the probe, goes to the first cursor reading that file.
void cursor_reads_the_chain(const Files& files) {
  auto chain = nutag::DirectChain<Inputs>::probe("events", {files.chain[0], files.empty,
                                                             files.chain[1]});
  CHECK((chain->begins == std::vector<std::uint64_t>{0, 700, 700, 1900}));
  CHECK(chain->spare.load() != nullptr);
  Event e;
  std::vector<std::uint64_t> entries;
  for (std::uint64_t i = 0; i < 1900; i += 7) entries.push_back(i);
  for (int i = 1899; i >= 0; i -= 113) entries.push_back(static_cast<std::uint64_t>(i));
  entries.push_back(699);
  entries.push_back(700);
  entries.push_back(0);
  bool spare_taken = false;
  for (const std::uint64_t i : entries) {
    ++e.gen;
    e.direct.seek(i, *chain);
    spare_taken = spare_taken || chain->spare.load() == nullptr;
    CHECK(e.direct.file == (i < 700 ? 0U : 2U));
    CHECK(e.direct.local == (i < 700 ? i : i - 700));
    CHECK(e.i_x() == x_of(i));
    CHECK(e.i_n() == n_of(i));
    const double* kept = &e.i_x();
    CHECK(&e.i_x() == kept && e.in_x.gen == e.gen);  // read once in the event, then kept
    CHECK(e.i_v().size() == static_cast<std::size_t>(n_of(i)));
  }
  CHECK(spare_taken);
}

/// A file that is not an RNTuple holding the inputs with their types fails in the probe, on
/// the calling thread, before any event is read.
void unreadable_files_throw(const Files& files) {
  for (const auto& [ntuple, file] : {std::pair<std::string, std::string>{"events", files.bad},
                                     {"other", files.chain[0]},
                                     {"events", (files.dir / "missing.root").string()}}) {
    bool thrown = false;
    try {
      nutag::DirectChain<Inputs>::probe(ntuple, {files.chain[0], file});
    } catch (const std::exception&) {
      thrown = true;
    }
    CHECK(thrown);
  }
}

/// The records read directly and fed by RDataFrame, and the region filters on them, give
/// what RDataFrame's own Filters on the columns give; the direct kernel reads v only for the
/// events passing row 1.
void records_equal_the_plain_graph(const Files& files, unsigned int threads) {
  if (threads > 1) ROOT::EnableImplicitMT(threads);
  ROOT::RDataFrame df("events", files.chain);
  ROOT::RDF::RNode node(df);
  auto direct = nutag::define_kernel_records_direct<Inputs, Event, &rows>(node, "ev", "events",
                                                                         files.chain);
  auto fed = nutag::define_kernel_records<&kernel>(node, "ev", {"x", "n", "v"});
  auto plain1 = node.Filter([](int n) { return n > 1; }, {"n"});
  auto plain2 = plain1.Filter([](const RVecF& v) { return ROOT::VecOps::Sum(v) > 10.f; }, {"v"});
  auto direct2 = nutag::kernel_region<Event>(direct, "ev", 2, "region");
  auto fed2 = nutag::kernel_region<Event>(fed, "ev", 2, "region");
  auto n_plain = plain2.Count();
  auto n_plain1 = plain1.Count();
  auto sum_plain = plain2.Sum<double>("x");
  auto n_direct = direct2.Count();
  auto n_fed = fed2.Count();
  auto n_direct1 = nutag::kernel_region<Event>(direct, "ev", 1, "row1").Count();
  auto sum_direct = direct2.Define("x_ev", nutag::record_column(&Event::i_x), {"ev"})
                        .Sum<double>("x_ev");
  auto sum_fed = fed2.Define("x_ev", nutag::record_column(&Event::i_x), {"ev"})
                     .Define("w_ev", nutag::record_column(&Event::i_w), {"ev"})
                     .Sum<double>("w_ev");
  auto reads = direct.Define("reads", [](Event*& e) { return e->reads_of_v; }, {"ev"})
                   .Max<std::uint64_t>("reads");
  auto all = direct.Count();
  CHECK(*all == 1900);
  CHECK(*n_plain > 0 && *n_plain < *n_plain1);
  CHECK(*n_direct == *n_plain && *n_fed == *n_plain && *n_direct1 == *n_plain1);
  CHECK_CLOSE(*sum_direct, *sum_plain, 1e-9 * *sum_plain);
  CHECK_CLOSE(*sum_fed, 2. * *sum_plain, 1e-9 * *sum_plain);  // w = 2 x, a second column
  CHECK(*reads <= *n_plain1);  // v asked for once per event passing row 1, never otherwise
  CHECK(df.GetNRuns() == 1);
  if (threads > 1) ROOT::DisableImplicitMT();
}

// Columns of one value type share one Define callable type (one RDefine instantiation).
static_assert(std::is_same_v<decltype(nutag::record_column(&Event::i_x)),
                             decltype(nutag::record_column(&Event::i_w))>);
static_assert(std::is_same_v<decltype(nutag::record_column(&Event::i_x)(
                                 std::declval<Event*&>())), double>);

}  // namespace

int main() {
  const Files files;
  cursor_reads_the_chain(files);
  unreadable_files_throw(files);
  records_equal_the_plain_graph(files, 1);
  records_equal_the_plain_graph(files, 2);
  return nutag_test::report("test_rdf_kernel");
}
