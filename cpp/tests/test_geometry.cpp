// Tests of nutag/geometry.hpp against hand calculations (arithmetic in the comments).
// Standalone: returns non-zero if any check fails; assert() is kept alive by -UNDEBUG.
#include <cassert>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "nutag/geometry.hpp"
#include "check.hpp"

namespace {
constexpr double kPi = 3.14159265358979323846;
}  // namespace

using nutag::Line;
using nutag::Point;
using nutag::Vector;

static void test_extrapolation() {
  // (1,2,100) + t (0.5,-0.25,10); z = 300 -> t = 20 -> (1 + 10, 2 - 5, 300) = (11, -3, 300).
  const Line l{Point(1, 2, 100), Vector(0.5, -0.25, 10)};
  const Point p = nutag::extrapolate_to_z(l, 300.0);
  CHECK_CLOSE(p.X(), 11.0, 1e-12);
  CHECK_CLOSE(p.Y(), -3.0, 1e-12);
  CHECK_CLOSE(p.Z(), 300.0, 0.0);
  CHECK_THROWS(nutag::extrapolate_to_z(Line{Point(0, 0, 0), Vector(1, 0, 0)}, 5.0),
               std::domain_error);

  // Beam axis at the LKr front plane: x = 1.2e-3 * (241093 - 102400) = 1.2e-3 * 138693
  // = 166.4316 mm, y = 0.
  const Point b = nutag::extrapolate_to_z(nutag::beam_axis(), nutag::kZLkrFront_mm);
  CHECK_CLOSE(b.X(), 166.4316, 1e-9);
  CHECK_CLOSE(b.Y(), 0.0, 0.0);
  const Point g = nutag::extrapolate_to_z(nutag::beam_axis(), nutag::kZGtk3_mm);
  CHECK_CLOSE(g.X(), 0.0, 0.0);
}

static void test_transverse_distance_and_azimuth() {
  // Line (0,0,0) + t (0.003, 0.004, 1): crosses z = 1000 at (3, 4).
  const Line l{Point(0, 0, 0), Vector(0.003, 0.004, 1)};
  CHECK_CLOSE(nutag::transverse_distance(l, 6, 8, 1000), 5.0, 1e-12);  // offset (3,4)
  CHECK_CLOSE(nutag::transverse_distance(l, 0, 0, 1000), 5.0, 1e-12);  // offset (-3,-4)
  CHECK_CLOSE(nutag::transverse_distance(l, 3, 4, 1000), 0.0, 1e-12);
  // Offset (1,1) -> pi/4; offset (-1, 0) -> pi; offset (0,-2) -> -pi/2.
  CHECK_CLOSE(nutag::offset_azimuth(l, 4, 5, 1000), kPi / 4, 1e-12);
  CHECK_CLOSE(nutag::offset_azimuth(l, 2, 4, 1000), kPi, 1e-12);
  CHECK_CLOSE(nutag::offset_azimuth(l, 3, 2, 1000), -kPi / 2, 1e-12);
  // (-pi, pi]: offset (-1, -0.0) would be atan2(-0, -1) = -pi; must come back as +pi.
  const Line zaxis{Point(0, 0, 0), Vector(0, 0, 1)};
  CHECK_CLOSE(nutag::offset_azimuth(zaxis, -1.0, -0.0, 10.0), kPi, 0.0);

  // Opposite offsets in two different planes: neutrino line (0,0,0) + t (0.001, 0, 1).
  // LKr z = 241000: crossing x = 241; hit offset (+20, +25) -> (261, 25).
  // MUV3 z = 246800: crossing x = 246.8; hit offset (-400, -500) -> (-153.2, -500).
  // phi_a = atan2(25, 20), phi_b = atan2(-500, -400) = phi_a - pi -> wrapped: pi.
  const Line nu{Point(0, 0, 0), Vector(0.001, 0, 1)};
  CHECK_CLOSE(nutag::azimuth_between(nu, 261, 25, 241000, -153.2, -500, 246800), kPi, 1e-9);
  CHECK_CLOSE(nutag::transverse_distance(nu, 261, 25, 241000), std::hypot(20.0, 25.0), 1e-9);
  CHECK_CLOSE(nutag::transverse_distance(nu, -153.2, -500, 246800), std::hypot(400.0, 500.0),
              1e-9);

  // Wrapping around z axis: a at -3 rad, b at +3 rad: phi_b - phi_a = 6 (already in [0, 2pi)).
  const double r = 10.0;
  const double ax = r * std::cos(-3.0), ay = r * std::sin(-3.0);
  const double bx = r * std::cos(3.0), by = r * std::sin(3.0);
  CHECK_CLOSE(nutag::azimuth_between(zaxis, ax, ay, 1, bx, by, 2), 6.0, 1e-12);
  // Reversed: -6 -> -6 + 2 pi = 0.283185307.
  CHECK_CLOSE(nutag::azimuth_between(zaxis, bx, by, 1, ax, ay, 2), 2 * kPi - 6.0, 1e-12);
  // a at 0.5, b at 0.2: -0.3 -> 2 pi - 0.3 = 5.983185307.
  CHECK_CLOSE(nutag::azimuth_between(zaxis, std::cos(0.5), std::sin(0.5), 1, std::cos(0.2),
                                     std::sin(0.2), 1),
              2 * kPi - 0.3, 1e-12);
  // Same direction -> 0 (never 2 pi).
  const double same = nutag::azimuth_between(zaxis, 1, 1, 1, 2, 2, 3);
  CHECK(same >= 0.0 && same < 2 * kPi);
  CHECK_CLOSE(same, 0.0, 1e-12);
}

