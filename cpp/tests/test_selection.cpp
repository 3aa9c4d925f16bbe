// Tests of nutag/selection.hpp on hand-made events (expected values worked out in comments).
// Standalone: returns non-zero if any check fails; assert() is kept alive by -UNDEBUG.
#include <cassert>
#include <cmath>
#include <cstdio>

#include "nutag/selection.hpp"
#include "check.hpp"


using nutag::RVecD;
using nutag::RVecI;

static void test_single_positive_track() {
  CHECK(nutag::single_positive_track(RVecI{}) == -1);
  CHECK(nutag::single_positive_track(RVecI{-1, 1}) == 1);   // one positive, one negative
  CHECK(nutag::single_positive_track(RVecI{1, -1, 1}) == -1);  // two positives: K3pi-like
  CHECK(nutag::single_positive_track(RVecI{-1}) == -1);
}

static void test_track_helpers() {
  const RVecD px{0.0, 3.0}, py{0.0, 0.0}, pz{10.0, 4.0};
  CHECK_CLOSE(nutag::track_p(px, py, pz, 1), 5.0, 1e-12);  // 3-4-5
  CHECK_CLOSE(nutag::track_p(px, py, pz, 2), -1.0, 0.0);
  CHECK_CLOSE(nutag::track_p(px, py, pz, -1), -1.0, 0.0);
  CHECK_CLOSE(nutag::track_momentum(px, py, pz, -1).Z(), 1.0, 0.0);
  CHECK_CLOSE(nutag::at_or(px, 1, -7.0), 3.0, 0.0);
  CHECK_CLOSE(nutag::at_or(px, 5, -7.0), -7.0, 0.0);

  // A 10 GeV/c positive track along z at (x, y) = (100, 50) in STRAW1. Upstream of the magnet
  // it stays at (100, 50). Downstream: kick -0.270 GeV/c in x at z = 196995 mm; the new
  // direction is (-0.27, 0, sqrt(100 - 0.0729)) so at the LKr (dz = 241093 - 196995 = 44098 mm)
  // x = 100 - 0.27/sqrt(99.9271) * 44098 = 100 - 1191.08 = -1091.08 mm, y = 50.
  const RVecD x{100.0}, y{50.0}, tpx{0.0}, tpy{0.0}, tpz{10.0};
  const RVecI q{1};
  const nutag::Point up = nutag::track_at_z(x, y, tpx, tpy, tpz, q, 0, 190000.0);
  CHECK_CLOSE(up.X(), 100.0, 1e-9);
  CHECK_CLOSE(up.Y(), 50.0, 1e-9);
  const nutag::Point lkr = nutag::track_at_z(x, y, tpx, tpy, tpz, q, 0, nutag::kZLkrFront_mm);
  const double expected_x = 100.0 - 0.27 / std::sqrt(100.0 - 0.0729) * 44098.0;
  CHECK_CLOSE(lkr.X(), expected_x, 1e-6);
  CHECK_CLOSE(lkr.Y(), 50.0, 1e-9);
  CHECK_CLOSE(lkr.Z(), nutag::kZLkrFront_mm, 0.0);
  // Invalid index -> far away; a 0.2 GeV/c track curls in the magnet -> far away, no throw.
  CHECK(nutag::track_at_z(x, y, tpx, tpy, tpz, q, 3, nutag::kZLkrFront_mm).X() > 1e8);
  const RVecD soft{0.2};
  CHECK(nutag::track_at_z(x, y, tpx, tpy, soft, q, 0, nutag::kZLkrFront_mm).X() > 1e8);
  // track_line of an invalid index still has a usable direction for closest_approach.
  CHECK_CLOSE(nutag::track_line(x, y, tpx, tpy, tpz, -1).direction.Z(), 1.0, 0.0);
}

