// Particle physics of the nutag fast simulation; see nutag/sim/physics.hpp and docs/simulation.md.
#include "nutag/sim/physics.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace nutag::sim {

FourVector boost(const FourVector& v, const Vector& beta) {
  const double b2 = beta.Mag2();
  if (b2 <= 0.0) return v;
  const double gamma = 1.0 / std::sqrt(1.0 - b2);
  const double bp = beta.X() * v.Px() + beta.Y() * v.Py() + beta.Z() * v.Pz();
  const double g2 = (gamma - 1.0) / b2;
  const double k = g2 * bp + gamma * v.E();
  return FourVector(v.Px() + k * beta.X(), v.Py() + k * beta.Y(), v.Pz() + k * beta.Z(),
                    gamma * (v.E() + bp));
}

Vector isotropic_direction(Rng& rng) {
  const double c = 2.0 * rng.uniform() - 1.0;
  const double s = std::sqrt(std::max(0.0, 1.0 - c * c));
  const double phi = 2.0 * M_PI * rng.uniform();
  return Vector(s * std::cos(phi), s * std::sin(phi), c);
}

double two_body_momentum(double m, double m1, double m2) {
  const double a = (m * m - (m1 + m2) * (m1 + m2)) * (m * m - (m1 - m2) * (m1 - m2));
  return a > 0.0 ? std::sqrt(a) / (2.0 * m) : 0.0;
}

namespace {
Vector phys_rest_frame_beta(const FourVector& parent) {
  return Vector(parent.Px() / parent.E(), parent.Py() / parent.E(), parent.Pz() / parent.E());
}
}  // namespace

void two_body_decay(Rng& rng, const FourVector& parent, double m1, double m2, FourVector& d1,
                    FourVector& d2) {
  const double m = parent.M();
  const double q = two_body_momentum(m, m1, m2);
  const Vector u = isotropic_direction(rng) * q;
  const FourVector a(u.X(), u.Y(), u.Z(), std::sqrt(q * q + m1 * m1));
  const FourVector b(-u.X(), -u.Y(), -u.Z(), std::sqrt(q * q + m2 * m2));
  const Vector beta = phys_rest_frame_beta(parent);
  d1 = boost(a, beta);
  d2 = boost(b, beta);
}

void three_body_decay(Rng& rng, const FourVector& parent, double m1, double m2, double m3,
                      FourVector& d1, FourVector& d2, FourVector& d3) {
  const double m = parent.M();
  // Dalitz variables s12 = m12^2, s23 = m23^2, uniform inside the kinematic boundary.
  const double s12_lo = (m1 + m2) * (m1 + m2), s12_hi = (m - m3) * (m - m3);
  const double s23_lo = (m2 + m3) * (m2 + m3), s23_hi = (m - m1) * (m - m1);
  double e1 = 0, e3 = 0, p1 = 0, p3 = 0, cos13 = 0;
  for (int tries = 0; tries < 10000; ++tries) {
    const double s12 = rng.uniform(s12_lo, s12_hi);
    const double s23 = rng.uniform(s23_lo, s23_hi);
    const double s13 = m * m + m1 * m1 + m2 * m2 + m3 * m3 - s12 - s23;
    // energies in the parent rest frame
    e1 = (m * m + m1 * m1 - s23) / (2.0 * m);
    e3 = (m * m + m3 * m3 - s12) / (2.0 * m);
    if (e1 < m1 || e3 < m3) continue;
    p1 = std::sqrt(e1 * e1 - m1 * m1);
    p3 = std::sqrt(e3 * e3 - m3 * m3);
    // s13 = m1^2 + m3^2 + 2 (E1 E3 - p1 p3 cos13)
    if (p1 <= 0.0 || p3 <= 0.0) continue;
    cos13 = (m1 * m1 + m3 * m3 + 2.0 * e1 * e3 - s13) / (2.0 * p1 * p3);
    if (std::fabs(cos13) <= 1.0) break;
  }
  // Random orientation: particle 1 along a random axis u, particle 3 at angle acos(cos13) from
  // it with a random azimuth, particle 2 balances.
  const Vector u = isotropic_direction(rng);
  Vector w = std::fabs(u.Z()) < 0.9 ? u.Cross(Vector(0, 0, 1)) : u.Cross(Vector(1, 0, 0));
  w = w.Unit();
  const Vector v = u.Cross(w);
  const double phi = 2.0 * M_PI * rng.uniform();
  const double sin13 = std::sqrt(std::max(0.0, 1.0 - cos13 * cos13));
  const Vector dir3 = cos13 * u + sin13 * (std::cos(phi) * w + std::sin(phi) * v);
  const Vector q1 = p1 * u, q3 = p3 * dir3, q2 = -(q1 + q3);
  const Vector beta = phys_rest_frame_beta(parent);
  d1 = boost(FourVector(q1.X(), q1.Y(), q1.Z(), e1), beta);
  d3 = boost(FourVector(q3.X(), q3.Y(), q3.Z(), e3), beta);
  d2 = boost(FourVector(q2.X(), q2.Y(), q2.Z(), std::sqrt(q2.Mag2() + m2 * m2)), beta);
}

