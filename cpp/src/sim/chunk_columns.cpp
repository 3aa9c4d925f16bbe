// Compiled column definitions of a simulation chunk (nutag/sim/rdf/chunk_columns.hpp).
#include "nutag/sim/rdf/chunk_columns.hpp"

#include <stdexcept>
#include <unordered_map>

#include "nutag/sim/event.hpp"
#include "nutag/sim/generator.hpp"

// Every member of nutag::sim::Event (cpp/include/nutag/sim/event.hpp), in its order. A member
// missing here is still written (the Python driver JIT-compiles `ev_.<member>` for it), only
// more slowly; tests/test_simulate.py checks that the ntuple schema is covered.
#define NUTAG_SIM_EVENT_MEMBERS(X)                                                             \
  X(event_id) X(trigger_nu) X(trigger_control) X(trigger_time)                                 \
  X(ktag_time) X(ktag_sectors) X(gtk_time) X(gtk_x) X(gtk_y) X(gtk_px) X(gtk_py) X(gtk_pz)     \
  X(straw_n) X(straw_charge) X(straw_x) X(straw_y) X(straw_px) X(straw_py) X(straw_pz)         \
  X(straw_chod_time) X(straw_rich_time) X(straw_rich_mass)                                     \
  X(chod_n)                                                                                    \
  X(lkr_n) X(lkr_x) X(lkr_y) X(lkr_e) X(lkr_time)                                              \
  X(muv1_x) X(muv1_y) X(muv1_e) X(muv2_x) X(muv2_y) X(muv2_e)                                  \
  X(muv3_n) X(muv3_tile) X(muv3_x) X(muv3_y) X(muv3_time)                                      \
  X(lav_n_intime) X(sav_n_intime)                                                              \
  X(weight) X(true_process) X(true_category) X(true_decay_z) X(true_p_kaon) X(true_p_muon)     \
  X(true_e_nu) X(true_nu_int) X(true_int_z) X(true_y) X(true_x_bj)

namespace nutag::sim {
namespace {

using Definer = ROOT::RDF::RNode (*)(ROOT::RDF::RNode, const std::string&, const std::string&);

// One compiled Define per member: the column is a copy of the member, as `ev_.<member>` is.
#define NUTAG_SIM_DEFINER(member)                                                              \
  {#member, [](ROOT::RDF::RNode df, const std::string& name,                                   \
               const std::string& ev) -> ROOT::RDF::RNode {                                    \
     return df.Define(name, [](const Event& e) { return e.member; }, {ev});                    \
   }},

const std::unordered_map<std::string, Definer>& definers() {
  static const std::unordered_map<std::string, Definer> table{
      NUTAG_SIM_EVENT_MEMBERS(NUTAG_SIM_DEFINER)};
  return table;
}

#undef NUTAG_SIM_DEFINER

}  // namespace

ROOT::RDF::RNode generated_events(ULong64_t n, const SimConfig& cfg, int stream, ULong64_t seed,
                                  ULong64_t first) {
  return ROOT::RDataFrame(n)
      .Define("entry_", [first](ULong64_t rdfentry) { return rdfentry + first; }, {"rdfentry_"})
      .Define("ev_",
              [cfg, stream, seed](ULong64_t entry) {
                return generate_event(cfg, stream, seed, entry);
              },
              {"entry_"});
}

std::vector<std::string> event_member_names() {
#define NUTAG_SIM_NAME(member) #member,
  return {NUTAG_SIM_EVENT_MEMBERS(NUTAG_SIM_NAME)};
#undef NUTAG_SIM_NAME
}

ROOT::RDF::RNode define_event_members(ROOT::RDF::RNode df, const std::vector<std::string>& names,
                                      const std::vector<std::string>& members,
                                      const std::string& event_column) {
  if (names.size() != members.size()) {
    throw std::invalid_argument("define_event_members: names and members differ in length");
  }
  const auto& table = definers();
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto it = table.find(members[i]);
    if (it == table.end()) {
      throw std::invalid_argument("define_event_members: no compiled column for Event member '" +
                                  members[i] + "' (cpp/src/sim/chunk_columns.cpp)");
    }
    df = it->second(df, names[i], event_column);
  }
  return df;
}

}  // namespace nutag::sim