static void test_on_muv3_tile() {
  CHECK(nutag::on_muv3_tile(500.0, 500.0));
  CHECK(!nutag::on_muv3_tile(0.0, 50.0));     // the R < 103 mm hole
  CHECK(!nutag::on_muv3_tile(1400.0, 0.0));   // outside the 2640 mm wall
  CHECK(nutag::on_muv3_tile(-110.0, 165.0));  // an inner tile
}

static void test_nearest_in_time() {
  // Clusters at distances 30, 10 (out of time), 20, 20 from (0, 0).
  const RVecD xs{30.0, 10.0, 0.0, -20.0}, ys{0.0, 0.0, 20.0, 0.0};
  const RVecD ts{0.5, 9.0, -0.5, 0.1};
  // In time (|dt| < 3): 0, 2, 3; nearest 2 and 3 tie at 20 -> lower index 2.
  CHECK(nutag::nearest_in_time(xs, ys, ts, 0.0, 0.0, 50.0, 0.0, 3.0) == 2);
  // Window 15 mm: nothing.
  CHECK(nutag::nearest_in_time(xs, ys, ts, 0.0, 0.0, 15.0, 0.0, 3.0) == -1);
  // Wide time window: cluster 1 (10 mm) wins.
  CHECK(nutag::nearest_in_time(xs, ys, ts, 0.0, 0.0, 50.0, 0.0, 10.0) == 1);
}

static void test_muv3_muon_hit() {
  // Half-width 110 + 3*530/p: p = 10 -> 269 mm; p = 53 -> 140 mm.
  CHECK_CLOSE(nutag::muv3_search_halfwidth(10.0), 269.0, 1e-12);
  CHECK_CLOSE(nutag::muv3_search_halfwidth(53.0), 140.0, 1e-12);
  CHECK_CLOSE(nutag::muv3_search_halfwidth(0.0), 110.0, 1e-12);
  const RVecD hx{-550.0, 250.0, 0.0}, hy{550.0, 0.0, 120.0}, ht{0.0, 0.3, 5.0};
  // Muon at (0, 0): hit 2 (120 mm) is out of time (5 ns > 2 ns); hit 1 at 250 mm is within
  // 269 mm for p = 10 but outside 140 mm for p = 53.
  CHECK(nutag::muv3_muon_hit(hx, hy, ht, 0.0, 0.0, 10.0, 0.0, 2.0) == 1);
  CHECK(nutag::muv3_muon_hit(hx, hy, ht, 0.0, 0.0, 53.0, 0.0, 2.0) == -1);
  CHECK(nutag::muv3_muon_hit(hx, hy, ht, 0.0, 0.0, 53.0, 0.0, 6.0) == 2);
}

static void test_neutrino_deposits() {
  const RVecD e{30.0, 12.5, 40.0, 3.0}, t{0.0, 0.4, 7.0, -0.2};
  // Exclude the mu+ cluster 0; cluster 2 (40 GeV) is out of time -> cluster 1.
  CHECK(nutag::leading_other_in_time(e, t, 0, 0.0, 3.0, 1.0) == 1);
  // Threshold 13 GeV: only cluster 0 qualifies and it is excluded.
  CHECK(nutag::leading_other_in_time(e, t, 0, 0.0, 3.0, 13.0) == -1);
  // Nothing excluded: cluster 0.
  CHECK(nutag::leading_other_in_time(e, t, -1, 0.0, 3.0, 1.0) == 0);

  const RVecD mt{0.1, -0.6, 0.3, 4.0};
  // Exclude hit 0 (mu+): |dt| 0.6, 0.3, 4.0 -> hit 2.
  CHECK(nutag::closest_in_time_other(mt, 0, 0.0, 2.0) == 2);
  CHECK(nutag::closest_in_time_other(RVecD{0.1}, 0, 0.0, 2.0) == -1);

  // MUV1 clusters: at 100 mm and 400 mm from the shower (0, 0), and one at the mu+ (1000, 0),
  // 50 mm from the mu+ extrapolation (1050, 0). Radius 300 -> only the first: 13.75.
  const RVecD mx{100.0, 400.0, 1000.0}, my{0.0, 0.0, 0.0}, me{13.75, 2.0, 1.4};
  CHECK_CLOSE(nutag::energy_near(mx, my, me, 0.0, 0.0, 300.0, 1050.0, 0.0, 100.0), 13.75, 1e-12);
  // Radius 1200 includes 400 mm but still vetoes the mu+ MIP cluster.
  CHECK_CLOSE(nutag::energy_near(mx, my, me, 0.0, 0.0, 1200.0, 1050.0, 0.0, 100.0), 15.75,
              1e-12);
  CHECK_CLOSE(nutag::energy_in_time(e, t, 0.0, 3.0), 45.5, 1e-12);  // 30 + 12.5 + 3
}