namespace {
// pi0 -> gamma gamma (the 1.2 % Dalitz decay is folded into the two-photon mode).
int phys_add_pi0(Rng& rng, const FourVector& pi0, Daughter* out, int n) {
  FourVector g1, g2;
  two_body_decay(rng, pi0, 0.0, 0.0, g1, g2);
  out[n++] = Daughter{22, g1};
  out[n++] = Daughter{22, g2};
  return n;
}
}  // namespace

int decay_kaon(Rng& rng, const FourVector& kaon, int process, Daughter out[8]) {
  FourVector a, b, c;
  int n = 0;
  switch (process) {
    case kProcMuNu:
      two_body_decay(rng, kaon, kMassMuon, 0.0, a, b);
      out[n++] = Daughter{-13, a};
      out[n++] = Daughter{14, b};
      break;
    case kProcPiPi0:
      two_body_decay(rng, kaon, kMassPion, kMassPi0, a, b);
      out[n++] = Daughter{211, a};
      n = phys_add_pi0(rng, b, out, n);
      break;
    case kProcPiPiPi:
      three_body_decay(rng, kaon, kMassPion, kMassPion, kMassPion, a, b, c);
      out[n++] = Daughter{211, a};
      out[n++] = Daughter{211, b};
      out[n++] = Daughter{-211, c};
      break;
    case kProcPi0MuNu:
      three_body_decay(rng, kaon, kMassMuon, kMassPi0, 0.0, a, b, c);
      out[n++] = Daughter{-13, a};
      n = phys_add_pi0(rng, b, out, n);
      out[n++] = Daughter{14, c};
      break;
    case kProcPi0ENu:
      three_body_decay(rng, kaon, kMassElectron, kMassPi0, 0.0, a, b, c);
      out[n++] = Daughter{-11, a};
      n = phys_add_pi0(rng, b, out, n);
      out[n++] = Daughter{12, c};
      break;
    case kProcPiPi0Pi0:
      three_body_decay(rng, kaon, kMassPion, kMassPi0, kMassPi0, a, b, c);
      out[n++] = Daughter{211, a};
      n = phys_add_pi0(rng, b, out, n);
      n = phys_add_pi0(rng, c, out, n);
      break;
    default:
      throw std::invalid_argument("nutag::sim::decay_kaon: unknown K+ decay channel " +
                                  std::to_string(process) + " (expected 0..5)");
  }
  return n;
}

double kmu2gamma_y_min(double x, double r) { return 1.0 - x + r / (1.0 - x); }

double kmu2gamma_ib_density(double x, double y, double r) {
  if (!(x > 0.0 && x < 1.0 - r)) return 0.0;
  const double d = x + y - 1.0 - r;  // = 2 p_mu.k / m_K^2 (from p_nu^2 = 0), > 0 inside
  if (!(y > kmu2gamma_y_min(x, r) && y < 1.0 + r) || !(d > 0.0)) return 0.0;
  return (1.0 - y + r) / (x * x * d) * (x * x + 2.0 * (1.0 - x) * (1.0 - r) - 2.0 * x * r * (1.0 - r) / d);
}

