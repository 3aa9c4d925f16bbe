// Geometry of straight lines in the NA62 frame and detector acceptances. Units: mm, GeV.
// Pure functions: thread-safe and usable from any RDataFrame slot.
#pragma once

#include "nutag/kinematics.hpp"

namespace nutag {

/// Point where the line crosses the plane z = const. Throws std::domain_error for a line with
/// direction.z() == 0.
Point extrapolate_to_z(const Line& line, double z_mm);

/// Transverse distance in the plane z = z_mm between the point (x, y, z_mm) and the line.
double transverse_distance(const Line& line, double x_mm, double y_mm, double z_mm);

/// Azimuth of the offset of (x, y) from the line's crossing of plane z, in (-pi, pi].
double offset_azimuth(const Line& line, double x_mm, double y_mm, double z_mm);

/// Azimuth between two offsets around the line, phi_b - phi_a wrapped into [0, 2 pi).
/// A CC interaction balances p_T, so signal peaks at pi (the published candidate has 3.28 rad).
double azimuth_between(const Line& line, double xa_mm, double ya_mm, double za_mm, double xb_mm,
                       double yb_mm, double zb_mm);

/// Beam axis: slope +1.2 mrad in x, through x = y = 0 at GTK3.
Line beam_axis();

/// Track of a charged particle downstream of the MNP33 magnet: the 3-momentum upstream of the
/// magnet and a point on the track upstream; the kick (0.270 GeV/c in x, sign = charge) is applied
/// in the thin-lens approximation at the magnet centre (documented in docs/simulation.md).
/// Direction of the kick: see kMagnetKickSign (positive tracks go towards -x). The returned line
/// starts where the upstream line crosses kZMagnetCentre_mm and points along
/// momentum_after_magnet(p_upstream, charge).
Line track_after_magnet(const Line& upstream, const Vector& p_upstream, int charge);

/// Position of a charged track at plane z, upstream or downstream of the magnet as needed.
Point track_position_at_z(const Line& upstream, const Vector& p_upstream, int charge, double z_mm);

/// Direction of the MNP33 kick for a POSITIVE charge: -1 means towards -x, i.e.
/// Delta p_x = kMagnetKickSign * charge * kMagnetPtKick. Chosen so that the nominal 75 GeV/c
/// beam (+1.2 mrad at GTK3, kicked by -3.6 mrad to -2.4 mrad) follows the STRAW beam-hole centres
/// of the NA62 software (x = 101.2, 114.4, 92.4, 52.8 mm) and returns to x ~ 0 near the LKr/MUVs;
/// a +x kick would put the beam at x ~ 220 mm in STRAW 4, inside the sensitive area.
inline constexpr double kMagnetKickSign = -1.0;

/// 3-momentum downstream of MNP33 in the thin-lens model: p_x -> p_x + kMagnetKickSign * charge *
/// kMagnetPtKick and p_z recomputed so that |p| (and p_y) are conserved — a uniform vertical field
/// changes p_x by exactly q * integral(B dz) whatever the track angle, and only rotates p in the
/// x-z plane. Throws std::domain_error if p_z <= 0 or the kick exceeds the x-z momentum (a track
/// that would curl up inside the magnet).
Vector momentum_after_magnet(const Vector& p_upstream, int charge);

// --- acceptances ---

/// LKr: octagon with apothem 1130 mm (|x|, |y| < a, |x|+|y| < a*sqrt(2)), outside R = 150 mm.
bool in_lkr_acceptance(double x_mm, double y_mm);

/// NewCHOD and CHOD: 140 < R < 1070 mm around the z axis.
bool in_chod_acceptance(double x_mm, double y_mm);

/// RICH mirrors (and neon): 100 < R < 1100 mm around the z axis (inside 100 mm: the vacuum beam
/// pipe).
bool in_rich_acceptance(double x_mm, double y_mm);

/// STRAW chamber i (0..3): R < 1000 mm and outside the beam hole (the hole's centre follows the
/// deflected beam, see docs/simulation.md).
bool in_straw_acceptance(int chamber, double x_mm, double y_mm);

/// Radius of the STRAW beam hole [mm] (NA62).
inline constexpr double kStrawHoleRadius_mm = 63.8;
/// x of the beam-hole centre of STRAW chamber i (0..3) [mm]: 101.2, 114.4, 92.4, 52.8 (NA62
/// offline software). Throws std::out_of_range for another chamber index.
double straw_hole_centre_x(int chamber);
/// z of STRAW chamber i (0..3) [mm]. Throws std::out_of_range for another chamber index.
double straw_z(int chamber);

/// MUV1/MUV2: |x|, |y| < 1100 mm, R > 130 mm.
bool in_muv12_acceptance(double x_mm, double y_mm);

// --- MUV3 tiles ---
// 12 x 12 grid of 220 mm tiles centred on the z axis; the central 440 x 440 mm^2 (4 tiles) is
// replaced by 8 inner tiles; the innermost R < 103 mm is a hole. Outer tiles have ids 0..143
// (id = 12*row + col, row from y = -1320 mm upward, col from x = -1320 mm), excluding the four
// central ids 65, 66, 77, 78; inner tiles have ids 144..151.
// Inner-tile scheme (nutag's documented choice): each of the 4 central 220 x 220 mm^2 squares is
// split at its mid-height into two 220 (x) x 110 (y) mm^2 tiles, giving 4 horizontal bands of
// 110 mm in y between -220 and +220 mm. id = 144 + 2*band + side, band = 0..3 from y = -220 mm
// upward, side = 0 for x < 0 and 1 for x >= 0 (the same bottom-to-top, left-to-right order as
// the outer ids). Centres: x = -110 / +110, y = -165, -55, +55, +165 mm.
// Boundaries: cells are half-open [low, high) in x and y; |x| >= 1320 or |y| >= 1320 is outside;
// R < 103 mm is the hole.

/// Tile id hit at (x, y) in the MUV3 plane, -1 outside the detector or in the hole.
int muv3_tile(double x_mm, double y_mm);
bool muv3_is_inner(int tile);
/// Centre of a tile [mm] (what a reconstructed MUV3 hit reports as its position).
/// Throws std::out_of_range for an id that is not a tile (e.g. -1, 65, 152).
double muv3_tile_x(int tile);
double muv3_tile_y(int tile);
/// Quadrant 0..3 of a position: 0 (+x,+y), 1 (-x,+y), 2 (-x,-y), 3 (+x,-y); x = 0 counts as +x
/// and y = 0 as +y.
int quadrant(double x_mm, double y_mm);
/// Two positions in diagonally opposite quadrants: x1*x2 < 0 and y1*y2 < 0.
bool diagonally_opposite(double x1_mm, double y1_mm, double x2_mm, double y2_mm);

}  // namespace nutag
