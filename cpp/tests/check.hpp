// The checks every C++ unit test of nutag uses: they print file, line and the values that
// disagree, count failures and let the test finish, so one run reports every broken check.
// A test's main() returns nutag_test::report("name") as its exit status.
#pragma once

#include <cmath>
#include <cstdio>

namespace nutag_test {
inline int g_failures = 0;

/// Prints the summary line ctest shows and returns the process exit status.
inline int report(const char* name) {
  if (g_failures != 0) {
    std::fprintf(stderr, "%s: %d check(s) failed\n", name, g_failures);
    return 1;
  }
  std::printf("%s: all checks passed\n", name);
  return 0;
}
}  // namespace nutag_test

#define CHECK_CLOSE(a, b, tol)                                                                 \
  do {                                                                                         \
    const double check_va_ = (a);                                                              \
    const double check_vb_ = (b);                                                              \
    if (!(std::fabs(check_va_ - check_vb_) <= (tol))) {                                        \
      std::fprintf(stderr, "%s:%d: CHECK_CLOSE(%s, %s, %s) failed: %.15g vs %.15g (diff %.3g)\n", \
                   __FILE__, __LINE__, #a, #b, #tol, check_va_, check_vb_,                    \
                   check_va_ - check_vb_);                                                     \
      ++nutag_test::g_failures;                                                                \
    }                                                                                          \
  } while (0)

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      std::fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
      ++nutag_test::g_failures;                                                  \
    }                                                                            \
  } while (0)

#define CHECK_EQ(a, b)                                                                      \
  do {                                                                                      \
    const long check_ia_ = (a);                                                             \
    const long check_ib_ = (b);                                                             \
    if (check_ia_ != check_ib_) {                                                           \
      std::fprintf(stderr, "%s:%d: CHECK_EQ(%s, %s) failed: %ld vs %ld\n", __FILE__, __LINE__, \
                   #a, #b, check_ia_, check_ib_);                                           \
      ++nutag_test::g_failures;                                                             \
    }                                                                                       \
  } while (0)

#define CHECK_THROWS(expr, exc)    \
  do {                             \
    bool check_threw_ = false;     \
    try {                          \
      (void)(expr);                \
    } catch (const exc&) {         \
      check_threw_ = true;         \
    }                              \
    CHECK(check_threw_ && #expr);  \
  } while (0)
