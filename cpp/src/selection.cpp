// Event-selection helpers. See nutag/selection.hpp for the contract of each function.
// Pure functions of their arguments (no static mutable state): safe from any RDataFrame slot.
#include "nutag/selection.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

namespace nutag {

namespace {

// A position far outside every detector, for tracks that do not exist.
constexpr double kNowhere_mm = 1e9;

bool valid(int i, std::size_t n) { return i >= 0 && static_cast<std::size_t>(i) < n; }

bool in_time(double t, double t0, double max_dt) { return std::fabs(t - t0) < max_dt; }

}  // namespace

int single_positive_track(const RVecI& charge) {
  int found = -1;
  for (std::size_t i = 0; i < charge.size(); ++i) {
    if (charge[i] > 0) {
      if (found >= 0) return -1;  // a second positive track: not a Kmu2 topology
      found = static_cast<int>(i);
    }
  }
  return found;
}

double track_p(const RVecD& px, const RVecD& py, const RVecD& pz, int i) {
  if (!valid(i, px.size()) || !valid(i, py.size()) || !valid(i, pz.size())) return -1.0;
  return std::sqrt(px[i] * px[i] + py[i] * py[i] + pz[i] * pz[i]);
}

Vector track_momentum(const RVecD& px, const RVecD& py, const RVecD& pz, int i) {
  if (!valid(i, px.size()) || !valid(i, py.size()) || !valid(i, pz.size())) {
    return Vector(0.0, 0.0, 1.0);
  }
  return Vector(px[i], py[i], pz[i]);
}

Line track_line(const RVecD& x, const RVecD& y, const RVecD& px, const RVecD& py,
                const RVecD& pz, int i) {
  if (!valid(i, x.size()) || !valid(i, y.size())) {
    return Line{Point(kNowhere_mm, kNowhere_mm, kZStraw1_mm), Vector(0.0, 0.0, 1.0)};
  }
  return Line{Point(x[i], y[i], kZStraw1_mm), track_momentum(px, py, pz, i)};
}

Point track_at_z(const RVecD& x, const RVecD& y, const RVecD& px, const RVecD& py,
                 const RVecD& pz, const RVecI& charge, int i, double z_mm) {
  if (!valid(i, x.size()) || !valid(i, charge.size()) || track_p(px, py, pz, i) <= 0.0) {
    return Point(kNowhere_mm, kNowhere_mm, z_mm);
  }
  const Vector p = track_momentum(px, py, pz, i);
  if (z_mm >= kZMagnetCentre_mm) {
    // A track too soft for the thin-lens kick (curls in the magnet) never reaches downstream
    // detectors; report it as nowhere instead of throwing inside the event loop.
    const double px_new = p.X() + kMagnetKickSign * charge[i] * kMagnetPtKick;
    if (!(p.Z() > 0.0) || !(p.X() * p.X() + p.Z() * p.Z() - px_new * px_new > 0.0)) {
      return Point(kNowhere_mm, kNowhere_mm, z_mm);
    }
  }
  return track_position_at_z(track_line(x, y, px, py, pz, i), p, charge[i], z_mm);
}

bool on_muv3_tile(double x_mm, double y_mm) { return muv3_tile(x_mm, y_mm) >= 0; }

double at_or(const RVecD& v, int i, double fallback) {
  return valid(i, v.size()) ? v[i] : fallback;
}

int nearest_in_time(const RVecD& xs, const RVecD& ys, const RVecD& ts, double x0_mm,
                    double y0_mm, double max_dist_mm, double t0_ns, double max_dt_ns) {
  int best = -1;
  double best_d = max_dist_mm;
  const std::size_t n = std::min({xs.size(), ys.size(), ts.size()});
  for (std::size_t i = 0; i < n; ++i) {
    if (!in_time(ts[i], t0_ns, max_dt_ns)) continue;
    const double d = std::hypot(xs[i] - x0_mm, ys[i] - y0_mm);
    if (d < best_d) {  // strict: ties keep the lower index
      best_d = d;
      best = static_cast<int>(i);
    }
  }
  return best;
}

double muv3_search_halfwidth(double p_gev) {
  constexpr double kHalfTile_mm = 0.5 * kMuv3TileSize_mm;
  constexpr double kMsSpread_mm_gev = 530.0;  // spec section 3
  if (!(p_gev > 0.0)) return kHalfTile_mm;
  return kHalfTile_mm + 3.0 * kMsSpread_mm_gev / p_gev;
}

int muv3_muon_hit(const RVecD& hx, const RVecD& hy, const RVecD& ht, double x0_mm, double y0_mm,
                  double p_gev, double t0_ns, double max_dt_ns) {
  const double half = muv3_search_halfwidth(p_gev);
  int best = -1;
  double best_d = std::numeric_limits<double>::infinity();
  const std::size_t n = std::min({hx.size(), hy.size(), ht.size()});
  for (std::size_t i = 0; i < n; ++i) {
    if (!in_time(ht[i], t0_ns, max_dt_ns)) continue;
    const double dx = hx[i] - x0_mm;
    const double dy = hy[i] - y0_mm;
    if (std::fabs(dx) > half || std::fabs(dy) > half) continue;
    const double d = std::hypot(dx, dy);
    if (d < best_d) {
      best_d = d;
      best = static_cast<int>(i);
    }
  }
  return best;
}

int leading_other_in_time(const RVecD& e, const RVecD& t, int exclude, double t0_ns,
                          double max_dt_ns, double e_min_gev) {
  int best = -1;
  double best_e = e_min_gev;
  const std::size_t n = std::min(e.size(), t.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (static_cast<int>(i) == exclude || !in_time(t[i], t0_ns, max_dt_ns)) continue;
    if (e[i] > best_e) {
      best_e = e[i];
      best = static_cast<int>(i);
    }
  }
  return best;
}

int closest_in_time_other(const RVecD& t, int exclude, double t0_ns, double max_dt_ns) {
  int best = -1;
  double best_dt = max_dt_ns;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (static_cast<int>(i) == exclude) continue;
    const double dt = std::fabs(t[i] - t0_ns);
    if (dt < best_dt) {
      best_dt = dt;
      best = static_cast<int>(i);
    }
  }
  return best;
}