static void test_magnet() {
  // p = (0,0,10), charge +1: kick towards -x (kMagnetKickSign = -1): p_x = -0.27,
  // p_z = sqrt(100 - 0.27^2) = sqrt(99.9271) = 9.996354335, |p| = 10.
  const Vector p0(0, 0, 10);
  const Vector p1 = nutag::momentum_after_magnet(p0, +1);
  CHECK_CLOSE(p1.X(), -0.27, 1e-15);
  CHECK_CLOSE(p1.Y(), 0.0, 0.0);
  CHECK_CLOSE(p1.Z(), 9.996354335456502, 1e-12);
  CHECK_CLOSE(p1.R(), 10.0, 1e-12);
  const Vector pm = nutag::momentum_after_magnet(p0, -1);  // negative charge -> +x
  CHECK_CLOSE(pm.X(), +0.27, 1e-15);
  const Vector pn = nutag::momentum_after_magnet(p0, 0);   // neutral: untouched
  CHECK_CLOSE(pn.X(), 0.0, 0.0);
  CHECK_CLOSE(pn.Z(), 10.0, 0.0);
  // Tilted track (0.5, 0.1, 20): p_x -> 0.23, p_y kept, p_z = sqrt(0.25 + 400 - 0.0529)
  // = sqrt(400.1971) = 20.004926893; |p| = sqrt(400.26) kept.
  const Vector pt(0.5, 0.1, 20.0);
  const Vector pt1 = nutag::momentum_after_magnet(pt, +1);
  CHECK_CLOSE(pt1.X(), 0.23, 1e-15);
  CHECK_CLOSE(pt1.Y(), 0.1, 0.0);
  CHECK_CLOSE(pt1.Z(), 20.004926893143097, 1e-12);
  CHECK_CLOSE(pt1.R(), pt.R(), 1e-12);
  CHECK_THROWS(nutag::momentum_after_magnet(Vector(0, 0, -5), 1), std::domain_error);
  CHECK_THROWS(nutag::momentum_after_magnet(Vector(0, 0, 0.1), 1), std::domain_error);

  // Track along the z axis from STRAW 1, p = 10 GeV/c, charge +1: kinked at z = 196995.
  // At STRAW 4 (218885): x = -0.27 / 9.996354335 * (218885 - 196995) = -0.0270098 * 21890
  // = -591.2455 mm.
  const Line up{Point(0, 0, nutag::kZStraw1_mm), Vector(0, 0, 1)};
  const Line down = nutag::track_after_magnet(up, p0, +1);
  CHECK_CLOSE(down.origin.Z(), nutag::kZMagnetCentre_mm, 0.0);
  CHECK_CLOSE(down.origin.X(), 0.0, 0.0);
  const Point s4 = nutag::track_position_at_z(up, p0, +1, nutag::kZStraw4_mm);
  CHECK_CLOSE(s4.X(), -591.2455482931914, 1e-6);
  CHECK_CLOSE(s4.Y(), 0.0, 0.0);
  const Point s2 = nutag::track_position_at_z(up, p0, +1, nutag::kZStraw2_mm);  // upstream
  CHECK_CLOSE(s2.X(), 0.0, 0.0);

  // Consistency of the kick sign with the STRAW beam holes: the nominal 75 GeV/c beam along
  // the beam axis passes x = 97.3, 110.0 (upstream, 1.2e-3 * (z - 102400)) and, after
  // -0.27/75 = -3.6 mrad, 95.6, 61.0 mm in STRAW 3/4: inside every hole (|dx| < 63.8).
  const Line beam = nutag::beam_axis();
  const Vector pbeam = 75.0 * beam.direction.Unit();
  const double expected_x[] = {97.3296, 109.9992, 95.6003, 60.9778};
  for (int i = 0; i < 4; ++i) {
    const Point q = nutag::track_position_at_z(beam, pbeam, +1, nutag::straw_z(i));
    CHECK_CLOSE(q.X(), expected_x[i], 1e-3);
    CHECK(!nutag::in_straw_acceptance(i, q.X(), q.Y()));
    CHECK(nutag::in_straw_acceptance(i, q.X() + 300.0, q.Y()));
  }
}