static void test_distance_to_line() {
  // The published candidate's d_LKr = 31.4 mm: a line along z through (300, 100) and a cluster
  // at (300 + 31.4 cos 1, 100 + 31.4 sin 1).
  const nutag::Line nu{nutag::Point(300.0, 100.0, 161200.0), nutag::Vector(0.0, 0.0, 1.0)};
  const RVecD xs{300.0 + 31.4 * std::cos(1.0)}, ys{100.0 + 31.4 * std::sin(1.0)};
  CHECK_CLOSE(nutag::distance_to_line(nu, xs, ys, 0, nutag::kZLkrFront_mm), 31.4, 1e-9);
  CHECK_CLOSE(nutag::distance_to_line(nu, xs, ys, -1, nutag::kZLkrFront_mm), -1.0, 0.0);
}

static void test_trigger_pair() {
  // Outer tiles: id 0 at (-1210, -1210) [quadrant 2], id 143 at (1210, 1210) [quadrant 0],
  // id 11 at (1210, -1210) [quadrant 3]. Inner tile 144 at (-110, -165).
  auto tx = [](int id) { return nutag::muv3_tile_x(id); };
  auto ty = [](int id) { return nutag::muv3_tile_y(id); };
  const RVecI tiles{0, 143};
  const RVecD x{tx(0), tx(143)}, y{ty(0), ty(143)};
  CHECK(nutag::muv3_opposite_pair(tiles, x, y, RVecD{0.0, 1.5}, 0.0, 6.25, 2.0));
  // |dt| = 2.5 ns > 2 ns between them.
  CHECK(!nutag::muv3_opposite_pair(tiles, x, y, RVecD{-1.0, 1.5}, 0.0, 6.25, 2.0));
  // One of them outside +-6.25 ns of the trigger.
  CHECK(!nutag::muv3_opposite_pair(tiles, x, y, RVecD{6.0, 7.0}, 0.0, 6.25, 2.0));
  // Adjacent quadrants (2 and 3) do not fire.
  const RVecI adj{0, 11};
  CHECK(!nutag::muv3_opposite_pair(adj, RVecD{tx(0), tx(11)}, RVecD{ty(0), ty(11)},
                                   RVecD{0.0, 0.0}, 0.0, 6.25, 2.0));
  // An inner tile does not count even in the opposite quadrant (inner 151 is at (+110, +165)).
  const RVecI inner{0, 151};
  CHECK(!nutag::muv3_opposite_pair(inner, RVecD{tx(0), tx(151)}, RVecD{ty(0), ty(151)},
                                   RVecD{0.0, 0.0}, 0.0, 6.25, 2.0));
  // Three hits: the pair is found among them regardless of order.
  const RVecI three{11, 143, 0};
  CHECK(nutag::muv3_opposite_pair(three, RVecD{tx(11), tx(143), tx(0)},
                                  RVecD{ty(11), ty(143), ty(0)}, RVecD{0.0, 0.5, 0.0}, 0.0, 6.25,
                                  2.0));
}

int main() {
  test_single_positive_track();
  test_track_helpers();
  test_on_muv3_tile();
  test_nearest_in_time();
  test_muv3_muon_hit();
  test_neutrino_deposits();
  test_distance_to_line();
  test_trigger_pair();
  return nutag_test::report("test_selection");
}