namespace {
constexpr double kAlphaEm = 1.0 / 137.035999;  // [PDG]

/// (x, y) limits of the generated radiative range.
struct RadiativeLimits {
  double r, x_lo, x_hi, y_floor;
};

RadiativeLimits radiative_limits(const RadiativeRange& range) {
  const double mk2 = kMassKaon * kMassKaon;
  const double r = kMassMuon * kMassMuon / mk2;
  RadiativeLimits l{r, 2.0 * range.egamma_min / kMassKaon, 1.0 - r, 1.0 + r - range.m2_max / mk2};
  if (!(l.x_lo > 0.0 && l.x_lo < l.x_hi) || !(range.m2_max > 0.0)) {
    throw std::invalid_argument(
        "nutag::sim: radiative Kmu2 range needs 0 < kmu2g_egamma_min < (m_K^2 - m_mu^2)/(2 m_K) = " +
        std::to_string(0.5 * kMassKaon * (1.0 - r)) + " GeV and kmu2g_m2_max > 0");
  }
  return l;
}

double y_low(const RadiativeLimits& l, double x) { return std::max(kmu2gamma_y_min(x, l.r), l.y_floor); }
}  // namespace

double decay_kmu2_radiative(Rng& rng, const FourVector& kaon, const RadiativeRange& range,
                            Daughter out[8]) {
  const RadiativeLimits l = radiative_limits(range);
  const double log_span = std::log(l.x_hi / l.x_lo);
  const double x = l.x_lo * std::exp(rng.uniform() * log_span);  // q(x) = 1 / (x ln(x_hi/x_lo))
  // y through d = x + y - 1 - r = 2 p_mu.k / m_K^2, drawn ~ 1/d: f_IB grows like 1/d towards the
  // photon collinear with the mu+ (d -> r x / (1 - x)), so a flat y would give rare huge weights
  const double dlo = x + y_low(l, x) - 1.0 - l.r, dhi = x;
  const double dlog = std::log(dhi / dlo);
  const double dd = dlo * std::exp(rng.uniform() * dlog);
  const double y = dd + 1.0 + l.r - x;
  const double q = 1.0 / (x * log_span * dd * dlog);  // q(x) q(y|x), q(y|x) = 1/(d ln(dhi/dlo))
  const double w = kAlphaEm / (2.0 * M_PI) / ((1.0 - l.r) * (1.0 - l.r)) * kmu2gamma_ib_density(x, y, l.r) / q;
  // rest-frame kinematics: energies from (x, y), the mu-gamma angle from E_nu = |p_mu + k|
  const double m = kMassKaon;
  const double eg = 0.5 * x * m, emu = 0.5 * y * m, enu = m - eg - emu;
  const double pmu = std::sqrt(std::max(0.0, emu * emu - kMassMuon * kMassMuon));
  double c = (enu * enu - pmu * pmu - eg * eg) / (2.0 * pmu * eg);
  c = std::max(-1.0, std::min(1.0, c));
  const double s = std::sqrt(1.0 - c * c);
  const Vector u = isotropic_direction(rng);
  Vector a = std::fabs(u.Z()) < 0.9 ? u.Cross(Vector(0, 0, 1)) : u.Cross(Vector(1, 0, 0));
  a = a.Unit();
  const Vector b = u.Cross(a);
  const double phi = 2.0 * M_PI * rng.uniform();
  const Vector pm = pmu * u;
  const Vector k = eg * (c * u + s * (std::cos(phi) * a + std::sin(phi) * b));
  const Vector pn = -(pm + k);
  const Vector beta = phys_rest_frame_beta(kaon);
  out[0] = Daughter{-13, boost(FourVector(pm.X(), pm.Y(), pm.Z(), emu), beta)};
  out[1] = Daughter{14, boost(FourVector(pn.X(), pn.Y(), pn.Z(), std::sqrt(pn.Mag2())), beta)};
  out[2] = Daughter{22, boost(FourVector(k.X(), k.Y(), k.Z(), eg), beta)};
  return w;
}