static void test_acceptances() {
  // LKr octagon, apothem a = 1130: flat sides |x|, |y| < 1130; diagonal sides
  // |x| + |y| < 1130 sqrt(2) = 1598.06; vertices at (1130, 1130 (sqrt2 - 1)) = (1130, 468.06).
  CHECK(nutag::in_lkr_acceptance(1129, 0));
  CHECK(!nutag::in_lkr_acceptance(1131, 0));
  CHECK(nutag::in_lkr_acceptance(0, -1129));
  CHECK(!nutag::in_lkr_acceptance(0, -1131));
  CHECK(nutag::in_lkr_acceptance(1129, 467));     // near a vertex: 1596 < 1598.06
  CHECK(!nutag::in_lkr_acceptance(1129, 470));    // 1599 > 1598.06
  CHECK(nutag::in_lkr_acceptance(-798, 798));     // diagonal edge midpoint (799.03, 799.03)
  CHECK(!nutag::in_lkr_acceptance(-800, 800));
  CHECK(!nutag::in_lkr_acceptance(1000, 600));    // inside the square, outside the octagon
  CHECK(!nutag::in_lkr_acceptance(149, 0));       // beam hole R < 150
  CHECK(nutag::in_lkr_acceptance(151, 0));
  CHECK(!nutag::in_lkr_acceptance(106, 106));     // R = 149.9
  CHECK(nutag::in_lkr_acceptance(107, 107));      // R = 151.3
  // The published candidate's cluster 334.9 mm from the z axis is inside.
  CHECK(nutag::in_lkr_acceptance(334.9, 0));

  // MUV1/2: |x|,|y| < 1100, R > 130.
  CHECK(nutag::in_muv12_acceptance(1099, 1099));
  CHECK(!nutag::in_muv12_acceptance(1101, 0));
  CHECK(!nutag::in_muv12_acceptance(0, -1101));
  CHECK(!nutag::in_muv12_acceptance(129, 0));
  CHECK(nutag::in_muv12_acceptance(131, 0));

  // STRAW: R < 1000 and >= 63.8 from the hole centre (101.2, 114.4, 92.4, 52.8 mm in x).
  CHECK_CLOSE(nutag::straw_hole_centre_x(0), 101.2, 0.0);
  CHECK_CLOSE(nutag::straw_hole_centre_x(3), 52.8, 0.0);
  CHECK_CLOSE(nutag::straw_z(2), nutag::kZStraw3_mm, 0.0);
  CHECK(!nutag::in_straw_acceptance(0, 101.2 + 63.7, 0));
  CHECK(nutag::in_straw_acceptance(0, 101.2 + 63.9, 0));
  CHECK(!nutag::in_straw_acceptance(1, 114.4, 63.7));
  CHECK(nutag::in_straw_acceptance(1, 114.4, 63.9));
  CHECK(!nutag::in_straw_acceptance(3, 0, 0));     // 52.8 from the hole centre < 63.8
  CHECK(nutag::in_straw_acceptance(0, 0, 0));      // 101.2 from the hole centre
  CHECK(nutag::in_straw_acceptance(2, 0, 999));
  CHECK(!nutag::in_straw_acceptance(2, 0, 1001));
  CHECK(nutag::in_straw_acceptance(2, -706, 706));  // R = 998.4
  CHECK(!nutag::in_straw_acceptance(2, -708, 708)); // R = 1001.3
  CHECK_THROWS(nutag::in_straw_acceptance(4, 0, 500), std::out_of_range);
  CHECK_THROWS(nutag::in_straw_acceptance(-1, 0, 500), std::out_of_range);
}