double energy_near(const RVecD& xs, const RVecD& ys, const RVecD& es, double x0_mm, double y0_mm,
                   double r_mm, double xv_mm, double yv_mm, double r_veto_mm) {
  double sum = 0.0;
  const std::size_t n = std::min({xs.size(), ys.size(), es.size()});
  for (std::size_t i = 0; i < n; ++i) {
    if (std::hypot(xs[i] - x0_mm, ys[i] - y0_mm) >= r_mm) continue;
    if (std::hypot(xs[i] - xv_mm, ys[i] - yv_mm) < r_veto_mm) continue;
    sum += es[i];
  }
  return sum;
}

double energy_in_time(const RVecD& e, const RVecD& t, double t0_ns, double max_dt_ns) {
  double sum = 0.0;
  const std::size_t n = std::min(e.size(), t.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (in_time(t[i], t0_ns, max_dt_ns)) sum += e[i];
  }
  return sum;
}

double distance_to_line(const Line& line, const RVecD& xs, const RVecD& ys, int i, double z_mm) {
  if (!valid(i, xs.size()) || !valid(i, ys.size())) return -1.0;
  return transverse_distance(line, xs[i], ys[i], z_mm);
}

bool muv3_opposite_pair(const RVecI& tile, const RVecD& x, const RVecD& y, const RVecD& t,
                        double t_trigger_ns, double window_ns, double max_dt_ns) {
  const std::size_t n = std::min({tile.size(), x.size(), y.size(), t.size()});
  for (std::size_t i = 0; i < n; ++i) {
    if (tile[i] < 0 || muv3_is_inner(tile[i]) || !in_time(t[i], t_trigger_ns, window_ns)) {
      continue;
    }
    for (std::size_t j = i + 1; j < n; ++j) {
      if (tile[j] < 0 || muv3_is_inner(tile[j]) || !in_time(t[j], t_trigger_ns, window_ns)) {
        continue;
      }
      if (in_time(t[i], t[j], max_dt_ns) && diagonally_opposite(x[i], y[i], x[j], y[j])) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace nutag
