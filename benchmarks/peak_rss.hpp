// Peak resident memory of this process since its exec, for the benchmark's JSON reports.
//
// Why not getrusage(RUSAGE_SELF).ru_maxrss: Linux carries the peak RSS of the process image
// before exec over into the new one, so a program started by a parent that holds 800 MB reports
// at least 800 MB (the benchmark parent grows when it converts the input). VmHWM in
// /proc/self/status is the high-water mark of the current address space only. getrusage is
// the fallback where /proc is missing.
#pragma once

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace bench {

/// Peak RSS of this program in kB (VmHWM; getrusage where /proc is not available).
inline long peak_rss_kb() {
  if (std::FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    long kb = -1;
    while (std::fgets(line, sizeof line, f)) {
      if (std::strncmp(line, "VmHWM:", 6) == 0) {
        kb = std::strtol(line + 6, nullptr, 10);
        break;
      }
    }
    std::fclose(f);
    if (kb >= 0) return kb;
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

}  // namespace bench