double kmu2gamma_ib_fraction(const RadiativeRange& range, int n) {
  const RadiativeLimits l = radiative_limits(range);
  const double lx0 = std::log(l.x_lo), dlx = std::log(l.x_hi / l.x_lo) / n;
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    const double x = std::exp(lx0 + (i + 0.5) * dlx);
    const double ylo = y_low(l, x), yhi = 1.0 + l.r, dy = (yhi - ylo) / n;
    double inner = 0.0;
    for (int j = 0; j < n; ++j) inner += kmu2gamma_ib_density(x, ylo + (j + 0.5) * dy, l.r);
    sum += inner * dy * x * dlx;  // dx = x d(ln x)
  }
  return kAlphaEm / (2.0 * M_PI) / ((1.0 - l.r) * (1.0 - l.r)) * sum;
}

double cc_interaction_probability(const SimConfig& cfg, double e_nu, double path_mm) {
  return cfg.nu_sigma_over_e * e_nu * cfg.nu_neutron_excess * cfg.nu_nucleon_density *
         (path_mm * 0.1);
}

double sample_inelasticity(Rng& rng, double eps) {
  const double fmax = 1.0 + eps;
  for (;;) {
    const double y = rng.uniform();
    const double f = 1.0 + eps * (1.0 - y) * (1.0 - y);
    if (rng.uniform() * fmax < f) return y;
  }
}

double sample_bjorken_x(Rng& rng, double beta) {
  // Beta(1, beta): CDF 1 - (1-x)^beta.
  return 1.0 - std::pow(rng.uniform_pos(), 1.0 / beta);
}

CCInteraction sample_cc_interaction(const SimConfig& cfg, Rng& rng, const Vector& p_nu) {
  const double e = std::sqrt(p_nu.Mag2());
  const Vector nhat = p_nu / e;
  const double mN = kMassNucleon, mmu = kMassMuon;
  CCInteraction cc;
  for (int tries = 0; tries < 1000; ++tries) {
    const double y = sample_inelasticity(rng, cfg.nu_y_antiquark);
    const double x = sample_bjorken_x(rng, cfg.nu_x_beta);
    const double q2 = 2.0 * mN * e * x * y;
    const double w2 = mN * mN + 2.0 * mN * e * y * (1.0 - x);
    const double emu = (1.0 - y) * e;
    if (w2 < cfg.nu_w_min * cfg.nu_w_min || emu <= mmu * 1.05) continue;
    const double pmu = std::sqrt(emu * emu - mmu * mmu);
    // Q^2 = -(p_nu - p_mu)^2 = 2 E (E_mu - p_mu cos) - m_mu^2
    const double cth = (2.0 * e * emu - mmu * mmu - q2) / (2.0 * e * pmu);
    if (cth > 1.0 || cth < -1.0) continue;
    const double sth = std::sqrt(1.0 - cth * cth);
    Vector w = std::fabs(nhat.Z()) < 0.9 ? nhat.Cross(Vector(0, 0, 1)) : nhat.Cross(Vector(1, 0, 0));
    w = w.Unit();
    const Vector v = nhat.Cross(w);
    const double phi = 2.0 * M_PI * rng.uniform();
    cc.x = x;
    cc.y = y;
    cc.q2 = q2;
    cc.p_muon = pmu * (cth * nhat + sth * (std::cos(phi) * w + std::sin(phi) * v));
    cc.p_hadrons = p_nu - cc.p_muon;
    cc.e_hadrons = y * e;
    return cc;
  }
  // Unreachable for E_nu above ~2 GeV; a very soft neutrino gives an all-hadronic stub.
  cc.y = 1.0;
  cc.p_muon = Vector(0, 0, 0);
  cc.p_hadrons = p_nu;
  cc.e_hadrons = e;
  return cc;
}

}  // namespace nutag::sim