static void test_muv3() {
  // Outer grid: col = floor((x + 1320) / 220), row = floor((y + 1320) / 220), id = 12 row + col.
  CHECK_EQ(nutag::muv3_tile(-1319, -1319), 0);
  CHECK_EQ(nutag::muv3_tile(1319, 1319), 143);
  CHECK_EQ(nutag::muv3_tile(1319, -1319), 11);
  CHECK_EQ(nutag::muv3_tile(-1319, 1319), 132);
  CHECK_EQ(nutag::muv3_tile(0.1, 300), 90);        // row floor(1620/220) = 7, col 6
  CHECK_EQ(nutag::muv3_tile(-220.001, -100), 64);  // col 4, row 5: just left of the centre
  CHECK_EQ(nutag::muv3_tile(220, 0), 79);          // col 7 (half-open cells), row 6
  // Inner tiles: 144 + 2 band + side; band = 110 mm strips from y = -220, side 1 for x >= 0.
  CHECK_EQ(nutag::muv3_tile(-150, -200), 144);
  CHECK_EQ(nutag::muv3_tile(150, -200), 145);
  CHECK_EQ(nutag::muv3_tile(-150, -100), 146);
  CHECK_EQ(nutag::muv3_tile(150, -100), 147);
  CHECK_EQ(nutag::muv3_tile(-150, 50), 148);
  CHECK_EQ(nutag::muv3_tile(150, 50), 149);
  CHECK_EQ(nutag::muv3_tile(-150, 200), 150);
  CHECK_EQ(nutag::muv3_tile(150, 200), 151);
  CHECK_EQ(nutag::muv3_tile(-220, -220), 144);     // lower-left corner of the central square
  CHECK_EQ(nutag::muv3_tile(0, 104), 149);         // just outside the hole, x = 0 -> side 1
  // Hole R < 103 and outside |x| or |y| >= 1320.
  CHECK_EQ(nutag::muv3_tile(50, 50), -1);          // R = 70.7
  CHECK_EQ(nutag::muv3_tile(0, -102), -1);
  CHECK_EQ(nutag::muv3_tile(1320, 0), -1);
  CHECK_EQ(nutag::muv3_tile(0, -1320), -1);
  CHECK_EQ(nutag::muv3_tile(2000, 2000), -1);
  CHECK_EQ(nutag::muv3_tile(std::numeric_limits<double>::quiet_NaN(), 500), -1);
  // The central ids are never produced.
  for (double x = -1319.5; x < 1320; x += 7.0) {
    for (double y = -1319.5; y < 1320; y += 7.0) {
      const int t = nutag::muv3_tile(x, y);
      CHECK(t != 65 && t != 66 && t != 77 && t != 78);
      CHECK(t >= -1 && t <= 151);
    }
  }

  CHECK(!nutag::muv3_is_inner(143));
  CHECK(nutag::muv3_is_inner(144));
  CHECK(nutag::muv3_is_inner(151));
  CHECK(!nutag::muv3_is_inner(152));
  CHECK(!nutag::muv3_is_inner(-1));

  // Centres: tile 0 -> (-1320 + 110, -1320 + 110) = (-1210, -1210); 143 -> (1210, 1210);
  // 64 (row 5, col 4) -> (-1320 + 4.5*220, -1320 + 5.5*220) = (-330, -110).
  CHECK_CLOSE(nutag::muv3_tile_x(0), -1210.0, 1e-12);
  CHECK_CLOSE(nutag::muv3_tile_y(0), -1210.0, 1e-12);
  CHECK_CLOSE(nutag::muv3_tile_x(143), 1210.0, 1e-12);
  CHECK_CLOSE(nutag::muv3_tile_y(143), 1210.0, 1e-12);
  CHECK_CLOSE(nutag::muv3_tile_x(64), -330.0, 1e-12);
  CHECK_CLOSE(nutag::muv3_tile_y(64), -110.0, 1e-12);
  // Inner sub-tiles (220 x 110): x = -/+110, y = -165, -55, 55, 165.
  CHECK_CLOSE(nutag::muv3_tile_x(144), -110.0, 1e-12);
  CHECK_CLOSE(nutag::muv3_tile_y(144), -165.0, 1e-12);
  CHECK_CLOSE(nutag::muv3_tile_x(147), 110.0, 1e-12);
  CHECK_CLOSE(nutag::muv3_tile_y(147), -55.0, 1e-12);
  CHECK_CLOSE(nutag::muv3_tile_x(148), -110.0, 1e-12);
  CHECK_CLOSE(nutag::muv3_tile_y(148), 55.0, 1e-12);
  CHECK_CLOSE(nutag::muv3_tile_x(151), 110.0, 1e-12);
  CHECK_CLOSE(nutag::muv3_tile_y(151), 165.0, 1e-12);
  // Round trip: every tile's centre maps back to the tile.
  for (int t = 0; t <= 151; ++t) {
    if (t == 65 || t == 66 || t == 77 || t == 78) {
      CHECK_THROWS(nutag::muv3_tile_x(t), std::out_of_range);
      CHECK_THROWS(nutag::muv3_tile_y(t), std::out_of_range);
      continue;
    }
    CHECK_EQ(nutag::muv3_tile(nutag::muv3_tile_x(t), nutag::muv3_tile_y(t)), t);
  }
  CHECK_THROWS(nutag::muv3_tile_x(-1), std::out_of_range);
  CHECK_THROWS(nutag::muv3_tile_y(152), std::out_of_range);

  // Quadrants: 0 (+,+), 1 (-,+), 2 (-,-), 3 (+,-); x = 0 / y = 0 count as positive.
  CHECK_EQ(nutag::quadrant(1, 1), 0);
  CHECK_EQ(nutag::quadrant(-1, 1), 1);
  CHECK_EQ(nutag::quadrant(-1, -1), 2);
  CHECK_EQ(nutag::quadrant(1, -1), 3);
  CHECK_EQ(nutag::quadrant(0, 0), 0);
  CHECK_EQ(nutag::quadrant(nutag::muv3_tile_x(0), nutag::muv3_tile_y(0)), 2);
  CHECK_EQ(nutag::quadrant(nutag::muv3_tile_x(143), nutag::muv3_tile_y(143)), 0);
  CHECK_EQ(nutag::quadrant(nutag::muv3_tile_x(11), nutag::muv3_tile_y(11)), 3);
  CHECK_EQ(nutag::quadrant(nutag::muv3_tile_x(132), nutag::muv3_tile_y(132)), 1);
  CHECK_EQ(nutag::quadrant(nutag::muv3_tile_x(146), nutag::muv3_tile_y(146)), 2);
  // Diagonally opposite: x1 x2 < 0 and y1 y2 < 0.
  CHECK(nutag::diagonally_opposite(100, 200, -50, -30));
  CHECK(!nutag::diagonally_opposite(100, 200, -50, 30));   // same y side
  CHECK(!nutag::diagonally_opposite(0, 1, -1, -1));        // x1 = 0 is no side
  CHECK(nutag::diagonally_opposite(nutag::muv3_tile_x(0), nutag::muv3_tile_y(0),
                                   nutag::muv3_tile_x(143), nutag::muv3_tile_y(143)));
}

int main() {
  test_extrapolation();
  test_transverse_distance_and_azimuth();
  test_magnet();
  test_acceptances();
  test_muv3();
  assert(nutag_test::g_failures >= 0);  // keeps <cassert> honest: the build undefines NDEBUG
  return nutag_test::report("test_geometry");
}
