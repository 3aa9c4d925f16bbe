// Straight-line geometry in the NA62 frame and detector acceptances. See nutag/geometry.hpp.
// Pure functions only (constant lookup tables, no mutable state): safe from any RDataFrame slot.
#include "nutag/geometry.hpp"

#include <array>
#include <cmath>
#include <stdexcept>
#include <string>

namespace nutag {

namespace {

// Own constants rather than the non-standard M_PI / M_SQRT2 macros (portable, cling-safe).
constexpr double kPi = 3.14159265358979323846;
constexpr double kTwoPi = 2.0 * kPi;
constexpr double kSqrt2 = 1.41421356237309504880;

// STRAW beam-hole centres in x [mm], chambers 0..3, as in the NA62 offline software: the hole
// follows the beam, which has +1.2 mrad slope upstream of MNP33 and about -2.4 mrad downstream.
constexpr std::array<double, 4> kStrawHoleCentreX_mm = {101.2, 114.4, 92.4, 52.8};
constexpr std::array<double, 4> kStrawZ_mm = {kZStraw1_mm, kZStraw2_mm, kZStraw3_mm, kZStraw4_mm};

// MUV3 grid: 12 x 12 cells of 220 mm covering [-1320, 1320) in x and y.
constexpr double kMuv3HalfSize_mm = 0.5 * kMuv3TilesPerSide * kMuv3TileSize_mm;  // 1320 mm
constexpr int kMuv3CentralLow = kMuv3TilesPerSide / 2 - 1;                       // row/col 5
constexpr int kMuv3FirstInner = kMuv3TilesPerSide * kMuv3TilesPerSide;           // 144
constexpr int kMuv3NumInner = 8;

void check_chamber(int chamber, const char* who) {
  if (chamber < 0 || chamber > 3) {
    throw std::out_of_range(std::string("nutag::") + who + ": STRAW chamber index " +
                            std::to_string(chamber) + " is not in 0..3 (STRAW 1..4)");
  }
}

bool is_central_cell(int row, int col) {
  return row >= kMuv3CentralLow && row <= kMuv3CentralLow + 1 && col >= kMuv3CentralLow &&
         col <= kMuv3CentralLow + 1;
}

[[noreturn]] void bad_tile(int tile) {
  throw std::out_of_range("nutag::muv3_tile_x/y: " + std::to_string(tile) +
                          " is not a MUV3 tile id (0..143 without 65, 66, 77, 78, or 144..151); "
                          "check muv3_tile() != -1 before asking for a tile centre");
}

// Outer tile -> (row, col); throws for non-tiles.
void outer_row_col(int tile, int& row, int& col) {
  if (tile < 0 || tile >= kMuv3FirstInner) bad_tile(tile);
  row = tile / kMuv3TilesPerSide;
  col = tile % kMuv3TilesPerSide;
  if (is_central_cell(row, col)) bad_tile(tile);
}

}  // namespace

Point extrapolate_to_z(const Line& line, double z_mm) {
  const double dz = line.direction.Z();
  if (dz == 0.0) {
    throw std::domain_error(
        "nutag::extrapolate_to_z: the line is perpendicular to the z axis (direction.z() == 0) "
        "and never crosses the plane z = " + std::to_string(z_mm) + " mm");
  }
  const double t = (z_mm - line.origin.Z()) / dz;
  // Set z exactly: callers compare planes by value.
  return Point(line.origin.X() + t * line.direction.X(), line.origin.Y() + t * line.direction.Y(),
               z_mm);
}

double transverse_distance(const Line& line, double x_mm, double y_mm, double z_mm) {
  // Distance measured in the detector plane (what d_LKr and d_MUV3 mean), not the 3D distance
  // to the line; they differ by cos(theta) ~ 1 - 1e-4 for the neutrino.
  const Point c = extrapolate_to_z(line, z_mm);
  return std::hypot(x_mm - c.X(), y_mm - c.Y());
}

double offset_azimuth(const Line& line, double x_mm, double y_mm, double z_mm) {
  const Point c = extrapolate_to_z(line, z_mm);
  const double phi = std::atan2(y_mm - c.Y(), x_mm - c.X());
  // atan2 returns -pi for (-0, negative); the contract is (-pi, pi].
  return phi <= -kPi ? kPi : phi;
}

double azimuth_between(const Line& line, double xa_mm, double ya_mm, double za_mm, double xb_mm,
                       double yb_mm, double zb_mm) {
  // Each offset is taken in its own detector plane (LKr and MUV3 are ~5.7 m apart), around the
  // neutrino line's crossing of that plane.
  const double phi_a = offset_azimuth(line, xa_mm, ya_mm, za_mm);
  const double phi_b = offset_azimuth(line, xb_mm, yb_mm, zb_mm);
  double d = std::fmod(phi_b - phi_a, kTwoPi);  // in (-2pi, 2pi)
  if (d < 0.0) d += kTwoPi;
  if (d >= kTwoPi) d = 0.0;  // a tiny negative d + 2pi can round up to 2pi
  return d;
}

Line beam_axis() {
  return Line{Point(0.0, 0.0, kZGtk3_mm), Vector(kBeamSlopeX, 0.0, 1.0)};
}

Vector momentum_after_magnet(const Vector& p_upstream, int charge) {
  // Thin lens: a vertical field B_y changes p_x by exactly q * integral(B_y dz), independent of
  // the track angle, and conserves |p| and p_y; so p_x gets the kick and p_z is recomputed.
  // This is an exact rotation in the x-z plane (not p_x + kick with p_z unchanged).
  const double px = p_upstream.X();
  const double py = p_upstream.Y();
  const double pz = p_upstream.Z();
  if (!(pz > 0.0)) {
    throw std::domain_error(
        "nutag::momentum_after_magnet: p_z <= 0, the track does not travel downstream through "
        "MNP33");
  }
  const double px_new = px + kMagnetKickSign * charge * kMagnetPtKick;
  const double pxz2 = px * px + pz * pz;
  const double pz2_new = pxz2 - px_new * px_new;
  if (!(pz2_new > 0.0)) {
    throw std::domain_error(
        "nutag::momentum_after_magnet: the 0.270 GeV/c kick exceeds the track's x-z momentum "
        "(it would curl inside the magnet); such tracks are outside the thin-lens model");
  }
  return Vector(px_new, py, std::sqrt(pz2_new));
}

Line track_after_magnet(const Line& upstream, const Vector& p_upstream, int charge) {
  // Position from the upstream line, direction from the kicked momentum (the line's direction
  // and p_upstream are expected to be parallel; the momentum carries the magnitude the kick
  // needs).
  return Line{extrapolate_to_z(upstream, kZMagnetCentre_mm),
              momentum_after_magnet(p_upstream, charge)};
}

Point track_position_at_z(const Line& upstream, const Vector& p_upstream, int charge,
                          double z_mm) {
  if (z_mm < kZMagnetCentre_mm) return extrapolate_to_z(upstream, z_mm);
  return extrapolate_to_z(track_after_magnet(upstream, p_upstream, charge), z_mm);
}

// --- acceptances ---

bool in_lkr_acceptance(double x_mm, double y_mm) {
  const double ax = std::fabs(x_mm);
  const double ay = std::fabs(y_mm);
  // Regular octagon of apothem a: |x| < a, |y| < a and |x| + |y| < a*sqrt(2) (the diagonal
  // sides are also at distance a from the centre); beam pipe hole R <= 150 mm.
  return ax < kLkrApothem_mm && ay < kLkrApothem_mm && ax + ay < kLkrApothem_mm * kSqrt2 &&
         x_mm * x_mm + y_mm * y_mm > kLkrInnerRadius_mm * kLkrInnerRadius_mm;
}

double straw_hole_centre_x(int chamber) {
  check_chamber(chamber, "straw_hole_centre_x");
  return kStrawHoleCentreX_mm[static_cast<std::size_t>(chamber)];
}

double straw_z(int chamber) {
  check_chamber(chamber, "straw_z");
  return kStrawZ_mm[static_cast<std::size_t>(chamber)];
}

bool in_straw_acceptance(int chamber, double x_mm, double y_mm) {
  check_chamber(chamber, "in_straw_acceptance");
  const double hx = x_mm - kStrawHoleCentreX_mm[static_cast<std::size_t>(chamber)];
  return x_mm * x_mm + y_mm * y_mm < kStrawOuterRadius_mm * kStrawOuterRadius_mm &&
         hx * hx + y_mm * y_mm >= kStrawHoleRadius_mm * kStrawHoleRadius_mm;
}

bool in_chod_acceptance(double x_mm, double y_mm) {
  const double r2 = x_mm * x_mm + y_mm * y_mm;
  return r2 > kChodInnerRadius_mm * kChodInnerRadius_mm && r2 < kChodOuterRadius_mm * kChodOuterRadius_mm;
}

bool in_rich_acceptance(double x_mm, double y_mm) {
  const double r2 = x_mm * x_mm + y_mm * y_mm;
  return r2 > kRichBeamPipeRadius_mm * kRichBeamPipeRadius_mm && r2 < kRichOuterRadius_mm * kRichOuterRadius_mm;
}

bool in_muv12_acceptance(double x_mm, double y_mm) {
  return std::fabs(x_mm) < kMuvHalfSize_mm && std::fabs(y_mm) < kMuvHalfSize_mm &&
         x_mm * x_mm + y_mm * y_mm > kMuvInnerRadius_mm * kMuvInnerRadius_mm;
}

// --- MUV3 ---

int muv3_tile(double x_mm, double y_mm) {
  if (!(std::fabs(x_mm) < kMuv3HalfSize_mm) || !(std::fabs(y_mm) < kMuv3HalfSize_mm)) {
    return -1;  // outside (or NaN)
  }
  if (x_mm * x_mm + y_mm * y_mm < kMuv3InnerRadius_mm * kMuv3InnerRadius_mm) return -1;  // hole
  const int last = kMuv3TilesPerSide - 1;
  int col = static_cast<int>(std::floor((x_mm + kMuv3HalfSize_mm) / kMuv3TileSize_mm));
  int row = static_cast<int>(std::floor((y_mm + kMuv3HalfSize_mm) / kMuv3TileSize_mm));
  col = col < 0 ? 0 : (col > last ? last : col);  // guard rounding at the outer edge
  row = row < 0 ? 0 : (row > last ? last : row);
  if (!is_central_cell(row, col)) return kMuv3TilesPerSide * row + col;
  // Inner tiles: the cell is split at mid-height; local y measured from the cell's lower edge
  // (derived from the same row, so cell and half assignments can never disagree).
  const double cell_y0 = -kMuv3HalfSize_mm + row * kMuv3TileSize_mm;
  const int upper_half = (y_mm - cell_y0) >= 0.5 * kMuv3TileSize_mm ? 1 : 0;
  const int band = 2 * (row - kMuv3CentralLow) + upper_half;  // 0..3 from y = -220 mm upward
  const int side = col - kMuv3CentralLow;                     // 0 for x < 0, 1 for x >= 0
  return kMuv3FirstInner + 2 * band + side;
}

bool muv3_is_inner(int tile) {
  return tile >= kMuv3FirstInner && tile < kMuv3FirstInner + kMuv3NumInner;
}

double muv3_tile_x(int tile) {
  int col = 0;
  if (muv3_is_inner(tile)) {
    col = kMuv3CentralLow + (tile - kMuv3FirstInner) % 2;
  } else {
    int row = 0;
    outer_row_col(tile, row, col);
  }
  return -kMuv3HalfSize_mm + (col + 0.5) * kMuv3TileSize_mm;
}

double muv3_tile_y(int tile) {
  if (muv3_is_inner(tile)) {
    const int band = (tile - kMuv3FirstInner) / 2;  // 110 mm bands from y = -220 mm
    return -kMuv3TileSize_mm + (band + 0.5) * 0.5 * kMuv3TileSize_mm;
  }
  int row = 0;
  int col = 0;
  outer_row_col(tile, row, col);
  return -kMuv3HalfSize_mm + (row + 0.5) * kMuv3TileSize_mm;
}

int quadrant(double x_mm, double y_mm) {
  if (y_mm >= 0.0) return x_mm >= 0.0 ? 0 : 1;
  return x_mm >= 0.0 ? 3 : 2;
}

bool diagonally_opposite(double x1_mm, double y1_mm, double x2_mm, double y2_mm) {
  return x1_mm * x2_mm < 0.0 && y1_mm * y2_mm < 0.0;
}

}  // namespace nutag
